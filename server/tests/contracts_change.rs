//! Changing a contract's plan and revoking a contract from the provider's side, through the real
//! router on SQLite and PostgreSQL: every action and refusal, what the gateway snapshot holds
//! (the old plan until a change is approved), Change Log rows on both sides, notifications, and
//! a gateway node that answers by the new plan within a second with its limits counting from
//! zero.

mod common;

use std::time::{Duration, Instant};

use app::api::contracts::{
    ApproveContract, ChangeContractPlan, ClientContracts, ContractPlanChoices, CreateContract,
    GetInboxCounts, ListNotifications, PendingApprovals, RejectContract, RevokeContract,
};
use app::api::entities::{CreateEntity, EntityChangeLog, GetClientVersion};
use app::api::lifecycle::{RunVersionAction, SetApiPlans};
use app::api::orgs::{AddMember, CreateOrg};
use app::api::policies::AddPolicy;
use app::api::portal::{PortalChangePlan, PortalPlanChoices};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PASSWORD, TestApp};
use domain::dto::{
    AuditEntryDto, ClientVersionDetail, ContractDto, InboxCounts, NotificationDto, Page,
    PlanChoices,
};
use domain::lifecycle::PlanChange;
use domain::{ClientStatus, ContractStatus, Role};
use serde_json::json;
use tower::ServiceExt;

const PROVIDER: &str = "pat@example.com";
const CONSUMER: &str = "cody@example.com";
const STRANGER: &str = "sam@example.com";

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

fn refused(r: &common::Reply, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.error().message().contains(message),
        "expected '{message}' in {}",
        r.body
    );
}

async fn as_user(app: &mut TestApp, email: &str) {
    app.sign_out().await;
    ok(app.sign_in(email, PASSWORD).await).await;
}

async fn create(app: &mut TestApp, kind: &str, org: &str, name: &str, endpoint: &str) {
    ok(app
        .call::<CreateEntity>(&[
            ("kind", kind),
            ("org", org),
            ("name", name),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", endpoint),
        ])
        .await)
    .await;
}

async fn action(app: &mut TestApp, kind: &str, org: &str, id: &str, what: &str) -> common::Reply {
    app.call::<RunVersionAction>(&[
        ("kind", kind),
        ("org", org),
        ("id", id),
        ("version", "1.0"),
        ("action", what),
    ])
    .await
}

/// The provider's plans: name, rate limit per minute, requires approval, discoverability.
const PLANS: [(&str, u64, bool, &str); 4] = [
    ("Gold", 5, true, "all_users"),
    ("Silver", 3, false, "all_users"),
    ("Bronze", 2, false, "all_users"),
    ("Secret", 9, false, "org_members"),
];

/// Provider Co offers the locked plans of [`PLANS`] (each with a Rate Limiting policy per
/// client) through the published Weather 1.0 and, Bronze and Silver only, Maps 1.0, both at
/// `endpoint`. Consumer Co has client App 1.0. Ends signed in as the consumer.
async fn world(app: &mut TestApp, endpoint: &str) {
    ok(app.sign_up(PROVIDER, "Pat Provider").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Provider Co"), ("description", "")])
        .await)
    .await;
    for (plan, limit, _, _) in PLANS {
        create(app, "Plan", "ProviderCo", plan, "").await;
        ok(app
            .call_json::<AddPolicy>(json!({
                "kind": "Plan", "org": "ProviderCo", "id": plan, "version": "1.0",
                "definition_id": "rate-limiting",
                "configuration": json!({"limit": limit, "granularity": "Client", "period": "Minute"}).to_string(),
                "position": null,
            }))
            .await)
        .await;
        ok(action(app, "Plan", "ProviderCo", plan, "Lock").await).await;
    }
    for api in ["Weather", "Maps"] {
        create(app, "Api", "ProviderCo", api, endpoint).await;
    }
    let offer = |names: &[&str]| {
        PLANS
            .iter()
            .filter(|p| names.contains(&p.0))
            .map(|(plan, _, approval, d)| {
                json!({"plan_id": plan, "plan_version": "1.0", "requires_approval": approval, "discoverability": d})
            })
            .collect::<Vec<_>>()
    };
    for (api, plans) in [
        ("Weather", offer(&["Gold", "Silver", "Bronze", "Secret"])),
        ("Maps", offer(&["Silver", "Bronze"])),
    ] {
        ok(app
            .call_json::<SetApiPlans>(json!({
                "org": "ProviderCo", "api": api, "version": "1.0", "plans": plans
            }))
            .await)
        .await;
        ok(action(app, "Api", "ProviderCo", api, "Publish").await).await;
    }
    app.sign_out().await;
    ok(app.sign_up(STRANGER, "Sam Stranger").await).await;
    app.sign_out().await;
    ok(app.sign_up(CONSUMER, "Cody Consumer").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Consumer Co"), ("description", "")])
        .await)
    .await;
    create(app, "Client", "ConsumerCo", "App", "").await;
}

