//! Accounts: sign-up, credentials, the first administrator. Passwords are hashed with argon2id
//! (19 MiB, t=2, p=1) on the blocking pool.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params};
use domain::{DisplayName, Email, Password};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::entities::user;
use crate::error::collect_fields;
use crate::{Error, Result, now};

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
    create_user(db, &email, &name, &password, false, portal_only).await
}

async fn create_user(
    db: &impl ConnectionTrait,
    email: &Email,
    name: &DisplayName,
    password: &Password,
    is_admin: bool,
    portal_only: bool,
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
pub async fn ensure_first_admin(
    db: &impl ConnectionTrait,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<bool> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let email = Email::parse(email)?;
    let name = DisplayName::parse(display_name)?;
    let password = Password::parse(password)?;
    create_user(db, &email, &name, &password, true, false).await?;
    Ok(true)
}

pub async fn get(db: &impl ConnectionTrait, user_id: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(user_id.to_owned()).one(db).await?)
}
