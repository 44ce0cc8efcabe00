//! The Policies tabs through the real router on SQLite and PostgreSQL: attach at a position,
//! edit, reorder, remove; validation messages on their fields with nothing written; locked
//! plans and published APIs refuse; a viewer is refused; every change has its Change Log row
//! and marks a registered client as having Unpublished Changes.

mod common;

use app::api::entities::{CreateEntity, EntityChangeLog, GetClientVersion};
use app::api::lifecycle::RunVersionAction;
use app::api::orgs::CreateOrg;
use app::api::policies::{
    AddPolicy, ApiPolicyChains, PolicyDefinitions, RemovePolicy, ReorderPolicies, UpdatePolicy,
    VersionMetrics, VersionPolicies,
};
use axum::http::StatusCode;
use common::TestApp;
use domain::dto::{
    ApiChainsDto, AuditEntryDto, ClientVersionDetail, MetricsDto, Page, PolicyDefinitionDto,
    PolicyDto,
};
use serde_json::json;

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn create(app: &mut TestApp, kind: &str, name: &str, endpoint: &str) {
    ok(app
        .call::<CreateEntity>(&[
            ("kind", kind),
            ("org", "AcmeCo"),
            ("name", name),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", endpoint),
        ])
        .await)
    .await;
}

async fn add(
    app: &mut TestApp,
    kind: &str,
    id: &str,
    definition: &str,
    config: serde_json::Value,
    position: Option<usize>,
) -> common::Reply {
    app.call_json::<AddPolicy>(json!({
        "kind": kind, "org": "AcmeCo", "id": id, "version": "1.0",
        "definition_id": definition, "configuration": config.to_string(), "position": position,
    }))
    .await
}

async fn list(app: &mut TestApp, kind: &str, id: &str) -> Vec<PolicyDto> {
    ok(app
        .call::<VersionPolicies>(&[
            ("kind", kind),
            ("org", "AcmeCo"),
            ("id", id),
            ("version", "1.0"),
        ])
        .await)
    .await
    .json()
}

fn names(policies: &[PolicyDto]) -> Vec<&str> {
    policies.iter().map(|p| p.definition_id.as_str()).collect()
}

async fn change_log(app: &mut TestApp, kind: &str, id: &str) -> Vec<String> {
    let page: Page<AuditEntryDto> = ok(app
        .call::<EntityChangeLog>(&[
            ("kind", kind),
            ("org", "AcmeCo"),
            ("id", id),
            ("page", "1"),
            ("per_page", "50"),
        ])
        .await)
    .await
    .json();
    page.items.into_iter().map(|e| e.summary).collect()
}

async fn action(app: &mut TestApp, kind: &str, id: &str, what: &str) -> common::Reply {
    app.call::<RunVersionAction>(&[
        ("kind", kind),
        ("org", "AcmeCo"),
        ("id", id),
        ("version", "1.0"),
        ("action", what),
    ])
    .await
}

const RATE: &str = "rate-limiting";

