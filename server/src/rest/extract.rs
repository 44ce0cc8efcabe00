//! axum's extractors with problem+json refusals: a path, query or body that does not parse is
//! a `400` (or `415`/`413`) that says what was wrong, never axum's plain-text answer.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::problem::Problem;

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct Query<T>(pub T);

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct Json<T>(pub T);

impl From<PathRejection> for Problem {
    fn from(r: PathRejection) -> Self {
        Problem::not_found(format!("No such resource: {}", r.body_text()))
    }
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        Problem::bad_request(r.body_text())
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        let status = match &r {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
            // Well-formed JSON of the wrong shape: a missing, unknown or mistyped field.
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        Problem::new(status, r.body_text())
    }
}

/// Which kind of versioned object a path names: `clients`, `apis` or `plans`, as in the UI's
/// URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Clients,
    Apis,
    Plans,
}

impl From<Kind> for domain::EntityKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Clients => domain::EntityKind::Client,
            Kind::Apis => domain::EntityKind::Api,
            Kind::Plans => domain::EntityKind::Plan,
        }
    }
}

/// The path of a client, API or plan version: organization, id, version.
pub type VersionPath = Path<(String, String, String)>;

/// Where a version lives, from its path.
pub fn version_at((org, id, version): (String, String, String)) -> service::EntityRef {
    service::EntityRef {
        org_id: org,
        id,
        version,
    }
}
