//! One module per page (or group of pages) of the management UI.

pub mod access_tokens;
pub mod account;
pub mod admin;
pub mod api;
pub mod api_docs;
pub mod approvals;
pub mod auth;
pub mod client;
pub mod create_entity;
pub mod create_org;
pub mod dashboard;
pub mod entities;
pub mod metrics;
pub mod not_found;
pub mod orgs;
pub mod plan;
pub mod policies;
pub mod portal;
