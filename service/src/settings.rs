//! Platform settings: one row per setting in `platform_settings`; a missing row means the
//! default. Read by anyone's service functions, changed by platform administrators only.

use domain::dto::{OrgCreation, PlatformSettings};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::db::Db;
use crate::entities::platform_setting;
use crate::{Ctx, Error, Result, authz};

const ORG_CREATION: &str = "org_creation";

/// The current settings (defaults for what was never set).
pub async fn get(db: &impl ConnectionTrait) -> Result<PlatformSettings> {
    let org_creation = platform_setting::Entity::find_by_id(ORG_CREATION.to_owned())
        .one(db)
        .await?
        .and_then(|row| OrgCreation::parse(&row.value))
        .unwrap_or_default();
    Ok(PlatformSettings { org_creation })
}

/// Stores the settings (platform administrators only).
pub async fn set(db: &impl Db, ctx: &Ctx, settings: PlatformSettings) -> Result<PlatformSettings> {
    authz::require_platform_admin(ctx)?;
    authz::require_write(ctx)?;
    let txn = crate::db::write(db).await?;
    platform_setting::Entity::delete_by_id(ORG_CREATION.to_owned())
        .exec(&txn)
        .await?;
    platform_setting::Entity::insert(platform_setting::ActiveModel {
        key: Set(ORG_CREATION.to_owned()),
        value: Set(settings.org_creation.as_str().to_owned()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(by = %ctx.user_id, org_creation = settings.org_creation.as_str(), "platform settings changed");
    Ok(settings)
}

/// Why the caller may not create an organization, or `None` when they may.
pub fn org_creation_refusal(settings: PlatformSettings, ctx: &Ctx) -> Option<&'static str> {
    (settings.org_creation == OrgCreation::AdminsOnly && !ctx.is_admin).then_some(ADMINS_ONLY)
}

/// The refusal the caller reads (and the Create Organization wizard shows).
pub const ADMINS_ONLY: &str =
    "Only platform administrators may create organizations on this Tollgate.";

/// Refuses (403) when the platform setting does not let the caller create organizations.
pub async fn require_org_creation(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<()> {
    match org_creation_refusal(get(db).await?, ctx) {
        Some(message) => Err(Error::Forbidden(message.to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(is_admin: bool) -> Ctx {
        Ctx {
            user_id: "u".into(),
            email: "u@x.io".into(),
            display_name: "U".into(),
            is_admin,
            portal_only: false,
            via_portal: false,
            grant: None,
        }
    }

    #[test]
    fn who_may_create_organizations() {
        let anyone = PlatformSettings::default();
        assert_eq!(anyone.org_creation, OrgCreation::Anyone, "the default");
        assert_eq!(org_creation_refusal(anyone, &ctx(false)), None);
        let admins = PlatformSettings {
            org_creation: OrgCreation::AdminsOnly,
        };
        assert_eq!(org_creation_refusal(admins, &ctx(true)), None);
        assert_eq!(org_creation_refusal(admins, &ctx(false)), Some(ADMINS_ONLY));
        for o in OrgCreation::ALL {
            assert_eq!(OrgCreation::parse(o.as_str()), Some(o));
        }
        assert_eq!(OrgCreation::parse("nobody"), None);
    }
}
