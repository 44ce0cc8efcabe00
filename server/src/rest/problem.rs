//! Errors as RFC 9457 `application/problem+json`, mapped once from [`service::Error`]: the same
//! messages and field paths that the UI shows next to its fields.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem detail. `errors` lists the fields to blame (`field` as the UI names them, e.g.
/// `name` or `rules[0].roles`); it is empty when no single field is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank`: the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (429 only).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Send a personal access token as `Authorization: Bearer <token>`, or sign in.",
        )
    }

    /// The database does not answer: 503, try again in 30 seconds.
    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(30),
            // The UI's words for it, in one place.
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                app::error::AppError::Unavailable.to_string(),
            )
        }
    }

    /// One field to blame, with a 422.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        service::Error::invalid(field, message).into()
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<service::Error> for Problem {
    fn from(e: service::Error) -> Self {
        use service::Error as E;
        match e {
            E::Invalid(errors) => Self {
                errors,
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Please correct the highlighted fields.",
                )
            },
            E::Conflict(f) => {
                let detail = f.message.clone();
                Self {
                    errors: if f.field.is_empty() { vec![] } else { vec![f] },
                    ..Self::new(StatusCode::CONFLICT, detail)
                }
            }
            E::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            E::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            E::Unauthenticated => Self::unauthenticated(),
            E::RateLimited(m) => Self::new(StatusCode::TOO_MANY_REQUESTS, m),
            E::Unavailable(err) => {
                tracing::warn!(error = %service::error_chain(err.as_ref()), "the database does not answer");
                Self::unavailable()
            }
            E::Unexpected(err) => {
                tracing::error!(error = %service::error_chain(err.as_ref()), "unexpected error in the REST API");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Please try again.",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, Problem>;
