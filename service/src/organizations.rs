//! Organizations: create (the creator becomes Organization Owner), view, edit the description,
//! list the caller's organizations.

use domain::dto::{OrgDetail, OrgSummary};
use domain::{Description, EntityName, Permission, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use crate::audit::{self, Entry, Subject};
use crate::db::Db;
use crate::entities::{membership, organization, user};
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now};

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub name: String,
    pub description: String,
}

/// Creates an organization and makes the caller its owner, in one transaction with its
/// Change Log entries.
pub async fn create(db: &impl Db, ctx: &Ctx, input: NewOrganization) -> Result<OrgDetail> {
    authz::require_management(ctx)?;
    authz::require_unlimited_write(ctx)?;
    crate::settings::require_org_creation(db, ctx).await?;
    let name = EntityName::parse(&input.name);
    let description = Description::parse(&input.description);
    collect_fields([
        name.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
    ])?;
    let (name, description) = (name?, description?);
    let id = name.id();
    let txn = crate::db::write(db).await?;
    insert_in(&txn, ctx, &name, &description).await?;
    txn.commit().await?;
    get(db, ctx, &id).await
}

/// Inserts an organization with the caller as its Owner, and their Change Log rows, inside
/// `txn`. Returns its id.
pub(crate) async fn insert_in(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    name: &EntityName,
    description: &Description,
) -> Result<String> {
    authz::require_unlimited_write(ctx)?;
    let id = name.id();
    if organization::Entity::find_by_id(id.clone())
        .one(txn)
        .await?
        .is_some()
    {
        return Err(taken(name, &id));
    }
    let at = now();
    organization::Entity::insert(organization::ActiveModel {
        id: Set(id.clone()),
        name: Set(name.as_str().to_owned()),
        description: Set(description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
    })
    .exec_without_returning(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken(name, &id),
        _ => e.into(),
    })?;
    membership::Entity::insert(membership::ActiveModel {
        org_id: Set(id.clone()),
        user_id: Set(ctx.user_id.clone()),
        role: Set(Role::Owner.as_str().to_owned()),
        created_on: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    audit::record(
        txn,
        ctx,
        Entry {
            org_id: &id,
            entity_type: Subject::Organization,
            entity_id: &id,
            entity_version: None,
            what: "Create",
            summary: format!("Created organization {}", name.as_str()),
            changes: vec![],
        },
    )
    .await?;
    audit::record(
        txn,
        ctx,
        Entry {
            org_id: &id,
            entity_type: Subject::Organization,
            entity_id: &id,
            entity_version: None,
            what: "Grant",
            summary: format!("Granted {} to {}", Role::Owner.label(), ctx.email),
            changes: vec![],
        },
    )
    .await?;
    Ok(id)
}

fn taken(name: &EntityName, id: &str) -> Error {
    Error::conflict(
        "name",
        format!(
            "An organization named '{}' already exists (its id '{id}' is taken).",
            name.as_str()
        ),
    )
}

pub async fn get(db: &impl ConnectionTrait, ctx: &Ctx, org_id: &str) -> Result<OrgDetail> {
    let access = authz::require(db, ctx, org_id, Permission::OrgView).await?;
    let member_count = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    let created_by = user::Entity::find_by_id(access.org.created_by.clone())
        .one(db)
        .await?
        .map_or_else(|| "Deleted user".to_owned(), |u| u.display_name);
    let permissions = access.permissions();
    let org = access.org;
    Ok(OrgDetail {
        id: org.id,
        name: org.name,
        description: org.description,
        created_by,
        created_on: org.created_on,
        member_count,
        role: access.role,
        permissions,
    })
}

/// The caller's organizations sorted by name (a platform administrator sees all of them),
/// optionally only those where the caller holds `permission`.
pub async fn list_mine(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    permission: Option<Permission>,
) -> Result<Vec<OrgSummary>> {
    authz::require_management(ctx)?;
    let memberships = authz::memberships(db, ctx).await?;
    let mut q = organization::Entity::find().order_by_asc(organization::Column::Name);
    if !ctx.is_admin {
        q = q.filter(organization::Column::Id.is_in(memberships.keys().cloned()));
    } else if let Some(orgs) = authz::grant_orgs(ctx) {
        q = q.filter(organization::Column::Id.is_in(orgs.iter().cloned()));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .filter_map(|o| {
            let role = memberships.get(&o.id).copied();
            let allowed =
                permission.is_none_or(|p| ctx.is_admin || role.is_some_and(|r| r.grants(p)));
            allowed.then_some(OrgSummary {
                id: o.id,
                name: o.name,
                description: o.description,
                role,
                created_on: o.created_on,
            })
        })
        .collect())
}

/// Changes the description (the name is immutable). Needs orgEdit.
pub async fn update_description(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    description: &str,
) -> Result<OrgDetail> {
    let description = Description::parse(description)?;
    let txn = crate::db::write(db).await?;
    let access = authz::require(&txn, ctx, org_id, Permission::OrgEdit).await?;
    let before = access.org.description.clone();
    if let Some(change) = audit::change("description", &before, description.as_str()) {
        let mut org: organization::ActiveModel = access.org.into();
        org.description = Set(description.as_str().to_owned());
        org.modified_by = Set(ctx.user_id.clone());
        org.modified_on = Set(now());
        org.update(&txn).await?;
        audit::record(
            &txn,
            ctx,
            Entry {
                org_id,
                entity_type: Subject::Organization,
                entity_id: org_id,
                entity_version: None,
                what: "Update",
                summary: "Updated the description".to_owned(),
                changes: vec![change],
            },
        )
        .await?;
    }
    txn.commit().await?;
    get(db, ctx, org_id).await
}
