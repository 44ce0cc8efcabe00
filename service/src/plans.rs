//! Plans and plan versions: create (plan + first version, one transaction), view, edit the
//! description, list.

use domain::dto::{EntitySummary, PlanVersionDetail};
use domain::{Permission, PlanStatus};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::catalog::{self, EntityRef};
use crate::entities::{plan, plan_version};
use crate::{Ctx, Result, now};

#[derive(Debug, Clone)]
pub struct NewPlan {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// Creates a plan with its first version (status Created). Needs planEdit.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewPlan,
) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let new = catalog::prepare_create::<plan::Entity>(
        &txn,
        ctx,
        org_id,
        &input.name,
        &input.version,
        &input.description,
        None,
    )
    .await?;
    let at = now();
    plan::Entity::insert(plan::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(new.id.clone()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(new.description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| new.on_insert::<plan::Entity>(e))?;
    plan_version::Entity::insert(plan_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        plan_id: Set(new.id.clone()),
        version: Set(new.version.as_str().to_owned()),
        status: Set(PlanStatus::Created.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        locked_on: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    let created = new.finish::<plan::Entity>(&txn, ctx).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    version: &str,
) -> Result<PlanVersionDetail> {
    let loaded = catalog::load_version::<plan::Entity>(
        db,
        ctx,
        org_id,
        plan_id,
        version,
        Permission::PlanView,
    )
    .await?;
    let v = loaded.version;
    Ok(PlanVersionDetail {
        header: loaded.header,
        status: PlanStatus::parse(&v.status).unwrap_or(PlanStatus::Created),
        locked_on: v.locked_on,
    })
}

/// The plans of one organization, or (`org_id` = None) all the caller may view.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> Result<Vec<EntitySummary>> {
    catalog::list::<plan::Entity>(db, ctx, org_id).await
}

/// Changes the description (the name is immutable). Needs planEdit.
pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    description: &str,
) -> Result<()> {
    catalog::update_description::<plan::Entity>(db, ctx, org_id, plan_id, description).await
}
