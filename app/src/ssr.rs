//! Server-side plumbing shared by the server functions and the `server` crate: the application
//! state, the signed-in user that the session middleware puts on each request, and cookies.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;
use service::rate_limit::SignInLimiter;
use service::sessions::SessionPolicy;
use service::{Ctx, DatabaseConnection};

use crate::error::AppError;

/// Everything a request handler needs, cloned cheaply into each request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub limiter: Arc<SignInLimiter>,
    pub sessions: SessionPolicy,
    /// Add `Secure` to cookies (when served behind TLS).
    pub secure_cookies: bool,
    /// `TOLLGATE_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<domain::policy::IpMatcher>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Put on every request by the session middleware.
#[derive(Clone, Debug, Default)]
pub struct CurrentUser {
    pub ctx: Option<Ctx>,
    /// The session secret from the cookie, when it named a live session.
    pub token: Option<String>,
    /// The user must choose a new password before anything else.
    pub must_change_password: bool,
}

/// The management REST API's OpenAPI document, summarized for the reference page
/// (`/docs/api`); the server crate, which generates the document, provides it as context.
#[derive(Clone, Debug)]
pub struct ApiReference(pub Arc<domain::portal::DefinitionSummary>);

/// The client's address (the peer, or what trusted proxies say), for sign-in throttling.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Unexpected
    })
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

pub fn current_user() -> CurrentUser {
    parts()
        .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
        .unwrap_or_default()
}

pub fn client_ip() -> String {
    parts()
        .and_then(|p| p.extensions.get::<ClientIp>().map(|c| c.0.clone()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The signed-in user, or `Unauthenticated` (HTTP 401).
pub fn ctx() -> Result<Ctx, AppError> {
    current_user()
        .ctx
        .ok_or_else(|| service::Error::Unauthenticated.into())
}

/// The session cookie: `__Host-tollgate_session` (with `Secure`) behind TLS, `tollgate_session`
/// otherwise (see `service::sessions::cookie_name`). `max_age_secs = 0` clears it.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        service::sessions::cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

pub fn set_cookie(value: String) {
    if let (Some(res), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        res.append_header(http::header::SET_COOKIE, value);
    }
}

/// Where a client, API or plan version lives, from a server function's arguments.
pub fn at(org: String, id: String, version: String) -> service::EntityRef {
    service::EntityRef {
        org_id: org,
        id,
        version,
    }
}
