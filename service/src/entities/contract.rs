use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_version_id: i32,
    pub api_version_id: i32,
    pub plan_version_id: i32,
    /// `domain::ContractStatus::as_str`.
    pub status: String,
    pub created_by: String,
    pub created_on: super::Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
