//! Tollgate's service layer. Every use case is a function taking the database, a [`Ctx`] (who is
//! asking) and validated input; it checks permissions object by object, writes in one
//! transaction together with its Change Log entry, and returns DTOs from `domain::dto`.
//! sea-orm entities never leave this crate.

pub mod access_tokens;
pub mod accounts;
pub mod api_keys;
pub mod apis;
pub mod audit;
pub mod authz;
pub mod by_kind;
pub mod clients;
pub mod contracts;
mod ctx;
pub mod db;
pub mod declarative;
pub mod entities;
mod error;
pub mod gateway;
pub mod inbox;
pub mod limits;
pub mod members;
pub mod metrics;
pub mod migration;
pub mod notifications;
pub mod organizations;
pub mod plans;
pub mod policies;
mod policy_secrets;
pub mod portal;
pub mod rate_limit;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod versioned;

pub use ctx::{Ctx, TokenGrant};
pub use error::{Error, Result, error_chain};
pub use versioned::EntityRef;

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
pub use sea_orm::DatabaseConnection;
