//! What clients, APIs and plans have in common. Each is a parent row (org, id, name,
//! description) with versions; [`Versioned`] describes one kind (its tables and columns, and its
//! [`EntityKind`], from which its noun, permissions and Change Log rows follow), and the generic
//! functions here do the shared work once: look-ups, lists across organizations, page headers,
//! the description edit, and the common part of creation. [`list`] and [`update_description`]
//! take the kind as a value, for callers that hold an `EntityKind`.

use std::collections::HashMap;

use domain::dto::{EntityHeader, EntitySummary, VersionSummary};
use domain::{Description, EntityKind, EntityName, Permission, Version};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::audit::{self, Entry};
use crate::authz::Access;
use crate::db::Db;
use crate::entities::{
    Timestamp, api, api_version, client, client_version, plan, plan_version, user,
};
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now};

/// Where a client, API or plan version lives: `/orgs/{org}/{kind}s/{id}/{version}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef {
    pub org_id: String,
    pub id: String,
    pub version: String,
}

/// A parent row (client, API or plan) reduced to what the shared code needs.
pub(crate) struct Parent {
    pub org_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_by: String,
    pub created_on: Timestamp,
}

/// A version row reduced to what lists need.
pub(crate) struct VersionRow {
    pub org_id: String,
    pub parent_id: String,
    pub version: String,
    pub status: String,
    pub created_on: Timestamp,
}

/// One kind of versioned entity of an organization.
pub(crate) trait Versioned: EntityTrait {
    type Version: EntityTrait;
    /// Which of the three it is (its noun, permissions and Change Log rows follow from it).
    const KIND: EntityKind;
    fn org_col() -> Self::Column;
    fn id_col() -> Self::Column;
    fn description_col() -> Self::Column;
    fn modified_by_col() -> Self::Column;
    fn modified_on_col() -> Self::Column;
    fn version_org_col() -> <Self::Version as EntityTrait>::Column;
    fn version_parent_col() -> <Self::Version as EntityTrait>::Column;
    fn version_col() -> <Self::Version as EntityTrait>::Column;
    fn parent(m: &Self::Model) -> Parent;
    fn row(v: &<Self::Version as EntityTrait>::Model) -> VersionRow;
}

macro_rules! versioned {
    ($parent:ident, $version:ident, $parent_col:ident, $parent_field:ident, $kind:ident) => {
        impl Versioned for $parent::Entity {
            type Version = $version::Entity;
            const KIND: EntityKind = EntityKind::$kind;
            fn org_col() -> Self::Column {
                $parent::Column::OrgId
            }
            fn id_col() -> Self::Column {
                $parent::Column::Id
            }
            fn description_col() -> Self::Column {
                $parent::Column::Description
            }
            fn modified_by_col() -> Self::Column {
                $parent::Column::ModifiedBy
            }
            fn modified_on_col() -> Self::Column {
                $parent::Column::ModifiedOn
            }
            fn version_org_col() -> $version::Column {
                $version::Column::OrgId
            }
            fn version_parent_col() -> $version::Column {
                $version::Column::$parent_col
            }
            fn version_col() -> $version::Column {
                $version::Column::Version
            }
            fn parent(m: &$parent::Model) -> Parent {
                Parent {
                    org_id: m.org_id.clone(),
                    id: m.id.clone(),
                    name: m.name.clone(),
                    description: m.description.clone(),
                    created_by: m.created_by.clone(),
                    created_on: m.created_on,
                }
            }
            fn row(v: &$version::Model) -> VersionRow {
                VersionRow {
                    org_id: v.org_id.clone(),
                    parent_id: v.$parent_field.clone(),
                    version: v.version.clone(),
                    status: v.status.clone(),
                    created_on: v.created_on,
                }
            }
        }
    };
}

versioned!(client, client_version, ClientId, client_id, Client);
versioned!(api, api_version, ApiId, api_id, Api);
versioned!(plan, plan_version, PlanId, plan_id, Plan);

/// The parent row `id` in `org_id`.
pub(crate) async fn find<E: Versioned>(
    db: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
) -> Result<E::Model> {
    E::find()
        .filter(E::org_col().eq(org_id))
        .filter(E::id_col().eq(id))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "No {} '{id}' was found in this organization.",
                E::KIND.noun()
            ))
        })
}

/// The names of the parents `(org_id, id)` in one query (missing ones are left out).
pub(crate) async fn names<E: Versioned>(
    db: &impl ConnectionTrait,
    keys: &[(String, String)],
) -> Result<std::collections::HashMap<(String, String), String>> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let orgs: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    Ok(E::find()
        .filter(E::org_col().is_in(orgs))
        .filter(E::id_col().is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(E::parent)
        .map(|p| ((p.org_id, p.id), p.name))
        .collect())
}

