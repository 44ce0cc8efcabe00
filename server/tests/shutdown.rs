//! SIGTERM under load: a gateway node (`server gateway`, its own process) serves a public API in
//! front of a real backend that takes 20 ms per request, under a steady load of new connections;
//! SIGTERM arrives mid-load. Every request whose connection was accepted before the node stopped
//! listening gets its 200 (in-flight requests finish, and so do the connections still waiting in
//! the listen backlog); the node then exits on its own, well within `TOLLGATE_SHUTDOWN_GRACE`.
//! The figures are printed (`--nocapture`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::process::{free_port, http};
use common::{Backend, TestApp};

const OWNER: &str = "kim@example.com";
const WORKERS: usize = 8;

/// A backend that answers every request with "ok" after 20 ms.
async fn backend() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        "ok"
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    /// Connected, but no 200: a failure.
    failed: AtomicU64,
    /// Refused at connect after the signal: never accepted.
    refused_after: AtomicU64,
    /// Refused at connect before the signal: a failure.
    refused_before: AtomicU64,
    /// Answered 200 after the signal was sent.
    ok_after: AtomicU64,
}

async fn sigterm_under_load(backend_kind: Backend) {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let Some(mut app) = TestApp::new(backend_kind).await else {
        return;
    };
    let upstream = backend().await;
    common::public_orders_api(&mut app, OWNER, upstream).await;

    let port = free_port();
    let mut node = common::process::server_command(&app.url)
        .arg("gateway")
        .env("TOLLGATE_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("TOLLGATE_GATEWAY_ADMIN_LISTEN", "off")
        .env("TOLLGATE_SHUTDOWN_GRACE", "10")
        .spawn()
        .expect("a gateway node starts");
    let path = "/Shop/Orders/1.0/orders";
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _, _)) = http(port, "GET", path, &[], None).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not serve the API within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let tally = Arc::new(Tally::default());
    let signalled = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (tally, signalled) = (tally.clone(), signalled.clone());
            tokio::spawn(async move {
                loop {
                    match http(port, "GET", path, &[], None).await {
                        Ok((200, _, _)) => {
                            tally.ok.fetch_add(1, Ordering::SeqCst);
                            if signalled.load(Ordering::SeqCst) {
                                tally.ok_after.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        // Only a closed listener refuses, and it closes after the signal.
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                            if signalled.load(Ordering::SeqCst) {
                                tally.refused_after.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            tally.refused_before.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {
                            tally.failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = Instant::now();
    signalled.store(true, Ordering::SeqCst);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || node.wait())
        .await
        .unwrap()
        .unwrap();
    let drained = sent.elapsed();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("the load stops once the node is gone")
            .unwrap();
    }
    let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
    println!(
        "SIGTERM under load ({backend_kind:?}): {} answered 200 ({} of them after the signal), {} failed, {} refused before the signal, {} refused after it; the node exited in {} ms ({exit})",
        get(&tally.ok),
        get(&tally.ok_after),
        get(&tally.failed),
        get(&tally.refused_before),
        get(&tally.refused_after),
        drained.as_millis(),
    );
    assert!(exit.success(), "the node exits cleanly: {exit}");
    assert_eq!(
        get(&tally.failed),
        0,
        "a request accepted before the signal failed"
    );
    assert_eq!(get(&tally.refused_before), 0);
    assert!(get(&tally.ok) > 50, "the load ran");
    assert!(
        drained < Duration::from_secs(10),
        "drained within the grace period"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_fails_no_accepted_request() {
    common::within_limit(sigterm_under_load(Backend::Sqlite)).await;
}
