//! The policy chain of one request: Client → Plan → API, each in order. [`request`] runs the
//! policies forward on the request (the first refusal answers); [`response`] runs the ones that
//! touch responses in reverse. The rules themselves are `domain::policy`; this module applies
//! them with the node's stores (limit counters, response cache, verified credentials).
//!
//! Bounds: a URL Rewriting policy rewrites a response body of at most [`MAX_REWRITE_BODY`] and
//! into at most as much; a larger one (before or after) answers 502 (code 10025) rather than
//! going out unrewritten, since rewriting is often what hides a backend's own addresses. The
//! cache answers a request once the whole chain has passed, under a key of the policy, the API
//! version, the caller (client version and BASIC user), the method, the path and the query, and
//! the values of the headers the response varies on.

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

/// Largest response body a URL Rewriting policy rewrites, and largest it produces (larger ones
/// answer 502).
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
    /// The first Caching policy the request is a candidate for: (chain, index).
    caching: Option<(Chain, usize)>,
    /// On a cache miss: the key, the request's headers as sent on (for the headers the response
    /// varies on), and the Caching policy that may store the response.
    cache: Option<([u8; 32], HeaderMap, Chain, usize)>,
    /// A cached response that answers the request once every policy has passed.
    hit: Option<crate::cache::Cached>,
    /// A CORS policy is in the chain: the gateway alone answers for cross-origin access.
    cors: bool,
    /// The user a BASIC Authentication policy let in.
    user: Option<String>,
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
                    let credentials = basic_credentials(headers);
                    // A known user's password and an unknown user's (against the dummy hash)
                    // cost the same argon2 work.
                    if let Some((user, password)) = &credentials
                        && (ex.https || !realm.require_tls())
                    {
                        let hash = realm.hash_to_verify(user, service::accounts::dummy_hash());
                        gw.credentials
                            .verify(user, hash, password)
                            .await
                            .map_err(|_| policy_failure(&realm.busy()))?;
                    }
                    let asked = credentials.as_ref().map_or("", |(u, _)| u.as_str());
                    let user = realm
                        .authenticate(headers, ex.https, |hash, password| {
                            gw.credentials.contains(asked, hash, password)
                        })
                        .map_err(|f| policy_failure(&f))?;
                    headers.remove(header::AUTHORIZATION);
                    realm.forward_identity(headers, &user);
                    after.user = Some(user);
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
                    let Some(rewritten) = rewriter.rewrite_url(&path_and_query) else {
                        return Err(failure(
                            StatusCode::BAD_GATEWAY,
                            10025,
                            "A URL Rewriting policy of this API would make the URL too long.",
                        ));
                    };
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
                        && after.caching.is_none()
                        && rules.cacheable(method, &ex.rest, None)
                    {
                        after.caching = Some(((*chain).clone(), i));
                    }
                }
                Compiled::IpAllowlist { .. }
                | Compiled::IpBlocklist { .. }
                | Compiled::IgnoredResources(_)
                | Compiled::TimeRestricted(_) => {}
            }
        }
    }
    look_up_cache(gw, ex, headers, after);
    Ok(after.hit.take().map(cached_response))
}

