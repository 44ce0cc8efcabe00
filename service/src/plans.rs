//! Plans and plan versions: create (plan + first version, one transaction), view, edit the
//! description, list; lock, delete, new version.

use domain::dto::PlanVersionDetail;
use domain::{Permission, PlanStatus, lifecycle};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter,
};

use crate::db::Db;
use crate::entities::{api_plan, plan, plan_version};
use crate::policies;
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Result, authz, now};
use domain::EntityKind;

#[derive(Debug, Clone)]
pub struct NewPlan {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// Creates a plan with its first version (status Created). Needs planEdit.
pub async fn create(db: &impl Db, ctx: &Ctx, org_id: &str, input: NewPlan) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let new = versioned::prepare_create::<plan::Entity>(
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
    insert_version(&txn, ctx, org_id, &new.id, new.version.as_str()).await?;
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
    let loaded = versioned::load_version::<plan::Entity>(
        db,
        ctx,
        org_id,
        plan_id,
        version,
        Permission::PlanView,
    )
    .await?;
    let v = loaded.version;
    let offered_by = api_plan::Entity::find()
        .filter(api_plan::Column::PlanVersionId.eq(v.id))
        .count(db)
        .await?;
    Ok(PlanVersionDetail {
        header: loaded.header,
        status: PlanStatus::parse(&v.status).unwrap_or(PlanStatus::Created),
        locked_on: v.locked_on,
        policy_count: policies::count(db, EntityKind::Plan, v.id).await?,
        offered_by,
    })
}

async fn insert_version(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    version: &str,
) -> Result<plan_version::Model> {
    let at = now();
    Ok(plan_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        plan_id: Set(plan_id.to_owned()),
        version: Set(version.to_owned()),
        status: Set(PlanStatus::Created.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        locked_on: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Locks a plan version (irreversible): APIs may offer it from now on, and its policies are
/// final. Needs planAdmin.
pub async fn lock(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, &at.org_id, Permission::PlanAdmin).await?;
    let v = versioned::lock_version::<plan::Entity>(&txn, &at.org_id, &at.id, &at.version).await?;
    let status = lifecycle::lock_plan(PlanStatus::parse(&v.status).unwrap_or(PlanStatus::Created))?;
    let mut m = v.into_active_model();
    let t = now();
    m.status = Set(status.as_str().to_owned());
    m.locked_on = Set(Some(t));
    m.modified_by = Set(ctx.user_id.clone());
    m.modified_on = Set(t);
    m.update(&txn).await?;
    versioned::record_action::<plan::Entity>(
        &txn,
        ctx,
        at,
        "Lock",
        format!("Locked version {}", at.version),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a plan with its versions and policies; refused once a version was locked. Needs
/// planAdmin.
pub async fn delete(db: &impl Db, ctx: &Ctx, org_id: &str, plan_id: &str) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::PlanAdmin).await?;
    let parent = versioned::find::<plan::Entity>(&txn, org_id, plan_id).await?;
    let versions = versioned::lock_versions::<plan::Entity>(&txn, org_id, plan_id).await?;
    let statuses: Vec<PlanStatus> = versions
        .iter()
        .filter_map(|v| PlanStatus::parse(&v.status))
        .collect();
    lifecycle::delete_plan(&statuses)?;
    policies::delete_for(
        &txn,
        EntityKind::Plan,
        versions.iter().map(|v| v.id).collect(),
    )
    .await?;
    plan::Entity::delete_by_id((org_id.to_owned(), plan_id.to_owned()))
        .exec(&txn)
        .await?;
    versioned::record_deleted::<plan::Entity>(
        &txn,
        ctx,
        org_id,
        plan_id,
        format!(
            "Deleted plan {} with {} version(s)",
            parent.name,
            versions.len()
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a new plan version: empty, or cloned from `clone_from` (its policies). Needs
/// planEdit.
pub async fn new_version(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    version: &str,
    clone_from: Option<&str>,
) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let (version, source) = versioned::prepare_new_version::<plan::Entity>(
        &txn, ctx, org_id, plan_id, version, clone_from,
    )
    .await?;
    let v = insert_version(&txn, ctx, org_id, plan_id, version.as_str()).await?;
    if let Some(source) = &source {
        policies::copy(&txn, ctx, EntityKind::Plan, source.id, v.id).await?;
    }
    let r = EntityRef {
        org_id: org_id.to_owned(),
        id: plan_id.to_owned(),
        version: version.into_inner(),
    };
    versioned::record_new_version::<plan::Entity>(
        &txn,
        ctx,
        &r,
        source.as_ref().map(|s| s.version.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}
