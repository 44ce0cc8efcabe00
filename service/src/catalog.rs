//! What clients, APIs and plans have in common: lists of summaries across organizations, page
//! headers, the name-is-taken check, and key generation. The entity modules (`clients`, `apis`,
//! `plans`) feed their rows into these helpers.

use std::collections::HashMap;

use domain::dto::{EntityHeader, EntitySummary, VersionSummary};
use domain::{Permission, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::authz::Access;
use crate::entities::{Timestamp, membership, organization, user};
use crate::{Ctx, Result, authz};

/// Where a client, API or plan version lives: `/orgs/{org}/{kind}s/{id}/{version}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef {
    pub org_id: String,
    pub id: String,
    pub version: String,
}

/// A parent row (client, API or plan) reduced to what lists need.
pub(crate) struct Parent {
    pub org_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
}

/// A version row reduced to what lists need.
pub(crate) struct VersionRow {
    pub org_id: String,
    pub parent_id: String,
    pub version: String,
    pub status: String,
    pub created_on: Timestamp,
}

/// The organizations (id → name) where the caller holds `permission`; all for an administrator.
pub(crate) async fn orgs_with(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    permission: Permission,
) -> Result<HashMap<String, String>> {
    authz::require_management(ctx)?;
    let mut q = organization::Entity::find();
    if !ctx.is_admin {
        let ids: Vec<String> = membership::Entity::find()
            .filter(membership::Column::UserId.eq(ctx.user_id.clone()))
            .all(db)
            .await?
            .into_iter()
            .filter(|m| Role::parse(&m.role).is_some_and(|r| r.grants(permission)))
            .map(|m| m.org_id)
            .collect();
        q = q.filter(organization::Column::Id.is_in(ids));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

fn version_key(v: &VersionRow) -> (String, String) {
    (v.org_id.clone(), v.parent_id.clone())
}

/// Joins parents with their versions (newest first) and organization names; sorted by
/// organization name, then name.
pub(crate) fn summaries(
    parents: Vec<Parent>,
    mut versions: Vec<VersionRow>,
    org_names: &HashMap<String, String>,
) -> Vec<EntitySummary> {
    versions.sort_by_key(|v| std::cmp::Reverse(v.created_on));
    let mut by_parent: HashMap<(String, String), Vec<VersionSummary>> = HashMap::new();
    for v in &versions {
        by_parent
            .entry(version_key(v))
            .or_default()
            .push(VersionSummary {
                version: v.version.clone(),
                status: v.status.clone(),
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
    out.sort_by(|a, b| {
        (a.org_name.to_lowercase(), a.name.to_lowercase())
            .cmp(&(b.org_name.to_lowercase(), b.name.to_lowercase()))
    });
    out
}

pub(crate) async fn user_name(db: &impl ConnectionTrait, user_id: &str) -> Result<String> {
    Ok(user::Entity::find_by_id(user_id.to_owned())
        .one(db)
        .await?
        .map_or_else(|| "Deleted user".to_owned(), |u| u.display_name))
}

/// The header of a client, API or plan page.
pub(crate) async fn header(
    db: &impl ConnectionTrait,
    access: &Access,
    parent: Parent,
    version: &str,
    versions: Vec<VersionRow>,
    created_by: &str,
    created_on: Timestamp,
) -> Result<EntityHeader> {
    let org_names = HashMap::from([(access.org.id.clone(), access.org.name.clone())]);
    let summary = summaries(vec![parent], versions, &org_names)
        .pop()
        .expect("one parent gives one summary");
    Ok(EntityHeader {
        org_id: summary.org_id,
        org_name: summary.org_name,
        id: summary.id,
        name: summary.name,
        description: summary.description,
        version: version.to_owned(),
        versions: summary.versions,
        created_by: user_name(db, created_by).await?,
        created_on,
        permissions: access.permissions(),
    })
}

/// "A client named 'X' already exists in ACME Support."
pub(crate) fn name_taken_message(kind: &str, name: &str, org_name: &str) -> String {
    format!("A {kind} named '{name}' already exists in {org_name}.")
}

pub(crate) fn name_taken(kind: &str, name: &str, org_name: &str) -> crate::Error {
    crate::Error::conflict("name", name_taken_message(kind, name, org_name))
}

/// A new API key (random UUIDv4 from the OS CSPRNG) and its SHA-256 for gateway look-ups.
pub(crate) fn new_api_key() -> (String, String) {
    let key = uuid::Uuid::new_v4().to_string();
    let hash = crate::sessions::hash_token(&key);
    (key, hash)
}
