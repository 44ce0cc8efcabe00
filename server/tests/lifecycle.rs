//! Lifecycles through the real router on SQLite and PostgreSQL: contracts and their rules,
//! approval, register / re-register / unregister, delete, clones, API publish / retire, plan
//! lock, notifications, and the Change Log rows each action writes (or does not, when refused).

mod common;

use app::api::contracts::{
    ApproveContract, BreakAllContracts, BreakContract, ClientContracts, CreateContract,
    GetInboxCounts, ListNotifications, MarkNotificationsRead, PendingApprovals, RejectContract,
};
use app::api::entities::{CreateEntity, EntityChangeLog, GetApiVersion, GetClientVersion};
use app::api::lifecycle::{
    DeleteEntity, NewVersion, RunVersionAction, SetApiPlans, UpdateApiDefinition,
    UpdateApiImplementation,
};
use app::api::orgs::CreateOrg;
use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use domain::dto::{
    ApiVersionDetail, AuditEntryDto, ClientVersionDetail, ContractDto, InboxCounts,
    NotificationDto, Page,
};
use domain::{ApiStatus, ClientStatus, ContractStatus};
use serde_json::json;

const PROVIDER: &str = "pat@example.com";
const CONSUMER: &str = "cody@example.com";

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
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

async fn action(
    app: &mut TestApp,
    kind: &str,
    org: &str,
    id: &str,
    version: &str,
    what: &str,
) -> common::Reply {
    app.call::<RunVersionAction>(&[
        ("kind", kind),
        ("org", org),
        ("id", id),
        ("version", version),
        ("action", what),
    ])
    .await
}

async fn offer(app: &mut TestApp, api: &str, plans: serde_json::Value) -> common::Reply {
    app.call_json::<SetApiPlans>(json!({
        "org": "ProviderCo", "api": api, "version": "1.0", "plans": plans
    }))
    .await
}

