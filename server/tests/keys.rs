//! API keys through the real router on SQLite and PostgreSQL: rotate with each overlap, add a
//! generated or brought key, revoke, show (with its Change Log row), every refusal, the portal's
//! actions, the migration from plain keys, and a database dump that holds no key.

mod common;

use app::api::contracts::CreateContract;
use app::api::entities::{CreateEntity, EntityChangeLog, GetClientVersion};
use app::api::keys::{ChangeApiKey, RevokeApiKey, ShowApiKey};
use app::api::lifecycle::{RunVersionAction, SetApiPlans};
use app::api::orgs::{AddMember, CreateOrg};
use app::api::portal::MyClients;
use axum::http::StatusCode;
use common::{PASSWORD, TestApp, contains, dump};
use domain::credentials::KeyState;
use domain::dto::{
    ApiKeyDto, AuditEntryDto, ClientVersionDetail, MyClientVersion, NewApiKey, Page,
};
use sea_orm::ConnectionTrait;
use serde_json::json;

const OWNER: &str = "kim@example.com";
const VIEWER: &str = "val@example.com";
const STRANGER: &str = "sam@example.com";

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn as_user(app: &mut TestApp, email: &str) {
    app.sign_out().await;
    ok(app.sign_in(email, PASSWORD).await).await;
}

