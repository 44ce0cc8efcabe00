//! The database goes away under the management UI: every kind of request gets a clear `503`
//! with `Retry-After` at once, never a hang or a `500`: a page for people, the app's JSON error
//! for server functions, problem+json for the REST API.

mod common;

use app::api::orgs::CreateOrg;
use axum::http::{StatusCode, header};

on_both!(a_database_that_does_not_answer_is_a_clear_503, |app| {
    app.sign_up("kim@example.com", "Kim Owner").await;
    // Every connection of the pool goes away, as when the database server stops.
    app.db.clone().close().await.unwrap();

    let started = std::time::Instant::now();
    let page = app.get("/").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert_eq!(page.headers[header::RETRY_AFTER], "30");
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.body.contains("Tollgate is temporarily unavailable"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("cannot reach its database"),
        "{}",
        page.body
    );

    let call = app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await;
    assert_eq!(
        call.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        call.body
    );
    assert_eq!(call.error(), app::error::AppError::Unavailable);

    let rest = app.get("/api/v1/orgs").await;
    assert_eq!(
        rest.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        rest.body
    );
    assert_eq!(
        rest.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered at once"
    );
});
