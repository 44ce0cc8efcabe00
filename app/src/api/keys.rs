//! Server functions for the API keys of a client version: rotate or add, revoke, show. The
//! client page and the portal's My Clients use the same functions; `portal` says which one asks
//! (the portal acts through `Ctx::for_portal`, so portal-only accounts may use it).

use domain::dto::{KeyRequest, NewApiKey};
use leptos::prelude::*;

use crate::error::AppError;

/// Rotates the current key or adds one; the new key's value is in the answer, shown once.
/// (JSON in: the request is an enum with data.)
#[server(input = server_fn::codec::Json)]
pub async fn change_api_key(
    org: String,
    client: String,
    version: String,
    request: KeyRequest,
    #[server(default)] portal: bool,
) -> Result<NewApiKey, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, client, version);
    Ok(if portal {
        service::api_keys::portal::change(&state.db, &ctx, &at, request).await?
    } else {
        service::api_keys::change(&state.db, &ctx, &at, request).await?
    })
}

/// Revokes a key at once.
#[server]
pub async fn revoke_api_key(
    org: String,
    client: String,
    version: String,
    key_id: i64,
    #[server(default)] portal: bool,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, client, version);
    if portal {
        service::api_keys::portal::revoke(&state.db, &ctx, &at, key_id).await?;
    } else {
        service::api_keys::revoke(&state.db, &ctx, &at, key_id).await?;
    }
    Ok(())
}

/// Shows one key (a Change Log row says who saw it).
#[server]
pub async fn show_api_key(
    org: String,
    client: String,
    version: String,
    key_id: i64,
    #[server(default)] portal: bool,
) -> Result<String, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let at = crate::ssr::at(org, client, version);
    Ok(if portal {
        service::api_keys::portal::reveal(&state.db, &ctx, &at, key_id).await?
    } else {
        service::api_keys::reveal(&state.db, &ctx, &at, key_id).await?
    })
}
