//! Policies attached to client, plan and API versions: listed in order, added at a position,
//! edited, removed and reordered (each change validated by `domain::policy`, written with its
//! Change Log row in one transaction), copied when a version is cloned, removed with their owner.
//!
//! Who may change what: clientEdit / planEdit / apiEdit on the owner's organization, and the
//! owner's state must allow it (a locked plan or a published API version is frozen; a retired
//! client too). A change to a Registered client marks it as having Unpublished Changes: the
//! gateway keeps enforcing the chain of its last registration (`registered_policies`) until
//! Re-register.

use domain::dto::{ApiChainsDto, PlanChainDto, PolicyDefinitionDto, PolicyDto};
use domain::lifecycle::{self, ApiPart};
use domain::policy::{self as rules, PolicyConfig};
use domain::status::{ApiStatus, ClientStatus, PlanStatus};
use domain::{EntityKind, Permission};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::db::Db;
use crate::entities::{api, api_plan, client, plan, plan_version, policy};
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Error, Result, authz, now, policy_secrets};

fn of(owner: EntityKind, version_id: i32) -> sea_orm::Select<policy::Entity> {
    policy::Entity::find()
        .filter(policy::Column::Kind.eq(owner.as_str()))
        .filter(policy::Column::OwnerVersionId.eq(version_id))
}

/// The catalogue of policy definitions, grouped by category in the wizard's order.
pub fn definitions() -> Vec<PolicyDefinitionDto> {
    let mut all: Vec<_> = rules::definitions().iter().collect();
    all.sort_by_key(|d| {
        rules::Category::ALL
            .iter()
            .position(|c| *c == d.category)
            .unwrap_or(usize::MAX)
    });
    all.into_iter()
        .map(|d| PolicyDefinitionDto {
            id: d.id.to_owned(),
            name: d.name.to_owned(),
            category: d.category.label().to_owned(),
            summary: d.summary.to_owned(),
        })
        .collect()
}

/// A stored policy as the UI shows it: its definition's name and category, and the one-line
/// description of its configuration.
pub(crate) fn to_dto(p: &policy::Model) -> PolicyDto {
    let def = rules::definition(&p.definition_id);
    let description = match PolicyConfig::parse(&p.definition_id, &p.configuration) {
        Ok(c) => c.describe(),
        Err(_) => "This configuration can no longer be read; edit or remove it.".to_owned(),
    };
    PolicyDto {
        id: i64::from(p.id),
        definition_id: p.definition_id.clone(),
        name: def.map_or_else(|| p.definition_id.clone(), |d| d.name.to_owned()),
        category: def.map_or("Other", |d| d.category.label()).to_owned(),
        description,
        order: p.order_index,
        configuration: policy_secrets::public_configuration(&p.definition_id, &p.configuration),
    }
}

/// The policies of a version, in order.
pub(crate) async fn list(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    version_id: i32,
) -> Result<Vec<PolicyDto>> {
    Ok(rows(db, owner, version_id)
        .await?
        .iter()
        .map(to_dto)
        .collect())
}

pub(crate) async fn rows(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    version_id: i32,
) -> Result<Vec<policy::Model>> {
    Ok(of(owner, version_id)
        .order_by_asc(policy::Column::OrderIndex)
        .order_by_asc(policy::Column::Id)
        .all(db)
        .await?)
}

