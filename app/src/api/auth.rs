use domain::dto::UserDto;
use leptos::prelude::*;

use crate::error::AppError;

/// The signed-in user, or `None`.
#[server]
pub async fn current_user() -> Result<Option<UserDto>, AppError> {
    Ok(crate::ssr::current_user().ctx.map(|c| c.user()))
}

/// Only same-site relative paths are followed after sign-in (no open redirects).
pub fn safe_next(next: &str) -> String {
    // Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"): refuse them all.
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok && !next.starts_with("/signin") && !next.starts_with("/signup") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: &str) -> Result<(), AppError> {
    use crate::ssr::{current_user, session_cookie, set_cookie, state};
    let state = state()?;
    // A fresh session id on every sign-in; the old session (if any) ends.
    if let Some(old) = current_user().token {
        service::sessions::revoke(&state.db, &old).await?;
    }
    let token = service::sessions::create(&state.db, user_id, state.sessions).await?;
    set_cookie(session_cookie(
        &token,
        state.sessions.absolute.as_secs(),
        state.secure_cookies,
    ));
    Ok(())
}

/// Signs in. Returns where to go next.
#[server]
pub async fn sign_in(email: String, password: String, next: String) -> Result<String, AppError> {
    use crate::ssr::{client_ip, state};
    let state = state()?;
    let ip = client_ip();
    state.limiter.try_begin(&email, &ip).map_err(too_many)?;
    let user = service::accounts::verify_credentials(&state.db, &email, &password).await?;
    state.limiter.record_success(&email, &ip);
    start_session(&user.id).await?;
    Ok(safe_next(&next))
}

/// 429 "Too many attempts. Try again in N seconds." while a delay runs.
#[cfg(feature = "ssr")]
fn too_many(wait: std::time::Duration) -> AppError {
    service::Error::RateLimited(service::rate_limit::retry_message(wait)).into()
}

/// Creates an account and signs it in. Returns where to go next.
#[server]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    next: String,
) -> Result<String, AppError> {
    let state = crate::ssr::state()?;
    // Sign-ups count against the address like sign-in attempts (no account enumeration at speed).
    let ip = crate::ssr::client_ip();
    state.limiter.try_begin_address(&ip).map_err(too_many)?;
    let user = service::accounts::sign_up(
        &state.db,
        service::accounts::SignUp {
            email,
            display_name,
            password,
        },
        // Signing up on the way to a portal page makes a portal-only account.
        safe_next(&next).starts_with("/portal"),
    )
    .await?;
    state.limiter.record_success("", &ip);
    start_session(&user.id).await?;
    Ok(safe_next(&next))
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::{current_user, session_cookie, set_cookie, state};
    let state = state()?;
    if let Some(token) = current_user().token {
        service::sessions::revoke(&state.db, &token).await?;
    }
    set_cookie(session_cookie("", 0, state.secure_cookies));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        for (input, expected) in [
            ("/orgs", "/orgs"),
            ("/orgs/ACME?x=1", "/orgs/ACME?x=1"),
            ("//evil.example", "/"),
            ("https://evil.example", "/"),
            ("/\\evil.example", "/"),
            ("", "/"),
            ("/signin", "/"),
            ("/\t/evil.example", "/"),
            ("/\n/evil.example", "/"),
            ("/ /evil.example", "/"),
        ] {
            assert_eq!(safe_next(input), expected, "{input}");
        }
    }
}
