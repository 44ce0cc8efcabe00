use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// "client", "plan" or "api": which version table `owner_version_id` points into.
    pub kind: String,
    pub org_id: String,
    pub owner_version_id: i32,
    pub definition_id: String,
    /// JSON configuration of the policy definition.
    pub configuration: String,
    pub order_index: i32,
    pub created_by: String,
    pub created_on: super::Timestamp,
    pub modified_by: String,
    pub modified_on: super::Timestamp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
