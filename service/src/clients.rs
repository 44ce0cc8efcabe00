//! Clients and client versions: create (client + first version + API key, one transaction),
//! view, edit the description, list; the contracts and policies of a version.

use domain::dto::{ClientVersionDetail, ContractDto, EntitySummary, Page, PolicyDto};
use domain::{ClientStatus, ContractStatus, EntityName, Permission};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::catalog::{self, EntityRef};
use crate::entities::{
    api, api_version, client, client_version, contract, organization, plan_version, policy,
};
use crate::{Ctx, Result, authz, now};

#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// Creates a client with its first version (status Created) and that version's API key, in one
/// transaction with its Change Log entry. Needs clientEdit in the organization.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewClient,
) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let new = catalog::prepare_create::<client::Entity>(
        &txn,
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
    .exec_without_returning(&txn)
    .await
    .map_err(|e| new.on_insert::<client::Entity>(e))?;
    let (api_key, api_key_hash) = catalog::new_api_key();
    client_version::Entity::insert(client_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        client_id: Set(new.id.clone()),
        version: Set(new.version.as_str().to_owned()),
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
    let created = new.finish::<client::Entity>(&txn, ctx).await?;
    txn.commit().await?;
    Ok(created)
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

/// A client version the caller may view.
async fn load(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    version: &str,
) -> Result<catalog::Loaded<client_version::Model>> {
    catalog::load_version::<client::Entity>(
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
    let catalog::Loaded {
        header, version: v, ..
    } = load(db, ctx, org_id, client_id, version).await?;
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
    let api_key = header.can(Permission::ClientEdit).then_some(v.api_key);
    Ok(ClientVersionDetail {
        header,
        status,
        unpublished_changes: status == ClientStatus::Registered && v.changed_since_registration,
        api_key,
        pending_approvals,
        active_contracts,
        policy_count,
    })
}

/// The clients of one organization, or (`org_id` = None) all the caller may view.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> Result<Vec<EntitySummary>> {
    catalog::list::<client::Entity>(db, ctx, org_id).await
}

/// Changes the description shared by all versions (the name is immutable). Needs clientEdit.
pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    client_id: &str,
    description: &str,
) -> Result<()> {
    catalog::update_description::<client::Entity>(db, ctx, org_id, client_id, description).await
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
    let v = load(db, ctx, org_id, client_id, version).await?.version;
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
    let v = load(db, ctx, org_id, client_id, version).await?.version;
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
