//! The policy chain of one request: Client → Plan → API, each in order. [`request`] runs the
//! policies forward on the request (the first refusal answers), dispatching each compiled
//! policy (`domain::policy::Compiled`) to its phase function; [`response`] runs the ones that
//! touch responses in reverse. The rules themselves are `domain::policy`; this module applies
//! them with the node's stores (limit counters, response cache, verified credentials).
//!
//! Bounds: a URL Rewriting policy rewrites a response body of at most [`MAX_REWRITE_BODY`] and into
//! at most as much; a larger one (before or after) answers 502 (`FailureCode::BackendFailed`)
//! rather than going out unrewritten, since rewriting is often what hides a backend's own
//! addresses. The cache answers a request once the whole chain has passed, under a key of the
//! policy, the API version, the caller (client version and BASIC user), the method, the path and
//! the query, and the values of the headers the response varies on.

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::failure::FailureCode;
use domain::policy::{
    BasicAuthRealm, Compiled, CorsRules, Direction, Limit, LimitKind, Period, PolicyFailure,
    TransferQuota, UrlRewriter, basic_credentials, is_preflight, quota_failure, rate_limit_failure,
    transfer_quota_failure,
};
use http_body_util::BodyExt;
use service::gateway::Chain;
use service::limits::counter_key;

use crate::Gateway;
use crate::errors::{Refusal, failure, policy_failure};

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
    /// The version of the snapshot whose chains serve the request.
    pub snapshot: i64,
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
    /// The user a BASIC Authentication policy let in (and the digest of a JWT's token): the
    /// caller part of cache keys.
    user: Option<String>,
    /// Who JWT Validation or BASIC Authentication verified, for Authorization.
    principal: domain::policy::Principal,
}

fn unusable() -> Response {
    failure(
        FailureCode::PolicyUnusable,
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

/// The chains a request meets, in order.
pub(crate) struct Chains<'a> {
    /// The calling client version's own (the consumer's); none on a public call.
    pub client: Option<&'a Chain>,
    /// The provider's: the contract's plan, then the API version.
    pub provider: &'a [&'a Chain],
}

/// Runs the chains forward, each policy through its phase function. `Ok(None)`: go on to the
/// backend; `Ok(Some(res))`: answered here (a CORS preflight, or a cached response once every
/// policy has passed); `Err(res)`: refused.
pub(crate) async fn request(
    gw: &Gateway,
    chains: Chains<'_>,
    ex: &mut Exchange,
    headers: &mut HeaderMap,
    after: &mut After,
) -> Result<Option<Response>, Response> {
    let now = chrono::Utc::now();
    if let Some(client) = chains.client {
        if let Some(answer) = run(gw, client, ex, headers, after, now).await? {
            return Ok(Some(answer));
        }
        // Whom the consumer's own policies verified (their BASIC users, tokens of their own
        // secret) vouches for nobody to the provider's Authorization.
        after.principal = domain::policy::Principal::default();
    }
    for chain in chains.provider {
        if let Some(answer) = run(gw, chain, ex, headers, after, now).await? {
            return Ok(Some(answer));
        }
    }
    look_up_cache(gw, ex, headers, after);
    Ok(after.hit.take().map(cached_response))
}

