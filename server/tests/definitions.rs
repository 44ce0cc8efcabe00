//! OpenAPI definitions through the real router on SQLite and PostgreSQL: the bounds on what is
//! parsed (no YAML anchors or aliases, a node and depth budget), and the summary stored when a
//! definition is saved, which is what the API page shows (no page view parses the text again).

mod common;

use std::time::{Duration, Instant};

use app::api::entities::{CreateEntity, GetApiVersion};
use app::api::lifecycle::UpdateApiDefinition;
use app::api::orgs::CreateOrg;
use axum::http::StatusCode;
use common::TestApp;
use domain::dto::ApiVersionDetail;
use sea_orm::ConnectionTrait;

const HEAD: &str = "openapi: 3.0.3\ninfo:\n  title: Weather\n  version: '1'\n";

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn world(app: &mut TestApp) {
    ok(app.sign_up("pat@example.com", "Pat Provider").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Provider Co"), ("description", "")])
        .await)
    .await;
    ok(app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "ProviderCo"),
            ("name", "Weather"),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", "https://backend.example.com/v1"),
        ])
        .await)
    .await;
}

async fn save(app: &mut TestApp, definition: &str) -> common::Reply {
    app.call::<UpdateApiDefinition>(&[
        ("org", "ProviderCo"),
        ("api", "Weather"),
        ("version", "1.0"),
        ("definition", definition),
    ])
    .await
}

async fn get_api(app: &mut TestApp) -> ApiVersionDetail {
    ok(app
        .call::<GetApiVersion>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
        ])
        .await)
    .await
    .json()
}

/// The definition is refused with 422 and `message` next to its field, and nothing is written.
async fn refused(app: &mut TestApp, definition: &str, message: &str) {
    let audit = app.count("audit_entries").await;
    let started = Instant::now();
    let r = save(app, definition).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let field = r.error().field("definition").unwrap_or_default();
    assert!(
        field.contains(message),
        "expected '{message}' in {}",
        r.body
    );
    assert_eq!(
        app.count("api_versions WHERE definition IS NOT NULL").await,
        0
    );
    assert_eq!(app.count("audit_entries").await, audit);
}

on_both!(unbounded_definitions_are_refused, |app| {
    world(&mut app).await;

    // The billion laughs: 25 kB at most, ten levels of nine aliases each (10^9 "lol"s).
    let mut laughs =
        format!("{HEAD}paths: {{}}\nx-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        laughs.push_str(&format!(
            "x-{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    assert!(laughs.len() < 25_000);
    refused(&mut app, &laughs, "anchors and aliases").await;
    // A lone anchor is refused too: the rule is no anchors, not "no expensive ones".
    refused(
        &mut app,
        &format!("{HEAD}paths:\n  /forecast: &op\n    get: {{}}\n"),
        "anchors and aliases",
    )
    .await;

    // Deep and huge JSON.
    let json = |extra: &str| {
        format!(
            r#"{{"openapi":"3.0.3","info":{{"title":"Weather","version":"1"}},"paths":{{}},"x":{extra}}}"#
        )
    };
    refused(
        &mut app,
        &json(&format!("{}1{}", "[".repeat(100), "]".repeat(100))),
        "nested more than 64",
    )
    .await;
    refused(
        &mut app,
        &json(&format!("{}1{}", "[".repeat(5000), "]".repeat(5000))),
        "nested more than 64",
    )
    .await;
    refused(
        &mut app,
        &json(&format!("[{}0]", "0,".repeat(200_000))),
        "more than 100000 values",
    )
    .await;
    // Deep and huge YAML.
    refused(
        &mut app,
        &format!(
            "{HEAD}paths: {{}}\nx: {}1{}\n",
            "[".repeat(100),
            "]".repeat(100)
        ),
        "nested more than 64",
    )
    .await;
    refused(
        &mut app,
        &format!("{HEAD}paths: {{}}\nx: [{}0]\n", "0,".repeat(200_000)),
        "more than 100000 values",
    )
    .await;
});

on_both!(the_api_page_shows_the_summary_stored_at_save, |app| {
    world(&mut app).await;
    let yaml = format!(
        "{HEAD}paths:\n  /forecast:\n    get:\n      summary: Today\n    post: {{}}\n  /alerts:\n    get: {{}}\n"
    );
    ok(save(&mut app, &yaml).await).await;
    assert_eq!(
        app.count("api_versions WHERE definition_summary IS NOT NULL")
            .await,
        1
    );
    let info = get_api(&mut app).await.definition.expect("a definition");
    assert_eq!((info.title.as_str(), info.operations), ("Weather", 3));
    assert_eq!(info.bytes, yaml.len());

    // The page reads the stored summary, not the text: spoil the text behind Tollgate's back
    // and the page still shows what was saved.
    app.db
        .execute_unprepared("UPDATE api_versions SET definition = 'openapi: [' ")
        .await
        .unwrap();
    let info = get_api(&mut app).await.definition.expect("a definition");
    assert_eq!((info.title.as_str(), info.operations), ("Weather", 3));

    // Removing the definition removes its summary.
    ok(save(&mut app, "").await).await;
    assert_eq!(get_api(&mut app).await.definition, None);
    assert_eq!(
        app.count("api_versions WHERE definition_summary IS NOT NULL")
            .await,
        0
    );
});

on_both!(the_migration_summarizes_definitions_saved_before, |app| {
    use sea_orm_migration::MigratorTrait;
    use service::migration::Migrator;
    world(&mut app).await;
    let yaml = format!("{HEAD}paths:\n  /forecast:\n    get: {{}}\n");
    ok(save(&mut app, &yaml).await).await;

    // Back to before summaries, and forward again: the data step summarizes the saved
    // definition.
    let steps = common::steps_back_to("m20261201_000006_definitions");
    Migrator::down(&app.db, Some(steps)).await.unwrap();
    Migrator::up(&app.db, None).await.unwrap();
    let info = get_api(&mut app).await.definition.expect("a definition");
    assert_eq!((info.title.as_str(), info.operations), ("Weather", 1));

    // A definition saved before the bounds, which they now refuse, keeps its text and gets no
    // summary; the migration does not fail on it.
    Migrator::down(&app.db, Some(steps)).await.unwrap();
    let anchored = format!("{HEAD}paths:\n  /forecast: &op\n    get: {{}}\n");
    app.db
        .execute_unprepared(&format!(
            "UPDATE api_versions SET definition = '{}'",
            anchored.replace('\'', "''")
        ))
        .await
        .unwrap();
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(
        app.count("api_versions WHERE definition IS NOT NULL AND definition_summary IS NULL")
            .await,
        1
    );
    assert_eq!(get_api(&mut app).await.definition, None);
});
