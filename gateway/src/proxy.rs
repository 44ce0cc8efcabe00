//! One request through the gateway: find the API version and the client, run the policy chain,
//! forward to the backend, run the chain's response side, then count the response's bytes on
//! their way out and hand the request's record to the metrics recorder.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::policy::Period;
use hyper::body::{Frame, SizeHint};
use service::metrics::MinuteKey;

use crate::chain::{self, After, Exchange};
use crate::recorder::Record;
use crate::{
    FailureCode, Gateway, add_headers, drop_own_set_cookies, failure, split_path, strip_hop_by_hop,
    strip_own_cookies, take_key,
};

/// How long a backend may take to answer.
const BACKEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Who a request was for, for its metrics record and download counting.
#[derive(Default)]
struct Seen {
    api_version_id: Option<i32>,
    client_version_id: i32,
    plan_version_id: i32,
    downloads: Vec<(String, u64, Period)>,
    uploads: Vec<(String, u64, Period)>,
}

fn content_length(headers: &HeaderMap) -> u64 {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub(crate) async fn proxy(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let started = Instant::now();
    let bytes_in = content_length(req.headers());
    // A body without a length is counted as it passes (metrics, upload quotas).
    let streamed = req
        .headers()
        .contains_key(header::TRANSFER_ENCODING)
        .then(|| {
            let total = Arc::new(AtomicU64::new(0));
            (total.clone(), total)
        });
    let req = match &streamed {
        Some((total, _)) => {
            let total = total.clone();
            let (parts, body) = req.into_parts();
            let counted = Counted {
                inner: body,
                bytes: 0,
                done: Some(move |n: u64| total.store(n, Ordering::Relaxed)),
            };
            Request::from_parts(parts, Body::new(counted))
        }
        None => req,
    };
    let (mut res, seen) = forward(&gw, req, bytes_in, streamed.is_some()).await;
    // On the final answer, after the policies' response side and cache hits too: neither a
    // backend nor a policy (Simple Header, URL Rewriting) may set one of Tollgate's cookies.
    drop_own_set_cookies(res.headers_mut());
    gw.metrics.record(&res);
    finish(&gw, res, seen, started, bytes_in, streamed.map(|(_, t)| t))
}

/// Wraps the response body so that, once it has been sent, its size goes to the metrics record
/// and to the transfer quotas that count downloads.
fn finish(
    gw: &Arc<Gateway>,
    res: Response,
    seen: Seen,
    started: Instant,
    bytes_in: u64,
    streamed_in: Option<Arc<AtomicU64>>,
) -> Response {
    let Some(api_version_id) = seen.api_version_id else {
        return res;
    };
    if gw.recorder.is_none() && seen.downloads.is_empty() && seen.uploads.is_empty() {
        return res;
    }
    let key = MinuteKey {
        minute: chrono::Utc::now().timestamp().div_euclid(60),
        api_version_id,
        client_version_id: seen.client_version_id,
        plan_version_id: seen.plan_version_id,
        status: res.status().as_u16(),
        failure_code: res.extensions().get::<FailureCode>().map_or(0, |f| f.0),
    };
    let gw = gw.clone();
    let (downloads, uploads) = (seen.downloads, seen.uploads);
    let done = move |bytes_out: u64| {
        let streamed = streamed_in.map_or(0, |n| n.load(Ordering::Relaxed));
        if let Some(r) = &gw.recorder {
            r.record(Record {
                key,
                duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                bytes_in: bytes_in.max(streamed),
                bytes_out,
            });
        }
        if !downloads.is_empty() || !uploads.is_empty() {
            tokio::spawn(async move {
                for (key, limit, period) in downloads {
                    gw.limits.quota(&key, limit, period, bytes_out, false).await;
                }
                for (key, limit, period) in uploads {
                    gw.limits.quota(&key, limit, period, streamed, false).await;
                }
            });
        }
    };
    let (parts, body) = res.into_parts();
    Response::from_parts(
        parts,
        Body::new(Counted {
            inner: body,
            bytes: 0,
            done: Some(done),
        }),
    )
}

/// A body that counts its bytes and reports them once, when it ends or is dropped.
struct Counted<F: FnOnce(u64)> {
    inner: Body,
    bytes: u64,
    done: Option<F>,
}

impl<F: FnOnce(u64)> Counted<F> {
    fn report(&mut self) {
        if let Some(done) = self.done.take() {
            done(self.bytes);
        }
    }
}

impl<F: FnOnce(u64)> Drop for Counted<F> {
    fn drop(&mut self) {
        self.report();
    }
}

impl<F: FnOnce(u64) + Unpin> hyper::body::Body for Counted<F> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None | Some(Err(_))) => this.report(),
            Poll::Pending => {}
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

