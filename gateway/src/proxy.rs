//! One request through the gateway, phase by phase: find the API version and the client
//! (`route`), run the policy chain's request side (`chain`), send to the backend (`upstream`),
//! run the chain's response side, then count the response's bytes on their way out and hand the
//! request's record to the metrics recorder. Also what the flow itself bounds and strips: the
//! request body limit, Tollgate's own cookies in `Cookie` and in every final `Set-Cookie`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use domain::failure::FailureCode;
use domain::policy::Period;
use hyper::body::{Frame, SizeHint};
use service::metrics::MinuteKey;

use crate::chain::{self, After, Exchange, add_headers};
use crate::errors::{code_of, failure, failure_as};
use crate::recorder::Record;
use crate::{Gateway, route, upstream};

/// Who a request was for, for its metrics record and download counting.
#[derive(Default)]
struct Seen {
    api_version_id: Option<i32>,
    client_version_id: i32,
    plan_version_id: i32,
    /// The API key that opened the request (its last use is reported with the metrics).
    key_id: Option<i32>,
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
        failure_code: code_of(&res).map_or(0, FailureCode::number),
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
                key_id: seen.key_id,
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

/// The phases of one request: route (API version, key, contract) → the chain's request side →
/// the backend → the chain's response side.
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
            failure_as(
                StatusCode::LOOP_DETECTED,
                FailureCode::BackendRefused,
                "The API's endpoint leads back to this gateway.",
            ),
            seen,
        );
    }
    let path = parts.uri.path().to_owned();
    let found = match route::api(&snapshot, &path) {
        Ok(found) => found,
        Err(refusal) => return (refusal.into(), seen),
    };
    let target = found.target;
    seen.api_version_id = Some(target.id);
    if let Err(refusal) = route::admit(target, &path) {
        return (refusal.into(), seen);
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
    let (key, query) = match route::key(target, &parts.headers, parts.uri.query()) {
        Ok(found) => found,
        Err(refusal) => return (refusal.into(), seen),
    };
    // Browsers send CORS preflights without the API key: the API's own CORS policy answers them.
    if key.is_none()
        && !target.public
        && domain::policy::is_preflight(parts.method.as_str(), &parts.headers)
        && let Some(answer) = chain::preflight(&target.policies, &parts.headers)
    {
        return (answer, seen);
    }
    let caller = match route::caller(&snapshot, &found, key.as_deref()) {
        Ok(caller) => caller.map(|(found, contract)| {
            seen.client_version_id = found.client.id;
            seen.plan_version_id = contract.plan_version_id;
            seen.key_id = Some(found.id);
            (&*found.client, contract)
        }),
        Err(refusal) => return (refusal.into(), seen),
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let https = parts.extensions.get::<crate::ClientTls>().is_some()
        || (gw.trust_forwarded_proto
            && parts
                .headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")));
    parts.headers.remove("x-api-key");
    // The management UI shares the host (browsers do not keep cookies apart by port): its
    // session cookie must never reach a backend, nor a policy.
    strip_own_cookies(&mut parts.headers);

    let mut ex = Exchange {
        method: parts.method.clone(),
        // Policies match, and the backend receives, one spelling of the path.
        rest: domain::policy::normalize_path(found.rest),
        query,
        peer,
        https,
        client: caller.map(|(c, _)| c.id),
        api: target.id,
        bytes_in,
        streamed_upload,
        snapshot: snapshot.version,
    };
    let provider: [&service::gateway::Chain; 2] = match caller {
        Some((_, contract)) => [&contract.policies, &target.policies],
        None => [&target.policies, &target.policies],
    };
    let chains = chain::Chains {
        client: caller.map(|(client, _)| &client.policies),
        provider: if caller.is_some() {
            &provider[..]
        } else {
            &provider[1..]
        },
    };
    let mut after = After::default();
    let early = if chains.client.is_none_or(|c| c.is_empty())
        && chains.provider.iter().all(|c| c.is_empty())
    {
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
                    failure(FailureCode::BackendFailed, "The API has no endpoint."),
                    seen,
                );
            };
            match upstream::send(gw, target, endpoint, &ex, parts, body).await {
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
        FailureCode::BodyTooLarge,
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
