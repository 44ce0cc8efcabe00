//! Accounts: sign-up, credentials, the first administrator, Account settings (display name,
//! email, password), and temporary passwords set by a platform administrator. Passwords are
//! hashed with argon2id (19 MiB, t=2, p=1) on the blocking pool.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params};
use domain::dto::{AccountDto, Page};
use domain::{DisplayName, Email, FieldError, Password};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::db::Db;
use crate::entities::user;
use crate::error::collect_fields;
use crate::{Ctx, Error, Result, authz, now, sessions};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// At most one argon2 computation (19 MiB each) per core at a time: a burst of sign-ins waits
/// instead of exhausting memory and the blocking pool.
async fn hashing_permit() -> Result<tokio::sync::SemaphorePermit<'static>> {
    static PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    PERMITS.acquire().await.map_err(Error::unexpected)
}

pub async fn hash_password(password: &Password) -> Result<String> {
    hash_secret(password.expose().to_owned()).await
}

/// An argon2id PHC string for any secret (account passwords, BASIC authentication identities).
pub async fn hash_secret(password: String) -> Result<String> {
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::unexpected(e.to_string()))
    })
    .await
    .map_err(Error::unexpected)?
}

/// A hash of a throw-away password: checking against it spends the same time on an unknown
/// email (or an unknown BASIC authentication user at the gateway) as on a known one.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        argon2()
            .hash_password(b"not a real password", &SaltString::generate(&mut OsRng))
            .expect("hashing a constant succeeds")
            .to_string()
    })
}

/// Verifies `password` against `hash`, or against [`dummy_hash`] (always false) when `None`.
/// Whether `secret` matches an argon2 PHC string (false for a malformed hash).
pub async fn verify_secret(secret: &str, hash: &str) -> bool {
    verify_password(secret, Some(hash)).await.unwrap_or(false)
}

async fn verify_password(password: &str, hash: Option<&str>) -> Result<bool> {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|e| Error::unexpected(e.to_string()))?;
        Ok(argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known)
    })
    .await
    .map_err(Error::unexpected)?
}

/// What a person types into the sign-up form.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: String,
    pub display_name: String,
    pub password: String,
}

/// Creates an account. Every field is checked and all problems are reported at once.
pub async fn sign_up(
    db: &impl ConnectionTrait,
    input: SignUp,
    portal_only: bool,
) -> Result<user::Model> {
    let email = Email::parse(&input.email);
    let name = DisplayName::parse(&input.display_name);
    let password = Password::parse(&input.password);
    collect_fields([
        email.as_ref().err().cloned(),
        name.as_ref().err().cloned(),
        password.as_ref().err().cloned(),
    ])?;
    let (email, name, password) = (email?, name?, password?);
    create_user(db, &email, &name, &password, false, portal_only, false).await
}

async fn create_user(
    db: &impl ConnectionTrait,
    email: &Email,
    name: &DisplayName,
    password: &Password,
    is_admin: bool,
    portal_only: bool,
    must_change_password: bool,
) -> Result<user::Model> {
    if find_by_email(db, email.as_str()).await?.is_some() {
        return Err(Error::conflict(
            "email",
            "An account with this email address already exists.",
        ));
    }
    let hash = hash_password(password).await?;
    let model = user::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        email: Set(email.as_str().to_owned()),
        display_name: Set(name.as_str().to_owned()),
        password_hash: Set(hash),
        is_admin: Set(is_admin),
        portal_only: Set(portal_only),
        must_change_password: Set(must_change_password),
        created_on: Set(now()),
    };
    // The unique index on email settles a race between two sign-ups.
    user::Entity::insert(model.clone())
        .exec_without_returning(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
                "email",
                "An account with this email address already exists.",
            ),
            _ => e.into(),
        })?;
    Ok(user::Model {
        id: model.id.unwrap(),
        email: model.email.unwrap(),
        display_name: model.display_name.unwrap(),
        password_hash: model.password_hash.unwrap(),
        is_admin,
        portal_only,
        must_change_password,
        created_on: model.created_on.unwrap(),
    })
}

pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

