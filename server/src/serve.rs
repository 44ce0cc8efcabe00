//! The serving loop for a listener: HTTP/1.1 and HTTP/2 (prior-knowledge h2c on a plain
//! listener, ALPN `h2` over TLS), optionally behind TLS ([`crate::tls`]), with a deadline for
//! the TLS handshake and the first bytes and for every HTTP/1 request's headers (so a client
//! that trickles them in, "slowloris", cannot hold a connection and a task forever), bounds on
//! HTTP/2 streams and header lists, the peer address for each request (`ConnectInfo`), and a
//! graceful shutdown in which in-flight requests finish, within a grace period
//! (`TOLLGATE_SHUTDOWN_GRACE`). The management listener and the gateway listener share it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::tls::Tls;

/// How long a kept-alive connection stays open after the signal, for a request on its way.
pub const LINGER: Duration = Duration::from_secs(1);

/// The most streams one HTTP/2 connection may have open at once.
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 100;

/// The largest HTTP/2 header list (names and values, plus 32 bytes a field) a request may have.
pub const H2_MAX_HEADER_LIST_BYTES: u32 = 32 << 10;

/// How often an HTTP/2 connection is pinged, and how long the answer may take.
pub const H2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// What an HTTP/2 connection's first bytes are.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `app` on `listener` in plain HTTP (HTTP/1.1 or prior-knowledge HTTP/2): see
/// [`serve_with`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    serve_with(listener, app, header_read_timeout, None, shutdown, grace).await
}

/// Serves `app` on `listener` (behind `tls` when given) until `shutdown` resolves, then stops
/// accepting and waits for the open connections to finish their requests, at most `grace`.
/// The connections the system had already accepted (the listen backlog) are served too, one
/// HTTP/1 request each (an HTTP/2 one is told to go away at once, and its requests already
/// sent are answered): a client whose connection was accepted before the signal gets its
/// answer. A kept-alive HTTP/1 connection is not closed under a request that may be on its way:
/// its next request, within [`LINGER`], is answered with `Connection: close`, and only then (or
/// after [`LINGER`] without one) does it close; an HTTP/2 connection gets a GOAWAY, and the
/// streams it had opened finish. A connection whose TLS handshake and first bytes, or whose
/// HTTP/1 request headers, are not complete `header_read_timeout` after they began is closed;
/// so is an HTTP/2 connection without an open stream for as long.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    // Every connection holds a receiver; shutting down sends on it and waits until all are gone.
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
        .max_header_list_size(H2_MAX_HEADER_LIST_BYTES)
        .keep_alive_interval(H2_KEEP_ALIVE)
        .keep_alive_timeout(H2_KEEP_ALIVE);
    let mut shared = Shared {
        app,
        tls,
        header_read_timeout,
        http1,
        http2,
        // Once stopping, every HTTP/1 answer says `Connection: close`.
        draining: Arc::new(AtomicBool::new(false)),
        graceful: true,
    };
    let live = Arc::new(shared.clone());
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
        spawn_connection(&live, stream, peer, stopped.clone());
    }
    shared.draining.store(true, Ordering::Relaxed);
    // The backlog: connections the system accepted before the signal, served one request each.
    shared.http1.keep_alive(false);
    shared.graceful = false;
    let last = Arc::new(shared);
    let mut drained = 0usize;
    while let Ok((stream, peer)) = std::future::poll_fn(|cx| match listener.poll_accept(cx) {
        Poll::Pending => Poll::Ready(Err(())),
        Poll::Ready(r) => Poll::Ready(r.map_err(|_| ())),
    })
    .await
    {
        drained += 1;
        spawn_connection(&last, stream, peer, stopped.clone());
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

/// What every connection of a listener shares.
#[derive(Clone)]
struct Shared {
    app: Router,
    tls: Option<Tls>,
    header_read_timeout: Duration,
    http1: hyper::server::conn::http1::Builder,
    http2: hyper::server::conn::http2::Builder<TokioExecutor>,
    draining: Arc<AtomicBool>,
    /// Shut down gracefully when the listener stops (the request in flight finishes); `false`
    /// for the backlog, whose connections serve one request anyway.
    graceful: bool,
}

/// Serves one connection in its own task, which holds `stopped` until it ends (the shutdown
/// waits for every holder).
fn spawn_connection(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    stopped: tokio::sync::watch::Receiver<()>,
) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let ended = serve_connection(&shared, stream, peer, stopped).await;
        if let Err(e) = ended {
            tracing::debug!(error = %e, %peer, "connection ended with an error");
        }
    });
}

