//! The way to the backends: the pooled hyper client with TLS for `https://` backends, and its
//! twin without a pool for retries ([`https_clients`]), the connector that checks every backend
//! address after DNS against `domain::gateway_bounds::NetworkRule` ([`Guarded`], refusals are
//! [`Refused`], code 10029), hop-by-hop headers, `X-Forwarded-*` and this node's `Via` entry on
//! the request sent ([`send`]), and the loop check on that entry ([`Gateway::looped`]).
//!
//! What a slow or failing backend may cost ([`send`], by the API version's
//! `domain::gateway_bounds::BackendLimits`): at most its bound of requests in flight on this
//! node ([`InFlight`], past it 503, 10035), each held from before the connection until the
//! response's body has been passed on; a connection within the connect timeout (DNS, TCP, TLS:
//! 504, 10033); the response's head within the response timeout, counted from the connection
//! (504, 10034). A connection reset or closed before the answer is retried once, on a fresh
//! connection, for an idempotent method with a body of at most 64 KiB
//! (`domain::gateway_bounds::retry_after_reset`); otherwise 502, 10025.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use domain::failure::FailureCode;
use domain::gateway_bounds::{BackendLimits, NetworkRule, RETRY_BODY_MAX, retry_after_reset};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use hyper_util::rt::TokioExecutor;
use service::gateway::{GatewayApi, GatewaySnapshot};

use crate::Gateway;
use crate::chain::Exchange;
use crate::errors::failure;

pub(crate) type HttpsClient = Client<HttpsConnector<Guarded>, Body>;

/// A backend address the gateway refused to connect to (failure code 10029).
#[derive(Debug)]
pub(crate) struct Refused(domain::gateway_bounds::Refusal);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message())
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// The refusal somewhere in an error's chain of sources, if any.
    pub(crate) fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
        let mut cur = Some(e);
        while let Some(e) = cur {
            if let Some(r) = e.downcast_ref::<Refused>() {
                return Some(r);
            }
            cur = e.source();
        }
        None
    }

    pub(crate) fn message(&self) -> &'static str {
        self.0.message()
    }
}

/// The TCP connector under TLS: resolves the backend's host itself, checks every address
/// against the [`NetworkRule`] and connects only to allowed ones, so a DNS name that resolves
/// to a refused address is refused too (and rebinding between check and connect is not
/// possible: the checked address is the one connected to).
#[derive(Clone)]
pub(crate) struct Guarded {
    inner: HttpConnector,
    rule: Arc<NetworkRule>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<axum::http::Uri> for Guarded {
    type Response = <HttpConnector as tower_service::Service<axum::http::Uri>>::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: axum::http::Uri) -> Self::Future {
        let mut inner = self.inner.clone();
        let rule = self.rule.clone();
        Box::pin(async move {
            let host = uri.host().ok_or("the backend URL has no host")?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
                Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
            };
            let mut refused = None;
            let mut failed: Option<BoxError> = None;
            for addr in addrs {
                if let Err(r) = service::gateway::check_address(&rule, addr) {
                    tracing::debug!(%host, %addr, reason = r.message(), "backend address refused");
                    refused.get_or_insert(r);
                    continue;
                }
                let target: axum::http::Uri = format!("http://{addr}").parse()?;
                match inner.call(target).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => failed = Some(e.into()),
                }
            }
            // A refused address says more than a failed connection to another one.
            Err(match (refused, failed) {
                (Some(r), _) => Box::new(Refused(r)),
                (None, Some(e)) => e,
                (None, None) => format!("{host} has no address").into(),
            })
        })
    }
}