/// One chain forward: `Ok(Some(res))` when a policy answers (a CORS preflight).
async fn run(
    gw: &Gateway,
    chain: &Chain,
    ex: &mut Exchange,
    headers: &mut HeaderMap,
    after: &mut After,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Response>, Response> {
    for (i, policy) in chain.iter().enumerate() {
        let Ok(rule) = &policy.rule else {
            return Err(unusable());
        };
        let at = || (chain.clone(), i);
        let method = ex.method.as_str();
        match rule {
            Compiled::RateLimit(l) => rate_limit(gw, policy.id, l, ex, headers, after).await?,
            Compiled::Quota(l) => quota(gw, policy.id, l, ex, headers, after).await?,
            Compiled::TransferQuota(t) => {
                transfer_quota(gw, policy.id, t, ex, headers, after).await?;
            }
            Compiled::IpAllowlist(r) => r.allow(headers, ex.peer).map_err(refused)?,
            Compiled::IpBlocklist(r) => r.block(headers, ex.peer).map_err(refused)?,
            Compiled::IgnoredResources(f) => f.check(method, &ex.rest).map_err(refused)?,
            Compiled::TimeRestricted(w) => w.check(&ex.rest, now).map_err(refused)?,
            Compiled::BasicAuth(realm) => basic_auth(gw, realm, ex, headers, after).await?,
            Compiled::Jwt(rules) => {
                let (claims, caller) = crate::jwt::enforce(
                    gw,
                    ex.snapshot,
                    policy.id,
                    rules,
                    headers,
                    now.timestamp(),
                )
                .await?;
                // BASIC user names have no ':'.
                after.user = Some(match after.user.take() {
                    Some(user) => format!("{user}:{caller}"),
                    None => caller,
                });
                after.principal.claims = Some(claims);
            }
            Compiled::Authorization(rules) => rules
                .check(method, &ex.rest, &after.principal)
                .map_err(refused)?,
            Compiled::Cors(rules) => {
                if let Some(answer) = cors(rules, ex, headers, after).map_err(refused)? {
                    return Ok(Some(answer));
                }
            }
            Compiled::SimpleHeader(editor) => {
                editor.apply_request(headers);
                after.editors.push(at());
            }
            Compiled::UrlRewriting(rewriter) => {
                url_rewriting(rewriter, ex, headers)?;
                after.editors.push(at());
            }
            Compiled::Caching(rules) => {
                if matches!(method, "GET" | "HEAD")
                    && after.caching.is_none()
                    && rules.cacheable(method, &ex.rest, None)
                {
                    after.caching = Some(at());
                }
            }
        }
    }
    Ok(None)
}

/// A policy's refusal as the answer.
fn refused(f: PolicyFailure) -> Response {
    policy_failure(&f)
}

/// Rate Limiting: one GCRA step on the caller's counter.
async fn rate_limit(
    gw: &Gateway,
    policy_id: i32,
    l: &Limit,
    ex: &Exchange,
    headers: &HeaderMap,
    after: &mut After,
) -> Result<(), Response> {
    let Some(key) = scope_key(policy_id, l.granularity, l.header.as_deref(), ex, headers) else {
        return Ok(());
    };
    let out = gw.limits.rate(&key, l.limit, l.period).await;
    if !out.allowed {
        return Err(refused(rate_limit_failure(l.limit, out.reset_secs)));
    }
    after
        .headers
        .extend(LimitKind::RateLimit.headers(l.limit, out.remaining, out.reset_secs));
    Ok(())
}

/// Quota: one request counted in the caller's calendar window.
async fn quota(
    gw: &Gateway,
    policy_id: i32,
    l: &Limit,
    ex: &Exchange,
    headers: &HeaderMap,
    after: &mut After,
) -> Result<(), Response> {
    let Some(key) = scope_key(policy_id, l.granularity, l.header.as_deref(), ex, headers) else {
        return Ok(());
    };
    let out = gw.limits.quota(&key, l.limit, l.period, 1, true).await;
    if !out.allowed {
        return Err(refused(quota_failure(l.limit, out.reset_secs)));
    }
    after
        .headers
        .extend(LimitKind::Quota.headers(l.limit, out.remaining, out.reset_secs));
    Ok(())
}

/// Transfer Quota: checks what is left (and counts an upload of known length); a streamed
/// upload and a download are counted once their bodies have passed.
async fn transfer_quota(
    gw: &Gateway,
    policy_id: i32,
    t: &TransferQuota,
    ex: &Exchange,
    headers: &HeaderMap,
    after: &mut After,
) -> Result<(), Response> {
    let Some(key) = scope_key(policy_id, t.granularity, t.header.as_deref(), ex, headers) else {
        return Ok(());
    };
    let upload = matches!(t.direction, Direction::Upload | Direction::Both);
    let download = matches!(t.direction, Direction::Download | Direction::Both);
    let cost = if upload { ex.bytes_in } else { 0 };
    let out = gw.limits.quota(&key, t.limit, t.period, cost, true).await;
    if !out.allowed || out.remaining == 0 {
        return Err(refused(transfer_quota_failure(t.limit, out.reset_secs)));
    }
    if upload && ex.streamed_upload {
        after.uploads.push((key.clone(), t.limit, t.period));
    }
    if download {
        after.downloads.push((key, t.limit, t.period));
    }
    after
        .headers
        .extend(LimitKind::TransferQuota.headers(t.limit, out.remaining, out.reset_secs));
    Ok(())
}

/// BASIC Authentication: the credentials checked (on the password pool), the header taken
/// away and the identity forwarded.
async fn basic_auth(
    gw: &Gateway,
    realm: &BasicAuthRealm,
    ex: &Exchange,
    headers: &mut HeaderMap,
    after: &mut After,
) -> Result<(), Response> {
    let credentials = basic_credentials(headers);
    // A known user's password and an unknown user's (against the dummy hash) cost the same
    // argon2 work.
    if let Some((user, password)) = &credentials
        && (ex.https || !realm.require_tls())
    {
        let hash = realm.hash_to_verify(user, service::accounts::dummy_hash());
        gw.credentials
            .verify(user, hash, password)
            .await
            .map_err(|_| refused(realm.busy()))?;
    }
    let asked = credentials.as_ref().map_or("", |(u, _)| u.as_str());
    let user = realm
        .authenticate(headers, ex.https, |hash, password| {
            gw.credentials.contains(asked, hash, password)
        })
        .map_err(refused)?;
    headers.remove(header::AUTHORIZATION);
    realm.forward_identity(headers, &user);
    after.principal.basic_roles = Some(realm.roles(&user));
    after.user = Some(user);
    Ok(())
}

/// CORS: a preflight is answered here; an actual request collects the headers of its answer.
fn cors(
    rules: &CorsRules,
    ex: &Exchange,
    headers: &HeaderMap,
    after: &mut After,
) -> Result<Option<Response>, PolicyFailure> {
    if is_preflight(ex.method.as_str(), headers) {
        return match rules.preflight(headers) {
            Some(answer) => answer.map(|headers| Some(preflight_answer(&headers))),
            None => Ok(None),
        };
    }
    let add = rules.check_actual(ex.method.as_str(), headers)?;
    after.headers.extend(add);
    after.cors = true;
    Ok(None)
}

/// A preflight's answer: 204 with the CORS headers.
fn preflight_answer(headers: &[(String, String)]) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    add_headers(res.headers_mut(), headers);
    res
}

