//! The answers the gateway makes itself: its own refusals ([`failure`], JSON
//! `{"responseCode", "failureCode", "message"}` with `X-Gateway-Error`) and a policy's
//! ([`policy_failure`], with `X-Policy-Failure-Type`, `-Code` and `-Message`). Every one carries
//! `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`, and its [`FailureCode`] as a
//! response extension for `/metrics` and the metrics record. The codes, their statuses and
//! meanings are `domain::failure::FailureCode` (`docs/failure-codes.md`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::failure::{FailureCode, Family};
use domain::policy::PolicyFailure;

use crate::chain::add_headers;

/// Headers on every answer the gateway or a policy makes itself: not to be sniffed as another
/// type, not to be kept by caches.
fn error_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A gateway refusal with `code`'s usual status.
pub(crate) fn failure(code: FailureCode, message: &str) -> Response {
    failure_as(status_of(code.status()), code, message)
}

/// A gateway refusal with another of `code`'s statuses (504 for a backend that timed out, 508
/// for a loop).
pub(crate) fn failure_as(status: StatusCode, code: FailureCode, message: &str) -> Response {
    debug_assert_eq!(code.family(), Family::Gateway, "{code:?}");
    debug_assert!(
        code.statuses().contains(&status.as_u16()),
        "{code:?} {status}"
    );
    let body = serde_json::json!({
        "responseCode": status.as_u16(),
        "failureCode": code.number(),
        "message": message,
    });
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    error_headers(h);
    if let Ok(v) = HeaderValue::from_str(message) {
        h.insert("x-gateway-error", v);
    }
    res.extensions_mut().insert(code);
    res
}

/// A policy's refusal as a response.
pub(crate) fn policy_failure(f: &PolicyFailure) -> Response {
    let mut res = (status_of(f.status), f.body()).into_response();
    let h = res.headers_mut();
    error_headers(h);
    add_headers(h, &f.response_headers());
    res.extensions_mut().insert(f.code);
    res
}

/// A refusal of the gateway's own, not yet turned into its [`failure`] answer (a `Response` is
/// too large to return by value from every check; a policy's refusal is a [`PolicyFailure`]).
#[derive(Debug)]
pub(crate) enum Refusal {
    Gateway(FailureCode, &'static str),
}

impl From<Refusal> for Response {
    fn from(refusal: Refusal) -> Response {
        match refusal {
            Refusal::Gateway(code, message) => failure(code, message),
        }
    }
}

/// The failure code an answer was marked with, if the gateway or a policy refused.
pub(crate) fn code_of(res: &Response) -> Option<FailureCode> {
    res.extensions().get::<FailureCode>().copied()
}

fn status_of(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN)
}
