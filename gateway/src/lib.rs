//! Tollgate's gateway: `/{org}/{api}/{version}/{rest}` proxied to the API version's endpoint,
//! through the policy chain Client → Plan → API.
//!
//! The request path never touches the database. Each node serves from an immutable
//! [`GatewaySnapshot`] behind an `RwLock<Arc<_>>`, swapped whole; [`Gateway::watch`] polls the
//! database's change counter every 250 ms and reloads when it moved, so a publish, retire,
//! register, unregister or break reaches every node within a second. When the database cannot
//! be read, the node keeps serving its last snapshot.
//!
//! Where things are:
//! - this file: the node ([`Gateway`]), its options, the snapshot watcher, the router, the
//!   gateway's own error answers and the Prometheus counters;
//! - `proxy`: one request from path to backend and back (keys, contracts, forwarding);
//! - `chain`: the policies of a request, forward on the request and in reverse on the response;
//! - `limits`: rate-limit and quota counters (local, persisted in batches, or shared in Redis);
//! - `recorder`: per-request metrics, batched into per-minute rollups;
//! - `cache`: responses kept by the Caching Resources policy.
//!
//! Gateway errors answer JSON `{"responseCode", "failureCode", "message"}` with
//! `X-Gateway-Error`:
//!
//! | case | status | failure code |
//! |---|---|---|
//! | no such API version | 404 | 10020 |
//! | API version retired | 410 | 10021 |
//! | no API key (non-public API) | 401 | 10022 |
//! | unknown or unregistered key | 401 | 10023 |
//! | no contract with this API version | 403 | 10024 |
//! | backend unreachable or failing | 502 / 504 | 10025 |
//! | a policy that cannot be applied | 500 | 10026 |
//! | request body larger than the API version's limit (default 10 MiB) | 413 | 10027 |
//! | `%2F` (unless the API version allows it), `%5C` or `\` in the path | 400 | 10028 |
//! | the backend's address is refused (link-local, cloud metadata, denied, Tollgate's own listeners) | 502 | 10029 |
//! | the request came back through a backend (its `Via` names this node: a loop) | 508 | 10029 |
//!
//! Every error answer carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
//! A request with both `Content-Length` and `Transfer-Encoding` never reaches the gateway as
//! such: hyper reads its body as chunked, drops the length and closes the connection after the
//! answer, so nothing can be smuggled behind it (`tests/bounds.rs`).
//!
//! Policy refusals answer the policy's status with `X-Policy-Failure-Type`, `-Code` and
//! `-Message` and a JSON body (`domain::policy::PolicyFailure`).

mod cache;
mod chain;
pub mod limits;
mod proxy;
pub mod recorder;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::gateway_bounds::NetworkRule;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use service::gateway::{GatewaySnapshot, load_snapshot};

pub use cache::PasswordChecks;
pub use limits::Limits;
pub use recorder::Recorder;

/// How often a node checks the database for changes.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// How often changed limit counters are written to the database.
pub const PERSIST_EVERY: Duration = Duration::from_secs(1);

/// The gateway's own failure codes, in the order of the table above.
const FAILURE_CODES: [u32; 10] = [
    10020, 10021, 10022, 10023, 10024, 10025, 10026, 10027, 10028, 10029,
];
/// Policy failure codes counted in `/metrics`.
const POLICY_CODES: [u32; 11] = [
    10001, 10002, 10003, 10004, 10005, 10007, 10012, 10013, 10014, 10015, 10016,
];

/// How a node is set up beyond its database.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Share rate limits and quotas with other nodes through this Redis.
    pub redis_url: Option<String>,
    /// Extra trusted root certificates (DER) for `https://` backends, besides the system's and
    /// the Mozilla roots.
    pub extra_roots: Vec<Vec<u8>>,
    /// Believe `X-Forwarded-Proto: https` from the proxy in front (for "require TLS" in BASIC
    /// authentication). Off by default: the gateway's own listener is plain HTTP.
    pub trust_forwarded_proto: bool,
    /// How BASIC authentication passwords are checked (threads, longest wait).
    pub password_checks: PasswordChecks,
    /// Which backend addresses the gateway connects to, checked at connect time after DNS
    /// resolution (`TOLLGATE_GATEWAY_ALLOW_NETWORKS` / `_DENY_NETWORKS`, own listeners).
    pub networks: Arc<NetworkRule>,
}

impl Options {
    /// Adds the certificates of a PEM file (a private CA, say) to the roots trusted for
    /// `https://` backends.
    pub fn trust_pem_file(&mut self, path: &std::path::Path) -> Result<(), String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            self.extra_roots.push(cert.to_vec());
        }
        Ok(())
    }
}

