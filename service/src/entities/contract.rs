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
    /// A change of plan awaiting approval: the plan version asked for (`plan_version_id` stays
    /// in force until it is approved), who asked and when.
    pub requested_plan_version_id: Option<i32>,
    pub requested_by: Option<String>,
    pub requested_on: Option<super::Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
