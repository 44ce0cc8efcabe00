//! APIs and API versions: create (API + first version, one transaction), view, edit the
//! description, list.

use domain::dto::{ApiVersionDetail, EntitySummary};
use domain::{ApiStatus, EndpointUrl, Permission};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::catalog::{self, EntityRef};
use crate::entities::{api, api_version};
use crate::{Ctx, Result, now};

#[derive(Debug, Clone)]
pub struct NewApi {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Optional at creation; empty means none yet.
    pub endpoint: String,
}

/// Creates an API with its first version. Needs apiEdit.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    input: NewApi,
) -> Result<EntityRef> {
    let endpoint = (!input.endpoint.trim().is_empty()).then(|| EndpointUrl::parse(&input.endpoint));
    let endpoint_error = endpoint.as_ref().and_then(|e| e.as_ref().err().cloned());
    let txn = crate::db::write(db).await?;
    let new = catalog::prepare_create::<api::Entity>(
        &txn,
        ctx,
        org_id,
        &input.name,
        &input.version,
        &input.description,
        endpoint_error,
    )
    .await?;
    let endpoint = endpoint.transpose()?;
    let at = now();
    api::Entity::insert(api::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(new.id.clone()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(new.description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        tags: Set("[]".to_owned()),
        image: Set(None),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| new.on_insert::<api::Entity>(e))?;
    let status = ApiStatus::determine(ApiStatus::Created, endpoint.is_some(), false, 0);
    api_version::Entity::insert(api_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        api_id: Set(new.id.clone()),
        version: Set(new.version.as_str().to_owned()),
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
    let created = new.finish::<api::Entity>(&txn, ctx).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    version: &str,
) -> Result<ApiVersionDetail> {
    let loaded =
        catalog::load_version::<api::Entity>(db, ctx, org_id, api_id, version, Permission::ApiView)
            .await?;
    let v = loaded.version;
    Ok(ApiVersionDetail {
        header: loaded.header,
        status: ApiStatus::parse(&v.status).unwrap_or(ApiStatus::Created),
        endpoint_url: v.endpoint_url,
        public_api: v.public_api,
    })
}

/// The APIs of one organization, or (`org_id` = None) all the caller may view.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> Result<Vec<EntitySummary>> {
    catalog::list::<api::Entity>(db, ctx, org_id).await
}

/// Changes the description (the name is immutable). Needs apiEdit.
pub async fn update_description(
    db: &DatabaseConnection,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    description: &str,
) -> Result<()> {
    catalog::update_description::<api::Entity>(db, ctx, org_id, api_id, description).await
}