on_both!(
    attach_edit_reorder_remove_with_rules_and_change_log,
    |app| {
        ok(app.sign_up("pat@example.com", "Pat Provider").await).await;
        ok(app
            .call::<CreateOrg>(&[("name", "Acme Co"), ("description", "")])
            .await)
        .await;
        create(&mut app, "Plan", "Gold", "").await;

        // The catalogue, grouped by category.
        let defs: Vec<PolicyDefinitionDto> =
            ok(app.call::<PolicyDefinitions>(&[]).await).await.json();
        assert_eq!(defs.len(), 14);
        assert_eq!(defs[0].category, "Security");
        assert_eq!(defs.last().unwrap().category, "Other");

        // Bad input: a message per field, nothing written.
        let before = app.count("policies").await;
        let r = add(
            &mut app,
            "Plan",
            "Gold",
            RATE,
            json!({"limit": 0, "granularity": "User", "period": "Minute"}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let app::error::AppError::Invalid(errors) = r.error() else {
            panic!("{}", r.body)
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"limit") && fields.contains(&"header"),
            "{errors:?}"
        );
        let r = add(&mut app, "Plan", "Gold", "no-such-policy", json!({}), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = add(
            &mut app,
            "Plan",
            "Gold",
            "ignored-resources",
            json!({"rules": [{"verb": "GET", "pathPattern": "(unclosed"}]}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("policies").await, before);

        // Attach three, the last one first.
        ok(add(
            &mut app,
            "Plan",
            "Gold",
            RATE,
            json!({"limit": 100, "granularity": "Client", "period": "Minute"}),
            None,
        )
        .await)
        .await;
        ok(add(
            &mut app,
            "Plan",
            "Gold",
            "quota",
            json!({"limit": 10000, "granularity": "Client", "period": "Month"}),
            None,
        )
        .await)
        .await;
        let cors: PolicyDto = ok(add(
            &mut app,
            "Plan",
            "Gold",
            "cors",
            json!({"allowOrigins": ["https://app.example.com"]}),
            Some(0),
        )
        .await)
        .await
        .json();
        let policies = list(&mut app, "Plan", "Gold").await;
        assert_eq!(names(&policies), ["cors", RATE, "quota"]);
        assert_eq!(
            policies[1].description,
            "Consumers are limited to 100 requests per Minute per Client"
        );
        assert_eq!(policies[1].name, "Rate Limiting");
        assert_eq!(policies[1].category, "Limitation");

        // Edit, reorder (a stale order is refused), remove.
        let rate_id = policies[1].id;
        let edited: PolicyDto = ok(app
        .call_json::<UpdatePolicy>(json!({
            "kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "policy_id": rate_id,
            "configuration": json!({"limit": 50, "granularity": "Api", "period": "Second"}).to_string(),
        }))
        .await)
    .await
    .json();
        assert_eq!(
            edited.description,
            "Consumers are limited to 50 requests per Second per API"
        );
        let ids: Vec<i64> = policies.iter().rev().map(|p| p.id).collect();
        let reordered: Vec<PolicyDto> = ok(app
        .call_json::<ReorderPolicies>(json!({"kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "ids": ids}))
        .await)
    .await
    .json();
        assert_eq!(names(&reordered), ["quota", RATE, "cors"]);
        let r = app
        .call_json::<ReorderPolicies>(json!({"kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "ids": [rate_id]}))
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        ok(app
        .call_json::<RemovePolicy>(json!({"kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "policy_id": cors.id}))
        .await)
    .await;
        assert_eq!(
            names(&list(&mut app, "Plan", "Gold").await),
            ["quota", RATE]
        );
        let log = change_log(&mut app, "Plan", "Gold").await;
        assert!(
            log.iter()
                .any(|s| s.starts_with("Added policy Rate Limiting")),
            "{log:?}"
        );
        assert!(
            log.iter()
                .any(|s| s.starts_with("Changed policy Rate Limiting")),
            "{log:?}"
        );
        assert!(
            log.iter()
                .any(|s| s == "Policy order: Quota → Rate Limiting → CORS"),
            "{log:?}"
        );
        assert!(
            log.iter().any(|s| s.starts_with("Removed policy CORS")),
            "{log:?}"
        );

        // A locked plan refuses policy changes.
        ok(action(&mut app, "Plan", "Gold", "Lock").await).await;
        let r = add(
            &mut app,
            "Plan",
            "Gold",
            RATE,
            json!({"limit": 1, "granularity": "Client", "period": "Second"}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("locked plan version"), "{}", r.body);

        // The API shows each plan's effective chain; once published it refuses changes.
        create(&mut app, "Api", "Weather", "http://127.0.0.1:9/").await;
        ok(add(&mut app, "Api", "Weather", "simple-header", json!({"addHeaders": [{"name": "X-From", "value": "gw", "applyTo": "request", "overwrite": true}]}), None).await).await;
        ok(app
        .call_json::<app::api::lifecycle::SetApiPlans>(json!({
            "org": "AcmeCo", "api": "Weather", "version": "1.0",
            "plans": [{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"}]
        }))
        .await)
    .await;
        let chains: ApiChainsDto = ok(app
            .call::<ApiPolicyChains>(&[("org", "AcmeCo"), ("api", "Weather"), ("version", "1.0")])
            .await)
        .await
        .json();
        // Not public: no chain without a key.
        assert_eq!(chains.public, None);
        let chains = chains.plans;
        assert_eq!(chains.len(), 1);
        assert_eq!(names(&chains[0].plan_policies), ["quota", RATE]);
        assert_eq!(names(&chains[0].api_policies), ["simple-header"]);
        ok(action(&mut app, "Api", "Weather", "Publish").await).await;
        let r = add(
            &mut app,
            "Api",
            "Weather",
            "cors",
            json!({"allowOrigins": ["*"]}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);

        // A registered client: a policy change marks Unpublished Changes.
        create(&mut app, "Client", "App", "").await;
        ok(app
            .call::<app::api::contracts::CreateContract>(&[
                ("org", "AcmeCo"),
                ("client", "App"),
                ("version", "1.0"),
                ("api_org", "AcmeCo"),
                ("api", "Weather"),
                ("api_version", "1.0"),
                ("plan", "Gold"),
            ])
            .await)
        .await;
        ok(action(&mut app, "Client", "App", "Register").await).await;
        ok(add(
            &mut app,
            "Client",
            "App",
            "ip-blocklist",
            json!({"ips": ["203.0.113.0/24"]}),
            None,
        )
        .await)
        .await;
        let v: ClientVersionDetail = ok(app
            .call::<GetClientVersion>(&[("org", "AcmeCo"), ("client", "App"), ("version", "1.0")])
            .await)
        .await
        .json();
        assert!(v.unpublished_changes);

        // Metrics of a client or API version: empty before any traffic.
        let m: MetricsDto = ok(app
            .call::<VersionMetrics>(&[
                ("kind", "Api"),
                ("org", "AcmeCo"),
                ("id", "Weather"),
                ("version", "1.0"),
                ("range", "week"),
            ])
            .await)
        .await
        .json();
        assert_eq!((m.total, m.points.len(), m.bucket_minutes), (0, 28, 360));
        let r = app
            .call::<VersionMetrics>(&[
                ("kind", "Api"),
                ("org", "AcmeCo"),
                ("id", "Weather"),
                ("version", "1.0"),
                ("range", "year"),
            ])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Someone outside the organization sees nothing and changes nothing.
        app.sign_out().await;
        ok(app.sign_up("eve@example.com", "Eve").await).await;
        let r = app
            .call::<VersionPolicies>(&[
                ("kind", "Plan"),
                ("org", "AcmeCo"),
                ("id", "Gold"),
                ("version", "1.0"),
            ])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = add(
            &mut app,
            "Client",
            "App",
            RATE,
            json!({"limit": 1, "granularity": "Client", "period": "Second"}),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = app
            .call::<VersionMetrics>(&[
                ("kind", "Api"),
                ("org", "AcmeCo"),
                ("id", "Weather"),
                ("version", "1.0"),
                ("range", "day"),
            ])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        // Nor can it reach a policy by its id.
        let quota_id = chains[0].plan_policies[0].id;
        let r = app
            .call_json::<UpdatePolicy>(json!({
                "kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "policy_id": quota_id,
                "configuration": json!({"limit": 1, "granularity": "Client", "period": "Day"}).to_string(),
            }))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = app
            .call_json::<RemovePolicy>(json!({"kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "policy_id": quota_id}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = app
            .call_json::<ReorderPolicies>(json!({"kind": "Plan", "org": "AcmeCo", "id": "Gold", "version": "1.0", "ids": [quota_id]}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert_eq!(app.count("policies").await, 4);
    }
);
