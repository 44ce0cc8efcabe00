//! `/api/v1/contracts/{id}` and `/api/v1/approvals`: a contract's changes (break, change of
//! plan, approve, reject, revoke) and the contracts awaiting the caller's approval.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::ClientStatus;
use domain::dto::{ContractDto, PlanChoices};
use domain::lifecycle::PlanChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RestState;
use super::answer::{self, Paging};
use super::caller::Caller;
use super::extract::{Json, Path, Query};
use super::problem::{ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChangeRequest {
    /// One of the plans `GET /api/v1/contracts/{id}/plans` lists.
    pub plan: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanChanged {
    /// `changed` at once, or `awaiting_approval` while the old plan holds.
    pub change: PlanChange,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Register the client version as well, when it can be.
    #[serde(default)]
    pub register: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Shown to the other side.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientStatusAnswer {
    /// The client version's status afterwards.
    pub client_status: ClientStatus,
}

/// Breaks the contract (the consumer's side).
#[utoipa::path(delete, operation_id = "breakContract", path = "/api/v1/contracts/{id}", tag = "Contracts",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn break_one(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    service::contracts::break_one(&s.app.db, &ctx, id).await?;
    Ok(answer::done())
}

/// The plans the contract may move to.
#[utoipa::path(get, operation_id = "getPlanChoices", path = "/api/v1/contracts/{id}/plans", tag = "Contracts",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlanChoices), (status = 404, body = Problem)))]
pub async fn plan_choices(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let choices = service::contracts::plan_choices(&s.app.db, &ctx, id).await?;
    Ok(answer::read(&headers, &choices))
}

/// Moves the contract to another plan, keeping the client's key.
#[utoipa::path(put, operation_id = "changePlan", path = "/api/v1/contracts/{id}/plan", tag = "Contracts",
    request_body = PlanChangeRequest, params(("id" = i64, Path)),
    responses((status = 200, body = PlanChanged), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_plan(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
    Json(body): Json<PlanChangeRequest>,
) -> ApiResult<Response> {
    let change = service::contracts::change_plan(&s.app.db, &ctx, id, &body.plan).await?;
    Ok(answer::read(&HeaderMap::new(), &PlanChanged { change }))
}

/// Approves a contract (or a change of plan) awaiting the caller.
#[utoipa::path(post, operation_id = "approveContract", path = "/api/v1/contracts/{id}/approve", tag = "Contracts",
    request_body = Approval, params(("id" = i64, Path)),
    responses((status = 200, body = ClientStatusAnswer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn approve(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
    Json(body): Json<Approval>,
) -> ApiResult<Response> {
    let client_status = service::contracts::approve(&s.app.db, &ctx, id, body.register).await?;
    Ok(answer::read(
        &HeaderMap::new(),
        &ClientStatusAnswer { client_status },
    ))
}

/// Rejects a contract (or a change of plan) with a reason for the requester.
#[utoipa::path(post, operation_id = "rejectContract", path = "/api/v1/contracts/{id}/reject", tag = "Contracts",
    request_body = Reason, params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn reject(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
    Json(body): Json<Reason>,
) -> ApiResult<Response> {
    service::contracts::reject(&s.app.db, &ctx, id, &body.reason).await?;
    Ok(answer::done())
}

/// Breaks the contract from the API provider's side, with a reason for the consumer.
#[utoipa::path(post, operation_id = "revokeContract", path = "/api/v1/contracts/{id}/revoke", tag = "Contracts",
    request_body = Reason, params(("id" = i64, Path)),
    responses((status = 200, body = ClientStatusAnswer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(id): Path<i64>,
    Json(body): Json<Reason>,
) -> ApiResult<Response> {
    let client_status = service::contracts::revoke(&s.app.db, &ctx, id, &body.reason).await?;
    Ok(answer::read(
        &HeaderMap::new(),
        &ClientStatusAnswer { client_status },
    ))
}

/// Contracts and changes of plan awaiting the caller's approval, oldest first.
#[utoipa::path(get, operation_id = "listApprovals", path = "/api/v1/approvals", tag = "Contracts", params(Paging),
    responses((status = 200, body = [ContractDto]), (status = 401, body = Problem)))]
pub async fn approvals(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let all = service::contracts::pending(&s.app.db, &ctx).await?;
    Ok(answer::paged(
        &headers,
        uri.path(),
        answer::page_of(&all, page, per_page),
    ))
}
