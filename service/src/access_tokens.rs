//! Personal access tokens: created on Account settings (shown once), listed with their last use,
//! revoked with effect at once, and resolved to their owner's [`Ctx`] for a request that presents
//! one (`Authorization: Bearer tgp_…`).
//!
//! The token itself is never stored: the database keeps its SHA-256 (`token_hash`; 178 random
//! bits need no slow hash) and its last four characters. Its format and rules are
//! `domain::access_tokens`. What a token may do is its owner's rights at the time of the call,
//! narrowed by its [`TokenGrant`] (`authz`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use domain::access_tokens::{
    self, MAX_ORGS, RANDOM_LEN, TokenName, TokenScope, TokenState, check_expiry, check_live_count,
    ends_at, expiry_date,
};
use domain::dto::{AccessTokenDto, CreatedAccessToken, NewAccessToken, TokenOrg};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::db::Db;
use crate::entities::{access_token, organization, user};
use crate::error::collect_fields;
use crate::sessions::hash_token;
use crate::{Ctx, Error, Result, TokenGrant, authz, now};

/// A new token: [`RANDOM_LEN`] base62 characters from the OS CSPRNG, with prefix and checksum.
fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..RANDOM_LEN)
        .map(|_| char::from(access_tokens::ALPHABET[rng.gen_range(0..62)]))
        .collect();
    access_tokens::from_random(&random).expect("a random part of the right shape")
}

fn state(t: &access_token::Model, at: DateTime<Utc>) -> TokenState {
    TokenState::at(t.expires_on, t.revoked_on, at)
}

fn stored_orgs(t: &access_token::Model) -> Option<Vec<String>> {
    t.orgs
        .as_deref()
        .map(|s| serde_json::from_str(s).unwrap_or_default())
}

fn not_found() -> Error {
    Error::NotFound("This token was not found.".into())
}

/// Tokens as DTOs, with the names of the organizations they are limited to (organizations
/// deleted since are left out).
async fn dtos(
    db: &impl ConnectionTrait,
    rows: Vec<access_token::Model>,
) -> Result<Vec<AccessTokenDto>> {
    let ids: BTreeSet<String> = rows
        .iter()
        .flat_map(|t| stored_orgs(t).unwrap_or_default())
        .collect();
    let names: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let at = now();
    Ok(rows
        .into_iter()
        .map(|t| AccessTokenDto {
            orgs: stored_orgs(&t).map(|ids| {
                ids.into_iter()
                    .filter_map(|id| {
                        names.get(&id).map(|name| TokenOrg {
                            name: name.clone(),
                            id,
                        })
                    })
                    .collect()
            }),
            state: state(&t, at),
            scope: TokenScope::from_read_only(t.read_only),
            expires_on: expiry_date(t.expires_on),
            id: t.id,
            name: t.name,
            last_four: t.last_four,
            created_on: t.created_on,
            last_used_on: t.last_used_on,
            revoked_on: t.revoked_on,
        })
        .collect())
}

/// The organizations a new token is limited to: each one the caller's (field `orgs`), without
/// repeats; `None` stays all of them.
async fn check_orgs(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    orgs: Option<Vec<String>>,
) -> Result<Option<Vec<String>>> {
    let Some(orgs) = orgs else {
        return Ok(None);
    };
    if orgs.is_empty() {
        return Err(Error::invalid(
            "orgs",
            "Choose at least one organization, or allow all of them.",
        ));
    }
    if orgs.len() > MAX_ORGS {
        return Err(Error::invalid(
            "orgs",
            format!("Choose at most {MAX_ORGS} organizations."),
        ));
    }
    let mine: BTreeSet<String> = crate::organizations::list_mine(db, ctx, None)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let mut chosen = Vec::new();
    for id in orgs {
        if !mine.contains(&id) {
            return Err(Error::invalid(
                "orgs",
                "Choose only organizations you are a member of.",
            ));
        }
        if !chosen.contains(&id) {
            chosen.push(id);
        }
    }
    Ok(Some(chosen))
}

