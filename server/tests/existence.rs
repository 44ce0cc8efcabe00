//! Permission before existence: an outsider asking about an object of an organization they
//! cannot see gets the same 404 whether the object exists or not, and nothing is written.
//! Through the real router on SQLite and PostgreSQL.

mod common;

use app::api::entities::{CreateEntity, GetApiVersion, GetClientVersion};
use app::api::lifecycle::{DeleteEntity, UpdateApiDefinition};
use app::api::orgs::CreateOrg;
use app::api::portal::MyClientActionFn;
use axum::http::StatusCode;
use common::TestApp;
use leptos::server_fn::ServerFn;

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

/// What is counted to show that a refused call wrote nothing.
const TABLES: [&str; 6] = [
    "clients",
    "client_versions",
    "apis",
    "api_versions",
    "contracts",
    "audit_entries",
];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push(app.count(t).await);
    }
    out
}

/// One call, made for an existing object and for a missing one in the same organization.
struct Probe {
    path: &'static str,
    existing: Vec<(&'static str, &'static str)>,
    missing: Vec<(&'static str, &'static str)>,
}

fn probes() -> Vec<Probe> {
    let client = |id, action| {
        vec![
            ("org", "Acme"),
            ("client", id),
            ("version", "1.0"),
            ("action", action),
        ]
    };
    vec![
        Probe {
            path: MyClientActionFn::PATH,
            existing: client("App", "Remove"),
            missing: client("Nothing", "Remove"),
        },
        Probe {
            path: MyClientActionFn::PATH,
            existing: client("App", "Register"),
            missing: client("Nothing", "Register"),
        },
        Probe {
            path: GetClientVersion::PATH,
            existing: vec![("org", "Acme"), ("client", "App"), ("version", "1.0")],
            missing: vec![("org", "Acme"), ("client", "Nothing"), ("version", "1.0")],
        },
        Probe {
            path: GetApiVersion::PATH,
            existing: vec![("org", "Acme"), ("api", "Weather"), ("version", "1.0")],
            missing: vec![("org", "Acme"), ("api", "Nothing"), ("version", "1.0")],
        },
        Probe {
            path: UpdateApiDefinition::PATH,
            existing: vec![
                ("org", "Acme"),
                ("api", "Weather"),
                ("version", "1.0"),
                ("definition", ""),
            ],
            missing: vec![
                ("org", "Acme"),
                ("api", "Nothing"),
                ("version", "1.0"),
                ("definition", ""),
            ],
        },
        Probe {
            path: DeleteEntity::PATH,
            existing: vec![("kind", "Client"), ("org", "Acme"), ("id", "App")],
            missing: vec![("kind", "Client"), ("org", "Acme"), ("id", "Nothing")],
        },
    ]
}

on_both!(
    outsiders_cannot_tell_hidden_objects_from_missing_ones,
    |app| {
        ok(app.sign_up("olive@example.com", "Olive Owner").await).await;
        ok(app
            .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
            .await)
        .await;
        for (kind, name) in [("Client", "App"), ("Api", "Weather")] {
            ok(app
                .call::<CreateEntity>(&[
                    ("kind", kind),
                    ("org", "Acme"),
                    ("name", name),
                    ("version", "1.0"),
                    ("description", ""),
                    ("endpoint", ""),
                ])
                .await)
            .await;
        }
        app.sign_out().await;
        ok(app.sign_up("eve@example.com", "Eve Outsider").await).await;

        let before = counts(&app).await;
        for probe in probes() {
            let existing = app.post_form(probe.path, &probe.existing).await;
            let missing = app.post_form(probe.path, &probe.missing).await;
            assert_eq!(
                existing.status,
                StatusCode::NOT_FOUND,
                "{}: {}",
                probe.path,
                existing.body
            );
            assert_eq!(
                (existing.status, &existing.body),
                (missing.status, &missing.body),
                "{} tells an existing object from a missing one",
                probe.path
            );
            assert_eq!(counts(&app).await, before, "{} wrote something", probe.path);
        }
    }
);
