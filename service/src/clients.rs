//! Clients and client versions: create (client + first version + API key, one transaction),
//! view, edit the description, list; the contracts and policies of a version.

use domain::dto::{ClientVersionDetail, ContractDto, EntitySummary, Page, PolicyDto};
use domain::{ClientStatus, ContractStatus, Description, EntityName, Permission, Version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::audit::{self, EntityType, Entry};
use crate::catalog::{self, EntityRef, Parent, VersionRow};
use crate::entities::{
    api, api_version, client, client_version, contract, organization, plan_version, policy,
};
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now};

#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub version: String,
    pub description: String,
}

fn parent(c: &client::Model) -> Parent {
    Parent {
        org_id: c.org_id.clone(),
        id: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
    }
}

fn row(v: &client_version::Model) -> VersionRow {
    VersionRow {
        org_id: v.org_id.clone(),
        parent_id: v.client_id.clone(),
        version: v.version.clone(),
        status: v.status.clone(),
        created_on: v.created_on,
    }
}

/// Creates a client with its first version (status Created) and that version's API key, in one
/// transaction with its Change Log entry. Needs clientEdit in the organization.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewClient,
) -> Result<EntityRef> {
    let name = EntityName::parse(&input.name);
    let version = Version::parse(&input.version);
    let description = Description::parse(&input.description);
    let txn = db.begin().await?;
    let access = authz::require(&txn, ctx, org_id, Permission::ClientEdit).await?;
    collect_fields([
        name.as_ref().err().cloned(),
        version.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
    ])?;
    let (name, version, description) = (name?, version?, description?);
    let id = name.id();
    let taken = || catalog::name_taken("client", name.as_str(), &access.org.name);
    if client::Entity::find_by_id((org_id.to_owned(), id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let at = now();
    client::Entity::insert(client::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(id.clone()),
        name: Set(name.as_str().to_owned()),
        description: Set(description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken(),
        _ => e.into(),
    })?;
    let (api_key, api_key_hash) = catalog::new_api_key();
    client_version::Entity::insert(client_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        client_id: Set(id.clone()),
        version: Set(version.as_str().to_owned()),
        status: Set(ClientStatus::Created.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        api_key: Set(api_key),
        api_key_hash: Set(api_key_hash),
        registered_on: Set(None),
        retired_on: Set(None),
        changed_since_registration: Set(false),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Entry {
            org_id,
            entity_type: EntityType::Client,
            entity_id: &id,
            entity_version: Some(version.as_str()),
            what: "Create",
            summary: format!(
                "Created client {} version {}",
                name.as_str(),
                version.as_str()
            ),
            changes: vec![],
        },
    )
    .await?;
    txn.commit().await?;
    Ok(EntityRef {
        org_id: org_id.to_owned(),
        id,
        version: version.into_inner(),
    })
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
    Ok(exists.then(|| catalog::name_taken_message("client", name.as_str(), &access.org.name)))
}

async fn find(db: &impl ConnectionTrait, org_id: &str, client_id: &str) -> Result<client::Model> {
    client::Entity::find_by_id((org_id.to_owned(), client_id.to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Client '{client_id}' was not found in this organization."
            ))
        })
}

async fn versions(
    db: &impl ConnectionTrait,
    org_id: &str,
    client_id: &str,
) -> Result<Vec<client_version::Model>> {
    Ok(client_version::Entity::find()
        .filter(client_version::Column::OrgId.eq(org_id))
        .filter(client_version::Column::ClientId.eq(client_id))
        .all(db)
        .await?)
}

/// Looks up a client version the caller may view (used by every per-version operation).
async fn version_model(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
    permission: Permission,
) -> Result<(
    authz::Access,
    client::Model,
    Vec<client_version::Model>,
    client_version::Model,
)> {
    let access = authz::require(db, ctx, org_id, permission).await?;
    let c = find(db, org_id, client_id).await?;
    let all = versions(db, org_id, client_id).await?;
    let v = all
        .iter()
        .find(|v| v.version == version)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("{} has no version '{version}'.", c.name)))?;
    Ok((access, c, all, v))
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<ClientVersionDetail> {
    let (access, c, all, v) =
        version_model(db, ctx, org_id, client_id, version, Permission::ClientView).await?;
    let count = |status: ContractStatus| {
        contract::Entity::find()
            .filter(contract::Column::ClientVersionId.eq(v.id))
            .filter(contract::Column::Status.eq(status.as_str()))
            .count(db)
    };
    let pending_approvals = count(ContractStatus::AwaitingApproval).await?;
    let active_contracts = count(ContractStatus::Created).await?;
    let policy_count = policy::Entity::find()
        .filter(policy::Column::Kind.eq("client"))
        .filter(policy::Column::OwnerVersionId.eq(v.id))
        .count(db)
        .await?;
    let status = ClientStatus::parse(&v.status).unwrap_or(ClientStatus::Created);
    let header = catalog::header(
        db,
        &access,
        parent(&c),
        &v.version,
        all.iter().map(row).collect(),
        &c.created_by,
        c.created_on,
    )
    .await?;
    Ok(ClientVersionDetail {
        header,
        status,
        unpublished_changes: status == ClientStatus::Registered && v.changed_since_registration,
        api_key: v.api_key,
        pending_approvals,
        active_contracts,
        policy_count,
    })
}

