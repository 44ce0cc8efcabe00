//! A change of plan awaiting approval is a request on the contract itself: `contracts` gets the
//! requested plan version, who asked and when. The contract keeps its `plan_version_id` (the plan
//! in force, the one the gateway enforces) until an approver accepts the change.
//!
//! One `ALTER TABLE` per column: SQLite adds a single column per statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer_null, string_null, timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contracts {
    Table,
    RequestedPlanVersionId,
    RequestedBy,
    RequestedOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            integer_null(Contracts::RequestedPlanVersionId),
            string_null(Contracts::RequestedBy),
            timestamp_with_time_zone_null(Contracts::RequestedOn),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Contracts::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Contracts::RequestedOn,
            Contracts::RequestedBy,
            Contracts::RequestedPlanVersionId,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Contracts::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
