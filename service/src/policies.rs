//! Policies attached to client, plan and API versions: read in order, copied when a version is
//! cloned, removed with their owner. (Editing them arrives with the gateway's policy catalogue.)

use domain::dto::PolicyDto;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::entities::policy;
use crate::{Ctx, Result, now};

/// Which version table a policy's owner lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Client,
    Plan,
    Api,
}

impl Owner {
    fn as_str(self) -> &'static str {
        match self {
            Owner::Client => "client",
            Owner::Plan => "plan",
            Owner::Api => "api",
        }
    }
}

fn of(owner: Owner, version_id: i32) -> sea_orm::Select<policy::Entity> {
    policy::Entity::find()
        .filter(policy::Column::Kind.eq(owner.as_str()))
        .filter(policy::Column::OwnerVersionId.eq(version_id))
}

/// The policies of a version, in order.
pub(crate) async fn list(
    db: &impl ConnectionTrait,
    owner: Owner,
    version_id: i32,
) -> Result<Vec<PolicyDto>> {
    Ok(of(owner, version_id)
        .order_by_asc(policy::Column::OrderIndex)
        .all(db)
        .await?
        .into_iter()
        .map(|p| PolicyDto {
            id: i64::from(p.id),
            definition_id: p.definition_id,
            order: p.order_index,
            configuration: p.configuration,
        })
        .collect())
}

pub(crate) async fn count(db: &impl ConnectionTrait, owner: Owner, version_id: i32) -> Result<u64> {
    Ok(of(owner, version_id).count(db).await?)
}

/// Copies the policies of one version to another (a clone), in the same order.
pub(crate) async fn copy(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: Owner,
    from_version_id: i32,
    to_version_id: i32,
) -> Result<u64> {
    let rows = of(owner, from_version_id).all(db).await?;
    let n = rows.len() as u64;
    let at = now();
    for p in rows {
        policy::Entity::insert(policy::ActiveModel {
            kind: Set(p.kind),
            org_id: Set(p.org_id),
            owner_version_id: Set(to_version_id),
            definition_id: Set(p.definition_id),
            configuration: Set(p.configuration),
            order_index: Set(p.order_index),
            created_by: Set(ctx.user_id.clone()),
            created_on: Set(at),
            modified_by: Set(ctx.user_id.clone()),
            modified_on: Set(at),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(n)
}

/// Removes the policies of the given versions (their owner is being deleted).
pub(crate) async fn delete_for(
    db: &impl ConnectionTrait,
    owner: Owner,
    version_ids: Vec<i32>,
) -> Result<()> {
    policy::Entity::delete_many()
        .filter(policy::Column::Kind.eq(owner.as_str()))
        .filter(policy::Column::OwnerVersionId.is_in(version_ids))
        .exec(db)
        .await?;
    Ok(())
}