/// The clients of one organization (needs clientView).
pub async fn list_for_org(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
) -> Result<Vec<EntitySummary>> {
    let access = authz::require(db, ctx, org_id, Permission::ClientView).await?;
    let names = std::collections::HashMap::from([(access.org.id.clone(), access.org.name.clone())]);
    list_in(db, names).await
}

/// Every client the caller may view, across organizations.
pub async fn list_mine(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<EntitySummary>> {
    let names = catalog::orgs_with(db, ctx, Permission::ClientView).await?;
    list_in(db, names).await
}

async fn list_in(
    db: &impl ConnectionTrait,
    org_names: std::collections::HashMap<String, String>,
) -> Result<Vec<EntitySummary>> {
    let ids: Vec<String> = org_names.keys().cloned().collect();
    let parents = client::Entity::find()
        .filter(client::Column::OrgId.is_in(ids.clone()))
        .all(db)
        .await?;
    let versions = client_version::Entity::find()
        .filter(client_version::Column::OrgId.is_in(ids))
        .all(db)
        .await?;
    Ok(catalog::summaries(
        parents.iter().map(parent).collect(),
        versions.iter().map(row).collect(),
        &org_names,
    ))
}

/// Changes the description shared by all versions (the name is immutable). Needs clientEdit.
pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    description: &str,
) -> Result<()> {
    let description = Description::parse(description)?;
    let txn = db.begin().await?;
    authz::require(&txn, ctx, org_id, Permission::ClientEdit).await?;
    let c = find(&txn, org_id, client_id).await?;
    if let Some(change) = audit::change("description", &c.description, description.as_str()) {
        let mut active: client::ActiveModel = c.into();
        active.description = Set(description.as_str().to_owned());
        active.modified_by = Set(ctx.user_id.clone());
        active.modified_on = Set(now());
        active.update(&txn).await?;
        audit::record(
            &txn,
            ctx,
            Entry {
                org_id,
                entity_type: EntityType::Client,
                entity_id: client_id,
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

/// The contracts of a client version, newest first, paged.
pub async fn contracts(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    let (_, _, _, v) =
        version_model(db, ctx, org_id, client_id, version, Permission::ClientView).await?;
    let (page, per_page) = (page.max(1), per_page.clamp(1, 100));
    let paginator = contract::Entity::find()
        .filter(contract::Column::ClientVersionId.eq(v.id))
        .order_by_desc(contract::Column::CreatedOn)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let mut items = Vec::new();
    for c in paginator.fetch_page(page - 1).await? {
        let (Some(av), Some(pv)) = (
            api_version::Entity::find_by_id(c.api_version_id)
                .one(db)
                .await?,
            plan_version::Entity::find_by_id(c.plan_version_id)
                .one(db)
                .await?,
        ) else {
            continue;
        };
        let api_name = api::Entity::find_by_id((av.org_id.clone(), av.api_id.clone()))
            .one(db)
            .await?
            .map_or_else(|| av.api_id.clone(), |a| a.name);
        let api_org_name = organization::Entity::find_by_id(av.org_id.clone())
            .one(db)
            .await?
            .map_or_else(|| av.org_id.clone(), |o| o.name);
        items.push(ContractDto {
            id: i64::from(c.id),
            api_org_id: av.org_id,
            api_org_name,
            api_id: av.api_id,
            api_name,
            api_version: av.version,
            plan_id: pv.plan_id,
            plan_version: pv.version,
            status: ContractStatus::parse(&c.status).unwrap_or(ContractStatus::Created),
            created_on: c.created_on,
        });
    }
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

/// The policies attached to a client version, in order.
pub async fn policies(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<Vec<PolicyDto>> {
    let (_, _, _, v) =
        version_model(db, ctx, org_id, client_id, version, Permission::ClientView).await?;
    Ok(policy::Entity::find()
        .filter(policy::Column::Kind.eq("client"))
        .filter(policy::Column::OwnerVersionId.eq(v.id))
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