/// Organization Acme with a published API Weather offering plan Gold, and client App 1.0 with a
/// contract, registered. Val is a Viewer of Acme; Sam has an account of his own. Ends signed in
/// as Kim, Acme's owner.
async fn world(app: &mut TestApp) {
    for (email, name) in [(VIEWER, "Val Viewer"), (STRANGER, "Sam Stranger")] {
        ok(app.sign_up(email, name).await).await;
        app.sign_out().await;
    }
    ok(app.sign_up(OWNER, "Kim Owner").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await)
    .await;
    ok(app
        .call::<AddMember>(&[("org", "Acme"), ("email", VIEWER), ("role", "viewer")])
        .await)
    .await;
    for (kind, name, endpoint) in [
        ("Plan", "Gold", ""),
        ("Api", "Weather", "https://backend.example.com/v1"),
        ("Client", "App", ""),
    ] {
        ok(app
            .call::<CreateEntity>(&[
                ("kind", kind),
                ("org", "Acme"),
                ("name", name),
                ("version", "1.0"),
                ("description", ""),
                ("endpoint", endpoint),
            ])
            .await)
        .await;
    }
    let act = |kind: &'static str, id: &'static str, what: &'static str| {
        [
            ("kind", kind),
            ("org", "Acme"),
            ("id", id),
            ("version", "1.0"),
            ("action", what),
        ]
    };
    ok(app
        .call::<RunVersionAction>(&act("Plan", "Gold", "Lock"))
        .await)
    .await;
    ok(app
        .call_json::<SetApiPlans>(json!({
            "org": "Acme", "api": "Weather", "version": "1.0",
            "plans": [{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"}]
        }))
        .await)
    .await;
    ok(app
        .call::<RunVersionAction>(&act("Api", "Weather", "Publish"))
        .await)
    .await;
    ok(app
        .call::<CreateContract>(&[
            ("org", "Acme"),
            ("client", "App"),
            ("version", "1.0"),
            ("api_org", "Acme"),
            ("api", "Weather"),
            ("api_version", "1.0"),
            ("plan", "Gold"),
        ])
        .await)
    .await;
    ok(app
        .call::<RunVersionAction>(&act("Client", "App", "Register"))
        .await)
    .await;
}

async fn detail(app: &mut TestApp) -> ClientVersionDetail {
    ok(app
        .call::<GetClientVersion>(&[("org", "Acme"), ("client", "App"), ("version", "1.0")])
        .await)
    .await
    .json()
}

async fn keys(app: &mut TestApp) -> Vec<ApiKeyDto> {
    detail(app).await.keys
}

async fn change(app: &mut TestApp, request: serde_json::Value) -> common::Reply {
    app.call_json::<ChangeApiKey>(json!({
        "org": "Acme", "client": "App", "version": "1.0", "request": request
    }))
    .await
}

async fn rotate(app: &mut TestApp, overlap: serde_json::Value) -> NewApiKey {
    ok(change(app, json!({"Rotate": {"overlap": overlap, "label": ""}})).await)
        .await
        .json()
}

async fn show(app: &mut TestApp, id: i64) -> common::Reply {
    app.call::<ShowApiKey>(&[
        ("org", "Acme"),
        ("client", "App"),
        ("version", "1.0"),
        ("key_id", id.to_string().as_str()),
    ])
    .await
}

async fn revoke(app: &mut TestApp, id: i64) -> common::Reply {
    app.call::<RevokeApiKey>(&[
        ("org", "Acme"),
        ("client", "App"),
        ("version", "1.0"),
        ("key_id", id.to_string().as_str()),
    ])
    .await
}

async fn summaries(app: &mut TestApp) -> Vec<String> {
    let page: Page<AuditEntryDto> = ok(app
        .call::<EntityChangeLog>(&[
            ("kind", "Client"),
            ("org", "Acme"),
            ("id", "App"),
            ("page", "1"),
            ("per_page", "100"),
        ])
        .await)
    .await
    .json();
    page.items.into_iter().map(|e| e.summary).collect()
}

async fn gateway_version(app: &TestApp) -> i64 {
    service::gateway::config_version(&app.db).await.unwrap()
}

on_both!(rotation_keeps_the_old_key_working_for_the_overlap, |app| {
    world(&mut app).await;
    let first = ApiKeyDto::current(&keys(&mut app).await).unwrap().clone();
    assert_eq!(first.state, KeyState::Active);
    let first_value: String = ok(show(&mut app, first.id).await).await.json();

    // Rotating while Registered: a new key at once; the old one works for a day.
    let before = gateway_version(&app).await;
    let new = rotate(&mut app, json!("OneDay")).await;
    assert!(gateway_version(&app).await > before, "the gateway is told");
    assert_ne!(new.secret, first_value);
    assert_eq!(new.key.last4, domain::credentials::last4(&new.secret));
    let list = keys(&mut app).await;
    assert_eq!(list.len(), 2);
    assert_eq!(ApiKeyDto::current(&list).unwrap().id, new.key.id);
    let old = list.iter().find(|k| k.id == first.id).unwrap();
    let KeyState::Expiring(until) = old.state else {
        panic!("the old key expires: {:?}", old.state)
    };
    let hours = (until - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours), "{hours} minutes");

    // Each overlap sets the end it names; "until revoked" sets none.
    let r = rotate(&mut app, json!("OneHour")).await;
    let list = keys(&mut app).await;
    let prev = list.iter().find(|k| k.id == new.key.id).unwrap();
    let minutes = (prev.expires_on.unwrap() - chrono::Utc::now()).num_minutes();
    assert!((58..=60).contains(&minutes), "{minutes}");
    let r2 = rotate(&mut app, json!("UntilRevoked")).await;
    let list = keys(&mut app).await;
    assert_eq!(
        list.iter().find(|k| k.id == r.key.id).unwrap().state,
        KeyState::Active
    );
    let at = chrono::Utc::now() + chrono::Duration::days(3);
    rotate(&mut app, json!({"Until": at})).await;
    let list = keys(&mut app).await;
    let ended = list.iter().find(|k| k.id == r2.key.id).unwrap();
    assert_eq!(
        ended.expires_on.unwrap().timestamp(),
        at.timestamp(),
        "a picked moment"
    );
    // An earlier end is never pushed back by a later rotation.
    assert_eq!(
        list.iter().find(|k| k.id == new.key.id).unwrap().expires_on,
        prev.expires_on
    );

    // A picked moment in the past is refused next to its field, and nothing is written.
    let count = app.count("client_keys").await;
    let r = change(
        &mut app,
        json!({"Rotate": {"overlap": {"Until": chrono::Utc::now() - chrono::Duration::hours(1)}, "label": ""}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error().field("overlap_until").unwrap().contains("future"));
    assert_eq!(app.count("client_keys").await, count);

    let log = summaries(&mut app).await;
    assert!(
        log.iter().any(|s| s.starts_with(&format!(
            "Rotated the API key …{} of version 1.0: the new key is …{}",
            first.last4, new.key.last4
        ))),
        "{log:?}"
    );
});

on_both!(revoking_names_the_key_and_ends_it_at_once, |app| {
    world(&mut app).await;
    let first = ApiKeyDto::current(&keys(&mut app).await).unwrap().clone();
    let new = rotate(&mut app, json!("SevenDays")).await;
    let before = gateway_version(&app).await;
    ok(revoke(&mut app, first.id).await).await;
    assert!(gateway_version(&app).await > before);
    let list = keys(&mut app).await;
    let revoked = list.iter().find(|k| k.id == first.id).unwrap();
    assert!(matches!(revoked.state, KeyState::Revoked(_)));
    assert_eq!(ApiKeyDto::current(&list).unwrap().id, new.key.id);
    // Twice is refused, and so is a key of another version or an unknown id.
    let r = revoke(&mut app, first.id).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("already revoked"));
    for id in [999_999, i64::MAX] {
        let r = revoke(&mut app, id).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    let log = summaries(&mut app).await;
    assert!(log.contains(&format!(
        "Revoked the API key …{} of version 1.0",
        first.last4
    )));
});

on_both!(showing_a_key_is_for_editors_and_in_the_change_log, |app| {
    world(&mut app).await;
    let key = ApiKeyDto::current(&keys(&mut app).await).unwrap().clone();
    let value: String = ok(show(&mut app, key.id).await).await.json();
    assert!(value.ends_with(&key.last4));
    assert!(
        summaries(&mut app)
            .await
            .contains(&format!("API key …{} shown to Kim Owner", key.last4))
    );
    // The detail never carries a key.
    let d = ok(app
        .call::<GetClientVersion>(&[("org", "Acme"), ("client", "App"), ("version", "1.0")])
        .await)
    .await;
    assert!(!d.body.contains(&value));

    // A Viewer lists the keys but may not show, rotate or revoke one.
    as_user(&mut app, VIEWER).await;
    assert_eq!(keys(&mut app).await.len(), 1);
    for r in [
        show(&mut app, key.id).await,
        revoke(&mut app, key.id).await,
        change(
            &mut app,
            json!({"Rotate": {"overlap": "OneDay", "label": ""}}),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    // A stranger learns nothing, not even that the client exists.
    as_user(&mut app, STRANGER).await;
    for r in [
        show(&mut app, key.id).await,
        revoke(&mut app, key.id).await,
        change(
            &mut app,
            json!({"Rotate": {"overlap": "OneDay", "label": ""}}),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    assert_eq!(app.count("client_keys").await, 1);
});

on_both!(brought_keys_follow_the_rules_and_are_unique, |app| {
    world(&mut app).await;
    let own = |key: &str| json!({"Add": {"label": "From Kong", "own": key, "expires_on": null}});
    for (key, rule) in [
        ("short-key-1", "at least 20 characters"),
        ("legacy gateway key 0001", "U+0020"),
        ("legacy+gateway+key+0001", "“+”"),
        (&"k".repeat(200), "at most 128"),
    ] {
        let r = change(&mut app, own(key)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let message = r.error().field("own_key").unwrap();
        assert!(message.contains(rule), "{key}: {message}");
    }
    let brought = "kong-legacy-key-0000000001";
    let added: NewApiKey = ok(change(&mut app, own(brought)).await).await.json();
    assert_eq!(added.secret, brought);
    assert_eq!(added.key.label.as_deref(), Some("From Kong"));
    assert_eq!(added.key.last4, "0001");
    // Unique across Tollgate: another client (of another organization) cannot bring it.
    let r = change(&mut app, own(brought)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.error()
            .field("own_key")
            .unwrap()
            .contains("already in use")
    );

    // An added key with an expiry; a label too long; an expiry in the past.
    let at = chrono::Utc::now() + chrono::Duration::days(30);
    let added: NewApiKey = ok(change(
        &mut app,
        json!({"Add": {"label": "", "own": null, "expires_on": at}}),
    )
    .await)
    .await
    .json();
    assert!(matches!(added.key.state, KeyState::Expiring(_)));
    let r = change(
        &mut app,
        json!({"Add": {"label": "x".repeat(61), "own": null, "expires_on": null}}),
    )
    .await;
    assert!(r.error().field("label").is_some(), "{}", r.body);
    let r = change(
        &mut app,
        json!({"Add": {"label": "", "own": null, "expires_on": chrono::Utc::now()}}),
    )
    .await;
    assert!(r.error().field("expires_on").is_some(), "{}", r.body);

    // At most 25 working keys.
    for _ in 3..domain::credentials::MAX_LIVE_KEYS {
        ok(change(
            &mut app,
            json!({"Add": {"label": "", "own": null, "expires_on": null}}),
        )
        .await)
        .await;
    }
    assert_eq!(
        keys(&mut app).await.len(),
        domain::credentials::MAX_LIVE_KEYS
    );
    let r = rotate_raw(&mut app).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("at most 25 working keys"));
    assert!(
        summaries(&mut app)
            .await
            .iter()
            .any(|s| s == "Added the brought API key …0001 to version 1.0")
    );
});

async fn rotate_raw(app: &mut TestApp) -> common::Reply {
    change(app, json!({"Rotate": {"overlap": "OneDay", "label": ""}})).await
}

on_both!(the_portal_shows_the_same_keys_and_actions, |app| {
    world(&mut app).await;
    let mine: Vec<MyClientVersion> = ok(app.call::<MyClients>(&[]).await).await.json();
    assert_eq!(mine.len(), 1);
    assert!(mine[0].can_edit);
    let key = ApiKeyDto::current(&mine[0].keys).unwrap().clone();
    let via_portal = |what: &str| -> Vec<(&'static str, String)> {
        vec![
            ("org", "Acme".into()),
            ("client", "App".into()),
            ("version", "1.0".into()),
            ("key_id", what.to_owned()),
            ("portal", "true".into()),
        ]
    };
    let form = via_portal(&key.id.to_string());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let shown: String = ok(app.call::<ShowApiKey>(&form).await).await.json();
    assert!(shown.ends_with(&key.last4));
    let new: NewApiKey = ok(app
        .call_json::<ChangeApiKey>(json!({
            "org": "Acme", "client": "App", "version": "1.0", "portal": true,
            "request": {"Rotate": {"overlap": "OneHour", "label": "portal"}}
        }))
        .await)
    .await
    .json();
    ok(app.call::<RevokeApiKey>(&form).await).await;
    let mine: Vec<MyClientVersion> = ok(app.call::<MyClients>(&[]).await).await.json();
    assert_eq!(mine[0].keys.len(), 2);
    assert_eq!(ApiKeyDto::current(&mine[0].keys).unwrap().id, new.key.id);

    // A Viewer sees the keys in My Clients, without the right to act on them.
    as_user(&mut app, VIEWER).await;
    let mine: Vec<MyClientVersion> = ok(app.call::<MyClients>(&[]).await).await.json();
    assert!(!mine[0].can_edit);
    let form = via_portal(&new.key.id.to_string());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.call::<ShowApiKey>(&form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
});

/// Every key value the world holds, as a user with clientEdit would see them.
async fn all_key_values(app: &mut TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for k in keys(app).await {
        out.push(ok(show(app, k.id).await).await.json::<String>());
    }
    out
}

on_both!(a_database_dump_holds_no_key, |app| {
    world(&mut app).await;
    rotate(&mut app, json!("OneDay")).await;
    ok(change(
        &mut app,
        json!({"Add": {"label": "", "own": "brought-key-for-the-dump-0001", "expires_on": null}}),
    )
    .await)
    .await;
    let values = all_key_values(&mut app).await;
    assert_eq!(values.len(), 3);
    let bytes = dump(&app).await;
    assert!(bytes.len() > 10_000, "a real dump");
    assert!(
        contains(&bytes, "client_keys"),
        "the dump has the keys table"
    );
    for v in &values {
        assert!(
            !contains(&bytes, v),
            "the key …{} is in the dump",
            &v[v.len() - 4..]
        );
        // Nor its SHA-256, which the old schema kept next to it.
        assert!(!contains(&bytes, &service::sessions::hash_token(v)));
    }
});

on_both!(
    the_migration_seals_plain_keys_and_drops_the_columns,
    |app| {
        use sea_orm_migration::MigratorTrait;
        use service::migration::Migrator;
        world(&mut app).await;
        let before = all_key_values(&mut app).await;
        assert_eq!(before.len(), 1);

        // Back to one plain key per version, as before this migration: the key is in the column.
        let steps = common::steps_back_to("m20261202_000007_client_keys");
        Migrator::down(&app.db, Some(steps)).await.unwrap();
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT api_key FROM client_versions",
            ))
            .await
            .unwrap()
            .unwrap();
        let plain: String = row.try_get("", "api_key").unwrap();
        assert_eq!(plain, before[0]);

        // Forward again: the plain key becomes a sealed key that still works, and the columns are gone.
        Migrator::up(&app.db, None).await.unwrap();
        assert_eq!(all_key_values(&mut app).await, before);
        let columns = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT * FROM client_versions",
            ))
            .await
            .unwrap();
        assert_eq!(columns.len(), 1);
        assert!(columns[0].try_get::<String>("", "api_key").is_err());
        assert!(columns[0].try_get::<String>("", "api_key_hash").is_err());
        // The rebuilt table kept its rows, its constraints and what refers to it.
        assert_eq!(app.count("contracts").await, 1);
        let dup = app
        .db
        .execute_unprepared(
            "INSERT INTO client_versions (org_id, client_id, version, status, created_by, created_on, modified_by, modified_on, changed_since_registration) \
             SELECT org_id, client_id, version, status, created_by, created_on, modified_by, modified_on, changed_since_registration FROM client_versions",
        )
        .await;
        assert!(
            dup.is_err(),
            "the unique (org, client, version) index is back"
        );
        assert_eq!(detail(&mut app).await.keys.len(), 1);
        // The gateway's snapshot finds the version by its key.
        let snapshot = service::gateway::load_snapshot(&app.db).await.unwrap();
        assert!(matches!(
            snapshot.check_key(&before[0], chrono::Utc::now()),
            service::gateway::KeyVerdict::Works(_)
        ));
    }
);

on_both!(another_secret_is_refused_at_start, |app| {
    world(&mut app).await;
    // The database remembers the secret's check value; a different one is refused at start.
    app.db
        .execute_unprepared(
            "UPDATE platform_settings SET value = 'not-this-secret' WHERE key = 'secret_key_check'",
        )
        .await
        .unwrap();
    let err = service::db::connect(&app.url).await.unwrap_err();
    assert!(err.to_string().contains("server secret"), "{err}");
});
