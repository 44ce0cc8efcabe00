//! `/api/v1/orgs/{org}/{kind}`: what clients, APIs and plans share — lists, create, the
//! description, delete, new versions, the Change Log, policies and metrics.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::EntityKind;
use domain::dto::{AuditEntryDto, EntitySummary, MetricsDto, PolicyDto};
use serde::{Deserialize, Serialize};
use service::EntityRef;
use utoipa::ToSchema;

use super::RestState;
use super::answer::{self, Paging};
use super::caller::Caller;
use super::extract::{Json, Kind, Path, Query, version_at as at};
use super::problem::{ApiResult, Problem};

/// A version of a client, API or plan, by the ids of its URL.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionRef {
    pub org_id: String,
    pub id: String,
    pub version: String,
    /// Where it is read.
    pub href: String,
}

impl VersionRef {
    fn of(kind: Kind, r: EntityRef) -> Self {
        let href = format!(
            "/api/v1/orgs/{}/{}/{}/versions/{}",
            r.org_id,
            EntityKind::from(kind).segment(),
            r.id,
            r.version
        );
        Self {
            org_id: r.org_id,
            id: r.id,
            version: r.version,
            href,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntity {
    pub name: String,
    /// The first version, e.g. `1.0`.
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// APIs only: the backend's URL (optional at creation).
    #[serde(default)]
    pub endpoint: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DescriptionChange {
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    pub version: String,
    /// A version to copy (its policies, plans or contracts); none: an empty version.
    #[serde(default)]
    pub clone_from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedVersion {
    #[serde(flatten)]
    pub version: VersionRef,
    /// Clients: contracts of the cloned version that could not be copied.
    pub skipped_contracts: usize,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    /// A policy definition's id (`GET /api/v1/policy-definitions`).
    pub definition_id: String,
    /// The configuration, as the definition describes it.
    pub configuration: serde_json::Value,
    /// 0 is first; none: last.
    #[serde(default)]
    pub position: Option<usize>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub configuration: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyOrder {
    /// Every policy id of the version, in the new order.
    pub ids: Vec<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// `hour`, `day`, `week` or `month`.
    pub range: Option<String>,
}

/// A configuration as the service reads it: JSON text (a JSON string is taken as that text).
fn configuration_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The clients, APIs or plans of an organization.
#[utoipa::path(get, operation_id = "listEntities", path = "/api/v1/orgs/{org}/{kind}", tag = "Clients, APIs and plans",
    params(("org" = String, Path), ("kind" = Kind, Path), Paging),
    responses((status = 200, body = [EntitySummary]), (status = 404, body = Problem)))]
pub async fn list(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind)): Path<(String, Kind)>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let all = service::versioned::list(&s.app.db, &ctx, kind.into(), Some(&org)).await?;
    Ok(answer::paged(
        &headers,
        uri.path(),
        answer::page_of(&all, page, per_page),
    ))
}

/// Creates a client (with its first version and API key), an API or a plan.
#[utoipa::path(post, operation_id = "createEntity", path = "/api/v1/orgs/{org}/{kind}", tag = "Clients, APIs and plans",
    request_body = NewEntity, params(("org" = String, Path), ("kind" = Kind, Path)),
    responses((status = 201, body = VersionRef, headers(("Location" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind)): Path<(String, Kind)>,
    Json(body): Json<NewEntity>,
) -> ApiResult<Response> {
    let input = service::by_kind::NewEntity {
        name: body.name,
        version: body.version,
        description: body.description,
        endpoint: body.endpoint,
    };
    let r = service::by_kind::create(&s.app.db, &ctx, kind.into(), &org, input).await?;
    let created = VersionRef::of(kind, r);
    Ok(answer::created(created.href.clone(), &created))
}

/// Changes the description (shared by every version).
#[utoipa::path(patch, operation_id = "updateEntity", path = "/api/v1/orgs/{org}/{kind}/{id}", tag = "Clients, APIs and plans",
    request_body = DescriptionChange, params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id)): Path<(String, Kind, String)>,
    Json(body): Json<DescriptionChange>,
) -> ApiResult<Response> {
    service::versioned::update_description(
        &s.app.db,
        &ctx,
        kind.into(),
        &org,
        &id,
        &body.description,
    )
    .await?;
    Ok(answer::done())
}

/// Deletes it with every version (refused while a version is in use).
#[utoipa::path(delete, operation_id = "deleteEntity", path = "/api/v1/orgs/{org}/{kind}/{id}", tag = "Clients, APIs and plans",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id)): Path<(String, Kind, String)>,
) -> ApiResult<Response> {
    service::by_kind::delete(&s.app.db, &ctx, kind.into(), &org, &id).await?;
    Ok(answer::done())
}

/// A new version, empty or a copy of another.
#[utoipa::path(post, operation_id = "createVersion", path = "/api/v1/orgs/{org}/{kind}/{id}/versions", tag = "Clients, APIs and plans",
    request_body = NewVersion, params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path)),
    responses((status = 201, body = CreatedVersion, headers(("Location" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn new_version(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id)): Path<(String, Kind, String)>,
    Json(body): Json<NewVersion>,
) -> ApiResult<Response> {
    let from = body.clone_from.as_deref().filter(|v| !v.is_empty());
    let (r, skipped) =
        service::by_kind::new_version(&s.app.db, &ctx, kind.into(), &org, &id, &body.version, from)
            .await?;
    let created = CreatedVersion {
        version: VersionRef::of(kind, r),
        skipped_contracts: skipped,
    };
    Ok(answer::created(created.version.href.clone(), &created))
}

/// Its Change Log, newest first.
#[utoipa::path(get, operation_id = "listEntityChanges", path = "/api/v1/orgs/{org}/{kind}/{id}/changes", tag = "Change Log",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), Paging),
    responses((status = 200, body = [AuditEntryDto]), (status = 404, body = Problem)))]