/// The provider's organization with plans Gold (requires approval) and Bronze, both locked,
/// offered to all users by the published API Weather 1.0; and Maps 1.0 offering Bronze.
/// The consumer's organization with client App 1.0. Ends signed in as the consumer.
async fn world(app: &mut TestApp) {
    ok(app.sign_up(PROVIDER, "Pat Provider").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Provider Co"), ("description", "")])
        .await)
    .await;
    for plan in ["Gold", "Bronze"] {
        create(app, "Plan", "ProviderCo", plan, "").await;
        ok(action(app, "Plan", "ProviderCo", plan, "1.0", "Lock").await).await;
    }
    for api in ["Weather", "Maps"] {
        create(
            app,
            "Api",
            "ProviderCo",
            api,
            "https://backend.example.com/v1",
        )
        .await;
    }
    let plans = json!([
        {"plan_id": "Gold", "plan_version": "1.0", "requires_approval": true, "discoverability": "all_users"},
        {"plan_id": "Bronze", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"},
    ]);
    ok(offer(app, "Weather", plans).await).await;
    let bronze = json!([{"plan_id": "Bronze", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"}]);
    ok(offer(app, "Maps", bronze).await).await;
    for api in ["Weather", "Maps"] {
        ok(action(app, "Api", "ProviderCo", api, "1.0", "Publish").await).await;
    }
    app.sign_out().await;
    ok(app.sign_up(CONSUMER, "Cody Consumer").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Consumer Co"), ("description", "")])
        .await)
    .await;
    create(app, "Client", "ConsumerCo", "App", "").await;
}

async fn contract(app: &mut TestApp, version: &str, api: &str, plan: &str) -> common::Reply {
    app.call::<CreateContract>(&[
        ("org", "ConsumerCo"),
        ("client", "App"),
        ("version", version),
        ("api_org", "ProviderCo"),
        ("api", api),
        ("api_version", "1.0"),
        ("plan", plan),
    ])
    .await
}

async fn client(app: &mut TestApp, version: &str) -> ClientVersionDetail {
    ok(app
        .call::<GetClientVersion>(&[
            ("org", "ConsumerCo"),
            ("client", "App"),
            ("version", version),
        ])
        .await)
    .await
    .json()
}

async fn contracts(app: &mut TestApp, version: &str) -> Page<ContractDto> {
    ok(app
        .call::<ClientContracts>(&[
            ("org", "ConsumerCo"),
            ("client", "App"),
            ("version", version),
            ("page", "1"),
            ("per_page", "25"),
        ])
        .await)
    .await
    .json()
}

async fn change_log(app: &mut TestApp, kind: &str, org: &str, id: &str) -> Vec<String> {
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
    page.items.into_iter().map(|e| e.what).collect()
}

async fn get_api(app: &mut TestApp) -> ApiVersionDetail {
    ok(app
        .call::<GetApiVersion>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
        ])
        .await)
    .await
    .json()
}

fn refused(r: &common::Reply, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.error().message().contains(message),
        "expected '{message}' in {}",
        r.body
    );
}

on_both!(approval_flow_from_request_to_registration, |app| {
    world(&mut app).await;
    let r = ok(contract(&mut app, "1.0", "Weather", "Gold").await).await;
    assert_eq!(r.json::<ContractStatus>(), ContractStatus::AwaitingApproval);
    let d = client(&mut app, "1.0").await;
    assert_eq!(d.status, ClientStatus::AwaitingApproval);
    assert_eq!(d.pending_approvals, 1);
    assert!(
        d.register_refusal
            .as_deref()
            .unwrap()
            .contains("awaits approval")
    );

    // Register is refused while the approval is pending, and writes nothing.
    let before = app.count("audit_entries").await;
    refused(
        &action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await,
        StatusCode::CONFLICT,
        "awaits approval",
    );
    assert_eq!(app.count("audit_entries").await, before);

    // The consumer may not approve it: it is not theirs to decide.
    let id = contracts(&mut app, "1.0").await.items[0].id.to_string();
    let r = app
        .call::<ApproveContract>(&[("id", id.as_str()), ("register", "true")])
        .await;
    assert!(
        matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.body
    );
    assert!(
        app.call::<PendingApprovals>(&[])
            .await
            .json::<Vec<ContractDto>>()
            .is_empty()
    );

    // The provider (planAdmin) sees it in the inbox and the header count, and approves.
    as_user(&mut app, PROVIDER).await;
    let counts: InboxCounts = app.call::<GetInboxCounts>(&[]).await.json();
    assert_eq!(
        (counts.pending_approvals, counts.unread_notifications),
        (1, 1)
    );
    let pending: Vec<ContractDto> = app.call::<PendingApprovals>(&[]).await.json();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].client_name.as_str(),
            pending[0].requested_by.as_str()
        ),
        ("App", "Cody Consumer")
    );
    let r = ok(app
        .call::<ApproveContract>(&[("id", id.as_str()), ("register", "true")])
        .await)
    .await;
    assert_eq!(r.json::<ClientStatus>(), ClientStatus::Registered);
    refused(
        &app.call::<ApproveContract>(&[("id", id.as_str()), ("register", "true")])
            .await,
        StatusCode::CONFLICT,
        "already approved",
    );
    let log = change_log(&mut app, "Api", "ProviderCo", "Weather").await;
    assert!(
        log.contains(&"Approve".to_owned()) && log.contains(&"CreateContract".to_owned()),
        "{log:?}"
    );

    // The consumer is told, and the client version is registered.
    as_user(&mut app, CONSUMER).await;
    let notes: Vec<NotificationDto> = app.call::<ListNotifications>(&[]).await.json();
    assert!(
        notes[0].message.contains("approved") && !notes[0].read,
        "{notes:?}"
    );
    ok(app.call::<MarkNotificationsRead>(&[]).await).await;
    let counts: InboxCounts = app.call::<GetInboxCounts>(&[]).await.json();
    assert_eq!(counts.unread_notifications, 0);
    let d = client(&mut app, "1.0").await;
    assert_eq!(
        (d.status, d.active_contracts, d.pending_approvals),
        (ClientStatus::Registered, 1, 0)
    );
    let log = change_log(&mut app, "Client", "ConsumerCo", "App").await;
    assert_eq!(log, ["Register", "Approve", "CreateContract", "Create"]);
});

