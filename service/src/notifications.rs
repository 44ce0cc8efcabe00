//! Notifications: approval requests, decisions and status changes of one's clients. Written in
//! the transaction of the change that causes them; read, marked read and counted by their
//! recipient only.

use domain::Permission;
use domain::dto::NotificationDto;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::entities::{membership, notification};
use crate::{Ctx, Result, authz, now};

const OPEN: &str = "open";
const READ: &str = "dismissed";

/// Why someone is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    ApprovalRequested,
    ContractApproved,
    ContractRejected,
    /// The API's provider broke a contract.
    ContractRevoked,
    ClientStatus,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::ApprovalRequested => "approval_requested",
            Reason::ContractApproved => "contract_approved",
            Reason::ContractRejected => "contract_rejected",
            Reason::ContractRevoked => "contract_revoked",
            Reason::ClientStatus => "client_status",
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link: Option<String>,
}

/// Notifies `recipient` unless it is the user who acts.
pub(crate) async fn notify(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    recipient: &str,
    reason: Reason,
    message: String,
    link: Option<String>,
) -> Result<()> {
    if recipient == ctx.user_id {
        return Ok(());
    }
    let payload = serde_json::to_string(&Payload { link }).map_err(crate::Error::unexpected)?;
    notification::Entity::insert(notification::ActiveModel {
        recipient_id: Set(recipient.to_owned()),
        reason: Set(reason.as_str().to_owned()),
        message: Set(message),
        payload: Set(payload),
        status: Set(OPEN.to_owned()),
        created_on: Set(now()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The members of an organization whose role grants `permission`.
pub(crate) async fn members_with(
    db: &impl ConnectionTrait,
    org_id: &str,
    permission: Permission,
) -> Result<Vec<String>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|m| domain::Role::parse(&m.role).is_some_and(|r| r.grants(permission)))
        .map(|m| m.user_id)
        .collect())
}

/// Whether the caller may read their notifications: not through a token limited to some
/// organizations, since a notification is not tied to one organization (its text may name
/// another).
fn readable(ctx: &Ctx) -> bool {
    authz::grant_orgs(ctx).is_none()
}

/// The caller's newest notifications (at most 50), unread first within the same time.
pub async fn list(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<NotificationDto>> {
    if !readable(ctx) {
        return Ok(Vec::new());
    }
    let rows = notification::Entity::find()
        .filter(notification::Column::RecipientId.eq(ctx.user_id.clone()))
        .order_by_desc(notification::Column::CreatedOn)
        .order_by_desc(notification::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|n| {
            let payload: Payload = serde_json::from_str(&n.payload).unwrap_or_default();
            NotificationDto {
                id: i64::from(n.id),
                reason: n.reason,
                message: n.message,
                link: payload.link,
                read: n.status != OPEN,
                created_on: n.created_on,
            }
        })
        .collect())
}

/// How many of the caller's notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<u64> {
    if !readable(ctx) {
        return Ok(0);
    }
    Ok(notification::Entity::find()
        .filter(notification::Column::RecipientId.eq(ctx.user_id.clone()))
        .filter(notification::Column::Status.eq(OPEN))
        .count(db)
        .await?)
}

/// Marks one of the caller's notifications (`id`), or all of them (`None`), as read.
pub async fn mark_read(db: &impl Db, ctx: &Ctx, id: Option<i64>) -> Result<()> {
    authz::require_write(ctx)?;
    if !readable(ctx) {
        return Ok(());
    }
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value(READ))
        .filter(notification::Column::RecipientId.eq(ctx.user_id.clone()));
    if let Some(id) = id {
        q = q.filter(notification::Column::Id.eq(id));
    }
    q.exec(db).await?;
    Ok(())
}
