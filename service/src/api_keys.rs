//! The API keys of a client version: list, rotate (a new key at once, the old one working for the
//! overlap the user picks), add (generated or brought from another gateway), revoke, and show
//! one on request (a Change Log row each time). Keys are stored as an HMAC lookup and sealed
//! with AES-256-GCM (`crate::secrets`), never in plain text.
//!
//! Viewing a version lists its keys without the keys themselves; every change and every Show
//! needs clientEdit. Each change writes its Change Log row and bumps the gateway's change counter
//! in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::Permission;
use domain::credentials::{self, KeyState, MAX_LIVE_KEYS, OwnKey};
use domain::dto::{ApiKeyDto, KeyRequest, NewApiKey};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

use crate::db::Db;
use crate::entities::{client, client_key, client_version, user};
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Error, Result, authz, now};

fn keyring() -> Result<std::sync::Arc<crate::secrets::Keyring>> {
    crate::secrets::keyring().map_err(|e| Error::Unexpected(e.into()))
}

/// A new random key: a UUIDv4 from the OS CSPRNG (122 random bits).
fn generate() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn state(k: &client_key::Model, at: DateTime<Utc>) -> KeyState {
    KeyState::at(k.expires_on, k.revoked_on, at)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The keys of client versions `ids` as DTOs, newest first, with their creators' names.
pub(crate) async fn dtos(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<HashMap<i32, Vec<ApiKeyDto>>> {
    let rows = client_key::Entity::find()
        .filter(client_key::Column::ClientVersionId.is_in(ids.iter().copied()))
        .order_by_desc(client_key::Column::CreatedOn)
        .order_by_desc(client_key::Column::Id)
        .all(db)
        .await?;
    let creators: HashSet<String> = rows.iter().map(|k| k.created_by.clone()).collect();
    let names: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(creators))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let at = now();
    let mut out: HashMap<i32, Vec<ApiKeyDto>> = HashMap::new();
    for k in rows {
        out.entry(k.client_version_id).or_default().push(ApiKeyDto {
            id: i64::from(k.id),
            state: state(&k, at),
            label: k.label,
            last4: k.last4,
            created_on: k.created_on,
            created_by: names
                .get(&k.created_by)
                .cloned()
                .unwrap_or_else(|| "Deleted user".to_owned()),
            expires_on: k.expires_on,
            revoked_on: k.revoked_on,
            last_used_on: k.last_used_on,
        });
    }
    Ok(out)
}

/// The keys of one client version (see [`dtos`]).
pub(crate) async fn dtos_of(db: &impl ConnectionTrait, id: i32) -> Result<Vec<ApiKeyDto>> {
    Ok(dtos(db, &[id]).await?.remove(&id).unwrap_or_default())
}

/// Stores `key` as a key of client version `cv_id`. A key already in use anywhere is refused
/// on the `field` it came from.
/// Whether client version `cv_id` has `key` among its keys, neither revoked nor expired.
pub(crate) async fn accepts(db: &impl ConnectionTrait, cv_id: i32, key: &str) -> Result<bool> {
    let lookup = keyring()?.lookup_hex(key);
    let t = now();
    Ok(client_key::Entity::find()
        .filter(client_key::Column::LookupHash.eq(lookup))
        .filter(client_key::Column::ClientVersionId.eq(cv_id))
        .one(db)
        .await?
        .is_some_and(|k| k.revoked_on.is_none() && k.expires_on.is_none_or(|e| e > t)))
}

async fn insert(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    cv_id: i32,
    key: &str,
    label: Option<String>,
    expires_on: Option<DateTime<Utc>>,
    field: &str,
) -> Result<client_key::Model> {
    let ring = keyring()?;
    let lookup = ring.lookup_hex(key);
    let in_use = || Error::invalid(field, "This key is already in use; choose another one.");
    if client_key::Entity::find()
        .filter(client_key::Column::LookupHash.eq(lookup.clone()))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(in_use());
    }
    let inserted = client_key::ActiveModel {
        client_version_id: Set(cv_id),
        label: Set(label),
        sealed: Set(ring.seal(key, &lookup)),
        lookup_hash: Set(lookup),
        last4: Set(credentials::last4(key)),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(now()),
        expires_on: Set(expires_on),
        revoked_on: Set(None),
        revoked_by: Set(None),
        last_used_on: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await;
    match inserted {
        Ok(k) => Ok(k),
        Err(e) => Err(match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => in_use(),
            _ => e.into(),
        }),
    }
}

/// The first key of a new client version.
pub(crate) async fn insert_first(txn: &impl ConnectionTrait, ctx: &Ctx, cv_id: i32) -> Result<()> {
    insert(txn, ctx, cv_id, &generate(), None, None, "").await?;
    Ok(())
}

