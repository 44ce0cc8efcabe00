//! Schema migrations, run at server start (`Migrator::up`). Every migration is portable between
//! SQLite and PostgreSQL: only sea-query column types, no backend-specific SQL.

use sea_orm_migration::prelude::*;

mod m20261127_000001_initial;
mod m20261127_000002_gateway_state;
pub(crate) mod m20261127_000003_policies_and_metrics;
mod m20261201_000004_accounts;
mod m20261201_000005_gateway_bounds;
mod m20261201_000006_definitions;
mod m20261202_000007_client_keys;
mod m20261202_000008_plan_changes;
mod m20261202_000009_access_tokens;
mod m20261208_000010_backend_limits;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial::Migration),
            Box::new(m20261127_000002_gateway_state::Migration),
            Box::new(m20261127_000003_policies_and_metrics::Migration),
            Box::new(m20261201_000004_accounts::Migration),
            Box::new(m20261201_000005_gateway_bounds::Migration),
            Box::new(m20261201_000006_definitions::Migration),
            Box::new(m20261202_000007_client_keys::Migration),
            Box::new(m20261202_000008_plan_changes::Migration),
            Box::new(m20261202_000009_access_tokens::Migration),
            Box::new(m20261208_000010_backend_limits::Migration),
        ]
    }
}