/// Every version of the parent `id`.
pub(crate) async fn versions<E: Versioned>(
    db: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
) -> Result<Vec<<E::Version as EntityTrait>::Model>> {
    Ok(E::Version::find()
        .filter(E::version_org_col().eq(org_id))
        .filter(E::version_parent_col().eq(id))
        .all(db)
        .await?)
}

fn version_query<E: Versioned>(
    org_id: &str,
    id: &str,
    version: &str,
) -> sea_orm::Select<E::Version> {
    E::Version::find()
        .filter(E::version_org_col().eq(org_id))
        .filter(E::version_parent_col().eq(id))
        .filter(E::version_col().eq(version))
}

fn no_version<E: Versioned>(id: &str, version: &str) -> Error {
    Error::NotFound(format!(
        "The {} '{id}' has no version '{version}'.",
        E::KIND.noun()
    ))
}

/// The version `version` of the parent `id`.
pub(crate) async fn find_version<E: Versioned>(
    db: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
    version: &str,
) -> Result<<E::Version as EntityTrait>::Model> {
    version_query::<E>(org_id, id, version)
        .one(db)
        .await?
        .ok_or_else(|| no_version::<E>(id, version))
}

/// [`find_version`] for a change, inside its transaction: the row stays locked (`FOR UPDATE`
/// on PostgreSQL; SQLite's write transactions already take turns) until the transaction ends,
/// so that concurrent actions on one version cannot both pass their checks.
pub(crate) async fn lock_version<E: Versioned>(
    txn: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
    version: &str,
) -> Result<<E::Version as EntityTrait>::Model> {
    version_query::<E>(org_id, id, version)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| no_version::<E>(id, version))
}

/// Every version of the parent `id`, locked until the transaction ends (see [`lock_version`]).
pub(crate) async fn lock_versions<E: Versioned>(
    txn: &impl ConnectionTrait,
    org_id: &str,
    id: &str,
) -> Result<Vec<<E::Version as EntityTrait>::Model>> {
    Ok(E::Version::find()
        .filter(E::version_org_col().eq(org_id))
        .filter(E::version_parent_col().eq(id))
        .lock_exclusive()
        .all(txn)
        .await?)
}

/// Writes a Change Log row for an action on one version (Publish, Lock, Register, ...).
pub(crate) async fn record_action<E: Versioned>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    what: &str,
    summary: String,
) -> Result<()> {
    audit::record(
        db,
        ctx,
        Entry {
            org_id: &at.org_id,
            entity_type: E::KIND.into(),
            entity_id: &at.id,
            entity_version: Some(&at.version),
            what,
            summary,
            changes: vec![],
        },
    )
    .await
}

/// Writes the Change Log row of a deleted client, API or plan (all its versions).
pub(crate) async fn record_deleted<E: Versioned>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    id: &str,
    summary: String,
) -> Result<()> {
    audit::record(
        db,
        ctx,
        Entry {
            org_id,
            entity_type: E::KIND.into(),
            entity_id: id,
            entity_version: None,
            what: "Delete",
            summary,
            changes: vec![],
        },
    )
    .await
}

/// The checks before a new version of an existing client, API or plan: the edit permission,
/// the version's syntax, not taken yet; and the version to clone, if one is named.
pub(crate) async fn prepare_new_version<E: Versioned>(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    id: &str,
    version: &str,
    clone_from: Option<&str>,
) -> Result<(Version, Option<<E::Version as EntityTrait>::Model>)> {
    authz::require(txn, ctx, org_id, E::KIND.edit_permission()).await?;
    let parent = find::<E>(txn, org_id, id).await?;
    let version = Version::parse(version)?;
    let taken = E::Version::find()
        .filter(E::version_org_col().eq(org_id))
        .filter(E::version_parent_col().eq(id))
        .filter(E::version_col().eq(version.as_str()))
        .one(txn)
        .await?
        .is_some();
    if taken {
        return Err(Error::conflict(
            "version",
            format!(
                "{} already has a version '{}'.",
                E::parent(&parent).name,
                version.as_str()
            ),
        ));
    }
    let source = match clone_from.filter(|v| !v.is_empty()) {
        Some(v) => Some(find_version::<E>(txn, org_id, id, v).await?),
        None => None,
    };
    Ok((version, source))
}

