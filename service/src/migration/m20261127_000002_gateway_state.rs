//! The gateway's change counter: one row whose `version` every change that the gateway must
//! see (publish, retire, register, unregister, break, ...) increments in its own transaction.
//! Gateway nodes poll it and reload their snapshot when it moved.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayState {
    Table,
    Id,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(GatewayState::Table)
                .col(integer(GatewayState::Id).primary_key())
                .col(big_integer(GatewayState::Version))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(GatewayState::Table)
                .columns([GatewayState::Id, GatewayState::Version])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(GatewayState::Table).to_owned())
            .await
    }
}
