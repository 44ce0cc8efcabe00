//! Contracts between client versions and API versions through plans: create (with approval
//! when the plan asks for it), change of plan (a request on the contract when the new plan asks
//! for approval), break, revoke from the provider's side, approve, reject; the approvals inbox;
//! the APIs a user may sign a contract with. Every change recomputes the client version's status, writes its Change
//! Log rows and notifications, in one transaction.

use std::collections::{HashMap, HashSet};

use domain::dto::{ApiOffer, ApiPlanDto, ContractDto, Page, PendingPlan, PlanChoice, PlanChoices};
use domain::lifecycle::{self, ContractFacts, Decision, PlanChangeFacts};
use domain::{ApiStatus, ClientStatus, ContractStatus, Discoverability, Permission, PlanStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use crate::db::Db;
use crate::entities::{
    api, api_plan, api_version, client, client_version, contract, organization, plan, plan_version,
    policy, user,
};
use crate::notifications::{self, Reason};
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Error, Result, authz, now};

/// The API version and plan a new contract is for.
#[derive(Debug, Clone)]
pub struct Target {
    pub api_org_id: String,
    pub api_id: String,
    pub api_version: String,
    pub plan_id: String,
}

/// Who the caller is to an API's organization: which of its offered plans they see (every one
/// with apiView there, else those discoverable by all users) and whether they may approve
/// contracts (planAdmin).
struct Viewer {
    member: bool,
    may_approve: bool,
}

impl Viewer {
    async fn of(db: &impl ConnectionTrait, ctx: &Ctx, org_id: &str) -> Result<Self> {
        let role = authz::role_in(db, ctx, org_id).await?;
        let admin = authz::admin_in(ctx, org_id);
        let grants = |p: Permission| admin || role.is_some_and(|r| r.grants(p));
        Ok(Viewer {
            member: grants(Permission::ApiView),
            may_approve: grants(Permission::PlanAdmin),
        })
    }

    /// Whether an offered plan is visible to the caller (a hidden one reads as not offered).
    fn sees(&self, offer: &api_plan::Model) -> bool {
        self.member
            || Discoverability::parse(&offer.discoverability)
                .is_some_and(|d| d.visible_to(true, false))
    }
}

fn client_ref(cv: &client_version::Model) -> EntityRef {
    EntityRef {
        org_id: cv.org_id.clone(),
        id: cv.client_id.clone(),
        version: cv.version.clone(),
    }
}

fn api_ref(av: &api_version::Model) -> EntityRef {
    EntityRef {
        org_id: av.org_id.clone(),
        id: av.api_id.clone(),
        version: av.version.clone(),
    }
}

fn client_status(cv: &client_version::Model) -> ClientStatus {
    ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created)
}

/// The number of contracts of a client version, and how many of them await approval.
pub(crate) async fn contract_counts(
    db: &impl ConnectionTrait,
    client_version_id: i32,
) -> Result<(usize, usize)> {
    let all = contract::Entity::find()
        .filter(contract::Column::ClientVersionId.eq(client_version_id))
        .all(db)
        .await?;
    let awaiting = all
        .iter()
        .filter(|c| c.status == ContractStatus::AwaitingApproval.as_str())
        .count();
    Ok((all.len(), awaiting))
}

/// Stores a client version's new status. `changed` marks a Registered version as having
/// unpublished changes. Returns the new status.
pub(crate) async fn set_client_status(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    cv: client_version::Model,
    status: ClientStatus,
    changed: bool,
) -> Result<client_version::Model> {
    let before = client_status(&cv);
    let id = cv.id;
    let mut m = cv.into_active_model();
    let at = now();
    if before != status {
        m.status = Set(status.as_str().to_owned());
        match status {
            ClientStatus::Registered => {
                m.registered_on = Set(Some(at));
                m.changed_since_registration = Set(false);
                m.registered_policies = Set(Some(crate::policies::registered_chain(db, id).await?));
            }
            ClientStatus::Retired => m.retired_on = Set(Some(at)),
            _ => {}
        }
    }
    if changed && status == ClientStatus::Registered && before == ClientStatus::Registered {
        m.changed_since_registration = Set(true);
    }
    m.modified_by = Set(ctx.user_id.clone());
    m.modified_on = Set(at);
    Ok(m.update(db).await?)
}