/// The Change Log row of a new version ("Create", or "Clone" when copied from another).
pub(crate) async fn record_new_version<E: Versioned>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    cloned_from: Option<&str>,
) -> Result<()> {
    let (what, summary) = match cloned_from {
        Some(from) => (
            "Clone",
            format!("Created version {} as a copy of {from}", at.version),
        ),
        None => ("Create", format!("Created version {}", at.version)),
    };
    record_action::<E>(db, ctx, at, what, summary).await
}

/// One version the caller may see with `permission`, with the page header.
pub(crate) struct Loaded<V> {
    pub header: EntityHeader,
    pub version: V,
}

pub(crate) async fn load_version<E: Versioned>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    id: &str,
    version: &str,
    permission: Permission,
) -> Result<Loaded<<E::Version as EntityTrait>::Model>>
where
    <E::Version as EntityTrait>::Model: Clone,
{
    let access = authz::require(db, ctx, org_id, permission).await?;
    let parent = E::parent(&find::<E>(db, org_id, id).await?);
    let all_versions = versions::<E>(db, org_id, id).await?;
    let found = all_versions
        .iter()
        .find(|v| E::row(v).version == version)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("{} has no version '{version}'.", parent.name)))?;
    let created_by = user_name(db, &parent.created_by).await?;
    let created_on = parent.created_on;
    let org_names = HashMap::from([(access.org.id.clone(), access.org.name.clone())]);
    let summary = summaries(
        vec![parent],
        all_versions.iter().map(E::row).collect(),
        &org_names,
    )
    .pop()
    .expect("one parent gives one summary");
    let header = EntityHeader {
        org_id: summary.org_id,
        org_name: summary.org_name,
        id: summary.id,
        name: summary.name,
        description: summary.description,
        version: version.to_owned(),
        versions: summary.versions,
        created_by,
        created_on,
        permissions: access.permissions(),
    };
    Ok(Loaded {
        header,
        version: found,
    })
}

/// Every client, API or plan (`kind`) the caller may view: in one organization, or (`org_id` =
/// None) in every organization where the caller holds the view permission.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    kind: EntityKind,
    org_id: Option<&str>,
) -> Result<Vec<EntitySummary>> {
    match kind {
        EntityKind::Client => list_of::<client::Entity>(db, ctx, org_id).await,
        EntityKind::Api => list_of::<api::Entity>(db, ctx, org_id).await,
        EntityKind::Plan => list_of::<plan::Entity>(db, ctx, org_id).await,
    }
}

async fn list_of<E: Versioned>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> Result<Vec<EntitySummary>> {
    let org_names = match org_id {
        Some(org_id) => {
            let access = authz::require(db, ctx, org_id, E::KIND.view_permission()).await?;
            HashMap::from([(access.org.id, access.org.name)])
        }
        None => crate::organizations::list_mine(db, ctx, Some(E::KIND.view_permission()))
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
    };
    let ids: Vec<String> = org_names.keys().cloned().collect();
    let parents = E::find()
        .filter(E::org_col().is_in(ids.clone()))
        .all(db)
        .await?;
    let versions = E::Version::find()
        .filter(E::version_org_col().is_in(ids))
        .all(db)
        .await?;
    Ok(summaries(
        parents.iter().map(E::parent).collect(),
        versions.iter().map(E::row).collect(),
        &org_names,
    ))
}

/// Joins parents with their versions (newest first) and organization names; sorted by
/// organization name, then name.
fn summaries(
    parents: Vec<Parent>,
    mut versions: Vec<VersionRow>,
    org_names: &HashMap<String, String>,
) -> Vec<EntitySummary> {
    versions.sort_by_key(|v| std::cmp::Reverse(v.created_on));
    let mut by_parent: HashMap<(String, String), Vec<VersionSummary>> = HashMap::new();
    for v in versions {
        by_parent
            .entry((v.org_id, v.parent_id))
            .or_default()
            .push(VersionSummary {
                version: v.version,
                status: v.status,
            });
    }
    let mut out: Vec<EntitySummary> = parents
        .into_iter()
        .map(|p| EntitySummary {
            org_name: org_names
                .get(&p.org_id)
                .cloned()
                .unwrap_or_else(|| p.org_id.clone()),
            versions: by_parent
                .remove(&(p.org_id.clone(), p.id.clone()))
                .unwrap_or_default(),
            org_id: p.org_id,
            id: p.id,
            name: p.name,
            description: p.description,
        })
        .collect();
    out.sort_by_key(|e| (e.org_name.to_lowercase(), e.name.to_lowercase()));
    out
}

