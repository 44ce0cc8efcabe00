use domain::dto::{AuditEntryDto, MemberDto, OrgDetail, OrgSummary, Page};
use domain::{Permission, Role};
use leptos::prelude::*;

use crate::error::AppError;

/// The caller's organizations, optionally only where they hold `permission`.
#[server]
pub async fn list_orgs(permission: Option<Permission>) -> Result<Vec<OrgSummary>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::organizations::list_mine(&state.db, &ctx, permission).await?)
}

#[server]
pub async fn get_org(org: String) -> Result<OrgDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::organizations::get(&state.db, &ctx, &org).await?)
}

#[server]
pub async fn create_org(name: String, description: String) -> Result<OrgDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let input = service::organizations::NewOrganization { name, description };
    Ok(service::organizations::create(&state.db, &ctx, input).await?)
}

#[server]
pub async fn update_org_description(
    org: String,
    description: String,
) -> Result<OrgDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::organizations::update_description(&state.db, &ctx, &org, &description).await?)
}

#[server]
pub async fn list_members(org: String) -> Result<Vec<MemberDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::members::list(&state.db, &ctx, &org).await?)
}

#[server]
pub async fn add_member(org: String, email: String, role: Role) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::members::add(&state.db, &ctx, &org, &email, role).await?)
}

#[server]
pub async fn change_member_role(org: String, user_id: String, role: Role) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::members::change_role(&state.db, &ctx, &org, &user_id, role).await?)
}

#[server]
pub async fn remove_member(org: String, user_id: String) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::members::remove(&state.db, &ctx, &org, &user_id).await?)
}

/// The organization's Change Log (every entity in it), newest first.
#[server]
pub async fn org_change_log(
    org: String,
    page: u64,
    per_page: u64,
) -> Result<Page<AuditEntryDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::audit::list(&state.db, &ctx, &org, None, page, per_page).await?)
}
