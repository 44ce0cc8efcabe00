//! Server functions for clients, APIs and plans.

use domain::EntityKind;
use domain::dto::{
    ApiVersionDetail, AuditEntryDto, ClientVersionDetail, EntitySummary, Page, PlanVersionDetail,
};
use leptos::prelude::*;

use crate::error::AppError;

/// Every client, API or plan the caller may view (`org`: only in that organization).
#[server]
pub async fn list_entities(
    kind: EntityKind,
    org: Option<String>,
) -> Result<Vec<EntitySummary>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::versioned::list(&state.db, &ctx, kind, org.as_deref()).await?)
}

/// Creates a client (with its first version and API key), an API (`endpoint` optional) or a
/// plan; returns the URL of the new version's page.
#[server]
pub async fn create_entity(
    kind: EntityKind,
    org: String,
    name: String,
    version: String,
    description: String,
    endpoint: String,
) -> Result<String, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let input = service::by_kind::NewEntity {
        name,
        version,
        description,
        endpoint,
    };
    let r = service::by_kind::create(&state.db, &ctx, kind, &org, input).await?;
    Ok(kind.page_url(&r.org_id, &r.id, &r.version))
}

/// The message shown while typing a client name that is already taken in the organization.
#[server]
pub async fn client_name_conflict(org: String, name: String) -> Result<Option<String>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::clients::name_conflict(&state.db, &ctx, &org, &name).await?)
}

#[server]
pub async fn get_client_version(
    org: String,
    client: String,
    version: String,
) -> Result<ClientVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::clients::get_version(&state.db, &ctx, &org, &client, &version).await?)
}

#[server]
pub async fn get_api_version(
    org: String,
    api: String,
    version: String,
) -> Result<ApiVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::get_version(&state.db, &ctx, &org, &api, &version).await?)
}

#[server]
pub async fn get_plan_version(
    org: String,
    plan: String,
    version: String,
) -> Result<PlanVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::plans::get_version(&state.db, &ctx, &org, &plan, &version).await?)
}

/// Changes the description of a client, API or plan (shared by all its versions).
#[server]
pub async fn update_entity_description(
    kind: EntityKind,
    org: String,
    id: String,
    description: String,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(
        service::versioned::update_description(&state.db, &ctx, kind, &org, &id, &description)
            .await?,
    )
}

/// The Change Log of one client, API or plan, newest first.
#[server]
pub async fn entity_change_log(
    kind: EntityKind,
    org: String,
    id: String,
    page: u64,
    per_page: u64,
) -> Result<Page<AuditEntryDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::audit::list(&state.db, &ctx, &org, Some((kind, &id)), page, per_page).await?)
}