pub async fn changes(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id)): Path<(String, Kind, String)>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let (page, per_page) = paging.resolve()?;
    let entity = Some((EntityKind::from(kind), id.as_str()));
    let log = service::audit::list(&s.app.db, &ctx, &org, entity, page, per_page).await?;
    Ok(answer::paged(&headers, uri.path(), log))
}

/// The version's policies, in chain order.
#[utoipa::path(get, operation_id = "listPolicies", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies", tag = "Policies",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = [PolicyDto]), (status = 404, body = Problem)))]
pub async fn policies(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version)): Path<(String, Kind, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let list =
        service::policies::list_for(&s.app.db, &ctx, kind.into(), &at((org, id, version))).await?;
    Ok(answer::read(&headers, &list))
}

/// Attaches a policy at a position.
#[utoipa::path(post, operation_id = "addPolicy", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies", tag = "Policies",
    request_body = NewPolicy,
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 201, body = PolicyDto, headers(("Location" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_policy(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version)): Path<(String, Kind, String, String)>,
    OriginalUri(uri): OriginalUri,
    Json(body): Json<NewPolicy>,
) -> ApiResult<Response> {
    let config = configuration_text(body.configuration);
    let at = at((org, id, version));
    let policy = service::policies::add(
        &s.app.db,
        &ctx,
        kind.into(),
        &at,
        &body.definition_id,
        &config,
        body.position,
    )
    .await?;
    Ok(answer::created(
        format!("{}/{}", uri.path(), policy.id),
        &policy,
    ))
}

/// One policy, with its `ETag`.
#[utoipa::path(get, operation_id = "getPolicy", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies/{policy}", tag = "Policies",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path), ("policy" = i64, Path)),
    responses((status = 200, body = PolicyDto, headers(("ETag" = String))), (status = 304), (status = 404, body = Problem)))]
pub async fn policy(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version, policy)): Path<(String, Kind, String, String, i64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = service::policies::get(
        &s.app.db,
        &ctx,
        kind.into(),
        &at((org, id, version)),
        policy,
    )
    .await?;
    Ok(answer::read(&headers, &p))
}

/// Changes a policy's configuration (`If-Match` makes it conditional).
#[utoipa::path(patch, operation_id = "updatePolicy", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies/{policy}", tag = "Policies",
    request_body = PolicyChange,
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path),
        ("policy" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = PolicyDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn update_policy(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version, policy)): Path<(String, Kind, String, String, i64)>,
    headers: HeaderMap,
    Json(body): Json<PolicyChange>,
) -> ApiResult<Response> {
    let (db, at, kind) = (&s.app.db, at((org, id, version)), EntityKind::from(kind));
    answer::check_if_match(
        &headers,
        service::policies::get(db, &ctx, kind, &at, policy),
    )
    .await?;
    let config = configuration_text(body.configuration);
    let updated = service::policies::update(db, &ctx, kind, &at, policy, &config).await?;
    Ok(answer::read(&HeaderMap::new(), &updated))
}

/// Removes a policy.
#[utoipa::path(delete, operation_id = "removePolicy", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies/{policy}", tag = "Policies",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path), ("policy" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_policy(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version, policy)): Path<(String, Kind, String, String, i64)>,
) -> ApiResult<Response> {
    service::policies::remove(
        &s.app.db,
        &ctx,
        kind.into(),
        &at((org, id, version)),
        policy,
    )
    .await?;
    Ok(answer::done())
}

/// Puts the version's policies in a new order.
#[utoipa::path(put, operation_id = "reorderPolicies", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/policies/order", tag = "Policies",
    request_body = PolicyOrder,
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = [PolicyDto]), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reorder_policies(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version)): Path<(String, Kind, String, String)>,
    Json(body): Json<PolicyOrder>,
) -> ApiResult<Response> {
    let list = service::policies::reorder(
        &s.app.db,
        &ctx,
        kind.into(),
        &at((org, id, version)),
        &body.ids,
    )
    .await?;
    Ok(answer::read(&HeaderMap::new(), &list))
}

/// Gateway traffic of a client or API version.
#[utoipa::path(get, operation_id = "getMetrics", path = "/api/v1/orgs/{org}/{kind}/{id}/versions/{version}/metrics", tag = "Metrics",
    params(("org" = String, Path), ("kind" = Kind, Path), ("id" = String, Path), ("version" = String, Path), MetricsQuery),
    responses((status = 200, body = MetricsDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn metrics(
    Caller(ctx): Caller,
    State(s): State<RestState>,
    Path((org, kind, id, version)): Path<(String, Kind, String, String)>,
    Query(q): Query<MetricsQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = domain::metrics::Range::parse_field(q.range.as_deref().unwrap_or("day"))
        .map_err(service::Error::from)?;
    let m = service::metrics::query(&s.app.db, &ctx, kind.into(), &at((org, id, version)), range)
        .await?;
    Ok(answer::read(&headers, &m))
}
