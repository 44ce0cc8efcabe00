//! The gateway's trust boundaries on real traffic: Tollgate's own cookies never reach a backend
//! nor come back from one; request bodies and framing have bounds; the gateway refuses to
//! connect to link-local, metadata and its own addresses; `/metrics` is not on the proxy
//! listener.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use support::*;

/// A backend that keeps every `Cookie` header line it receives and answers with two ordinary
/// `Set-Cookie` headers and two that would set Tollgate's session.
async fn cookie_backend() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
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

#[tokio::test]
async fn tollgate_cookies_never_reach_a_backend_nor_come_back() {
    let (dir, url) = sqlite_url("bounds-cookies");
    let db = service::db::connect(&url).await.unwrap();
    let (backend, seen) = cookie_backend().await;
    let (_, key) = world(&db, backend, &[], &[]).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let req = Request::builder()
        .uri(format!("http://{gw}/Acme/Weather/1.0/x"))
        .header("x-api-key", &key)
        .header("cookie", "a=1; tollgate_session=secret1; b=2")
        .header("cookie", "__Host-tollgate_session=secret2")
        .header("cookie", "c=3")
        .body(Body::empty())
        .unwrap();
    let answer = send(&http(), req).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let received = seen.lock().unwrap().join(" | ");
    assert!(!received.contains("secret"), "{received}");
    assert!(received.contains("a=1; b=2"), "{received}");
    assert!(received.contains("c=3"), "{received}");
    let set: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set, ["theme=dark; Path=/", "lang=en"]);

    // A request whose only cookie is the session reaches the backend with no Cookie at all.
    seen.lock().unwrap().clear();
    let req = Request::builder()
        .uri(format!("http://{gw}/Acme/Weather/1.0/x"))
        .header("x-api-key", &key)
        .header("cookie", "tollgate_session=secret3")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&http(), req).await.status, StatusCode::OK);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