/// Creates a contract for `cv` (whose clientEdit the caller holds) inside `txn`: the API
/// version must be visible to the caller, and the rules of `lifecycle::new_contract` hold.
/// Returns the contract's status.
pub(crate) async fn create_in(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    cv: &client_version::Model,
    target: &Target,
) -> Result<(ContractStatus, client_version::Model)> {
    let not_found = || {
        Error::NotFound(format!(
            "No API '{}' version '{}' was found.",
            target.api_id, target.api_version
        ))
    };
    let av = api_version::Entity::find()
        .filter(api_version::Column::OrgId.eq(target.api_org_id.clone()))
        .filter(api_version::Column::ApiId.eq(target.api_id.clone()))
        .filter(api_version::Column::Version.eq(target.api_version.clone()))
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let viewer = Viewer::of(txn, ctx, &av.org_id).await?;
    let offered = api_plan::Entity::find_by_id((av.id, target.plan_id.clone()))
        .one(txn)
        .await?;
    // The API version is visible when one of its plans is discoverable by the caller.
    let visible = viewer.member
        || api_plan::Entity::find()
            .filter(api_plan::Column::ApiVersionId.eq(av.id))
            .all(txn)
            .await?
            .iter()
            .any(|o| viewer.sees(o));
    if !visible {
        return Err(not_found());
    }
    // A plan hidden from the caller counts as not offered (its existence is not revealed).
    let offered = offered.filter(|o| viewer.sees(o));
    let plan_status = match &offered {
        Some(o) => plan_version::Entity::find_by_id(o.plan_version_id)
            .one(txn)
            .await?
            .and_then(|p| PlanStatus::parse(&p.status))
            .unwrap_or(PlanStatus::Created),
        None => PlanStatus::Created,
    };
    let exists = contract::Entity::find()
        .filter(contract::Column::ClientVersionId.eq(cv.id))
        .filter(contract::Column::ApiVersionId.eq(av.id))
        .one(txn)
        .await?
        .is_some();
    lifecycle::new_contract(ContractFacts {
        client_status: client_status(cv),
        api_status: ApiStatus::parse(&av.status).unwrap_or(ApiStatus::Created),
        plan_offered: offered.is_some(),
        plan_status,
        exists,
    })?;
    let offered = offered.expect("new_contract refuses a plan that is not offered");
    let status = lifecycle::contract_status(offered.requires_approval, viewer.may_approve);
    let inserted = contract::Entity::insert(contract::ActiveModel {
        client_version_id: Set(cv.id),
        api_version_id: Set(av.id),
        plan_version_id: Set(offered.plan_version_id),
        status: Set(status.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(now()),
        ..Default::default()
    })
    .exec(txn)
    .await;
    if let Err(e) = inserted {
        return Err(match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
                "",
                "This client version already has a contract with this API version.",
            ),
            _ => e.into(),
        });
    }
    let (total, awaiting) = contract_counts(txn, cv.id).await?;
    let new_status = ClientStatus::determine(client_status(cv), total, awaiting);
    let cv = set_client_status(txn, ctx, cv.clone(), new_status, true).await?;

    let api_name = versioned::find::<api::Entity>(txn, &av.org_id, &av.api_id)
        .await?
        .name;
    let client_name = versioned::find::<client::Entity>(txn, &cv.org_id, &cv.client_id)
        .await?
        .name;
    let summary = format!(
        "Created a contract of {client_name} {} with {api_name} {} through plan {}{}",
        cv.version,
        av.version,
        offered.plan_id,
        if status == ContractStatus::AwaitingApproval {
            " (awaiting approval)"
        } else {
            ""
        }
    );
    versioned::record_action::<client::Entity>(
        txn,
        ctx,
        &client_ref(&cv),
        "CreateContract",
        summary.clone(),
    )
    .await?;
    if av.org_id != cv.org_id {
        versioned::record_action::<api::Entity>(txn, ctx, &api_ref(&av), "CreateContract", summary)
            .await?;
    }
    if status == ContractStatus::AwaitingApproval {
        let message = format!(
            "{} asks to use {api_name} {} through plan {} with client {client_name} {}.",
            ctx.display_name, av.version, offered.plan_id, cv.version
        );
        for approver in notifications::members_with(txn, &av.org_id, Permission::PlanAdmin).await? {
            notifications::notify(
                txn,
                ctx,
                &approver,
                Reason::ApprovalRequested,
                message.clone(),
                Some("/approvals".to_owned()),
            )
            .await?;
        }
    }
    Ok((status, cv))
}

/// Creates a contract for a client version. Needs clientEdit in the client's organization.
pub async fn create(
    db: &impl Db,
    ctx: &Ctx,
    client: &EntityRef,
    target: Target,
) -> Result<ContractStatus> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, &client.org_id, Permission::ClientEdit).await?;
    let cv = versioned::lock_version::<client::Entity>(
        &txn,
        &client.org_id,
        &client.id,
        &client.version,
    )
    .await?;
    let (status, _) = create_in(&txn, ctx, &cv, &target).await?;
    txn.commit().await?;
    Ok(status)
}

/// Removes contracts of one client version (one, or all with `only` = None) and recomputes its
/// status: a Registered version without contracts is retired. `what` is the Change Log action.
async fn remove(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    cv: client_version::Model,
    only: Option<&contract::Model>,
    what: &str,
    summary: String,
) -> Result<client_version::Model> {
    let mut q = contract::Entity::delete_many().filter(contract::Column::ClientVersionId.eq(cv.id));
    if let Some(c) = only {
        q = q.filter(contract::Column::Id.eq(c.id));
    }
    q.exec(txn).await?;
    let (total, awaiting) = contract_counts(txn, cv.id).await?;
    let status = lifecycle::after_contract_removed(client_status(&cv), total, awaiting);
    let still_registered = status == ClientStatus::Registered;
    let mut cv = set_client_status(txn, ctx, cv, status, false).await?;
    if still_registered {
        let cv_id = cv.id;
        // A registered version is re-registered at once with its remaining contracts.
        // Its policies stay as registered: edits made since wait for Re-register, and keep
        // the version marked as having Unpublished Changes.
        let current = crate::policies::registered_chain(txn, cv_id).await?;
        let registered = cv.registered_policies.as_deref().unwrap_or("[]");
        let policies_pending = registered != current;
        let mut m = cv.into_active_model();
        m.registered_on = Set(Some(now()));
        m.changed_since_registration = Set(policies_pending);
        cv = m.update(txn).await?;
    }
    versioned::record_action::<client::Entity>(txn, ctx, &client_ref(&cv), what, summary).await?;
    Ok(cv)
}