on_both!(rejection_removes_the_contract_and_tells_why, |app| {
    world(&mut app).await;
    ok(contract(&mut app, "1.0", "Weather", "Gold").await).await;
    let id = contracts(&mut app, "1.0").await.items[0].id.to_string();
    as_user(&mut app, PROVIDER).await;
    refused(
        &app.call::<RejectContract>(&[("id", id.as_str()), ("reason", "  ")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Say why",
    );
    ok(app
        .call::<RejectContract>(&[("id", id.as_str()), ("reason", "Use Bronze for testing")])
        .await)
    .await;
    as_user(&mut app, CONSUMER).await;
    let d = client(&mut app, "1.0").await;
    assert_eq!((d.status, d.pending_approvals), (ClientStatus::Created, 0));
    assert_eq!(app.count("contracts").await, 0);
    let notes: Vec<NotificationDto> = app.call::<ListNotifications>(&[]).await.json();
    assert!(
        notes[0].message.contains("Use Bronze for testing"),
        "{notes:?}"
    );
});

on_both!(contract_rules_each_with_its_own_refusal, |app| {
    world(&mut app).await;
    // Not offered by the API.
    refused(
        &contract(&mut app, "1.0", "Maps", "Gold").await,
        StatusCode::CONFLICT,
        "does not offer",
    );
    // Unknown API.
    refused(
        &contract(&mut app, "1.0", "Nope", "Gold").await,
        StatusCode::NOT_FOUND,
        "No API",
    );
    ok(contract(&mut app, "1.0", "Weather", "Bronze").await).await;
    assert_eq!(client(&mut app, "1.0").await.status, ClientStatus::Ready);
    // One contract per client version and API version.
    refused(
        &contract(&mut app, "1.0", "Weather", "Gold").await,
        StatusCode::CONFLICT,
        "already has a contract",
    );
    // A retired client version gets no new contracts.
    ok(action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await).await;
    ok(action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Unregister").await).await;
    assert_eq!(client(&mut app, "1.0").await.status, ClientStatus::Retired);
    let log = change_log(&mut app, "Client", "ConsumerCo", "App").await;
    assert_eq!(log[..2], ["Unregister", "Register"]);
    refused(
        &contract(&mut app, "1.0", "Maps", "Bronze").await,
        StatusCode::CONFLICT,
        "retired client",
    );
    // An API version that is not published.
    as_user(&mut app, PROVIDER).await;
    ok(app
        .call::<NewVersion>(&[
            ("kind", "Api"),
            ("org", "ProviderCo"),
            ("id", "Maps"),
            ("version", "2.0"),
            ("clone_from", "1.0"),
        ])
        .await)
    .await;
    as_user(&mut app, CONSUMER).await;
    ok(app
        .call::<NewVersion>(&[
            ("kind", "Client"),
            ("org", "ConsumerCo"),
            ("id", "App"),
            ("version", "2.0"),
            ("clone_from", ""),
        ])
        .await)
    .await;
    let r = app
        .call::<CreateContract>(&[
            ("org", "ConsumerCo"),
            ("client", "App"),
            ("version", "2.0"),
            ("api_org", "ProviderCo"),
            ("api", "Maps"),
            ("api_version", "2.0"),
            ("plan", "Bronze"),
        ])
        .await;
    refused(&r, StatusCode::CONFLICT, "published API version");
    assert_eq!(app.count("contracts").await, 1);
});

on_both!(register_reregister_unregister_and_delete, |app| {
    world(&mut app).await;
    refused(
        &action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await,
        StatusCode::CONFLICT,
        "at least one contract",
    );
    ok(contract(&mut app, "1.0", "Weather", "Bronze").await).await;
    ok(action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await).await;
    refused(
        &action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await,
        StatusCode::CONFLICT,
        "has not changed",
    );
    // A second contract: Unpublished Changes until re-registered.
    ok(contract(&mut app, "1.0", "Maps", "Bronze").await).await;
    let d = client(&mut app, "1.0").await;
    assert_eq!(
        (d.status, d.unpublished_changes),
        (ClientStatus::Registered, true)
    );
    ok(action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await).await;
    assert!(!client(&mut app, "1.0").await.unpublished_changes);
    // Delete is refused while registered, and removes nothing.
    let r = app
        .call::<DeleteEntity>(&[("kind", "Client"), ("org", "ConsumerCo"), ("id", "App")])
        .await;
    refused(
        &r,
        StatusCode::CONFLICT,
        "Unregister every registered version",
    );
    assert_eq!(app.count("contracts").await, 2);
    // Breaking one contract keeps it registered; breaking the last one retires it.
    let id = contracts(&mut app, "1.0").await.items[0].id.to_string();
    ok(app.call::<BreakContract>(&[("id", id.as_str())]).await).await;
    assert_eq!(
        client(&mut app, "1.0").await.status,
        ClientStatus::Registered
    );
    ok(app
        .call::<BreakAllContracts>(&[("org", "ConsumerCo"), ("client", "App"), ("version", "1.0")])
        .await)
    .await;
    assert_eq!(client(&mut app, "1.0").await.status, ClientStatus::Retired);
    ok(app
        .call::<DeleteEntity>(&[("kind", "Client"), ("org", "ConsumerCo"), ("id", "App")])
        .await)
    .await;
    assert_eq!(
        (
            app.count("clients").await,
            app.count("client_versions").await,
            app.count("contracts").await
        ),
        (0, 0, 0)
    );
    let log = change_log(&mut app, "Client", "ConsumerCo", "App").await;
    assert_eq!(log[0], "Delete");
    for what in ["Register", "CreateContract", "BreakContract", "Create"] {
        assert!(log.contains(&what.to_owned()), "{what} in {log:?}");
    }
});

on_both!(
    a_cloned_client_version_gets_contracts_again_and_its_own_key,
    |app| {
        world(&mut app).await;
        ok(contract(&mut app, "1.0", "Weather", "Gold").await).await;
        ok(contract(&mut app, "1.0", "Maps", "Bronze").await).await;
        let r = ok(app
            .call::<NewVersion>(&[
                ("kind", "Client"),
                ("org", "ConsumerCo"),
                ("id", "App"),
                ("version", "1.1"),
                ("clone_from", "1.0"),
            ])
            .await)
        .await;
        assert_eq!(
            r.json::<(String, usize)>(),
            ("/orgs/ConsumerCo/clients/App/1.1".to_owned(), 0)
        );
        let (old, new) = (client(&mut app, "1.0").await, client(&mut app, "1.1").await);
        assert_eq!((old.keys.len(), new.keys.len()), (1, 1));
        assert_ne!(old.keys[0].id, new.keys[0].id);
        // The Gold contract needs approval again.
        assert_eq!(
            (new.status, new.pending_approvals, new.active_contracts),
            (ClientStatus::AwaitingApproval, 1, 1)
        );
        let r = app
            .call::<NewVersion>(&[
                ("kind", "Client"),
                ("org", "ConsumerCo"),
                ("id", "App"),
                ("version", "1.1"),
                ("clone_from", ""),
            ])
            .await;
        refused(&r, StatusCode::CONFLICT, "already has a version");
        let r = app
            .call::<NewVersion>(&[
                ("kind", "Client"),
                ("org", "ConsumerCo"),
                ("id", "App"),
                ("version", "a b"),
                ("clone_from", ""),
            ])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            change_log(&mut app, "Client", "ConsumerCo", "App")
                .await
                .contains(&"Clone".to_owned())
        );
    }
);

on_both!(api_publish_plans_definition_retire_and_delete, |app| {
    ok(app.sign_up(PROVIDER, "Pat").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Provider Co"), ("description", "")])
        .await)
    .await;
    create(&mut app, "Api", "ProviderCo", "Weather", "").await;
    create(&mut app, "Plan", "ProviderCo", "Gold", "").await;

    let d = get_api(&mut app).await;
    assert_eq!(
        (d.status, d.publish_checklist.len()),
        (ApiStatus::Created, 2)
    );
    refused(
        &action(&mut app, "Api", "ProviderCo", "Weather", "1.0", "Publish").await,
        StatusCode::CONFLICT,
        "endpoint URL",
    );

    // An unlocked plan cannot be offered.
    let gold = json!([{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "portal"}]);
    refused(
        &offer(&mut app, "Weather", gold.clone()).await,
        StatusCode::CONFLICT,
        "Lock the plan version",
    );
    ok(action(&mut app, "Plan", "ProviderCo", "Gold", "1.0", "Lock").await).await;
    refused(
        &action(&mut app, "Plan", "ProviderCo", "Gold", "1.0", "Lock").await,
        StatusCode::CONFLICT,
        "already locked",
    );
    ok(offer(&mut app, "Weather", gold).await).await;

    // Implementation: validated endpoint, then Ready.
    let implementation = |endpoint: &'static str| {
        [
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
            ("endpoint", endpoint),
            ("content_type", "JSON"),
            ("public_api", "false"),
        ]
    };
    let r = app
        .call::<UpdateApiImplementation>(&implementation("ftp://x"))
        .await;
    assert!(r.error().field("endpoint").is_some(), "{}", r.body);
    ok(app
        .call::<UpdateApiImplementation>(&implementation("https://backend.example.com"))
        .await)
    .await;
    assert_eq!(get_api(&mut app).await.status, ApiStatus::Ready);

    // Definition: YAML accepted, Swagger 2 refused with its reason.
    let yaml = "openapi: 3.0.3\ninfo:\n  title: Weather\n  version: '1'\npaths:\n  /forecast:\n    get: {}\n";
    ok(app
        .call::<UpdateApiDefinition>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
            ("definition", yaml),
        ])
        .await)
    .await;
    let r = app
        .call::<UpdateApiDefinition>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
            ("definition", "swagger: '2.0'"),
        ])
        .await;
    assert!(
        r.error().field("definition").unwrap().contains("Swagger 2"),
        "{}",
        r.body
    );
    let d = get_api(&mut app).await;
    assert_eq!(
        d.definition
            .as_ref()
            .map(|i| (i.title.as_str(), i.operations)),
        Some(("Weather", 1))
    );

    ok(action(&mut app, "Api", "ProviderCo", "Weather", "1.0", "Publish").await).await;
    // Published: the plan set and the definition are frozen; flags and endpoint are not.
    let other = json!([]);
    refused(
        &offer(&mut app, "Weather", other).await,
        StatusCode::CONFLICT,
        "cannot change its plans",
    );
    let flags = json!([{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": true, "discoverability": "anonymous"}]);
    ok(offer(&mut app, "Weather", flags).await).await;
    assert!(get_api(&mut app).await.plans[0].requires_approval);
    let r = app
        .call::<UpdateApiDefinition>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "1.0"),
            ("definition", ""),
        ])
        .await;
    refused(&r, StatusCode::CONFLICT, "cannot change its definition");
    ok(app
        .call::<UpdateApiImplementation>(&implementation("https://backend2.example.com"))
        .await)
    .await;

    // Delete refused while published; a locked plan cannot be deleted.
    refused(
        &app.call::<DeleteEntity>(&[("kind", "Api"), ("org", "ProviderCo"), ("id", "Weather")])
            .await,
        StatusCode::CONFLICT,
        "Retire every published version",
    );
    refused(
        &app.call::<DeleteEntity>(&[("kind", "Plan"), ("org", "ProviderCo"), ("id", "Gold")])
            .await,
        StatusCode::CONFLICT,
        "locked version",
    );
    ok(action(&mut app, "Api", "ProviderCo", "Weather", "1.0", "Retire").await).await;
    refused(
        &action(&mut app, "Api", "ProviderCo", "Weather", "1.0", "Publish").await,
        StatusCode::CONFLICT,
        "retired",
    );

    // A clone copies endpoint, plans and definition, and is Ready at once.
    ok(app
        .call::<NewVersion>(&[
            ("kind", "Api"),
            ("org", "ProviderCo"),
            ("id", "Weather"),
            ("version", "2.0"),
            ("clone_from", "1.0"),
        ])
        .await)
    .await;
    let v2: ApiVersionDetail = app
        .call::<GetApiVersion>(&[
            ("org", "ProviderCo"),
            ("api", "Weather"),
            ("version", "2.0"),
        ])
        .await
        .json();
    assert_eq!(
        (v2.status, v2.plans.len(), v2.definition.is_some()),
        (ApiStatus::Ready, 1, true)
    );
    assert_eq!(
        v2.endpoint_url.as_deref(),
        Some("https://backend2.example.com")
    );

    ok(app
        .call::<DeleteEntity>(&[("kind", "Api"), ("org", "ProviderCo"), ("id", "Weather")])
        .await)
    .await;
    assert_eq!(
        (
            app.count("apis").await,
            app.count("api_versions").await,
            app.count("api_plans").await
        ),
        (0, 0, 0)
    );
    let log = change_log(&mut app, "Plan", "ProviderCo", "Gold").await;
    assert_eq!(log, ["Lock", "Create"]);
    create(&mut app, "Plan", "ProviderCo", "Draft", "").await;
    ok(app
        .call::<DeleteEntity>(&[("kind", "Plan"), ("org", "ProviderCo"), ("id", "Draft")])
        .await)
    .await;
});

on_both!(lifecycle_actions_need_their_admin_permission, |app| {
    world(&mut app).await;
    // The consumer is no member of the provider's organization: its objects are not found.
    let r = action(&mut app, "Api", "ProviderCo", "Weather", "1.0", "Retire").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // A Viewer of the consumer's organization may see the client but not register it.
    ok(contract(&mut app, "1.0", "Weather", "Bronze").await).await;
    ok(app
        .call::<app::api::orgs::AddMember>(&[
            ("org", "ConsumerCo"),
            ("email", PROVIDER),
            ("role", domain::Role::Viewer.as_str()),
        ])
        .await)
    .await;
    as_user(&mut app, PROVIDER).await;
    let r = action(&mut app, "Client", "ConsumerCo", "App", "1.0", "Register").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let id = {
        let page: Page<ContractDto> = app
            .call::<ClientContracts>(&[
                ("org", "ConsumerCo"),
                ("client", "App"),
                ("version", "1.0"),
                ("page", "1"),
                ("per_page", "10"),
            ])
            .await
            .json();
        page.items[0].id.to_string()
    };
    let r = app.call::<BreakContract>(&[("id", id.as_str())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(app.count("contracts").await, 1);
});
