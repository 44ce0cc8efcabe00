//! Organizations, members and permissions through the real router, on SQLite and PostgreSQL.

mod common;

use app::api::orgs::{
    AddMember, ChangeMemberRole, CreateOrg, GetOrg, ListMembers, ListOrgs, OrgChangeLog,
    RemoveMember, UpdateOrgDescription,
};
use axum::http::StatusCode;
use domain::dto::{AuditEntryDto, MemberDto, OrgDetail, OrgSummary, Page};
use domain::{Permission, Role};

async fn user(app: &mut common::TestApp, email: &str) -> String {
    let r = app.sign_up(email, email.split('@').next().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.sign_out().await;
    service::accounts::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn create_org(app: &mut common::TestApp, name: &str) -> OrgDetail {
    let r = app
        .call::<CreateOrg>(&[("name", name), ("description", "Support team")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn add(app: &mut common::TestApp, org: &str, email: &str, role: Role) -> common::Reply {
    app.call::<AddMember>(&[("org", org), ("email", email), ("role", role.as_str())])
        .await
}

on_both!(create_view_edit_and_list, |app| {
    user(&mut app, "owner@example.com").await;
    app.sign_in("owner@example.com", common::PASSWORD).await;
    let org = create_org(&mut app, "ACME Support").await;
    assert_eq!(org.id, "ACMESupport");
    assert_eq!(org.role, Some(Role::Owner));
    assert_eq!(org.permissions.len(), Permission::ALL.len());

    let r = app
        .call::<UpdateOrgDescription>(&[("org", "ACMESupport"), ("description", "Our helpdesk")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.call::<GetOrg>(&[("org", "ACMESupport")]).await;
    assert_eq!(r.json::<OrgDetail>().description, "Our helpdesk");

    let list: Vec<OrgSummary> = app.call::<ListOrgs>(&[]).await.json();
    assert_eq!(
        list.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["ACMESupport"]
    );

    // Change Log: Create, Grant, Update (with before/after), newest first.
    let log: Page<AuditEntryDto> = app
        .call::<OrgChangeLog>(&[("org", "ACMESupport"), ("page", "1"), ("per_page", "25")])
        .await
        .json();
    let whats: Vec<&str> = log.items.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["Update", "Grant", "Create"]);
    assert_eq!(log.items[0].changes[0].before, "Support team");
    assert_eq!(log.items[0].changes[0].after, "Our helpdesk");
});

on_both!(bad_input_is_refused_and_nothing_written, |app| {
    user(&mut app, "owner@example.com").await;
    app.sign_in("owner@example.com", common::PASSWORD).await;
    for (name, field_msg) in [
        ("", "Name is required."),
        (
            "!!! ???",
            "The name must contain at least one letter or digit.",
        ),
    ] {
        let r = app
            .call::<CreateOrg>(&[("name", name), ("description", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(r.error().field("name").as_deref(), Some(field_msg));
    }
    let long = "x".repeat(513);
    let r = app
        .call::<CreateOrg>(&[("name", "Fine"), ("description", &long)])
        .await;
    assert!(r.error().field("description").is_some());
    create_org(&mut app, "ACME Support").await;
    let r = app
        .call::<CreateOrg>(&[("name", "ACME  Support!"), ("description", "")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error().field("name").unwrap().contains("already exists"));
    assert_eq!(app.count("organizations").await, 1);
    assert_eq!(app.count("memberships").await, 1);
    assert_eq!(app.count("audit_entries").await, 2);
});

on_both!(members_without_permission_are_refused, |app| {
    user(&mut app, "owner@example.com").await;
    let viewer = user(&mut app, "viewer@example.com").await;
    let dev = user(&mut app, "dev@example.com").await;
    user(&mut app, "outsider@example.com").await;
    app.sign_in("owner@example.com", common::PASSWORD).await;
    create_org(&mut app, "ACME").await;
    assert_eq!(
        add(&mut app, "ACME", "viewer@example.com", Role::Viewer)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        add(
            &mut app,
            "ACME",
            "dev@example.com",
            Role::ClientAppDeveloper
        )
        .await
        .status,
        StatusCode::OK
    );
    app.sign_out().await;

    for email in ["viewer@example.com", "dev@example.com"] {
        app.sign_in(email, common::PASSWORD).await;
        // Members may view.
        assert_eq!(
            app.call::<GetOrg>(&[("org", "ACME")]).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.call::<ListMembers>(&[("org", "ACME")]).await.status,
            StatusCode::OK
        );
        // But not edit the organization or manage members.
        let refused = [
            app.call::<UpdateOrgDescription>(&[("org", "ACME"), ("description", "x")])
                .await,
            add(&mut app, "ACME", "outsider@example.com", Role::Viewer).await,
            app.call::<ChangeMemberRole>(&[
                ("org", "ACME"),
                ("user_id", &viewer),
                ("role", "owner"),
            ])
            .await,
            app.call::<RemoveMember>(&[("org", "ACME"), ("user_id", &dev)])
                .await,
        ];
        for r in refused {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{email}: {}", r.body);
        }
        app.sign_out().await;
    }

    // Outsiders cannot even see it.
    app.sign_in("outsider@example.com", common::PASSWORD).await;
    assert_eq!(
        app.call::<GetOrg>(&[("org", "ACME")]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call::<ListMembers>(&[("org", "ACME")]).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .call::<OrgChangeLog>(&[("org", "ACME"), ("page", "1"), ("per_page", "10")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        app.call::<ListOrgs>(&[])
            .await
            .json::<Vec<OrgSummary>>()
            .is_empty()
    );
    app.sign_out().await;

    // Nothing was changed by the refused calls.
    let org = service::organizations::get(
        &app.db,
        &service::Ctx {
            user_id: viewer.clone(),
            email: String::new(),
            display_name: String::new(),
            is_admin: true,
            portal_only: false,
            via_portal: false,
            grant: None,
        },
        "ACME",
    )
    .await
    .unwrap();
    assert_eq!(org.description, "Support team");
    assert_eq!(org.member_count, 3);

    // Anonymous calls are refused with 401.
    assert_eq!(
        app.call::<GetOrg>(&[("org", "ACME")]).await.status,
        StatusCode::UNAUTHORIZED
    );
});

on_both!(the_last_owner_stays, |app| {
    let owner = user(&mut app, "owner@example.com").await;
    let second = user(&mut app, "second@example.com").await;
    app.sign_in("owner@example.com", common::PASSWORD).await;
    create_org(&mut app, "ACME").await;

    let r = app
        .call::<RemoveMember>(&[("org", "ACME"), ("user_id", &owner)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.error().general().as_deref(),
        Some("An organization must keep at least one owner.")
    );
    let r = app
        .call::<ChangeMemberRole>(&[("org", "ACME"), ("user_id", &owner), ("role", "viewer")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    add(&mut app, "ACME", "second@example.com", Role::ApiDeveloper).await;
    let r = app
        .call::<ChangeMemberRole>(&[("org", "ACME"), ("user_id", &second), ("role", "owner")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .call::<ChangeMemberRole>(&[("org", "ACME"), ("user_id", &owner), ("role", "viewer")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let members: Vec<MemberDto> = app.call::<ListMembers>(&[("org", "ACME")]).await.json();
    let roles: Vec<(String, Role)> = members.into_iter().map(|m| (m.email, m.role)).collect();
    assert_eq!(
        roles,
        [
            ("second@example.com".to_owned(), Role::Owner),
            ("owner@example.com".to_owned(), Role::Viewer)
        ]
    );
    // The former owner is now a Viewer and can no longer manage members.
    let r = app
        .call::<RemoveMember>(&[("org", "ACME"), ("user_id", &second)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

on_both!(administrators_bypass_membership, |app| {
    service::accounts::ensure_first_admin(
        &app.db,
        "admin@example.com",
        "Admin",
        common::PASSWORD,
        false,
    )
    .await
    .unwrap();
    user(&mut app, "owner@example.com").await;
    app.sign_in("owner@example.com", common::PASSWORD).await;
    create_org(&mut app, "ACME").await;
    app.sign_out().await;
    app.sign_in("admin@example.com", common::PASSWORD).await;
    let org: OrgDetail = app.call::<GetOrg>(&[("org", "ACME")]).await.json();
    assert_eq!(org.role, None);
    assert_eq!(org.permissions.len(), Permission::ALL.len());
    let r = app
        .call::<UpdateOrgDescription>(&[("org", "ACME"), ("description", "Checked")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
});
