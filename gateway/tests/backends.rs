//! Slow and failing backends, on real sockets: a backend that accepts and never answers gets
//! 504 (10034) within the API version's response timeout; one that cannot be connected to gets
//! 504 (10033) within the connect timeout; a hanging backend holds at most the API version's
//! bound of requests, the rest answer 503 (10035) at once while the node's memory stays flat;
//! a backend that resets the connection gets an idempotent request once more on a fresh
//! connection, and a POST not at all (502, 10025).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A public API on a backend, with its backend limits (`None`: the default).
struct Api {
    name: &'static str,
    endpoint: String,
    connect_ms: Option<u64>,
    response_ms: Option<u64>,
    concurrency: Option<u32>,
}

impl Api {
    fn on(name: &'static str, backend: SocketAddr) -> Api {
        Api {
            name,
            endpoint: format!("http://{backend}/v1"),
            connect_ms: None,
            response_ms: None,
            concurrency: None,
        }
    }
}

/// Organization Acme with `apis` (version 1.0 each), published; a node serving them. Returns
/// the node's address, the node and the database folder.
async fn node_with(
    test: &str,
    apis: &[Api],
) -> (SocketAddr, Arc<gateway::Gateway>, std::path::PathBuf) {
    let (dir, url) = sqlite_url(test);
    let db = support::connect(&url).await;
    let ctx = signed_up(&db, "ops@example.com").await;
    let org = service::organizations::NewOrganization {
        name: "Acme".into(),
        description: String::new(),
    };
    service::organizations::create(&db, &ctx, org)
        .await
        .unwrap();
    for api in apis {
        let implementation = service::apis::Implementation {
            connect_timeout_ms: api.connect_ms,
            response_timeout_ms: api.response_ms,
            max_concurrent_requests: api.concurrency,
            ..public_implementation(&api.endpoint)
        };
        publish_api(&db, &ctx, api.name, implementation, &[]).await;
    }
    let gw = gateway::Gateway::start(db).await.unwrap();
    (serve(gw.clone()).await, gw, dir)
}

/// Connections a raw backend accepted, and how many of them are still open.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    open: AtomicUsize,
}

/// A backend that accepts connections, reads whatever comes and never answers.
async fn silent_backend() -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            counts.accepted.fetch_add(1, Ordering::SeqCst);
            counts.open.fetch_add(1, Ordering::SeqCst);
            let counts = counts.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                counts.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, seen)
}

/// Reads one request: its head, and its body by `Content-Length`. `None` when the connection
/// ends first.
async fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some((head, data[head_end..head_end + length].to_vec()))
}

/// A backend that resets its first `resets` connections once it has read the request on them
/// (`SO_LINGER` 0, then close: an RST), and answers on the others with the method and body it
/// received. Counts the connections.
async fn resetting_backend(resets: usize) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let n = counts.accepted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut s).await else {
                    return;
                };
                if n < resets {
                    s.set_zero_linger().unwrap();
                    drop(s);
                    return;
                }
                let method = head.split(' ').next().unwrap_or("").to_owned();
                let answer = format!("{method} {}", String::from_utf8_lossy(&body));
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, seen)
}

fn request(method: &str, url: String, body: &str) -> axum::http::Request<Body> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// The node's `/metrics` value of `series` (served on an admin listener of its own).
async fn metric(gw: &Arc<gateway::Gateway>, series: &str) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gateway::admin_router(gw.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let a = send(
        &http(),
        request("GET", format!("http://{addr}/metrics"), ""),
    )
    .await;
    server.abort();
    a.text
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
}

