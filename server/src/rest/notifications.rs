//! `/api/v1/notifications` and `/api/v1/policy-definitions`: what is the caller's own rather
//! than an organization's.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::dto::{NotificationDto, PolicyDefinitionDto};
use serde::Deserialize;
use utoipa::ToSchema;

use super::RestState;
use super::answer;
use super::caller::Caller;
use super::extract::Json;
use super::problem::{ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// One notification; none: all of them.
    #[serde(default)]
    pub id: Option<i64>,
}

/// The caller's newest notifications (at most 50).
#[utoipa::path(get, operation_id = "listNotifications", path = "/api/v1/notifications", tag = "Notifications",
    responses((status = 200, body = [NotificationDto]), (status = 401, body = Problem)))]
pub async fn list(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let list = service::notifications::list(&s.app.db, &ctx).await?;
    Ok(answer::read(&headers, &list))
}

/// Marks one notification, or all, as read.
#[utoipa::path(post, operation_id = "markNotificationsRead", path = "/api/v1/notifications/read", tag = "Notifications",
    request_body = MarkRead,
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn mark_read(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Json(body): Json<MarkRead>,
) -> ApiResult<Response> {
    service::notifications::mark_read(&s.app.db, &ctx, body.id).await?;
    Ok(answer::done())
}

/// The policy types that can be attached, with what their configuration takes.
#[utoipa::path(get, operation_id = "listPolicyDefinitions", path = "/api/v1/policy-definitions", tag = "Policies",
    responses((status = 200, body = [PolicyDefinitionDto]), (status = 401, body = Problem)))]
pub async fn policy_definitions(Caller(_): Caller, headers: HeaderMap) -> ApiResult<Response> {
    Ok(answer::read(&headers, &service::policies::definitions()))
}
