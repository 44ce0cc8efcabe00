//! The role × operation matrix of the REST API, generated from its OpenAPI document.
//!
//! A world is built through the REST API and the server functions: organizations Acme and Beta,
//! each with locked plans offered by a published API, a registered client with a contract, a
//! policy on each kind of version, a pending approval and notifications. Six callers, each with
//! its own read-write personal access token (anonymous: none): anonymous, an outsider (owner of
//! a third organization only), a Viewer and a Client App Developer of Acme, Acme's owner and the
//! platform administrator. Nobody but the administrator has a role in Beta.
//!
//! Every operation of `/api/v1/openapi.json` (the `{kind}` ones once per kind) is called by every
//! caller, with its path parameters naming Acme's objects, then Beta's, and a well-formed body
//! from [`body`]. The answer expected comes from the permission table [`NEEDS`] (keyed by
//! operationId; an operation of the document missing from it fails the test) and
//! `domain::Role::grants`: an administrator may do everything, a member what the role grants
//! (else 403), someone without a role in the organization gets 404 (the object is hidden), and
//! an anonymous caller 401. Every call is judged on the world as it was built: after any write
//! that succeeded, the database is restored from a snapshot (SQLite: `VACUUM INTO` and a copy of
//! the file; PostgreSQL: a copy of every table, put back in one transaction).
//!
//! It runs whole on both SQLite and PostgreSQL (900 calls each, 5 to 20 s in a debug build).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use app::api::account::CreateAccessToken;
use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Backend, Reply, TestApp};
use domain::dto::CreatedAccessToken;
use domain::{EntityKind, Permission, Role};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const ADMIN: &str = "admin@example.com";
const OWNER: &str = "kim@example.com";
const VIEWER: &str = "vic@example.com";
const DEVELOPER: &str = "dev@example.com";
const OUTSIDER: &str = "otto@example.com";
const BETA_OWNER: &str = "bea@example.com";
const EXTRA: &str = "ed@example.com";

const DEFINITION: &str = "openapi: 3.0.3\ninfo:\n  title: Weather\n  version: '1.0'\npaths:\n  /forecast:\n    get:\n      summary: Forecast\n";

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Outsider,
    Viewer,
    ClientAppDeveloper,
    Owner,
    Admin,
}

impl Who {
    fn short(self) -> &'static str {
        match self {
            Who::Anonymous => "anon",
            Who::Outsider => "outsider",
            Who::Viewer => "viewer",
            Who::ClientAppDeveloper => "cad",
            Who::Owner => "owner",
            Who::Admin => "admin",
        }
    }

    /// The caller's role in Acme (nobody's but the administrator's counts in Beta).
    fn role_in_acme(self) -> Option<Role> {
        match self {
            Who::Viewer => Some(Role::Viewer),
            Who::ClientAppDeveloper => Some(Role::ClientAppDeveloper),
            Who::Owner => Some(Role::Owner),
            Who::Anonymous | Who::Outsider | Who::Admin => None,
        }
    }
}

/// What an operation needs.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// Any signed-in caller (it acts on the caller's own things: their organizations,
    /// notifications, approvals).
    SignedIn,
    /// A permission in the organization the path names (for contracts: the client's or the
    /// API's organization, which are the same in this world).
    Org(Permission),
    /// The `{kind}`'s view, edit or admin permission.
    KindView,
    KindEdit,
    KindAdmin,
    /// Metrics: the kind's view permission; plans have no metrics (404 for everyone).
    Metrics,
}