async fn user_name(db: &impl ConnectionTrait, user_id: &str) -> Result<String> {
    Ok(user::Entity::find_by_id(user_id.to_owned())
        .one(db)
        .await?
        .map_or_else(|| "Deleted user".to_owned(), |u| u.display_name))
}

/// Changes the description shared by all versions of a client, API or plan (names are
/// immutable). Needs the kind's edit permission; writes the Change Log row with before and after
/// in the same transaction.
pub async fn update_description(
    db: &impl Db,
    ctx: &Ctx,
    kind: EntityKind,
    org_id: &str,
    id: &str,
    description: &str,
) -> Result<()> {
    match kind {
        EntityKind::Client => {
            update_description_of::<client::Entity>(db, ctx, org_id, id, description).await
        }
        EntityKind::Api => {
            update_description_of::<api::Entity>(db, ctx, org_id, id, description).await
        }
        EntityKind::Plan => {
            update_description_of::<plan::Entity>(db, ctx, org_id, id, description).await
        }
    }
}

async fn update_description_of<E: Versioned>(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    id: &str,
    description: &str,
) -> Result<()> {
    let description = Description::parse(description)?;
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, E::KIND.edit_permission()).await?;
    let before = E::parent(&find::<E>(&txn, org_id, id).await?).description;
    if let Some(change) = audit::change("description", &before, description.as_str()) {
        E::update_many()
            .col_expr(E::description_col(), Expr::value(description.as_str()))
            .col_expr(E::modified_by_col(), Expr::value(ctx.user_id.clone()))
            .col_expr(E::modified_on_col(), Expr::value(now()))
            .filter(E::org_col().eq(org_id))
            .filter(E::id_col().eq(id))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            ctx,
            Entry {
                org_id,
                entity_type: E::KIND.into(),
                entity_id: id,
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

/// Validated input of a Create wizard.
pub(crate) struct NewEntity {
    pub access: Access,
    pub name: EntityName,
    pub id: String,
    pub version: Version,
    pub description: Description,
}

/// The shared first half of creating a client, API or plan inside `txn`: the edit permission,
/// every field checked (all problems at once, `extra` included), the name's id not taken.
pub(crate) async fn prepare_create<E: Versioned>(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    name: &str,
    version: &str,
    description: &str,
    extra: Option<domain::FieldError>,
) -> Result<NewEntity> {
    let access = authz::require(txn, ctx, org_id, E::KIND.edit_permission()).await?;
    let name = EntityName::parse(name);
    let version = Version::parse(version);
    let description = Description::parse(description);
    collect_fields([
        name.as_ref().err().cloned(),
        version.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
        extra,
    ])?;
    let (name, version, description) = (name?, version?, description?);
    let id = name.id();
    let exists = E::find()
        .filter(E::org_col().eq(org_id))
        .filter(E::id_col().eq(id.clone()))
        .one(txn)
        .await?
        .is_some();
    let new = NewEntity {
        access,
        name,
        id,
        version,
        description,
    };
    if exists {
        return Err(new.taken::<E>());
    }
    Ok(new)
}

impl NewEntity {
    /// "A client named 'X' already exists in ACME Support." (also for a race on insert).
    pub fn taken<E: Versioned>(&self) -> Error {
        Error::conflict(
            "name",
            name_taken_message(E::KIND.noun(), self.name.as_str(), &self.access.org.name),
        )
    }

    /// Maps a unique-key violation on insert (a concurrent create) to [`NewEntity::taken`].
    pub fn on_insert<E: Versioned>(&self, e: sea_orm::DbErr) -> Error {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => self.taken::<E>(),
            _ => e.into(),
        }
    }

    /// The Change Log row of the creation, and where the new version lives.
    pub async fn finish<E: Versioned>(
        self,
        txn: &impl ConnectionTrait,
        ctx: &Ctx,
    ) -> Result<EntityRef> {
        let org_id = self.access.org.id.clone();
        audit::record(
            txn,
            ctx,
            Entry {
                org_id: &org_id,
                entity_type: E::KIND.into(),
                entity_id: &self.id,
                entity_version: Some(self.version.as_str()),
                what: "Create",
                summary: format!(
                    "Created {} {} version {}",
                    E::KIND.noun(),
                    self.name.as_str(),
                    self.version.as_str()
                ),
                changes: vec![],
            },
        )
        .await?;
        Ok(EntityRef {
            org_id,
            id: self.id,
            version: self.version.into_inner(),
        })
    }
}

/// "A client named 'X' already exists in ACME Support."
pub(crate) fn name_taken_message(noun: &str, name: &str, org_name: &str) -> String {
    format!("A {noun} named '{name}' already exists in {org_name}.")
}
