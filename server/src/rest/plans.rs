//! `/api/v1/orgs/{org}/plans/{id}/versions/{version}`: a plan version and its lock.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::dto::PlanVersionDetail;

use super::RestState;
use super::answer;
use super::caller::Caller;
use super::extract::{Path, version_at};
use super::problem::{ApiResult, Problem};

/// A plan version.
#[utoipa::path(get, operation_id = "getPlanVersion", path = "/api/v1/orgs/{org}/plans/{id}/versions/{version}", tag = "Plans",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = PlanVersionDetail, headers(("ETag" = String))), (status = 304), (status = 404, body = Problem)))]
pub async fn get(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let detail = service::plans::get_version(&s.app.db, &ctx, &org, &id, &version).await?;
    Ok(answer::read(&headers, &detail))
}

/// Locks the version: its policies are fixed, and APIs may offer it.
#[utoipa::path(post, operation_id = "lockPlan", path = "/api/v1/orgs/{org}/plans/{id}/versions/{version}/lock", tag = "Plans",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn lock(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    service::plans::lock(&s.app.db, &ctx, &version_at((org, id, version))).await?;
    Ok(answer::done())
}
