//! Clients, APIs and plans: creation rules, refusals that write nothing, and the pages' data,
//! through the real router on SQLite and PostgreSQL.

mod common;

use app::api::entities::{
    ClientNameConflict, CreateEntity, EntityChangeLog, GetApiVersion, GetClientVersion,
    GetPlanVersion, ListEntities,
};
use app::api::orgs::{AddMember, CreateOrg};
use axum::http::StatusCode;
use domain::dto::{
    ApiVersionDetail, AuditEntryDto, ClientVersionDetail, EntitySummary, Page, PlanVersionDetail,
};
use domain::{ApiStatus, ClientStatus, PlanStatus, Role};

async fn owner_with_org(app: &mut common::TestApp) {
    let r = app.sign_up("jane@example.com", "Jane").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .call::<CreateOrg>(&[("name", "ACME Support"), ("description", "")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn create_client(app: &mut common::TestApp, name: &str, version: &str) -> common::Reply {
    app.call::<CreateEntity>(&[
        ("kind", "Client"),
        ("endpoint", ""),
        ("org", "ACMESupport"),
        ("name", name),
        ("version", version),
        ("description", "Janes first test client"),
    ])
    .await
}

on_both!(
    create_client_writes_client_version_key_and_change_log,
    |app| {
        owner_with_org(&mut app).await;
        let r = create_client(&mut app, "Janes Test Client", "1.0").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.json::<String>(),
            "/orgs/ACMESupport/clients/JanesTestClient/1.0"
        );

        let d: ClientVersionDetail = app
            .call::<GetClientVersion>(&[
                ("org", "ACMESupport"),
                ("client", "JanesTestClient"),
                ("version", "1.0"),
            ])
            .await
            .json();
        assert_eq!(d.header.name, "Janes Test Client");
        assert_eq!(d.header.org_name, "ACME Support");
        assert_eq!(d.header.description, "Janes first test client");
        assert_eq!(d.status, ClientStatus::Created);
        let key = domain::dto::ApiKeyDto::current(&d.keys).expect("a first key");
        let shown: String = app
            .call::<app::api::keys::ShowApiKey>(&[
                ("org", "ACMESupport"),
                ("client", "JanesTestClient"),
                ("version", "1.0"),
                ("key_id", key.id.to_string().as_str()),
            ])
            .await
            .json();
        let key = uuid::Uuid::parse_str(&shown).expect("the API key is a UUID");
        assert_eq!(key.get_version_num(), 4);
        assert_eq!((d.pending_approvals, d.active_contracts), (0, 0));

        let log: Page<AuditEntryDto> = app
            .call::<EntityChangeLog>(&[
                ("kind", "Client"),
                ("org", "ACMESupport"),
                ("id", "JanesTestClient"),
                ("page", "1"),
                ("per_page", "25"),
            ])
            .await
            .json();
        // The creation, and the Show above (newest first).
        let whats: Vec<&str> = log.items.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(whats, ["ShowKey", "Create"]);
        assert_eq!(log.items[1].entity_version.as_deref(), Some("1.0"));

        let mine: Vec<EntitySummary> = app.call::<ListEntities>(&[("kind", "Client")]).await.json();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].versions[0].status, "created");
    }
);

on_both!(create_client_refusals_write_nothing, |app| {
    owner_with_org(&mut app).await;
    create_client(&mut app, "Janes Test Client", "1.0").await;
    let before = (
        app.count("clients").await,
        app.count("client_versions").await,
        app.count("audit_entries").await,
    );

    // A name whose id is taken, live check and on create.
    let r = app
        .call::<ClientNameConflict>(&[("org", "ACMESupport"), ("name", "Janes  Test-Client")])
        .await;
    assert_eq!(r.json::<Option<String>>(), None, "a different id is free");
    let r = app
        .call::<ClientNameConflict>(&[("org", "ACMESupport"), ("name", "Janes Test Client")])
        .await;
    let expected = "A client named 'Janes Test Client' already exists in ACME Support.";
    assert_eq!(r.json::<Option<String>>().as_deref(), Some(expected));
    let r = create_client(&mut app, "Janes Test Client", "2.0").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error().field("name").as_deref(), Some(expected));

    // Invalid versions and names.
    for (name, version, field) in [
        ("Other", "1 0", "version"),
        ("Other", "a/b", "version"),
        ("Other", "", "version"),
        ("", "1.0", "name"),
        ("???", "1.0", "name"),
    ] {
        let r = create_client(&mut app, name, version).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} {version:?}"
        );
        assert!(
            r.error().field(field).is_some(),
            "{name:?} {version:?}: {}",
            r.body
        );
    }

    // Members without clientEdit.
    app.sign_out().await;
    for (email, role) in [
        ("viewer@example.com", Role::Viewer),
        ("apidev@example.com", Role::ApiDeveloper),
    ] {
        app.sign_up(email, "Member").await;
        app.sign_out().await;
        app.sign_in("jane@example.com", common::PASSWORD).await;
        app.call::<AddMember>(&[
            ("org", "ACMESupport"),
            ("email", email),
            ("role", role.as_str()),
        ])
        .await;
        app.sign_out().await;
        app.sign_in(email, common::PASSWORD).await;
        let r = create_client(&mut app, "Viewer Client", "1.0").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{email}");
        assert!(r.error().general().unwrap().contains("clientEdit"));
        if role == Role::Viewer {
            // A Viewer sees the client but not its API key (a credential).
            let d: ClientVersionDetail = app
                .call::<GetClientVersion>(&[
                    ("org", "ACMESupport"),
                    ("client", "JanesTestClient"),
                    ("version", "1.0"),
                ])
                .await
                .json();
            assert_eq!(d.header.name, "Janes Test Client");
            // ...the list of keys (last four characters only), but cannot show one.
            let key = &d.keys[0];
            assert_eq!(key.last4.len(), 4);
            let shown = app
                .call::<app::api::keys::ShowApiKey>(&[
                    ("org", "ACMESupport"),
                    ("client", "JanesTestClient"),
                    ("version", "1.0"),
                    ("key_id", key.id.to_string().as_str()),
                ])
                .await;
            assert_eq!(shown.status, StatusCode::FORBIDDEN, "{}", shown.body);
        }
        app.sign_out().await;
    }
    let after = (
        app.count("clients").await,
        app.count("client_versions").await,
        app.count("audit_entries").await,
    );
    assert_eq!(before.0, after.0);
    assert_eq!(before.1, after.1);
    assert_eq!(
        before.2 + 2,
        after.2,
        "only the two Grant entries were added"
    );
});

