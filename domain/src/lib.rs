//! Tollgate's pure domain rules.
//!
//! This crate holds validation and business rules shared by the server and the
//! browser (wasm32) build: identifiers derived from names, validated value
//! types, versions, roles and permissions, and entity statuses. It performs no
//! I/O, has no async code, and does not read clocks or randomness.

pub mod access_tokens;
pub mod accounts;
pub mod api_config;
pub mod credentials;
pub mod declarative;
pub mod dto;
pub mod endpoint;
pub mod entity;
pub mod error;
pub mod failure;
pub mod gateway_bounds;
pub mod ids;
pub mod lifecycle;
pub mod metrics;
pub mod names;
pub mod permissions;
pub mod policy;
pub mod portal;
pub mod status;
pub mod version;

pub use accounts::{DisplayName, Email, Password};
pub use api_config::{ContentType, DefinitionFormat, Discoverability};
pub use endpoint::EndpointUrl;
pub use entity::EntityKind;
pub use error::FieldError;
pub use failure::FailureCode;
pub use ids::id_from_name;
pub use names::{Description, EntityName};
pub use permissions::{Permission, Role};
pub use status::{ApiStatus, ClientStatus, ContractStatus, PlanStatus};
pub use version::Version;
