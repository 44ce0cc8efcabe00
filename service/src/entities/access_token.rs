use sea_orm::entity::prelude::*;

/// A personal access token of a user (`service::access_tokens`). The token itself is never
/// stored: only its SHA-256 (`token_hash`, hex) and its last four characters for display.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub token_hash: String,
    pub last_four: String,
    pub read_only: bool,
    /// A JSON array of organization ids, or `None` for all of the owner's organizations.
    pub orgs: Option<String>,
    pub created_on: super::Timestamp,
    /// The moment it stops working (the end of its expiry day, UTC).
    pub expires_on: super::Timestamp,
    /// The minute of its last use.
    pub last_used_on: Option<super::Timestamp>,
    pub revoked_on: Option<super::Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
