//! Who calls the REST API: a personal access token (`Authorization: Bearer …`, which makes the
//! request ignore cookies), or the browser session that the session layer resolved (state
//! changes then pass the same-origin guard, as server functions do). Requests are rate-limited
//! per account (and invalid tokens per client address), and a read-only token may only read.

use std::sync::Arc;

use app::ssr::{ClientIp, CurrentUser};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use service::Ctx;
use service::rate_limit::ActionLimiter;

use super::RestState;
use super::problem::Problem;

/// The longest `Authorization` value looked at; a token is 40 characters.
const MAX_AUTHORIZATION: usize = 200;

/// The bearer token of a request, if it sends one (`Some(Err)`: an `Authorization` header that
/// is not a bearer token).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .filter(|v| v.len() <= MAX_AUTHORIZATION)
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(()),
    )
}

/// A request to the REST API that authenticates with a bearer token (valid or not: the token
/// is checked by [`Caller`]). Such a request's cookies are ignored.
pub fn is_token_request<B>(req: &axum::http::Request<B>) -> bool {
    req.uri().path().starts_with("/api/v1/") && bearer(req.headers()).is_some()
}

/// The REST API's limits: requests per account and minute, and per client address the bearer
/// tokens that turn out not to be valid (each costs a database look-up; past the budget they
/// are refused before it).
#[derive(Clone)]
pub struct ApiLimiter {
    pub requests: Arc<ActionLimiter>,
    pub bad_tokens: Arc<ActionLimiter>,
}

/// Invalid bearer tokens one client address may present a minute.
pub const BAD_TOKENS_PER_MINUTE: usize = 60;

fn too_many(wait: std::time::Duration) -> Problem {
    let secs = wait.as_secs().max(1);
    Problem {
        retry_after: Some(secs),
        ..Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many requests. Try again in {secs} seconds."),
        )
    }
}

/// The caller of a REST operation.
pub struct Caller(pub Ctx);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    RestState: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = RestState::from_ref(state);
        let writes = !matches!(parts.method, Method::GET | Method::HEAD);
        let ctx = match bearer(&parts.headers) {
            Some(Ok(token)) => {
                let address = parts
                    .extensions
                    .get::<ClientIp>()
                    .map_or("unknown", |ip| ip.0.as_str())
                    .to_owned();
                state
                    .limiter
                    .bad_tokens
                    .try_acquire(&address)
                    .map_err(too_many)?;
                let Some(ctx) = service::access_tokens::authenticate(&state.app.db, token).await?
                else {
                    return Err(Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "This token is not valid: it is unknown, expired or revoked.",
                    ));
                };
                // A valid token does not count against the address.
                state.limiter.bad_tokens.give_back(&address);
                if writes && ctx.grant.as_ref().is_some_and(|g| g.read_only) {
                    return Err(Problem::new(
                        StatusCode::FORBIDDEN,
                        "This token is read-only.",
                    ));
                }
                ctx
            }
            Some(Err(())) => {
                return Err(Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "The Authorization header must be `Bearer <token>`.",
                ));
            }
            None => parts
                .extensions
                .get::<CurrentUser>()
                .and_then(|u| u.ctx.clone())
                .ok_or_else(Problem::unauthenticated)?,
        };
        // One budget per account, whichever of its tokens (or its session) it uses.
        state
            .limiter
            .requests
            .try_acquire(&ctx.user_id)
            .map_err(too_many)?;
        Ok(Caller(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header_only() {
        let h = |v: &str| {
            let mut m = axum::http::HeaderMap::new();
            m.insert(header::AUTHORIZATION, v.parse().unwrap());
            m
        };
        assert_eq!(bearer(&h("Bearer tgp_abc")), Some(Ok("tgp_abc")));
        assert_eq!(bearer(&h("bearer  tgp_abc ")), Some(Ok("tgp_abc")));
        assert_eq!(bearer(&h("Basic dXNlcjpwYXNz")), Some(Err(())));
        assert_eq!(bearer(&h("Bearer ")), Some(Err(())));
        assert_eq!(
            bearer(&h(&format!("Bearer {}", "a".repeat(300)))),
            Some(Err(()))
        );
        assert_eq!(bearer(&axum::http::HeaderMap::new()), None);
    }
}
