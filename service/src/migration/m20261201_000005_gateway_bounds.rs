//! The gateway's bounds per API version:
//! - `api_versions.request_body_limit`: the largest request body in bytes (`NULL`: the default,
//!   `domain::gateway_bounds::DEFAULT_REQUEST_BODY_LIMIT`);
//! - `api_versions.allow_encoded_slashes`: whether request paths may contain `%2F` (refused by
//!   default).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, boolean};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiVersions {
    Table,
    RequestBodyLimit,
    AllowEncodedSlashes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        m.alter_table(
            Table::alter()
                .table(ApiVersions::Table)
                .add_column(big_integer_null(ApiVersions::RequestBodyLimit))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiVersions::Table)
                .add_column(boolean(ApiVersions::AllowEncodedSlashes).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ApiVersions::AllowEncodedSlashes,
            ApiVersions::RequestBodyLimit,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ApiVersions::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