on_both!(create_api_and_plan, |app| {
    owner_with_org(&mut app).await;
    let r = app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "ACMESupport"),
            ("name", "Echo API"),
            ("version", "v1"),
            ("description", ""),
            ("endpoint", "ftp://x"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error().field("endpoint").is_some());
    assert_eq!(app.count("apis").await, 0);

    let r = app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "ACMESupport"),
            ("name", "Echo API"),
            ("version", "v1"),
            ("description", "Echoes"),
            ("endpoint", "http://127.0.0.1:9000/echo"),
        ])
        .await;
    assert_eq!(r.json::<String>(), "/orgs/ACMESupport/apis/EchoAPI/v1");
    let d: ApiVersionDetail = app
        .call::<GetApiVersion>(&[
            ("org", "ACMESupport"),
            ("api", "EchoAPI"),
            ("version", "v1"),
        ])
        .await
        .json();
    assert_eq!(d.status, ApiStatus::Created, "no plan and not public yet");
    assert_eq!(
        d.endpoint_url.as_deref(),
        Some("http://127.0.0.1:9000/echo")
    );

    let r = app
        .call::<CreateEntity>(&[
            ("kind", "Plan"),
            ("endpoint", ""),
            ("org", "ACMESupport"),
            ("name", "Gold"),
            ("version", "1.0"),
            ("description", ""),
        ])
        .await;
    assert_eq!(r.json::<String>(), "/orgs/ACMESupport/plans/Gold/1.0");
    let d: PlanVersionDetail = app
        .call::<GetPlanVersion>(&[("org", "ACMESupport"), ("plan", "Gold"), ("version", "1.0")])
        .await
        .json();
    assert_eq!(d.status, PlanStatus::Created);
    let r = app
        .call::<CreateEntity>(&[
            ("kind", "Plan"),
            ("endpoint", ""),
            ("org", "ACMESupport"),
            ("name", "Gold"),
            ("version", "2.0"),
            ("description", ""),
        ])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let apis: Vec<EntitySummary> = app
        .call::<ListEntities>(&[("kind", "Api"), ("org", "ACMESupport")])
        .await
        .json();
    assert_eq!(apis.len(), 1);
});

on_both!(
    organization_change_log_shows_only_what_the_caller_may_view,
    |app| {
        owner_with_org(&mut app).await;
        let r = app
            .call::<CreateEntity>(&[
                ("kind", "Api"),
                ("org", "ACMESupport"),
                ("name", "Payments"),
                ("version", "1.0"),
                ("description", ""),
                ("endpoint", ""),
            ])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        create_client(&mut app, "Janes Test Client", "1.0").await;
        app.sign_out().await;
        app.sign_up("dev@example.com", "Dev").await;
        app.sign_out().await;
        app.sign_in("jane@example.com", common::PASSWORD).await;
        app.call::<AddMember>(&[
            ("org", "ACMESupport"),
            ("email", "dev@example.com"),
            ("role", Role::ClientAppDeveloper.as_str()),
        ])
        .await;
        app.sign_out().await;

        app.sign_in("dev@example.com", common::PASSWORD).await;
        let log: Page<AuditEntryDto> = app
            .call::<app::api::orgs::OrgChangeLog>(&[
                ("org", "ACMESupport"),
                ("page", "1"),
                ("per_page", "100"),
            ])
            .await
            .json();
        let types: std::collections::BTreeSet<&str> =
            log.items.iter().map(|e| e.entity_type.as_str()).collect();
        assert_eq!(
            types,
            ["client", "organization"].into_iter().collect(),
            "no API rows for a client developer"
        );
        assert_eq!(log.total, log.items.len() as u64);
    }
);

on_both!(malformed_arguments_are_a_bad_request, |app| {
    owner_with_org(&mut app).await;
    let r = app
        .call::<AddMember>(&[
            ("org", "ACMESupport"),
            ("email", "x@example.com"),
            ("role", "emperor"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
});
