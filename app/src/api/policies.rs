//! Server functions of the Policies tabs (client, plan and API versions) and the Metrics tabs.

use domain::dto::{ApiChainsDto, MetricsDto, PolicyDefinitionDto, PolicyDto};
use leptos::prelude::*;

use crate::error::AppError;
use domain::EntityKind;

/// The policies of a client, plan or API version, in order.
#[server]
pub async fn version_policies(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
) -> Result<Vec<PolicyDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    Ok(service::policies::list_for(&state.db, &ctx, kind, &at).await?)
}

/// The catalogue the Add Policy wizard offers.
#[server]
pub async fn policy_definitions() -> Result<Vec<PolicyDefinitionDto>, AppError> {
    crate::ssr::ctx()?;
    Ok(service::policies::definitions())
}

/// Attaches a policy at `position` (0 = first; none = last).
#[server(input = server_fn::codec::Json)]
pub async fn add_policy(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    definition_id: String,
    configuration: String,
    position: Option<usize>,
) -> Result<PolicyDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    Ok(service::policies::add(
        &state.db,
        &ctx,
        kind,
        &at,
        &definition_id,
        &configuration,
        position,
    )
    .await?)
}

/// Changes a policy's configuration.
#[server(input = server_fn::codec::Json)]
pub async fn update_policy(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    policy_id: i64,
    configuration: String,
) -> Result<PolicyDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    Ok(service::policies::update(&state.db, &ctx, kind, &at, policy_id, &configuration).await?)
}

/// Removes a policy.
#[server(input = server_fn::codec::Json)]
pub async fn remove_policy(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    policy_id: i64,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    Ok(service::policies::remove(&state.db, &ctx, kind, &at, policy_id).await?)
}

/// Puts the policies in the order of `ids`.
#[server(input = server_fn::codec::Json)]
pub async fn reorder_policies(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    ids: Vec<i64>,
) -> Result<Vec<PolicyDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    Ok(service::policies::reorder(&state.db, &ctx, kind, &at, &ids).await?)
}

/// The effective chains of an API version: without a key (a public one), and through each plan
/// it offers (plan policies, then API policies).
#[server]
pub async fn api_policy_chains(
    org: String,
    api: String,
    version: String,
) -> Result<ApiChainsDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, api, version);
    Ok(service::policies::api_chains(&state.db, &ctx, &at).await?)
}

/// Gateway traffic of a client or API version over `range` ("hour", "day", "week", "month").
#[server]
pub async fn version_metrics(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    range: String,
) -> Result<MetricsDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, id, version);
    // Refusals go through `service::Error` so that the response gets their HTTP status.
    let range = domain::metrics::Range::parse_field(&range).map_err(service::Error::from)?;
    Ok(service::metrics::query(&state.db, &ctx, kind, &at, range).await?)
}