/// Request counters of one node, served in Prometheus text format at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Responses by class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Gateway refusals by failure code (same order as `FAILURE_CODES`).
    failures: [AtomicU64; FAILURE_CODES.len()],
    /// Policy refusals by failure code (same order as `POLICY_CODES`).
    policy_failures: [AtomicU64; POLICY_CODES.len()],
}

/// Marks a response the gateway or a policy produced, with its failure code.
#[derive(Clone, Copy)]
pub(crate) struct FailureCode(pub u32);

impl Metrics {
    fn record(&self, res: &Response) {
        let class = domain::metrics::status_class(res.status().as_u16());
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        if let Some(FailureCode(code)) = res.extensions().get::<FailureCode>() {
            if let Some(i) = FAILURE_CODES.iter().position(|c| c == code) {
                self.failures[i].fetch_add(1, Ordering::Relaxed);
            } else if let Some(i) = POLICY_CODES.iter().position(|c| c == code) {
                self.policy_failures[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The Prometheus text exposition of the counters, the snapshot's size and the metrics
    /// pipeline's own health.
    pub fn render(&self, snapshot: &GatewaySnapshot, recorder: Option<&Recorder>) -> String {
        let mut out = String::from(
            "# HELP tollgate_gateway_responses_total Responses by status class.\n\
             # TYPE tollgate_gateway_responses_total counter\n",
        );
        for (i, n) in self.by_class.iter().enumerate() {
            out.push_str(&format!(
                "tollgate_gateway_responses_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP tollgate_gateway_refusals_total Requests the gateway refused, by failure code.\n\
             # TYPE tollgate_gateway_refusals_total counter\n",
        );
        for (code, n) in FAILURE_CODES.iter().zip(&self.failures) {
            out.push_str(&format!(
                "tollgate_gateway_refusals_total{{failure_code=\"{code}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP tollgate_gateway_policy_failures_total Requests a policy refused, by failure code.\n\
             # TYPE tollgate_gateway_policy_failures_total counter\n",
        );
        for (code, n) in POLICY_CODES.iter().zip(&self.policy_failures) {
            out.push_str(&format!(
                "tollgate_gateway_policy_failures_total{{failure_code=\"{code}\"}} {}\n",
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str(&format!(
            "# HELP tollgate_gateway_snapshot_apis API versions in the snapshot.\n\
             # TYPE tollgate_gateway_snapshot_apis gauge\n\
             tollgate_gateway_snapshot_apis {}\n\
             # HELP tollgate_gateway_snapshot_clients Registered client versions in the snapshot.\n\
             # TYPE tollgate_gateway_snapshot_clients gauge\n\
             tollgate_gateway_snapshot_clients {}\n\
             # HELP tollgate_gateway_snapshot_version The change counter the snapshot was read at.\n\
             # TYPE tollgate_gateway_snapshot_version gauge\n\
             tollgate_gateway_snapshot_version {}\n",
            snapshot.apis.len(),
            snapshot.keys.len(),
            snapshot.version
        ));
        if let Some(r) = recorder {
            out.push_str(&format!(
                "# HELP tollgate_gateway_metrics_dropped_total Request records dropped because the metrics buffer was full.\n\
                 # TYPE tollgate_gateway_metrics_dropped_total counter\n\
                 tollgate_gateway_metrics_dropped_total {}\n\
                 # HELP tollgate_gateway_metrics_rows_written_total Per-minute rollup rows written.\n\
                 # TYPE tollgate_gateway_metrics_rows_written_total counter\n\
                 tollgate_gateway_metrics_rows_written_total {}\n\
                 # HELP tollgate_gateway_metrics_write_errors_total Failed metrics writes (retried).\n\
                 # TYPE tollgate_gateway_metrics_write_errors_total counter\n\
                 tollgate_gateway_metrics_write_errors_total {}\n",
                r.dropped.load(Ordering::Relaxed),
                r.written.load(Ordering::Relaxed),
                r.write_errors.load(Ordering::Relaxed),
            ));
        }
        out
    }
}

type HttpsClient = Client<HttpsConnector<Guarded>, Body>;

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

/// One gateway node.
pub struct Gateway {
    snapshot: RwLock<Arc<GatewaySnapshot>>,
    client: HttpsClient,
    pub metrics: Metrics,
    pub limits: Limits,
    recorder: Option<Arc<Recorder>>,
    cache: cache::Cache,
    credentials: cache::VerifiedCredentials,
    trust_forwarded_proto: bool,
    /// This node's `Via` entry (`1.1 tollgate-<random>`), added to every forwarded request; a
    /// request that already carries it has come back through a backend (a loop).
    via: HeaderValue,
}

fn https_client(extra_roots: &[Vec<u8>], rule: Arc<NetworkRule>) -> HttpsClient {
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
    http.set_connect_timeout(Some(Duration::from_secs(5)));
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
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

impl Gateway {
    /// A node serving from `snapshot`, with counters in memory and no metrics recording (for
    /// tests and tools; [`Gateway::start`] is the real thing).
    pub fn new(snapshot: GatewaySnapshot) -> Arc<Self> {
        Self::build(snapshot, Limits::local(), None, &Options::default())
    }

    fn build(
        snapshot: GatewaySnapshot,
        limits: Limits,
        recorder: Option<Arc<Recorder>>,
        options: &Options,
    ) -> Arc<Self> {
        Arc::new(Gateway {
            snapshot: RwLock::new(Arc::new(snapshot)),
            client: https_client(&options.extra_roots, options.networks.clone()),
            metrics: Metrics::default(),
            limits,
            recorder,
            cache: cache::Cache::default(),
            credentials: cache::VerifiedCredentials::new(options.password_checks),
            trust_forwarded_proto: options.trust_forwarded_proto,
            via: HeaderValue::try_from(format!("1.1 tollgate-{}", uuid::Uuid::new_v4().simple()))
                .unwrap_or_else(|_| HeaderValue::from_static("1.1 tollgate")),
        })
    }

    /// [`Gateway::start_with`] default options.
    pub async fn start(db: service::DatabaseConnection) -> Result<Arc<Self>, service::Error> {
        Self::start_with(db, Options::default()).await
    }

    /// Loads the first snapshot and the live limit counters from the database, then watches for
    /// changes, records metrics and persists counters in the background.
    pub async fn start_with(
        db: service::DatabaseConnection,
        options: Options,
    ) -> Result<Arc<Self>, service::Error> {
        let limits = match &options.redis_url {
            Some(url) => match Limits::redis(url).await {
                Ok(l) => {
                    tracing::info!("gateway limits are shared through Redis");
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Redis unreachable at start-up: limits are counted on this node only");
                    Limits::local()
                }
            },
            None => Limits::local(),
        };
        limits.restore(service::limits::load_active(&db, chrono::Utc::now().timestamp()).await?);
        let snapshot = load_snapshot(&db).await?;
        let gateway = Self::build(
            snapshot,
            limits,
            Some(Recorder::start(db.clone())),
            &options,
        );
        release_free_memory();
        tokio::spawn(gateway.clone().watch(db.clone()));
        tokio::spawn(gateway.clone().persist(db));
        Ok(gateway)
    }

    /// The snapshot requests are served from now.
    pub fn snapshot(&self) -> Arc<GatewaySnapshot> {
        match self.snapshot.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, next: GatewaySnapshot) {
        match self.snapshot.write() {
            Ok(mut s) => *s = Arc::new(next),
            Err(p) => *p.into_inner() = Arc::new(next),
        }
        // Cached responses may belong to changed policies. (Checked credentials are keyed by
        // their stored hash, so they stay right.)
        self.cache.clear();
        release_free_memory();
    }

    /// Polls the change counter and reloads the snapshot when it moved; on database errors the
    /// last snapshot stays in service.
    pub async fn watch(self: Arc<Self>, db: service::DatabaseConnection) {
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let current = self.snapshot().version;
            match service::gateway::config_version(&db).await {
                Ok(v) if v == current => {}
                Ok(_) => match load_snapshot(&db).await {
                    Ok(next) => {
                        tracing::info!(
                            version = next.version,
                            apis = next.apis.len(),
                            clients = next.keys.len(),
                            "gateway snapshot reloaded"
                        );
                        self.replace(next);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "gateway snapshot reload failed; serving the last one")
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "gateway cannot read the database; serving the last snapshot")
                }
            }
        }
    }

    /// At shutdown, once the listener stopped: writes the limit counters and metrics rollups
    /// that are still in memory.
    pub async fn shutdown(&self, db: &service::DatabaseConnection) {
        let dirty = self.limits.take_dirty();
        if let Err(e) = service::limits::save_batch(db, &dirty).await {
            tracing::warn!(error = %e, counters = dirty.len(), "limit counters lost at shutdown");
        }
        if let Some(r) = &self.recorder {
            r.flush().await;
        }
    }

    /// Writes changed limit counters every second; once a minute forgets expired ones; once an
    /// hour drops metrics rollups older than [`service::metrics::KEEP_DAYS`].
    async fn persist(self: Arc<Self>, db: service::DatabaseConnection) {
        let mut tick = tokio::time::interval(PERSIST_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n = 0u64;
        loop {
            tick.tick().await;
            let dirty = self.limits.take_dirty();
            if !dirty.is_empty()
                && let Err(e) = service::limits::save_batch(&db, &dirty).await
            {
                tracing::warn!(error = %e, counters = dirty.len(), "limit counters not saved; retrying");
                self.limits.mark_dirty(&dirty);
            }
            n += 1;
            if n.is_multiple_of(60) {
                self.limits.evict_expired();
                self.cache.evict_expired();
                if let Err(e) = service::limits::purge(&db, chrono::Utc::now().timestamp()).await {
                    tracing::warn!(error = %e, "expired limit counters not purged");
                }
            }
            if n % 3600 == 1
                && let Err(e) = service::metrics::purge(&db, chrono::Utc::now()).await
            {
                tracing::warn!(error = %e, "old metrics not purged");
            }
        }
    }
}

/// Loading a snapshot reads every registered client at once; glibc keeps the freed buffers.
/// Hand them back so that a node's memory is its snapshot, not its largest reload.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The gateway's public HTTP application: every path is proxied (or refused).
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().fallback(proxy::proxy).with_state(gateway)
}

/// The admin listener's application (`TOLLGATE_GATEWAY_ADMIN_LISTEN`): `/metrics` (the
/// counters, Prometheus text format) and `/healthz`. Not on the public listener: the counters
/// tell an outsider too much.
pub fn admin_router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/metrics",
            axum::routing::get(|State(gw): State<Arc<Gateway>>| async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    gw.metrics.render(&gw.snapshot(), gw.recorder.as_deref()),
                )
            }),
        )
        .with_state(gateway)
}

/// Headers on every answer the gateway or a policy makes itself: not to be sniffed as another
/// type, not to be kept by caches.
fn error_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A gateway error answer (see the table above).
pub(crate) fn failure(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "responseCode": status.as_u16(),
        "failureCode": code,
        "message": message,
    });
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    error_headers(h);
    if let Ok(v) = HeaderValue::from_str(message) {
        h.insert("x-gateway-error", v);
    }
    res.extensions_mut().insert(FailureCode(code));
    res
}

/// A policy's refusal as a response.
pub(crate) fn policy_failure(f: &domain::policy::PolicyFailure) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::FORBIDDEN);
    let mut res = (status, f.body()).into_response();
    let h = res.headers_mut();
    error_headers(h);
    add_headers(h, &f.response_headers());
    res.extensions_mut().insert(FailureCode(f.code));
    res
}

/// Adds (name, value) pairs to a header map, skipping any that are not valid HTTP. `Vary` is
/// added to, never replaced.
pub(crate) fn add_headers(h: &mut HeaderMap, pairs: &[(String, String)]) {
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            if n == header::VARY {
                h.append(n, v);
            } else {
                h.insert(n, v);
            }
        }
    }
}

