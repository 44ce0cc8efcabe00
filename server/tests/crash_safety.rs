//! Crash safety of management writes: the real server binary, several concurrent writers through
//! the REST API (organizations, clients, APIs, plans, policy edits, locks, offers, publications,
//! contracts, registrations), each recording the writes that were acknowledged (2xx), and
//! `kill -9` of the server at a random moment. After each kill the server restarts on the same
//! database, and every acknowledged write must be there, no object may be half-written (a
//! client, API or plan without its version, an organization without its owner, a client version
//! without its key, a contract without its Change Log row), and SQLite's `integrity_check` says
//! `ok`.
//!
//! Bounded: `CRASH_KILLS_SQLITE` (default 3) and `CRASH_KILLS_POSTGRES` (default 2) kills, each
//! after at most 1.5 s of writing. `bench/faults/crash.sh` runs the long version (100 and 20).
//! The figures are printed (`--nocapture`).

mod common;

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::{free_port, http};
use common::{Backend, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const ADMIN: &str = "crash-admin@example.com";
const PASSWORD: &str = "a long and private password";
const WRITERS: usize = 4;

/// A write the server acknowledged, and how to find it again.
#[derive(Debug, Clone)]
enum Ack {
    Org(String),
    Version(&'static str, String, String),
    Policy(String),
    Locked(String),
    Offered(String),
    Published(String),
    Contract(String),
    Registered(String),
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(url: &str, port: u16) -> Server {
        let child = common::process::server_command(url)
            .env("TOLLGATE_ADMIN_EMAIL", ADMIN)
            .env("TOLLGATE_ADMIN_PASSWORD", PASSWORD)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "tollgate")
            .env("TOLLGATE_GATEWAY_LISTEN", "off")
            .env("TOLLGATE_GATEWAY_ADMIN_LISTEN", "off")
            .env("TOLLGATE_API_REQUESTS_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        Server { child, port }
    }

    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _, _)) = http(self.port, "GET", "/api/v1/openapi.json", &[], None).await
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not answer within 60 s");
    }

    /// `kill -9`.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// Signs the administrator in and creates a read-write personal access token.
