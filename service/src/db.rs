//! Connecting to the database (SQLite or PostgreSQL) and running the migrations.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// How long a query waits for a connection from the pool.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens a pool for `url` (`sqlite://path?mode=rwc` or `postgres://…`), brings the schema up
/// to date, and checks that the installed server secret (`crate::secrets::install`, needed
/// first) is the one this database's API keys are sealed with. SQLite runs in WAL mode with `synchronous=FULL` and foreign keys on; the folder of
/// the database file is created when missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    // Both set how long a query waits for a connection. A database that is down refuses every
    // new one: after this long the request is answered 503 (`Error::Unavailable`), not left
    // hanging; a healthy pool hands out a connection in well under a second.
    opts.sqlx_logging(false)
        .connect_timeout(ACQUIRE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT);
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_dir(url) {
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    } else {
        opts.max_connections(16);
    }
    let db = Database::connect(opts).await?;
    Migrator::up(&db, None).await?;
    check_secret(&db).await?;
    Ok(db)
}

/// Refuses a server secret other than the one the database's keys were sealed with: every key
/// would read as unknown and none could be shown.
async fn check_secret(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::EntityTrait;
    let ring = crate::secrets::keyring().map_err(DbErr::Custom)?;
    let stored = crate::entities::platform_setting::Entity::find_by_id(
        crate::secrets::CHECK_SETTING.to_owned(),
    )
    .one(db)
    .await?;
    match stored {
        Some(row) if row.value != ring.check() => Err(DbErr::Custom(format!(
            "the server secret ({} or the key file) is not the one this database's API keys \
             were sealed with: start with the original secret",
            crate::secrets::SECRET_KEY_VAR
        ))),
        _ => Ok(()),
    }
}

/// What a service function that writes takes: the pool, or a transaction it then runs inside.
/// Its own transaction ([`write`]) nests in the caller's as a `SAVEPOINT`, so that several use
/// cases commit or roll back together (`config::apply`).
pub trait Db: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> + Sync {}
impl<T: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> + Sync> Db for T {}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first could not upgrade to a write after another
/// connection committed, and would fail instead of waiting its turn. PostgreSQL ignores the mode.
/// Inside a transaction it is a savepoint, and the mode does not apply.
pub async fn write(db: &impl Db) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// The folder that holds a SQLite database file, if the URL names a file.
fn sqlite_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
}

/// A `LIKE` pattern that finds `needle` anywhere, with `\`, `%` and `_` escaped by `\` (use it
/// with `LikeExpr::escape('\\')`), so that what a user types is matched literally.
pub(crate) fn contains_pattern(needle: &str) -> String {
    format!(
        "%{}%",
        needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

#[cfg(test)]
mod tests {
    use super::sqlite_dir;

    #[test]
    fn sqlite_dir_of_urls() {
        assert_eq!(
            sqlite_dir("sqlite://data/tollgate.db?mode=rwc"),
            Some("data".into())
        );
        assert_eq!(sqlite_dir("sqlite://t.db"), None);
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
    }
}
