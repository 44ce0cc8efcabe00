//! sea-orm entities, one module per table. They never leave the service crate: the service
//! functions map them to the DTOs in `service::dto`.

pub mod access_token;
pub mod api;
pub mod api_plan;
pub mod api_version;
pub mod audit_entry;
pub mod client;
pub mod client_key;
pub mod client_version;
pub mod contract;
pub mod membership;
pub mod notification;
pub mod organization;
pub mod plan;
pub mod plan_version;
pub mod platform_setting;
pub mod policy;
pub mod session;
pub mod user;

pub type Timestamp = chrono::DateTime<chrono::Utc>;