/// The node's clients towards backends: the pooled one, and one without a pool, whose every
/// request opens a fresh connection (a retry after a reset must not meet another dead
/// connection of the pool).
pub(crate) fn https_clients(
    extra_roots: &[Vec<u8>],
    rule: Arc<NetworkRule>,
) -> (HttpsClient, HttpsClient) {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    for der in extra_roots {
        if let Err(e) = roots.add(rustls::pki_types::CertificateDer::from(der.clone())) {
            tracing::warn!(error = %e, "an extra root certificate was not accepted");
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let mut http = HttpConnector::new();
    // Each request's own connect timeout is its API version's ([`attempt`]); this one only
    // bounds a connection that goes on in the background once the pool served the request.
    http.set_connect_timeout(Some(Duration::from_millis(
        domain::gateway_bounds::MAX_CONNECT_TIMEOUT_MS,
    )));
    http.set_nodelay(true);
    http.enforce_http(false);
    let http = Guarded { inner: http, rule };
    let connector = match tls {
        Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http),
        Err(e) => {
            tracing::error!(error = %e, "TLS is not available; https:// backends will fail");
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .wrap_connector(http)
        }
    };
    let pooled = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector.clone());
    let fresh = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    (pooled, fresh)
}

/// Requests in flight towards each API version's backend on this node, by API version id;
/// kept across snapshot reloads, so that a reload never lets more through.
#[derive(Default)]
pub(crate) struct InFlight {
    by_api: RwLock<HashMap<i32, Arc<AtomicUsize>>>,
}

/// One request's place among its API version's requests in flight; given back when dropped.
pub(crate) struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InFlight {
    fn counter(&self, api: i32) -> Arc<AtomicUsize> {
        let read = self.by_api.read().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = read.get(&api) {
            return c.clone();
        }
        drop(read);
        let mut write = self.by_api.write().unwrap_or_else(|p| p.into_inner());
        write.entry(api).or_default().clone()
    }

    /// A place for one more request of API version `api`, unless its bound is reached.
    pub(crate) fn acquire(&self, api: i32, limits: &BackendLimits) -> Option<Permit> {
        let counter = self.counter(api);
        let mut now = counter.load(Ordering::Acquire);
        loop {
            if !limits.admits(now) {
                return None;
            }
            match counter.compare_exchange_weak(now, now + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(Permit(counter)),
                Err(actual) => now = actual,
            }
        }
    }

    /// Requests in flight towards every backend (`/metrics`).
    pub(crate) fn total(&self) -> usize {
        let read = self.by_api.read().unwrap_or_else(|p| p.into_inner());
        read.values().map(|c| c.load(Ordering::Acquire)).sum()
    }

    /// Forgets the counters of API versions the snapshot no longer serves, once idle.
    pub(crate) fn retain(&self, snapshot: &GatewaySnapshot) {
        let served: HashSet<i32> = snapshot.apis.values().map(|a| a.id).collect();
        let mut write = self.by_api.write().unwrap_or_else(|p| p.into_inner());
        write.retain(|id, c| served.contains(id) || c.load(Ordering::Acquire) > 0);
    }
}

/// A backend's response body that holds its request's [`Permit`] until it has been passed on
/// (or dropped): the connection stays busy until then.
struct Held {
    inner: Incoming,
    permit: Option<Permit>,
}

