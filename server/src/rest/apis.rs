//! `/api/v1/orgs/{org}/apis/{id}/versions/{version}`: an API version, its implementation,
//! definition and plans, publishing and retiring, its contracts and effective policy chains.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::DefinitionFormat;
use domain::dto::{ApiChainsDto, ApiVersionDetail, ContractDto, PlanOffer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RestState;
use super::answer::{self, Paging};
use super::caller::Caller;
use super::extract::{Json, Path, Query, VersionPath, version_at as at};
use super::problem::{ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    /// The backend's URL.
    pub endpoint: String,
    /// `JSON` or `XML`.
    pub content_type: String,
    /// Callable without an API key.
    #[serde(default)]
    pub public_api: bool,
    /// The largest request body in bytes; none: the default (10 MiB).
    #[serde(default)]
    pub request_body_limit: Option<u64>,
    #[serde(default)]
    pub allow_encoded_slashes: bool,
    /// Whether the gateway takes the key from `?apikey=` too.
    #[serde(default)]
    pub accept_key_in_query: bool,
    /// How long the gateway waits for a connection to the backend, in milliseconds (100 to
    /// 60,000); none: the default (5 s; past it 504, failure code 10033).
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// How long the gateway waits for the backend's answer once connected, in milliseconds
    /// (100 to 600,000); none: the default (30 s; past it 504, failure code 10034).
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    /// How many requests may be in flight towards the backend at once on one gateway node (1
    /// to 10,000); none: the default (256; past it 503, failure code 10035).
    #[serde(default)]
    pub max_concurrent_requests: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The OpenAPI document, as JSON or YAML text (empty: remove it).
    pub definition: String,
    /// How the text was recognised (answers only).
    #[serde(default, skip_deserializing)]
    pub format: Option<DefinitionFormat>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plans {
    /// Every plan the version offers (it replaces the list).
    pub plans: Vec<PlanOffer>,
}

/// An API version: its status, implementation, plans and publish checklist.
#[utoipa::path(get, operation_id = "getApiVersion", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}", tag = "APIs",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = ApiVersionDetail, headers(("ETag" = String))), (status = 304), (status = 404, body = Problem)))]
pub async fn get(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, id, version)): VersionPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let detail = service::apis::get_version(&s.app.db, &ctx, &org, &id, &version).await?;
    Ok(answer::read(&headers, &detail))
}

/// Sets the implementation (`If-Match` takes the version's ETag).
#[utoipa::path(put, operation_id = "setImplementation", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/implementation", tag = "APIs",
    request_body = Implementation,
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn implementation(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    headers: HeaderMap,
    Json(body): Json<Implementation>,
) -> ApiResult<Response> {
    let db = &s.app.db;
    if_match_version(&s, &ctx, &p, &headers).await?;
    let input = service::apis::Implementation {
        endpoint: body.endpoint,
        content_type: body.content_type,
        public_api: body.public_api,
        request_body_limit: body.request_body_limit,
        allow_encoded_slashes: body.allow_encoded_slashes,
        accept_key_in_query: body.accept_key_in_query,
        connect_timeout_ms: body.connect_timeout_ms,
        response_timeout_ms: body.response_timeout_ms,
        max_concurrent_requests: body.max_concurrent_requests,
    };
    service::apis::update_implementation(db, &ctx, &at(p), input).await?;
    Ok(answer::done())
}

/// The version's OpenAPI definition.
#[utoipa::path(get, operation_id = "getDefinition", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/definition", tag = "APIs",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = Definition), (status = 404, body = Problem)))]
pub async fn definition(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (format, definition) = service::apis::definition(&s.app.db, &ctx, &at(p))
        .await?
        .ok_or_else(|| Problem::not_found("This API version has no definition."))?;
    let doc = Definition {
        definition,
        format: Some(format),
    };
    Ok(answer::read(&headers, &doc))
}

/// Sets (or, with an empty text, removes) the OpenAPI definition.
#[utoipa::path(put, operation_id = "setDefinition", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/definition", tag = "APIs",
    request_body = Definition,
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn set_definition(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    headers: HeaderMap,
    Json(body): Json<Definition>,
) -> ApiResult<Response> {
    if_match_version(&s, &ctx, &p, &headers).await?;
    service::apis::update_definition(&s.app.db, &ctx, &at(p), &body.definition).await?;
    Ok(answer::done())
}

/// Sets the plans the version offers.
#[utoipa::path(put, operation_id = "setPlans", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/plans", tag = "APIs",
    request_body = Plans,
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn set_plans(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    headers: HeaderMap,
    Json(body): Json<Plans>,
) -> ApiResult<Response> {
    if_match_version(&s, &ctx, &p, &headers).await?;
    service::apis::set_plans(&s.app.db, &ctx, &at(p), body.plans).await?;
    Ok(answer::done())
}

/// Publishes the version to the gateway.
#[utoipa::path(post, operation_id = "publishApi", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/publish", tag = "APIs",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn publish(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
) -> ApiResult<Response> {
    service::apis::publish(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::done())
}

/// Retires the version.
#[utoipa::path(post, operation_id = "retireApi", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/retire", tag = "APIs",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn retire(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
) -> ApiResult<Response> {
    service::apis::retire(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::done())
}

/// The contracts with the version.
#[utoipa::path(get, operation_id = "listApiContracts", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/contracts", tag = "Contracts",
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
    let list = service::apis::contracts(&s.app.db, &ctx, &at(p), page, per_page).await?;
    Ok(answer::paged(&headers, uri.path(), list))
}

/// The effective policy chains: per plan, and without a key for a public API.
#[utoipa::path(get, operation_id = "getChains", path = "/api/v1/orgs/{org}/apis/{id}/versions/{version}/chains", tag = "Policies",
    params(("org" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = ApiChainsDto), (status = 404, body = Problem)))]
pub async fn chains(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path(p): VersionPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let chains = service::policies::api_chains(&s.app.db, &ctx, &at(p)).await?;
    Ok(answer::read(&headers, &chains))
}

/// `If-Match` on a change to an API version compares with the version's representation.
async fn if_match_version(
    s: &RestState,
    ctx: &service::Ctx,
    (org, id, version): &(String, String, String),
    headers: &HeaderMap,
) -> ApiResult<()> {
    let current = service::apis::get_version(&s.app.db, ctx, org, id, version);
    answer::check_if_match(headers, current).await
}
