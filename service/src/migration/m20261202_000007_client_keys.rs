//! API keys in a table of their own, never in plain text (`service::secrets`):
//! - `client_keys`: one row per key of a client version, with its HMAC lookup (unique), the key
//!   sealed with AES-256-GCM, its last four characters, label, creation, expiry, revocation and
//!   last use;
//! - every existing plain key becomes the first key of its version, and the plain columns
//!   `client_versions.api_key` and `api_key_hash` are dropped (on SQLite by rebuilding the table,
//!   which cannot drop a UNIQUE column, on one connection with foreign keys off, as SQLite's
//!   documented procedure says);
//! - `api_versions.accept_key_in_query`: whether `?apikey=` is taken; existing versions keep
//!   taking it, new ones do not (`service::apis`);
//! - the secret's check value, so that a server started with another secret refuses to start.
//!
//! The steps before the column drop are idempotent, so that an interrupted run on SQLite (which
//! runs migrations outside a transaction) completes when started again.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseExecutor};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, pk_auto, string, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
    ClientVersionId,
    Label,
    LookupHash,
    Sealed,
    Last4,
    CreatedBy,
    CreatedOn,
    ExpiresOn,
    RevokedOn,
    RevokedBy,
    LastUsedOn,
}

#[derive(DeriveIden)]
enum ClientVersions {
    Table,
    Id,
    ApiKey,
    ApiKeyHash,
    CreatedBy,
    CreatedOn,
}

#[derive(DeriveIden)]
enum ApiVersions {
    Table,
    AcceptKeyInQuery,
}

#[derive(DeriveIden)]
enum PlatformSettings {
    Table,
    Key,
    Value,
}

