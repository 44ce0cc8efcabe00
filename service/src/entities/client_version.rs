use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: String,
    pub client_id: String,
    pub version: String,
    /// `domain::ClientStatus::as_str`.
    pub status: String,
    pub created_by: String,
    pub created_on: super::Timestamp,
    pub modified_by: String,
    pub modified_on: super::Timestamp,
    pub registered_on: Option<super::Timestamp>,
    pub retired_on: Option<super::Timestamp>,
    pub changed_since_registration: bool,
    /// The policy chain at the last registration (JSON list of `{id, definitionId,
    /// configuration}`): what the gateway enforces until the next Re-register.
    pub registered_policies: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