async fn contract(app: &mut TestApp, api: &str, plan: &str) -> common::Reply {
    app.call::<CreateContract>(&[
        ("org", "ConsumerCo"),
        ("client", "App"),
        ("version", "1.0"),
        ("api_org", "ProviderCo"),
        ("api", api),
        ("api_version", "1.0"),
        ("plan", plan),
    ])
    .await
}

async fn contracts(app: &mut TestApp) -> Vec<ContractDto> {
    let page: Page<ContractDto> = ok(app
        .call::<ClientContracts>(&[
            ("org", "ConsumerCo"),
            ("client", "App"),
            ("version", "1.0"),
            ("page", "1"),
            ("per_page", "25"),
        ])
        .await)
    .await
    .json();
    page.items
}

async fn the_contract(app: &mut TestApp, api: &str) -> ContractDto {
    contracts(app)
        .await
        .into_iter()
        .find(|c| c.api_id == api)
        .unwrap_or_else(|| panic!("no contract with {api}"))
}

async fn client(app: &mut TestApp) -> ClientVersionDetail {
    ok(app
        .call::<GetClientVersion>(&[("org", "ConsumerCo"), ("client", "App"), ("version", "1.0")])
        .await)
    .await
    .json()
}

async fn change(app: &mut TestApp, id: i64, plan: &str) -> common::Reply {
    app.call::<ChangeContractPlan>(&[("id", &id.to_string()), ("plan", plan)])
        .await
}

async fn revoke(app: &mut TestApp, id: i64, reason: &str) -> common::Reply {
    app.call::<RevokeContract>(&[("id", &id.to_string()), ("reason", reason)])
        .await
}

async fn change_log(app: &mut TestApp, kind: &str, org: &str, id: &str) -> Vec<AuditEntryDto> {
    let page: Page<AuditEntryDto> = ok(app
        .call::<EntityChangeLog>(&[
            ("kind", kind),
            ("org", org),
            ("id", id),
            ("page", "1"),
            ("per_page", "100"),
        ])
        .await)
    .await
    .json();
    page.items
}

/// The Change Log summaries of action `what` on the client App (read as the consumer) and on
/// the API `api` (read as the provider). Ends signed in as `then`.
async fn both_logs(
    app: &mut TestApp,
    api: &str,
    what: &str,
    then: &str,
) -> (Vec<String>, Vec<String>) {
    let pick = |rows: Vec<AuditEntryDto>| -> Vec<String> {
        rows.into_iter()
            .filter(|e| e.what == what)
            .map(|e| e.summary)
            .collect()
    };
    as_user(app, CONSUMER).await;
    let client_rows = change_log(app, "Client", "ConsumerCo", "App").await;
    as_user(app, PROVIDER).await;
    let api_rows = change_log(app, "Api", "ProviderCo", api).await;
    as_user(app, then).await;
    (pick(client_rows), pick(api_rows))
}

async fn notifications(app: &mut TestApp) -> Vec<NotificationDto> {
    ok(app.call::<ListNotifications>(&[]).await).await.json()
}

/// The plan version id the gateway snapshot enforces for App 1.0's contract with `api`.
async fn gateway_plan(app: &TestApp, api: &str) -> Option<i32> {
    let snapshot = service::gateway::load_snapshot(&app.db).await.unwrap();
    let client = &snapshot
        .keys
        .values()
        .find(|k| &*k.client.client_id == "App")?
        .client;
    client
        .contract(&format!("ProviderCo/{api}/1.0"))
        .map(|c| c.plan_version_id)
}