/// A client version for a key change or a Show: clientEdit in its organization, its row locked
/// until the transaction ends.
async fn for_change(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
) -> Result<client_version::Model> {
    authz::require(txn, ctx, &at.org_id, Permission::ClientEdit).await?;
    versioned::lock_version::<client::Entity>(txn, &at.org_id, &at.id, &at.version).await
}

fn no_key() -> Error {
    Error::NotFound("This key no longer exists.".into())
}

/// One key of `cv`, by its id.
async fn key_of(
    txn: &impl ConnectionTrait,
    cv: &client_version::Model,
    key_id: i64,
) -> Result<client_key::Model> {
    let id = i32::try_from(key_id).map_err(|_| no_key())?;
    client_key::Entity::find_by_id(id)
        .filter(client_key::Column::ClientVersionId.eq(cv.id))
        .one(txn)
        .await?
        .ok_or_else(no_key)
}

/// Deletes the keys of `cv` that stopped working more than
/// [`credentials::FORGET_AFTER_DAYS`] ago, and returns the rest.
async fn live_rows(
    txn: &impl ConnectionTrait,
    cv: &client_version::Model,
    at: DateTime<Utc>,
) -> Result<Vec<client_key::Model>> {
    let rows = client_key::Entity::find()
        .filter(client_key::Column::ClientVersionId.eq(cv.id))
        .all(txn)
        .await?;
    let (forgotten, kept): (Vec<_>, Vec<_>) = rows.into_iter().partition(|k| match state(k, at) {
        KeyState::Expired(t) | KeyState::Revoked(t) => credentials::forgotten(t, at),
        _ => false,
    });
    if !forgotten.is_empty() {
        client_key::Entity::delete_many()
            .filter(client_key::Column::Id.is_in(forgotten.iter().map(|k| k.id)))
            .exec(txn)
            .await?;
    }
    Ok(kept)
}

fn too_many() -> Error {
    Error::conflict(
        "",
        format!(
            "A client version has at most {MAX_LIVE_KEYS} working keys: revoke one before adding another."
        ),
    )
}

/// Rotates the current key of a client version, or adds a key next to the others. Returns the
/// new key, whose value is shown once. Needs clientEdit.
pub async fn change(
    db: &impl Db,
    ctx: &Ctx,
    at: &EntityRef,
    request: KeyRequest,
) -> Result<NewApiKey> {
    let t = now();
    // Validate before taking the write lock.
    let (label, own, expires_on, overlap_end) = match &request {
        KeyRequest::Rotate { overlap, label } => {
            let label = credentials::parse_label(label).map_err(|m| Error::invalid("label", m))?;
            let end = overlap
                .ends(t)
                .map_err(|m| Error::invalid("overlap_until", m))?;
            (label, None, None, Some(end))
        }
        KeyRequest::Add {
            label,
            own,
            expires_on,
        } => {
            let label = credentials::parse_label(label).map_err(|m| Error::invalid("label", m))?;
            let own = own
                .as_deref()
                .map(OwnKey::parse)
                .transpose()
                .map_err(|m| Error::invalid("own_key", m))?;
            let expires_on = expires_on
                .map(|e| credentials::check_expiry(e, t))
                .transpose()
                .map_err(|m| Error::invalid("expires_on", m))?;
            (label, own, expires_on, None)
        }
    };
    let txn = crate::db::write(db).await?;
    let cv = for_change(&txn, ctx, at).await?;
    let live = live_rows(&txn, &cv, t).await?;
    let working: Vec<&client_key::Model> = live.iter().filter(|k| state(k, t).works()).collect();
    let current = working
        .iter()
        .max_by_key(|k| (k.created_on, k.id))
        .map(|k| (*k).clone());
    // During a rotation's overlap the old key works too: the new key adds one either way.
    if working.len() + 1 > MAX_LIVE_KEYS {
        return Err(too_many());
    }
    let (secret, field) = match &own {
        Some(own) => (own.as_str().to_owned(), "own_key"),
        None => (generate(), ""),
    };
    let new = insert(&txn, ctx, cv.id, &secret, label, expires_on, field).await?;
    let summary = match (overlap_end, current) {
        (Some(end), Some(old)) => {
            let until = match (end, old.expires_on) {
                (Some(end), Some(before)) => Some(end.min(before)),
                (Some(end), None) => Some(end),
                (None, before) => before,
            };
            if until != old.expires_on {
                let mut m = old.clone().into_active_model();
                m.expires_on = Set(until);
                m.update(&txn).await?;
            }
            format!(
                "Rotated the API key …{} of version {}: the new key is …{}; …{} works {}",
                old.last4,
                at.version,
                new.last4,
                old.last4,
                until.map_or_else(
                    || "until it is revoked".to_owned(),
                    |u| format!("until {}", when(u))
                )
            )
        }
        (Some(_), None) => format!(
            "Created the API key …{} of version {} (no key was working)",
            new.last4, at.version
        ),
        (None, _) => format!(
            "Added {} API key …{} to version {}{}",
            if own.is_some() { "the brought" } else { "the" },
            new.last4,
            at.version,
            expires_on.map_or_else(String::new, |e| format!(", working until {}", when(e)))
        ),
    };
    versioned::record_action::<client::Entity>(&txn, ctx, at, "UpdateKey", summary).await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    let key = dtos_of(db, cv.id)
        .await?
        .into_iter()
        .find(|k| k.id == i64::from(new.id))
        .ok_or_else(no_key)?;
    Ok(NewApiKey { key, secret })
}

