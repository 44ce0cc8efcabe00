//! The policy chain of one request: Client → Plan → API, each in order. [`request`] runs the
//! policies forward on the request (the first refusal answers); [`response`] runs the ones that
//! touch responses in reverse. The rules themselves are `domain::policy`; this module applies
//! them with the node's stores (limit counters, response cache, verified credentials).

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::policy::{
    Compiled, Direction, LimitKind, Period, basic_credentials, is_preflight, quota_failure,
    rate_limit_failure, transfer_quota_failure,
};
use http_body_util::BodyExt;
use service::gateway::Chain;
use service::limits::counter_key;

use crate::{Gateway, add_headers, failure, policy_failure};

/// Largest response body a URL Rewriting policy rewrites (larger ones answer 502).
const MAX_REWRITE_BODY: usize = 8 << 20;

/// What the chain sees of a request and may change: the path after the API version and the
/// query (URL Rewriting), plus who is calling.
pub(crate) struct Exchange {
    pub method: Method,
    pub rest: String,
    pub query: Option<String>,
    pub peer: IpAddr,
    pub https: bool,
    /// The client version's id, if a client is known (its counters' scope).
    pub client: Option<i32>,
    /// The API version's id (the scope of per-API counters).
    pub api: i32,
    pub bytes_in: u64,
    /// The request body streams without a length: uploads are counted once it has passed.
    pub streamed_upload: bool,
}

/// What the response phase has to do, collected by the request phase.
#[derive(Default)]
pub(crate) struct After {
    /// Headers to add to the response (limits, CORS).
    pub headers: Vec<(String, String)>,
    /// Simple Header and URL Rewriting policies, in chain order (applied in reverse).
    editors: Vec<(Chain, usize)>,
    /// Transfer quotas that count the response's bytes: (counter key, limit, period).
    pub downloads: Vec<(String, u64, Period)>,
    /// Transfer quotas that count a streamed request body once it has passed.
    pub uploads: Vec<(String, u64, Period)>,
    /// The cache key and the Caching policy that may store the response.
    cache: Option<(String, Chain, usize)>,
    /// A cached response that answers the request once every policy has passed.
    hit: Option<crate::cache::Cached>,
    /// A CORS policy is in the chain: the gateway alone answers for cross-origin access.
    cors: bool,
}

fn unusable() -> Response {
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        10026,
        "A policy of this API cannot be applied. Please tell the API's provider.",
    )
}

/// A policy's counter key for the caller: `None` when the granularity has nobody to count.
fn scope_key(
    policy_id: i32,
    granularity: domain::policy::Granularity,
    header: Option<&str>,
    ex: &Exchange,
    headers: &HeaderMap,
) -> Option<String> {
    use domain::policy::Granularity;
    // The two usual scopes straight from the ids (what `granularity_key` gives for them).
    match granularity {
        Granularity::Client => {
            return ex
                .client
                .map(|c| counter_key(policy_id, &domain::policy::client_scope(c)));
        }
        Granularity::Api => {
            return Some(counter_key(policy_id, &domain::policy::api_scope(ex.api)));
        }
        Granularity::Ip | Granularity::User => {}
    }
    let scope = domain::policy::granularity_key(
        granularity,
        header,
        None,
        &ex.api.to_string(),
        ex.peer,
        headers,
    )?;
    Some(counter_key(policy_id, &scope))
}

/// The response a cache hit answers with.
fn cached_response(hit: crate::cache::Cached) -> Response {
    let mut res = Response::new(Body::from(hit.body));
    *res.status_mut() = hit.status;
    *res.headers_mut() = hit.headers;
    res.headers_mut()
        .insert("x-cache", HeaderValue::from_static("HIT"));
    res
}

