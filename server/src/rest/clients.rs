//! `/api/v1/orgs/{org}/clients/{id}/versions/{version}`: a client version, its lifecycle, its
//! API keys and its contracts.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::ContractStatus;
use domain::dto::{ClientVersionDetail, ContractDto, KeyRequest, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RestState;
use super::answer::{self, Paging};
use super::caller::Caller;
use super::extract::{Json, Path, Query, VersionPath, version_at as at};
use super::problem::{ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// The API's organization.
    pub api_org: String,
    pub api: String,
    pub api_version: String,
    /// A plan the API version offers.
    pub plan: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedContract {
    /// `created` (in force) or `awaiting_approval`.
    pub status: ContractStatus,
}

#[derive(Serialize, ToSchema)]
pub struct KeySecret {
    pub secret: String,
}

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySecret").field("secret", &"…").finish()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Broken {
    pub broken: u64,
}

/// A client version: its status, keys (without their secrets) and counts.
#[utoipa::path(get, operation_id = "getClientVersion", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}", tag = "Clients",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = ClientVersionDetail, headers(("ETag" = String))), (status = 304), (status = 404, body = Problem)))]
pub async fn get(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version)): VersionPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let detail = service::clients::get_version(&s.app.db, &ctx, &org, &id, &version).await?;
    Ok(answer::read(&headers, &detail))
}

/// Registers (or re-registers) the version with the gateway.
#[utoipa::path(post, operation_id = "registerClient", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/register", tag = "Clients",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn register(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
) -> ApiResult<Response> {
    service::clients::register(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::done())
}

/// Unregisters (retires) the version: its keys stop working at the gateway.
#[utoipa::path(post, operation_id = "unregisterClient", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/unregister", tag = "Clients",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unregister(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
) -> ApiResult<Response> {
    service::clients::unregister(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::done())
}

/// Rotates the key (the old one keeps working for the overlap) or adds one, generated or
/// brought from another gateway. The new key's secret is in this answer only.
#[utoipa::path(post, operation_id = "changeKey", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/keys", tag = "Clients",
    request_body = KeyRequest,
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 201, body = NewApiKey), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_key(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    OriginalUri(uri): OriginalUri,
    Json(request): Json<KeyRequest>,
) -> ApiResult<Response> {
    let key = service::api_keys::change(&s.app.db, &ctx, &at(p), request).await?;
    Ok(answer::created(
        format!("{}/{}", uri.path(), key.key.id),
        &key,
    ))
}

/// Revokes a key at once.
#[utoipa::path(delete, operation_id = "revokeKey", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/keys/{key}", tag = "Clients",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), ("key" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke_key(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version, key)): Path<(String, String, String, i64)>,
) -> ApiResult<Response> {
    service::api_keys::revoke(&s.app.db, &ctx, &at((org, id, version)), key).await?;
    Ok(answer::done())
}

/// Shows a key's secret (needs clientEdit; a Change Log row records who saw it). A `POST`,
/// because it is recorded.
#[utoipa::path(post, operation_id = "revealKey", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/keys/{key}/reveal", tag = "Clients",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), ("key" = i64, Path)),
    responses((status = 200, body = KeySecret), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reveal_key(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version, key)): Path<(String, String, String, i64)>,
) -> ApiResult<Response> {
    let secret = service::api_keys::reveal(&s.app.db, &ctx, &at((org, id, version)), key).await?;
    Ok(answer::read(&HeaderMap::new(), &KeySecret { secret }))
}

/// The version's contracts.
#[utoipa::path(get, operation_id = "listClientContracts", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/contracts", tag = "Contracts",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), Paging),
    responses((status = 200, body = [ContractDto]), (status = 404, body = Problem)))]
pub async fn contracts(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let list = service::clients::contracts(&s.app.db, &ctx, &at(p), page, per_page).await?;
    Ok(answer::paged(&headers, uri.path(), list))
}

/// Signs a contract with an API version through one of its plans.
#[utoipa::path(post, operation_id = "createContract", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/contracts", tag = "Contracts",
    request_body = NewContract,
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 201, body = CreatedContract), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contract(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    OriginalUri(uri): OriginalUri,
    Json(body): Json<NewContract>,
) -> ApiResult<Response> {
    let target = service::contracts::Target {
        api_org_id: body.api_org,
        api_id: body.api,
        api_version: body.api_version,
        plan_id: body.plan,
    };
    let status = service::contracts::create(&s.app.db, &ctx, &at(p), target).await?;
    Ok(answer::created(
        uri.path().to_owned(),
        &CreatedContract { status },
    ))
}

/// Breaks every contract of the version.
#[utoipa::path(delete, operation_id = "breakAllContracts", path = "/api/v1/orgs/{org}/clients/{id}/versions/{version}/contracts", tag = "Contracts",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = Broken), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn break_all(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
) -> ApiResult<Response> {
    let broken = service::contracts::break_all(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::read(&HeaderMap::new(), &Broken { broken }))
}