fn contract_gone() -> Error {
    Error::NotFound("This contract no longer exists.".into())
}

/// Loads a contract for a change, locking its row (PostgreSQL) so that concurrent approvals,
/// rejections and breaks take turns.
async fn load(db: &impl ConnectionTrait, id: i64) -> Result<contract::Model> {
    let id = i32::try_from(id).map_err(|_| contract_gone())?;
    contract::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(contract_gone)
}

/// `authz::require` for an object reached through a contract id: an organization the caller
/// cannot see is reported as a missing contract, so ids reveal nothing.
async fn require_via_contract(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    permission: Permission,
) -> Result<()> {
    match authz::require(db, ctx, org_id, permission).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound(_)) => Err(contract_gone()),
        Err(e) => Err(e),
    }
}

async fn versions_of(
    db: &impl ConnectionTrait,
    c: &contract::Model,
) -> Result<(client_version::Model, api_version::Model)> {
    let cv = client_version::Entity::find_by_id(c.client_version_id)
        .one(db)
        .await?
        .ok_or_else(contract_gone)?;
    let av = api_version::Entity::find_by_id(c.api_version_id)
        .one(db)
        .await?
        .ok_or_else(contract_gone)?;
    Ok((cv, av))
}

/// Breaks one contract of a client version. Needs clientEdit in the client's organization.
pub async fn break_one(db: &impl Db, ctx: &Ctx, contract_id: i64) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let c = load(&txn, contract_id).await?;
    let (cv, av) = versions_of(&txn, &c).await?;
    require_via_contract(&txn, ctx, &cv.org_id, Permission::ClientEdit).await?;
    let summary = format!("Broke the contract with {} {}", av.api_id, av.version);
    let client_org = cv.org_id.clone();
    remove(&txn, ctx, cv, Some(&c), "BreakContract", summary.clone()).await?;
    if av.org_id != client_org {
        versioned::record_action::<api::Entity>(&txn, ctx, &api_ref(&av), "BreakContract", summary)
            .await?;
    }
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Breaks every contract of a client version. Needs clientEdit.
pub async fn break_all(db: &impl Db, ctx: &Ctx, client: &EntityRef) -> Result<u64> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, &client.org_id, Permission::ClientEdit).await?;
    let cv = versioned::lock_version::<client::Entity>(
        &txn,
        &client.org_id,
        &client.id,
        &client.version,
    )
    .await?;
    let (total, _) = contract_counts(&txn, cv.id).await?;
    if total == 0 {
        return Err(Error::conflict("", "This client version has no contracts."));
    }
    remove(
        &txn,
        ctx,
        cv,
        None,
        "BreakContract",
        format!("Broke all {total} contracts"),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(total as u64)
}

/// A contract with its client and API versions.
type Loaded = (contract::Model, client_version::Model, api_version::Model);

/// Loads a contract awaiting a decision by the caller (planAdmin in the API's organization):
/// a new contract, or a change of plan on one in force.
async fn for_decision(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    contract_id: i64,
) -> Result<(Loaded, Decision)> {
    let c = load(txn, contract_id).await?;
    let (cv, av) = versions_of(txn, &c).await?;
    require_via_contract(txn, ctx, &av.org_id, Permission::PlanAdmin).await?;
    let decision = lifecycle::decide_contract(
        ContractStatus::parse(&c.status).unwrap_or(ContractStatus::Created),
        c.requested_plan_version_id.is_some(),
    )?;
    Ok(((c, cv, av), decision))
}

fn client_link(cv: &client_version::Model) -> String {
    format!(
        "/orgs/{}/clients/{}/{}/contracts",
        cv.org_id, cv.client_id, cv.version
    )
}