/// The id of plan `plan` 1.0.
async fn plan_version_id(app: &TestApp, plan: &str) -> i32 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    service::entities::plan_version::Entity::find()
        .filter(service::entities::plan_version::Column::PlanId.eq(plan))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A consumer's contract with Weather on Bronze, the client version registered.
async fn registered_on_bronze(app: &mut TestApp) -> ContractDto {
    ok(contract(app, "Weather", "Bronze").await).await;
    ok(action(app, "Client", "ConsumerCo", "App", "Register").await).await;
    the_contract(app, "Weather").await
}

on_both!(
    an_immediate_change_takes_effect_at_once_keeping_the_key,
    |app| {
        world(&mut app, "https://backend.example.com/v1").await;
        let c = registered_on_bronze(&mut app).await;
        let key_before = client(&mut app).await.keys;
        assert_eq!(
            gateway_plan(&app, "Weather").await,
            Some(plan_version_id(&app, "Bronze").await)
        );

        // The dialog's choices: the plans visible to the consumer (not the members-only Secret).
        let choices: PlanChoices = ok(app
            .call::<ContractPlanChoices>(&[("id", &c.id.to_string())])
            .await)
        .await
        .json();
        let names: Vec<(&str, bool, bool)> = choices
            .plans
            .iter()
            .map(|p| (p.plan_id.as_str(), p.current, p.needs_approval))
            .collect();
        assert_eq!(
            names,
            [
                ("Gold", false, true),
                ("Silver", false, false),
                ("Bronze", true, false)
            ]
        );
        assert_eq!(choices.plans[1].limits, ["3 requests per Minute"]);

        let r = ok(change(&mut app, c.id, "Silver").await).await;
        assert_eq!(r.json::<PlanChange>(), PlanChange::Immediate);
        let after = the_contract(&mut app, "Weather").await;
        assert_eq!((after.id, after.plan_id.as_str()), (c.id, "Silver"));
        assert_eq!(after.pending_plan, None);
        assert_eq!(after.created_on, c.created_on);
        // In force at the gateway without Re-register, with the same key.
        let d = client(&mut app).await;
        assert_eq!(d.status, ClientStatus::Registered);
        assert!(!d.unpublished_changes);
        assert_eq!(d.keys, key_before);
        assert_eq!(
            gateway_plan(&app, "Weather").await,
            Some(plan_version_id(&app, "Silver").await)
        );
        let (client_log, api_log) = both_logs(&mut app, "Weather", "ChangePlan", CONSUMER).await;
        let expected = "Changed the plan of the contract of App 1.0 with Weather 1.0 from Bronze 1.0 to Silver 1.0";
        assert_eq!(client_log, [expected]);
        assert_eq!(api_log, [expected]);

        // From the portal's My Clients too.
        let r = ok(app
            .call::<PortalChangePlan>(&[("id", &c.id.to_string()), ("plan", "Bronze")])
            .await)
        .await;
        assert_eq!(r.json::<PlanChange>(), PlanChange::Immediate);
        let portal: PlanChoices = ok(app
            .call::<PortalPlanChoices>(&[("id", &c.id.to_string())])
            .await)
        .await
        .json();
        assert!(
            portal
                .plans
                .iter()
                .any(|p| p.plan_id == "Bronze" && p.current)
        );
        assert_eq!(the_contract(&mut app, "Weather").await.plan_id, "Bronze");
    }
);