/// Once every policy has passed (authentication, limits, edits): the cached answer, or what a
/// miss needs to store the response. The key holds who is calling, so one caller's response is
/// never served to another; a request with `Authorization` stays out unless the policy lets it
/// in.
fn look_up_cache(gw: &Gateway, ex: &Exchange, headers: &HeaderMap, after: &mut After) {
    let Some((chain, i)) = after.caching.take() else {
        return;
    };
    let Ok(Compiled::Caching(rules)) = &chain[i].rule else {
        return;
    };
    if !rules.admits(headers) {
        return;
    }
    let key = crate::cache::CacheKey {
        policy: chain[i].id,
        api: ex.api,
        client: ex.client,
        user: after.user.as_deref(),
        // Only there when the policy caches such requests: one token's answers stay its own.
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        method: ex.method.as_str(),
        rest: &ex.rest,
        query: ex.query.as_deref(),
    }
    .digest();
    match gw.cache.get(&key, headers) {
        Some(hit) => after.hit = Some(hit),
        None => after.cache = Some((key, headers.clone(), chain, i)),
    }
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
    if let Some((key, request, chain, i)) = &after.cache
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
            *key,
            request,
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
            let Some(rewritten) = r.rewrite_body(&text, MAX_REWRITE_BODY) else {
                return failure(
                    StatusCode::BAD_GATEWAY,
                    10025,
                    "The API's response would be too large once rewritten.",
                );
            };
            text = rewritten;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use domain::policy::PolicyConfig;
    use service::gateway::{GatewayPolicy, GatewaySnapshot};

    use crate::{Options, PasswordChecks};

    fn basic_auth_chain() -> Chain {
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::encode_b64(b"tollgate-salt-16").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"s3cret-pass", &salt)
            .unwrap()
            .to_string();
        let json = serde_json::json!({
            "realm": "Weather",
            "identities": [{"username": "ann", "passwordHash": hash}],
            "requireTls": false,
        });
        let config = PolicyConfig::parse(domain::policy::BASIC_AUTH, &json.to_string()).unwrap();
        Chain::from(vec![GatewayPolicy {
            id: 1,
            rule: Compiled::compile(&config).map_err(|e| format!("{e:?}")),
        }])
    }

    fn exchange() -> Exchange {
        Exchange {
            method: Method::GET,
            rest: "/x".into(),
            query: None,
            peer: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https: false,
            client: None,
            api: 1,
            bytes_in: 0,
            streamed_upload: false,
        }
    }

    /// The status and failure code of running `chain` on a request with `authorization`.
    async fn status_of(gw: &Gateway, chain: &Chain, authorization: &str) -> (u16, String) {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        let out = request(
            gw,
            &[chain],
            &mut exchange(),
            &mut headers,
            &mut After::default(),
        )
        .await;
        match out {
            Ok(None) => (200, String::new()),
            Ok(Some(res)) | Err(res) => (
                res.status().as_u16(),
                res.headers()
                    .get("x-policy-failure-code")
                    .map_or(String::new(), |v| v.to_str().unwrap().to_owned()),
            ),
        }
    }

    #[tokio::test]
    async fn an_unknown_user_costs_the_same_argon2_check_as_a_known_one() {
        let gw = Gateway::new(GatewaySnapshot::default());
        let chain = basic_auth_chain();
        // (credentials, answer, argon2 checks run so far)
        let cases = [
            ("Basic YW5uOndyb25n", 401, 1),         // ann:wrong, a known user
            ("Basic ZXZlOndyb25n", 401, 2),         // eve:wrong, unknown: checked all the same
            ("Basic bWFsbG9yeTp3cm9uZw==", 401, 3), // mallory:wrong, unknown, same password
            ("Basic ZXZlOndyb25n", 401, 3),         // eve:wrong again: already checked
            ("Basic YW5uOnMzY3JldC1wYXNz", 200, 4), // ann:s3cret-pass
        ];
        for (authorization, status, hashed) in cases {
            assert_eq!(
                status_of(&gw, &chain, authorization).await.0,
                status,
                "{authorization}"
            );
            assert_eq!(gw.credentials.hashed(), hashed, "{authorization}");
        }
    }

    #[tokio::test]
    async fn a_saturated_password_pool_answers_503() {
        let options = Options {
            password_checks: PasswordChecks {
                threads: 1,
                wait: Duration::from_millis(20),
            },
            ..Options::default()
        };
        let gw = Gateway::build(
            GatewaySnapshot::default(),
            crate::Limits::local(),
            None,
            &options,
        );
        let chain = basic_auth_chain();
        let held = gw.credentials.occupy().await;
        for authorization in ["Basic YW5uOnMzY3JldC1wYXNz", "Basic ZXZlOndyb25n"] {
            assert_eq!(
                status_of(&gw, &chain, authorization).await,
                (503, "10016".to_owned()),
                "{authorization}"
            );
        }
        drop(held);
        assert_eq!(
            status_of(&gw, &chain, "Basic YW5uOnMzY3JldC1wYXNz").await.0,
            200
        );
    }
}