/// `/{org}/{api}/{version}` and the rest of the path (with its leading slash, or empty).
pub fn split_path(path: &str) -> Option<(&str, &str, &str, &str)> {
    let trimmed = path.strip_prefix('/')?;
    let mut parts = trimmed.splitn(4, '/');
    let org = parts.next().filter(|s| !s.is_empty())?;
    let api = parts.next().filter(|s| !s.is_empty())?;
    let version = parts.next().filter(|s| !s.is_empty())?;
    let rest_start = org.len() + api.len() + version.len() + 3;
    let rest = path.get(rest_start..).unwrap_or("");
    Some((org, api, version, rest))
}

/// The API key from `X-API-Key`, else from the `apikey` query parameter; and the query without
/// that parameter.
pub fn take_key(headers: &HeaderMap, query: Option<&str>) -> (Option<String>, Option<String>) {
    let mut key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !query.is_some_and(|q| q.contains("apikey")) {
        return (
            key.filter(|k| !k.is_empty()),
            query.filter(|q| !q.is_empty()).map(str::to_owned),
        );
    }
    let mut kept = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("apikey", v)) => {
                if key.is_none() {
                    key = Some(v.to_owned());
                }
            }
            _ if pair == "apikey" => {}
            _ => kept.push(pair),
        }
    }
    let query = (!kept.is_empty()).then(|| kept.join("&"));
    (key.filter(|k| !k.is_empty()), query)
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

