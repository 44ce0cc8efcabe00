//! Accounts and platform settings:
//! - `users.must_change_password`: the account's password was set by someone else (the default
//!   first administrator, or a temporary password from a platform administrator); until its
//!   owner chooses a new one, every page leads to "Choose a new password";
//! - `platform_settings`: one row per platform-wide setting (`key`, `value`), e.g. who may
//!   create organizations (`service::settings`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    MustChangePassword,
}

#[derive(DeriveIden)]
enum PlatformSettings {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(boolean(Users::MustChangePassword).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PlatformSettings::Table)
                .col(string(PlatformSettings::Key).primary_key())
                .col(string(PlatformSettings::Value))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PlatformSettings::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::MustChangePassword)
                .to_owned(),
        )
        .await
    }
}
