//! The Developer Portal through the real router on SQLite and PostgreSQL: discoverability for
//! each level and kind of visitor, the sign-up in one transaction, My Clients, and portal-only
//! accounts kept out of API Management.

mod common;

use app::api::contracts::{ApproveContract, PendingApprovals};
use app::api::entities::{CreateEntity, ListEntities};
use app::api::lifecycle::{RunVersionAction, SetApiPlans};
use app::api::orgs::{CreateOrg, ListOrgs};
use app::api::portal::{GetSignUpOptions, MyClients, PortalApi, PortalCatalog, PortalSignUp};
use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use domain::dto::{
    ContractDto, MyClientVersion, Page, PortalApiCard, PortalApiDetail, SignUpOptions, SignUpResult,
};
use domain::{ClientStatus, ContractStatus};
use serde_json::json;

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

const LEVELS: [&str; 4] = ["org_members", "all_users", "portal", "anonymous"];

/// Provider Co publishes one API per discoverability level ("Api_org_members", ...), each
/// offering plan Gold (approval when `approval`). Ends signed out.
async fn provider(app: &mut TestApp, approval: bool) {
    ok(app.sign_up("pat@example.com", "Pat").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Provider Co"), ("description", "")])
        .await)
    .await;
    let entity = |kind: &'static str, name: &'static str| {
        [
            ("kind", kind),
            ("org", "ProviderCo"),
            ("name", name),
            ("version", "1.0"),
            ("description", "Weather data"),
            ("endpoint", "https://backend.example.com"),
        ]
    };
    ok(app.call::<CreateEntity>(&entity("Plan", "Gold")).await).await;
    ok(app
        .call::<RunVersionAction>(&[
            ("kind", "Plan"),
            ("org", "ProviderCo"),
            ("id", "Gold"),
            ("version", "1.0"),
            ("action", "Lock"),
        ])
        .await)
    .await;
    for level in LEVELS {
        let name: &'static str = Box::leak(format!("Api_{level}").into_boxed_str());
        ok(app.call::<CreateEntity>(&entity("Api", name)).await).await;
        ok(app
            .call_json::<SetApiPlans>(json!({"org": "ProviderCo", "api": name, "version": "1.0", "plans": [
                {"plan_id": "Gold", "plan_version": "1.0", "requires_approval": approval, "discoverability": level}
            ]}))
            .await)
        .await;
        ok(app
            .call::<RunVersionAction>(&[
                ("kind", "Api"),
                ("org", "ProviderCo"),
                ("id", name),
                ("version", "1.0"),
                ("action", "Publish"),
            ])
            .await)
        .await;
    }
    app.sign_out().await;
}

async fn catalog(app: &mut TestApp, query: &str) -> Vec<String> {
    let (page, _): (Page<PortalApiCard>, Vec<String>) = ok(app
        .call::<PortalCatalog>(&[
            ("query", query),
            ("tag", ""),
            ("page", "1"),
            ("per_page", "50"),
        ])
        .await)
    .await
    .json();
    page.items.into_iter().map(|c| c.api_id).collect()
}

async fn details(app: &mut TestApp, api: &str) -> StatusCode {
    app.call::<PortalApi>(&[("org", "ProviderCo"), ("api", api), ("version", "")])
        .await
        .status
}

on_both!(discoverability_for_each_level_and_visitor, |app| {
    provider(&mut app, false).await;
    // Anonymous visitors: only "anonymous".
    assert_eq!(catalog(&mut app, "").await, ["Api_anonymous"]);
    assert_eq!(details(&mut app, "Api_anonymous").await, StatusCode::OK);
    for hidden in ["Api_org_members", "Api_all_users", "Api_portal"] {
        assert_eq!(
            details(&mut app, hidden).await,
            StatusCode::NOT_FOUND,
            "{hidden}"
        );
    }
    // Signed-in users outside the organization: all but "org members".
    ok(app.sign_up("sam@example.com", "Sam").await).await;
    assert_eq!(
        catalog(&mut app, "").await,
        ["Api_all_users", "Api_anonymous", "Api_portal"]
    );
    assert_eq!(
        details(&mut app, "Api_org_members").await,
        StatusCode::NOT_FOUND
    );
    // Search by name and description, case-insensitive; a LIKE wildcard is taken literally.
    assert_eq!(catalog(&mut app, "API_PORTAL").await, ["Api_portal"]);
    assert_eq!(catalog(&mut app, "weather").await.len(), 3);
    assert!(catalog(&mut app, "%").await.is_empty());
    // Members see everything.
    app.sign_out().await;
    ok(app.sign_in("pat@example.com", PASSWORD).await).await;
    assert_eq!(catalog(&mut app, "").await.len(), 4);
    let d: PortalApiDetail = ok(app
        .call::<PortalApi>(&[
            ("org", "ProviderCo"),
            ("api", "Api_org_members"),
            ("version", "1.0"),
        ])
        .await)
    .await
    .json();
    assert_eq!(
        (d.plans.len(), d.plans[0].limits[0].as_str()),
        (1, "Unlimited")
    );
});

