//! Permission checks, object by object. Every service function that touches an organization's
//! data starts with [`require`]; the UI hides what a user may not do, but this is what refuses.

use domain::{Permission, Role};
use sea_orm::{ConnectionTrait, EntityTrait};

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
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| org_not_found(org_id))?;
    let role = membership::Entity::find_by_id((org_id.to_owned(), ctx.user_id.clone()))
        .one(db)
        .await?
        .and_then(|m| Role::parse(&m.role));
    let access = Access {
        org,
        role,
        is_admin: ctx.is_admin,
    };
    if !access.is_admin && access.role.is_none() {
        return Err(org_not_found(org_id));
    }
    Ok(access)
}

/// [`access`], then refuses unless the caller holds `permission` in the organization.
pub async fn require(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    permission: Permission,
) -> Result<Access> {
    let access = access(db, ctx, org_id).await?;
    if !access.can(permission) {
        return Err(Error::Forbidden(format!(
            "You need the {} permission in {} to do this.",
            permission.as_str(),
            access.org.name
        )));
    }
    Ok(access)
}