impl hyper::body::Body for Held {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = &polled {
            self.permit = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why one attempt at the backend failed.
enum Failed {
    ConnectTimeout,
    ResponseTimeout,
    /// The connection was reset or closed before the answer.
    Lost(hyper_util::client::legacy::Error),
    Other(hyper_util::client::legacy::Error),
}

/// Sends `request` with `client`: a connection within the connect timeout (a pooled one is
/// there at once), then the response's head within the response timeout.
async fn attempt(
    client: &HttpsClient,
    mut request: Request,
    limits: &BackendLimits,
) -> Result<axum::http::Response<Incoming>, Failed> {
    let mut connected = capture_connection(&mut request);
    let sent = client.request(request);
    tokio::pin!(sent);
    let until_connected = tokio::time::timeout(limits.connect_timeout, async {
        tokio::select! {
            biased;
            done = &mut sent => Some(done),
            _ = connected.wait_for_connection_metadata() => None,
        }
    });
    let done = match until_connected.await {
        Err(_) => return Err(Failed::ConnectTimeout),
        Ok(Some(done)) => done,
        Ok(None) => match tokio::time::timeout(limits.response_timeout, &mut sent).await {
            Err(_) => return Err(Failed::ResponseTimeout),
            Ok(done) => done,
        },
    };
    done.map_err(|e| {
        if connection_lost(&e) {
            Failed::Lost(e)
        } else {
            Failed::Other(e)
        }
    })
}

/// Whether an error says that an established connection was reset or closed before the
/// answer came (not a failed connect: a backend that refuses connections is not retried).
fn connection_lost(e: &hyper_util::client::legacy::Error) -> bool {
    use std::io::ErrorKind;
    if e.is_connect() {
        return false;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Hop-by-hop headers, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Joins several `Cookie` fields into one, with `; ` (RFC 9113, 8.2.3): HTTP/2 clients may send
/// one field per cookie, an HTTP/1.1 backend expects a single line.
fn join_cookies(headers: &mut HeaderMap) {
    let mut fields = headers.get_all(header::COOKIE).iter();
    if fields.next().is_none() || fields.next().is_none() {
        return;
    }
    let joined: Vec<&[u8]> = headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(v) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(header::COOKIE, v);
    }
}

impl Gateway {
    /// Whether a request already passed through this node (its `Via` names it).
    pub(crate) fn looped(&self, headers: &HeaderMap) -> bool {
        let ours = self.via.as_bytes();
        let ours = &ours[ours.iter().position(|b| *b == b' ').map_or(0, |i| i + 1)..];
        headers
            .get_all(header::VIA)
            .iter()
            .any(|v| v.as_bytes().windows(ours.len()).any(|w| w == ours))
    }
}

/// Sends the (policy-edited) request to the API version's backend at `endpoint`, within its
/// [`BackendLimits`].
pub(crate) async fn send(
    gw: &Gateway,
    target: &GatewayApi,
    endpoint: &str,
    ex: &Exchange,
    mut parts: axum::http::request::Parts,
    body: Body,
) -> Result<Response, Response> {
    let mut url = format!("{}{}", endpoint.trim_end_matches('/'), ex.rest);
    if ex.rest.is_empty() && endpoint.ends_with('/') {
        url.push('/');
    }
    if let Some(q) = &ex.query {
        url.push('?');
        url.push_str(q);
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return Err(failure(
            FailureCode::BackendFailed,
            "The API's endpoint is not a valid URL.",
        ));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(failure(
            FailureCode::BackendFailed,
            "The API's endpoint must be an http:// or https:// URL.",
        ));
    }
    // HTTP/2 clients name the host in `:authority` (the URI), which wins over a `Host` field
    // (RFC 9113 §8.3.1); HTTP/1.1 clients in `Host`.
    let host = parts
        .uri
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        .or_else(|| parts.headers.get(header::HOST).cloned());
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    // Whatever the client spoke (HTTP/2 too), backends are spoken to in HTTP/1.1; several
    // `Cookie` fields (as HTTP/2 sends them) become one line, as HTTP/1.1 wants.
    parts.version = axum::http::Version::HTTP_11;
    join_cookies(&mut parts.headers);
    let forwarded = match parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(prev) => format!("{prev}, {}", ex.peer),
        None => ex.peer.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&forwarded) {
        parts.headers.insert("x-forwarded-for", v);
    }
    parts.headers.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(if ex.https { "https" } else { "http" }),
    );
    // The host the client asked for, never the client's own `X-Forwarded-Host`.
    match host {
        Some(h) => parts.headers.insert("x-forwarded-host", h),
        None => parts.headers.remove("x-forwarded-host"),
    };
    parts.headers.append(header::VIA, gw.via.clone());
    parts.uri = uri;
    let limits = target.backend;
    // A body that can be sent again after a reset connection: kept in memory (at most 64 KiB).
    let (body, replay) = if retry_after_reset(&parts.method, body.size_hint().exact()) {
        match http_body_util::Limited::new(body, RETRY_BODY_MAX as usize)
            .collect()
            .await
        {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                (Body::from(bytes.clone()), Some(bytes))
            }
            Err(e) => {
                tracing::debug!(error = %e, "the request body could not be read");
                return Err(failure(
                    FailureCode::BackendFailed,
                    "The request body could not be read.",
                ));
            }
        }
    } else {
        (body, None)
    };
    // Read from the caller before taking a place: a slow upload of a body kept for a retry
    // holds no backend connection.
    let Some(permit) = gw.in_flight.acquire(target.id, &limits) else {
        return Err(failure(
            FailureCode::BackendBusy,
            "Too many requests are waiting on the API's backend; try again shortly.",
        ));
    };
    let again = replay.map(|bytes| {
        let mut r = Request::new(Body::from(bytes));
        *r.method_mut() = parts.method.clone();
        *r.uri_mut() = parts.uri.clone();
        *r.version_mut() = parts.version;
        *r.headers_mut() = parts.headers.clone();
        r
    });
    let first = attempt(&gw.client, Request::from_parts(parts, body), &limits).await;
    let outcome = match (first, again) {
        (Err(Failed::Lost(e)), Some(again)) => {
            tracing::info!(error = %e, "backend connection lost; sending the request once more on a fresh connection");
            gw.metrics.count_retry();
            attempt(&gw.fresh_client, again, &limits).await
        }
        (outcome, _) => outcome,
    };
    match outcome {
        Ok(res) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            let body = Held {
                inner: body,
                permit: Some(permit),
            };
            Ok(Response::from_parts(parts, Body::new(body)))
        }
        Err(Failed::ConnectTimeout) => Err(failure(
            FailureCode::BackendConnectTimeout,
            &format!(
                "No connection to the API's backend within {}.",
                duration_text(limits.connect_timeout)
            ),
        )),
        Err(Failed::ResponseTimeout) => Err(failure(
            FailureCode::BackendResponseTimeout,
            &format!(
                "The API's backend did not answer within {}.",
                duration_text(limits.response_timeout)
            ),
        )),
        Err(Failed::Lost(e) | Failed::Other(e)) => {
            if let Some(refused) = Refused::find(&e) {
                return Err(failure(
                    FailureCode::BackendRefused,
                    &format!(
                        "The gateway refuses to connect to the API's backend: {}.",
                        refused.message()
                    ),
                ));
            }
            tracing::warn!(error = %e, "backend request failed");
            Err(failure(
                FailureCode::BackendFailed,
                "The API's backend did not answer.",
            ))
        }
    }
}