fn keyring() -> Result<std::sync::Arc<crate::secrets::Keyring>, DbErr> {
    crate::secrets::keyring().map_err(DbErr::Custom)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let ring = keyring()?;
        m.create_table(
            Table::create()
                .table(ClientKeys::Table)
                .if_not_exists()
                .col(pk_auto(ClientKeys::Id))
                .col(integer(ClientKeys::ClientVersionId))
                .col(string_null(ClientKeys::Label))
                .col(string(ClientKeys::LookupHash))
                .col(string(ClientKeys::Sealed))
                .col(string(ClientKeys::Last4))
                .col(string(ClientKeys::CreatedBy))
                .col(timestamp_with_time_zone(ClientKeys::CreatedOn))
                .col(timestamp_with_time_zone_null(ClientKeys::ExpiresOn))
                .col(timestamp_with_time_zone_null(ClientKeys::RevokedOn))
                .col(string_null(ClientKeys::RevokedBy))
                .col(timestamp_with_time_zone_null(ClientKeys::LastUsedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(ClientKeys::Table, ClientKeys::ClientVersionId)
                        .to(ClientVersions::Table, ClientVersions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_client_keys_lookup")
                .table(ClientKeys::Table)
                .col(ClientKeys::LookupHash)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_client_keys_version")
                .table(ClientKeys::Table)
                .col(ClientKeys::ClientVersionId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        if !m.has_column("api_versions", "accept_key_in_query").await? {
            m.alter_table(
                Table::alter()
                    .table(ApiVersions::Table)
                    .add_column(boolean(ApiVersions::AcceptKeyInQuery).default(true))
                    .to_owned(),
            )
            .await?;
        }

        let db = m.get_connection();
        if m.has_column("client_versions", "api_key").await? {
            let converted = Query::select()
                .column(ClientKeys::ClientVersionId)
                .from(ClientKeys::Table)
                .to_owned();
            let rows = db
                .query_all(
                    Query::select()
                        .columns([
                            ClientVersions::Id,
                            ClientVersions::ApiKey,
                            ClientVersions::CreatedBy,
                            ClientVersions::CreatedOn,
                        ])
                        .from(ClientVersions::Table)
                        .and_where(Expr::col(ClientVersions::Id).not_in_subquery(converted))
                        .and_where(Expr::col(ClientVersions::ApiKey).is_not_null()),
                )
                .await?;
            for row in rows {
                let id: i32 = row.try_get("", "id")?;
                let key: String = row.try_get("", "api_key")?;
                let by: String = row.try_get("", "created_by")?;
                let on: crate::entities::Timestamp = row.try_get("", "created_on")?;
                let lookup = ring.lookup_hex(&key);
                db.execute(
                    Query::insert()
                        .into_table(ClientKeys::Table)
                        .columns([
                            ClientKeys::ClientVersionId,
                            ClientKeys::LookupHash,
                            ClientKeys::Sealed,
                            ClientKeys::Last4,
                            ClientKeys::CreatedBy,
                            ClientKeys::CreatedOn,
                        ])
                        .values_panic([
                            id.into(),
                            lookup.clone().into(),
                            ring.seal(&key, &lookup).into(),
                            domain::credentials::last4(&key).into(),
                            by.into(),
                            on.into(),
                        ]),
                )
                .await?;
            }
            drop_plain_columns(m).await?;
        }

        let check = db
            .query_one(
                Query::select()
                    .column(PlatformSettings::Value)
                    .from(PlatformSettings::Table)
                    .and_where(Expr::col(PlatformSettings::Key).eq(crate::secrets::CHECK_SETTING)),
            )
            .await?;
        if check.is_none() {
            db.execute(
                Query::insert()
                    .into_table(PlatformSettings::Table)
                    .columns([PlatformSettings::Key, PlatformSettings::Value])
                    .values_panic([
                        crate::secrets::CHECK_SETTING.into(),
                        ring.check().to_owned().into(),
                    ]),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Back to one plain key per version: the newest working key, else the newest one.
        let ring = keyring()?;
        for column in [ClientVersions::ApiKey, ClientVersions::ApiKeyHash] {
            m.alter_table(
                Table::alter()
                    .table(ClientVersions::Table)
                    .add_column(string_null(column))
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        let rows = db
            .query_all(
                Query::select()
                    .columns([
                        ClientKeys::ClientVersionId,
                        ClientKeys::LookupHash,
                        ClientKeys::Sealed,
                    ])
                    .from(ClientKeys::Table)
                    .order_by_expr(Expr::col(ClientKeys::RevokedOn).is_null(), Order::Asc)
                    .order_by(ClientKeys::CreatedOn, Order::Asc)
                    .order_by(ClientKeys::Id, Order::Asc),
            )
            .await?;
        for row in rows {
            let id: i32 = row.try_get("", "client_version_id")?;
            let lookup: String = row.try_get("", "lookup_hash")?;
            let sealed: String = row.try_get("", "sealed")?;
            let Some(key) = ring.open(&sealed, &lookup) else {
                continue;
            };
            db.execute(
                Query::update()
                    .table(ClientVersions::Table)
                    .value(ClientVersions::ApiKey, key.clone())
                    .value(
                        ClientVersions::ApiKeyHash,
                        crate::sessions::hash_token(&key),
                    )
                    .and_where(Expr::col(ClientVersions::Id).eq(id)),
            )
            .await?;
        }
        for (name, column) in [
            ("uq_client_versions_api_key", ClientVersions::ApiKey),
            (
                "uq_client_versions_api_key_hash",
                ClientVersions::ApiKeyHash,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(ClientVersions::Table)
                    .col(column)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(ClientKeys::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(ApiVersions::Table)
                .drop_column(ApiVersions::AcceptKeyInQuery)
                .to_owned(),
        )
        .await?;
        db.execute(
            Query::delete()
                .from_table(PlatformSettings::Table)
                .and_where(Expr::col(PlatformSettings::Key).eq(crate::secrets::CHECK_SETTING)),
        )
        .await?;
        Ok(())
    }
}

const PLAIN: [&str; 2] = ["api_key", "api_key_hash"];

async fn drop_plain_columns(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        for column in [ClientVersions::ApiKey, ClientVersions::ApiKeyHash] {
            m.alter_table(
                Table::alter()
                    .table(ClientVersions::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        return Ok(());
    }
    let DatabaseExecutor::Connection(conn) = db else {
        return Err(DbErr::Custom(
            "the SQLite key migration must run outside a transaction".into(),
        ));
    };
    rebuild_sqlite_without_plain_keys(conn.get_sqlite_connection_pool()).await
}

/// The column definitions and table constraints of a `CREATE TABLE` statement, split at the
/// commas outside parentheses and quotes.
fn table_items(sql: &str) -> Option<(&str, Vec<&str>)> {
    let open = sql.find('(')?;
    let close = sql.rfind(')')?;
    let (head, body) = (&sql[..open], &sql[open + 1..close]);
    let mut items = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(body[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(body[start..].trim());
    Some((head, items))
}

/// Whether a table item defines one of the plain key columns.
fn is_plain_column(item: &str) -> bool {
    let name = item
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
    PLAIN.contains(&name)
}

fn new_table_sql(old: &str) -> Result<String, DbErr> {
    let unexpected = || DbErr::Custom("unexpected client_versions table definition".into());
    let (head, items) = table_items(old).ok_or_else(unexpected)?;
    if !head.contains("client_versions") {
        return Err(unexpected());
    }
    let kept: Vec<&str> = items.into_iter().filter(|i| !is_plain_column(i)).collect();
    Ok(format!(
        "CREATE TABLE \"client_versions_new\" ( {} )",
        kept.join(", ")
    ))
}

async fn rebuild_sqlite_without_plain_keys(pool: &sea_orm::sqlx::SqlitePool) -> Result<(), DbErr> {
    use sea_orm::sqlx::{self, Row};
    let err = |e: sqlx::Error| DbErr::Custom(format!("rebuilding client_versions: {e}"));
    let mut conn = pool.acquire().await.map_err(err)?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    let result: Result<(), DbErr> = async {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(err)?;
        let old: String = sqlx::query(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'client_versions'",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(err)?
        .get(0);
        let indexes: Vec<String> = sqlx::query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'client_versions' \
             AND sql IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(err)?
        .into_iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|sql| !PLAIN.iter().any(|c| sql.contains(&format!("\"{c}\""))))
        .collect();
        let columns: Vec<String> =
            sqlx::query("SELECT name FROM pragma_table_info('client_versions')")
                .fetch_all(&mut *conn)
                .await
                .map_err(err)?
                .into_iter()
                .map(|r| r.get::<String, _>(0))
                .filter(|c| !PLAIN.contains(&c.as_str()))
                .collect();
        let columns = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut steps = vec![
            new_table_sql(&old)?,
            format!(
                "INSERT INTO client_versions_new ({columns}) SELECT {columns} FROM client_versions"
            ),
            "DROP TABLE client_versions".to_owned(),
            "ALTER TABLE client_versions_new RENAME TO client_versions".to_owned(),
        ];
        steps.extend(indexes);
        // Built from the schema SQLite itself stored and from its own column names: nothing
        // from outside.
        for step in steps {
            sqlx::query(sqlx::AssertSqlSafe(step))
                .execute(&mut *conn)
                .await
                .map_err(err)?;
        }
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await
            .map_err(err)?;
        if !broken.is_empty() {
            return Err(DbErr::Custom(format!(
                "rebuilding client_versions would break {} foreign keys",
                broken.len()
            )));
        }
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(err)?;
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_table_keeps_everything_but_the_plain_columns() {
        let old = r#"CREATE TABLE "client_versions" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "org_id" varchar NOT NULL, "api_key" varchar NOT NULL UNIQUE, "api_key_hash" varchar NOT NULL UNIQUE, "registered_on" timestamp_with_timezone_text NULL, FOREIGN KEY ("org_id", "client_id") REFERENCES "clients" ("org_id", "id") ON DELETE CASCADE , "registered_policies" text NULL)"#;
        let new = new_table_sql(old).unwrap();
        assert_eq!(
            new,
            r#"CREATE TABLE "client_versions_new" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "org_id" varchar NOT NULL, "registered_on" timestamp_with_timezone_text NULL, FOREIGN KEY ("org_id", "client_id") REFERENCES "clients" ("org_id", "id") ON DELETE CASCADE, "registered_policies" text NULL )"#
        );
        assert!(new_table_sql("CREATE TABLE other (a int)").is_err());
    }
}
