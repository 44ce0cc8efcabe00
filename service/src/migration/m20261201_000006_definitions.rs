//! `api_versions.definition_summary`: what the API page and the portal show of a version's
//! OpenAPI definition (`domain::portal::DefinitionSummary` as JSON), computed once when the
//! definition is saved so that no page view parses a definition again.
//!
//! The data step summarizes the definitions saved before, once. A definition the current bounds
//! refuse (YAML anchors or aliases, too many nodes, too deep) keeps its text but gets no summary:
//! its pages show no operations until it is saved again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiVersions {
    Table,
    Id,
    Definition,
    DefinitionSummary,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiVersions::Table)
                .add_column(text_null(ApiVersions::DefinitionSummary))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let rows = db
            .query_all(
                Query::select()
                    .columns([ApiVersions::Id, ApiVersions::Definition])
                    .from(ApiVersions::Table)
                    .and_where(Expr::col(ApiVersions::Definition).is_not_null()),
            )
            .await?;
        for row in rows {
            let id: i32 = row.try_get("", "id")?;
            let text: String = row.try_get("", "definition")?;
            let Ok((_, summary)) = crate::apis::summarize_definition(&text) else {
                tracing::warn!(
                    api_version = id,
                    "a saved definition is refused by the current bounds; save it again"
                );
                continue;
            };
            db.execute(
                Query::update()
                    .table(ApiVersions::Table)
                    .value(ApiVersions::DefinitionSummary, summary)
                    .and_where(Expr::col(ApiVersions::Id).eq(id)),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiVersions::Table)
                .drop_column(ApiVersions::DefinitionSummary)
                .to_owned(),
        )
        .await
    }
}
