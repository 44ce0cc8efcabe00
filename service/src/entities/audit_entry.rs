use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// User id of who did it.
    pub who: String,
    pub org_id: String,
    /// "organization", "client", "api", "plan".
    pub entity_type: String,
    pub entity_id: String,
    pub entity_version: Option<String>,
    pub created_on: super::Timestamp,
    /// The action: "Create", "Update", "Grant", ...
    pub what: String,
    /// JSON details, e.g. changed fields with before/after.
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