/// The permission table: every operationId of the document, with what it needs.
const NEEDS: &[(&str, Need)] = {
    use Need::*;
    use Permission::*;
    &[
        ("listOrgs", SignedIn),
        ("createOrg", SignedIn),
        ("getOrg", Org(OrgView)),
        ("updateOrg", Org(OrgEdit)),
        ("listMembers", Org(OrgView)),
        ("addMember", Org(OrgAdmin)),
        ("changeMember", Org(OrgAdmin)),
        ("removeMember", Org(OrgAdmin)),
        ("listOrgChanges", Org(OrgView)),
        ("listEntities", KindView),
        ("createEntity", KindEdit),
        ("updateEntity", KindEdit),
        ("deleteEntity", KindAdmin),
        ("createVersion", KindEdit),
        ("listEntityChanges", KindView),
        ("listPolicies", KindView),
        ("addPolicy", KindEdit),
        ("getPolicy", KindView),
        ("updatePolicy", KindEdit),
        ("removePolicy", KindEdit),
        ("reorderPolicies", KindEdit),
        ("getMetrics", Metrics),
        ("getClientVersion", Org(ClientView)),
        ("registerClient", Org(ClientAdmin)),
        ("unregisterClient", Org(ClientAdmin)),
        ("changeKey", Org(ClientEdit)),
        ("revokeKey", Org(ClientEdit)),
        ("revealKey", Org(ClientEdit)),
        ("listClientContracts", Org(ClientView)),
        ("createContract", Org(ClientEdit)),
        ("breakAllContracts", Org(ClientEdit)),
        ("getApiVersion", Org(ApiView)),
        ("setImplementation", Org(ApiEdit)),
        ("getDefinition", Org(ApiView)),
        ("setDefinition", Org(ApiEdit)),
        ("setPlans", Org(ApiEdit)),
        ("publishApi", Org(ApiAdmin)),
        ("retireApi", Org(ApiAdmin)),
        ("listApiContracts", Org(ApiView)),
        ("getChains", Org(ApiView)),
        ("getPlanVersion", Org(PlanView)),
        ("lockPlan", Org(PlanAdmin)),
        ("breakContract", Org(ClientEdit)),
        ("getPlanChoices", Org(ClientEdit)),
        ("changePlan", Org(ClientEdit)),
        ("approveContract", Org(PlanAdmin)),
        ("rejectContract", Org(PlanAdmin)),
        ("revokeContract", Org(PlanAdmin)),
        ("listApprovals", SignedIn),
        ("listNotifications", SignedIn),
        ("markNotificationsRead", SignedIn),
        ("listPolicyDefinitions", SignedIn),
        // Export shows what the caller may view; apply acts through the same service
        // functions, each with its own permission (here: creating an organization).
        ("exportConfig", SignedIn),
        ("applyConfig", SignedIn),
    ]
};

fn need(op: &str) -> Option<Need> {
    NEEDS.iter().find(|(id, _)| *id == op).map(|(_, n)| *n)
}

/// The permission `need` asks for on `kind`; `None`: nobody may (plans' metrics).
fn permission(need: Need, kind: Option<EntityKind>) -> Option<Permission> {
    let kind = || kind.expect("a {kind} operation");
    match need {
        Need::SignedIn => unreachable!("not an organization's operation"),
        Need::Org(p) => Some(p),
        Need::KindView => Some(kind().view_permission()),
        Need::KindEdit => Some(kind().edit_permission()),
        Need::KindAdmin => Some(match kind() {
            EntityKind::Client => Permission::ClientAdmin,
            EntityKind::Api => Permission::ApiAdmin,
            EntityKind::Plan => Permission::PlanAdmin,
        }),
        Need::Metrics => (kind() != EntityKind::Plan).then(|| kind().view_permission()),
    }
}

/// What the permission table says `who` gets in Acme (`in_acme`) or in Beta: `Ok(())` allowed,
/// `Err(status)` refused with it.
fn expected(who: Who, need: Need, kind: Option<EntityKind>, in_acme: bool) -> Result<(), u16> {
    if who == Who::Anonymous {
        return Err(401);
    }
    if matches!(need, Need::SignedIn) {
        return Ok(());
    }
    let Some(p) = permission(need, kind) else {
        return Err(404);
    };
    if who == Who::Admin {
        return Ok(());
    }
    match who.role_in_acme().filter(|_| in_acme) {
        None => Err(404),
        Some(role) if role.grants(p) => Ok(()),
        Some(_) => Err(403),
    }
}

