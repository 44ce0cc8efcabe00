use sea_orm::entity::prelude::*;

/// A sign-in session. `id` is the SHA-256 (hex) of the cookie's secret, so a leaked table does
/// not leak usable session ids.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub created_on: super::Timestamp,
    pub last_seen_on: super::Timestamp,
    pub expires_on: super::Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
