//! The gateway's trust boundaries on real traffic: Tollgate's own cookies never reach a backend
//! nor come back from one; request bodies and framing have bounds; the gateway refuses to
//! connect to link-local, metadata and its own addresses; `/metrics` is not on the proxy
//! listener.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn tollgate_cookies_never_reach_a_backend_nor_come_back() {
    let (dir, url) = sqlite_url("bounds-cookies");
    let db = support::connect(&url).await;
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

#[tokio::test]
async fn a_policy_cannot_set_a_tollgate_cookie_either() {
    let (dir, url) = sqlite_url("bounds-policy-cookie");
    let db = support::connect(&url).await;
    let (backend, _) = cookie_backend().await;
    // An API owner's Simple Header policy that tries to plant a session on the caller.
    let (_, key) = world(
        &db,
        backend,
        &[],
        &[(
            "simple-header",
            r#"{"addHeaders":[{"name":"Set-Cookie","value":"tollgate_session=fixed; Path=/","applyTo":"response","overwrite":true}]}"#,
        )],
    )
    .await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let req = Request::builder()
        .uri(format!("http://{gw}/Acme/Weather/1.0/x"))
        .header("x-api-key", &key)
        .body(Body::empty())
        .unwrap();
    let answer = send(&http(), req).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let set: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        !set.iter().any(|c| c.contains("tollgate_session")),
        "{set:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A public API `name` on `endpoint` with the given bounds, published.
async fn public_api(
    db: &service::DatabaseConnection,
    ctx: &service::Ctx,
    name: &str,
    endpoint: &str,
    request_body_limit: Option<u64>,
    allow_encoded_slashes: bool,
) {
    let implementation = service::apis::Implementation {
        request_body_limit,
        allow_encoded_slashes,
        ..support::public_implementation(endpoint)
    };
    support::publish_api(db, ctx, name, implementation, &[]).await;
}

/// Sends raw bytes and returns the status and the whole answer (the request asks to close).
async fn raw(gw: SocketAddr, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(gw).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn failure_code(a: &Answer) -> Option<u64> {
    a.body["failureCode"].as_u64()
}

#[tokio::test]
async fn request_bodies_have_a_limit_known_or_streamed() {
    let (dir, url) = sqlite_url("bounds-body");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, _) = world(&db, backend, &[], &[]).await;
    let endpoint = format!("http://{backend}/v1");
    public_api(&db, &ctx, "Small", &endpoint, Some(1000), false).await;
    public_api(&db, &ctx, "Open", &endpoint, None, false).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let post = |api: &str, body: Body| {
        Request::builder()
            .method("POST")
            .uri(format!("http://{gw}/Acme/{api}/1.0/upload"))
            .body(body)
            .unwrap()
    };
    // A known length within the limit passes; one byte more is refused before the backend.
    let a = send(&http, post("Small", Body::from(vec![b'x'; 1000]))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = send(&http, post("Small", Body::from(vec![b'x'; 1001]))).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(failure_code(&a), Some(10027));
    // The default is 10 MiB.
    let a = send(
        &http,
        post("Open", Body::from(vec![b'x'; 10 * 1024 * 1024 + 1])),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(failure_code(&a), Some(10027));
    let a = send(&http, post("Open", Body::from(vec![b'x'; 64 * 1024]))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // A streamed (chunked) body is stopped once it passes the limit.
    let chunks = |n: usize| {
        let parts: Vec<bytes::Bytes> = (0..n)
            .map(|_| bytes::Bytes::from(vec![b'y'; 300]))
            .collect();
        Body::new(Chunks(parts.into_iter()))
    };
    let a = send(&http, post("Small", chunks(3))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["headers"]["transfer-encoding"], "chunked");
    let a = send(&http, post("Small", chunks(4))).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(failure_code(&a), Some(10027));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A body of ready chunks with no known length (hyper sends it chunked).
struct Chunks(std::vec::IntoIter<bytes::Bytes>);

impl hyper::body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(self.0.next().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[tokio::test]
async fn ambiguous_framing_is_not_smuggled_and_encoded_paths_get_400() {
    let (dir, url) = sqlite_url("bounds-framing");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, _) = world(&db, backend, &[], &[]).await;
    let endpoint = format!("http://{backend}/v1");
    public_api(&db, &ctx, "Open", &endpoint, None, false).await;
    public_api(&db, &ctx, "Slashes", &endpoint, None, true).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;

    // Content-Length with Transfer-Encoding, in either order: hyper (1.12) reads the body as
    // chunked, drops the length before the gateway sees the request, and closes the
    // connection after the answer, so nothing smuggled after the body is ever read as a
    // request (and the backend never sees two framings).
    for headers in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ] {
        let (_, text) = raw(
            gw,
            &format!(
                "POST /Acme/Open/1.0/x HTTP/1.1\r\nHost: gw\r\n{headers}\r\n\r\n0\r\n\r\n\
                 GET /Acme/Open/1.0/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
        assert!(!text.contains("smuggled"), "{text}");
        assert!(!text.contains("\"content-length\""), "{text}");
    }
    // A plain request on the same raw path passes.
    let (status, text) = raw(
        gw,
        "GET /Acme/Open/1.0/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");

    // Encoded slashes and backslashes, in any case; raw backslashes.
    for path in [
        "/a%2Fb",
        "/a%2fb",
        "/a%5Cb",
        "/a%5cb",
        "/a\\b",
        "/..%5c..%5cetc",
    ] {
        let (status, text) = raw(
            gw,
            &format!("GET /Acme/Open/1.0{path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 400, "{path}: {text}");
        // hyper may refuse a raw backslash itself; ours carry the failure code.
        assert!(
            path.contains('\\') || text.contains("10028"),
            "{path}: {text}"
        );
    }
    // An API version that allows encoded slashes takes them (not backslashes).
    let (status, text) = raw(
        gw,
        "GET /Acme/Slashes/1.0/a%2Fb HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = raw(
        gw,
        "GET /Acme/Slashes/1.0/a%5Cb HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Serves a gateway on `listener`, which the gateway knows as its own.
async fn serve_on(
    listener: tokio::net::TcpListener,
    db: &service::DatabaseConnection,
    networks: domain::gateway_bounds::NetworkRule,
) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    let options = gateway::Options {
        networks: Arc::new(networks),
        ..Default::default()
    };
    let gw = gateway::Gateway::start_with(db.clone(), options)
        .await
        .unwrap();
    let app = gateway::router(gw).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn refused_backend_addresses_get_10029_after_dns() {
    let (dir, url) = sqlite_url("bounds-ssrf");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, _) = world(&db, backend, &[], &[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let own = listener.local_addr().unwrap();
    public_api(
        &db,
        &ctx,
        "Metadata",
        "http://169.254.169.254/latest",
        None,
        false,
    )
    .await;
    public_api(
        &db,
        &ctx,
        "Linklocal",
        "http://[fe80::1]:8080/",
        None,
        false,
    )
    .await;
    // A DNS name that resolves to the gateway's own listener.
    let own_by_name = format!("http://localhost:{}/loop", own.port());
    public_api(&db, &ctx, "Loop", &own_by_name, None, false).await;
    // A DNS name that resolves to a loopback address the operator denied.
    let denied_by_name = format!("http://localhost:{}/v1", backend.port());
    public_api(&db, &ctx, "Denied", &denied_by_name, None, false).await;
    // The backend by address, on a range that stays allowed.
    public_api(
        &db,
        &ctx,
        "Fine",
        &format!("http://{backend}/v1"),
        None,
        false,
    )
    .await;

    let rule = domain::gateway_bounds::NetworkRule::new(
        &[],
        &["127.0.0.0/30".to_owned(), "::1".to_owned()],
        vec![own],
    )
    .unwrap();
    // The backend listens on 127.0.0.1, which the deny list covers: use another gateway for
    // it, with the default rule.
    let gw = serve_on(listener, &db, rule).await;
    let http = http();
    for api in ["Metadata", "Linklocal", "Loop", "Denied"] {
        let a = send(
            &http,
            Request::builder()
                .uri(format!("http://{gw}/Acme/{api}/1.0/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (a.status, failure_code(&a)),
            (StatusCode::BAD_GATEWAY, Some(10029)),
            "{api}: {}",
            a.text
        );
        assert!(a.text.contains("refuses to connect"), "{}", a.text);
    }
    // With the default rule, the denied backend is reachable by name and by address; the own
    // listener of the other gateway is no concern of this one.
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw2 = serve_on(other, &db, domain::gateway_bounds::NetworkRule::default()).await;
    for api in ["Fine", "Denied"] {
        let a = send(
            &http,
            Request::builder()
                .uri(format!("http://{gw2}/Acme/{api}/1.0/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{api}: {}", a.text);
    }
    let a = send(
        &http,
        Request::builder()
            .uri(format!("http://{gw2}/Acme/Metadata/1.0/x"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(failure_code(&a), Some(10029), "{}", a.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_loop_back_into_the_gateway_stops_at_once_and_this_host_is_refused() {
    let (dir, url) = sqlite_url("bounds-loop");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, _) = world(&db, backend, &[], &[]).await;
    // The gateway's own address, as a proxy in front of it would hand the request back: the
    // listener is not in the rule, so only `Via` can tell.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = listener.local_addr().unwrap();
    let own = format!("http://{gw}/Acme/Selfloop/1.0");
    public_api(&db, &ctx, "Selfloop", &own, None, false).await;
    // `0.0.0.0` reaches this host's listeners (the admin listener's /metrics, say).
    let this_host = format!("http://0.0.0.0:{}/v1", backend.port());
    public_api(&db, &ctx, "Thishost", &this_host, None, false).await;
    let gw = serve_on(
        listener,
        &db,
        domain::gateway_bounds::NetworkRule::default(),
    )
    .await;
    let http = http();
    let get = |api: &str| {
        Request::builder()
            .uri(format!("http://{gw}/Acme/{api}/1.0/x"))
            .body(Body::empty())
            .unwrap()
    };
    let a = send(&http, get("Selfloop")).await;
    assert_eq!(
        (a.status, failure_code(&a)),
        (StatusCode::LOOP_DETECTED, Some(10029)),
        "{}",
        a.text
    );
    let a = send(&http, get("Thishost")).await;
    assert_eq!(
        (a.status, failure_code(&a)),
        (StatusCode::BAD_GATEWAY, Some(10029)),
        "{}",
        a.text
    );
    assert!(a.text.contains("unspecified address"), "{}", a.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn metrics_are_on_the_admin_listener_and_errors_are_not_sniffed_or_cached() {
    let (dir, url) = sqlite_url("bounds-metrics");
    let db = support::connect(&url).await;
    let backend = backend().await;
    world(&db, backend, &[], &[]).await;
    let node = gateway::Gateway::start(db.clone()).await.unwrap();
    let gw = serve(node.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = listener.local_addr().unwrap();
    let app = gateway::admin_router(node);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = http();
    let get_at = |url: String| Request::builder().uri(url).body(Body::empty()).unwrap();

    // On the proxy listener, /metrics and /healthz are paths like any other: no API there.
    for path in ["/metrics", "/healthz"] {
        let a = send(&http, get_at(format!("http://{gw}{path}"))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(failure_code(&a), Some(10020), "{path}");
        assert!(!a.text.contains("tollgate_gateway"), "{}", a.text);
        assert_eq!(a.header("x-content-type-options"), "nosniff");
        assert_eq!(a.header("cache-control"), "no-store");
    }
    let a = send(&http, get_at(format!("http://{admin}/healthz"))).await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::OK, "ok"));
    let a = send(&http, get_at(format!("http://{admin}/metrics"))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.text
            .contains("tollgate_gateway_refusals_total{failure_code=\"10020\"} 2"),
        "{}",
        a.text
    );
    for code in [10027, 10028, 10029] {
        assert!(
            a.text.contains(&format!(
                "tollgate_gateway_refusals_total{{failure_code=\"{code}\"}} 0"
            )),
            "{}",
            a.text
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
