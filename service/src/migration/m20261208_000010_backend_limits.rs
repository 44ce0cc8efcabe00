//! How the gateway treats an API version's backend (`domain::gateway_bounds::BackendLimits`),
//! each `NULL` for its default:
//! - `api_versions.connect_timeout_ms`: how long to wait for a connection (default 5 s);
//! - `api_versions.response_timeout_ms`: how long to wait for the answer once connected
//!   (default 30 s);
//! - `api_versions.max_concurrent_requests`: how many requests may be in flight towards the
//!   backend at once on one gateway node (default 256).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ApiVersions {
    Table,
    ConnectTimeoutMs,
    ResponseTimeoutMs,
    MaxConcurrentRequests,
}

const COLUMNS: [ApiVersions; 3] = [
    ApiVersions::ConnectTimeoutMs,
    ApiVersions::ResponseTimeoutMs,
    ApiVersions::MaxConcurrentRequests,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table(ApiVersions::Table)
                    .add_column(integer_null(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS.into_iter().rev() {
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
