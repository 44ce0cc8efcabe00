use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: String,
    pub plan_id: String,
    pub version: String,
    /// `domain::PlanStatus::as_str`.
    pub status: String,
    pub created_by: String,
    pub created_on: super::Timestamp,
    pub modified_by: String,
    pub modified_on: super::Timestamp,
    pub locked_on: Option<super::Timestamp>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