/// Approves a contract; with `register`, also registers the client version when nothing else
/// holds it back. The requester is notified.
pub async fn approve(
    db: &impl Db,
    ctx: &Ctx,
    contract_id: i64,
    register: bool,
) -> Result<ClientStatus> {
    let txn = crate::db::write(db).await?;
    let ((c, cv, av), decision) = for_decision(&txn, ctx, contract_id).await?;
    if decision == Decision::PlanChange {
        let status = client_status(&cv);
        decide_plan_change(&txn, ctx, (c, cv, av), None).await?;
        txn.commit().await?;
        return Ok(status);
    }
    let requester = c.created_by.clone();
    let mut m = c.into_active_model();
    m.status = Set(ContractStatus::Created.as_str().to_owned());
    m.update(&txn).await?;
    let (total, awaiting) = contract_counts(&txn, cv.id).await?;
    let mut status = ClientStatus::determine(client_status(&cv), total, awaiting);
    let facts = lifecycle::ClientFacts {
        status,
        contracts: total,
        awaiting_approval: awaiting,
        changed_since_registration: true,
    };
    if register
        && status != ClientStatus::Retired
        && let Ok(s) = lifecycle::register(facts)
    {
        status = s;
    }
    let was_registered = client_status(&cv) == ClientStatus::Registered;
    let cv = set_client_status(&txn, ctx, cv, status, true).await?;
    let summary = format!(
        "Approved the contract of {} {} with {} {}",
        cv.client_id, cv.version, av.api_id, av.version
    );
    versioned::record_action::<api::Entity>(&txn, ctx, &api_ref(&av), "Approve", summary.clone())
        .await?;
    versioned::record_action::<client::Entity>(&txn, ctx, &client_ref(&cv), "Approve", summary)
        .await?;
    if status == ClientStatus::Registered && !was_registered {
        versioned::record_action::<client::Entity>(
            &txn,
            ctx,
            &client_ref(&cv),
            "Register",
            format!("Registered version {} on approval", cv.version),
        )
        .await?;
    }
    let registered = if status == ClientStatus::Registered {
        " The client version is registered."
    } else {
        ""
    };
    notifications::notify(
        &txn,
        ctx,
        &requester,
        Reason::ContractApproved,
        format!(
            "{} approved the contract of {} {} with {} {}.{registered}",
            ctx.display_name, cv.client_id, cv.version, av.api_id, av.version
        ),
        Some(client_link(&cv)),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(status)
}

/// A decision's reason: required, at most 500 characters.
fn reason_of<'a>(reason: &'a str, who: &str) -> Result<&'a str> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            format!("Say why, so that {who} knows what to change."),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(Error::invalid(
            "reason",
            "Keep the reason under 500 characters.",
        ));
    }
    Ok(reason)
}