/// Creates a token for the caller; its secret is in the answer, once. Not through a token
/// (403).
pub async fn create(db: &impl Db, ctx: &Ctx, input: NewAccessToken) -> Result<CreatedAccessToken> {
    authz::require_management(ctx)?;
    authz::require_session(ctx, "create tokens")?;
    let at = now();
    let name = TokenName::parse(&input.name);
    let expires = check_expiry(input.expires_on, at.date_naive());
    collect_fields([
        name.as_ref().err().cloned(),
        expires.as_ref().err().cloned(),
    ])?;
    let (name, expires) = (name?, expires?);

    let txn = crate::db::write(db).await?;
    // The owner's row stays locked until the insert, so that concurrent requests cannot pass
    // the live-token count together (SQLite's immediate transaction already serializes them).
    user::Entity::find_by_id(ctx.user_id.clone())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let orgs = check_orgs(&txn, ctx, input.orgs).await?;
    let live = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(ctx.user_id.clone()))
        .filter(access_token::Column::RevokedOn.is_null())
        .filter(access_token::Column::ExpiresOn.gt(at))
        .count(&txn)
        .await?;
    check_live_count(usize::try_from(live).unwrap_or(usize::MAX))?;

    let secret = generate();
    let row = access_token::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(ctx.user_id.clone()),
        name: Set(name.into_inner()),
        token_hash: Set(hash_token(&secret)),
        last_four: Set(access_tokens::last_four(&secret)),
        read_only: Set(input.read_only),
        orgs: Set(orgs
            .map(|o| serde_json::to_string(&o))
            .transpose()
            .map_err(Error::unexpected)?),
        created_on: Set(at),
        expires_on: Set(ends_at(expires)),
        last_used_on: Set(None),
        revoked_on: Set(None),
    };
    let row = access_token::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    let token = dtos(&txn, vec![row]).await?.remove(0);
    txn.commit().await?;
    tracing::info!(user = %ctx.user_id, token = %token.id, "personal access token created");
    Ok(CreatedAccessToken { token, secret })
}

/// The caller's tokens, newest first.
pub async fn list(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<AccessTokenDto>> {
    authz::require_management(ctx)?;
    let rows = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(ctx.user_id.clone()))
        .order_by_desc(access_token::Column::CreatedOn)
        .order_by_desc(access_token::Column::Id)
        .all(db)
        .await?;
    dtos(db, rows).await
}

/// Revokes one of the caller's tokens, with effect at once (someone else's reads as not found).
/// Revoking a token that no longer works changes nothing.
pub async fn revoke(db: &impl Db, ctx: &Ctx, id: &str) -> Result<AccessTokenDto> {
    authz::require_management(ctx)?;
    authz::require_write(ctx)?;
    if id.len() > 64 {
        return Err(not_found());
    }
    let txn = crate::db::write(db).await?;
    let t = access_token::Entity::find_by_id(id.to_owned())
        .filter(access_token::Column::UserId.eq(ctx.user_id.clone()))
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let at = now();
    let t = if state(&t, at).works() {
        let mut active: access_token::ActiveModel = t.into();
        active.revoked_on = Set(Some(at));
        sea_orm::ActiveModelTrait::update(active, &txn).await?
    } else {
        t
    };
    let dto = dtos(&txn, vec![t]).await?.remove(0);
    txn.commit().await?;
    tracing::info!(user = %ctx.user_id, token = %dto.id, "personal access token revoked");
    Ok(dto)
}

/// How often `last_used_on` is written at most: its minute.
const USE_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

/// Revokes every live token of `user_id` (inside the caller's transaction): a password that
/// changes, or that an administrator resets, ends what a stolen session may have created.
pub(crate) async fn revoke_all(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedOn, Expr::value(now()))
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::RevokedOn.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Resolves a presented token to its owner's [`Ctx`] with the token's [`TokenGrant`], built
/// from the owner's account as it is now (so a token never has more rights than its owner).
/// `None` for a malformed token or one with a bad checksum (refused before any database
/// access), an unknown, expired or revoked one, and for an owner who must choose a new password.
/// Records the minute of its use, at most one write a minute.
pub async fn authenticate(db: &impl ConnectionTrait, presented: &str) -> Result<Option<Ctx>> {
    if presented.len() != access_tokens::TOKEN_LEN || !access_tokens::checksum_ok(presented) {
        return Ok(None);
    }
    let Some(t) = access_token::Entity::find()
        .filter(access_token::Column::TokenHash.eq(hash_token(presented)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let at = now();
    if !state(&t, at).works() {
        return Ok(None);
    }
    let Some(u) = user::Entity::find_by_id(t.user_id.clone()).one(db).await? else {
        return Ok(None);
    };
    if u.must_change_password {
        return Ok(None);
    }
    let minute = at.duration_trunc(USE_GRANULARITY).unwrap_or(at);
    if t.last_used_on.is_none_or(|l| l < minute) {
        access_token::Entity::update_many()
            .col_expr(access_token::Column::LastUsedOn, Expr::value(minute))
            .filter(access_token::Column::Id.eq(t.id.clone()))
            .exec(db)
            .await?;
    }
    Ok(Some(Ctx {
        grant: Some(TokenGrant {
            read_only: t.read_only,
            orgs: stored_orgs(&t),
            token_id: t.id,
        }),
        ..crate::sessions::ctx_of(u)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_pass_their_own_checksum_and_differ() {
        let a = generate();
        let b = generate();
        assert!(access_tokens::checksum_ok(&a) && access_tokens::checksum_ok(&b));
        assert_ne!(a, b);
        assert_eq!(a.len(), access_tokens::TOKEN_LEN);
    }
}
