//! Tollgate's gateway: `/{org}/{api}/{version}/{rest}` proxied to the API version's endpoint,
//! through the policy chain Client → Plan → API.
//!
//! The request path never touches the database. Each node serves from an immutable
//! [`GatewaySnapshot`] behind an `RwLock<Arc<_>>`, swapped whole; [`Gateway::watch`] polls the
//! database's change counter every 250 ms and reloads when it moved, so a publish, retire,
//! register, unregister or break reaches every node within a second. When the database cannot
//! be read, the node keeps serving its last snapshot.
//!
//! Where things are (one file, one job):
//! - this file: the node ([`Gateway`]), its options, the snapshot watcher, the routers;
//! - `proxy`: the flow of one request, phase by phase, with its body limit and cookie stripping;
//! - `route`: the API version of a path, the API key, the caller's client and contract;
//! - `chain`: the policies of a request, one phase function per policy type, forward on the
//!   request and in reverse on the response;
//! - `upstream`: the backend client (TLS, the connector's address checks, hop-by-hop headers,
//!   `X-Forwarded-*`, `Via`), each API version's connect and response timeouts, its bound of
//!   requests in flight, the one retry of an idempotent request after a reset connection;
//! - `errors`: the gateway's own error answers and policy refusals as responses;
//! - `metrics`: the Prometheus counters of `/metrics`;
//! - `limits`: rate-limit and quota counters (local, persisted in batches, or shared in Redis);
//! - `recorder`: per-request metrics, batched into per-minute rollups;
//! - `cache`: responses kept by the Caching Resources policy;
//! - `jwt`: JWT Validation's signature check and the JWKS cache.
//!
//! Gateway errors answer JSON `{"responseCode", "failureCode", "message"}` with
//! `X-Gateway-Error`; policy refusals answer the policy's status with `X-Policy-Failure-Type`,
//! `-Code` and `-Message` and a JSON body (`domain::policy::PolicyFailure`). Every error answer
//! carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`. The codes are
//! `domain::failure::FailureCode`; their table is `docs/failure-codes.md`.
//!
//! A request with both `Content-Length` and `Transfer-Encoding` never reaches the gateway as
//! such: hyper reads its body as chunked, drops the length and closes the connection after the
//! answer, so nothing can be smuggled behind it (`tests/bounds.rs`).

mod cache;
mod chain;
mod errors;
mod jwt;
pub mod limits;
mod metrics;
mod proxy;
pub mod recorder;
mod route;
mod upstream;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use domain::gateway_bounds::NetworkRule;
use service::gateway::{GatewaySnapshot, load_snapshot};

pub use cache::PasswordChecks;
pub use limits::Limits;
pub use metrics::Metrics;
pub use recorder::Recorder;
pub use route::{KeySource, split_path, take_key};
use upstream::{HttpsClient, InFlight, https_clients};

/// How often a node checks the database for changes.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// How often changed limit counters are written to the database.
pub const PERSIST_EVERY: Duration = Duration::from_secs(1);

/// How a node is set up beyond its database.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Share rate limits and quotas with other nodes through this Redis.
    pub redis_url: Option<String>,
    /// Extra trusted root certificates (DER) for `https://` backends, besides the system's and
    /// the Mozilla roots.
    pub extra_roots: Vec<Vec<u8>>,
    /// Believe `X-Forwarded-Proto: https` from the proxy in front (for "require TLS" in BASIC
    /// authentication). Off by default. A request that reached the node's own listener over TLS
    /// is `https` whatever this says (it carries [`ClientTls`]).
    pub trust_forwarded_proto: bool,
    /// How BASIC authentication passwords are checked (threads, longest wait).
    pub password_checks: PasswordChecks,
    /// Which backend addresses the gateway connects to, checked at connect time after DNS
    /// resolution (`TOLLGATE_GATEWAY_ALLOW_NETWORKS` / `_DENY_NETWORKS`, own listeners).
    pub networks: Arc<NetworkRule>,
    /// The shortest time between two fetches of one JWKS URL (JWT Validation); 30 s when
    /// unset.
    pub jwks_min_refresh: Option<Duration>,
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

/// A request extension set by the listener when the request reached it over TLS: the gateway
/// then treats it as `https` (BASIC's "require TLS", `X-Forwarded-Proto` towards the backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTls;

/// One gateway node.
pub struct Gateway {
    snapshot: RwLock<Arc<GatewaySnapshot>>,
    /// Towards backends (and JWKS URLs), pooled.
    client: HttpsClient,
    /// Towards backends without a pool: a retry after a reset connection takes a fresh one.
    fresh_client: HttpsClient,
    /// Requests in flight towards each API version's backend (its concurrency bound).
    in_flight: InFlight,
    pub metrics: Metrics,
    pub limits: Limits,
    recorder: Option<Arc<Recorder>>,
    cache: cache::Cache,
    credentials: cache::VerifiedCredentials,
    /// JWT Validation's key sets, by JWKS URL.
    jwks: jwt::Jwks,
    verified_tokens: jwt::VerifiedTokens,
    trust_forwarded_proto: bool,
    /// This node's `Via` entry (`1.1 tollgate-<random>`), added to every forwarded request; a
    /// request that already carries it has come back through a backend (a loop).
    via: HeaderValue,
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
        let (client, fresh_client) = https_clients(&options.extra_roots, options.networks.clone());
        Arc::new(Gateway {
            snapshot: RwLock::new(Arc::new(snapshot)),
            client,
            fresh_client,
            in_flight: InFlight::default(),
            metrics: Metrics::default(),
            limits,
            recorder,
            cache: cache::Cache::default(),
            credentials: cache::VerifiedCredentials::new(options.password_checks),
            jwks: jwt::Jwks::new(options.jwks_min_refresh.unwrap_or(jwt::MIN_REFRESH)),
            verified_tokens: jwt::VerifiedTokens::default(),
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
        self.in_flight.retain(&next);
        match self.snapshot.write() {
            Ok(mut s) => *s = Arc::new(next),
            Err(p) => *p.into_inner() = Arc::new(next),
        }
        // Cached responses and verified tokens may belong to changed policies. (Checked
        // credentials are keyed by their stored hash, so they stay right.)
        self.cache.clear();
        self.verified_tokens.clear();
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
                            clients = next.clients,
                            keys = next.keys.len(),
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
                    gw.metrics
                        .render(&gw.snapshot(), gw.recorder.as_deref(), gw.in_flight.total()),
                )
            }),
        )
        .with_state(gateway)
}
