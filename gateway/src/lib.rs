//! Tollgate's gateway: `/{org}/{api}/{version}/{rest}` proxied to the API version's endpoint.
//!
//! The request path never touches the database. Each node serves from an immutable
//! [`GatewaySnapshot`] behind an `RwLock<Arc<_>>`, swapped whole; [`Gateway::watch`] polls the
//! database's change counter every 250 ms and reloads when it moved, so a publish, retire,
//! register, unregister or break reaches every node within a second. When the database cannot
//! be read, the node keeps serving its last snapshot.
//!
//! Errors answer JSON `{"responseCode", "failureCode", "message"}` with `X-Gateway-Error`:
//!
//! | case | status | failure code |
//! |---|---|---|
//! | no such API version | 404 | 10020 |
//! | API version retired | 410 | 10021 |
//! | no API key (non-public API) | 401 | 10022 |
//! | unknown or unregistered key | 401 | 10023 |
//! | no contract with this API version | 403 | 10024 |
//! | backend unreachable or failing | 502 | 10025 |

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use service::gateway::{GatewaySnapshot, load_snapshot};

/// How often a node checks the database for changes.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// The failure codes of the table above, in order.
const FAILURE_CODES: [u32; 6] = [10020, 10021, 10022, 10023, 10024, 10025];

/// Request counters of one node, served in Prometheus text format at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Responses by class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Gateway refusals by failure code (same order as `FAILURE_CODES`).
    failures: [AtomicU64; 6],
}

/// Marks a response the gateway itself produced, with its failure code.
#[derive(Clone, Copy)]
struct FailureCode(u32);

impl Metrics {
    fn record(&self, res: &Response) {
        let class = usize::from(res.status().as_u16() / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        if let Some(FailureCode(code)) = res.extensions().get::<FailureCode>()
            && let Some(i) = FAILURE_CODES.iter().position(|c| c == code)
        {
            self.failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition of the counters and the snapshot's size.
    pub fn render(&self, snapshot: &GatewaySnapshot) -> String {
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
        out
    }
}

/// One gateway node.
pub struct Gateway {
    snapshot: RwLock<Arc<GatewaySnapshot>>,
    client: Client<HttpConnector, Body>,
    pub metrics: Metrics,
}

impl Gateway {
    /// A node serving from `snapshot`.
    pub fn new(snapshot: GatewaySnapshot) -> Arc<Self> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        Arc::new(Gateway {
            snapshot: RwLock::new(Arc::new(snapshot)),
            client,
            metrics: Metrics::default(),
        })
    }

    /// Loads the first snapshot from the database and starts watching for changes.
    pub async fn start(db: service::DatabaseConnection) -> Result<Arc<Self>, service::Error> {
        let gateway = Gateway::new(load_snapshot(&db).await?);
        release_free_memory();
        tokio::spawn(gateway.clone().watch(db));
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

/// The gateway's HTTP application.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/metrics",
            axum::routing::get(|State(gw): State<Arc<Gateway>>| async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    gw.metrics.render(&gw.snapshot()),
                )
            }),
        )
        .fallback(proxy)
        .with_state(gateway)
}

fn failure(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "responseCode": status.as_u16(),
        "failureCode": code,
        "message": message,
    });
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(message) {
        h.insert("x-gateway-error", v);
    }
    res.extensions_mut().insert(FailureCode(code));
    res
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

fn strip_hop_by_hop(headers: &mut HeaderMap) {
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

async fn proxy(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let res = forward(&gw, req).await;
    gw.metrics.record(&res);
    res
}

async fn forward(gw: &Gateway, req: Request) -> Response {
    let snapshot = gw.snapshot();
    let (mut parts, body) = req.into_parts();
    let Some((org, api, version, rest)) = split_path(parts.uri.path()) else {
        return failure(StatusCode::NOT_FOUND, 10020, "No API at this path.");
    };
    // "org/api/version", borrowed from the request path: no allocation for the look-ups.
    let api_path = &parts.uri.path()[1..1 + org.len() + api.len() + version.len() + 2];
    let Some(target) = snapshot.apis.get(api_path) else {
        return failure(StatusCode::NOT_FOUND, 10020, "No API at this path.");
    };
    if target.retired {
        return failure(StatusCode::GONE, 10021, "This API version is retired.");
    }
    let (key, query) = take_key(&parts.headers, parts.uri.query());
    if !target.public {
        let Some(key) = key.as_deref() else {
            return failure(
                StatusCode::UNAUTHORIZED,
                10022,
                "An API key is required: send it in the X-API-Key header.",
            );
        };
        let Some(client) = snapshot.keys.get(&service::sessions::token_digest(key)) else {
            return failure(StatusCode::UNAUTHORIZED, 10023, "The API key is not valid.");
        };
        if !client.may_call(api_path) {
            return failure(
                StatusCode::FORBIDDEN,
                10024,
                "This client has no contract with this API version.",
            );
        }
    }
    let Some(endpoint) = target.endpoint.as_deref() else {
        return failure(StatusCode::BAD_GATEWAY, 10025, "The API has no endpoint.");
    };
    let mut url = format!("{}{rest}", endpoint.trim_end_matches('/'));
    if rest.is_empty() && endpoint.ends_with('/') {
        url.push('/');
    }
    if let Some(q) = &query {
        url.push('?');
        url.push_str(q);
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return failure(
            StatusCode::BAD_GATEWAY,
            10025,
            "The API's endpoint is not a valid URL.",
        );
    };
    if uri.scheme_str() != Some("http") {
        return failure(
            StatusCode::BAD_GATEWAY,
            10025,
            "This gateway forwards to http:// endpoints only.",
        );
    }
    let host = parts.headers.get(header::HOST).cloned();
    let client_ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove("x-api-key");
    parts.headers.remove(header::HOST);
    if let Some(ip) = client_ip {
        let forwarded = match parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            Some(prev) => format!("{prev}, {ip}"),
            None => ip,
        };
        if let Ok(v) = HeaderValue::from_str(&forwarded) {
            parts.headers.insert("x-forwarded-for", v);
        }
    }
    parts
        .headers
        .insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(h) = host {
        parts.headers.insert("x-forwarded-host", h);
    }
    parts.uri = uri;
    let upstream = Request::from_parts(parts, body);
    match tokio::time::timeout(Duration::from_secs(60), gw.client.request(upstream)).await {
        Ok(Ok(res)) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Body::new(body))
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "backend request failed");
            failure(
                StatusCode::BAD_GATEWAY,
                10025,
                "The API's backend did not answer.",
            )
        }
        Err(_) => failure(
            StatusCode::GATEWAY_TIMEOUT,
            10025,
            "The API's backend timed out.",
        ),
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
}