on_both!(
    a_change_needing_approval_keeps_the_old_plan_until_approved,
    |app| {
        world(&mut app, "https://backend.example.com/v1").await;
        let c = registered_on_bronze(&mut app).await;
        let bronze = plan_version_id(&app, "Bronze").await;
        let r = ok(change(&mut app, c.id, "Gold").await).await;
        assert_eq!(r.json::<PlanChange>(), PlanChange::AwaitingApproval);

        // The old plan holds: in the contract, at the gateway, and the client stays Registered.
        let waiting = the_contract(&mut app, "Weather").await;
        assert_eq!(waiting.plan_id, "Bronze");
        assert_eq!(waiting.status, ContractStatus::Created);
        let pending = waiting.pending_plan.clone().expect("a pending change");
        assert_eq!(
            (pending.plan_id.as_str(), pending.requested_by.as_str()),
            ("Gold", "Cody Consumer")
        );
        assert_eq!(client(&mut app).await.status, ClientStatus::Registered);
        assert_eq!(gateway_plan(&app, "Weather").await, Some(bronze));
        let (client_log, api_log) = both_logs(&mut app, "Weather", "ChangePlan", CONSUMER).await;
        let expected = "Changed the plan of the contract of App 1.0 with Weather 1.0 from Bronze 1.0 to Gold 1.0 (awaiting approval)";
        assert_eq!(
            (client_log, api_log),
            (vec![expected.to_owned()], vec![expected.to_owned()])
        );

        // One request at a time.
        let r = change(&mut app, c.id, "Silver").await;
        refused(&r, StatusCode::CONFLICT, "already awaits approval");
        // Deciding is the provider's: the consumer cannot approve its own request.
        let r = app
            .call::<ApproveContract>(&[("id", &c.id.to_string()), ("register", "false")])
            .await;
        refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");

        as_user(&mut app, PROVIDER).await;
        let counts: InboxCounts = ok(app.call::<GetInboxCounts>(&[]).await).await.json();
        assert_eq!(counts.pending_approvals, 1);
        let inbox: Vec<ContractDto> = ok(app.call::<PendingApprovals>(&[]).await).await.json();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].plan_id, "Bronze");
        assert_eq!(inbox[0].pending_plan.as_ref().unwrap().plan_id, "Gold");
        let asked = notifications(&mut app).await;
        assert!(
            asked.iter().any(|n| n.reason == "approval_requested"
                && n.message.contains("from plan Bronze 1.0 to Gold 1.0")),
            "{asked:?}"
        );
        let r = ok(app
            .call::<ApproveContract>(&[("id", &c.id.to_string()), ("register", "true")])
            .await)
        .await;
        assert_eq!(r.json::<ClientStatus>(), ClientStatus::Registered);
        let counts: InboxCounts = ok(app.call::<GetInboxCounts>(&[]).await).await.json();
        assert_eq!(counts.pending_approvals, 0);
        // Already decided.
        let r = app
            .call::<ApproveContract>(&[("id", &c.id.to_string()), ("register", "false")])
            .await;
        refused(&r, StatusCode::CONFLICT, "already approved");

        as_user(&mut app, CONSUMER).await;
        let approved = the_contract(&mut app, "Weather").await;
        assert_eq!(
            (approved.plan_id.as_str(), approved.pending_plan),
            ("Gold", None)
        );
        assert_eq!(
            gateway_plan(&app, "Weather").await,
            Some(plan_version_id(&app, "Gold").await)
        );
        let told = notifications(&mut app).await;
        assert!(
            told.iter().any(|n| n.reason == "contract_approved"
                && n.message.contains("approved the change of plan")
                && n.link.as_deref() == Some("/orgs/ConsumerCo/clients/App/1.0/contracts")),
            "{told:?}"
        );
        let (client_log, api_log) = both_logs(&mut app, "Weather", "Approve", CONSUMER).await;
        let expected = "Approved the change of plan of the contract of App 1.0 with Weather 1.0 from Bronze 1.0 to Gold 1.0";
        assert_eq!(
            (client_log, api_log),
            (vec![expected.to_owned()], vec![expected.to_owned()])
        );
    }
);