/// The objects of one organization that paths name.
#[derive(Debug, Default)]
struct OrgWorld {
    org: String,
    /// Policy ids by `"{segment}/{id}"`.
    policies: BTreeMap<String, i64>,
    /// A key of client App 1.0.
    key: i64,
    /// App 1.0's contract (Gold, in force).
    contract: i64,
    /// Mobile 1.0's contract awaiting approval (Premium).
    pending: i64,
    /// A member that the member operations change (a Viewer).
    member: String,
}

/// Which kind of version a path names: its `{kind}`, or the literal segment before `{id}`.
fn entity_of(template: &str, kind: Option<EntityKind>) -> Option<EntityKind> {
    kind.or_else(|| {
        EntityKind::ALL
            .into_iter()
            .find(|k| template.contains(&format!("/{}/{{id}}", k.segment())))
    })
}

/// Which object a path names for an operation: `(id, version)`. Changes that the built objects'
/// state would refuse go to objects that allow them (an unpublished API, an unlocked plan, a
/// client without contracts).
fn target(op: &str, entity: Option<EntityKind>) -> (&'static str, &'static str) {
    let policies = [
        "listPolicies",
        "addPolicy",
        "getPolicy",
        "updatePolicy",
        "removePolicy",
        "reorderPolicies",
    ]
    .contains(&op);
    let id = match entity {
        Some(EntityKind::Client) if ["deleteEntity", "createContract"].contains(&op) => "Spare",
        Some(EntityKind::Client) => "App",
        Some(EntityKind::Api)
            if policies
                || [
                    "deleteEntity",
                    "setImplementation",
                    "setDefinition",
                    "setPlans",
                    "publishApi",
                ]
                .contains(&op) =>
        {
            "Draft"
        }
        Some(EntityKind::Api) => "Weather",
        Some(EntityKind::Plan) if policies || ["deleteEntity", "lockPlan"].contains(&op) => {
            "Silver"
        }
        Some(EntityKind::Plan) => "Gold",
        None => "",
    };
    (id, "1.0")
}

/// The concrete path of `template` for `op` in `w`.
fn concrete(template: &str, op: &str, kind: Option<EntityKind>, w: &OrgWorld) -> String {
    let entity = entity_of(template, kind);
    let (id, version) = target(op, entity);
    let contract = if ["approveContract", "rejectContract"].contains(&op) {
        w.pending
    } else {
        w.contract
    };
    let segment = kind.map(EntityKind::segment);
    let policy_owner = entity
        .map(|k| format!("{}/{id}", k.segment()))
        .unwrap_or_default();
    let mut path = template
        .replace("{org}", &w.org)
        .replace("{kind}", segment.unwrap_or(""))
        .replace("{version}", version)
        .replace("{user}", &w.member)
        .replace("{key}", &w.key.to_string())
        .replace(
            "{policy}",
            &w.policies
                .get(&policy_owner)
                .copied()
                .unwrap_or(0)
                .to_string(),
        );
    path = if path.starts_with("/api/v1/contracts/") {
        path.replace("{id}", &contract.to_string())
    } else {
        path.replace("{id}", id)
    };
    assert!(!path.contains('{'), "{op}: a parameter left in {path}");
    path
}