/// Revokes a key at once: the gateway refuses it within a second. Needs clientEdit.
pub async fn revoke(db: &impl Db, ctx: &Ctx, at: &EntityRef, key_id: i64) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let cv = for_change(&txn, ctx, at).await?;
    let key = key_of(&txn, &cv, key_id).await?;
    let t = now();
    match state(&key, t) {
        KeyState::Revoked(_) => {
            return Err(Error::conflict("", "This key is already revoked."));
        }
        KeyState::Expired(_) => {
            return Err(Error::conflict(
                "",
                "This key has expired: it no longer works.",
            ));
        }
        KeyState::Active | KeyState::Expiring(_) => {}
    }
    let last4 = key.last4.clone();
    let mut m = key.into_active_model();
    m.revoked_on = Set(Some(t));
    m.revoked_by = Set(Some(ctx.user_id.clone()));
    m.update(&txn).await?;
    versioned::record_action::<client::Entity>(
        &txn,
        ctx,
        at,
        "RevokeKey",
        format!("Revoked the API key …{last4} of version {}", at.version),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Shows one key: the caller needs clientEdit, and the Show is in the Change Log ("API key …a1b2
/// shown to Ann").
pub async fn reveal(db: &impl Db, ctx: &Ctx, at: &EntityRef, key_id: i64) -> Result<String> {
    let txn = crate::db::write(db).await?;
    let cv = for_change(&txn, ctx, at).await?;
    let key = key_of(&txn, &cv, key_id).await?;
    let secret = keyring()?
        .open(&key.sealed, &key.lookup_hash)
        .ok_or_else(|| {
            Error::Unexpected("an API key does not open under the server secret".into())
        })?;
    versioned::record_action::<client::Entity>(
        &txn,
        ctx,
        at,
        "ShowKey",
        format!("API key …{} shown to {}", key.last4, ctx.display_name),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Stores when keys were last used: `uses` by key id, each the minute of its last request.
/// Written by gateway nodes with their metrics; an older minute never overwrites a newer one.
pub async fn record_use(
    db: &impl ConnectionTrait,
    uses: &HashMap<i32, DateTime<Utc>>,
) -> Result<()> {
    let mut by_minute: HashMap<DateTime<Utc>, Vec<i32>> = HashMap::new();
    for (id, minute) in uses {
        by_minute.entry(*minute).or_default().push(*id);
    }
    for (minute, ids) in by_minute {
        for chunk in ids.chunks(500) {
            client_key::Entity::update_many()
                .col_expr(
                    client_key::Column::LastUsedOn,
                    sea_orm::sea_query::Expr::value(minute),
                )
                .filter(client_key::Column::Id.is_in(chunk.iter().copied()))
                .filter(
                    Condition::any()
                        .add(client_key::Column::LastUsedOn.is_null())
                        .add(client_key::Column::LastUsedOn.lt(minute)),
                )
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// The portal's key actions: the same rules, through the Developer Portal.
pub mod portal {
    use super::*;

    pub async fn change(
        db: &impl Db,
        ctx: &Ctx,
        at: &EntityRef,
        request: KeyRequest,
    ) -> Result<NewApiKey> {
        super::change(db, &ctx.for_portal(), at, request).await
    }

    pub async fn revoke(db: &impl Db, ctx: &Ctx, at: &EntityRef, key_id: i64) -> Result<()> {
        super::revoke(db, &ctx.for_portal(), at, key_id).await
    }

    pub async fn reveal(db: &impl Db, ctx: &Ctx, at: &EntityRef, key_id: i64) -> Result<String> {
        super::reveal(db, &ctx.for_portal(), at, key_id).await
    }
}
