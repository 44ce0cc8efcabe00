use sea_orm::entity::prelude::*;

/// One API key of a client version (`service::api_keys`). The key itself is never stored: only
/// its HMAC-SHA-256 under the server secret (`lookup_hash`, how the gateway finds it) and the key
/// sealed with AES-256-GCM for display (`sealed`, `service::secrets`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_version_id: i32,
    pub label: Option<String>,
    pub lookup_hash: String,
    pub sealed: String,
    /// The key's last four characters: how pages and the Change Log name it.
    pub last4: String,
    pub created_by: String,
    pub created_on: super::Timestamp,
    pub expires_on: Option<super::Timestamp>,
    pub revoked_on: Option<super::Timestamp>,
    pub revoked_by: Option<String>,
    /// The minute of the last request with this key, as gateway nodes report it.
    pub last_used_on: Option<super::Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
