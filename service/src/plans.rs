//! Plans and plan versions: create (plan + first version, one transaction), view, edit the
//! description, list.

use domain::dto::{EntitySummary, PlanVersionDetail};
use domain::{Description, EntityName, Permission, PlanStatus, Version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

use crate::audit::{self, EntityType, Entry};
use crate::catalog::{self, EntityRef, Parent, VersionRow};
use crate::entities::{plan, plan_version};
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now};

#[derive(Debug, Clone)]
pub struct NewPlan {
    pub name: String,
    pub version: String,
    pub description: String,
}

fn parent(p: &plan::Model) -> Parent {
    Parent {
        org_id: p.org_id.clone(),
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
    }
}

fn row(v: &plan_version::Model) -> VersionRow {
    VersionRow {
        org_id: v.org_id.clone(),
        parent_id: v.plan_id.clone(),
        version: v.version.clone(),
        status: v.status.clone(),
        created_on: v.created_on,
    }
}

/// Creates a plan with its first version (status Created). Needs planEdit.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewPlan,
) -> Result<EntityRef> {
    let name = EntityName::parse(&input.name);
    let version = Version::parse(&input.version);
    let description = Description::parse(&input.description);
    let txn = db.begin().await?;
    let access = authz::require(&txn, ctx, org_id, Permission::PlanEdit).await?;
    collect_fields([
        name.as_ref().err().cloned(),
        version.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
    ])?;
    let (name, version, description) = (name?, version?, description?);
    let id = name.id();
    let taken = || catalog::name_taken("plan", name.as_str(), &access.org.name);
    if plan::Entity::find_by_id((org_id.to_owned(), id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let at = now();
    plan::Entity::insert(plan::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(id.clone()),
        name: Set(name.as_str().to_owned()),
        description: Set(description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken(),
        _ => e.into(),
    })?;
    plan_version::Entity::insert(plan_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        plan_id: Set(id.clone()),
        version: Set(version.as_str().to_owned()),
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
    audit::record(
        &txn,
        ctx,
        Entry {
            org_id,
            entity_type: EntityType::Plan,
            entity_id: &id,
            entity_version: Some(version.as_str()),
            what: "Create",
            summary: format!(
                "Created plan {} version {}",
                name.as_str(),
                version.as_str()
            ),
            changes: vec![],
        },
    )
    .await?;
    txn.commit().await?;
    Ok(EntityRef {
        org_id: org_id.to_owned(),
        id,
        version: version.into_inner(),
    })
}

async fn find(db: &impl ConnectionTrait, org_id: &str, plan_id: &str) -> Result<plan::Model> {
    plan::Entity::find_by_id((org_id.to_owned(), plan_id.to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Plan '{plan_id}' was not found in this organization."
            ))
        })
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    version: &str,
) -> Result<PlanVersionDetail> {
    let access = authz::require(db, ctx, org_id, Permission::PlanView).await?;
    let p = find(db, org_id, plan_id).await?;
    let all = plan_version::Entity::find()
        .filter(plan_version::Column::OrgId.eq(org_id))
        .filter(plan_version::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    let v = all
        .iter()
        .find(|v| v.version == version)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("{} has no version '{version}'.", p.name)))?;
    let header = catalog::header(
        db,
        &access,
        parent(&p),
        &v.version,
        all.iter().map(row).collect(),
        &p.created_by,
        p.created_on,
    )
    .await?;
    Ok(PlanVersionDetail {
        header,
        status: PlanStatus::parse(&v.status).unwrap_or(PlanStatus::Created),
        locked_on: v.locked_on,
    })
}

pub async fn list_for_org(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
) -> Result<Vec<EntitySummary>> {
    let access = authz::require(db, ctx, org_id, Permission::PlanView).await?;
    list_in(
        db,
        std::collections::HashMap::from([(access.org.id, access.org.name)]),
    )
    .await
}

pub async fn list_mine(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<EntitySummary>> {
    let names = catalog::orgs_with(db, ctx, Permission::PlanView).await?;
    list_in(db, names).await
}

async fn list_in(
    db: &impl ConnectionTrait,
    org_names: std::collections::HashMap<String, String>,
) -> Result<Vec<EntitySummary>> {
    let ids: Vec<String> = org_names.keys().cloned().collect();
    let parents = plan::Entity::find()
        .filter(plan::Column::OrgId.is_in(ids.clone()))
        .all(db)
        .await?;
    let versions = plan_version::Entity::find()
        .filter(plan_version::Column::OrgId.is_in(ids))
        .all(db)
        .await?;
    Ok(catalog::summaries(
        parents.iter().map(parent).collect(),
        versions.iter().map(row).collect(),
        &org_names,
    ))
}

pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    plan_id: &str,
    description: &str,
) -> Result<()> {
    let description = Description::parse(description)?;
    let txn = db.begin().await?;
    authz::require(&txn, ctx, org_id, Permission::PlanEdit).await?;
    let p = find(&txn, org_id, plan_id).await?;
    if let Some(change) = audit::change("description", &p.description, description.as_str()) {
        let mut active: plan::ActiveModel = p.into();
        active.description = Set(description.as_str().to_owned());
        active.modified_by = Set(ctx.user_id.clone());
        active.modified_on = Set(now());
        active.update(&txn).await?;
        audit::record(
            &txn,
            ctx,
            Entry {
                org_id,
                entity_type: EntityType::Plan,
                entity_id: plan_id,
                entity_version: None,
                what: "Update",
                summary: "Updated the description".to_owned(),
                changes: vec![change],
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