/// A well-formed body for `op` (`None`: it takes none).
fn body(op: &str, kind: Option<EntityKind>, w: &OrgWorld) -> Option<Value> {
    let gold = json!({"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false,
        "discoverability": "all_users"});
    let limit = json!({"limit": 50, "granularity": "Client", "period": "Minute"});
    Some(match op {
        "createOrg" => json!({"name": "Zeta", "description": "New"}),
        "updateOrg" | "updateEntity" => json!({"description": "Changed by the matrix"}),
        "addMember" => json!({"email": "newbie@example.com", "role": "viewer"}),
        "changeMember" => json!({"role": "client_app_developer"}),
        "createEntity" => json!({"name": "Fresh", "version": "1.0",
            "endpoint": if kind == Some(EntityKind::Api) { "https://backend.example.com/fresh" } else { "" }}),
        "createVersion" => json!({"version": "9.0", "clone_from": "1.0"}),
        "addPolicy" => json!({"definition_id": "ip-blocklist",
            "configuration": {"ips": ["10.0.0.9"], "responseCode": 403}, "position": 0}),
        "updatePolicy" => json!({"configuration": limit}),
        "reorderPolicies" => {
            let (id, _) = target(op, kind);
            let owner = format!("{}/{id}", kind.expect("a {kind} operation").segment());
            json!({"ids": [w.policies[&owner]]})
        }
        "changeKey" => json!({"Rotate": {"overlap": "OneHour", "label": "matrix"}}),
        "createContract" => {
            json!({"api_org": w.org, "api": "Weather", "api_version": "1.0", "plan": "Gold"})
        }
        "setImplementation" => {
            json!({"endpoint": "https://backend.example.com/v2", "content_type": "JSON"})
        }
        "setDefinition" => json!({"definition": DEFINITION}),
        "setPlans" => json!({"plans": [gold]}),
        "changePlan" => json!({"plan": "Premium"}),
        "approveContract" => json!({"register": false}),
        "rejectContract" | "revokeContract" => json!({"reason": "The matrix says so"}),
        "markNotificationsRead" => json!({}),
        "applyConfig" => json!({"version": 1, "organizations": [{"name": "Zeta"}]}),
        _ => return None,
    })
}

async fn call(
    app: &mut TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut b = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, common::HOST);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .unwrap();
    app.send(req).await
}

fn ok(r: Reply) -> Reply {
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    r
}

/// Signs `email` up (or in), makes a read-write token for it and signs out.
async fn account(app: &mut TestApp, email: &str, sign_up: bool) -> String {
    if sign_up {
        ok(app.sign_up(email, email.split('@').next().unwrap()).await);
    } else {
        ok(app.sign_in(email, common::PASSWORD).await);
    }
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let created: CreatedAccessToken = ok(app
        .call_json::<CreateAccessToken>(json!({"input": {
            "name": "matrix", "expires_on": expires, "read_only": false, "orgs": null,
        }}))
        .await)
    .json();
    app.sign_out().await;
    created.secret
}

