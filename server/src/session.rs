//! The session middleware: resolves the session cookie to the signed-in user for every request,
//! sends anonymous page requests to the sign-in page and signed-in ones away from it, holds a
//! user who must choose a new password on that page, and names the client's address (the peer,
//! or what trusted proxies say in `X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};

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

/// The page where a user whose password was set by someone else chooses a new one.
pub const CHOOSE_PASSWORD_PAGE: &str = "/choose-password";

/// What a user who must choose a new password may still call: who they are, change the
/// password, sign out. Every other server function answers 403 with [`MUST_CHANGE_PASSWORD`].
fn allowed_while_password_must_change(path: &str) -> bool {
    use leptos::server_fn::ServerFn;
    [
        <app::api::auth::CurrentUser as ServerFn>::PATH,
        <app::api::account::ChangePassword as ServerFn>::PATH,
        <app::api::auth::SignOut as ServerFn>::PATH,
    ]
    .contains(&path)
}

pub const MUST_CHANGE_PASSWORD: &str =
    "Choose a new password before you continue: your current one was set for you.";

/// Requests that are not pages: server functions, the bundle, static files, the health check.
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || ["/healthz", "/favicon.svg", "/favicon.ico"].contains(&path))
}

/// The client's address: the peer, unless the peer is a trusted proxy; then the right-most
/// address in `X-Forwarded-For` (every line, in order) that is not itself a trusted proxy. An
/// entry that is not an address stops the walk at the last trusted hop (it could be forged).
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &domain::policy::IpMatcher,
) -> IpAddr {
    if !trusted.matches(peer) {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Some(ip) = entry
            .parse::<IpAddr>()
            .ok()
            .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        else {
            break;
        };
        client = ip;
        if !trusted.matches(ip) {
            break;
        }
    }
    client
}

/// What a request gets while the database does not answer: `503` with `Retry-After`, as a page
/// for people, as the app's JSON error for server functions, as problem+json for the REST API.
pub fn unavailable(path: &str) -> Response {
    if path.starts_with("/api/v1/") {
        return crate::rest::problem::Problem::unavailable().into_response();
    }
    let error = app::error::AppError::Unavailable;
    let retry = (
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("30"),
    );
    if path.starts_with("/api/") {
        let body = serde_json::to_string(&error).unwrap_or_default();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                retry,
                (header::CONTENT_TYPE, "application/json".parse().unwrap()),
            ],
            body,
        )
            .into_response();
    }
    let message = error.to_string();
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Tollgate is unavailable</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1f2430;display:grid;\
         place-items:center;min-height:100vh;margin:0}}\
         main{{background:#fff;border:1px solid #dde1e7;border-radius:12px;padding:32px 40px;\
         max-width:30rem;box-shadow:0 2px 8px rgba(0,0,0,.05)}}h1{{font-size:1.25rem;margin:0 0 12px}}\
         p{{margin:0 0 8px;line-height:1.5}}</style></head><body><main role=\"alert\">\
         <h1>Tollgate is temporarily unavailable</h1><p>{message}</p>\
         <p>The gateway keeps serving APIs meanwhile.</p></main></body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            retry,
            (
                header::CONTENT_TYPE,
                "text/html; charset=utf-8".parse().unwrap(),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
                    .parse()
                    .unwrap(),
            ),
        ],
        page,
    )
        .into_response()
}

