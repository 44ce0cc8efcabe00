//! What the gateway's integration tests share: an echoing backend, a served gateway, a small
//! HTTP client, and a world of one organization with a plan, an API and a registered client.
#![allow(dead_code)]

pub mod oidc;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use domain::Discoverability;
use domain::EntityKind;
use domain::dto::PlanOffer;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use service::{Ctx, DatabaseConnection, EntityRef};

pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Body>;

pub fn http() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A backend that answers with what it received: method, path, query and every header; it
/// also sets `Set-Cookie` and `Server` so that response edits can be seen.
pub async fn backend() -> SocketAddr {
    let app = axum::Router::new().fallback(|req: Request| async move {
        let headers: serde_json::Map<String, serde_json::Value> = req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    serde_json::Value::from(v.to_str().unwrap_or("")),
                )
            })
            .collect();
        let h = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let body = serde_json::json!({
            "method": req.method().as_str(),
            "path": req.uri().path(),
            "query": req.uri().query().unwrap_or(""),
            "x_api_key": h("x-api-key"),
            "x_forwarded_for": h("x-forwarded-for"),
            "x_forwarded_host": h("x-forwarded-host"),
            "headers": headers,
            "link": "http://backend.internal/v1/items",
        })
        .to_string();
        ([("server", "backend/1.0"), ("x-backend", "yes")], body)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn serve(gw: std::sync::Arc<gateway::Gateway>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gateway::router(gw).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A response: status, headers and the body as JSON (Null when it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub async fn send(client: &HttpClient, req: axum::http::Request<Body>) -> Answer {
    let res = client.request(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        text,
    }
}

pub async fn get(
    client: &HttpClient,
    url: String,
    key: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().uri(url);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let a = send(client, req.body(Body::empty()).unwrap()).await;
    (a.status, a.body)
}

/// Waits (≤ 1 s) until `url` answers `expected`; returns how long it took.
pub async fn within_a_second(
    client: &HttpClient,
    url: String,
    key: &str,
    expected: StatusCode,
) -> Duration {
    let start = Instant::now();
    loop {
        if get(client, url.clone(), Some(key)).await.0 == expected {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "not {expected} within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn at(org: &str, id: &str) -> EntityRef {
    EntityRef {
        org_id: org.into(),
        id: id.into(),
        version: "1.0".into(),
    }
}

/// A fresh SQLite database in its own folder; returns its URL.
pub fn sqlite_url(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("tollgate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/gw.db?mode=rwc", dir.display());
    (dir, url)
}

/// A new account's context.
pub async fn signed_up(db: &DatabaseConnection, email: &str) -> Ctx {
    let user = service::accounts::sign_up(
        db,
        service::accounts::SignUp {
            email: email.into(),
            display_name: "Ops".into(),
            password: "correct horse battery".into(),
        },
        false,
    )
    .await
    .unwrap();
    Ctx {
        user_id: user.id,
        email: user.email,
        display_name: user.display_name,
        is_admin: false,
        portal_only: false,
        via_portal: false,
        grant: None,
    }
}

/// Organization "Acme" with plan "Gold" 1.0 (carrying `plan_policies`, then locked), API
/// "Weather" 1.0 on `backend` (carrying `api_policies`, offering Gold, published) and client
/// "App" 1.0 with a contract, registered. Returns the context and the client's API key.
pub async fn world(
    db: &DatabaseConnection,
    backend: SocketAddr,
    plan_policies: &[(&str, &str)],
    api_policies: &[(&str, &str)],
) -> (Ctx, String) {
    world_at(
        db,
        &format!("http://{backend}/v1"),
        plan_policies,
        api_policies,
    )
    .await
}

/// [`world`] with the API's endpoint given as a URL.
pub async fn world_at(
    db: &DatabaseConnection,
    endpoint: &str,
    plan_policies: &[(&str, &str)],
    api_policies: &[(&str, &str)],
) -> (Ctx, String) {
    let ctx = signed_up(db, "ops@example.com").await;
    let org = service::organizations::NewOrganization {
        name: "Acme".into(),
        description: String::new(),
    };
    service::organizations::create(db, &ctx, org).await.unwrap();
    let plan = service::plans::NewPlan {
        name: "Gold".into(),
        version: "1.0".into(),
        description: String::new(),
    };
    service::plans::create(db, &ctx, "Acme", plan)
        .await
        .unwrap();
    for (definition, config) in plan_policies {
        service::policies::add(
            db,
            &ctx,
            EntityKind::Plan,
            &at("Acme", "Gold"),
            definition,
            config,
            None,
        )
        .await
        .unwrap();
    }
    service::plans::lock(db, &ctx, &at("Acme", "Gold"))
        .await
        .unwrap();
    let api = service::apis::NewApi {
        name: "Weather".into(),
        version: "1.0".into(),
        description: String::new(),
        endpoint: endpoint.to_owned(),
    };
    service::apis::create(db, &ctx, "Acme", api).await.unwrap();
    for (definition, config) in api_policies {
        service::policies::add(
            db,
            &ctx,
            EntityKind::Api,
            &at("Acme", "Weather"),
            definition,
            config,
            None,
        )
        .await
        .unwrap();
    }
    let offer = PlanOffer {
        plan_id: "Gold".into(),
        plan_version: "1.0".into(),
        requires_approval: false,
        discoverability: Discoverability::AllUsers,
    };
    service::apis::set_plans(db, &ctx, &at("Acme", "Weather"), vec![offer])
        .await
        .unwrap();
    service::apis::publish(db, &ctx, &at("Acme", "Weather"))
        .await
        .unwrap();
    let client = service::clients::NewClient {
        name: "App".into(),
        version: "1.0".into(),
        description: String::new(),
    };
    service::clients::create(db, &ctx, "Acme", client)
        .await
        .unwrap();
    let target = service::contracts::Target {
        api_org_id: "Acme".into(),
        api_id: "Weather".into(),
        api_version: "1.0".into(),
        plan_id: "Gold".into(),
    };
    service::contracts::create(db, &ctx, &at("Acme", "App"), target)
        .await
        .unwrap();
    service::clients::register(db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    let key = current_key(db, &ctx, &at("Acme", "App")).await;
    (ctx, key)
}

/// The implementation of a public JSON API on `endpoint` (no API key needed), with the default
/// bounds.
pub fn public_implementation(endpoint: &str) -> service::apis::Implementation {
    service::apis::Implementation {
        endpoint: endpoint.to_owned(),
        content_type: "JSON".into(),
        public_api: true,
        request_body_limit: None,
        allow_encoded_slashes: false,
        accept_key_in_query: false,
        connect_timeout_ms: None,
        response_timeout_ms: None,
        max_concurrent_requests: None,
    }
}

/// API `name` 1.0 of Acme with `implementation` and `policies`, published.
pub async fn publish_api(
    db: &DatabaseConnection,
    ctx: &Ctx,
    name: &str,
    implementation: service::apis::Implementation,
    policies: &[(&str, &str)],
) {
    let api = service::apis::NewApi {
        name: name.into(),
        version: "1.0".into(),
        description: String::new(),
        endpoint: implementation.endpoint.clone(),
    };
    service::apis::create(db, ctx, "Acme", api).await.unwrap();
    service::apis::update_implementation(db, ctx, &at("Acme", name), implementation)
        .await
        .unwrap();
    for (definition, config) in policies {
        service::policies::add(
            db,
            ctx,
            EntityKind::Api,
            &at("Acme", name),
            definition,
            config,
            None,
        )
        .await
        .unwrap();
    }
    service::apis::publish(db, ctx, &at("Acme", name))
        .await
        .unwrap();
}

/// The server secret every test of this process uses.
pub const TEST_SECRET: [u8; 32] = [0x42; 32];

/// Opens (and migrates) a test database, with the test secret installed first.
pub async fn connect(url: &str) -> DatabaseConnection {
    service::secrets::install(service::secrets::Keyring::new(&TEST_SECRET));
    service::db::connect(url).await.unwrap()
}

/// The value of a client version's current key (shown as a user with clientEdit would).
pub async fn current_key(db: &DatabaseConnection, ctx: &Ctx, at: &service::EntityRef) -> String {
    let detail = service::clients::get_version(db, ctx, &at.org_id, &at.id, &at.version)
        .await
        .unwrap();
    let key = domain::dto::ApiKeyDto::current(&detail.keys).expect("a working key");
    service::api_keys::reveal(db, ctx, at, key.id)
        .await
        .unwrap()
}

/// A backend that keeps every `Cookie` header line it receives and answers with two ordinary
/// `Set-Cookie` headers and two that would set Tollgate's session.
pub async fn cookie_backend() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let kept = kept.clone();
        async move {
            for v in req.headers().get_all("cookie") {
                kept.lock().unwrap().push(v.to_str().unwrap().to_owned());
            }
            axum::http::Response::builder()
                .header("set-cookie", "theme=dark; Path=/")
                .header("set-cookie", "tollgate_session=planted; Path=/; HttpOnly")
                .header(
                    "set-cookie",
                    "__Host-tollgate_session=planted; Path=/; Secure",
                )
                .header("set-cookie", "lang=en")
                .body(Body::from("ok"))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}