/// Builds one organization's objects with its owner's token `t`; `requester` (a Client App
/// Developer's token) asks for the contract that awaits approval.
async fn build_org(
    app: &mut TestApp,
    t: &str,
    requester: &str,
    org: &str,
    members: &[(&str, &str)],
) -> OrgWorld {
    let t = Some(t);
    ok(call(app, t, "POST", "/api/v1/orgs", Some(json!({"name": org}))).await);
    let base = format!("/api/v1/orgs/{org}");
    for (email, role) in members {
        let r = call(
            app,
            t,
            "POST",
            &format!("{base}/members"),
            Some(json!({"email": email, "role": role})),
        )
        .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    let mut w = OrgWorld {
        org: org.to_owned(),
        ..Default::default()
    };
    let rate = json!({"definition_id": "rate-limiting",
        "configuration": {"limit": 100, "granularity": "Client", "period": "Minute"}});
    for (segment, id, endpoint, policy) in [
        ("plans", "Gold", "", true),
        ("plans", "Premium", "", false),
        ("plans", "Silver", "", true),
        ("apis", "Weather", "https://backend.example.com/v1", true),
        ("apis", "Draft", "https://backend.example.com/draft", true),
        ("clients", "App", "", true),
        ("clients", "Mobile", "", false),
        ("clients", "Spare", "", false),
    ] {
        ok(call(
            app,
            t,
            "POST",
            &format!("{base}/{segment}"),
            Some(json!({"name": id, "version": "1.0", "endpoint": endpoint})),
        )
        .await);
        if policy {
            let p: Value = ok(call(
                app,
                t,
                "POST",
                &format!("{base}/{segment}/{id}/versions/1.0/policies"),
                Some(rate.clone()),
            )
            .await)
            .json();
            w.policies
                .insert(format!("{segment}/{id}"), p["id"].as_i64().unwrap());
        }
    }
    for plan in ["Gold", "Premium"] {
        ok(call(
            app,
            t,
            "POST",
            &format!("{base}/plans/{plan}/versions/1.0/lock"),
            None,
        )
        .await);
    }
    let weather = format!("{base}/apis/Weather/versions/1.0");
    ok(call(app, t, "PUT", &format!("{weather}/plans"), Some(json!({"plans": [
        {"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"},
        {"plan_id": "Premium", "plan_version": "1.0", "requires_approval": true, "discoverability": "all_users"},
    ]}))).await);
    ok(call(
        app,
        t,
        "PUT",
        &format!("{weather}/definition"),
        Some(json!({"definition": DEFINITION})),
    )
    .await);
    ok(call(app, t, "POST", &format!("{weather}/publish"), None).await);
    let draft = format!("{base}/apis/Draft/versions/1.0");
    ok(call(app, t, "PUT", &format!("{draft}/plans"), Some(json!({"plans": [
        {"plan_id": "Gold", "plan_version": "1.0", "requires_approval": false, "discoverability": "all_users"},
    ]}))).await);
    // The owner's own contract is in force at once; the developer's awaits approval.
    for (client, plan, who) in [("App", "Gold", t), ("Mobile", "Premium", Some(requester))] {
        ok(call(
            app,
            who,
            "POST",
            &format!("{base}/clients/{client}/versions/1.0/contracts"),
            Some(json!({"api_org": org, "api": "Weather", "api_version": "1.0", "plan": plan})),
        )
        .await);
    }
    let app_v = format!("{base}/clients/App/versions/1.0");
    ok(call(app, t, "POST", &format!("{app_v}/register"), None).await);
    let contracts: Vec<Value> =
        ok(call(app, t, "GET", &format!("{app_v}/contracts"), None).await).json();
    w.contract = contracts[0]["id"].as_i64().unwrap();
    let pending: Vec<Value> = ok(call(app, t, "GET", "/api/v1/approvals", None).await).json();
    w.pending = pending
        .iter()
        .find(|c| c["client_org_id"] == org && c["client_id"] == "Mobile")
        .unwrap_or_else(|| panic!("{pending:?}"))["id"]
        .as_i64()
        .unwrap();
    let detail: Value = ok(call(app, t, "GET", &app_v, None).await).json();
    w.key = detail["keys"][0]["id"].as_i64().unwrap();
    let members: Vec<Value> =
        ok(call(app, t, "GET", &format!("{base}/members"), None).await).json();
    w.member = members.iter().find(|m| m["email"] == EXTRA).unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let told: Vec<Value> = ok(call(app, t, "GET", "/api/v1/notifications", None).await).json();
    assert!(
        !told.is_empty(),
        "the owner is told of the pending approval"
    );
    w
}

/// The world's database as it was built, and how to get it back: SQLite, a copy of the file
/// (`VACUUM INTO`) that each restore copies back into a new file; PostgreSQL, a copy of every
/// table in the schema `world` (and the sequences' values), put back in one transaction.
struct Snapshot {
    /// SQLite: the snapshot file.
    source: String,
    /// SQLite: the file the app runs on now, when it is a restored copy.
    current: Option<String>,
    /// PostgreSQL: the statements that put the world back.
    restore_sql: String,
    restores: usize,
    /// SQLite: files made, for their names.
    copies: usize,
    original_url: String,
}

fn bounds() -> server::config::RequestBounds {
    server::config::RequestBounds {
        api_requests_per_minute: 1_000_000,
        ..Default::default()
    }
}

fn sqlite_file(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .and_then(|u| u.split('?').next())
        .unwrap()
}

impl Snapshot {
    async fn take(app: &mut TestApp) -> Self {
        let mut s = Self {
            source: String::new(),
            current: None,
            restore_sql: String::new(),
            restores: 0,
            copies: 0,
            original_url: app.url.clone(),
        };
        match app.backend {
            Backend::Sqlite => {
                s.source = format!("{}.world", sqlite_file(&app.url));
                let sql = format!("VACUUM INTO '{}'", s.source);
                app.db.execute_unprepared(&sql).await.unwrap();
            }
            Backend::Postgres => {
                let rows = |sql: &str| {
                    let db = app.db.clone();
                    let sql = sql.to_owned();
                    async move {
                        db.query_all_raw(sea_orm::Statement::from_string(
                            sea_orm::DatabaseBackend::Postgres,
                            sql,
                        ))
                        .await
                        .unwrap()
                    }
                };
                let tables: Vec<String> =
                    rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                        .await
                        .iter()
                        .map(|r| r.try_get::<String>("", "tablename").unwrap())
                        .collect();
                let mut take = String::from("CREATE SCHEMA world;");
                for t in &tables {
                    write!(take, "CREATE TABLE world.\"{t}\" AS TABLE public.\"{t}\";").unwrap();
                }
                app.db.execute_unprepared(&take).await.unwrap();
                // Without foreign-key triggers while the rows go back (the copy is consistent);
                // DELETE rather than TRUNCATE: on tables this small it is much cheaper.
                let mut sql = String::from("BEGIN; SET LOCAL session_replication_role = replica;");
                for t in &tables {
                    write!(sql, "DELETE FROM public.\"{t}\";").unwrap();
                }
                for t in &tables {
                    write!(
                        sql,
                        "INSERT INTO public.\"{t}\" SELECT * FROM world.\"{t}\";"
                    )
                    .unwrap();
                }
                for r in rows(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'",
                )
                .await
                {
                    let name: String = r.try_get("", "sequencename").unwrap();
                    let value: Option<i64> = r.try_get("", "last_value").unwrap();
                    match value {
                        Some(v) => write!(sql, "SELECT setval('public.\"{name}\"', {v}, true);"),
                        None => write!(sql, "SELECT setval('public.\"{name}\"', 1, false);"),
                    }
                    .unwrap();
                }
                sql.push_str("COMMIT;");
                s.restore_sql = sql;
            }
        }
        s.restore(app).await;
        s.restores = 0;
        s
    }

    /// Puts the app on the world as it was built.
    async fn restore(&mut self, app: &mut TestApp) {
        self.restores += 1;
        match app.backend {
            Backend::Sqlite => {
                self.copies += 1;
                let file = format!("{}.r{}", sqlite_file(&self.original_url), self.copies);
                std::fs::copy(&self.source, &file).unwrap();
                let db = common::connect(&format!("sqlite://{file}?mode=rwc")).await;
                std::mem::replace(&mut app.db, db).close().await.ok();
                if let Some(old) = self.current.replace(file) {
                    forget_sqlite(&old);
                }
            }
            Backend::Postgres => {
                app.db.execute_unprepared(&self.restore_sql).await.unwrap();
            }
        }
        // A new router: nothing cached from before the restore.
        app.router = app.router_with(bounds());
    }

    /// Back on the original database, for the harness's cleanup.
    async fn finish(self, app: &mut TestApp) {
        if app.backend == Backend::Sqlite {
            let db = common::connect(&self.original_url).await;
            std::mem::replace(&mut app.db, db).close().await.ok();
            for file in self.current.iter().chain([&self.source]) {
                forget_sqlite(file);
            }
        }
    }
}

fn forget_sqlite(file: &str) {
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{file}{suffix}")).ok();
    }
}

