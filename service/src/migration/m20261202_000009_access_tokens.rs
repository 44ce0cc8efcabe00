//! Personal access tokens (`service::access_tokens`): one row per token of a user, with the
//! SHA-256 of the whole token (unique; the token itself is never stored), its last four
//! characters for display, its scope, the organizations it is limited to (a JSON array of ids,
//! `NULL` for all of the owner's), creation, expiry (the moment it stops working), last use and
//! revocation. Deleting the user deletes their tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, string, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    LastFour,
    ReadOnly,
    Orgs,
    CreatedOn,
    ExpiresOn,
    LastUsedOn,
    RevokedOn,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccessTokens::Table)
                .if_not_exists()
                .col(string(AccessTokens::Id).primary_key())
                .col(string(AccessTokens::UserId))
                .col(string(AccessTokens::Name))
                .col(string(AccessTokens::TokenHash))
                .col(string(AccessTokens::LastFour))
                .col(boolean(AccessTokens::ReadOnly))
                .col(text_null(AccessTokens::Orgs))
                .col(timestamp_with_time_zone(AccessTokens::CreatedOn))
                .col(timestamp_with_time_zone(AccessTokens::ExpiresOn))
                .col(timestamp_with_time_zone_null(AccessTokens::LastUsedOn))
                .col(timestamp_with_time_zone_null(AccessTokens::RevokedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(AccessTokens::Table, AccessTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_access_tokens_hash")
                .table(AccessTokens::Table)
                .col(AccessTokens::TokenHash)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_access_tokens_user")
                .table(AccessTokens::Table)
                .col(AccessTokens::UserId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AccessTokens::Table).to_owned())
            .await
    }
}