async fn serve_connection(
    shared: &Shared,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    mut stopped: tokio::sync::watch::Receiver<()>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (io, h2) = tokio::time::timeout(shared.header_read_timeout, open(shared, stream))
        .await
        .map_err(|_| "no TLS handshake or first bytes in time")??;
    let tls = shared.tls.is_some();
    let activity = Arc::new(Activity::new());
    let service = {
        let (app, draining) = (shared.app.clone(), shared.draining.clone());
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if tls {
                req.extensions_mut().insert(gateway::ClientTls);
            }
            let busy = h2.then(|| activity.begin());
            let (app, draining) = (app.clone(), draining.clone());
            async move {
                let Ok(mut res) = app.oneshot(req).await;
                match busy {
                    // HTTP/2 has no `Connection` header: GOAWAY says it.
                    Some(busy) => {
                        res = res.map(|body| {
                            Body::new(body.map_frame(move |frame| {
                                let _open_until_the_body_ends = &busy;
                                frame
                            }))
                        });
                    }
                    None if draining.load(Ordering::Relaxed) => {
                        res.headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    None => {}
                }
                Ok::<_, Infallible>(res)
            }
        })
    };
    let io = TokioIo::new(io);
    if h2 {
        let conn = shared.http2.serve_connection(io, service);
        let mut conn = std::pin::pin!(conn);
        if !shared.graceful {
            conn.as_mut().graceful_shutdown();
            conn.await?;
            return Ok(());
        }
        tokio::select! {
            ended = conn.as_mut() => ended?,
            _ = stopped.changed() => {
                conn.as_mut().graceful_shutdown();
                conn.await?;
            }
            () = activity.idle(shared.header_read_timeout) => {
                conn.as_mut().graceful_shutdown();
                // A peer that never acknowledges the GOAWAY's PING (or never finishes the
                // HTTP/2 handshake) would keep the connection open, and may go on opening
                // streams: once it has had no open request for as long again, it is dropped.
                activity.restart();
                tokio::select! {
                    ended = conn.as_mut() => ended?,
                    () = activity.idle(shared.header_read_timeout) => {}
                }
            }
        }
        return Ok(());
    }
    let conn = shared.http1.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    if !shared.graceful {
        conn.await?;
        return Ok(());
    }
    tokio::select! {
        ended = conn.as_mut() => ended?,
        _ = stopped.changed() => {
            // A request may be on its way: answer it (with `Connection: close`), then the
            // connection ends by itself; an idle one is closed after LINGER.
            match tokio::time::timeout(LINGER, conn.as_mut()).await {
                Ok(ended) => ended?,
                Err(_) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await?;
                }
            }
        }
    }
    Ok(())
}

/// The TLS handshake (when the listener has TLS) and the protocol: `h2` by ALPN, else by the
/// first bytes (the HTTP/2 preface, or anything else for HTTP/1).
async fn open(shared: &Shared, stream: TcpStream) -> std::io::Result<(Io, bool)> {
    let mut stream = match &shared.tls {
        None => Stream::Plain(stream),
        Some(tls) => {
            let stream = tokio_rustls::TlsAcceptor::from(tls.config())
                .accept(stream)
                .await?;
            let alpn_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let mut stream = Stream::Tls(Box::new(stream));
            if alpn_h2 {
                // The preface, too, within the deadline: hyper's HTTP/2 handshake has none.
                let (prefix, h2) = sniff(&mut stream).await?;
                if !h2 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "ALPN h2 without the HTTP/2 preface",
                    ));
                }
                return Ok((
                    Io {
                        prefix,
                        read: 0,
                        stream,
                    },
                    true,
                ));
            }
            stream
        }
    };
    let (prefix, h2) = sniff(&mut stream).await?;
    Ok((
        Io {
            prefix,
            read: 0,
            stream,
        },
        h2,
    ))
}

/// Reads until the bytes differ from the HTTP/2 preface or are all of it: what was read, and
/// whether it is HTTP/2.
async fn sniff(stream: &mut Stream) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf = [0u8; H2_PREFACE.len()];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            if filled == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            return Ok((buf[..filled].to_vec(), false));
        }
        filled += n;
        if buf[..filled] != H2_PREFACE[..filled] {
            return Ok((buf[..filled].to_vec(), false));
        }
        if filled == H2_PREFACE.len() {
            return Ok((buf.to_vec(), true));
        }
    }
}

/// When an HTTP/2 connection last had nothing to do, and how many responses it has open.
struct Activity {
    open: AtomicUsize,
    since: Mutex<Instant>,
}

/// One open request on an HTTP/2 connection, until its response body is done or dropped.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Self {
            open: AtomicUsize::new(0),
            since: Mutex::new(Instant::now()),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.open.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Counts the idle time from now.
    fn restart(&self) {
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Option<Duration> {
        let since = *self.since.lock().unwrap_or_else(|e| e.into_inner());
        (self.open.load(Ordering::SeqCst) == 0).then(|| since.elapsed())
    }

    /// Resolves once the connection has had no open request for `limit`.
    async fn idle(&self, limit: Duration) {
        loop {
            let wait = match self.idle_for() {
                Some(idle) if idle >= limit => return,
                Some(idle) => limit - idle,
                None => limit,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A client connection, in clear or in TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// A connection whose first bytes (read to tell HTTP/2 from HTTP/1) are read again first.
struct Io {
    prefix: Vec<u8>,
    read: usize,
    stream: Stream,
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        if me.read < me.prefix.len() {
            let n = buf.remaining().min(me.prefix.len() - me.read);
            buf.put_slice(&me.prefix[me.read..me.read + n]);
            me.read += n;
            if me.read == me.prefix.len() {
                me.prefix = Vec::new();
                me.read = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut me.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_preface_tells_http2_from_http1() {
        for (sent, h2) in [
            (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], false),
            (b"PRI * HTTP/1.1\r\n", false),
            (b"POST / HTTP/1.1\r\n", false),
            (&H2_PREFACE[..], true),
        ] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut c = TcpStream::connect(addr).await.unwrap();
                // Byte by byte: the sniffer reads until it knows.
                for b in sent {
                    c.write_all(&[*b]).await.unwrap();
                    c.flush().await.unwrap();
                }
                c
            });
            let (stream, _) = listener.accept().await.unwrap();
            let _client = client.await.unwrap();
            let mut stream = Stream::Plain(stream);
            let (prefix, is_h2) = sniff(&mut stream).await.unwrap();
            assert_eq!(is_h2, h2, "{sent:?}");
            assert!(sent.starts_with(&prefix) && !prefix.is_empty());
            // What was read comes again first.
            let mut io = Io {
                prefix,
                read: 0,
                stream,
            };
            let mut again = vec![0u8; sent.len()];
            io.read_exact(&mut again).await.unwrap();
            assert_eq!(again, sent);
        }
    }
}
