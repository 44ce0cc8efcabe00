//! Account settings (the caller's own display name, email and password, personal access
//! tokens), and platform administration (accounts and their temporary passwords, platform
//! settings).

use domain::dto::{
    AccessTokenDto, AccountDto, CreatedAccessToken, NewAccessToken, OrgCreation, Page,
    PlatformSettings, UserDto,
};
use leptos::prelude::*;

use crate::error::AppError;

#[server]
pub async fn change_display_name(display_name: String) -> Result<UserDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::accounts::change_display_name(&state.db, &ctx, &display_name).await?)
}

/// Runs a function that checks the caller's current password under the sign-in throttle: a
/// wrong current password counts as a failed sign-in of the account, and so does a conflict
/// ("an account with this email address already exists"), so that changing the email cannot
/// probe for accounts faster than sign-up can.
#[cfg(feature = "ssr")]
async fn with_password_check<T>(
    email: &str,
    f: impl std::future::Future<Output = service::Result<T>>,
) -> Result<T, AppError> {
    let state = crate::ssr::state()?;
    let ip = crate::ssr::client_ip();
    state
        .limiter
        .try_begin(email, &ip)
        .map_err(|wait| service::Error::RateLimited(service::rate_limit::retry_message(wait)))?;
    let result = f.await;
    let failed = match &result {
        Err(service::Error::Invalid(v)) => v.iter().any(|e| e.field == "current_password"),
        Err(service::Error::Conflict(_)) => true,
        _ => false,
    };
    if !failed {
        state.limiter.record_success(email, &ip);
    }
    Ok(result?)
}

/// Changes the caller's email; needs the current password.
#[server]
pub async fn change_email(email: String, current_password: String) -> Result<UserDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    with_password_check(
        &ctx.email,
        service::accounts::change_email(&state.db, &ctx, &email, &current_password),
    )
    .await
}

/// Changes the caller's password and ends every other session of the account. Also what the
/// "Choose a new password" page calls.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    let token = crate::ssr::current_user().token;
    with_password_check(
        &ctx.email,
        service::accounts::change_password(
            &state.db,
            &ctx,
            &current_password,
            &new_password,
            token.as_deref(),
        ),
    )
    .await
}

/// Creates a personal access token for the caller; the token itself is in the answer, once.
#[server(input = server_fn::codec::Json)]
pub async fn create_access_token(input: NewAccessToken) -> Result<CreatedAccessToken, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::access_tokens::create(&state.db, &ctx, input).await?)
}

/// The caller's personal access tokens, newest first.
#[server]
pub async fn list_access_tokens() -> Result<Vec<AccessTokenDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::access_tokens::list(&state.db, &ctx).await?)
}

/// Revokes one of the caller's personal access tokens, with effect at once.
#[server]
pub async fn revoke_access_token(id: String) -> Result<AccessTokenDto, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::access_tokens::revoke(&state.db, &ctx, &id).await?)
}

/// Every account (platform administrators), filtered by email or name, paged.
#[server]
pub async fn list_accounts(
    query: String,
    page: u64,
    per_page: u64,
) -> Result<Page<AccountDto>, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::accounts::list(&state.db, &ctx, &query, page, per_page).await?)
}

/// Sets a temporary password for an account (platform administrators); its owner must replace
/// it at the next sign-in, and its sessions end.
#[server]
pub async fn set_temporary_password(user_id: String, password: String) -> Result<(), AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::accounts::set_temporary_password(&state.db, &ctx, &user_id, &password).await?)
}

/// The platform settings (any signed-in user reads them: the UI explains what they allow).
#[server]
pub async fn get_platform_settings() -> Result<PlatformSettings, AppError> {
    let state = crate::ssr::state()?;
    crate::ssr::ctx()?;
    Ok(service::settings::get(&state.db).await?)
}

#[server]
pub async fn save_platform_settings(
    org_creation: OrgCreation,
) -> Result<PlatformSettings, AppError> {
    let (state, ctx) = (crate::ssr::state()?, crate::ssr::ctx()?);
    Ok(service::settings::set(&state.db, &ctx, PlatformSettings { org_creation }).await?)
}
