//! Permission checks, object by object. Every service function that touches an organization's
//! data starts with [`require`]; the UI hides what a user may not do, but this is what refuses.
//!
//! A request with a personal access token carries its [`crate::TokenGrant`]: it sees only the
//! organizations the grant names ([`sees_org`], the one rule, which [`access`], [`memberships`]
//! and every list across the caller's organizations apply), and a read-only grant may do nothing
//! but what a View permission allows ([`require`], [`require_write`]).

use std::collections::HashMap;

use domain::{Permission, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{membership, organization};
use crate::{Ctx, Error, Result};

/// The caller's standing in an organization.
#[derive(Debug, Clone)]
pub struct Access {
    pub org: organization::Model,
    pub role: Option<Role>,
    pub is_admin: bool,
}

impl Access {
    pub fn can(&self, p: Permission) -> bool {
        self.is_admin || self.role.is_some_and(|r| r.grants(p))
    }

    pub fn permissions(&self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.can(*p))
            .collect()
    }
}

pub(crate) fn org_not_found(org_id: &str) -> Error {
    Error::NotFound(format!("Organization '{org_id}' was not found."))
}

/// Management operations are refused to portal-only accounts, unless they come through the
/// Developer Portal's functions (which expose only what the portal offers).
pub fn require_management(ctx: &Ctx) -> Result<()> {
    if ctx.portal_only && !ctx.is_admin && !ctx.via_portal {
        return Err(Error::Forbidden(
            "Your account has access to the API Developer Portal only.".into(),
        ));
    }
    Ok(())
}

/// Whether the caller's token (if any) lets them see organization `org_id` at all. Memberships
/// and platform administration still decide what they may do there.
pub fn sees_org(ctx: &Ctx, org_id: &str) -> bool {
    ctx.grant
        .as_ref()
        .and_then(|g| g.orgs.as_ref())
        .is_none_or(|orgs| orgs.iter().any(|o| o == org_id))
}

/// The organizations the caller's token is limited to, if it is: for queries that list across
/// organizations a platform administrator sees without being a member.
pub fn grant_orgs(ctx: &Ctx) -> Option<&[String]> {
    ctx.grant.as_ref().and_then(|g| g.orgs.as_deref())
}

/// Whether the caller acts as a platform administrator in `org_id` (not outside a token's
/// organizations).
pub fn admin_in(ctx: &Ctx, org_id: &str) -> bool {
    ctx.is_admin && sees_org(ctx, org_id)
}

/// The caller's memberships with their roles, within what their token lets them see.
pub async fn memberships(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<HashMap<String, Role>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(ctx.user_id.clone()))
        .all(db)
        .await?
        .into_iter()
        .filter(|m| sees_org(ctx, &m.org_id))
        .filter_map(|m| Role::parse(&m.role).map(|r| (m.org_id, r)))
        .collect())
}

/// The caller's role in `org_id`, `None` when not a member or outside their token's
/// organizations.
pub async fn role_in(db: &impl ConnectionTrait, ctx: &Ctx, org_id: &str) -> Result<Option<Role>> {
    if !sees_org(ctx, org_id) {
        return Ok(None);
    }
    Ok(
        membership::Entity::find_by_id((org_id.to_owned(), ctx.user_id.clone()))
            .one(db)
            .await?
            .and_then(|m| Role::parse(&m.role)),
    )
}

fn read_only_token() -> Error {
    Error::Forbidden("This token is read-only.".into())
}

/// Refuses a change to a request with a read-only token. Every write that does not go through
/// [`require`] with a non-View permission calls it (organization creation, account changes,
/// platform administration, notifications marked read, the portal's sign-ups).
pub fn require_write(ctx: &Ctx) -> Result<()> {
    if ctx.grant.as_ref().is_some_and(|g| g.read_only) {
        return Err(read_only_token());
    }
    Ok(())
}

/// Refuses a request made with a personal access token: what only a signed-in person may do
/// (create tokens, change the email or password). `what` completes "A personal access token
/// cannot …".
pub fn require_session(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.grant.is_some() {
        return Err(Error::Forbidden(format!(
            "A personal access token cannot {what}. Sign in to do it."
        )));
    }
    Ok(())
}

/// Refuses to create an organization through a read-only token, or through one limited to
/// organizations (the new one would lie outside it).
pub fn require_unlimited_write(ctx: &Ctx) -> Result<()> {
    require_write(ctx)?;
    if grant_orgs(ctx).is_some() {
        return Err(Error::Forbidden(
            "This token is limited to some organizations; it cannot create one.".into(),
        ));
    }
    Ok(())
}

/// Platform administration (accounts, platform settings) is for platform administrators only;
/// everyone else is told it does not exist.
pub fn require_platform_admin(ctx: &Ctx) -> Result<()> {
    if !ctx.is_admin {
        return Err(Error::NotFound("This page does not exist.".into()));
    }
    Ok(())
}

/// Loads the organization and the caller's role in it. An organization the caller cannot see
/// at all is reported as not found.
pub async fn access(db: &impl ConnectionTrait, ctx: &Ctx, org_id: &str) -> Result<Access> {
    require_management(ctx)?;
    if !sees_org(ctx, org_id) {
        return Err(org_not_found(org_id));
    }
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| org_not_found(org_id))?;
    let role = role_in(db, ctx, org_id).await?;
    let access = Access {
        org,
        role,
        is_admin: admin_in(ctx, org_id),
    };
    if !access.is_admin && access.role.is_none() {
        return Err(org_not_found(org_id));
    }
    Ok(access)
}

/// [`access`], then refuses unless the caller holds `permission` in the organization (and, with a
/// read-only token, unless `permission` is a View permission).
pub async fn require(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    permission: Permission,
) -> Result<Access> {
    let access = access(db, ctx, org_id).await?;
    if !permission.is_view() && ctx.grant.as_ref().is_some_and(|g| g.read_only) {
        return Err(read_only_token());
    }
    if !access.can(permission) {
        return Err(Error::Forbidden(format!(
            "You need the {} permission in {} to do this.",
            permission.as_str(),
            access.org.name
        )));
    }
    Ok(access)
}
