//! `/api/v1/config`: the declarative configuration over REST, the same two operations as
//! `server export` and `server apply` (`service::declarative`), and the file format's JSON
//! Schema.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::declarative::ApplyReport;
use serde::Deserialize;
use utoipa::IntoParams;

use super::RestState;
use super::answer;
use super::caller::Caller;
use super::extract::Query;
use super::problem::{ApiResult, Problem};

/// The most changes one apply over REST may make; a bigger file goes through `server apply`.
pub const MAX_REST_CHANGES: usize = 1_000;
/// How long one apply over REST may run.
pub const APPLY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only these organizations (ids, comma-separated); default: every one you may view.
    #[serde(default)]
    pub org: Option<String>,
}

/// Your organizations as a configuration file (YAML): members, plans, APIs, clients,
/// contracts and policies with every version. Secrets are `${NAME}` references.
#[utoipa::path(get, operation_id = "exportConfig", path = "/api/v1/config", tag = "Configuration",
    params(ExportQuery),
    responses((status = 200,
        description = "The configuration file (YAML; its JSON Schema is `/api/v1/config.schema.json`)",
        content_type = "application/yaml", body = Object),
        (status = 401, body = Problem)))]
pub async fn export(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let only: Vec<String> = q
        .org
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let doc = service::declarative::export(&s.app.db, &ctx, &only).await?;
    let yaml = service::declarative::to_yaml(&doc)?;
    let etag = answer::etag_of(yaml.as_bytes());
    let tag = HeaderValue::from_str(&etag).map_err(|_| Problem::bad_request("etag"))?;
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        })
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            ),
            (header::ETAG, tag),
        ],
        yaml,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplyQuery {
    /// Report what would change, and write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Delete the plans, APIs, clients, contracts and members of the file's organizations that
    /// the file does not name.
    #[serde(default)]
    pub prune: bool,
}

/// Brings your organizations to what a configuration file (YAML or JSON) says, in one
/// transaction: all or nothing. Answers with the changes. `${NAME}` references are not read
/// over REST: a secret already stored is kept, a new one must be given with `server apply`.
#[utoipa::path(post, operation_id = "applyConfig", path = "/api/v1/config:apply", tag = "Configuration",
    params(ApplyQuery),
    request_body(content = String, content_type = "application/yaml",
        description = "A configuration file (see `/api/v1/config.schema.json`); JSON is accepted too"),
    responses((status = 200, body = ApplyReport), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn apply(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Query(q): Query<ApplyQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let readable = [
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "application/json",
    ];
    if !readable.contains(&media.as_str()) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the file as application/yaml (or application/json).",
        ));
    }
    let body = body.map_err(|e| Problem::new(StatusCode::PAYLOAD_TOO_LARGE, e.body_text()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::bad_request("The file is not UTF-8 text."))?;
    let no_secrets = |_: &str| None;
    let options = service::declarative::ApplyOptions {
        dry_run: q.dry_run,
        prune: q.prune,
        secrets: &no_secrets,
        max_changes: Some(MAX_REST_CHANGES),
    };
    // The run holds the database's write lock: it has a deadline, after which it rolls back.
    let report = tokio::time::timeout(
        APPLY_DEADLINE,
        service::declarative::apply(&s.app.db, &ctx, text, options),
    )
    .await
    .map_err(|_| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Applying this file took longer than {} seconds and was rolled back; apply it in \
                 parts, or with `server apply`.",
                APPLY_DEADLINE.as_secs()
            ),
        )
    })??;
    Ok(axum::Json(report).into_response())
}

/// The JSON Schema of the configuration file.
pub fn schema_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let schema = schemars::schema_for!(domain::declarative::Document);
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    })
}

/// `GET /api/v1/config.schema.json`, for editors and validators: no token needed.
pub async fn schema() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/schema+json"),
        )],
        schema_json(),
    )
        .into_response()
}
