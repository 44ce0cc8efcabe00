use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub api_version_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub plan_id: String,
    pub plan_version_id: i32,
    pub requires_approval: bool,
    pub discoverability: String,
    pub order_index: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
