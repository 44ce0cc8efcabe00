//! Bounds on what a client may send the management listener, through a real TCP listener served
//! by `server::serve::serve` (short timeouts here; the defaults are in `RequestBounds`).

mod common;

use std::time::{Duration, Instant};

use app::api::auth::CurrentUser;
use leptos::server_fn::ServerFn;
use server::config::RequestBounds;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDS: RequestBounds = RequestBounds {
    max_body_bytes: 2 << 20,
    header_read_timeout: Duration::from_millis(500),
    body_read_timeout: Duration::from_millis(500),
    api_requests_per_minute: server::rest::DEFAULT_REQUESTS_PER_MINUTE,
};

/// Serves the app on a fresh local port until the test ends; returns its address.
async fn listen(app: &mut common::TestApp) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router_with(BOUNDS);
    tokio::spawn(server::serve::serve(
        listener,
        router,
        BOUNDS.header_read_timeout,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    addr
}

/// Reads until the connection closes (or 5 s pass) and returns what came.
async fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn server_fn_head(extra: &str) -> String {
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nConnection: close\r\n{extra}\r\n",
        CurrentUser::PATH,
        common::HOST,
        common::ORIGIN
    )
}

on_both!(headers_that_never_finish_are_cut_off, |app| {
    let addr = listen(&mut app).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    // One more header line every 100 ms, never the blank line that ends them.
    let mut closed = false;
    for i in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if slow
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        let mut buf = [0u8; 1024];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await
        {
            closed = true;
            break;
        }
    }
    let after = started.elapsed();
    assert!(closed, "the connection was still open after {after:?}");
    assert!(
        after >= Duration::from_millis(400) && after < Duration::from_secs(2),
        "closed after {after:?}"
    );

    // A normal request on the same listener is answered.
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut ok).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
});

on_both!(a_3_mib_server_function_body_gets_413, |app| {
    let addr = listen(&mut app).await;
    let body = "a=".to_owned() + &"x".repeat(3 << 20);

    // Declared up front: refused before the body is read.
    let mut declared = TcpStream::connect(addr).await.unwrap();
    declared
        .write_all(server_fn_head(&format!("Content-Length: {}\r\n", body.len())).as_bytes())
        .await
        .unwrap();
    let answer = read_all(&mut declared).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 2 MB are accepted"), "{answer}");

    // Chunked, with no length given: refused once 2 MiB have arrived.
    let mut chunked = TcpStream::connect(addr).await.unwrap();
    chunked
        .write_all(server_fn_head("Transfer-Encoding: chunked\r\n").as_bytes())
        .await
        .unwrap();
    let (mut read, mut write) = chunked.into_split();
    let sender = tokio::spawn(async move {
        for piece in body.as_bytes().chunks(64 << 10) {
            let chunk = format!("{:x}\r\n", piece.len());
            if write.write_all(chunk.as_bytes()).await.is_err()
                || write.write_all(piece).await.is_err()
                || write.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), read.read_to_end(&mut out)).await;
    let answer = String::from_utf8_lossy(&out);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    sender.abort();

    // A small server-function call still works.
    let mut small = TcpStream::connect(addr).await.unwrap();
    small
        .write_all(server_fn_head("Content-Length: 0\r\n").as_bytes())
        .await
        .unwrap();
    let answer = read_all(&mut small).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
});

on_both!(a_body_that_never_arrives_gets_408, |app| {
    let addr = listen(&mut app).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(server_fn_head("Content-Length: 100\r\n").as_bytes())
        .await
        .unwrap();
    stream.write_all(b"a=1").await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
});