/// Runs the chains forward. `Ok(None)`: go on to the backend; `Ok(Some(res))`: answered here
/// (a CORS preflight, or a cached response once every policy has passed); `Err(res)`: refused.
pub(crate) async fn request(
    gw: &Gateway,
    chains: &[&Chain],
    ex: &mut Exchange,
    headers: &mut HeaderMap,
    after: &mut After,
) -> Result<Option<Response>, Response> {
    let now = chrono::Utc::now();
    for chain in chains {
        for (i, policy) in chain.iter().enumerate() {
            let Ok(rule) = &policy.rule else {
                return Err(unusable());
            };
            rule.check_request(ex.method.as_str(), &ex.rest, headers, ex.peer, now)
                .map_err(|f| policy_failure(&f))?;
            match rule {
                Compiled::RateLimit(l) => {
                    let Some(key) =
                        scope_key(policy.id, l.granularity, l.header.as_deref(), ex, headers)
                    else {
                        continue;
                    };
                    let out = gw.limits.rate(&key, l.limit, l.period).await;
                    if !out.allowed {
                        return Err(policy_failure(&rate_limit_failure(l.limit, out.reset_secs)));
                    }
                    after.headers.extend(LimitKind::RateLimit.headers(
                        l.limit,
                        out.remaining,
                        out.reset_secs,
                    ));
                }
                Compiled::Quota(l) => {
                    let Some(key) =
                        scope_key(policy.id, l.granularity, l.header.as_deref(), ex, headers)
                    else {
                        continue;
                    };
                    let out = gw.limits.quota(&key, l.limit, l.period, 1, true).await;
                    if !out.allowed {
                        return Err(policy_failure(&quota_failure(l.limit, out.reset_secs)));
                    }
                    after.headers.extend(LimitKind::Quota.headers(
                        l.limit,
                        out.remaining,
                        out.reset_secs,
                    ));
                }
                Compiled::TransferQuota(t) => {
                    let Some(key) =
                        scope_key(policy.id, t.granularity, t.header.as_deref(), ex, headers)
                    else {
                        continue;
                    };
                    let upload = matches!(t.direction, Direction::Upload | Direction::Both);
                    let download = matches!(t.direction, Direction::Download | Direction::Both);
                    let cost = if upload { ex.bytes_in } else { 0 };
                    // Check what is left (and count an upload of known length); a streamed
                    // upload and a download are counted once their bodies have passed.
                    let out = gw.limits.quota(&key, t.limit, t.period, cost, true).await;
                    if !out.allowed || out.remaining == 0 {
                        return Err(policy_failure(&transfer_quota_failure(
                            t.limit,
                            out.reset_secs,
                        )));
                    }
                    if upload && ex.streamed_upload {
                        after.uploads.push((key.clone(), t.limit, t.period));
                    }
                    if download {
                        after.downloads.push((key, t.limit, t.period));
                    }
                    after.headers.extend(LimitKind::TransferQuota.headers(
                        t.limit,
                        out.remaining,
                        out.reset_secs,
                    ));
                }
                Compiled::BasicAuth(realm) => {
                    if let Some((user, password)) = basic_credentials(headers)
                        && let Some(hash) = realm.password_hash(&user)
                    {
                        gw.credentials.verify(hash, &password).await;
                    }
                    let user = realm
                        .authenticate(headers, ex.https, |hash, password| {
                            gw.credentials.contains(hash, password)
                        })
                        .map_err(|f| policy_failure(&f))?;
                    headers.remove(header::AUTHORIZATION);
                    realm.forward_identity(headers, &user);
                }
                Compiled::Cors(rules) => {
                    if is_preflight(ex.method.as_str(), headers) {
                        match rules.preflight(headers) {
                            Some(Ok(answer)) => {
                                let mut res = StatusCode::NO_CONTENT.into_response();
                                add_headers(res.headers_mut(), &answer);
                                return Ok(Some(res));
                            }
                            Some(Err(f)) => return Err(policy_failure(&f)),
                            None => {}
                        }
                    } else {
                        let add = rules
                            .check_actual(ex.method.as_str(), headers)
                            .map_err(|f| policy_failure(&f))?;
                        after.headers.extend(add);
                        after.cors = true;
                    }
                }
                Compiled::SimpleHeader(editor) => {
                    editor.apply_request(headers);
                    after.editors.push(((*chain).clone(), i));
                }
                Compiled::UrlRewriting(rewriter) => {
                    let path_and_query = match &ex.query {
                        Some(q) => format!("{}?{q}", ex.rest),
                        None => ex.rest.clone(),
                    };
                    let rewritten = rewriter.rewrite_url(&path_and_query);
                    let (path, query) = match rewritten.split_once('?') {
                        Some((path, q)) => (path, (!q.is_empty()).then(|| q.to_owned())),
                        None => (rewritten.as_str(), None),
                    };
                    // The rewritten path stays a path: it can never name another host.
                    ex.rest = if path.is_empty() || path.starts_with('/') {
                        path.to_owned()
                    } else {
                        format!("/{path}")
                    };
                    ex.query = query;
                    rewriter.rewrite_request_headers(headers);
                    after.editors.push(((*chain).clone(), i));
                }
                Compiled::Caching(rules) => {
                    let method = ex.method.as_str();
                    if matches!(method, "GET" | "HEAD")
                        && after.hit.is_none()
                        && rules.cacheable(method, &ex.rest, None)
                    {
                        // Per caller: one client's response is never served to another.
                        let key = format!(
                            "{}|{}|{method}|{}?{}",
                            policy.id,
                            ex.client.map_or_else(|| "-".to_owned(), |c| c.to_string()),
                            ex.rest,
                            ex.query.as_deref().unwrap_or("")
                        );
                        match gw.cache.get(&key) {
                            // Answered once the rest of the chain (authentication, limits) passed.
                            Some(hit) => after.hit = Some(hit),
                            None => after.cache = Some((key, (*chain).clone(), i)),
                        }
                    }
                }
                Compiled::IpAllowlist { .. }
                | Compiled::IpBlocklist { .. }
                | Compiled::IgnoredResources(_)
                | Compiled::TimeRestricted(_) => {}
            }
        }
    }
    Ok(after.hit.take().map(cached_response))
}