/// One call of the matrix.
struct Case {
    op: String,
    method: String,
    template: String,
    kind: Option<EntityKind>,
    need: Need,
}

#[derive(Default)]
struct Tally {
    calls: usize,
    allowed_2xx: usize,
    allowed_refused_by_state: Vec<String>,
    wrongly_refused: Vec<String>,
    refused_as_expected: usize,
    refused_otherwise: Vec<String>,
    unauthorized_successes: Vec<String>,
    server_errors: Vec<String>,
}

on_both!(
    every_operation_as_every_caller_in_two_organizations,
    |app| {
        let started = std::time::Instant::now();
        service::accounts::ensure_first_admin(&app.db, ADMIN, "Admin", common::PASSWORD, false)
            .await
            .unwrap();
        app.router = app.router_with(bounds());
        let admin = account(&mut app, ADMIN, false).await;
        let owner = account(&mut app, OWNER, true).await;
        let viewer = account(&mut app, VIEWER, true).await;
        let developer = account(&mut app, DEVELOPER, true).await;
        let outsider = account(&mut app, OUTSIDER, true).await;
        let beta_owner = account(&mut app, BETA_OWNER, true).await;
        let extra = account(&mut app, EXTRA, true).await;
        ok(call(
            &mut app,
            Some(&outsider),
            "POST",
            "/api/v1/orgs",
            Some(json!({"name": "Gamma"})),
        )
        .await);
        let acme = build_org(
            &mut app,
            &owner,
            &developer,
            "Acme",
            &[
                (VIEWER, "viewer"),
                (DEVELOPER, "client_app_developer"),
                (EXTRA, "viewer"),
            ],
        )
        .await;
        let beta = build_org(
            &mut app,
            &beta_owner,
            &extra,
            "Beta",
            &[(EXTRA, "client_app_developer")],
        )
        .await;
        let built = started.elapsed();

        // The operations, from the document.
        let doc: Value = ok(app.get("/api/v1/openapi.json").await).json();
        let mut cases = Vec::new();
        let mut missing = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (template, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let op = operation["operationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                assert!(seen.insert(op.clone()), "operationId {op:?} is not unique");
                let Some(need) = need(&op) else {
                    missing.push(format!("{} {template} ({op})", method.to_uppercase()));
                    continue;
                };
                // The table's bodies match the document's: a body exactly where it takes one.
                let takes_body = operation.get("requestBody").is_some();
                let kinds: Vec<Option<EntityKind>> = if template.contains("{kind}") {
                    EntityKind::ALL.into_iter().map(Some).collect()
                } else {
                    vec![None]
                };
                for kind in kinds {
                    assert_eq!(
                        body(&op, kind, &acme).is_some(),
                        takes_body,
                        "{op}: the table's body and the document disagree"
                    );
                    cases.push(Case {
                        op: op.clone(),
                        method: method.to_uppercase(),
                        template: template.clone(),
                        kind,
                        need,
                    });
                }
            }
        }
        assert!(
            missing.is_empty(),
            "operations missing from the permission table: {missing:?}"
        );
        let stale: Vec<_> = NEEDS.iter().filter(|(id, _)| !seen.contains(*id)).collect();
        assert!(
            stale.is_empty(),
            "the permission table names operations the document lacks: {stale:?}"
        );

        let tokens: Vec<(Who, Option<&str>)> = vec![
            (Who::Anonymous, None),
            (Who::Outsider, Some(&outsider)),
            (Who::Viewer, Some(&viewer)),
            (Who::ClientAppDeveloper, Some(&developer)),
            (Who::Owner, Some(&owner)),
            (Who::Admin, Some(&admin)),
        ];

        let mut snapshot = Snapshot::take(&mut app).await;
        let mut tally = Tally::default();
        let mut table = String::new();
        let mut org_cases = 0;
        let mut account_cases = 0;
        for (in_acme, w) in [(true, &acme), (false, &beta)] {
            for case in &cases {
                let signed_in = matches!(case.need, Need::SignedIn);
                if signed_in && !in_acme {
                    continue;
                }
                if signed_in {
                    account_cases += 1;
                } else {
                    org_cases += 1;
                }
                let path = concrete(&case.template, &case.op, case.kind, w);
                let mut line = format!(
                    "{:<22} {:<8} {:<5}",
                    case.op,
                    case.kind.map_or("", EntityKind::segment),
                    if signed_in { "-" } else { &w.org }
                );
                for (who, token) in &tokens {
                    let r = call(
                        &mut app,
                        *token,
                        &case.method,
                        &path,
                        body(&case.op, case.kind, w),
                    )
                    .await;
                    tally.calls += 1;
                    let status = r.status.as_u16();
                    let what = format!(
                        "{} {path} as {}: {status} {}",
                        case.method,
                        who.short(),
                        r.body
                    );
                    let mark = match expected(*who, case.need, case.kind, in_acme) {
                        _ if r.status.is_server_error() => {
                            tally.server_errors.push(what);
                            "!"
                        }
                        Ok(()) if r.status.is_success() => {
                            tally.allowed_2xx += 1;
                            ""
                        }
                        Ok(()) if [401, 403, 404].contains(&status) => {
                            tally.wrongly_refused.push(what);
                            "!"
                        }
                        Ok(()) => {
                            tally.allowed_refused_by_state.push(what);
                            "~"
                        }
                        Err(_) if r.status.is_success() => {
                            tally.unauthorized_successes.push(what);
                            "!"
                        }
                        Err(want) if want == status => {
                            tally.refused_as_expected += 1;
                            ""
                        }
                        Err(_) => {
                            tally.refused_otherwise.push(what);
                            "?"
                        }
                    };
                    write!(line, " {}={status}{mark}", who.short()).unwrap();
                    let changed = case.method != "GET"
                        && (r.status.is_success() || r.status.is_server_error());
                    if changed {
                        snapshot.restore(&mut app).await;
                    }
                }
                table.push_str(&line);
                table.push('\n');
            }
        }
        let restores = snapshot.restores;
        snapshot.finish(&mut app).await;

        println!("{table}");
        println!(
            "the matrix on {:?}: {} operations in the document ({} cases with {{kind}} expanded); \
         {org_cases} organization cases (Acme and Beta) + {account_cases} account cases, × {} callers = {} calls \
         ({:?} to build the world, {:?} in all, {restores} restores of the world)",
            app.backend,
            seen.len(),
            cases.len(),
            tokens.len(),
            tally.calls,
            built,
            started.elapsed(),
        );
        println!(
            "allowed: {} answered 2xx, {} refused by the objects' state (409/412/422); \
         refused as the table says: {}; wrongly refused: {}; refused with another status: {}; \
         unauthorized successes: {}; server errors: {}",
            tally.allowed_2xx,
            tally.allowed_refused_by_state.len(),
            tally.refused_as_expected,
            tally.wrongly_refused.len(),
            tally.refused_otherwise.len(),
            tally.unauthorized_successes.len(),
            tally.server_errors.len(),
        );
        for what in &tally.allowed_refused_by_state {
            println!("refused by state: {what}");
        }
        assert_eq!(tally.calls, (org_cases + account_cases) * tokens.len());
        assert!(
            tally.unauthorized_successes.is_empty(),
            "unauthorized successes: {:#?}",
            tally.unauthorized_successes
        );
        assert!(
            tally.server_errors.is_empty(),
            "server errors: {:#?}",
            tally.server_errors
        );
        assert!(
            tally.wrongly_refused.is_empty(),
            "wrongly refused: {:#?}",
            tally.wrongly_refused
        );
        assert!(
            tally.refused_otherwise.is_empty(),
            "refused with another status than the table's: {:#?}",
            tally.refused_otherwise
        );
    }
);
