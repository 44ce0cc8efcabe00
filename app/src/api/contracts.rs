//! Server functions for contracts, approvals and notifications.

use domain::ContractStatus;
use domain::dto::{ApiOffer, ContractDto, InboxCounts, NotificationDto, Page, PlanChoices};
use domain::lifecycle::PlanChange;
use leptos::prelude::*;

use crate::error::AppError;

/// The contracts of a client version, newest first.
#[server]
pub async fn client_contracts(
    org: String,
    client: String,
    version: String,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::clients::contracts(
        &state.db,
        &ctx,
        &crate::ssr::at(org, client, version),
        page,
        per_page,
    )
    .await?)
}

/// Published API versions the caller may sign a contract with, and their visible plans.
#[server]
pub async fn contract_offers() -> Result<Vec<ApiOffer>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::offers(&state.db, &ctx).await?)
}

/// Creates a contract between a client version and an API version through a plan.
#[server]
pub async fn create_contract(
    org: String,
    client: String,
    version: String,
    api_org: String,
    api: String,
    api_version: String,
    plan: String,
) -> Result<ContractStatus, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let target = service::contracts::Target {
        api_org_id: api_org,
        api_id: api,
        api_version,
        plan_id: plan,
    };
    Ok(service::contracts::create(
        &state.db,
        &ctx,
        &crate::ssr::at(org, client, version),
        target,
    )
    .await?)
}

/// Breaks one contract.
#[server]
pub async fn break_contract(id: i64) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::break_one(&state.db, &ctx, id).await?)
}

/// Breaks every contract of a client version; returns how many.
#[server]
pub async fn break_all_contracts(
    org: String,
    client: String,
    version: String,
) -> Result<u64, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(
        service::contracts::break_all(&state.db, &ctx, &crate::ssr::at(org, client, version))
            .await?,
    )
}

/// The plans a contract may move to (offered by its API version and visible to the caller).
#[server]
pub async fn contract_plan_choices(id: i64) -> Result<PlanChoices, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::plan_choices(&state.db, &ctx, id).await?)
}

/// Moves a contract to another plan, keeping the client's key: at once, or as a request that
/// awaits approval while the old plan stays in force.
#[server]
pub async fn change_contract_plan(id: i64, plan: String) -> Result<PlanChange, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::change_plan(&state.db, &ctx, id, &plan).await?)
}

/// Breaks a contract from the API provider's side, with a reason for the consumer.
#[server]
pub async fn revoke_contract(id: i64, reason: String) -> Result<domain::ClientStatus, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::revoke(&state.db, &ctx, id, &reason).await?)
}

/// Contracts waiting for the caller's approval.
#[server]
pub async fn pending_approvals() -> Result<Vec<ContractDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::pending(&state.db, &ctx).await?)
}

/// Approves a contract; with `register`, registers the client version when it can be.
#[server]
pub async fn approve_contract(id: i64, register: bool) -> Result<domain::ClientStatus, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::approve(&state.db, &ctx, id, register).await?)
}

/// Rejects a contract with a reason for the requester.
#[server]
pub async fn reject_contract(id: i64, reason: String) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::contracts::reject(&state.db, &ctx, id, &reason).await?)
}

/// The caller's newest notifications.
#[server]
pub async fn list_notifications() -> Result<Vec<NotificationDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::notifications::list(&state.db, &ctx).await?)
}

/// Unread notifications and pending approvals, for the header.
#[server]
pub async fn get_inbox_counts() -> Result<InboxCounts, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::inbox::counts(&state.db, &ctx).await?)
}

/// Marks one notification (or all, without `id`) as read.
#[server]
pub async fn mark_notifications_read(id: Option<i64>) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::notifications::mark_read(&state.db, &ctx, id).await?)
}
