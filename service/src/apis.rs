//! APIs and API versions: create (API + first version, one transaction), view, edit the
//! description, list.

use domain::dto::{ApiVersionDetail, EntitySummary};
use domain::{ApiStatus, Description, EndpointUrl, EntityName, Permission, Version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

use crate::audit::{self, EntityType, Entry};
use crate::catalog::{self, EntityRef, Parent, VersionRow};
use crate::entities::{api, api_version};
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now};

#[derive(Debug, Clone)]
pub struct NewApi {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Optional at creation; empty means none yet.
    pub endpoint: String,
}

fn parent(a: &api::Model) -> Parent {
    Parent {
        org_id: a.org_id.clone(),
        id: a.id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
    }
}

fn row(v: &api_version::Model) -> VersionRow {
    VersionRow {
        org_id: v.org_id.clone(),
        parent_id: v.api_id.clone(),
        version: v.version.clone(),
        status: v.status.clone(),
        created_on: v.created_on,
    }
}

/// Creates an API with its first version. Needs apiEdit.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewApi,
) -> Result<EntityRef> {
    let name = EntityName::parse(&input.name);
    let version = Version::parse(&input.version);
    let description = Description::parse(&input.description);
    let endpoint = (!input.endpoint.trim().is_empty()).then(|| EndpointUrl::parse(&input.endpoint));
    let txn = db.begin().await?;
    let access = authz::require(&txn, ctx, org_id, Permission::ApiEdit).await?;
    collect_fields([
        name.as_ref().err().cloned(),
        version.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
        endpoint.as_ref().and_then(|e| e.as_ref().err().cloned()),
    ])?;
    let (name, version, description) = (name?, version?, description?);
    let endpoint = endpoint.transpose()?;
    let id = name.id();
    let taken = || catalog::name_taken("API", name.as_str(), &access.org.name);
    if api::Entity::find_by_id((org_id.to_owned(), id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let at = now();
    api::Entity::insert(api::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(id.clone()),
        name: Set(name.as_str().to_owned()),
        description: Set(description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        tags: Set("[]".to_owned()),
        image: Set(None),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken(),
        _ => e.into(),
    })?;
    let status = ApiStatus::determine(ApiStatus::Created, endpoint.is_some(), false, 0);
    api_version::Entity::insert(api_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        api_id: Set(id.clone()),
        version: Set(version.as_str().to_owned()),
        status: Set(status.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        endpoint_url: Set(endpoint.map(|e| e.as_str().to_owned())),
        endpoint_type: Set("REST".to_owned()),
        content_type: Set("JSON".to_owned()),
        public_api: Set(false),
        definition: Set(None),
        definition_type: Set(None),
        extended_description: Set(String::new()),
        published_on: Set(None),
        retired_on: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Entry {
            org_id,
            entity_type: EntityType::Api,
            entity_id: &id,
            entity_version: Some(version.as_str()),
            what: "Create",
            summary: format!("Created API {} version {}", name.as_str(), version.as_str()),
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

async fn find(db: &impl ConnectionTrait, org_id: &str, api_id: &str) -> Result<api::Model> {
    api::Entity::find_by_id((org_id.to_owned(), api_id.to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "API '{api_id}' was not found in this organization."
            ))
        })
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    version: &str,
) -> Result<ApiVersionDetail> {
    let access = authz::require(db, ctx, org_id, Permission::ApiView).await?;
    let a = find(db, org_id, api_id).await?;
    let all = api_version::Entity::find()
        .filter(api_version::Column::OrgId.eq(org_id))
        .filter(api_version::Column::ApiId.eq(api_id))
        .all(db)
        .await?;
    let v = all
        .iter()
        .find(|v| v.version == version)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("{} has no version '{version}'.", a.name)))?;
    let header = catalog::header(
        db,
        &access,
        parent(&a),
        &v.version,
        all.iter().map(row).collect(),
        &a.created_by,
        a.created_on,
    )
    .await?;
    Ok(ApiVersionDetail {
        header,
        status: ApiStatus::parse(&v.status).unwrap_or(ApiStatus::Created),
        endpoint_url: v.endpoint_url,
        public_api: v.public_api,
    })
}

pub async fn list_for_org(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
) -> Result<Vec<EntitySummary>> {
    let access = authz::require(db, ctx, org_id, Permission::ApiView).await?;
    list_in(
        db,
        std::collections::HashMap::from([(access.org.id, access.org.name)]),
    )
    .await
}

pub async fn list_mine(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<EntitySummary>> {
    let names = catalog::orgs_with(db, ctx, Permission::ApiView).await?;
    list_in(db, names).await
}

async fn list_in(
    db: &impl ConnectionTrait,
    org_names: std::collections::HashMap<String, String>,
) -> Result<Vec<EntitySummary>> {
    let ids: Vec<String> = org_names.keys().cloned().collect();
    let parents = api::Entity::find()
        .filter(api::Column::OrgId.is_in(ids.clone()))
        .all(db)
        .await?;
    let versions = api_version::Entity::find()
        .filter(api_version::Column::OrgId.is_in(ids))
        .all(db)
        .await?;
    Ok(catalog::summaries(
        parents.iter().map(parent).collect(),
        versions.iter().map(row).collect(),
        &org_names,
    ))
}

pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    description: &str,
) -> Result<()> {
    let description = Description::parse(description)?;
    let txn = db.begin().await?;
    authz::require(&txn, ctx, org_id, Permission::ApiEdit).await?;
    let a = find(&txn, org_id, api_id).await?;
    if let Some(change) = audit::change("description", &a.description, description.as_str()) {
        let mut active: api::ActiveModel = a.into();
        active.description = Set(description.as_str().to_owned());
        active.modified_by = Set(ctx.user_id.clone());
        active.modified_on = Set(now());
        active.update(&txn).await?;
        audit::record(
            &txn,
            ctx,
            Entry {
                org_id,
                entity_type: EntityType::Api,
                entity_id: api_id,
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