/// Whether one `name=value` pair of a `Cookie` header, or a `Set-Cookie` value, names one of
/// Tollgate's own cookies ([`service::sessions::is_own_cookie`]).
/// A pair without a name (`=tollgate_session=x`) counts by what follows the `=`: browsers store
/// it as a nameless cookie and send it back as `tollgate_session=x`.
fn own_cookie_pair(pair: &[u8]) -> bool {
    let pair = pair.trim_ascii_start();
    let pair = pair.strip_prefix(b"=").unwrap_or(pair);
    let name = pair.split(|b| *b == b'=').next().unwrap_or(pair);
    std::str::from_utf8(name).is_ok_and(service::sessions::is_own_cookie)
}

/// Takes Tollgate's own cookies (the session) out of every `Cookie` header line, dropping a line
/// left empty, so that no backend ever sees them. Allocates only when there is one to remove.
pub(crate) fn strip_own_cookies(headers: &mut HeaderMap) {
    let has_own = |v: &HeaderValue| v.as_bytes().split(|b| *b == b';').any(own_cookie_pair);
    if !headers.get_all(header::COOKIE).iter().any(has_own) {
        return;
    }
    let lines: Vec<HeaderValue> = headers.get_all(header::COOKIE).iter().cloned().collect();
    headers.remove(header::COOKIE);
    for line in lines {
        let kept: Vec<&[u8]> = line
            .as_bytes()
            .split(|b| *b == b';')
            .map(<[u8]>::trim_ascii)
            .filter(|p| !p.is_empty() && !own_cookie_pair(p))
            .collect();
        if kept.is_empty() {
            continue;
        }
        if let Ok(v) = HeaderValue::from_bytes(&kept.join(&b"; "[..])) {
            headers.append(header::COOKIE, v);
        }
    }
}

