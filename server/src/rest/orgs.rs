//! `/api/v1/orgs`: organizations, their members and their Change Log.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::Role;
use domain::dto::{AuditEntryDto, MemberDto, OrgDetail, OrgSummary};
use serde::Deserialize;
use utoipa::ToSchema;

use super::RestState;
use super::answer::{self, Paging};
use super::caller::Caller;
use super::extract::{Json, Path, Query};
use super::problem::{ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgChange {
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub role: Role,
}

/// The caller's organizations.
#[utoipa::path(get, operation_id = "listOrgs", path = "/api/v1/orgs", tag = "Organizations", params(Paging),
    responses((status = 200, body = [OrgSummary], description = "One page, with `Link` and `X-Total-Count`"),
        (status = 401, body = Problem)))]
pub async fn list(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let all = service::organizations::list_mine(&s.app.db, &ctx, None).await?;
    Ok(answer::paged(
        &headers,
        uri.path(),
        answer::page_of(&all, page, per_page),
    ))
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(post, operation_id = "createOrg", path = "/api/v1/orgs", tag = "Organizations", request_body = NewOrg,
    responses((status = 201, body = OrgDetail, headers(("Location" = String))),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Json(body): Json<NewOrg>,
) -> ApiResult<Response> {
    let input = service::organizations::NewOrganization {
        name: body.name,
        description: body.description,
    };
    let org = service::organizations::create(&s.app.db, &ctx, input).await?;
    Ok(answer::created(format!("/api/v1/orgs/{}", org.id), &org))
}

/// One organization, with the caller's permissions in it.
#[utoipa::path(get, operation_id = "getOrg", path = "/api/v1/orgs/{org}", tag = "Organizations",
    params(("org" = String, Path, description = "The organization's id, as in the UI's URLs")),
    responses((status = 200, body = OrgDetail, headers(("ETag" = String))), (status = 304), (status = 404, body = Problem)))]
pub async fn get(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let detail = service::organizations::get(&s.app.db, &ctx, &org).await?;
    Ok(answer::read(&headers, &detail))
}

/// Changes the organization's description (`If-Match` makes it conditional).
#[utoipa::path(patch, operation_id = "updateOrg", path = "/api/v1/orgs/{org}", tag = "Organizations", request_body = OrgChange,
    params(("org" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag read")),
    responses((status = 200, body = OrgDetail), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Json(body): Json<OrgChange>,
) -> ApiResult<Response> {
    let db = &s.app.db;
    answer::check_if_match(&headers, service::organizations::get(db, &ctx, &org)).await?;
    let detail =
        service::organizations::update_description(db, &ctx, &org, &body.description).await?;
    Ok(answer::read(&HeaderMap::new(), &detail))
}

/// The organization's members.
#[utoipa::path(get, operation_id = "listMembers", path = "/api/v1/orgs/{org}/members", tag = "Organizations",
    params(("org" = String, Path), Paging),
    responses((status = 200, body = [MemberDto]), (status = 404, body = Problem)))]
pub async fn members(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(org): Path<String>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let all = service::members::list(&s.app.db, &ctx, &org).await?;
    Ok(answer::paged(
        &headers,
        uri.path(),
        answer::page_of(&all, page, per_page),
    ))
}

/// Adds a member by email. The answer is the same whether or not the account exists (`202`),
/// so that the API cannot be used to find out who has an account.
#[utoipa::path(post, operation_id = "addMember", path = "/api/v1/orgs/{org}/members", tag = "Organizations", request_body = NewMember,
    params(("org" = String, Path)),
    responses((status = 202, description = "Added, if the account exists"), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn add_member(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(org): Path<String>,
    Json(body): Json<NewMember>,
) -> ApiResult<Response> {
    service::members::add(&s.app.db, &ctx, &org, &body.email, body.role).await?;
    Ok(answer::accepted())
}

/// Changes a member's role.
#[utoipa::path(put, operation_id = "changeMember", path = "/api/v1/orgs/{org}/members/{user}", tag = "Organizations", request_body = MemberChange,
    params(("org" = String, Path), ("user" = String, Path, description = "The member's user id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_member(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, user)): Path<(String, String)>,
    Json(body): Json<MemberChange>,
) -> ApiResult<Response> {
    service::members::change_role(&s.app.db, &ctx, &org, &user, body.role).await?;
    Ok(answer::done())
}

/// Removes a member.
#[utoipa::path(delete, operation_id = "removeMember", path = "/api/v1/orgs/{org}/members/{user}", tag = "Organizations",
    params(("org" = String, Path), ("user" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_member(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    service::members::remove(&s.app.db, &ctx, &org, &user).await?;
    Ok(answer::done())
}

/// The organization's Change Log, newest first.
#[utoipa::path(get, operation_id = "listOrgChanges", path = "/api/v1/orgs/{org}/changes", tag = "Change Log",
    params(("org" = String, Path), Paging),
    responses((status = 200, body = [AuditEntryDto]), (status = 404, body = Problem)))]
pub async fn changes(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(org): Path<String>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let log = service::audit::list(&s.app.db, &ctx, &org, None, page, per_page).await?;
    Ok(answer::paged(&headers, uri.path(), log))
}