/// Checks an email and password. The answer never tells which of the two was wrong.
pub async fn verify_credentials(
    db: &impl ConnectionTrait,
    email: &str,
    password: &str,
) -> Result<user::Model> {
    let invalid = || Error::conflict("", "Invalid email or password.");
    match find_by_email(db, email).await? {
        Some(user) => {
            if verify_password(password, Some(&user.password_hash)).await? {
                Ok(user)
            } else {
                Err(invalid())
            }
        }
        None => {
            verify_password(password, None).await?;
            Err(invalid())
        }
    }
}

/// On an empty database, creates the first platform administrator. Returns whether it did.
/// With `must_change_password` (the default credentials are in use) its owner must choose a new
/// password at the first sign-in, before any other page.
pub async fn ensure_first_admin(
    db: &impl ConnectionTrait,
    email: &str,
    display_name: &str,
    password: &str,
    must_change_password: bool,
) -> Result<bool> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let email = Email::parse(email)?;
    let name = DisplayName::parse(display_name)?;
    let password = Password::parse(password)?;
    create_user(
        db,
        &email,
        &name,
        &password,
        true,
        false,
        must_change_password,
    )
    .await?;
    Ok(true)
}

/// Marks the administrator `email` as having to change the password when `default_password`
/// still opens the account (a database from before the mark existed). Returns whether it did.
pub async fn require_change_of_default_password(
    db: &impl ConnectionTrait,
    email: &str,
    default_password: &str,
) -> Result<bool> {
    let Some(u) = find_by_email(db, email).await? else {
        return Ok(false);
    };
    if !u.is_admin
        || u.must_change_password
        || !verify_password(default_password, Some(&u.password_hash)).await?
    {
        return Ok(false);
    }
    let mut active: user::ActiveModel = u.into();
    active.must_change_password = Set(true);
    active.update(db).await?;
    Ok(true)
}

pub async fn get(db: &impl ConnectionTrait, user_id: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(user_id.to_owned()).one(db).await?)
}

/// The caller's own account, fresh from the database.
async fn own(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<user::Model> {
    get(db, &ctx.user_id).await?.ok_or(Error::Unauthenticated)
}

/// The message next to the current-password field when it is wrong.
pub const WRONG_CURRENT_PASSWORD: &str = "This is not your current password.";

/// Checks the caller's current password (field `current_password`).
async fn check_current_password(user: &user::Model, current: &str) -> Result<()> {
    if current.is_empty() {
        return Err(Error::invalid(
            "current_password",
            "Enter your current password.",
        ));
    }
    if current.chars().count() > domain::accounts::MAX_PASSWORD_LEN
        || !verify_password(current, Some(&user.password_hash)).await?
    {
        return Err(Error::invalid("current_password", WRONG_CURRENT_PASSWORD));
    }
    Ok(())
}

/// Changes the caller's display name.
pub async fn change_display_name(
    db: &impl Db,
    ctx: &Ctx,
    display_name: &str,
) -> Result<domain::dto::UserDto> {
    authz::require_write(ctx)?;
    let name = DisplayName::parse(display_name)?;
    let u = own(db, ctx).await?;
    let mut active: user::ActiveModel = u.into();
    active.display_name = Set(name.as_str().to_owned());
    let u = active.update(db).await?;
    Ok(user_dto(&u))
}

/// Changes the caller's email; the current password is asked again (field `current_password`).
pub async fn change_email(
    db: &impl Db,
    ctx: &Ctx,
    email: &str,
    current_password: &str,
) -> Result<domain::dto::UserDto> {
    authz::require_session(ctx, "change the email address")?;
    let email = Email::parse(email);
    let u = own(db, ctx).await?;
    let password = check_current_password(&u, current_password).await;
    collect_fields([
        email.as_ref().err().cloned(),
        password.as_ref().err().and_then(field_of),
    ])?;
    password?;
    let email = email?;
    if email.as_str() == u.email {
        return Ok(user_dto(&u));
    }
    if find_by_email(db, email.as_str()).await?.is_some() {
        return Err(Error::conflict(
            "email",
            "An account with this email address already exists.",
        ));
    }
    let mut active: user::ActiveModel = u.into();
    active.email = Set(email.as_str().to_owned());
    let u = active.update(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "email",
            "An account with this email address already exists.",
        ),
        _ => e.into(),
    })?;
    tracing::info!(user = %u.id, "email changed");
    Ok(user_dto(&u))
}