/// The answer of the first CORS policy of `chain` to a preflight, if it has one (for a
/// preflight without an API key, before the caller is known).
pub(crate) fn preflight(chain: &Chain, headers: &HeaderMap) -> Option<Response> {
    chain.iter().find_map(|p| match &p.rule {
        Ok(Compiled::Cors(rules)) => Some(match rules.preflight(headers)? {
            Ok(answer) => preflight_answer(&answer),
            Err(f) => policy_failure(&f),
        }),
        _ => None,
    })
}

/// URL Rewriting on the request: path and query (never into another host), then headers.
fn url_rewriting(
    rewriter: &UrlRewriter,
    ex: &mut Exchange,
    headers: &mut HeaderMap,
) -> Result<(), Refusal> {
    let path_and_query = match &ex.query {
        Some(q) => format!("{}?{q}", ex.rest),
        None => ex.rest.clone(),
    };
    let Some(rewritten) = rewriter.rewrite_url(&path_and_query) else {
        return Err(Refusal::Gateway(
            FailureCode::BackendFailed,
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
    Ok(())
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
                FailureCode::BackendFailed,
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
                FailureCode::BackendFailed,
                "The API's response is too large to rewrite.",
            );
        };
        let mut text = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
        for r in body_rewriters {
            let Some(rewritten) = r.rewrite_body(&text, MAX_REWRITE_BODY) else {
                return failure(
                    FailureCode::BackendFailed,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use domain::policy::PolicyConfig;
    use service::gateway::{GatewayPolicy, GatewaySnapshot};

    use crate::{Options, PasswordChecks};

    fn basic_auth_chain() -> Chain {
        basic_auth_chain_with_roles(&[])
    }

    /// BASIC Authentication letting in "ann" with password "s3cret-pass" and `roles`.
    fn basic_auth_chain_with_roles(roles: &[&str]) -> Chain {
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::encode_b64(b"tollgate-salt-16").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"s3cret-pass", &salt)
            .unwrap()
            .to_string();
        let json = serde_json::json!({
            "realm": "Weather",
            "identities": [{"username": "ann", "passwordHash": hash, "roles": roles}],
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
            snapshot: 0,
        }
    }

    /// The status and failure code of running `chain` on a request with `authorization`.
    async fn status_of(gw: &Gateway, chain: &Chain, authorization: &str) -> (u16, String) {
        let chains = Chains {
            client: None,
            provider: &[chain],
        };
        status_through(gw, chains, authorization).await
    }

    async fn status_through(
        gw: &Gateway,
        chains: Chains<'_>,
        authorization: &str,
    ) -> (u16, String) {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        let out = request(
            gw,
            chains,
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

    fn compiled(id: &str, json: serde_json::Value) -> Compiled {
        Compiled::compile(&PolicyConfig::parse(id, &json.to_string()).unwrap()).unwrap()
    }

    fn admin_only() -> Compiled {
        compiled(
            domain::policy::AUTHORIZATION,
            serde_json::json!({"rolesClaim": "roles", "rules": [{"pathPattern": "/.*", "roles": ["admin"]}]}),
        )
    }

    #[tokio::test]
    async fn authorization_sees_the_roles_of_the_basic_user_let_in_before_it() {
        let gw = Gateway::new(GatewaySnapshot::default());
        let chain = |roles: &[&str]| {
            let Ok(Compiled::BasicAuth(realm)) = basic_auth_chain_with_roles(roles)[0].rule.clone()
            else {
                unreachable!()
            };
            Chain::from(vec![
                GatewayPolicy {
                    id: 1,
                    rule: Ok(Compiled::BasicAuth(realm)),
                },
                GatewayPolicy {
                    id: 2,
                    rule: Ok(admin_only()),
                },
            ])
        };
        let ann = "Basic YW5uOnMzY3JldC1wYXNz";
        assert_eq!(status_of(&gw, &chain(&["admin"]), ann).await.0, 200);
        assert_eq!(
            status_of(&gw, &chain(&["reader"]), ann).await,
            (403, "10046".to_owned())
        );
        // Authorization alone has nobody verified to look at.
        let alone = Chain::from(vec![GatewayPolicy {
            id: 2,
            rule: Ok(admin_only()),
        }]);
        assert_eq!(status_of(&gw, &alone, ann).await, (403, "10046".to_owned()));
    }

    #[tokio::test]
    async fn whom_the_consumers_own_policies_let_in_counts_for_nobody_else() {
        let gw = Gateway::new(GatewaySnapshot::default());
        let client = basic_auth_chain_with_roles(&["admin"]);
        let ann = "Basic YW5uOnMzY3JldC1wYXNz";
        let authorization = Chain::from(vec![GatewayPolicy {
            id: 2,
            rule: Ok(admin_only()),
        }]);
        // The provider's Authorization does not see the user of the client's own BASIC policy.
        let through_client = Chains {
            client: Some(&client),
            provider: &[&authorization],
        };
        assert_eq!(
            status_through(&gw, through_client, ann).await,
            (403, "10046".to_owned())
        );
        // The client's own Authorization does.
        let own = Chain::from(vec![
            GatewayPolicy {
                id: 1,
                rule: client[0].rule.clone(),
            },
            GatewayPolicy {
                id: 2,
                rule: Ok(admin_only()),
            },
        ]);
        let empty = Chain::from(Vec::new());
        let within_client = Chains {
            client: Some(&own),
            provider: &[&empty],
        };
        assert_eq!(status_through(&gw, within_client, ann).await.0, 200);
    }

    #[tokio::test]
    async fn authorization_sees_the_claims_of_the_token_verified_before_it() {
        let gw = Gateway::new(GatewaySnapshot::default());
        let secret = "0123456789abcdef0123456789abcdef-secret";
        let jwt = compiled(
            domain::policy::JWT,
            serde_json::json!({"sharedSecret": secret, "algorithms": ["HS256"]}),
        );
        let chain = Chain::from(vec![
            GatewayPolicy {
                id: 1,
                rule: Ok(jwt),
            },
            GatewayPolicy {
                id: 2,
                rule: Ok(admin_only()),
            },
        ]);
        let token = |roles: &[&str]| {
            let claims =
                serde_json::json!({"exp": chrono::Utc::now().timestamp() + 60, "roles": roles});
            let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
            let jwt =
                jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
            format!("Bearer {jwt}")
        };
        assert_eq!(status_of(&gw, &chain, &token(&["admin"])).await.0, 200);
        assert_eq!(
            status_of(&gw, &chain, &token(&["reader"])).await,
            (403, "10046".to_owned())
        );
        assert_eq!(
            status_of(&gw, &chain, "Bearer x.y.z").await,
            (401, "10041".to_owned())
        );
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
