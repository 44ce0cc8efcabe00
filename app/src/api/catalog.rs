//! Server functions for clients, APIs and plans.

use domain::dto::{
    ApiVersionDetail, AuditEntryDto, ClientVersionDetail, EntitySummary, Page, PlanVersionDetail,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The three kinds of versioned things an organization holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Client,
    Api,
    Plan,
}

impl Kind {
    /// The URL segment: `/orgs/{org}/{segment}/{id}/{version}`.
    pub fn segment(self) -> &'static str {
        match self {
            Kind::Client => "clients",
            Kind::Api => "apis",
            Kind::Plan => "plans",
        }
    }

    /// "client", "API", "plan".
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Api => "API",
            Kind::Plan => "plan",
        }
    }

    /// "Clients", "APIs", "Plans".
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Client => "Clients",
            Kind::Api => "APIs",
            Kind::Plan => "Plans",
        }
    }

    /// "clients", "APIs", "plans".
    pub fn plural_lower(self) -> &'static str {
        match self {
            Kind::Client => "clients",
            Kind::Api => "APIs",
            Kind::Plan => "plans",
        }
    }

    pub fn page_url(self, org: &str, id: &str, version: &str) -> String {
        format!("/orgs/{org}/{}/{id}/{version}", self.segment())
    }
}

/// Every client, API or plan the caller may view (`org`: only in that organization).
#[server]
pub async fn list_entities(
    kind: Kind,
    org: Option<String>,
) -> Result<Vec<EntitySummary>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let (db, org) = (&state.db, org.as_deref());
    Ok(match kind {
        Kind::Client => service::clients::list(db, &ctx, org).await?,
        Kind::Api => service::apis::list(db, &ctx, org).await?,
        Kind::Plan => service::plans::list(db, &ctx, org).await?,
    })
}

/// Creates a client (with its first version and API key), an API (`endpoint` optional) or a
/// plan; returns the URL of the new version's page.
#[server]
pub async fn create_entity(
    kind: Kind,
    org: String,
    name: String,
    version: String,
    description: String,
    endpoint: String,
) -> Result<String, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let db = &state.db;
    let r = match kind {
        Kind::Client => {
            let input = service::clients::NewClient {
                name,
                version,
                description,
            };
            service::clients::create(db, &ctx, &org, input).await?
        }
        Kind::Api => {
            let input = service::apis::NewApi {
                name,
                version,
                description,
                endpoint,
            };
            service::apis::create(db, &ctx, &org, input).await?
        }
        Kind::Plan => {
            let input = service::plans::NewPlan {
                name,
                version,
                description,
            };
            service::plans::create(db, &ctx, &org, input).await?
        }
    };
    Ok(kind.page_url(&r.org_id, &r.id, &r.version))
}

/// The message shown while typing a client name that is already taken in the organization.
#[server]
pub async fn client_name_conflict(org: String, name: String) -> Result<Option<String>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::clients::name_conflict(&state.db, &ctx, &org, &name).await?)
}

#[server]
pub async fn get_client_version(
    org: String,
    client: String,
    version: String,
) -> Result<ClientVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::clients::get_version(&state.db, &ctx, &org, &client, &version).await?)
}

#[server]
pub async fn get_api_version(
    org: String,
    api: String,
    version: String,
) -> Result<ApiVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::get_version(&state.db, &ctx, &org, &api, &version).await?)
}

#[server]
pub async fn get_plan_version(
    org: String,
    plan: String,
    version: String,
) -> Result<PlanVersionDetail, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::plans::get_version(&state.db, &ctx, &org, &plan, &version).await?)
}

/// Changes the description of a client, API or plan (shared by all its versions).
#[server]
pub async fn update_entity_description(
    kind: Kind,
    org: String,
    id: String,
    description: String,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let db = &state.db;
    match kind {
        Kind::Client => {
            service::clients::update_description(db, &ctx, &org, &id, &description).await?
        }
        Kind::Api => service::apis::update_description(db, &ctx, &org, &id, &description).await?,
        Kind::Plan => service::plans::update_description(db, &ctx, &org, &id, &description).await?,
    }
    Ok(())
}

/// The Change Log of one client, API or plan, newest first.
#[server]
pub async fn entity_change_log(
    kind: Kind,
    org: String,
    id: String,
    page: u64,
    per_page: u64,
) -> Result<Page<AuditEntryDto>, AppError> {
    use service::audit::EntityType;
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let t = match kind {
        Kind::Client => EntityType::Client,
        Kind::Api => EntityType::Api,
        Kind::Plan => EntityType::Plan,
    };
    Ok(service::audit::list(&state.db, &ctx, &org, Some((t, &id)), page, per_page).await?)
}