async fn forward(
    gw: &Gateway,
    req: Request,
    bytes_in: u64,
    streamed_upload: bool,
) -> (Response, Seen) {
    let mut seen = Seen::default();
    let snapshot = gw.snapshot();
    let (mut parts, body) = req.into_parts();
    if parts.headers.contains_key(header::VIA) && gw.looped(&parts.headers) {
        return (
            failure(
                StatusCode::LOOP_DETECTED,
                10029,
                "The API's endpoint leads back to this gateway.",
            ),
            seen,
        );
    }
    let path = parts.uri.path().to_owned();
    let Some((org, api, version, rest)) = split_path(&path) else {
        return (
            failure(StatusCode::NOT_FOUND, 10020, "No API at this path."),
            seen,
        );
    };
    let api_path = &path[1..1 + org.len() + api.len() + version.len() + 2];
    let Some(target) = snapshot.apis.get(api_path) else {
        return (
            failure(StatusCode::NOT_FOUND, 10020, "No API at this path."),
            seen,
        );
    };
    seen.api_version_id = Some(target.id);
    if target.retired {
        return (
            failure(StatusCode::GONE, 10021, "This API version is retired."),
            seen,
        );
    }
    if let Some(why) = domain::gateway_bounds::path_refusal(&path, target.allow_encoded_slashes) {
        return (failure(StatusCode::BAD_REQUEST, 10028, why), seen);
    }
    if bytes_in > target.body_limit {
        return (too_large(target.body_limit), seen);
    }
    // A streamed body is stopped once it passes the limit (a known length cannot pass it:
    // hyper reads no more than the length).
    let over_limit = streamed_upload.then(|| Arc::new(AtomicBool::new(false)));
    let body = match &over_limit {
        Some(hit) => Body::new(Bounded {
            inner: body,
            left: target.body_limit,
            hit: hit.clone(),
        }),
        None => body,
    };
    let (key, query) = take_key(&parts.headers, parts.uri.query());
    // Browsers send CORS preflights without the API key: the API's own CORS policy answers them.
    if key.is_none()
        && !target.public
        && domain::policy::is_preflight(parts.method.as_str(), &parts.headers)
        && let Some(answer) = preflight(&target.policies, &parts.headers)
    {
        return (answer, seen);
    }
    // A key opens the API through a contract; a public API also takes requests without one
    // (and with a key that has no contract), under the API's own policies only.
    let mut caller = None;
    match key.as_deref() {
        Some(key) => match snapshot.keys.get(&service::sessions::token_digest(key)) {
            Some(client) => match client.contract(api_path) {
                Some(contract) => caller = Some((client, contract)),
                None if target.public => {}
                None => {
                    return (
                        failure(
                            StatusCode::FORBIDDEN,
                            10024,
                            "This client has no contract with this API version.",
                        ),
                        seen,
                    );
                }
            },
            None if target.public => {}
            None => {
                return (
                    failure(StatusCode::UNAUTHORIZED, 10023, "The API key is not valid."),
                    seen,
                );
            }
        },
        None if target.public => {}
        None => {
            return (
                failure(
                    StatusCode::UNAUTHORIZED,
                    10022,
                    "An API key is required: send it in the X-API-Key header.",
                ),
                seen,
            );
        }
    }
    if let Some((client, contract)) = caller {
        seen.client_version_id = client.id;
        seen.plan_version_id = contract.plan_version_id;
    }
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let https = gw.trust_forwarded_proto
        && parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    parts.headers.remove("x-api-key");
    // The management UI shares the host (browsers do not keep cookies apart by port): its
    // session cookie must never reach a backend, nor a policy.
    strip_own_cookies(&mut parts.headers);

    let mut ex = Exchange {
        method: parts.method.clone(),
        // Policies match, and the backend receives, one spelling of the path.
        rest: domain::policy::normalize_path(rest),
        query,
        peer,
        https,
        client: caller.map(|(c, _)| c.id),
        api: target.id,
        bytes_in,
        streamed_upload,
    };
    let none = &target.policies;
    let chains: [&service::gateway::Chain; 3] = match caller {
        Some((client, contract)) => [&client.policies, &contract.policies, &target.policies],
        None => [none, none, &target.policies],
    };
    let chains = if caller.is_some() {
        &chains[..]
    } else {
        &chains[2..]
    };
    let mut after = After::default();
    let early = if chains.iter().all(|c| c.is_empty()) {
        Ok(None)
    } else {
        chain::request(gw, chains, &mut ex, &mut parts.headers, &mut after).await
    };
    let res = match early {
        Err(mut refused) => {
            // Limit and CORS headers collected before the refusal still help the caller.
            add_headers(refused.headers_mut(), &after.headers);
            return (refused, seen);
        }
        Ok(Some(answered)) => answered,
        Ok(None) => {
            let Some(endpoint) = target.endpoint.as_deref() else {
                return (
                    failure(StatusCode::BAD_GATEWAY, 10025, "The API has no endpoint."),
                    seen,
                );
            };
            match upstream(gw, endpoint, &ex, parts, body).await {
                Ok(res) => res,
                Err(_) if over_limit.is_some_and(|hit| hit.load(Ordering::Relaxed)) => {
                    return (too_large(target.body_limit), seen);
                }
                Err(res) => return (res, seen),
            }
        }
    };
    let res = chain::response(gw, &after, &ex.method, &ex.rest, res).await;
    seen.downloads = after.downloads;
    seen.uploads = after.uploads;
    (res, seen)
}