async fn admin_token(port: u16) -> String {
    use leptos::server_fn::ServerFn;
    let origin = format!("http://127.0.0.1:{port}");
    let form =
        serde_urlencoded::to_string([("email", ADMIN), ("password", PASSWORD), ("next", "/")])
            .unwrap();
    let (status, headers, body) = http(
        port,
        "POST",
        <app::api::auth::SignIn as ServerFn>::PATH,
        &[("Origin", &origin), ("Accept", "application/json")],
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await
    .unwrap();
    assert!(status < 400, "sign-in: {status} {body}");
    let cookie = headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with(service::sessions::COOKIE_NAME))
        .expect("a session cookie")
        .to_owned();
    let expires = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let input = json!({"input": {"name": "crash writers", "expires_on": expires,
        "read_only": false, "orgs": null}});
    let (status, _, body) = http(
        port,
        "POST",
        <app::api::account::CreateAccessToken as ServerFn>::PATH,
        &[
            ("Origin", &origin),
            ("Accept", "application/json"),
            ("Cookie", &cookie),
        ],
        Some(("application/json", input.to_string())),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One writer: builds a small world after another through the REST API, recording each
/// acknowledged write, until a request fails (the server is gone).
async fn writer(port: u16, token: String, name: String, acks: Arc<Mutex<Vec<Ack>>>) {
    let auth = format!("Bearer {token}");
    let post = |method: &'static str, path: String, body: Value| {
        let auth = auth.clone();
        async move {
            let (status, _, text) = http(
                port,
                method,
                &path,
                &[("Authorization", &auth)],
                Some(("application/json", body.to_string())),
            )
            .await
            .map_err(|_| ())?;
            if (200..300).contains(&status) {
                Ok::<(), ()>(())
            } else {
                // A refusal while the server runs is a bug of this test, not a crash.
                panic!("{path}: {status} {text}")
            }
        }
    };
    let ack = |a: Ack| acks.lock().unwrap().push(a);
    for n in 0.. {
        let org = format!("{name}-{n}");
        let v1 = format!("/api/v1/orgs/{org}");
        if post("POST", "/api/v1/orgs".into(), json!({"name": org}))
            .await
            .is_err()
        {
            return;
        }
        ack(Ack::Org(org.clone()));
        let steps: Vec<(&'static str, String, Value, Ack)> = vec![
            (
                "POST",
                format!("{v1}/plans"),
                json!({"name": "Gold", "version": "1.0"}),
                Ack::Version("plan", org.clone(), "Gold".into()),
            ),
            (
                "POST",
                format!("{v1}/plans/Gold/versions/1.0/policies"),
                json!({"definition_id": "rate-limiting",
                "configuration": {"limit": 100, "granularity": "Client", "period": "Minute"}}),
                Ack::Policy(org.clone()),
            ),
            (
                "POST",
                format!("{v1}/plans/Gold/versions/1.0/lock"),
                json!({}),
                Ack::Locked(org.clone()),
            ),
            (
                "POST",
                format!("{v1}/apis"),
                json!({"name": "Weather", "version": "1.0",
                "endpoint": "http://127.0.0.1:9/weather"}),
                Ack::Version("api", org.clone(), "Weather".into()),
            ),
            (
                "PUT",
                format!("{v1}/apis/Weather/versions/1.0/plans"),
                json!({"plans": [{"plan_id": "Gold",
                "plan_version": "1.0", "requires_approval": false, "discoverability": "org_members"}]}),
                Ack::Offered(org.clone()),
            ),
            (
                "POST",
                format!("{v1}/apis/Weather/versions/1.0/publish"),
                json!({}),
                Ack::Published(org.clone()),
            ),
            (
                "POST",
                format!("{v1}/clients"),
                json!({"name": "App", "version": "1.0"}),
                Ack::Version("client", org.clone(), "App".into()),
            ),
            (
                "POST",
                format!("{v1}/clients/App/versions/1.0/contracts"),
                json!({"api_org": org,
                "api": "Weather", "api_version": "1.0", "plan": "Gold"}),
                Ack::Contract(org.clone()),
            ),
            (
                "POST",
                format!("{v1}/clients/App/versions/1.0/register"),
                json!({}),
                Ack::Registered(org.clone()),
            ),
        ];
        for (method, path, body, a) in steps {
            if post(method, path, body).await.is_err() {
                return;
            }
            ack(a);
        }
    }
}

async fn one(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Acknowledged writes that are missing.
async fn lost(app: &TestApp, acks: &[Ack]) -> Vec<String> {
    let mut missing = Vec::new();
    for a in acks {
        let sql = match a {
            Ack::Org(o) => format!("SELECT COUNT(*) FROM organizations WHERE id = '{o}'"),
            Ack::Version(kind, o, id) => {
                let table = match *kind {
                    "plan" => ("plan_versions", "plan_id"),
                    "api" => ("api_versions", "api_id"),
                    _ => ("client_versions", "client_id"),
                };
                format!(
                    "SELECT COUNT(*) FROM {} WHERE org_id = '{o}' AND {} = '{id}'",
                    table.0, table.1
                )
            }
            Ack::Policy(o) => {
                format!("SELECT COUNT(*) FROM policies WHERE org_id = '{o}' AND kind = 'plan'")
            }
            Ack::Offered(o) => format!(
                "SELECT COUNT(*) FROM api_plans p JOIN api_versions v ON v.id = p.api_version_id WHERE v.org_id = '{o}'"
            ),
            Ack::Locked(o) => format!(
                "SELECT COUNT(*) FROM plan_versions WHERE org_id = '{o}' AND status = 'locked'"
            ),
            Ack::Published(o) => format!(
                "SELECT COUNT(*) FROM api_versions WHERE org_id = '{o}' AND status = 'published'"
            ),
            Ack::Contract(o) => format!(
                "SELECT COUNT(*) FROM contracts k JOIN client_versions v ON v.id = k.client_version_id WHERE v.org_id = '{o}'"
            ),
            Ack::Registered(o) => format!(
                "SELECT COUNT(*) FROM client_versions WHERE org_id = '{o}' AND status = 'registered'"
            ),
        };
        if one(app, &sql).await != 1 {
            missing.push(format!("{a:?}"));
        }
    }
    missing
}

/// Objects written in part: each query counts one kind.
const HALF_WRITTEN: &[(&str, &str)] = &[
    (
        "client without a version",
        "SELECT COUNT(*) FROM clients c WHERE NOT EXISTS (SELECT 1 FROM client_versions v WHERE v.org_id = c.org_id AND v.client_id = c.id)",
    ),
    (
        "API without a version",
        "SELECT COUNT(*) FROM apis a WHERE NOT EXISTS (SELECT 1 FROM api_versions v WHERE v.org_id = a.org_id AND v.api_id = a.id)",
    ),
    (
        "plan without a version",
        "SELECT COUNT(*) FROM plans p WHERE NOT EXISTS (SELECT 1 FROM plan_versions v WHERE v.org_id = p.org_id AND v.plan_id = p.id)",
    ),
    (
        "organization without an owner",
        "SELECT COUNT(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = o.id AND m.role = 'owner')",
    ),
    (
        "organization without its Change Log row",
        "SELECT COUNT(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM audit_entries a WHERE a.org_id = o.id AND a.entity_type = 'organization' AND a.what = 'Create')",
    ),
    (
        "client version without a key",
        "SELECT COUNT(*) FROM client_versions v WHERE NOT EXISTS (SELECT 1 FROM client_keys k WHERE k.client_version_id = v.id)",
    ),
    (
        "contract without its Change Log row",
        "SELECT COUNT(*) FROM contracts k JOIN client_versions v ON v.id = k.client_version_id WHERE NOT EXISTS (SELECT 1 FROM audit_entries a WHERE a.org_id = v.org_id AND a.entity_id = v.client_id AND a.what = 'CreateContract')",
    ),
    (
        "registered version without a contract",
        "SELECT COUNT(*) FROM client_versions v WHERE v.status = 'registered' AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.client_version_id = v.id)",
    ),
];

fn kills(backend: Backend) -> usize {
    let (var, default) = match backend {
        Backend::Sqlite => ("CRASH_KILLS_SQLITE", 3),
        Backend::Postgres => ("CRASH_KILLS_POSTGRES", 2),
    };
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn crash_and_check(backend: Backend) {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let Some(app) = TestApp::new(backend).await else {
        return;
    };
    let port = free_port();
    let mut server = Server::start(&app.url, port);
    server.ready().await;
    let token = admin_token(port).await;
    let acks = Arc::new(Mutex::new(Vec::new()));
    let total = kills(backend);
    // A fixed seed: a failing run can be repeated.
    let mut seed: u64 = 0x5eed_0000 + total as u64;
    let started = Instant::now();
    for round in 0..total {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    port,
                    token.clone(),
                    format!("r{round}w{w}"),
                    acks.clone(),
                ))
            })
            .collect();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = 100 + (seed >> 33) % 1400;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        for w in writers {
            w.await
                .expect("a writer panicked: a write was refused while the server ran");
        }
        server = Server::start(&app.url, port);
        server.ready().await;
    }
    server.kill();
    let acks = acks.lock().unwrap().clone();
    let missing = lost(&app, &acks).await;
    let mut half = Vec::new();
    for (what, sql) in HALF_WRITTEN {
        let n = one(&app, sql).await;
        if n > 0 {
            half.push(format!("{n} {what}"));
        }
    }
    let integrity = if backend == Backend::Sqlite {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA integrity_check".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0).unwrap()
    } else {
        "n/a".to_owned()
    };
    println!(
        "crash safety ({backend:?}): {total} kills in {:.1} s, {} acknowledged writes, {} lost, {} half-written, integrity_check: {integrity}",
        started.elapsed().as_secs_f64(),
        acks.len(),
        missing.len(),
        half.len(),
    );
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    assert!(half.is_empty(), "half-written objects: {half:?}");
    assert!(
        integrity == "ok" || integrity == "n/a",
        "integrity_check: {integrity}"
    );
    assert!(!acks.is_empty(), "the writers wrote nothing");
    app.cleanup().await;
}

/// Bounded in time too: a minute, and ten seconds a kill.
async fn bounded(backend: Backend) {
    let limit = Duration::from_secs(60 + 10 * kills(backend) as u64);
    if tokio::time::timeout(limit, crash_and_check(backend))
        .await
        .is_err()
    {
        panic!("the crash test did not finish within {limit:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    bounded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    bounded(Backend::Postgres).await;
}
