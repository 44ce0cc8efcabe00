//! The header's inbox: the caller's unread notifications and the contracts awaiting their
//! approval. It reads both modules; neither reads the other.

use domain::dto::InboxCounts;
use sea_orm::ConnectionTrait;

use crate::{Ctx, Result, contracts, notifications};

/// Unread notifications and the contracts awaiting the caller's approval (none for a portal
/// session).
pub async fn counts(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<InboxCounts> {
    let unread_notifications = notifications::unread_count(db, ctx).await?;
    let pending_approvals = if ctx.portal_only {
        0
    } else {
        contracts::pending_count(db, ctx).await?
    };
    Ok(InboxCounts {
        unread_notifications,
        pending_approvals,
    })
}
