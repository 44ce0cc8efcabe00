//! The operations that clients, APIs and plans share, chosen by [`EntityKind`]: what the Create
//! wizards, the New version dialog and Delete call through one server function each, and the
//! REST API through one route each. Each arm is the kind's own function.

use domain::EntityKind;

use crate::db::Db;
use crate::{Ctx, EntityRef, Result, apis, clients, plans};

/// What creating any of the three takes; `endpoint` is for APIs only (empty: none yet).
#[derive(Debug, Clone, Default)]
pub struct NewEntity {
    pub name: String,
    pub version: String,
    pub description: String,
    pub endpoint: String,
}

/// Creates a client (with its first version and API key), an API or a plan.
pub async fn create(
    db: &impl Db,
    ctx: &Ctx,
    kind: EntityKind,
    org_id: &str,
    input: NewEntity,
) -> Result<EntityRef> {
    let NewEntity {
        name,
        version,
        description,
        endpoint,
    } = input;
    match kind {
        EntityKind::Client => {
            let input = clients::NewClient {
                name,
                version,
                description,
            };
            clients::create(db, ctx, org_id, input).await
        }
        EntityKind::Api => {
            let input = apis::NewApi {
                name,
                version,
                description,
                endpoint,
            };
            apis::create(db, ctx, org_id, input).await
        }
        EntityKind::Plan => {
            let input = plans::NewPlan {
                name,
                version,
                description,
            };
            plans::create(db, ctx, org_id, input).await
        }
    }
}

/// A new version, empty or a clone of `clone_from`; also how many contracts a client's clone
/// left behind (0 for APIs and plans).
pub async fn new_version(
    db: &impl Db,
    ctx: &Ctx,
    kind: EntityKind,
    org_id: &str,
    id: &str,
    version: &str,
    clone_from: Option<&str>,
) -> Result<(EntityRef, usize)> {
    Ok(match kind {
        EntityKind::Client => {
            clients::new_version(db, ctx, org_id, id, version, clone_from).await?
        }
        EntityKind::Api => (
            apis::new_version(db, ctx, org_id, id, version, clone_from).await?,
            0,
        ),
        EntityKind::Plan => (
            plans::new_version(db, ctx, org_id, id, version, clone_from).await?,
            0,
        ),
    })
}

/// Deletes a client, API or plan with all its versions.
pub async fn delete(
    db: &impl Db,
    ctx: &Ctx,
    kind: EntityKind,
    org_id: &str,
    id: &str,
) -> Result<()> {
    match kind {
        EntityKind::Client => clients::delete(db, ctx, org_id, id).await,
        EntityKind::Api => apis::delete(db, ctx, org_id, id).await,
        EntityKind::Plan => plans::delete(db, ctx, org_id, id).await,
    }
}
