//! The whole schema of the domain model (spec §1): accounts and sessions, organizations and
//! memberships, clients / APIs / plans with their versions, API plans, contracts, policies, the
//! audit log (Change Log) and notifications. Later work adds behaviour, not tables.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    IsAdmin,
    PortalOnly,
    CreatedOn,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedOn,
    LastSeenOn,
    ExpiresOn,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    OrgId,
    UserId,
    Role,
    CreatedOn,
}

/// Clients, APIs and plans share one shape: (org_id, id) plus name and description.
#[derive(DeriveIden, Clone, Copy)]
enum Clients {
    Table,
}
#[derive(DeriveIden, Clone, Copy)]
enum Apis {
    Table,
    Tags,
    Image,
}
#[derive(DeriveIden, Clone, Copy)]
enum Plans {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Common {
    Id,
    OrgId,
    Name,
    Description,
    Version,
    Status,
    CreatedBy,
    CreatedOn,
    ModifiedBy,
    ModifiedOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClientVersions {
    Table,
    ClientId,
    ApiKey,
    ApiKeyHash,
    RegisteredOn,
    RetiredOn,
    ChangedSinceRegistration,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiVersions {
    Table,
    ApiId,
    EndpointUrl,
    EndpointType,
    ContentType,
    PublicApi,
    Definition,
    DefinitionType,
    ExtendedDescription,
    PublishedOn,
    RetiredOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum PlanVersions {
    Table,
    PlanId,
    LockedOn,
}

#[derive(DeriveIden)]
enum ApiPlans {
    Table,
    ApiVersionId,
    PlanId,
    PlanVersionId,
    RequiresApproval,
    Discoverability,
    OrderIndex,
}

#[derive(DeriveIden)]
enum Contracts {
    Table,
    ClientVersionId,
    ApiVersionId,
    PlanVersionId,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Kind,
    OwnerVersionId,
    DefinitionId,
    Configuration,
    OrderIndex,
}

#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    Who,
    EntityType,
    EntityId,
    EntityVersion,
    What,
    Data,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    RecipientId,
    Reason,
    Message,
    Payload,
}

fn created_modified(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(string(Common::CreatedBy))
        .col(timestamp_with_time_zone(Common::CreatedOn))
        .col(string(Common::ModifiedBy))
        .col(timestamp_with_time_zone(Common::ModifiedOn))
}

/// Clients, APIs and plans: primary key (org_id, id), cascade with their organization.
fn org_entity(table: impl IntoIden + Copy + 'static) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(table)
        .col(string(Common::OrgId))
        .col(string(Common::Id))
        .col(string(Common::Name))
        .col(text(Common::Description))
        .primary_key(Index::create().col(Common::OrgId).col(Common::Id));
    created_modified(&mut t);
    t.foreign_key(
        ForeignKey::create()
            .from(table, Common::OrgId)
            .to(Organizations::Table, Organizations::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
    t
}

/// Versions of clients, APIs and plans: surrogate integer key, unique (org_id, parent, version),
/// composite foreign key to the parent with cascade.
fn version_table(
    table: impl IntoIden + Copy + 'static,
    parent: impl IntoIden + Copy + 'static,
    parent_col: impl IntoIden + Copy + 'static,
) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(table)
        .col(pk_auto(Common::Id))
        .col(string(Common::OrgId))
        .col(string(parent_col))
        .col(string(Common::Version))
        .col(string(Common::Status));
    created_modified(&mut t);
    t.foreign_key(
        ForeignKey::create()
            .from_tbl(table)
            .from_col(Common::OrgId)
            .from_col(parent_col)
            .to_tbl(parent)
            .to_col(Common::OrgId)
            .to_col(Common::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
    t
}

fn unique_index(
    name: &str,
    table: impl IntoIden + 'static,
    cols: Vec<DynIden>,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).unique();
    for c in cols {
        i.col(c);
    }
    i
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(string(Users::Id).primary_key())
                .col(string_uniq(Users::Email))
                .col(string(Users::DisplayName))
                .col(string(Users::PasswordHash))
                .col(boolean(Users::IsAdmin))
                .col(boolean(Users::PortalOnly))
                .col(timestamp_with_time_zone(Users::CreatedOn))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string(Sessions::Id).primary_key())
                .col(string(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedOn))
                .col(timestamp_with_time_zone(Sessions::LastSeenOn))
                .col(timestamp_with_time_zone(Sessions::ExpiresOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_user")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await?;

        let mut orgs = Table::create();
        orgs.table(Organizations::Table)
            .col(string(Organizations::Id).primary_key())
            .col(string(Organizations::Name))
            .col(text(Organizations::Description));
        created_modified(&mut orgs);
        m.create_table(orgs).await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(string(Memberships::OrgId))
                .col(string(Memberships::UserId))
                .col(string(Memberships::Role))
                .col(timestamp_with_time_zone(Memberships::CreatedOn))
                .primary_key(
                    Index::create()
                        .col(Memberships::OrgId)
                        .col(Memberships::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::OrgId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_memberships_user")
                .table(Memberships::Table)
                .col(Memberships::UserId)
                .to_owned(),
        )
        .await?;

        // Clients, APIs, plans.
        m.create_table(org_entity(Clients::Table)).await?;
        let mut apis = org_entity(Apis::Table);
        apis.col(text(Apis::Tags)).col(text_null(Apis::Image));
        m.create_table(apis).await?;
        m.create_table(org_entity(Plans::Table)).await?;

        // Client versions: one API key each (and its SHA-256 for gateway look-ups).
        let mut cv = version_table(
            ClientVersions::Table,
            Clients::Table,
            ClientVersions::ClientId,
        );
        cv.col(string_uniq(ClientVersions::ApiKey))
            .col(string_uniq(ClientVersions::ApiKeyHash))
            .col(timestamp_with_time_zone_null(ClientVersions::RegisteredOn))
            .col(timestamp_with_time_zone_null(ClientVersions::RetiredOn))
            .col(boolean(ClientVersions::ChangedSinceRegistration));
        m.create_table(cv).await?;
        m.create_index(unique_index(
            "uq_client_versions",
            ClientVersions::Table,
            vec![
                Common::OrgId.into_iden(),
                ClientVersions::ClientId.into_iden(),
                Common::Version.into_iden(),
            ],
        ))
        .await?;

        let mut av = version_table(ApiVersions::Table, Apis::Table, ApiVersions::ApiId);
        av.col(string_null(ApiVersions::EndpointUrl))
            .col(string(ApiVersions::EndpointType))
            .col(string(ApiVersions::ContentType))
            .col(boolean(ApiVersions::PublicApi))
            .col(text_null(ApiVersions::Definition))
            .col(string_null(ApiVersions::DefinitionType))
            .col(text(ApiVersions::ExtendedDescription))
            .col(timestamp_with_time_zone_null(ApiVersions::PublishedOn))
            .col(timestamp_with_time_zone_null(ApiVersions::RetiredOn));
        m.create_table(av).await?;
        m.create_index(unique_index(
            "uq_api_versions",
            ApiVersions::Table,
            vec![
                Common::OrgId.into_iden(),
                ApiVersions::ApiId.into_iden(),
                Common::Version.into_iden(),
            ],
        ))
        .await?;

        let mut pv = version_table(PlanVersions::Table, Plans::Table, PlanVersions::PlanId);
        pv.col(timestamp_with_time_zone_null(PlanVersions::LockedOn));
        m.create_table(pv).await?;
        m.create_index(unique_index(
            "uq_plan_versions",
            PlanVersions::Table,
            vec![
                Common::OrgId.into_iden(),
                PlanVersions::PlanId.into_iden(),
                Common::Version.into_iden(),
            ],
        ))
        .await?;

        // Plans offered by an API version: one version of each plan per API version.
        m.create_table(
            Table::create()
                .table(ApiPlans::Table)
                .col(integer(ApiPlans::ApiVersionId))
                .col(string(ApiPlans::PlanId))
                .col(integer(ApiPlans::PlanVersionId))
                .col(boolean(ApiPlans::RequiresApproval))
                .col(string(ApiPlans::Discoverability))
                .col(integer(ApiPlans::OrderIndex))
                .primary_key(
                    Index::create()
                        .col(ApiPlans::ApiVersionId)
                        .col(ApiPlans::PlanId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiPlans::Table, ApiPlans::ApiVersionId)
                        .to(ApiVersions::Table, Common::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiPlans::Table, ApiPlans::PlanVersionId)
                        .to(PlanVersions::Table, Common::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;

        // Contracts: at most one per (client version, API version).
        m.create_table(
            Table::create()
                .table(Contracts::Table)
                .col(pk_auto(Common::Id))
                .col(integer(Contracts::ClientVersionId))
                .col(integer(Contracts::ApiVersionId))
                .col(integer(Contracts::PlanVersionId))
                .col(string(Common::Status))
                .col(string(Common::CreatedBy))
                .col(timestamp_with_time_zone(Common::CreatedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(Contracts::Table, Contracts::ClientVersionId)
                        .to(ClientVersions::Table, Common::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Contracts::Table, Contracts::ApiVersionId)
                        .to(ApiVersions::Table, Common::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Contracts::Table, Contracts::PlanVersionId)
                        .to(PlanVersions::Table, Common::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "uq_contracts",
            Contracts::Table,
            vec![
                Contracts::ClientVersionId.into_iden(),
                Contracts::ApiVersionId.into_iden(),
            ],
        ))
        .await?;

        // Policies of a client, plan or API version (kind says which table owner_version_id is in).
        let mut pol = Table::create();
        pol.table(Policies::Table)
            .col(pk_auto(Common::Id))
            .col(string(Policies::Kind))
            .col(string(Common::OrgId))
            .col(integer(Policies::OwnerVersionId))
            .col(string(Policies::DefinitionId))
            .col(text(Policies::Configuration))
            .col(integer(Policies::OrderIndex));
        created_modified(&mut pol);
        pol.foreign_key(
            ForeignKey::create()
                .from(Policies::Table, Common::OrgId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(pol).await?;
        m.create_index(
            Index::create()
                .name("idx_policies_owner")
                .table(Policies::Table)
                .col(Policies::Kind)
                .col(Policies::OwnerVersionId)
                .col(Policies::OrderIndex)
                .to_owned(),
        )
        .await?;

        // Audit log (Change Log). No foreign keys: entries outlive what they describe.
        m.create_table(
            Table::create()
                .table(AuditEntries::Table)
                .col(pk_auto(Common::Id))
                .col(string(AuditEntries::Who))
                .col(string(Common::OrgId))
                .col(string(AuditEntries::EntityType))
                .col(string(AuditEntries::EntityId))
                .col(string_null(AuditEntries::EntityVersion))
                .col(timestamp_with_time_zone(Common::CreatedOn))
                .col(string(AuditEntries::What))
                .col(text(AuditEntries::Data))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_entity")
                .table(AuditEntries::Table)
                .col(Common::OrgId)
                .col(AuditEntries::EntityType)
                .col(AuditEntries::EntityId)
                .col(Common::CreatedOn)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(pk_auto(Common::Id))
                .col(string(Notifications::RecipientId))
                .col(string(Notifications::Reason))
                .col(text(Notifications::Message))
                .col(text(Notifications::Payload))
                .col(string(Common::Status))
                .col(timestamp_with_time_zone(Common::CreatedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(Notifications::Table, Notifications::RecipientId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_recipient")
                .table(Notifications::Table)
                .col(Notifications::RecipientId)
                .col(Common::Status)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Notifications::Table.into_iden(),
            AuditEntries::Table.into_iden(),
            Policies::Table.into_iden(),
            Contracts::Table.into_iden(),
            ApiPlans::Table.into_iden(),
            PlanVersions::Table.into_iden(),
            ApiVersions::Table.into_iden(),
            ClientVersions::Table.into_iden(),
            Plans::Table.into_iden(),
            Apis::Table.into_iden(),
            Clients::Table.into_iden(),
            Memberships::Table.into_iden(),
            Organizations::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