/// The policies of many versions of one kind, each version's in order (read in chunks of
/// 5,000 owners, so that any number fits in a query).
pub(crate) async fn rows_for(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    version_ids: &[i32],
) -> Result<Vec<policy::Model>> {
    let mut out = Vec::new();
    for chunk in version_ids.chunks(5_000) {
        out.extend(
            policy::Entity::find()
                .filter(policy::Column::Kind.eq(owner.as_str()))
                .filter(policy::Column::OwnerVersionId.is_in(chunk.to_vec()))
                .order_by_asc(policy::Column::OrderIndex)
                .order_by_asc(policy::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

pub(crate) async fn count(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    version_id: i32,
) -> Result<u64> {
    Ok(of(owner, version_id).count(db).await?)
}

/// Copies the policies of one version to another (a clone), in the same order.
pub(crate) async fn copy(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: EntityKind,
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
    owner: EntityKind,
    version_ids: Vec<i32>,
) -> Result<()> {
    policy::Entity::delete_many()
        .filter(policy::Column::Kind.eq(owner.as_str()))
        .filter(policy::Column::OwnerVersionId.is_in(version_ids))
        .exec(db)
        .await?;
    Ok(())
}

/// One policy of a registered client's chain as stored in `client_versions.registered_policies`
/// (a JSON list): what the gateway enforces until the next registration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegisteredPolicy {
    pub id: i32,
    pub definition_id: String,
    pub configuration: String,
}

impl RegisteredPolicy {
    /// The stored chain; an absent one is empty (versions registered before policies existed).
    pub fn parse_list(json: Option<&str>) -> std::result::Result<Vec<Self>, serde_json::Error> {
        json.map_or(Ok(Vec::new()), serde_json::from_str)
    }
}

/// The JSON of a client version's current chain, as [`RegisteredPolicy`] stores it.
pub(crate) async fn registered_chain(db: &impl ConnectionTrait, version_id: i32) -> Result<String> {
    let chain: Vec<RegisteredPolicy> = rows(db, EntityKind::Client, version_id)
        .await?
        .into_iter()
        .map(|p| RegisteredPolicy {
            id: p.id,
            definition_id: p.definition_id,
            configuration: p.configuration,
        })
        .collect();
    serde_json::to_string(&chain).map_err(Error::unexpected)
}

/// The policies of a version, for someone who may view it.
pub async fn list_for(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
) -> Result<Vec<PolicyDto>> {
    authz::require(db, ctx, &at.org_id, owner.view_permission()).await?;
    let version_id = owner_version_id(db, owner, at).await?;
    list(db, owner, version_id).await
}

/// One policy of a version, for someone who may view it.
pub async fn get(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    policy_id: i64,
) -> Result<PolicyDto> {
    authz::require(db, ctx, &at.org_id, owner.view_permission()).await?;
    let version_id = owner_version_id(db, owner, at).await?;
    Ok(to_dto(&find_in(db, owner, version_id, policy_id).await?))
}

/// The chains an API version's callers meet: a public version's own policies for calls without
/// a key, and for each plan it offers, after the client's own policies, the plan's policies,
/// then the API's.
pub async fn api_chains(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
) -> Result<ApiChainsDto> {
    authz::require(db, ctx, &at.org_id, Permission::ApiView).await?;
    let v = versioned::find_version::<api::Entity>(db, &at.org_id, &at.id, &at.version).await?;
    let api_policies = list(db, EntityKind::Api, v.id).await?;
    let offers = api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.eq(v.id))
        .order_by_asc(api_plan::Column::OrderIndex)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(offers.len());
    for o in offers {
        let Some(pv) = plan_version::Entity::find_by_id(o.plan_version_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let name = versioned::find::<plan::Entity>(db, &pv.org_id, &pv.plan_id)
            .await?
            .name;
        out.push(PlanChainDto {
            plan_id: pv.plan_id.clone(),
            plan_name: name,
            plan_version: pv.version.clone(),
            plan_policies: list(db, EntityKind::Plan, pv.id).await?,
            api_policies: api_policies.clone(),
        });
    }
    Ok(ApiChainsDto {
        public: v.public_api.then_some(api_policies),
        plans: out,
    })
}

/// The owner version of a change, locked, after the permission and state checks. Returns its
/// row id and, for a client, whether it is Registered (the change then marks it).
async fn owner_for_change(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
) -> Result<i32> {
    match owner {
        EntityKind::Client => {
            authz::require(txn, ctx, &at.org_id, owner.edit_permission()).await?;
            let cv =
                versioned::lock_version::<client::Entity>(txn, &at.org_id, &at.id, &at.version)
                    .await?;
            let status = ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created);
            if status == ClientStatus::Retired {
                return Err(Error::conflict(
                    "",
                    "A retired client version cannot change; create a new version instead.",
                ));
            }
            let id = cv.id;
            if status == ClientStatus::Registered && !cv.changed_since_registration {
                let mut m = cv.into_active_model();
                m.changed_since_registration = Set(true);
                m.update(txn).await?;
            }
            Ok(id)
        }
        EntityKind::Plan => {
            authz::require(txn, ctx, &at.org_id, owner.edit_permission()).await?;
            let pv = versioned::lock_version::<plan::Entity>(txn, &at.org_id, &at.id, &at.version)
                .await?;
            lifecycle::change_plan_policies(
                PlanStatus::parse(&pv.status).unwrap_or(PlanStatus::Created),
            )?;
            Ok(pv.id)
        }
        EntityKind::Api => {
            authz::require(txn, ctx, &at.org_id, owner.edit_permission()).await?;
            let av = versioned::lock_version::<api::Entity>(txn, &at.org_id, &at.id, &at.version)
                .await?;
            lifecycle::change_api(
                ApiStatus::parse(&av.status).unwrap_or(ApiStatus::Created),
                ApiPart::Policies,
            )?;
            Ok(av.id)
        }
    }
}

async fn record(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    what: &str,
    summary: String,
) -> Result<()> {
    match owner {
        EntityKind::Client => {
            versioned::record_action::<client::Entity>(txn, ctx, at, what, summary).await
        }
        EntityKind::Plan => {
            versioned::record_action::<plan::Entity>(txn, ctx, at, what, summary).await
        }
        EntityKind::Api => {
            versioned::record_action::<api::Entity>(txn, ctx, at, what, summary).await
        }
    }
}

/// Renumbers the policies of an owner 0, 1, 2, … in the given order.
async fn renumber(txn: &impl ConnectionTrait, ordered: &[policy::Model]) -> Result<()> {
    for (i, p) in ordered.iter().enumerate() {
        if p.order_index != i as i32 {
            policy::Entity::update_many()
                .col_expr(policy::Column::OrderIndex, (i as i32).into())
                .filter(policy::Column::Id.eq(p.id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// Attaches a policy at `position` (0 = first; `None` or past the end = last).
pub async fn add(
    db: &impl Db,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    definition_id: &str,
    configuration: &str,
    position: Option<usize>,
) -> Result<PolicyDto> {
    // Permission first: hashing a BASIC password is work only editors may cause.
    authz::require(db, ctx, &at.org_id, owner.edit_permission()).await?;
    let config = policy_secrets::prepare(definition_id, configuration, None).await?;
    let txn = crate::db::write(db).await?;
    let version_id = owner_for_change(&txn, ctx, owner, at).await?;
    let mut existing = rows(&txn, owner, version_id).await?;
    let t = now();
    let inserted = policy::ActiveModel {
        kind: Set(owner.as_str().to_owned()),
        org_id: Set(at.org_id.clone()),
        owner_version_id: Set(version_id),
        definition_id: Set(config.definition_id().to_owned()),
        configuration: Set(policy_secrets::stored(&config)?),
        order_index: Set(existing.len() as i32),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(t),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let at_index = position.unwrap_or(existing.len()).min(existing.len());
    existing.insert(at_index, inserted.clone());
    renumber(&txn, &existing).await?;
    let mut dto = to_dto(&inserted);
    dto.order = at_index as i32;
    record(
        &txn,
        ctx,
        owner,
        at,
        "Policy added",
        format!("Added policy {} ({})", dto.name, dto.description),
    )
    .await?;
    txn.commit().await?;
    Ok(dto)
}

/// A policy of this owner, for a change.
async fn find_in(
    txn: &impl ConnectionTrait,
    owner: EntityKind,
    version_id: i32,
    policy_id: i64,
) -> Result<policy::Model> {
    let id = i32::try_from(policy_id).map_err(|_| gone())?;
    of(owner, version_id)
        .filter(policy::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or_else(gone)
}

fn gone() -> Error {
    Error::NotFound("This policy no longer exists.".into())
}

/// Changes a policy's configuration (its definition stays).
pub async fn update(
    db: &impl Db,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    policy_id: i64,
    configuration: &str,
) -> Result<PolicyDto> {
    // Read the previous configuration first: hashing may take a while and must not hold the
    // write transaction. (Permission first: hashing is work only editors may cause.)
    authz::require(db, ctx, &at.org_id, owner.edit_permission()).await?;
    let before = {
        let version_id = owner_version_id(db, owner, at).await?;
        find_in(db, owner, version_id, policy_id).await?
    };
    let config = policy_secrets::prepare(
        &before.definition_id,
        configuration,
        Some(&before.configuration),
    )
    .await?;
    let txn = crate::db::write(db).await?;
    let version_id = owner_for_change(&txn, ctx, owner, at).await?;
    let current = find_in(&txn, owner, version_id, policy_id).await?;
    if current.definition_id != before.definition_id
        || current.configuration != before.configuration
    {
        return Err(Error::conflict(
            "",
            "This policy changed meanwhile; reload the page and try again.",
        ));
    }
    let mut m = current.into_active_model();
    m.configuration = Set(policy_secrets::stored(&config)?);
    m.modified_by = Set(ctx.user_id.clone());
    m.modified_on = Set(now());
    let updated = m.update(&txn).await?;
    let dto = to_dto(&updated);
    record(
        &txn,
        ctx,
        owner,
        at,
        "Policy changed",
        format!("Changed policy {} ({})", dto.name, dto.description),
    )
    .await?;
    txn.commit().await?;
    Ok(dto)
}

pub(crate) async fn owner_version_id(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    at: &EntityRef,
) -> Result<i32> {
    Ok(match owner {
        EntityKind::Client => {
            versioned::find_version::<client::Entity>(db, &at.org_id, &at.id, &at.version)
                .await?
                .id
        }
        EntityKind::Plan => {
            versioned::find_version::<plan::Entity>(db, &at.org_id, &at.id, &at.version)
                .await?
                .id
        }
        EntityKind::Api => {
            versioned::find_version::<api::Entity>(db, &at.org_id, &at.id, &at.version)
                .await?
                .id
        }
    })
}

/// Removes a policy.
pub async fn remove(
    db: &impl Db,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    policy_id: i64,
) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let version_id = owner_for_change(&txn, ctx, owner, at).await?;
    let p = find_in(&txn, owner, version_id, policy_id).await?;
    let dto = to_dto(&p);
    policy::Entity::delete_by_id(p.id).exec(&txn).await?;
    let rest = rows(&txn, owner, version_id).await?;
    renumber(&txn, &rest).await?;
    record(
        &txn,
        ctx,
        owner,
        at,
        "Policy removed",
        format!("Removed policy {} ({})", dto.name, dto.description),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Puts the owner's policies in the order of `ids` (every policy exactly once).
pub async fn reorder(
    db: &impl Db,
    ctx: &Ctx,
    owner: EntityKind,
    at: &EntityRef,
    ids: &[i64],
) -> Result<Vec<PolicyDto>> {
    let txn = crate::db::write(db).await?;
    let version_id = owner_for_change(&txn, ctx, owner, at).await?;
    let current = rows(&txn, owner, version_id).await?;
    let mut ordered = Vec::with_capacity(current.len());
    for id in ids {
        match current.iter().find(|p| i64::from(p.id) == *id) {
            Some(p) if !ordered.iter().any(|o: &policy::Model| o.id == p.id) => {
                ordered.push(p.clone())
            }
            _ => {
                return Err(Error::conflict(
                    "",
                    "The policies changed meanwhile; reload the page and try again.",
                ));
            }
        }
    }
    if ordered.len() != current.len() {
        return Err(Error::conflict(
            "",
            "The policies changed meanwhile; reload the page and try again.",
        ));
    }
    renumber(&txn, &ordered).await?;
    let names: Vec<String> = ordered.iter().map(|p| to_dto(p).name).collect();
    record(
        &txn,
        ctx,
        owner,
        at,
        "Policies reordered",
        format!("Policy order: {}", names.join(" → ")),
    )
    .await?;
    let out = rows(&txn, owner, version_id)
        .await?
        .iter()
        .map(to_dto)
        .collect();
    txn.commit().await?;
    Ok(out)
}