/// A timeout for a message: `250 ms`, `5 s`, `1.5 s`.
fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_fields_become_one_line() {
        let mut h = HeaderMap::new();
        join_cookies(&mut h);
        assert!(h.is_empty());
        h.append(header::COOKIE, HeaderValue::from_static("a=1"));
        join_cookies(&mut h);
        assert_eq!(h.get_all(header::COOKIE).iter().count(), 1);
        assert_eq!(h[header::COOKIE], "a=1");
        h.append(header::COOKIE, HeaderValue::from_static("b=2; c=3"));
        h.append(header::COOKIE, HeaderValue::from_static("d=4"));
        join_cookies(&mut h);
        assert_eq!(h.get_all(header::COOKIE).iter().count(), 1);
        assert_eq!(h[header::COOKIE], "a=1; b=2; c=3; d=4");
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("5"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
    }

    #[test]
    fn timeouts_read_well() {
        assert_eq!(duration_text(Duration::from_millis(250)), "250 ms");
        assert_eq!(duration_text(Duration::from_secs(5)), "5 s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn in_flight_requests_are_bounded_per_api_version() {
        let in_flight = InFlight::default();
        let limits = BackendLimits::of(None, None, Some(2));
        let a = in_flight.acquire(1, &limits).unwrap();
        let _b = in_flight.acquire(1, &limits).unwrap();
        assert!(in_flight.acquire(1, &limits).is_none());
        // Another API version counts on its own.
        let _c = in_flight.acquire(2, &limits).unwrap();
        assert_eq!(in_flight.total(), 3);
        drop(a);
        assert!(in_flight.acquire(1, &limits).is_some());
        assert_eq!(in_flight.total(), 2);
        // A counter with requests in flight outlives its API version's removal.
        in_flight.retain(&GatewaySnapshot::default());
        assert_eq!(in_flight.by_api.read().unwrap().len(), 2);
    }
}
