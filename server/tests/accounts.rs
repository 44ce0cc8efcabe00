//! Sign up, sign in, sign out, sessions, throttling and request-level security, through the
//! real router, on SQLite and PostgreSQL.

mod common;

use app::api::auth::CurrentUser;
use app::error::AppError;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::dto::UserDto;

async fn whoami(app: &mut common::TestApp) -> Option<UserDto> {
    let r = app.call::<CurrentUser>(&[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

on_both!(sign_up_sign_in_sign_out, |app| {
    let r = app.sign_up("Jane@Example.com", "Jane Doe").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = whoami(&mut app).await.expect("signed in after sign-up");
    assert_eq!(me.email, "jane@example.com");
    assert!(!me.is_admin);

    let r = app.sign_out().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app.cookie.is_none());
    assert_eq!(whoami(&mut app).await, None);

    let r = app.sign_in("jane@example.com", "wrong password!!").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.error().general().as_deref(),
        Some("Invalid email or password.")
    );
    let r = app.sign_in("nobody@example.com", common::PASSWORD).await;
    assert_eq!(
        r.error().general().as_deref(),
        Some("Invalid email or password.")
    );

    let r = app.sign_in("JANE@example.com", common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first = app.cookie.clone().unwrap();
    assert_eq!(whoami(&mut app).await.unwrap().display_name, "Jane Doe");

    // Signing in again issues a new session id and ends the old one.
    app.sign_in("jane@example.com", common::PASSWORD).await;
    let second = app.cookie.clone().unwrap();
    assert_ne!(first, second);
    app.cookie = Some(first);
    assert_eq!(whoami(&mut app).await, None, "old session must be gone");
});

on_both!(sign_up_refuses_bad_input_and_writes_nothing, |app| {
    let before = app.count("users").await;
    let r = app
        .call::<app::api::auth::SignUp>(&[
            ("email", "not-an-email"),
            ("display_name", " "),
            ("password", "short"),
            ("next", "/"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.error();
    assert!(e.field("email").is_some());
    assert_eq!(
        e.field("display_name").as_deref(),
        Some("Display name is required.")
    );
    assert_eq!(
        e.field("password").as_deref(),
        Some("Password must be at least 12 characters.")
    );
    assert_eq!(app.count("users").await, before);

    app.sign_up("jane@example.com", "Jane").await;
    app.sign_out().await;
    let r = app.sign_up("JANE@example.com", "Other Jane").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error().field("email").is_some());
    assert_eq!(app.count("users").await, before + 1);
});

on_both!(session_survives_restart, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    app.restart().await;
    assert_eq!(whoami(&mut app).await.unwrap().email, "jane@example.com");
    assert_eq!(app.count("sessions").await, 1);
});

on_both!(sign_in_is_throttled_per_account, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    app.sign_out().await;
    for _ in 0..5 {
        let r = app.sign_in("jane@example.com", "wrong password!!").await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }
    let r = app.sign_in("jane@example.com", common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(r.error(), AppError::RateLimited(_)));
    assert!(app.cookie.is_none());
});

on_both!(cross_origin_posts_are_refused, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    let path = <app::api::orgs::CreateOrg as leptos::server_fn::ServerFn>::PATH;
    let body = "name=Evil+Org&description=";
    let cases: [&[(&str, &str)]; 4] = [
        &[("origin", "https://evil.example")],
        &[("sec-fetch-site", "cross-site"), ("origin", common::ORIGIN)],
        &[("origin", "null")],
        &[],
    ];
    for headers in cases {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, common::HOST)
            .header(header::COOKIE, app.cookie.clone().unwrap())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = app.send(req.body(Body::from(body)).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(app.count("organizations").await, 0);
});

on_both!(pages_need_a_session_and_carry_security_headers, |app| {
    let r = app.get("/orgs?x=1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/signin?next=%2Forgs%3Fx%3D1");

    let r = app.get("/signin").await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(
        r.body.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the nonce"
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
    assert!(r.body.contains("Sign in to Tollgate"));

    app.sign_up("jane@example.com", "Jane").await;
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Dashboard"));
    let r = app.get("/signin").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "signed-in users skip the sign-in page"
    );
});
