//! What the gateway's policies and metrics keep:
//! - `client_versions.registered_policies`: the client's policy chain as it was at its last
//!   registration (JSON), which is what the gateway enforces until the next Re-register;
//! - `limit_counters`: rate-limit and quota counters, written in batches by gateway nodes so that
//!   a restart does not reset a quota, and read by the portal to show what is left;
//! - `metrics_minute`: per-minute rollups of gateway traffic (no per-request rows), keyed by
//!   API version, client version, plan version, status and failure code, with a latency
//!   histogram (`domain::metrics::LATENCY_BOUNDS_MS`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientVersions {
    Table,
    RegisteredPolicies,
}

#[derive(DeriveIden)]
enum LimitCounters {
    Table,
    Key,
    Used,
    State,
    WindowEnd,
    UpdatedOn,
}

#[derive(DeriveIden)]
enum MetricsMinute {
    Table,
    Minute,
    ApiVersionId,
    ClientVersionId,
    PlanVersionId,
    Status,
    FailureCode,
    Requests,
    BytesIn,
    BytesOut,
    DurationUs,
}

/// Latency histogram columns `lat0` … `lat11`.
pub const LATENCY_COLUMNS: [&str; 12] = [
    "lat0", "lat1", "lat2", "lat3", "lat4", "lat5", "lat6", "lat7", "lat8", "lat9", "lat10",
    "lat11",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientVersions::Table)
                .add_column(text_null(ClientVersions::RegisteredPolicies))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LimitCounters::Table)
                .col(string(LimitCounters::Key).primary_key())
                .col(big_integer(LimitCounters::Used))
                .col(big_integer(LimitCounters::State))
                .col(big_integer(LimitCounters::WindowEnd))
                .col(big_integer(LimitCounters::UpdatedOn))
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(MetricsMinute::Table)
            .col(big_integer(MetricsMinute::Minute))
            .col(integer(MetricsMinute::ApiVersionId))
            .col(integer(MetricsMinute::ClientVersionId))
            .col(integer(MetricsMinute::PlanVersionId))
            .col(integer(MetricsMinute::Status))
            .col(integer(MetricsMinute::FailureCode))
            .col(big_integer(MetricsMinute::Requests))
            .col(big_integer(MetricsMinute::BytesIn))
            .col(big_integer(MetricsMinute::BytesOut))
            .col(big_integer(MetricsMinute::DurationUs));
        for c in LATENCY_COLUMNS {
            t.col(big_integer(Alias::new(c)));
        }
        t.primary_key(
            Index::create()
                .col(MetricsMinute::ApiVersionId)
                .col(MetricsMinute::Minute)
                .col(MetricsMinute::ClientVersionId)
                .col(MetricsMinute::PlanVersionId)
                .col(MetricsMinute::Status)
                .col(MetricsMinute::FailureCode),
        );
        m.create_table(t).await?;
        m.create_index(
            Index::create()
                .name("idx_metrics_client")
                .table(MetricsMinute::Table)
                .col(MetricsMinute::ClientVersionId)
                .col(MetricsMinute::Minute)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MetricsMinute::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(LimitCounters::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(ClientVersions::Table)
                .drop_column(ClientVersions::RegisteredPolicies)
                .to_owned(),
        )
        .await
    }
}