/// The answer to a request body larger than `limit`.
fn too_large(limit: u64) -> Response {
    failure(
        StatusCode::PAYLOAD_TOO_LARGE,
        10027,
        &format!(
            "The request body is larger than this API accepts ({}).",
            domain::policy::bytes(limit)
        ),
    )
}

/// A streamed request body that ends in an error once more than `left` bytes have passed,
/// and says so in `hit`.
struct Bounded {
    inner: Body,
    left: u64,
    hit: Arc<AtomicBool>,
}

impl hyper::body::Body for Bounded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            match this.left.checked_sub(data.len() as u64) {
                Some(left) => this.left = left,
                None => {
                    this.hit.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(
                        "the request body is larger than the API's limit",
                    ))));
                }
            }
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

/// The answer of the first CORS policy of `chain` to a preflight, if it has one.
fn preflight(chain: &service::gateway::Chain, headers: &HeaderMap) -> Option<Response> {
    chain.iter().find_map(|p| match &p.rule {
        Ok(domain::policy::Compiled::Cors(rules)) => Some(match rules.preflight(headers)? {
            Ok(answer) => {
                let mut res = StatusCode::NO_CONTENT.into_response();
                add_headers(res.headers_mut(), &answer);
                res
            }
            Err(f) => crate::policy_failure(&f),
        }),
        _ => None,
    })
}

/// Sends the (policy-edited) request to the backend.
async fn upstream(
    gw: &Gateway,
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
            StatusCode::BAD_GATEWAY,
            10025,
            "The API's endpoint is not a valid URL.",
        ));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(failure(
            StatusCode::BAD_GATEWAY,
            10025,
            "The API's endpoint must be an http:// or https:// URL.",
        ));
    }
    let host = parts.headers.get(header::HOST).cloned();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
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
    if let Some(h) = host {
        parts.headers.insert("x-forwarded-host", h);
    }
    parts.headers.append(header::VIA, gw.via.clone());
    parts.uri = uri;
    let request = Request::from_parts(parts, body);
    match tokio::time::timeout(BACKEND_TIMEOUT, gw.client.request(request)).await {
        Ok(Ok(res)) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Ok(Response::from_parts(parts, Body::new(body)))
        }
        Ok(Err(e)) => {
            if let Some(refused) = crate::Refused::find(&e) {
                return Err(failure(
                    StatusCode::BAD_GATEWAY,
                    10029,
                    &format!(
                        "The gateway refuses to connect to the API's backend: {}.",
                        refused.message()
                    ),
                ));
            }
            tracing::warn!(error = %e, "backend request failed");
            Err(failure(
                StatusCode::BAD_GATEWAY,
                10025,
                "The API's backend did not answer.",
            ))
        }
        Err(_) => Err(failure(
            StatusCode::GATEWAY_TIMEOUT,
            10025,
            "The API's backend timed out.",
        )),
    }
}