/// Runs the response side: header edits and rewrites in reverse chain order, the cache, and the
/// headers the request side collected.
pub(crate) async fn response(
    gw: &Gateway,
    after: &After,
    method: &Method,
    rest: &str,
    res: Response,
) -> Response {
    let (mut parts, mut body) = res.into_parts();
    // The cache keeps the backend's own response; the edits below run on hits too.
    if let Some((key, chain, i)) = &after.cache
        && let Ok(Compiled::Caching(rules)) = &chain[*i].rule
        && rules.cacheable(method.as_str(), rest, Some(parts.status.as_u16()))
        && crate::cache::storable(&parts.headers)
    {
        let Ok(collected) = body.collect().await else {
            return failure(
                StatusCode::BAD_GATEWAY,
                10025,
                "The API's backend broke off its answer.",
            );
        };
        let bytes = collected.to_bytes();
        gw.cache.put(
            key.clone(),
            parts.status,
            parts.headers.clone(),
            bytes.clone(),
            rules.ttl_seconds(),
        );
        parts
            .headers
            .insert("x-cache", HeaderValue::from_static("MISS"));
        body = Body::from(bytes);
    }
    let mut body_rewriters = Vec::new();
    for (chain, i) in after.editors.iter().rev() {
        match &chain[*i].rule {
            Ok(Compiled::SimpleHeader(editor)) => editor.apply_response(&mut parts.headers),
            Ok(Compiled::UrlRewriting(rewriter)) => {
                rewriter.rewrite_response_headers(&mut parts.headers);
                if rewriter.rewrites_body() {
                    body_rewriters.push(rewriter);
                }
            }
            _ => {}
        }
    }
    if !body_rewriters.is_empty() {
        let Ok(collected) = http_body_util::Limited::new(body, MAX_REWRITE_BODY)
            .collect()
            .await
        else {
            return failure(
                StatusCode::BAD_GATEWAY,
                10025,
                "The API's response is too large to rewrite.",
            );
        };
        let mut text = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
        for r in body_rewriters {
            text = r.rewrite_body(&text);
        }
        parts.headers.remove(header::CONTENT_LENGTH);
        body = Body::from(text);
    }
    if after.cors {
        // What the backend says about cross-origin access does not count: the policy decides.
        let theirs: Vec<_> = parts
            .headers
            .keys()
            .filter(|n| n.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in theirs {
            parts.headers.remove(name);
        }
    }
    add_headers(&mut parts.headers, &after.headers);
    Response::from_parts(parts, body)
}
