//! Clients and client versions: create (client + first version + API key, one transaction),
//! view, edit the description, list; the lifecycle actions (register, re-register, unregister,
//! delete, new version); the contracts and policies of a version. Its API keys are in
//! `crate::api_keys`.

use domain::dto::{ClientVersionDetail, ContractDto, Page};
use domain::lifecycle::{self, ClientFacts};
use domain::{ClientStatus, EntityName, Permission};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use crate::contracts::{self, contract_counts};
use crate::db::Db;
use crate::entities::{api_plan, api_version, client, client_version, contract};
use crate::notifications::{self, Reason};
use crate::policies;
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Result, authz, now};
use domain::EntityKind;

#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// Creates a client with its first version (status Created) and that version's API key, in one
/// transaction with its Change Log entry. Needs clientEdit in the organization.
pub async fn create(db: &impl Db, ctx: &Ctx, org_id: &str, input: NewClient) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let created = create_in(&txn, ctx, org_id, input).await?;
    txn.commit().await?;
    Ok(created)
}

/// [`create`] inside `txn`.
pub(crate) async fn create_in(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    input: NewClient,
) -> Result<EntityRef> {
    let new = versioned::prepare_create::<client::Entity>(
        txn,
        ctx,
        org_id,
        &input.name,
        &input.version,
        &input.description,
        None,
    )
    .await?;
    let at = now();
    client::Entity::insert(client::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(new.id.clone()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(new.description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
    })
    .exec_without_returning(txn)
    .await
    .map_err(|e| new.on_insert::<client::Entity>(e))?;
    insert_version(txn, ctx, org_id, &new.id, new.version.as_str()).await?;
    new.finish::<client::Entity>(txn, ctx).await
}

/// The message when `name` would collide with an existing client of the organization.
pub async fn name_conflict(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    name: &str,
) -> Result<Option<String>> {
    let access = authz::require(db, ctx, org_id, Permission::ClientView).await?;
    let Ok(name) = EntityName::parse(name) else {
        return Ok(None);
    };
    let exists = client::Entity::find_by_id((org_id.to_owned(), name.id()))
        .one(db)
        .await?
        .is_some();
    Ok(exists.then(|| versioned::name_taken_message("client", name.as_str(), &access.org.name)))
}

/// A client version the caller may view.
async fn load(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<versioned::Loaded<client_version::Model>> {
    versioned::load_version::<client::Entity>(
        db,
        ctx,
        org_id,
        client_id,
        version,
        Permission::ClientView,
    )
    .await
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<ClientVersionDetail> {
    let versioned::Loaded {
        header, version: v, ..
    } = load(db, ctx, org_id, client_id, version).await?;
    let (contracts, awaiting) = contract_counts(db, v.id).await?;
    let policy_count = policies::count(db, EntityKind::Client, v.id).await?;
    let status = ClientStatus::parse(&v.status).unwrap_or(ClientStatus::Created);
    let register_refusal = lifecycle::register(ClientFacts {
        status,
        contracts,
        awaiting_approval: awaiting,
        changed_since_registration: v.changed_since_registration,
    })
    .err()
    .map(|r| r.0);
    let keys = crate::api_keys::dtos_of(db, v.id).await?;
    Ok(ClientVersionDetail {
        header,
        status,
        unpublished_changes: status == ClientStatus::Registered && v.changed_since_registration,
        keys,
        pending_approvals: awaiting as u64,
        active_contracts: (contracts - awaiting) as u64,
        policy_count,
        registered_on: v.registered_on,
        retired_on: v.retired_on,
        register_refusal,
    })
}

/// The contracts of a client version, newest first, paged.
pub async fn contracts(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    client: &EntityRef,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    contracts::of_client(db, ctx, client, page, per_page).await
}

/// Inserts a client version (status Created) with its first API key.
async fn insert_version(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<client_version::Model> {
    let at = now();
    let cv = client_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        client_id: Set(client_id.to_owned()),
        version: Set(version.to_owned()),
        status: Set(ClientStatus::Created.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        registered_on: Set(None),
        retired_on: Set(None),
        changed_since_registration: Set(false),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    crate::api_keys::insert_first(txn, ctx, cv.id).await?;
    Ok(cv)
}

/// A client version for an action that needs `permission`, inside `txn`.
async fn for_action(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    permission: Permission,
) -> Result<client_version::Model> {
    authz::require(txn, ctx, &at.org_id, permission).await?;
    versioned::lock_version::<client::Entity>(txn, &at.org_id, &at.id, &at.version).await
}

/// Tells the client's creator about a status change someone else made.
async fn notify_owner(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    status: ClientStatus,
) -> Result<()> {
    let owner = versioned::find::<client::Entity>(txn, &at.org_id, &at.id).await?;
    notifications::notify(
        txn,
        ctx,
        &owner.created_by,
        Reason::ClientStatus,
        format!(
            "{} changed {} {} to {}.",
            ctx.display_name,
            owner.name,
            at.version,
            status.label()
        ),
        Some(format!(
            "/orgs/{}/clients/{}/{}",
            at.org_id, at.id, at.version
        )),
    )
    .await
}

/// A client version's row as it is now (for apply, which reads its status after changing it).
pub(crate) async fn version_row(
    db: &impl ConnectionTrait,
    at: &EntityRef,
) -> Result<client_version::Model> {
    versioned::find_version::<client::Entity>(db, &at.org_id, &at.id, &at.version).await
}

/// Registers (or re-registers) a client version with the gateway. Needs clientAdmin.
pub async fn register(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let cv = for_action(&txn, ctx, at, Permission::ClientAdmin).await?;
    let (contracts, awaiting) = contract_counts(&txn, cv.id).await?;
    let before = ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created);
    let status = lifecycle::register(ClientFacts {
        status: before,
        contracts,
        awaiting_approval: awaiting,
        changed_since_registration: cv.changed_since_registration,
    })?;
    let chain = policies::registered_chain(&txn, cv.id).await?;
    let mut m = cv.into_active_model();
    let t = now();
    m.status = Set(status.as_str().to_owned());
    m.registered_on = Set(Some(t));
    m.registered_policies = Set(Some(chain));
    m.retired_on = Set(None);
    m.changed_since_registration = Set(false);
    m.modified_by = Set(ctx.user_id.clone());
    m.modified_on = Set(t);
    m.update(&txn).await?;
    let (what, summary) = if before == ClientStatus::Registered {
        ("Register", format!("Re-registered version {}", at.version))
    } else {
        ("Register", format!("Registered version {}", at.version))
    };
    versioned::record_action::<client::Entity>(&txn, ctx, at, what, summary).await?;
    notify_owner(&txn, ctx, at, status).await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Unregisters (retires) a client version: the gateway refuses its key at once. Needs
/// clientAdmin.
pub async fn unregister(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let cv = for_action(&txn, ctx, at, Permission::ClientAdmin).await?;
    let status =
        lifecycle::unregister(ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created))?;
    contracts::set_client_status(&txn, ctx, cv, status, false).await?;
    versioned::record_action::<client::Entity>(
        &txn,
        ctx,
        at,
        "Unregister",
        format!("Unregistered (retired) version {}", at.version),
    )
    .await?;
    notify_owner(&txn, ctx, at, status).await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a client with all its versions, contracts and policies; refused while a version
/// is Registered. Needs clientAdmin.
pub async fn delete(db: &impl Db, ctx: &Ctx, org_id: &str, client_id: &str) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::ClientAdmin).await?;
    let parent = versioned::find::<client::Entity>(&txn, org_id, client_id).await?;
    let versions = versioned::lock_versions::<client::Entity>(&txn, org_id, client_id).await?;
    let statuses: Vec<ClientStatus> = versions
        .iter()
        .filter_map(|v| ClientStatus::parse(&v.status))
        .collect();
    lifecycle::delete_client(&statuses)?;
    let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
    contract::Entity::delete_many()
        .filter(contract::Column::ClientVersionId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    policies::delete_for(&txn, EntityKind::Client, ids).await?;
    client::Entity::delete_by_id((org_id.to_owned(), client_id.to_owned()))
        .exec(&txn)
        .await?;
    versioned::record_deleted::<client::Entity>(
        &txn,
        ctx,
        org_id,
        client_id,
        format!(
            "Deleted client {} with {} version(s)",
            parent.name,
            versions.len()
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a new version of a client: empty, or cloned from `clone_from` (its policies are
/// copied and its contracts re-created, which may need approval again; contracts whose API
/// version or plan no longer qualifies are left out). The new version gets its own key.
/// Returns where it lives and how many contracts could not be re-created.
pub async fn new_version(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
    clone_from: Option<&str>,
) -> Result<(EntityRef, usize)> {
    let txn = crate::db::write(db).await?;
    let (version, source) = versioned::prepare_new_version::<client::Entity>(
        &txn, ctx, org_id, client_id, version, clone_from,
    )
    .await?;
    let mut cv = insert_version(&txn, ctx, org_id, client_id, version.as_str()).await?;
    let at = EntityRef {
        org_id: org_id.to_owned(),
        id: client_id.to_owned(),
        version: version.into_inner(),
    };
    versioned::record_new_version::<client::Entity>(
        &txn,
        ctx,
        &at,
        source.as_ref().map(|s| s.version.as_str()),
    )
    .await?;
    let mut skipped = 0;
    if let Some(source) = source {
        policies::copy(&txn, ctx, EntityKind::Client, source.id, cv.id).await?;
        let old = contract::Entity::find()
            .filter(contract::Column::ClientVersionId.eq(source.id))
            .all(&txn)
            .await?;
        for c in old {
            let (Some(av), Some(offer)) = (
                api_version::Entity::find_by_id(c.api_version_id)
                    .one(&txn)
                    .await?,
                api_plan::Entity::find()
                    .filter(api_plan::Column::ApiVersionId.eq(c.api_version_id))
                    .filter(api_plan::Column::PlanVersionId.eq(c.plan_version_id))
                    .one(&txn)
                    .await?,
            ) else {
                skipped += 1;
                continue;
            };
            let target = contracts::Target {
                api_org_id: av.org_id,
                api_id: av.api_id,
                api_version: av.version,
                plan_id: offer.plan_id,
            };
            match contracts::create_in(&txn, ctx, &cv, &target).await {
                Ok((_, updated)) => cv = updated,
                Err(crate::Error::Conflict(_) | crate::Error::NotFound(_)) => skipped += 1,
                Err(e) => return Err(e),
            }
        }
    }
    txn.commit().await?;
    Ok((at, skipped))
}
