//! The serving loop for a listener: HTTP/1.1 with a deadline for the request headers (so a
//! client that trickles them in, "slowloris", cannot hold a connection and a task forever), the
//! peer address for each request (`ConnectInfo`), and a graceful shutdown in which in-flight
//! requests finish, within a grace period (`TOLLGATE_SHUTDOWN_GRACE`). The management listener
//! and the gateway listener share it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a kept-alive connection stays open after the signal, for a request on its way.
pub const LINGER: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and waits for the
/// open connections to finish their requests, at most `grace`. The connections the system had
/// already accepted (the listen backlog) are served too, one request each: a client whose
/// connection was accepted before the signal gets its answer. A kept-alive connection is not
/// closed under a request that may be on its way: its next request, within [`LINGER`], is
/// answered with `Connection: close`, and only then (or after [`LINGER`] without one) does it
/// close. A connection whose request headers are not complete `header_read_timeout` after they
/// began is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    // Every connection holds a receiver; shutting down sends on it and waits until all are gone.
    let (stop, stopped) = tokio::sync::watch::channel(());
    // Once stopping, every answer says `Connection: close`.
    let draining = Arc::new(AtomicBool::new(false));
    let app = app.layer(axum::middleware::map_response({
        let draining = draining.clone();
        move |mut res: axum::response::Response| {
            let draining = draining.clone();
            async move {
                if draining.load(Ordering::Relaxed) {
                    res.headers_mut().insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                }
                res
            }
        }
    }));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        spawn_connection(&http, &app, stream, peer, stopped.clone(), true);
    }
    draining.store(true, Ordering::Relaxed);
    // The backlog: connections the system accepted before the signal, served one request each.
    let mut last = http.clone();
    last.keep_alive(false);
    let mut drained = 0usize;
    while let Ok((stream, peer)) = std::future::poll_fn(|cx| match listener.poll_accept(cx) {
        std::task::Poll::Pending => std::task::Poll::Ready(Err(())),
        std::task::Poll::Ready(r) => std::task::Poll::Ready(r.map_err(|_| ())),
    })
    .await
    {
        drained += 1;
        spawn_connection(&last, &app, stream, peer, stopped.clone(), false);
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(());
    let open = stop.receiver_count();
    tracing::info!(
        open,
        backlog = drained,
        grace_seconds = grace.as_secs(),
        "stopped accepting; draining connections"
    );
    if tokio::time::timeout(grace, stop.closed()).await.is_err() {
        tracing::warn!(
            open = stop.receiver_count(),
            "the shutdown grace period ended; closing the remaining connections"
        );
    }
    Ok(())
}

/// Serves one connection in its own task, which holds `stopped` until it ends (the shutdown
/// waits for every holder). `graceful`: shut down gracefully when the listener stops (the
/// request in flight finishes); else it serves one request anyway.
fn spawn_connection(
    http: &hyper::server::conn::http1::Builder,
    app: &Router,
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    mut stopped: tokio::sync::watch::Receiver<()>,
    graceful: bool,
) {
    let service = app.clone().map_request(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let conn = http
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::spawn(async move {
        let mut conn = std::pin::pin!(conn);
        let ended = if graceful {
            tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stopped.changed() => {
                    // A request may be on its way: answer it (with `Connection: close`), then
                    // the connection ends by itself; an idle one is closed after LINGER.
                    match tokio::time::timeout(LINGER, conn.as_mut()).await {
                        Ok(ended) => ended,
                        Err(_) => {
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    }
                }
            }
        } else {
            conn.await
        };
        drop(stopped);
        if let Err(e) = ended {
            tracing::debug!(error = %e, %peer, "connection ended with an error");
        }
    });
}