fn forbidden_json(message: &str) -> Response {
    let body = serde_json::to_string(&app::error::AppError::Forbidden(message.to_owned()))
        .unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut current = CurrentUser::default();
    // A REST request with a bearer token ignores cookies: the token alone says who calls.
    let cookies_count = !crate::rest::caller::is_token_request(&req);
    if let Some(token) = session_token(&req, state.secure_cookies).filter(|_| cookies_count) {
        match service::sessions::authenticate(&state.db, &token, state.sessions).await {
            Ok(Some(signed_in)) => {
                current = CurrentUser {
                    ctx: Some(signed_in.ctx),
                    token: Some(token),
                    must_change_password: signed_in.must_change_password,
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "session look-up failed");
                return unavailable(req.uri().path());
            }
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |c| {
                let forwarded = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok());
                client_address(c.0.ip(), forwarded, &state.trusted_proxies).to_string()
            },
        );
    let is_page_request = matches!(*req.method(), Method::GET | Method::HEAD);
    let path = req.uri().path().to_owned();
    if current.must_change_password {
        if path.starts_with("/api/v1/") {
            return crate::rest::problem::Problem::new(StatusCode::FORBIDDEN, MUST_CHANGE_PASSWORD)
                .into_response();
        }
        if path.starts_with("/api/") && !allowed_while_password_must_change(&path) {
            return forbidden_json(MUST_CHANGE_PASSWORD);
        }
        if is_page_request && is_page(&path) && path != CHOOSE_PASSWORD_PAGE {
            return Redirect::to(CHOOSE_PASSWORD_PAGE).into_response();
        }
    } else if current.ctx.is_some() && is_page_request && path == CHOOSE_PASSWORD_PAGE {
        return Redirect::to("/account").into_response();
    }
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
        // Their Account settings live in the portal's shell.
        if portal_only && path == "/account" {
            return Redirect::to("/portal/account").into_response();
        }
        if portal_only
            && is_protected_page(&path)
            && !path.starts_with("/portal")
            && path != CHOOSE_PASSWORD_PAGE
        {
            return Redirect::to("/portal").into_response();
        }
    }
    req.extensions_mut().insert(current);
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    #[test]
    fn client_address_believes_only_trusted_proxies() {
        let trusted =
            domain::policy::IpMatcher::parse(&["10.0.0.0/8".to_owned(), "::1".to_owned()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = domain::policy::IpMatcher::parse(&[]).unwrap();
        for (peer, xff, matcher, expected) in [
            // No trusted proxies (the default): the header is ignored.
            ("203.0.113.9", vec!["1.2.3.4"], &none, "203.0.113.9"),
            // From an untrusted peer: ignored.
            ("203.0.113.9", vec!["1.2.3.4"], &trusted, "203.0.113.9"),
            // From a trusted proxy: the right-most untrusted entry.
            ("10.0.0.1", vec!["1.2.3.4"], &trusted, "1.2.3.4"),
            (
                "10.0.0.1",
                vec!["6.6.6.6, 1.2.3.4, 10.0.0.2"],
                &trusted,
                "1.2.3.4",
            ),
            (
                "10.0.0.1",
                vec!["6.6.6.6", "1.2.3.4:5678"],
                &trusted,
                "1.2.3.4",
            ),
            ("::1", vec!["2001:db8::1"], &trusted, "2001:db8::1"),
            // No header, or only proxies in it.
            ("10.0.0.1", vec![], &trusted, "10.0.0.1"),
            ("10.0.0.1", vec!["10.0.0.3"], &trusted, "10.0.0.3"),
            // Garbage stops the walk at the last trusted hop.
            (
                "10.0.0.1",
                vec!["1.2.3.4, nonsense, 10.0.0.2"],
                &trusted,
                "10.0.0.2",
            ),
        ] {
            assert_eq!(
                super::client_address(ip(peer), xff.iter().copied(), matcher),
                ip(expected),
                "{peer} {xff:?}"
            );
        }
    }

    #[test]
    fn only_three_functions_while_the_password_must_change() {
        use leptos::server_fn::ServerFn;
        assert!(super::allowed_while_password_must_change(
            <app::api::account::ChangePassword as ServerFn>::PATH
        ));
        assert!(!super::allowed_while_password_must_change(
            <app::api::orgs::ListOrgs as ServerFn>::PATH
        ));
    }
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
            ("/account", true),
            ("/portal/account", true),
            ("/choose-password", true),
            ("/admin/accounts", true),
        ] {
            assert_eq!(super::is_protected_page(path), expected, "{path}");
        }
    }
}
