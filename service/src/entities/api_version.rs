use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: String,
    pub api_id: String,
    pub version: String,
    /// `domain::ApiStatus::as_str`.
    pub status: String,
    pub created_by: String,
    pub created_on: super::Timestamp,
    pub modified_by: String,
    pub modified_on: super::Timestamp,
    pub endpoint_url: Option<String>,
    pub endpoint_type: String,
    pub content_type: String,
    pub public_api: bool,
    pub definition: Option<String>,
    pub definition_type: Option<String>,
    pub extended_description: String,
    pub published_on: Option<super::Timestamp>,
    pub retired_on: Option<super::Timestamp>,
    /// The largest request body in bytes; `None`: `domain::gateway_bounds` default.
    pub request_body_limit: Option<i64>,
    /// Whether request paths may contain an encoded slash (`%2F`).
    pub allow_encoded_slashes: bool,
    /// Whether the gateway takes the API key from the `apikey` query parameter too (else only
    /// from the `X-API-Key` header).
    pub accept_key_in_query: bool,
    /// How long the gateway waits for a connection to the backend, in milliseconds; `None`:
    /// the default (`domain::gateway_bounds::DEFAULT_CONNECT_TIMEOUT_MS`).
    pub connect_timeout_ms: Option<i32>,
    /// How long the gateway waits for the backend's answer once connected, in milliseconds;
    /// `None`: the default (`domain::gateway_bounds::DEFAULT_RESPONSE_TIMEOUT_MS`).
    pub response_timeout_ms: Option<i32>,
    /// Requests in flight towards the backend at once on one gateway node; `None`: the default
    /// (`domain::gateway_bounds::DEFAULT_MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent_requests: Option<i32>,
    /// `domain::portal::DefinitionSummary` as JSON, computed when the definition is saved.
    pub definition_summary: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
