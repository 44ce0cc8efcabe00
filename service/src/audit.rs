//! The Change Log: one row per change, written in the same transaction as the change itself,
//! read back newest first, paged, filtered by the caller's view permission.

use std::collections::HashMap;

use domain::dto::{AuditEntryDto, FieldChange, Page};
use domain::{EntityKind, Permission};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::entities::{audit_entry, user};
use crate::{Ctx, Result, authz, now};

/// What a Change Log row is about: the organization itself, or one of its clients, APIs and
/// plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Organization,
    Entity(EntityKind),
}

impl From<EntityKind> for Subject {
    fn from(kind: EntityKind) -> Self {
        Subject::Entity(kind)
    }
}

impl Subject {
    const ALL: [Subject; 4] = [
        Subject::Organization,
        Subject::Entity(EntityKind::Client),
        Subject::Entity(EntityKind::Api),
        Subject::Entity(EntityKind::Plan),
    ];

    /// The stored `entity_type`: "organization", or [`EntityKind::as_str`].
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Organization => "organization",
            Subject::Entity(kind) => kind.as_str(),
        }
    }

    /// The permission needed to read its history.
    fn view_permission(self) -> Permission {
        match self {
            Subject::Organization => Permission::OrgView,
            Subject::Entity(kind) => kind.view_permission(),
        }
    }
}

/// What is stored in the `data` column.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Data {
    summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<FieldChange>,
}

/// One change to record.
pub struct Entry<'a> {
    pub org_id: &'a str,
    pub entity_type: Subject,
    pub entity_id: &'a str,
    pub entity_version: Option<&'a str>,
    /// The action, e.g. "Create", "Update", "Grant", "Revoke".
    pub what: &'a str,
    pub summary: String,
    pub changes: Vec<FieldChange>,
}

/// Writes one Change Log row. Call it with the transaction of the change.
pub async fn record(db: &impl ConnectionTrait, ctx: &Ctx, entry: Entry<'_>) -> Result<()> {
    let data = Data {
        summary: entry.summary,
        changes: entry.changes,
    };
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        who: Set(ctx.user_id.clone()),
        org_id: Set(entry.org_id.to_owned()),
        entity_type: Set(entry.entity_type.as_str().to_owned()),
        entity_id: Set(entry.entity_id.to_owned()),
        entity_version: Set(entry.entity_version.map(str::to_owned)),
        created_on: Set(now()),
        what: Set(entry.what.to_owned()),
        data: Set(serde_json::to_string(&data).map_err(crate::Error::unexpected)?),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A `FieldChange` when `before != after`.
pub fn change(field: &str, before: &str, after: &str) -> Option<FieldChange> {
    (before != after).then(|| FieldChange {
        field: field.to_owned(),
        before: before.to_owned(),
        after: after.to_owned(),
    })
}

/// The Change Log of an organization (`entity` = None: every row of the organization) or of
/// one entity in it, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    entity: Option<(EntityKind, &str)>,
    page: u64,
    per_page: u64,
) -> Result<Page<AuditEntryDto>> {
    let permission = entity.map_or(Permission::OrgView, |(t, _)| t.view_permission());
    let access = authz::require(db, ctx, org_id, permission).await?;
    let per_page = per_page.clamp(1, 100);
    let page = page.clamp(1, 1_000_000);
    let mut q = audit_entry::Entity::find().filter(audit_entry::Column::OrgId.eq(org_id));
    match entity {
        Some((t, id)) => {
            q = q
                .filter(audit_entry::Column::EntityType.eq(t.as_str()))
                .filter(audit_entry::Column::EntityId.eq(id));
        }
        // The organization's whole log: only the kinds of entity the caller may view.
        None => {
            let visible = Subject::ALL
                .into_iter()
                .filter(|t| access.can(t.view_permission()))
                .map(Subject::as_str);
            q = q.filter(audit_entry::Column::EntityType.is_in(visible));
        }
    }
    let paginator = q
        .order_by_desc(audit_entry::Column::CreatedOn)
        .order_by_desc(audit_entry::Column::Id)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;

    let who: Vec<String> = rows.iter().map(|r| r.who.clone()).collect();
    let names: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(who))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();

    let items = rows
        .into_iter()
        .map(|r| {
            let data: Data = serde_json::from_str(&r.data).unwrap_or_default();
            AuditEntryDto {
                id: i64::from(r.id),
                who: names
                    .get(&r.who)
                    .cloned()
                    .unwrap_or_else(|| "Deleted user".to_owned()),
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                entity_version: r.entity_version,
                what: r.what,
                when: r.created_on,
                summary: data.summary,
                changes: data.changes,
            }
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}
