//! Server functions of the API Developer Portal. The catalog and API pages also answer
//! anonymous visitors; the rest act through `Ctx::for_portal`, so portal-only accounts may use
//! them (and only them).

use domain::dto::{
    MyClientVersion, Page, PortalApiCard, PortalApiDetail, SignUpOptions, SignUpResult,
};
use leptos::prelude::*;

use crate::error::AppError;

/// The catalog page: matching APIs and every tag among the visible ones.
#[server]
pub async fn portal_catalog(
    query: String,
    tag: String,
    page: u64,
    per_page: u64,
) -> Result<(Page<PortalApiCard>, Vec<String>), AppError> {
    let state = crate::ssr::state()?;
    let ctx = crate::ssr::current_user().ctx;
    Ok(service::portal::catalog(&state.db, ctx.as_ref(), &query, &tag, page, per_page).await?)
}

/// An API's page; `version` empty means the newest visible one.
#[server]
pub async fn portal_api(
    org: String,
    api: String,
    version: String,
) -> Result<PortalApiDetail, AppError> {
    let state = crate::ssr::state()?;
    let ctx = crate::ssr::current_user().ctx;
    let version = Some(version.as_str()).filter(|v| !v.is_empty());
    Ok(service::portal::details(&state.db, ctx.as_ref(), &org, &api, version).await?)
}

/// What the Sign Up wizard offers: the user's client versions and organizations.
#[server]
pub async fn get_sign_up_options(
    org: String,
    api: String,
    version: String,
) -> Result<SignUpOptions, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(
        service::portal::sign_up_options(&state.db, &ctx, &crate::ssr::at(org, api, version))
            .await?,
    )
}

/// What the Sign Up wizard sends: the API version and plan, and either an existing client
/// version (`client` set) or a new client (`new_name`, `new_version`, `new_org`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignUpRequest {
    pub org: String,
    pub api: String,
    pub version: String,
    pub plan: String,
    pub client_org: String,
    pub client: String,
    pub client_version: String,
    pub new_name: String,
    pub new_version: String,
    pub new_org: String,
}

/// Signs up for a plan: client (new or existing), contract, registration, in one transaction.
#[server(input = server_fn::codec::Json)]
pub async fn portal_sign_up(request: SignUpRequest) -> Result<SignUpResult, AppError> {
    use service::portal::ClientPick;
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let r = request;
    let pick = if r.client.is_empty() {
        ClientPick::New {
            org_id: r.new_org,
            name: r.new_name,
            version: r.new_version,
        }
    } else {
        ClientPick::Existing(crate::ssr::at(r.client_org, r.client, r.client_version))
    };
    let target = service::contracts::Target {
        api_org_id: r.org,
        api_id: r.api,
        api_version: r.version,
        plan_id: r.plan,
    };
    Ok(service::portal::sign_up(&state.db, &ctx, target, pick).await?)
}

/// My Clients.
#[server]
pub async fn my_clients() -> Result<Vec<MyClientVersion>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::portal::my_clients(&state.db, &ctx).await?)
}

/// What My Clients can do to a client version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MyClientAction {
    Register,
    Remove,
}

#[server]
pub async fn my_client_action_fn(
    org: String,
    client: String,
    version: String,
    action: MyClientAction,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, client, version);
    match action {
        MyClientAction::Register => service::portal::register(&state.db, &ctx, &at).await?,
        MyClientAction::Remove => service::portal::remove_client(&state.db, &ctx, &at).await?,
    }
    Ok(())
}

/// Breaks a contract from My Clients.
#[server]
pub async fn portal_break_contract(id: i64) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::portal::break_contract(&state.db, &ctx, id).await?)
}

/// The plans a contract may move to, for My Clients.
#[server]
pub async fn portal_plan_choices(id: i64) -> Result<domain::dto::PlanChoices, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::portal::plan_choices(&state.db, &ctx, id).await?)
}

/// Moves a contract to another plan from My Clients.
#[server]
pub async fn portal_change_plan(
    id: i64,
    plan: String,
) -> Result<domain::lifecycle::PlanChange, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::portal::change_plan(&state.db, &ctx, id, &plan).await?)
}

/// Sets an API's tags from its management page (comma-separated; `featured` for the portal's
/// home page).
#[server]
pub async fn set_api_tags(org: String, api: String, tags: String) -> Result<Vec<String>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::portal::set_tags(&state.db, &ctx, &org, &api, &tags).await?)
}