/// Rejects a contract with a reason and notifies the requester. A new contract is removed; a
/// rejected change of plan leaves the contract on its plan in force.
pub async fn reject(db: &impl Db, ctx: &Ctx, contract_id: i64, reason: &str) -> Result<()> {
    let reason = reason_of(reason, "the requester")?;
    let txn = crate::db::write(db).await?;
    let ((c, cv, av), decision) = for_decision(&txn, ctx, contract_id).await?;
    if decision == Decision::PlanChange {
        decide_plan_change(&txn, ctx, (c, cv, av), Some(reason)).await?;
        txn.commit().await?;
        return Ok(());
    }
    let requester = c.created_by.clone();
    let summary = format!(
        "Rejected the contract of {} {} with {} {}: {reason}",
        cv.client_id, cv.version, av.api_id, av.version
    );
    versioned::record_action::<api::Entity>(&txn, ctx, &api_ref(&av), "Reject", summary.clone())
        .await?;
    let cv = remove(&txn, ctx, cv, Some(&c), "Reject", summary).await?;
    notifications::notify(
        &txn,
        ctx,
        &requester,
        Reason::ContractRejected,
        format!(
            "{} rejected the contract of {} {} with {} {}: {reason}",
            ctx.display_name, cv.client_id, cv.version, av.api_id, av.version
        ),
        Some(client_link(&cv)),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// "Gold 1.0": a plan version by its plan's name.
async fn plan_label(db: &impl ConnectionTrait, plan_version_id: i32) -> Result<String> {
    let Some(pv) = plan_version::Entity::find_by_id(plan_version_id)
        .one(db)
        .await?
    else {
        return Ok("a deleted plan".to_owned());
    };
    let name = versioned::find::<plan::Entity>(db, &pv.org_id, &pv.plan_id)
        .await
        .map_or_else(|_| pv.plan_id.clone(), |p| p.name);
    Ok(format!("{name} {}", pv.version))
}

/// "the contract of Client 1.0 with API 1.0", by the client's and the API's names.
async fn contract_label(
    db: &impl ConnectionTrait,
    cv: &client_version::Model,
    av: &api_version::Model,
) -> Result<String> {
    let client_name = versioned::find::<client::Entity>(db, &cv.org_id, &cv.client_id)
        .await?
        .name;
    let api_name = versioned::find::<api::Entity>(db, &av.org_id, &av.api_id)
        .await?
        .name;
    Ok(format!(
        "the contract of {client_name} {} with {api_name} {}",
        cv.version, av.version
    ))
}

/// Writes the same Change Log row on the client's and on the API's side.
async fn record_both(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    cv: &client_version::Model,
    av: &api_version::Model,
    what: &str,
    summary: String,
) -> Result<()> {
    versioned::record_action::<client::Entity>(txn, ctx, &client_ref(cv), what, summary.clone())
        .await?;
    versioned::record_action::<api::Entity>(txn, ctx, &api_ref(av), what, summary).await
}

/// Moves a contract to another plan of its API version, keeping the client version's key.
/// Needs clientEdit in the client's organization; the plan must be offered to the caller
/// (`Viewer::sees`). When the plan asks for approval and the caller may not approve it, the
/// change is a request: the old plan stays in force (at the gateway too) until an approver
/// accepts it, and a rejection keeps it. Otherwise the new plan is in force at once: the
/// gateway picks it up within a second, and its limits count from zero (counters are kept
/// per policy).
pub async fn change_plan(
    db: &impl Db,
    ctx: &Ctx,
    contract_id: i64,
    plan_id: &str,
) -> Result<lifecycle::PlanChange> {
    let txn = crate::db::write(db).await?;
    let c = load(&txn, contract_id).await?;
    let (cv, av) = versions_of(&txn, &c).await?;
    require_via_contract(&txn, ctx, &cv.org_id, Permission::ClientEdit).await?;
    let viewer = Viewer::of(&txn, ctx, &av.org_id).await?;
    let offered = api_plan::Entity::find_by_id((av.id, plan_id.to_owned()))
        .one(&txn)
        .await?
        .filter(|o| viewer.sees(o));
    let plan_status = match &offered {
        Some(o) => plan_version::Entity::find_by_id(o.plan_version_id)
            .one(&txn)
            .await?
            .and_then(|p| PlanStatus::parse(&p.status))
            .unwrap_or(PlanStatus::Created),
        None => PlanStatus::Created,
    };
    let change = lifecycle::change_contract_plan(PlanChangeFacts {
        client_status: client_status(&cv),
        api_status: ApiStatus::parse(&av.status).unwrap_or(ApiStatus::Created),
        contract_status: ContractStatus::parse(&c.status).unwrap_or(ContractStatus::Created),
        change_pending: c.requested_plan_version_id.is_some(),
        same_plan: offered
            .as_ref()
            .is_some_and(|o| o.plan_version_id == c.plan_version_id),
        plan_offered: offered.is_some(),
        plan_status,
        requires_approval: offered.as_ref().is_some_and(|o| o.requires_approval),
        requester_may_approve: viewer.may_approve,
    })?;
    let offered = offered.expect("change_contract_plan refuses a plan that is not offered");
    let (from, to) = (
        plan_label(&txn, c.plan_version_id).await?,
        plan_label(&txn, offered.plan_version_id).await?,
    );
    let label = contract_label(&txn, &cv, &av).await?;
    let mut m = c.into_active_model();
    match change {
        lifecycle::PlanChange::Immediate => {
            m.plan_version_id = Set(offered.plan_version_id);
        }
        lifecycle::PlanChange::AwaitingApproval => {
            m.requested_plan_version_id = Set(Some(offered.plan_version_id));
            m.requested_by = Set(Some(ctx.user_id.clone()));
            m.requested_on = Set(Some(now()));
        }
    }
    m.update(&txn).await?;
    let awaiting = change == lifecycle::PlanChange::AwaitingApproval;
    let summary = format!(
        "Changed the plan of {label} from {from} to {to}{}",
        if awaiting { " (awaiting approval)" } else { "" }
    );
    record_both(&txn, ctx, &cv, &av, "ChangePlan", summary).await?;
    if awaiting {
        let message = format!(
            "{} asks to move {label} from plan {from} to {to}.",
            ctx.display_name
        );
        for approver in notifications::members_with(&txn, &av.org_id, Permission::PlanAdmin).await?
        {
            notifications::notify(
                &txn,
                ctx,
                &approver,
                Reason::ApprovalRequested,
                message.clone(),
                Some("/approvals".to_owned()),
            )
            .await?;
        }
    } else {
        crate::gateway::bump(&txn).await?;
    }
    txn.commit().await?;
    Ok(change)
}

/// Approves (`reason` None) or rejects a change of plan awaiting approval: an approval puts the
/// requested plan in force, a rejection keeps the old one. The request is cleared and the
/// requester notified; both sides' Change Logs get the decision.
async fn decide_plan_change(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    (c, cv, av): Loaded,
    reason: Option<&str>,
) -> Result<()> {
    let requested = c
        .requested_plan_version_id
        .expect("decide_contract found a pending change of plan");
    let requester = c
        .requested_by
        .clone()
        .unwrap_or_else(|| c.created_by.clone());
    let (from, to) = (
        plan_label(txn, c.plan_version_id).await?,
        plan_label(txn, requested).await?,
    );
    let label = contract_label(txn, &cv, &av).await?;
    let mut m = c.into_active_model();
    if reason.is_none() {
        m.plan_version_id = Set(requested);
    }
    m.requested_plan_version_id = Set(None);
    m.requested_by = Set(None);
    m.requested_on = Set(None);
    m.update(txn).await?;
    let (what, summary, message, why) = match reason {
        None => (
            "Approve",
            format!("Approved the change of plan of {label} from {from} to {to}"),
            format!(
                "{} approved the change of plan of {label} from {from} to {to}. {to} is in force now.",
                ctx.display_name
            ),
            Reason::ContractApproved,
        ),
        Some(reason) => (
            "Reject",
            format!(
                "Rejected the change of plan of {label} from {from} to {to}: {reason}. The contract keeps {from}"
            ),
            format!(
                "{} rejected the change of plan of {label} to {to}: {reason}. The contract keeps {from}.",
                ctx.display_name
            ),
            Reason::ContractRejected,
        ),
    };
    record_both(txn, ctx, &cv, &av, what, summary).await?;
    notifications::notify(txn, ctx, &requester, why, message, Some(client_link(&cv))).await?;
    crate::gateway::bump(txn).await?;
    Ok(())
}

/// Breaks a contract from the provider's side, with a reason for the consumer. Needs planAdmin
/// in the API's organization (a contract of another organization reads as missing). The
/// contract is removed like a broken one (a Registered client version that loses its last
/// contract is retired); the client's owner and the contract's requester are notified, and the
/// gateway refuses the key for this API within a second.
pub async fn revoke(
    db: &impl Db,
    ctx: &Ctx,
    contract_id: i64,
    reason: &str,
) -> Result<ClientStatus> {
    let reason = reason_of(reason, "the consumer")?;
    let txn = crate::db::write(db).await?;
    let c = load(&txn, contract_id).await?;
    let (cv, av) = versions_of(&txn, &c).await?;
    require_via_contract(&txn, ctx, &av.org_id, Permission::PlanAdmin).await?;
    let label = contract_label(&txn, &cv, &av).await?;
    let owner = versioned::find::<client::Entity>(&txn, &cv.org_id, &cv.client_id)
        .await?
        .created_by;
    let summary = format!("Revoked {label}: {reason}");
    versioned::record_action::<api::Entity>(
        &txn,
        ctx,
        &api_ref(&av),
        "RevokeContract",
        summary.clone(),
    )
    .await?;
    let was = client_status(&cv);
    let cv = remove(&txn, ctx, cv, Some(&c), "RevokeContract", summary).await?;
    let status = client_status(&cv);
    let retired = if status == ClientStatus::Retired && was != ClientStatus::Retired {
        " It was its last contract: the client version is retired."
    } else {
        ""
    };
    let message = format!(
        "{} revoked {label}: {reason}. Calls with its API key to {} {} are refused from now on.{retired}",
        ctx.display_name, av.api_id, av.version
    );
    let mut recipients = vec![owner];
    if !recipients.contains(&c.created_by) {
        recipients.push(c.created_by.clone());
    }
    for r in recipients {
        notifications::notify(
            &txn,
            ctx,
            &r,
            Reason::ContractRevoked,
            message.clone(),
            Some(client_link(&cv)),
        )
        .await?;
    }
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(status)
}

/// The plans a contract may move to (those its API version offers and the caller may see, in
/// the API's order), for the Change plan dialog. Needs clientEdit in the client's organization.
pub async fn plan_choices(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    contract_id: i64,
) -> Result<PlanChoices> {
    let id = i32::try_from(contract_id).map_err(|_| contract_gone())?;
    let c = contract::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(contract_gone)?;
    let (cv, av) = versions_of(db, &c).await?;
    require_via_contract(db, ctx, &cv.org_id, Permission::ClientEdit).await?;
    let viewer = Viewer::of(db, ctx, &av.org_id).await?;
    let offers: Vec<api_plan::Model> = api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.eq(av.id))
        .order_by_asc(api_plan::Column::OrderIndex)
        .all(db)
        .await?
        .into_iter()
        .filter(|o| viewer.sees(o))
        .collect();
    let ids: Vec<i32> = offers.iter().map(|o| o.plan_version_id).collect();
    let pvs: HashMap<i32, plan_version::Model> = plan_version::Entity::find()
        .filter(plan_version::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut policies: HashMap<i32, Vec<policy::Model>> = HashMap::new();
    for p in policy::Entity::find()
        .filter(policy::Column::Kind.eq(domain::EntityKind::Plan.as_str()))
        .filter(policy::Column::OwnerVersionId.is_in(ids))
        .order_by_asc(policy::Column::OrderIndex)
        .all(db)
        .await?
    {
        policies.entry(p.owner_version_id).or_default().push(p);
    }
    let plan_names = names::<plan::Entity, _>(
        db,
        plan::Column::OrgId,
        pvs.values().map(|v| v.org_id.clone()).collect(),
        |p| (p.org_id.clone(), p.id.clone()),
        |p| p.name.clone(),
    )
    .await?;
    let plans = offers
        .into_iter()
        .filter_map(|o| {
            let pv = pvs.get(&o.plan_version_id)?;
            Some(PlanChoice {
                plan_name: plan_names
                    .get(&(pv.org_id.clone(), pv.plan_id.clone()))
                    .cloned()
                    .unwrap_or_else(|| pv.plan_id.clone()),
                plan_id: o.plan_id,
                plan_version: pv.version.clone(),
                current: o.plan_version_id == c.plan_version_id,
                needs_approval: lifecycle::contract_status(o.requires_approval, viewer.may_approve)
                    == ContractStatus::AwaitingApproval,
                limits: domain::portal::limits_summary(
                    policies
                        .get(&pv.id)
                        .into_iter()
                        .flatten()
                        .map(|p| (p.definition_id.as_str(), p.configuration.as_str())),
                ),
            })
        })
        .collect();
    let contract = to_dtos(db, vec![c])
        .await?
        .pop()
        .ok_or_else(contract_gone)?;
    Ok(PlanChoices { contract, plans })
}

/// Contracts awaiting approval in the organizations where the caller holds planAdmin.
async fn pending_for(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
) -> Result<Option<Select<contract::Entity>>> {
    let orgs: Vec<String> = crate::organizations::list_mine(db, ctx, Some(Permission::PlanAdmin))
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    if orgs.is_empty() {
        return Ok(None);
    }
    let versions = sea_orm::sea_query::Query::select()
        .column(api_version::Column::Id)
        .from(api_version::Entity)
        .and_where(api_version::Column::OrgId.is_in(orgs))
        .to_owned();
    Ok(Some(
        contract::Entity::find()
            .filter(
                Condition::any()
                    .add(contract::Column::Status.eq(ContractStatus::AwaitingApproval.as_str()))
                    .add(contract::Column::RequestedPlanVersionId.is_not_null()),
            )
            .filter(contract::Column::ApiVersionId.in_subquery(versions)),
    ))
}

pub(crate) async fn pending_count(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<u64> {
    Ok(match pending_for(db, ctx).await? {
        Some(q) => q.count(db).await?,
        None => 0,
    })
}

/// The approvals inbox: new contracts and changes of plan waiting for the caller's decision,
/// oldest request first.
pub async fn pending(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<ContractDto>> {
    let Some(q) = pending_for(db, ctx).await? else {
        return Ok(vec![]);
    };
    let mut rows = q.all(db).await?;
    rows.sort_by_key(|c| (c.requested_on.unwrap_or(c.created_on), c.id));
    to_dtos(db, rows).await
}

/// One page of contracts, newest first.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    q: Select<contract::Entity>,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    let (page, per_page) = (page.clamp(1, 1_000_000), per_page.clamp(1, 100));
    let paginator = q
        .order_by_desc(contract::Column::CreatedOn)
        .order_by_desc(contract::Column::Id)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: to_dtos(db, rows).await?,
        total,
        page,
        per_page,
    })
}

/// The contracts of a client version, paged. Needs clientView.
pub async fn of_client(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    client: &EntityRef,
    page_no: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    authz::require(db, ctx, &client.org_id, Permission::ClientView).await?;
    let cv =
        versioned::find_version::<client::Entity>(db, &client.org_id, &client.id, &client.version)
            .await?;
    let q = contract::Entity::find().filter(contract::Column::ClientVersionId.eq(cv.id));
    page(db, q, page_no, per_page).await
}

/// The contracts with an API version, paged. Needs apiView.
pub async fn of_api(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    api_ref: &EntityRef,
    page_no: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    authz::require(db, ctx, &api_ref.org_id, Permission::ApiView).await?;
    let av =
        versioned::find_version::<api::Entity>(db, &api_ref.org_id, &api_ref.id, &api_ref.version)
            .await?;
    let q = contract::Entity::find().filter(contract::Column::ApiVersionId.eq(av.id));
    page(db, q, page_no, per_page).await
}

/// Names by key, loaded in one query per table.
async fn names<E, K>(
    db: &impl ConnectionTrait,
    col: E::Column,
    keys: HashSet<String>,
    key: impl Fn(&E::Model) -> K,
    name: impl Fn(&E::Model) -> String,
) -> Result<HashMap<K, String>>
where
    E: EntityTrait,
    K: std::hash::Hash + Eq,
{
    Ok(E::find()
        .filter(col.is_in(keys))
        .all(db)
        .await?
        .iter()
        .map(|m| (key(m), name(m)))
        .collect())
}

/// Turns contract rows into DTOs with names, loading each table once.
pub(crate) async fn to_dtos(
    db: &impl ConnectionTrait,
    rows: Vec<contract::Model>,
) -> Result<Vec<ContractDto>> {
    let ids = |f: fn(&contract::Model) -> i32| rows.iter().map(f).collect::<HashSet<i32>>();
    let cvs: HashMap<i32, client_version::Model> = client_version::Entity::find()
        .filter(client_version::Column::Id.is_in(ids(|c| c.client_version_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let avs: HashMap<i32, api_version::Model> = api_version::Entity::find()
        .filter(api_version::Column::Id.is_in(ids(|c| c.api_version_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let plan_version_ids: HashSet<i32> = rows
        .iter()
        .flat_map(|c| [Some(c.plan_version_id), c.requested_plan_version_id])
        .flatten()
        .collect();
    let pvs: HashMap<i32, plan_version::Model> = plan_version::Entity::find()
        .filter(plan_version::Column::Id.is_in(plan_version_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let orgs: HashSet<String> = cvs
        .values()
        .map(|v| v.org_id.clone())
        .chain(avs.values().map(|v| v.org_id.clone()))
        .collect();
    let org_names = names::<organization::Entity, _>(
        db,
        organization::Column::Id,
        orgs.clone(),
        |o| o.id.clone(),
        |o| o.name.clone(),
    )
    .await?;
    let client_names = names::<client::Entity, _>(
        db,
        client::Column::OrgId,
        orgs.clone(),
        |c| (c.org_id.clone(), c.id.clone()),
        |c| c.name.clone(),
    )
    .await?;
    let api_names = names::<api::Entity, _>(
        db,
        api::Column::OrgId,
        orgs.clone(),
        |a| (a.org_id.clone(), a.id.clone()),
        |a| a.name.clone(),
    )
    .await?;
    let plan_names = names::<plan::Entity, _>(
        db,
        plan::Column::OrgId,
        orgs,
        |p| (p.org_id.clone(), p.id.clone()),
        |p| p.name.clone(),
    )
    .await?;
    let user_names = names::<user::Entity, _>(
        db,
        user::Column::Id,
        rows.iter()
            .flat_map(|c| [Some(c.created_by.clone()), c.requested_by.clone()])
            .flatten()
            .collect(),
        |u| u.id.clone(),
        |u| u.display_name.clone(),
    )
    .await?;
    let name = |m: &HashMap<(String, String), String>, org: &str, id: &str| {
        m.get(&(org.to_owned(), id.to_owned()))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    };
    let org_name = |id: &str| org_names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let user_name = |id: &str| {
        user_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "Deleted user".to_owned())
    };
    Ok(rows
        .into_iter()
        .filter_map(|c| {
            let (cv, av, pv) = (
                cvs.get(&c.client_version_id)?,
                avs.get(&c.api_version_id)?,
                pvs.get(&c.plan_version_id)?,
            );
            Some(ContractDto {
                id: i64::from(c.id),
                client_org_id: cv.org_id.clone(),
                client_org_name: org_name(&cv.org_id),
                client_id: cv.client_id.clone(),
                client_name: name(&client_names, &cv.org_id, &cv.client_id),
                client_version: cv.version.clone(),
                api_org_id: av.org_id.clone(),
                api_org_name: org_name(&av.org_id),
                api_id: av.api_id.clone(),
                api_name: name(&api_names, &av.org_id, &av.api_id),
                api_version: av.version.clone(),
                plan_id: pv.plan_id.clone(),
                plan_name: name(&plan_names, &pv.org_id, &pv.plan_id),
                plan_version: pv.version.clone(),
                status: ContractStatus::parse(&c.status).unwrap_or(ContractStatus::Created),
                gateway_url: crate::gateway::api_url(&av.org_id, &av.api_id, &av.version),
                requested_by: user_name(&c.created_by),
                created_on: c.created_on,
                pending_plan: c.requested_plan_version_id.and_then(|id| {
                    let pv = pvs.get(&id)?;
                    Some(PendingPlan {
                        plan_id: pv.plan_id.clone(),
                        plan_name: name(&plan_names, &pv.org_id, &pv.plan_id),
                        plan_version: pv.version.clone(),
                        requested_by: user_name(c.requested_by.as_deref().unwrap_or_default()),
                        requested_on: c.requested_on.unwrap_or(c.created_on),
                    })
                }),
            })
        })
        .collect())
}

/// The plans an API version offers, in order, as DTOs (`visible` filters them).
pub(crate) async fn offered_plans(
    db: &impl ConnectionTrait,
    api_version_ids: Vec<i32>,
) -> Result<HashMap<i32, Vec<ApiPlanDto>>> {
    let rows = api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.is_in(api_version_ids))
        .order_by_asc(api_plan::Column::OrderIndex)
        .all(db)
        .await?;
    let pvs: HashMap<i32, plan_version::Model> = plan_version::Entity::find()
        .filter(plan_version::Column::Id.is_in(rows.iter().map(|r| r.plan_version_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let plan_names = names::<plan::Entity, _>(
        db,
        plan::Column::OrgId,
        pvs.values().map(|v| v.org_id.clone()).collect(),
        |p| (p.org_id.clone(), p.id.clone()),
        |p| p.name.clone(),
    )
    .await?;
    let mut out: HashMap<i32, Vec<ApiPlanDto>> = HashMap::new();
    for r in rows {
        let Some(pv) = pvs.get(&r.plan_version_id) else {
            continue;
        };
        out.entry(r.api_version_id).or_default().push(ApiPlanDto {
            plan_name: plan_names
                .get(&(pv.org_id.clone(), pv.plan_id.clone()))
                .cloned()
                .unwrap_or_else(|| pv.plan_id.clone()),
            plan_id: r.plan_id,
            plan_version: pv.version.clone(),
            requires_approval: r.requires_approval,
            discoverability: Discoverability::parse(&r.discoverability)
                .unwrap_or(Discoverability::OrgMembers),
        });
    }
    Ok(out)
}

/// Published API versions the caller may sign a contract with, and the plans visible to them:
/// every plan in organizations where the caller holds apiView, otherwise those discoverable by
/// all users. Sorted by organization, API and version.
pub async fn offers(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<ApiOffer>> {
    authz::require_management(ctx)?;
    let member_orgs: HashSet<String> =
        crate::organizations::list_mine(db, ctx, Some(Permission::ApiView))
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
    let published = api_version::Entity::find()
        .filter(api_version::Column::Status.eq(ApiStatus::Published.as_str()))
        .all(db)
        .await?;
    let mut plans = offered_plans(db, published.iter().map(|v| v.id).collect()).await?;
    let orgs: HashSet<String> = published.iter().map(|v| v.org_id.clone()).collect();
    let org_names = names::<organization::Entity, _>(
        db,
        organization::Column::Id,
        orgs.clone(),
        |o| o.id.clone(),
        |o| o.name.clone(),
    )
    .await?;
    let api_names = names::<api::Entity, _>(
        db,
        api::Column::OrgId,
        orgs,
        |a| (a.org_id.clone(), a.id.clone()),
        |a| a.name.clone(),
    )
    .await?;
    let mut out: Vec<ApiOffer> = published
        .into_iter()
        .filter_map(|v| {
            let member = member_orgs.contains(&v.org_id);
            let visible: Vec<ApiPlanDto> = plans
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.discoverability.visible_to(true, member))
                .collect();
            (!visible.is_empty()).then(|| ApiOffer {
                org_name: org_names.get(&v.org_id).cloned().unwrap_or_default(),
                api_name: api_names
                    .get(&(v.org_id.clone(), v.api_id.clone()))
                    .cloned()
                    .unwrap_or_default(),
                org_id: v.org_id,
                api_id: v.api_id,
                version: v.version,
                plans: visible,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (
            a.org_name.to_lowercase(),
            a.api_name.to_lowercase(),
            &a.version,
        )
            .cmp(&(
                b.org_name.to_lowercase(),
                b.api_name.to_lowercase(),
                &b.version,
            ))
    });
    Ok(out)
}
