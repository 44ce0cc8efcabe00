//! `#[server]` functions: thin adapters that take the session's `Ctx`, call one service
//! function and map its error. No rules live here.

pub mod account;
pub mod auth;
pub mod contracts;
pub mod docs;
pub mod entities;
pub mod keys;
pub mod lifecycle;
pub mod orgs;
pub mod policies;
pub mod portal;
