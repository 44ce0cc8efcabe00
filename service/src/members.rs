//! Organization members: add an existing user with a role, change a role, remove a member.
//! Needs orgAdmin; an organization always keeps at least one owner. Adding by email answers the
//! same whether or not an account exists (no way to test addresses), and is throttled per
//! acting user ([`ADDS_PER_WINDOW`] in [`ADD_WINDOW`]).

use domain::dto::MemberDto;
use domain::{Email, Permission, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::audit::{self, Entry, Subject};
use crate::db::Db;
use crate::entities::{membership, organization, user};
use crate::rate_limit::{ActionLimiter, retry_message};
use crate::{Ctx, Error, Result, accounts, authz, now};

pub async fn list(db: &impl ConnectionTrait, ctx: &Ctx, org_id: &str) -> Result<Vec<MemberDto>> {
    authz::require(db, ctx, org_id, Permission::OrgView).await?;
    let rows = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .order_by_asc(membership::Column::CreatedOn)
        .all(db)
        .await?;
    let users: std::collections::HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|m| m.user_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let mut members: Vec<MemberDto> = rows
        .into_iter()
        .filter_map(|m| {
            let u = users.get(&m.user_id)?;
            Some(MemberDto {
                user_id: m.user_id,
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                role: Role::parse(&m.role)?,
                since: m.created_on,
            })
        })
        .collect();
    members.sort_by(|a, b| {
        a.role
            .cmp(&b.role)
            .then(a.display_name.cmp(&b.display_name))
    });
    Ok(members)
}

fn role_entry<'a>(org_id: &'a str, what: &'a str, summary: String) -> Entry<'a> {
    Entry {
        org_id,
        entity_type: Subject::Organization,
        entity_id: org_id,
        entity_version: None,
        what,
        summary,
        changes: vec![],
    }
}

/// How many members one user may try to add per [`ADD_WINDOW`].
pub const ADDS_PER_WINDOW: usize = 30;
pub const ADD_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

fn add_limiter() -> &'static ActionLimiter {
    static LIMITER: std::sync::LazyLock<ActionLimiter> =
        std::sync::LazyLock::new(|| ActionLimiter::new(ADD_WINDOW, ADDS_PER_WINDOW));
    &LIMITER
}

/// Adds the user with `email` to the organization with `role`. When no account has this email,
/// or its account is already a member (whose role stays as it is: the members list changes
/// roles), nothing is written, and the answer is the same as when one is added: the caller
/// cannot tell. (The members list itself shows who was added; invitations come later.)
pub async fn add(db: &impl Db, ctx: &Ctx, org_id: &str, email: &str, role: Role) -> Result<()> {
    let email = Email::parse(email)?;
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::OrgAdmin).await?;
    add_limiter()
        .try_acquire(&ctx.user_id)
        .map_err(|wait| Error::RateLimited(retry_message(wait)))?;
    let Some(u) = accounts::find_by_email(&txn, email.as_str()).await? else {
        return Ok(());
    };
    if membership::Entity::find_by_id((org_id.to_owned(), u.id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Ok(());
    }
    match membership::Entity::insert(membership::ActiveModel {
        org_id: Set(org_id.to_owned()),
        user_id: Set(u.id.clone()),
        role: Set(role.as_str().to_owned()),
        created_on: Set(now()),
    })
    .exec_without_returning(&txn)
    .await
    {
        Ok(_) => {}
        // Added by someone else meanwhile: the same answer.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &txn,
        ctx,
        role_entry(
            org_id,
            "Grant",
            format!("Granted {} to {}", role.label(), u.email),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The number of owners, counted under a lock on the organization row (PostgreSQL; SQLite's
/// write transactions are serialised anyway), so that two owners demoting each other at the
/// same moment cannot leave the organization without one.
async fn owner_count(db: &impl ConnectionTrait, org_id: &str) -> Result<u64> {
    organization::Entity::find_by_id(org_id.to_owned())
        .lock_exclusive()
        .one(db)
        .await?;
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(db)
        .await?)
}

async fn find_member(
    db: &impl ConnectionTrait,
    org_id: &str,
    user_id: &str,
) -> Result<(membership::Model, user::Model)> {
    let not_found =
        || Error::NotFound("That user is not a member of this organization.".to_owned());
    let m = membership::Entity::find_by_id((org_id.to_owned(), user_id.to_owned()))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let u = accounts::get(db, user_id).await?.ok_or_else(not_found)?;
    Ok((m, u))
}

const LAST_OWNER: &str = "An organization must keep at least one owner.";

pub async fn change_role(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    user_id: &str,
    role: Role,
) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::OrgAdmin).await?;
    let (m, u) = find_member(&txn, org_id, user_id).await?;
    let old = Role::parse(&m.role);
    if old == Some(role) {
        return Ok(());
    }
    if old == Some(Role::Owner) && owner_count(&txn, org_id).await? <= 1 {
        return Err(Error::conflict("role", LAST_OWNER));
    }
    let mut active: membership::ActiveModel = m.into();
    active.role = Set(role.as_str().to_owned());
    active.update(&txn).await?;
    if let Some(old) = old {
        audit::record(
            &txn,
            ctx,
            role_entry(
                org_id,
                "Revoke",
                format!("Revoked {} from {}", old.label(), u.email),
            ),
        )
        .await?;
    }
    audit::record(
        &txn,
        ctx,
        role_entry(
            org_id,
            "Grant",
            format!("Granted {} to {}", role.label(), u.email),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn remove(db: &impl Db, ctx: &Ctx, org_id: &str, user_id: &str) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::OrgAdmin).await?;
    let (m, u) = find_member(&txn, org_id, user_id).await?;
    let old = Role::parse(&m.role);
    if old == Some(Role::Owner) && owner_count(&txn, org_id).await? <= 1 {
        return Err(Error::conflict("", LAST_OWNER));
    }
    membership::Entity::delete_by_id((org_id.to_owned(), user_id.to_owned()))
        .exec(&txn)
        .await?;
    let label = old.map_or("membership", Role::label);
    audit::record(
        &txn,
        ctx,
        role_entry(
            org_id,
            "Revoke",
            format!("Revoked {label} from {}", u.email),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