on_both!(a_rejected_change_keeps_the_old_plan, |app| {
    world(&mut app, "https://backend.example.com/v1").await;
    let c = registered_on_bronze(&mut app).await;
    ok(change(&mut app, c.id, "Gold").await).await;
    as_user(&mut app, PROVIDER).await;
    let r = app
        .call::<RejectContract>(&[("id", &c.id.to_string()), ("reason", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error().field("reason").is_some(), "{}", r.body);
    ok(app
        .call::<RejectContract>(&[
            ("id", &c.id.to_string()),
            ("reason", "Gold is for partners."),
        ])
        .await)
    .await;

    as_user(&mut app, CONSUMER).await;
    let kept = the_contract(&mut app, "Weather").await;
    assert_eq!((kept.id, kept.plan_id.as_str()), (c.id, "Bronze"));
    assert_eq!(kept.pending_plan, None);
    assert_eq!(client(&mut app).await.status, ClientStatus::Registered);
    assert_eq!(
        gateway_plan(&app, "Weather").await,
        Some(plan_version_id(&app, "Bronze").await)
    );
    let told = notifications(&mut app).await;
    assert!(
        told.iter().any(|n| n.reason == "contract_rejected"
            && n.message.contains("Gold is for partners.")
            && n.message.contains("keeps Bronze 1.0")),
        "{told:?}"
    );
    let (client_log, api_log) = both_logs(&mut app, "Weather", "Reject", CONSUMER).await;
    assert_eq!(client_log.len(), 1, "{client_log:?}");
    assert_eq!(client_log, api_log);
    assert!(
        client_log[0].contains("Gold is for partners."),
        "{client_log:?}"
    );
    // A new request may follow.
    ok(change(&mut app, c.id, "Gold").await).await;
});

on_both!(every_refusal_of_a_change_with_its_message, |app| {
    world(&mut app, "https://backend.example.com/v1").await;
    let c = registered_on_bronze(&mut app).await;
    let id = c.id.to_string();
    let before = app.count("audit_entries").await;

    // A plan hidden from the consumer reads as not offered, like one that does not exist.
    for plan in ["Secret", "Platinum"] {
        let r = change(&mut app, c.id, plan).await;
        refused(&r, StatusCode::CONFLICT, "does not offer this plan");
    }
    let r = change(&mut app, c.id, "Bronze").await;
    refused(&r, StatusCode::CONFLICT, "already uses this plan");
    // No such contract.
    let r = change(&mut app, 999_999, "Silver").await;
    refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");
    assert_eq!(
        app.count("audit_entries").await,
        before,
        "refusals write nothing"
    );

    // A contract that itself awaits approval.
    ok(contract(&mut app, "Maps", "Bronze").await).await;
    create(&mut app, "Client", "ConsumerCo", "Other", "").await;
    ok(app
        .call::<CreateContract>(&[
            ("org", "ConsumerCo"),
            ("client", "Other"),
            ("version", "1.0"),
            ("api_org", "ProviderCo"),
            ("api", "Weather"),
            ("api_version", "1.0"),
            ("plan", "Gold"),
        ])
        .await)
    .await;
    let all: Page<ContractDto> = ok(app
        .call::<ClientContracts>(&[
            ("org", "ConsumerCo"),
            ("client", "Other"),
            ("version", "1.0"),
            ("page", "1"),
            ("per_page", "25"),
        ])
        .await)
    .await
    .json();
    let awaiting = all.items[0].id;
    let r = change(&mut app, awaiting, "Silver").await;
    refused(&r, StatusCode::CONFLICT, "still awaits approval");

    // Someone outside the consumer's organization learns nothing.
    let before = app.count("audit_entries").await;
    as_user(&mut app, STRANGER).await;
    let r = change(&mut app, c.id, "Silver").await;
    refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");
    let r = app.call::<ContractPlanChoices>(&[("id", &id)]).await;
    refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");
    // The provider neither: changing the plan is the consumer's.
    as_user(&mut app, PROVIDER).await;
    let r = change(&mut app, c.id, "Silver").await;
    refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");
    assert_eq!(
        app.count("audit_entries").await,
        before,
        "refusals write nothing"
    );

    // A retired API version takes no plan changes.
    ok(action(&mut app, "Api", "ProviderCo", "Maps", "Retire").await).await;
    as_user(&mut app, CONSUMER).await;
    let maps = the_contract(&mut app, "Maps").await;
    let r = change(&mut app, maps.id, "Silver").await;
    refused(&r, StatusCode::CONFLICT, "published API");

    let before = app.count("audit_entries").await;
    let r = change(&mut app, maps.id, "Silver").await;
    refused(&r, StatusCode::CONFLICT, "published API");
    assert_eq!(
        app.count("audit_entries").await,
        before,
        "refusals write nothing"
    );
    assert_eq!(the_contract(&mut app, "Weather").await.plan_id, "Bronze");
});

on_both!(
    the_provider_revokes_with_a_reason_and_the_consumer_is_told,
    |app| {
        world(&mut app, "https://backend.example.com/v1").await;
        // A second member of the consumer's organization makes the Maps contract.
        ok(app
            .call::<AddMember>(&[
                ("org", "ConsumerCo"),
                ("email", STRANGER),
                ("role", Role::ClientAppDeveloper.as_str()),
            ])
            .await)
        .await;
        ok(contract(&mut app, "Weather", "Bronze").await).await;
        as_user(&mut app, STRANGER).await;
        ok(contract(&mut app, "Maps", "Bronze").await).await;
        ok(action(&mut app, "Client", "ConsumerCo", "App", "Register").await).await;
        let weather = the_contract(&mut app, "Weather").await;
        let maps = the_contract(&mut app, "Maps").await;

        // The consumer cannot revoke through the provider's path.
        let r = revoke(&mut app, weather.id, "Not needed").await;
        refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");

        as_user(&mut app, PROVIDER).await;
        let r = revoke(&mut app, weather.id, " ").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.error()
                .field("reason")
                .is_some_and(|m| m.contains("Say why")),
            "{}",
            r.body
        );
        let r = revoke(&mut app, weather.id, &"x".repeat(501)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.error().field("reason").is_some(), "{}", r.body);
        let r = revoke(&mut app, 999_999, "Gone").await;
        refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");

        let r = ok(revoke(&mut app, weather.id, "Abuse of the free tier.").await).await;
        assert_eq!(r.json::<ClientStatus>(), ClientStatus::Registered);
        let r = revoke(&mut app, weather.id, "Twice").await;
        refused(&r, StatusCode::NOT_FOUND, "This contract no longer exists.");
        assert_eq!(gateway_plan(&app, "Weather").await, None);
        assert!(gateway_plan(&app, "Maps").await.is_some());

        as_user(&mut app, CONSUMER).await;
        let told = notifications(&mut app).await;
        let n = told
            .iter()
            .find(|n| n.reason == "contract_revoked")
            .unwrap_or_else(|| panic!("{told:?}"));
        assert!(n.message.contains("Abuse of the free tier."), "{n:?}");
        assert!(n.message.contains("Pat Provider revoked"), "{n:?}");
        assert_eq!(
            n.link.as_deref(),
            Some("/orgs/ConsumerCo/clients/App/1.0/contracts")
        );
        let (client_log, api_log) =
            both_logs(&mut app, "Weather", "RevokeContract", CONSUMER).await;
        let expected =
            "Revoked the contract of App 1.0 with Weather 1.0: Abuse of the free tier.".to_owned();
        assert_eq!(
            (client_log, api_log),
            (vec![expected.clone()], vec![expected])
        );
        // The Maps contract's requester is told too, and the last contract's revocation retires
        // the client version.
        as_user(&mut app, PROVIDER).await;
        let r = ok(revoke(&mut app, maps.id, "Maps is closing.").await).await;
        assert_eq!(r.json::<ClientStatus>(), ClientStatus::Retired);
        for who in [CONSUMER, STRANGER] {
            as_user(&mut app, who).await;
            let told = notifications(&mut app).await;
            assert!(
                told.iter().any(|n| n.reason == "contract_revoked"
                    && n.message.contains("Maps is closing.")
                    && n.message.contains("retired")),
                "{who}: {told:?}"
            );
        }
        assert_eq!(client(&mut app).await.status, ClientStatus::Retired);
        assert!(contracts(&mut app).await.is_empty());
        let snapshot = service::gateway::load_snapshot(&app.db).await.unwrap();
        assert!(
            snapshot
                .keys
                .values()
                .all(|k| &*k.client.client_id != "App")
        );
    }
);

on_both!(revoke_needs_plan_admin_in_the_apis_organization, |app| {
    world(&mut app, "https://backend.example.com/v1").await;
    let c = registered_on_bronze(&mut app).await;
    // A viewer of the provider's organization sees the contract but may not revoke it.
    as_user(&mut app, PROVIDER).await;
    ok(app
        .call::<AddMember>(&[
            ("org", "ProviderCo"),
            ("email", STRANGER),
            ("role", Role::Viewer.as_str()),
        ])
        .await)
    .await;
    as_user(&mut app, STRANGER).await;
    let r = revoke(&mut app, c.id, "No").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    as_user(&mut app, CONSUMER).await;
    assert_eq!(contracts(&mut app).await.len(), 1);
});

async fn backend() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A call to Weather 1.0 through `node`: the status and the `X-RateLimit-Limit` and
/// `X-RateLimit-Remaining` values (the plan in force, and what is left of it).
async fn call(node: &axum::Router, key: &str) -> (StatusCode, String, String) {
    let req = Request::builder()
        .uri("/ProviderCo/Weather/1.0/forecast")
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    let res = node.clone().oneshot(req).await.unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    (
        res.status(),
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
    )
}

/// Calls until the node answers with `limit`, for at most a second.
async fn within_a_second(node: &axum::Router, key: &str, limit: &str) -> (StatusCode, String) {
    let start = Instant::now();
    loop {
        let (status, l, remaining) = call(node, key).await;
        if l == limit {
            return (status, remaining);
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the node still answers by limit {l} after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both!(
    the_gateway_follows_the_change_within_a_second_with_fresh_limits,
    |app| {
        let backend = backend().await;
        world(&mut app, &format!("http://{backend}/v1")).await;
        let c = registered_on_bronze(&mut app).await;
        let key_id = domain::dto::ApiKeyDto::current(&client(&mut app).await.keys)
            .expect("a working key")
            .id
            .to_string();
        let key: String = app
            .call::<app::api::keys::ShowApiKey>(&[
                ("org", "ConsumerCo"),
                ("client", "App"),
                ("version", "1.0"),
                ("key_id", key_id.as_str()),
            ])
            .await
            .json();
        let db = common::connect(&app.url).await;
        let gw = gateway::Gateway::new(service::gateway::load_snapshot(&db).await.unwrap());
        let watcher = tokio::spawn(gw.clone().watch(db.clone()));
        let node = gateway::router(gw);

        // Bronze: 2 a minute, used up.
        assert_eq!(
            call(&node, &key).await,
            (StatusCode::OK, "2".into(), "1".into())
        );
        assert_eq!(
            call(&node, &key).await,
            (StatusCode::OK, "2".into(), "0".into())
        );
        assert_eq!(call(&node, &key).await.0, StatusCode::TOO_MANY_REQUESTS);

        // A change to Gold awaits approval: Bronze holds meanwhile.
        ok(change(&mut app, c.id, "Gold").await).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (status, limit, _) = call(&node, &key).await;
        assert_eq!(
            (status, limit.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "2")
        );

        // Approved: Gold within a second, its 5 counting from zero.
        as_user(&mut app, PROVIDER).await;
        ok(app
            .call::<ApproveContract>(&[("id", &c.id.to_string()), ("register", "false")])
            .await)
        .await;
        let (status, remaining) = within_a_second(&node, &key, "5").await;
        assert_eq!((status, remaining.as_str()), (StatusCode::OK, "4"));

        // An immediate change to Silver: within a second, 3 counting from zero.
        as_user(&mut app, CONSUMER).await;
        ok(change(&mut app, c.id, "Silver").await).await;
        let (status, remaining) = within_a_second(&node, &key, "3").await;
        assert_eq!((status, remaining.as_str()), (StatusCode::OK, "2"));

        // Revoked by the provider: the key is refused for Weather within a second.
        as_user(&mut app, PROVIDER).await;
        ok(revoke(&mut app, c.id, "Closing the free tier.").await).await;
        let start = Instant::now();
        while call(&node, &key).await.0 == StatusCode::OK {
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "the node still accepts the key after 1 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        watcher.abort();
        let _ = watcher.await;
        db.close().await.ok();
    }
);