fn field_of(e: &Error) -> Option<FieldError> {
    match e {
        Error::Invalid(v) => v.first().cloned(),
        _ => None,
    }
}

/// Changes the caller's password: checks the current one, applies the sign-up rules to the new
/// one (field `new_password`), clears the must-change mark, ends every other session of the
/// account (`keep_token` is the caller's own session, which stays) and revokes its personal
/// access tokens.
pub async fn change_password(
    db: &impl Db,
    ctx: &Ctx,
    current_password: &str,
    new_password: &str,
    keep_token: Option<&str>,
) -> Result<()> {
    authz::require_session(ctx, "change the password")?;
    let new = Password::parse(new_password).map_err(|e| FieldError::new("new_password", e.message));
    let u = own(db, ctx).await?;
    let current = check_current_password(&u, current_password).await;
    collect_fields([
        current.as_ref().err().and_then(field_of),
        new.as_ref().err().cloned(),
    ])?;
    current?;
    let new = new?;
    if new.expose() == current_password {
        return Err(Error::invalid(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    let hash = hash_password(&new).await?;
    let txn = crate::db::write(db).await?;
    let mut active: user::ActiveModel = u.into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(false);
    let u = active.update(&txn).await?;
    let ended = sessions::revoke_all_but(&txn, &u.id, keep_token).await?;
    let tokens = crate::access_tokens::revoke_all(&txn, &u.id).await?;
    txn.commit().await?;
    tracing::info!(user = %u.id, other_sessions_ended = ended, tokens_revoked = tokens, "password changed");
    Ok(())
}

/// What a platform administrator sets for another account.
pub async fn set_temporary_password(
    db: &impl Db,
    ctx: &Ctx,
    user_id: &str,
    password: &str,
) -> Result<()> {
    authz::require_platform_admin(ctx)?;
    authz::require_session(ctx, "set a temporary password")?;
    let password = Password::parse(password)?;
    let not_found = || Error::NotFound("That account was not found.".to_owned());
    let u = get(db, user_id).await?.ok_or_else(not_found)?;
    let hash = hash_password(&password).await?;
    let txn = crate::db::write(db).await?;
    let mut active: user::ActiveModel = u.into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(true);
    let u = active.update(&txn).await?;
    let ended = sessions::revoke_all_but(&txn, &u.id, None).await?;
    let tokens = crate::access_tokens::revoke_all(&txn, &u.id).await?;
    txn.commit().await?;
    tracing::info!(user = %u.id, by = %ctx.user_id, sessions_ended = ended, tokens_revoked = tokens, "temporary password set");
    Ok(())
}

/// Every account, for platform administrators: filtered by a case-insensitive part of the email
/// or display name, sorted by email, paged.
pub async fn list(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    query: &str,
    page: u64,
    per_page: u64,
) -> Result<Page<AccountDto>> {
    authz::require_platform_admin(ctx)?;
    let per_page = per_page.clamp(1, 100);
    let page = page.clamp(1, 1_000_000);
    let needle: String = query.trim().to_lowercase().chars().take(200).collect();
    let mut q = user::Entity::find();
    if !needle.is_empty() {
        let pattern = crate::db::contains_pattern(&needle);
        let like = |col: user::Column| {
            Expr::expr(Func::lower(Expr::col(col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        q = q.filter(
            Condition::any()
                .add(like(user::Column::Email))
                .add(like(user::Column::DisplayName)),
        );
    }
    let paginator = q.order_by_asc(user::Column::Email).paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator
        .fetch_page(page - 1)
        .await?
        .into_iter()
        .map(|u| AccountDto {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            is_admin: u.is_admin,
            portal_only: u.portal_only,
            must_change_password: u.must_change_password,
            created_on: u.created_on,
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

fn user_dto(u: &user::Model) -> domain::dto::UserDto {
    domain::dto::UserDto {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        is_admin: u.is_admin,
        portal_only: u.portal_only,
    }
}
