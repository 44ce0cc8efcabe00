//! Benchmark helper for `bench/gateway.sh` (release build):
//!
//! - `bench serve <backend-url> <listen>`: a fresh SQLite database with one published API
//!   (backend `<backend-url>`), a plan with a rate limit too high to trip, and one registered
//!   client; and a public API on the same backend guarded by JWT Validation (RS256, a static
//!   key). Prints `KEY=…` and `URL=…` (key auth), `TOKEN=…` and `JWT_URL=…`, then serves the
//!   gateway (metrics recording on) on `<listen>` until killed.
//! - `bench propagation`: register → first accepted request, unregister → first refused request,
//!   measured 10 times through a gateway polling the database.
//! - `bench memory <n>`: the gateway's resident memory before and after loading a snapshot with
//!   `<n>` registered client versions.
//! - `bench requests <n>`: the world of `serve` with an in-process backend, then `<n>` requests
//!   one after the other through the whole chain (a TCP client, key auth, the contract, the rate
//!   limit, metrics, the backend hop), all on one thread. `bench/instructions.sh` runs it under
//!   callgrind for two values of `<n>`: the difference is the instruction count per request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sea_orm::{ActiveValue::Set, EntityTrait};
use service::{Ctx, DatabaseConnection, EntityRef};

#[path = "../tests/support/mod.rs"]
mod support;

fn at(id: &str) -> EntityRef {
    support::at("Acme", id)
}

fn db_url() -> String {
    let dir = std::env::temp_dir().join(format!("tollgate-bench-gw-{}", std::process::id()));
    format!("sqlite://{}/gw.db?mode=rwc", dir.display())
}

/// A database with API Weather (backend `endpoint`) whose plan Gold carries a rate limit too
/// high to trip, and client App registered for it.
async fn world(endpoint: &str) -> (DatabaseConnection, Ctx, String) {
    world_with_jwt(endpoint, false).await
}

/// [`world`], and with `jwt` the public API Forecast on the same backend, guarded by JWT
/// Validation with the static key of `gateway/testdata/rsa-a.pub`.
async fn world_with_jwt(endpoint: &str, jwt: bool) -> (DatabaseConnection, Ctx, String) {
    let dir = std::env::temp_dir().join(format!("tollgate-bench-gw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = support::connect(&db_url()).await;
    // The benchmark measures the policy's cost, not refusals.
    let plan_policies = [(
        "rate-limiting",
        r#"{"limit":1000000000,"granularity":"Client","period":"Minute"}"#,
    )];
    let (ctx, key) = support::world_at(&db, endpoint, &plan_policies, &[]).await;
    if jwt {
        let config = serde_json::json!({
            "staticKeys": [{"pem": include_str!("../testdata/rsa-a.pub")}],
            "algorithms": ["RS256"],
            "issuer": "https://id.example.com",
            "audience": "forecast",
            "forwardClaims": [{"claim": "sub", "header": "X-User"}],
        })
        .to_string();
        let implementation = support::public_implementation(endpoint);
        support::publish_api(&db, &ctx, "Forecast", implementation, &[("jwt", &config)]).await;
    }
    (db, ctx, key)
}

/// An RS256 token for Forecast, valid for a day.
fn token() -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../testdata/rsa-a.key"))
        .expect("the test key reads");
    let claims = serde_json::json!({
        "iss": "https://id.example.com",
        "aud": "forecast",
        "sub": "bench-user",
        "exp": chrono::Utc::now().timestamp() + 86_400,
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key).expect("the token signs")
}

async fn serve(db: DatabaseConnection, listen: &str) -> SocketAddr {
    let gw = gateway::Gateway::start(db).await.unwrap();
    let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gateway::router(gw).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `requests` runs on one thread, so that its instruction count does not depend on how work
    // was spread over threads.
    let mut runtime = if args.get(1).map(String::as_str) == Some("requests") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    runtime.enable_all().build().unwrap().block_on(run(args));
}

/// A backend on loopback that answers "ok".
async fn ok_backend() -> SocketAddr {
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = backend.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(backend, axum::Router::new().fallback(|| async { "ok" }))
            .await
            .unwrap()
    });
    addr
}

/// `n` requests through the whole chain, one after the other; every one must be answered 200.
async fn requests(n: usize) {
    let backend_addr = ok_backend().await;
    let (db, _, key) = world(&format!("http://{backend_addr}/")).await;
    let addr = serve(db, "127.0.0.1:0").await;
    let http: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("http://{addr}/Acme/Weather/1.0/items");
    for i in 0..n {
        let req = Request::builder()
            .uri(url.as_str())
            .header("x-api-key", key.as_str())
            .body(Body::empty())
            .unwrap();
        let res = http.request(req).await.unwrap();
        let status = res.status();
        let _ = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "request {i}");
    }
}

