//! The session middleware: resolves the session cookie to the signed-in user for every request,
//! sends anonymous page requests to the sign-in page and signed-in ones away from it.

use std::net::SocketAddr;

use app::ssr::{AppState, ClientIp, CurrentUser};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The session secret from the cookie named for the configured mode (`__Host-tollgate_session`
/// when cookies are `Secure`): the other name is ignored, so a cookie planted over plain HTTP
/// cannot stand in for the secure one.
fn session_token(req: &Request, secure: bool) -> Option<String> {
    let cookie = service::sessions::cookie_name(secure);
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, value)| *name == cookie && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Pages need a signed-in user; server functions (which check for themselves), the bundle in
/// `/pkg/`, the files of `public/` and the health check do not.
pub fn is_protected_page(path: &str) -> bool {
    let public = [
        "/signin",
        "/signup",
        "/healthz",
        "/favicon.svg",
        "/favicon.ico",
    ];
    // The portal's home, catalog and API pages are for anonymous visitors too; its Sign Up
    // wizard and My Clients are not.
    let portal_public =
        path == "/portal" || path == "/portal/apis" || path.starts_with("/portal/apis/");
    !(public.contains(&path)
        || portal_public
        || path.starts_with("/api/")
        || path.starts_with("/pkg/"))
}

pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut current = CurrentUser::default();
    if let Some(token) = session_token(&req, state.secure_cookies) {
        match service::sessions::authenticate(&state.db, &token, state.sessions).await {
            Ok(Some(ctx)) => {
                current = CurrentUser {
                    ctx: Some(ctx),
                    token: Some(token),
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "session look-up failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Tollgate cannot reach its database.",
                )
                    .into_response();
            }
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let is_page_request = matches!(*req.method(), Method::GET | Method::HEAD);
    let path = req.uri().path().to_owned();
    if is_page_request {
        if current.ctx.is_none() && is_protected_page(&path) {
            let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
            return Redirect::to(&format!(
                "/signin?next={}",
                app::components::ui::urlencode(next)
            ))
            .into_response();
        }
        if current.ctx.is_some() && (path == "/signin" || path == "/signup") {
            return Redirect::to("/").into_response();
        }
        // Portal-only accounts have the Developer Portal, not API Management.
        let portal_only = current
            .ctx
            .as_ref()
            .is_some_and(|c| c.portal_only && !c.is_admin);
        if portal_only && is_protected_page(&path) && !path.starts_with("/portal") {
            return Redirect::to("/portal").into_response();
        }
    }
    req.extensions_mut().insert(current);
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn protected_pages() {
        for (path, expected) in [
            ("/", true),
            ("/orgs/ACME", true),
            ("/signin", false),
            ("/signup", false),
            ("/healthz", false),
            ("/api/sign_in", false),
            ("/pkg/tollgate.wasm", false),
            ("/favicon.svg", false),
            ("/orgs/ACME/clients/App/1.0", true),
            ("/orgs/Acme.Inc", true),
        ] {
            assert_eq!(super::is_protected_page(path), expected, "{path}");
        }
    }
}