on_both!(
    portal_only_accounts_sign_up_and_stay_out_of_management,
    |app| {
        provider(&mut app, false).await;
        // Signing up on the way to a portal page makes a portal-only account.
        let r = ok(app
            .call::<app::api::auth::SignUp>(&[
                ("email", "dana@example.com"),
                ("display_name", "Dana Dev"),
                ("password", PASSWORD),
                ("next", "/portal/signup/ProviderCo/Api_portal/1.0/Gold"),
            ])
            .await)
        .await;
        assert_eq!(
            r.json::<String>(),
            "/portal/signup/ProviderCo/Api_portal/1.0/Gold"
        );
        // API Management pages and functions are closed to it.
        let page = app.get("/orgs").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.headers.get("location").unwrap(), "/portal");
        assert_eq!(app.get("/portal/clients").await.status, StatusCode::OK);
        assert_eq!(
            app.call::<ListOrgs>(&[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.call::<ListEntities>(&[("kind", "Client")]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.call::<CreateOrg>(&[("name", "Sneaky"), ("description", "")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        // The wizard: no clients, no organization yet.
        let options: SignUpOptions = ok(app
            .call::<GetSignUpOptions>(&[
                ("org", "ProviderCo"),
                ("api", "Api_portal"),
                ("version", "1.0"),
            ])
            .await)
        .await
        .json();
        assert!(options.clients.is_empty() && options.orgs.is_empty());
        let request = |api: &str, client: &str, name: &str| {
            json!({"request": {
                "org": "ProviderCo", "api": api, "version": "1.0", "plan": "Gold",
                "client_org": if client.is_empty() { "" } else { "DanaDev" }, "client": client, "client_version": if client.is_empty() { "" } else { "1.0" },
                "new_name": name, "new_version": "1.0", "new_org": ""
            }})
        };
        // Bad input writes nothing.
        let before = (app.count("organizations").await, app.count("clients").await);
        let r = app
            .call_json::<PortalSignUp>(request("Api_portal", "", ""))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(
            (app.count("organizations").await, app.count("clients").await),
            before
        );
        // A hidden API cannot be signed up for.
        let r = app
            .call_json::<PortalSignUp>(request("Api_org_members", "", "My App"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

        // Home organization, client, contract and registration in one go.
        let done: SignUpResult = ok(app
            .call_json::<PortalSignUp>(request("Api_portal", "", "My App"))
            .await)
        .await
        .json();
        assert_eq!(
            (done.org_id.as_str(), done.client_id.as_str()),
            ("DanaDev", "MyApp")
        );
        assert_eq!(
            (done.status, done.contract),
            (ClientStatus::Registered, ContractStatus::Created)
        );
        // A second sign-up with the existing client, for another API.
        let done: SignUpResult = ok(app
            .call_json::<PortalSignUp>(request("Api_anonymous", "MyApp", ""))
            .await)
        .await
        .json();
        assert_eq!(done.status, ClientStatus::Registered);
        // The same API version again is reported by the options and refused.
        let options: SignUpOptions = app
            .call::<GetSignUpOptions>(&[
                ("org", "ProviderCo"),
                ("api", "Api_portal"),
                ("version", "1.0"),
            ])
            .await
            .json();
        assert!(options.clients[0].existing_contract.is_some());
        let r = app
            .call_json::<PortalSignUp>(request("Api_portal", "MyApp", ""))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        let mine: Vec<MyClientVersion> = ok(app.call::<MyClients>(&[]).await).await.json();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].contracts.len(), 2);
        assert_eq!(mine[0].keys.len(), 1);
        assert!(mine[0].can_edit);
        assert!(
            mine[0].contracts[0]
                .gateway_url
                .ends_with("/ProviderCo/Api_anonymous/1.0")
                || mine[0].contracts[1]
                    .gateway_url
                    .ends_with("/ProviderCo/Api_anonymous/1.0")
        );
    }
);

on_both!(
    approval_required_sign_up_waits_and_is_approved_in_management,
    |app| {
        provider(&mut app, true).await;
        ok(app.sign_up("sam@example.com", "Sam").await).await;
        let done: SignUpResult = ok(app
        .call_json::<PortalSignUp>(json!({"request": {
            "org": "ProviderCo", "api": "Api_all_users", "version": "1.0", "plan": "Gold",
            "client_org": "", "client": "", "client_version": "", "new_name": "Sams App", "new_version": "1.0", "new_org": ""
        }}))
        .await)
    .await
    .json();
        assert_eq!(
            (done.status, done.contract),
            (
                ClientStatus::AwaitingApproval,
                ContractStatus::AwaitingApproval
            )
        );
        assert_eq!(
            done.approver.as_deref(),
            Some("the plan administrators of Provider Co")
        );
        app.sign_out().await;
        ok(app.sign_in("pat@example.com", PASSWORD).await).await;
        let pending: Vec<ContractDto> = app.call::<PendingApprovals>(&[]).await.json();
        assert_eq!(pending.len(), 1);
        let id = pending[0].id.to_string();
        ok(app
            .call::<ApproveContract>(&[("id", id.as_str()), ("register", "true")])
            .await)
        .await;
        app.sign_out().await;
        ok(app.sign_in("sam@example.com", PASSWORD).await).await;
        let mine: Vec<MyClientVersion> = app.call::<MyClients>(&[]).await.json();
        assert_eq!(mine[0].status, ClientStatus::Registered);
    }
);
