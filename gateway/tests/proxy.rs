//! The gateway against a real local backend and a real database (SQLite): keys from the header
//! or the query, contracts, public and retired APIs, the error answers, and changes reaching the
//! gateway within a second; a gateway whose database goes away keeps serving.

mod support;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use domain::Discoverability;
use domain::dto::PlanOffer;
use support::*;

#[tokio::test]
async fn keys_contracts_errors_and_changes_within_a_second() {
    let (dir, url) = sqlite_url("gw");
    let db = support::connect(&url).await;
    let backend = backend().await;
    // Weather offers Gold, which App has a contract for; Maps offers Gold too (no contract);
    // Open is public.
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    for (name, public) in [("Maps", false), ("Open", true)] {
        let api = service::apis::NewApi {
            name: name.into(),
            version: "1.0".into(),
            description: String::new(),
            endpoint: format!("http://{backend}/v1"),
        };
        service::apis::create(&db, &ctx, "Acme", api).await.unwrap();
        if public {
            let implementation = support::public_implementation(&format!("http://{backend}/v1"));
            service::apis::update_implementation(&db, &ctx, &at("Acme", name), implementation)
                .await
                .unwrap();
        } else {
            let offer = PlanOffer {
                plan_id: "Gold".into(),
                plan_version: "1.0".into(),
                requires_approval: false,
                discoverability: Discoverability::AllUsers,
            };
            service::apis::set_plans(&db, &ctx, &at("Acme", name), vec![offer])
                .await
                .unwrap();
        }
        service::apis::publish(&db, &ctx, &at("Acme", name))
            .await
            .unwrap();
    }

    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let base = format!("http://{gw}/Acme");

    // A new API version takes its key only from the header (`tests/keys.rs` has one that
    // takes it from the query too).
    let (status, body) = get(
        &http,
        format!("{base}/Weather/1.0/forecast/today?city=Oslo&apikey={key}&days=2"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["failureCode"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(10032))
    );
    // The key in the header is taken out; path and query reach the backend.
    let (status, body) = get(
        &http,
        format!("{base}/Weather/1.0/forecast/today?city=Oslo&days=2"),
        Some(&key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["path"], "/v1/forecast/today");
    assert_eq!(body["query"], "city=Oslo&days=2");
    assert_eq!(body["x_api_key"], "");
    assert_eq!(body["x_forwarded_for"], "127.0.0.1");
    assert_eq!(body["x_forwarded_host"], gw.to_string());
    // The client's own X-Forwarded-Host is replaced by the host it asked for.
    let a = send(
        &http,
        Request::builder()
            .uri(format!("{base}/Weather/1.0/forecast"))
            .header("x-api-key", &key)
            .header("x-forwarded-host", "evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["x_forwarded_host"], gw.to_string());

    // Each refusal with its status and failure code.
    let cases = [
        (
            format!("{base}/Weather/1.0/x"),
            None,
            StatusCode::UNAUTHORIZED,
            10022,
        ),
        (
            format!("{base}/Weather/1.0/x"),
            Some("not-a-key"),
            StatusCode::UNAUTHORIZED,
            10023,
        ),
        (
            format!("{base}/Maps/1.0/x"),
            Some(key.as_str()),
            StatusCode::FORBIDDEN,
            10024,
        ),
        (
            format!("{base}/Nope/1.0/x"),
            Some(key.as_str()),
            StatusCode::NOT_FOUND,
            10020,
        ),
        (
            format!("http://{gw}/too/short"),
            None,
            StatusCode::NOT_FOUND,
            10020,
        ),
    ];
    for (url, key, status, code) in cases {
        let (got, body) = get(&http, url.clone(), key).await;
        assert_eq!(
            (got, body["failureCode"].as_u64()),
            (status, Some(code)),
            "{url}: {body}"
        );
        assert_eq!(
            body["responseCode"].as_u64(),
            Some(u64::from(status.as_u16()))
        );
    }
    // A public API needs no key.
    assert_eq!(
        get(&http, format!("{base}/Open/1.0/status"), None).await.0,
        StatusCode::OK
    );

    // Retire → 410, unregister → 401, each within a second.
    service::apis::retire(&db, &ctx, &at("Acme", "Open"))
        .await
        .unwrap();
    within_a_second(
        &http,
        format!("{base}/Open/1.0/status"),
        &key,
        StatusCode::GONE,
    )
    .await;
    service::clients::unregister(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    let took = within_a_second(
        &http,
        format!("{base}/Weather/1.0/x"),
        &key,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    println!("unregister → first refused request: {took:?}");
    // Register again → accepted again.
    service::clients::register(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    within_a_second(&http, format!("{base}/Weather/1.0/x"), &key, StatusCode::OK).await;

    // A gateway whose database connection is gone keeps serving its last snapshot.
    let own = support::connect(&url).await;
    let lonely = serve(gateway::Gateway::start(own.clone()).await.unwrap()).await;
    own.close().await.unwrap();
    tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    let (status, _) = get(
        &http,
        format!("http://{lonely}/Acme/Weather/1.0/x"),
        Some(&key),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(&dir);
}
