//! Server-side sessions. The browser holds a 256-bit random secret in an HttpOnly cookie; the
//! database holds only its SHA-256, with idle and absolute expiry. Sessions survive restarts.

use std::time::Duration;

use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};
use sha2::{Digest, Sha256};

use crate::entities::{session, user};
use crate::{Ctx, Result, now};

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(8 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "tollgate_session";
/// Its name when the cookie is `Secure`: the `__Host-` prefix makes browsers refuse it unless it
/// is `Secure`, has `Path=/` and no `Domain`, so no other host can plant or widen it.
pub const SECURE_COOKIE_NAME: &str = "__Host-tollgate_session";

/// The session cookie's name for a deployment with (`secure`) or without TLS.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// Whether a cookie name is one of Tollgate's own: `tollgate_…`, with or without a `__Host-` or
/// `__Secure-` prefix, in any case. The gateway never forwards these to a backend and never lets
/// a backend set one.
pub fn is_own_cookie(name: &str) -> bool {
    let name = name.trim().as_bytes();
    let strip = |n: &'static [u8], s: &[u8]| -> Option<usize> {
        (s.len() >= n.len() && s[..n.len()].eq_ignore_ascii_case(n)).then_some(n.len())
    };
    let rest = strip(b"__host-", name)
        .or_else(|| strip(b"__secure-", name))
        .map_or(name, |n| &name[n..]);
    strip(b"tollgate_", rest).is_some()
}

/// How often `last_seen_on` is written at most (saves a write per request).
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

pub fn hash_token(token: &str) -> String {
    hex::encode(token_digest(token))
}

/// The SHA-256 of a secret (session id or API key), as bytes.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

/// Starts a new session for `user_id` and returns the secret for the cookie.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: &str,
    policy: SessionPolicy,
) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let at = now();
    session::ActiveModel {
        id: Set(hash_token(&token)),
        user_id: Set(user_id.to_owned()),
        created_on: Set(at),
        last_seen_on: Set(at),
        expires_on: Set(at + delta(policy.absolute)),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// A live session: who it belongs to, and whether they must choose a new password before
/// anything else (`users.must_change_password`).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub ctx: Ctx,
    pub must_change_password: bool,
}

/// Resolves a cookie secret to the signed-in user, or `None` when it is unknown or expired
/// (expired sessions are deleted).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
    policy: SessionPolicy,
) -> Result<Option<SignedIn>> {
    let Some(s) = session::Entity::find_by_id(hash_token(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let at = now();
    if at >= s.expires_on || at - s.last_seen_on >= delta(policy.idle) {
        session::Entity::delete_by_id(s.id).exec(db).await?;
        return Ok(None);
    }
    let Some(u) = user::Entity::find_by_id(s.user_id.clone()).one(db).await? else {
        return Ok(None);
    };
    if at - s.last_seen_on >= TOUCH_EVERY {
        let id = s.id.clone();
        let mut active: session::ActiveModel = s.into();
        active.last_seen_on = Set(at);
        active.update(db).await?;
        tracing::trace!(session = %&id[..8], "session touched");
    }
    Ok(Some(SignedIn {
        must_change_password: u.must_change_password,
        ctx: ctx_of(u),
    }))
}

/// The context of a user as their account is now, for a browser session (no token grant).
pub(crate) fn ctx_of(u: user::Model) -> Ctx {
    Ctx {
        user_id: u.id,
        email: u.email,
        display_name: u.display_name,
        is_admin: u.is_admin,
        portal_only: u.portal_only,
        via_portal: false,
        grant: None,
    }
}

/// Ends every session of `user_id` except the one behind `keep_token` (after a password
/// change), or all of them (`None`: a temporary password). Returns how many ended.
pub async fn revoke_all_but(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep_token: Option<&str>,
) -> Result<u64> {
    let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(token) = keep_token {
        q = q.filter(session::Column::Id.ne(hash_token(token)));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Ends the session behind `token` (sign out). Unknown tokens are ignored.
pub async fn revoke(db: &impl ConnectionTrait, token: &str) -> Result<()> {
    session::Entity::delete_by_id(hash_token(token))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes every expired session; run periodically.
pub async fn purge_expired(db: &impl ConnectionTrait, policy: SessionPolicy) -> Result<u64> {
    let at = now();
    let res = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresOn.lte(at))
                .add(session::Column::LastSeenOn.lte(at - delta(policy.idle))),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cookie_names() {
        for (name, own) in [
            ("tollgate_session", true),
            ("__Host-tollgate_session", true),
            ("__secure-TOLLGATE_SESSION", true),
            (" tollgate_anything", true),
            ("tollgate", false),
            ("session", false),
            ("__Host-session", false),
            ("my_tollgate_session", false),
            ("", false),
        ] {
            assert_eq!(is_own_cookie(name), own, "{name}");
        }
        assert!(is_own_cookie(cookie_name(true)) && is_own_cookie(cookie_name(false)));
    }
}