async fn run(args: Vec<String>) {
    match args.get(1).map(String::as_str) {
        Some("requests") => {
            let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000);
            requests(n).await;
        }
        Some("serve") => {
            let (db, _, key) = world_with_jwt(&args[2], true).await;
            let addr = serve(db, &args[3]).await;
            println!("KEY={key}");
            println!("URL=http://{addr}/Acme/Weather/1.0/");
            println!("TOKEN={}", token());
            println!("JWT_URL=http://{addr}/Acme/Forecast/1.0/");
            std::future::pending::<()>().await;
        }
        Some("propagation") => {
            let backend_addr = ok_backend().await;
            let (db, ctx, key) = world(&format!("http://{backend_addr}/")).await;
            let addr = serve(db.clone(), "127.0.0.1:0").await;
            let http: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
            let url = format!("http://{addr}/Acme/Weather/1.0/");
            let status = |http: Client<_, Body>, url: String, key: String| async move {
                let req = Request::builder()
                    .uri(url)
                    .header("x-api-key", key)
                    .body(Body::empty())
                    .unwrap();
                http.request(req).await.unwrap().status()
            };
            let until = |want: StatusCode| {
                let (http, url, key) = (http.clone(), url.clone(), key.clone());
                async move {
                    let start = Instant::now();
                    while status(http.clone(), url.clone(), key.clone()).await != want {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    start.elapsed()
                }
            };
            let (mut on, mut off) = (Vec::new(), Vec::new());
            for _ in 0..10 {
                service::clients::unregister(&db, &ctx, &at("App"))
                    .await
                    .unwrap();
                off.push(until(StatusCode::UNAUTHORIZED).await);
                service::clients::register(&db, &ctx, &at("App"))
                    .await
                    .unwrap();
                on.push(until(StatusCode::OK).await);
            }
            on.sort();
            off.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "register -> first accepted request:   median {:.0} ms, max {:.0} ms (target <= 1000 ms)",
                ms(on[on.len() / 2]),
                ms(on[on.len() - 1])
            );
            println!(
                "unregister -> first refused request:  median {:.0} ms, max {:.0} ms (target <= 1000 ms)",
                ms(off[off.len() / 2]),
                ms(off[off.len() - 1])
            );
        }
        Some("memory") => {
            let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
            let (db, _, _) = world("http://127.0.0.1:9/").await;
            seed_clients(&db, n).await;
            // A fresh process loads the snapshot, as a gateway node does at start.
            let url = db_url();
            drop(db);
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["load", &url])
                .output()
                .unwrap();
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Some("load") => {
            let db = support::connect(&args[2]).await;
            let before = rss_mib();
            let gw = gateway::Gateway::new(service::gateway::load_snapshot(&db).await.unwrap());
            gateway::release_free_memory();
            let after = rss_mib();
            println!(
                "{} registered client versions with {} keys: a gateway node uses {after:.0} MiB with its snapshot ({before:.0} MiB before loading it; target <= 128 MiB)",
                gw.snapshot().clients,
                gw.snapshot().keys.len(),
            );
        }
        _ => eprintln!(
            "usage: bench serve <backend-url> <listen> | propagation | memory <n> | requests <n>"
        ),
    }
}

/// `n` more registered client versions of API Weather 1.0, inserted in bulk.
async fn seed_clients(db: &DatabaseConnection, n: usize) {
    use service::entities::{client, client_version, contract};
    let av = service::entities::api_version::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let pv = service::entities::plan_version::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let at = chrono::Utc::now();
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(1000) {
        client::Entity::insert_many(chunk.iter().map(|i| client::ActiveModel {
            org_id: Set("Acme".into()),
            id: Set(format!("C{i}")),
            name: Set(format!("C{i}")),
            description: Set(String::new()),
            created_by: Set("bench".into()),
            created_on: Set(at),
            modified_by: Set("bench".into()),
            modified_on: Set(at),
        }))
        .exec(db)
        .await
        .unwrap();
        client_version::Entity::insert_many(chunk.iter().map(|i| client_version::ActiveModel {
            org_id: Set("Acme".into()),
            client_id: Set(format!("C{i}")),
            version: Set("1.0".into()),
            status: Set("registered".into()),
            created_by: Set("bench".into()),
            created_on: Set(at),
            modified_by: Set("bench".into()),
            modified_on: Set(at),
            registered_on: Set(Some(at)),
            retired_on: Set(None),
            changed_since_registration: Set(false),
            ..Default::default()
        }))
        .exec(db)
        .await
        .unwrap();
    }
    let versions: Vec<i32> = client_version::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.client_id.starts_with('C'))
        .map(|v| v.id)
        .collect();
    // Two keys each, as during a rotation: the new one, and the old one in its overlap.
    let ring = service::secrets::keyring().unwrap();
    for chunk in versions.chunks(500) {
        service::entities::client_key::Entity::insert_many(chunk.iter().flat_map(|id| {
            [0, 1].map(|n| {
                let key = format!("bench-key-{id}-{n}-0000000000");
                let lookup = ring.lookup_hex(&key);
                service::entities::client_key::ActiveModel {
                    client_version_id: Set(*id),
                    label: Set(None),
                    sealed: Set(ring.seal(&key, &lookup)),
                    lookup_hash: Set(lookup),
                    last4: Set(domain::credentials::last4(&key)),
                    created_by: Set("bench".into()),
                    created_on: Set(at),
                    expires_on: Set((n == 0).then(|| at + chrono::Duration::days(1))),
                    revoked_on: Set(None),
                    revoked_by: Set(None),
                    last_used_on: Set(None),
                    ..Default::default()
                }
            })
        }))
        .exec(db)
        .await
        .unwrap();
    }
    for chunk in versions.chunks(1000) {
        contract::Entity::insert_many(chunk.iter().map(|id| contract::ActiveModel {
            client_version_id: Set(*id),
            api_version_id: Set(av.id),
            plan_version_id: Set(pv.id),
            status: Set("created".into()),
            created_by: Set("bench".into()),
            created_on: Set(at - chrono::Duration::seconds(1)),
            ..Default::default()
        }))
        .exec(db)
        .await
        .unwrap();
    }
}
