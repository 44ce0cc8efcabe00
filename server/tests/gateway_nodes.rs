//! Several gateway nodes on one database (SQLite and PostgreSQL): each serves from its own
//! snapshot, and an Unregister made through API Management is refused by every node within a
//! second.

mod common;

use std::time::{Duration, Instant};

use app::api::contracts::CreateContract;
use app::api::entities::{CreateEntity, GetClientVersion};
use app::api::lifecycle::{RunVersionAction, SetApiPlans};
use app::api::orgs::CreateOrg;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::dto::ClientVersionDetail;
use serde_json::json;
use tower::ServiceExt;

async fn backend() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn call(node: &axum::Router, key: &str) -> StatusCode {
    let req = Request::builder()
        .uri("/Acme/Weather/1.0/forecast")
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    node.clone().oneshot(req).await.unwrap().status()
}

on_both!(two_nodes_refuse_within_a_second_after_unregister, |app| {
    let backend = backend().await;
    let ok = |r: common::Reply| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r
    };
    ok(app.sign_up("ops@example.com", "Ops").await);
    ok(app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await);
    let endpoint = format!("http://{backend}/v1");
    for (kind, name) in [("Plan", "Gold"), ("Api", "Weather"), ("Client", "App")] {
        ok(app
            .call::<CreateEntity>(&[
                ("kind", kind),
                ("org", "Acme"),
                ("name", name),
                ("version", "1.0"),
                ("description", ""),
                ("endpoint", endpoint.as_str()),
            ])
            .await);
    }
    let action = |kind: &'static str, id: &'static str, what: &'static str| {
        [
            ("kind", kind),
            ("org", "Acme"),
            ("id", id),
            ("version", "1.0"),
            ("action", what),
        ]
    };
    ok(app
        .call::<RunVersionAction>(&action("Plan", "Gold", "Lock"))
        .await);
    ok(app
        .call_json::<SetApiPlans>(json!({"org": "Acme", "api": "Weather", "version": "1.0", "plans": [
            {"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "org_members"}
        ]}))
        .await);
    ok(app
        .call::<RunVersionAction>(&action("Api", "Weather", "Publish"))
        .await);
    ok(app
        .call::<CreateContract>(&[
            ("org", "Acme"),
            ("client", "App"),
            ("version", "1.0"),
            ("api_org", "Acme"),
            ("api", "Weather"),
            ("api_version", "1.0"),
            ("plan", "Gold"),
        ])
        .await);
    ok(app
        .call::<RunVersionAction>(&action("Client", "App", "Register"))
        .await);
    let d: ClientVersionDetail = app
        .call::<GetClientVersion>(&[("org", "Acme"), ("client", "App"), ("version", "1.0")])
        .await
        .json();
    let key_id = domain::dto::ApiKeyDto::current(&d.keys)
        .unwrap()
        .id
        .to_string();
    let key: String = app
        .call::<app::api::keys::ShowApiKey>(&[
            ("org", "Acme"),
            ("client", "App"),
            ("version", "1.0"),
            ("key_id", key_id.as_str()),
        ])
        .await
        .json();

    // Two nodes, each with its own connection pool, as two processes would have.
    let (mut nodes, mut watchers) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let db = common::connect(&app.url).await;
        let snapshot = service::gateway::load_snapshot(&db).await.unwrap();
        let gw = gateway::Gateway::new(snapshot);
        watchers.push((tokio::spawn(gw.clone().watch(db.clone())), db));
        nodes.push(gateway::router(gw));
    }
    for node in &nodes {
        assert_eq!(call(node, &key).await, StatusCode::OK);
    }
    ok(app
        .call::<RunVersionAction>(&action("Client", "App", "Unregister"))
        .await);
    let start = Instant::now();
    for node in &nodes {
        while call(node, &key).await != StatusCode::UNAUTHORIZED {
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "a node still accepts the key after 1 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Stop the nodes so that the test database can be dropped.
    for (watcher, db) in watchers {
        watcher.abort();
        let _ = watcher.await;
        db.close().await.ok();
    }
});
