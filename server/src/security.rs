//! Request-level protections: the same-origin check on every state-changing request, the bounds
//! on server-function bodies and the security headers on every response (the HTML pages' CSP
//! comes from `app::shell`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::RequestBounds;

/// Whether a state-changing request comes from our own origin. Browsers send `Sec-Fetch-Site`
/// (modern) and `Origin` (on every POST); a request with neither is refused.
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(origin_host) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

/// Refuses cross-origin state-changing requests with 403.
pub async fn same_origin_guard(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A REST request with a bearer token carries no ambient authority (its cookies are
    // ignored), so another site cannot make a browser send it.
    // Nor does one with neither a token nor a cookie: it goes on to be answered `401` as
    // unauthenticated (as a pipeline that forgot its token should be told).
    let rest = req.uri().path().starts_with("/api/v1/");
    let no_credentials = rest && !req.headers().contains_key(header::COOKIE);
    if !safe
        && !is_same_origin(req.headers())
        && !crate::rest::caller::is_token_request(&req)
        && !no_credentials
    {
        tracing::warn!(path = %req.uri().path(), "cross-origin request refused");
        if rest {
            // The REST API's errors are all problem+json.
            return crate::rest::problem::Problem::new(
                StatusCode::FORBIDDEN,
                "Cross-origin request refused: send a personal access token instead of the \
                 session cookie.",
            )
            .into_response();
        }
        return (StatusCode::FORBIDDEN, "Cross-origin request refused.").into_response();
    }
    next.run(req).await
}

/// Reads the body of every state-changing request (in practice: server functions) within
/// `bounds`: larger than `max_body_bytes` is `413`, not all there within `body_read_timeout` is
/// `408`. The handler gets the buffered body (server functions read it whole anyway). leptos_axum
/// registers each server function's own route and reads the body itself, so axum's
/// `DefaultBodyLimit` (which only axum's extractors obey) would not bound it.
pub async fn bound_body(State(bounds): State<RequestBounds>, req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let limit = bounds.max_body_bytes;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The request is too large: at most {} are accepted.",
                domain::policy::bytes(limit as u64)
            ),
        )
            .into_response()
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let read = http_body_util::Limited::new(body, limit).collect();
    let bytes = match tokio::time::timeout(bounds.body_read_timeout, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                "The request body could not be read.",
            )
                .into_response();
        }
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "The request body did not arrive in time.",
            )
                .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Features no Tollgate page uses, denied to every page and anything it embeds.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
     display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), \
     midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()";

/// `Strict-Transport-Security` when Tollgate is served over TLS (`TOLLGATE_COOKIE_SECURE=true`):
/// browsers then refuse plain HTTP to this host for a year.
pub const HSTS: &str = "max-age=31536000";

/// Whether an answer is a page or a server function's: these carry the signed-in user's data
/// (API keys among it), so no cache keeps them. Static files (`/pkg/`, `public/`) keep the
/// caching their handler gives them.
fn is_private_answer(path: &str, res: &Response) -> bool {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    html || path.starts_with("/api/") || path.starts_with("/portal/apis/")
}

/// Headers for every response. HTML pages bring their own nonce-based CSP; everything else
/// gets a CSP that allows nothing and no framing. `secure` is `TOLLGATE_COOKIE_SECURE`.
pub async fn security_headers(State(secure): State<bool>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let private = is_private_answer(&path, &res);
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        let cases: &[(&[(&'static str, &str)], bool)] = &[
            (&[("sec-fetch-site", "same-origin")], true),
            (
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://a:1"),
                    ("host", "a:1"),
                ],
                false,
            ),
            (&[("sec-fetch-site", "same-site")], false),
            (
                &[
                    ("origin", "http://127.0.0.1:3000"),
                    ("host", "127.0.0.1:3000"),
                ],
                true,
            ),
            (
                &[
                    ("origin", "https://evil.example"),
                    ("host", "127.0.0.1:3000"),
                ],
                false,
            ),
            (&[("origin", "null"), ("host", "127.0.0.1:3000")], false),
            (&[("host", "127.0.0.1:3000")], false),
        ];
        for (pairs, expected) in cases {
            assert_eq!(is_same_origin(&headers(pairs)), *expected, "{pairs:?}");
        }
    }
}