/// This process's resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(5), "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_backend_that_never_answers_gets_504_within_the_response_timeout() {
    let (backend, seen) = silent_backend().await;
    let api = Api {
        response_ms: Some(400),
        ..Api::on("Silent", backend)
    };
    let (gw, _node, dir) = node_with("backends-response-timeout", &[api]).await;
    let http = http();
    for method in ["GET", "POST"] {
        let started = Instant::now();
        let a = send(
            &http,
            request(method, format!("http://{gw}/Acme/Silent/1.0/x"), "{}"),
        )
        .await;
        let took = started.elapsed();
        println!("{method} to a silent backend, response timeout 400 ms: {took:?}");
        assert_eq!(a.status, StatusCode::GATEWAY_TIMEOUT, "{}", a.text);
        assert_eq!(a.body["failureCode"], 10034, "{}", a.text);
        assert_eq!(
            a.header("x-gateway-error"),
            a.body["message"].as_str().unwrap()
        );
        assert!(a.text.contains("400 ms"), "{}", a.text);
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_millis(1400), "{took:?}");
    }
    // Timed out is not retried; and the gateway let go of the connections it gave up on.
    assert_eq!(seen.accepted.load(Ordering::SeqCst), 2);
    wait_until("the timed-out connections are closed", || {
        seen.open.load(Ordering::SeqCst) == 0
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_backend_that_cannot_be_connected_to_gets_504_within_the_connect_timeout() {
    // A listener whose accept queue is full and that never accepts: Linux drops further SYNs
    // (whatever `tcp_syncookies` says), so a connect to it hangs until the client gives up —
    // on loopback, without depending on how an unroutable address is routed here.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => break,
        }
        assert!(fillers.len() < 64, "the accept queue never filled");
    }
    let full = Api {
        connect_ms: Some(300),
        ..Api::on("Full", addr)
    };
    let (gw, _node, dir) = node_with(
        "backends-connect-timeout",
        &[full, Api::on("Default", addr)],
    )
    .await;
    let started = Instant::now();
    let a = send(
        &http(),
        request("GET", format!("http://{gw}/Acme/Full/1.0/x"), ""),
    )
    .await;
    let took = started.elapsed();
    println!("GET to a full accept queue, connect timeout 300 ms: {took:?}");
    assert_eq!(a.status, StatusCode::GATEWAY_TIMEOUT, "{}", a.text);
    assert_eq!(a.body["failureCode"], 10033, "{}", a.text);
    assert!(a.text.contains("300 ms"), "{}", a.text);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1300), "{took:?}");
    // The default is 5 s.
    let started = Instant::now();
    let a = send(
        &http(),
        request("GET", format!("http://{gw}/Acme/Default/1.0/x"), ""),
    )
    .await;
    let took = started.elapsed();
    println!("GET to a full accept queue, default connect timeout: {took:?}");
    assert_eq!(a.body["failureCode"], 10033, "{}", a.text);
    assert!(a.text.contains("5 s"), "{}", a.text);
    assert!(took >= Duration::from_secs(5), "{took:?}");
    assert!(took < Duration::from_secs(7), "{took:?}");
    drop(fillers);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_hanging_backend_holds_at_most_its_bound_of_requests() {
    const BOUND: usize = 3;
    let (backend, seen) = silent_backend().await;
    let api = Api {
        response_ms: Some(8_000),
        concurrency: Some(BOUND as u32),
        ..Api::on("Hanging", backend)
    };
    let (gw, node, dir) = node_with("backends-concurrency", &[api]).await;
    let url = format!("http://{gw}/Acme/Hanging/1.0/x");
    // BOUND requests wait on the backend…
    let waiting: Vec<_> = (0..BOUND)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { send(&http(), request("GET", url, "")).await })
        })
        .collect();
    wait_until("the bound's requests reach the backend", || {
        seen.accepted.load(Ordering::SeqCst) == BOUND
    })
    .await;
    assert_eq!(
        metric(&node, "tollgate_gateway_backend_in_flight").await,
        BOUND as f64
    );
    // …and the next one is refused at once.
    let started = Instant::now();
    let a = send(&http(), request("GET", url.clone(), "")).await;
    println!(
        "request {} to a hanging backend with bound {BOUND}: {} in {:?}",
        BOUND + 1,
        a.status,
        started.elapsed()
    );
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert_eq!(a.body["failureCode"], 10035, "{}", a.text);
    assert!(started.elapsed() < Duration::from_millis(500));

    // Many more, 50 at a time: every one refused, no new connection to the backend, and the
    // node's memory flat (measured after a first round, once allocator and pools are warm).
    let client = http();
    let refuse = |rounds: usize| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            for _ in 0..rounds {
                let batch: Vec<_> = (0..50)
                    .map(|_| {
                        let (client, url) = (client.clone(), url.clone());
                        tokio::spawn(
                            async move { send(&client, request("GET", url, "")).await.status },
                        )
                    })
                    .collect();
                for status in batch {
                    assert_eq!(status.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
                }
            }
        }
    };
    refuse(10).await;
    let before = rss_kib();
    let started = Instant::now();
    refuse(40).await;
    let after = rss_kib();
    println!(
        "2,000 more refused requests in {:?}: resident memory {before} KiB before, {after} KiB after (+{} KiB)",
        started.elapsed(),
        after.saturating_sub(before)
    );
    assert!(after < before + 8 * 1024, "{before} KiB → {after} KiB");
    assert_eq!(seen.accepted.load(Ordering::SeqCst), BOUND);
    assert_eq!(
        metric(&node, "tollgate_gateway_backend_in_flight").await,
        BOUND as f64
    );
    assert_eq!(
        metric(
            &node,
            "tollgate_gateway_refusals_total{failure_code=\"10035\"}"
        )
        .await,
        2_501.0
    );

    // The waiting ones end with their response timeout, and give their places back.
    for w in waiting {
        let a = w.await.unwrap();
        assert_eq!(
            (a.status, a.body["failureCode"].as_i64()),
            (StatusCode::GATEWAY_TIMEOUT, Some(10034))
        );
    }
    assert_eq!(
        metric(&node, "tollgate_gateway_backend_in_flight").await,
        0.0
    );
    wait_until("the backend's connections are closed", || {
        seen.open.load(Ordering::SeqCst) == 0
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_reset_connection_is_retried_once_for_idempotent_methods_only() {
    // Each case on a backend of its own that resets the first `resets` connections.
    struct Case {
        api: &'static str,
        method: &'static str,
        body: &'static str,
        resets: usize,
        status: StatusCode,
        code: Option<i64>,
        connections: usize,
    }
    let (ok, failed) = (StatusCode::OK, StatusCode::BAD_GATEWAY);
    #[rustfmt::skip]
    let cases = [
        // An idempotent request is sent once more, on a fresh connection, body and all.
        Case { api: "Get", method: "GET", body: "", resets: 1, status: ok, code: None, connections: 2 },
        Case { api: "Put", method: "PUT", body: r#"{"id":7}"#, resets: 1, status: ok, code: None, connections: 2 },
        Case { api: "Delete", method: "DELETE", body: "", resets: 1, status: ok, code: None, connections: 2 },
        // Once only.
        Case { api: "Twice", method: "GET", body: "", resets: 2, status: failed, code: Some(10025), connections: 2 },
        // A POST may have been acted upon: never sent again.
        Case { api: "Post", method: "POST", body: r#"{"n":1}"#, resets: 1, status: failed, code: Some(10025), connections: 1 },
    ];
    let mut backends = Vec::new();
    let mut apis = Vec::new();
    for case in &cases {
        let (addr, seen) = resetting_backend(case.resets).await;
        backends.push(seen);
        apis.push(Api::on(case.api, addr));
    }
    let (gw, node, dir) = node_with("backends-reset", &apis).await;
    let mut retried = 0;
    for (case, seen) in cases.iter().zip(&backends) {
        let (method, name, body) = (case.method, case.api, case.body);
        let a = send(
            &http(),
            request(method, format!("http://{gw}/Acme/{name}/1.0/x"), body),
        )
        .await;
        assert_eq!(a.status, case.status, "{method} {name}: {}", a.text);
        assert_eq!(a.body["failureCode"].as_i64(), case.code, "{method} {name}");
        if case.status == StatusCode::OK {
            assert_eq!(a.text, format!("{method} {body}"));
        }
        // Nothing else comes later.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            seen.accepted.load(Ordering::SeqCst),
            case.connections,
            "{method} {name}"
        );
        retried += usize::from(method != "POST");
        println!(
            "{method} on a backend that resets {} connection(s): {} after {} connection(s)",
            case.resets, a.status, case.connections
        );
    }
    assert_eq!(
        metric(&node, "tollgate_gateway_backend_retries_total").await,
        retried as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}
