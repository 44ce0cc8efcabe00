//! Server functions for the lifecycle of clients, APIs and plans: register, unregister,
//! publish, retire, lock, delete, new versions, and the API's configuration tabs.

use domain::dto::{ContractDto, LockedPlan, Page, PlanOffer};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use domain::EntityKind;

/// An action on one version that needs no further input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionAction {
    /// Client: register or re-register.
    Register,
    /// Client: unregister (retire).
    Unregister,
    /// API: publish.
    Publish,
    /// API: retire.
    Retire,
    /// Plan: lock.
    Lock,
}

impl VersionAction {
    /// The toast after it worked.
    pub fn done(self) -> &'static str {
        match self {
            VersionAction::Register => "The client version is registered.",
            VersionAction::Unregister => "The client version is unregistered (retired).",
            VersionAction::Publish => "The API version is published.",
            VersionAction::Retire => "The API version is retired.",
            VersionAction::Lock => "The plan version is locked.",
        }
    }
}

/// Runs `action` on a version of a client, API or plan.
#[server]
pub async fn run_version_action(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    action: VersionAction,
) -> Result<(), AppError> {
    use VersionAction as A;
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let (db, at) = (&state.db, crate::ssr::at(org, id, version));
    match (kind, action) {
        (EntityKind::Client, A::Register) => service::clients::register(db, &ctx, &at).await?,
        (EntityKind::Client, A::Unregister) => service::clients::unregister(db, &ctx, &at).await?,
        (EntityKind::Api, A::Publish) => service::apis::publish(db, &ctx, &at).await?,
        (EntityKind::Api, A::Retire) => service::apis::retire(db, &ctx, &at).await?,
        (EntityKind::Plan, A::Lock) => service::plans::lock(db, &ctx, &at).await?,
        _ => {
            return Err(AppError::BadRequest(
                "This action does not apply here.".into(),
            ));
        }
    }
    Ok(())
}

/// Deletes a client, API or plan with all its versions; returns where to go next.
#[server]
pub async fn delete_entity(kind: EntityKind, org: String, id: String) -> Result<String, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    service::by_kind::delete(&state.db, &ctx, kind, &org, &id).await?;
    Ok(format!("/orgs/{org}/{}", kind.segment()))
}

/// Creates a new version (empty, or a clone of `clone_from` when it is not empty); returns the
/// URL of its page and, for clients, how many contracts could not be copied.
#[server]
pub async fn new_version(
    kind: EntityKind,
    org: String,
    id: String,
    version: String,
    clone_from: String,
) -> Result<(String, usize), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let from = Some(clone_from.as_str()).filter(|s| !s.is_empty());
    let (r, skipped) =
        service::by_kind::new_version(&state.db, &ctx, kind, &org, &id, &version, from).await?;
    Ok((kind.page_url(&r.org_id, &r.id, &r.version), skipped))
}

pub use implementation::*;

/// The Implementation tab's server function takes one argument per field of its form (the
/// `#[server]` macro's generated code does not carry an `allow` placed on the function).
#[allow(clippy::too_many_arguments)]
mod implementation {
    use super::*;

    /// The Implementation tab: endpoint, content type, public flag, request body limit (bytes;
    /// `None`: the default), whether encoded slashes are allowed, whether the API key may come
    /// in the query string, and the backend's connect and response timeouts (milliseconds) and
    /// concurrency bound (`None`: each one's default).
    #[server]
    pub async fn update_api_implementation(
        org: String,
        api: String,
        version: String,
        endpoint: String,
        content_type: String,
        public_api: bool,
        #[server(default)] request_body_limit: Option<u64>,
        #[server(default)] allow_encoded_slashes: bool,
        #[server(default)] accept_key_in_query: bool,
        #[server(default)] connect_timeout_ms: Option<u64>,
        #[server(default)] response_timeout_ms: Option<u64>,
        #[server(default)] max_concurrent_requests: Option<u32>,
    ) -> Result<(), AppError> {
        let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
        let input = service::apis::Implementation {
            endpoint,
            content_type,
            public_api,
            request_body_limit,
            allow_encoded_slashes,
            accept_key_in_query,
            connect_timeout_ms,
            response_timeout_ms,
            max_concurrent_requests,
        };
        Ok(service::apis::update_implementation(
            &state.db,
            &ctx,
            &crate::ssr::at(org, api, version),
            input,
        )
        .await?)
    }
}

/// The Definition tab: the OpenAPI document (empty removes it).
#[server]
pub async fn update_api_definition(
    org: String,
    api: String,
    version: String,
    definition: String,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::update_definition(
        &state.db,
        &ctx,
        &crate::ssr::at(org, api, version),
        &definition,
    )
    .await?)
}

/// The definition's text, if there is one.
#[server]
pub async fn api_definition(
    org: String,
    api: String,
    version: String,
) -> Result<Option<String>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(
        service::apis::definition(&state.db, &ctx, &crate::ssr::at(org, api, version))
            .await?
            .map(|(_, text)| text),
    )
}

/// The Definition tab: the extended description in Markdown.
#[server]
pub async fn update_api_extended_description(
    org: String,
    api: String,
    version: String,
    extended_description: String,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::update_extended_description(
        &state.db,
        &ctx,
        &crate::ssr::at(org, api, version),
        &extended_description,
    )
    .await?)
}

/// The Plans tab: the plans offered, in order.
#[server(input = server_fn::codec::Json)]
pub async fn set_api_plans(
    org: String,
    api: String,
    version: String,
    plans: Vec<PlanOffer>,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(
        service::apis::set_plans(&state.db, &ctx, &crate::ssr::at(org, api, version), plans)
            .await?,
    )
}

/// The organization's plans with locked versions, for the Plans tab's picker.
#[server]
pub async fn locked_plans(org: String) -> Result<Vec<LockedPlan>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::locked_plans(&state.db, &ctx, &org).await?)
}

/// The contracts with an API version.
#[server]
pub async fn api_contracts(
    org: String,
    api: String,
    version: String,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::apis::contracts(
        &state.db,
        &ctx,
        &crate::ssr::at(org, api, version),
        page,
        per_page,
    )
    .await?)
}