/// Drops a backend's `Set-Cookie` headers that would set one of Tollgate's own cookies.
pub(crate) fn drop_own_set_cookies(headers: &mut HeaderMap) {
    let own = |v: &HeaderValue| own_cookie_pair(v.as_bytes().trim_ascii_start());
    if !headers.get_all(header::SET_COOKIE).iter().any(own) {
        return;
    }
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| !own(v))
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for v in kept {
        headers.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            split_path("/Acme/Weather/1.0"),
            Some(("Acme", "Weather", "1.0", ""))
        );
        assert_eq!(
            split_path("/Acme/Weather/1.0/"),
            Some(("Acme", "Weather", "1.0", "/"))
        );
        assert_eq!(
            split_path("/Acme/Weather/1.0/daily/today"),
            Some(("Acme", "Weather", "1.0", "/daily/today"))
        );
        assert_eq!(split_path("/Acme/Weather"), None);
        assert_eq!(split_path("/Acme//1.0"), None);
        assert_eq!(split_path("/"), None);
    }

    #[test]
    fn keys_from_header_or_query_and_stripped() {
        let mut h = HeaderMap::new();
        assert_eq!(
            take_key(&h, Some("a=1&apikey=k1&b=2")),
            (Some("k1".into()), Some("a=1&b=2".into()))
        );
        assert_eq!(take_key(&h, Some("apikey=k1")), (Some("k1".into()), None));
        assert_eq!(take_key(&h, None), (None, None));
        assert_eq!(
            take_key(&h, Some("city=Oslo&days=2")),
            (None, Some("city=Oslo&days=2".into()))
        );
        assert_eq!(take_key(&h, Some("apikey=")), (None, None));
        h.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(
            take_key(&h, Some("apikey=k1&x=y")),
            (Some("k2".into()), Some("x=y".into()))
        );
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
    fn own_cookies_are_stripped_from_every_cookie_line() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; tollgate_session=s1;b=2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-tollgate_session=s2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("c=3; __host-TOLLGATE_session=s3"),
        );
        strip_own_cookies(&mut h);
        let lines: Vec<&str> = h
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(lines, ["a=1; b=2", "c=3"]);
        // Nothing of ours: the header stays as it came.
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("x=1;  y=2"));
        strip_own_cookies(&mut h);
        assert_eq!(h[header::COOKIE], "x=1;  y=2");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("tollgate_session=s"),
        );
        strip_own_cookies(&mut h);
        assert!(!h.contains_key(header::COOKIE));
    }

    #[test]
    fn backends_cannot_set_own_cookies() {
        let mut h = HeaderMap::new();
        for v in [
            "theme=dark; Path=/",
            "tollgate_session=evil; Path=/; HttpOnly",
            " __Host-tollgate_session=evil; Secure; Path=/",
            "=tollgate_session=nameless; Path=/",
            "lang=en",
        ] {
            h.append(header::SET_COOKIE, HeaderValue::from_static(v));
        }
        drop_own_set_cookies(&mut h);
        let kept: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(kept, ["theme=dark; Path=/", "lang=en"]);
    }
}
