//! Test harness: the real router in-process on a fresh database per test (a temporary SQLite
//! file, or a new database on the PostgreSQL server at `TEST_DATABASE_URL`), with a cookie jar.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use app::ssr::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use leptos::server_fn::ServerFn;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use service::sessions::SessionPolicy;
use tower::ServiceExt;

pub mod process;

pub const ORIGIN: &str = "http://127.0.0.1:3000";
pub const HOST: &str = "127.0.0.1:3000";
pub const PASSWORD: &str = "correct horse battery";

/// How many migrations `Migrator::down` must revert to undo `name` (and every later one).
pub fn steps_back_to(name: &str) -> u32 {
    use sea_orm_migration::MigratorTrait;
    let all = service::migration::Migrator::migrations();
    let from_end = all
        .iter()
        .rev()
        .position(|m| m.name() == name)
        .expect("a known migration");
    u32::try_from(from_end + 1).unwrap()
}

/// The server secret every test of this process uses.
pub const TEST_SECRET: [u8; 32] = [0x42; 32];

/// Opens (and migrates) a test database, with the test secret installed first.
pub async fn connect(url: &str) -> DatabaseConnection {
    service::secrets::install(service::secrets::Keyring::new(&TEST_SECRET));
    service::db::connect(url).await.expect("database")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    pub url: String,
    pub cookie: Option<String>,
    pub backend: Backend,
    /// The peer address the requests come from (`ConnectInfo`), when set.
    pub peer: Option<std::net::SocketAddr>,
    customize: fn(&mut AppState),
    /// `TOLLGATE_COOKIE_SECURE`: the session cookie is `Secure` and named `__Host-…`.
    pub secure_cookies: bool,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn error(&self) -> app::error::AppError {
        self.json()
    }
}

fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn state(db: DatabaseConnection) -> AppState {
    AppState {
        db,
        // The static files of `public/` (what cargo-leptos copies into the site root).
        leptos_options: LeptosOptions::builder()
            .output_name("tollgate")
            .site_root(concat!(env!("CARGO_MANIFEST_DIR"), "/../public"))
            .build(),
        limiter: Arc::new(service::rate_limit::SignInLimiter::default()),
        sessions: SessionPolicy::default(),
        secure_cookies: false,
        trusted_proxies: Arc::new(domain::policy::IpMatcher::parse(&[]).unwrap()),
    }
}

impl TestApp {
    /// A fresh app, or `None` when PostgreSQL is not reachable and `CI` is not set.
    pub async fn new(backend: Backend) -> Option<Self> {
        Self::new_with(backend, |_| {}).await
    }

    /// A fresh app whose session cookie is `Secure` (`secure_cookies`) or not.
    pub async fn with_cookies(backend: Backend, secure_cookies: bool) -> Option<Self> {
        if secure_cookies {
            Self::new_with(backend, |s| s.secure_cookies = true).await
        } else {
            Self::new(backend).await
        }
    }

    /// [`TestApp::new`] with a changed `AppState` (limits, trusted proxies, secure cookies).
    pub async fn new_with(backend: Backend, customize: fn(&mut AppState)) -> Option<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (url, dir, pg) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("tollgate-test-{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let admin = match Database::connect(&admin_url).await {
                    Ok(db) => db,
                    Err(e) => {
                        if std::env::var_os("CI").is_some() {
                            panic!("PostgreSQL at {admin_url} is required when CI is set: {e}");
                        }
                        eprintln!("skipped: no PostgreSQL at {admin_url} ({e})");
                        return None;
                    }
                };
                let name = format!("tollgate_t_{id}");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                (
                    format!("{base}/{name}"),
                    None,
                    Some((admin_url.clone(), name)),
                )
            }
        };
        let db = connect(&url).await;
        let mut st = state(db.clone());
        customize(&mut st);
        let secure_cookies = st.secure_cookies;
        let router = server::router(st);
        Some(Self {
            router,
            db,
            url,
            cookie: None,
            backend,
            peer: None,
            customize,
            secure_cookies,
            dir,
            pg,
        })
    }

    /// The router on this app's database with its own request bounds (for a real listener).
    pub fn router_with(&self, bounds: server::config::RequestBounds) -> Router {
        let mut st = state(self.db.clone());
        (self.customize)(&mut st);
        server::router_with(st, bounds)
    }

    /// Drops the pool and the router and starts again on the same database (a server restart).
    pub async fn restart(&mut self) {
        let old = std::mem::replace(&mut self.db, connect(&self.url).await);
        old.close().await.ok();
        let mut st = state(self.db.clone());
        (self.customize)(&mut st);
        self.router = server::router(st);
    }

    pub async fn cleanup(self) {
        self.db.close().await.ok();
        if let Some(dir) = self.dir {
            std::fs::remove_dir_all(dir).ok();
        }
        if let Some((admin_url, name)) = self.pg
            && let Ok(admin) = Database::connect(&admin_url).await
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Reply {
        if let Some(peer) = self.peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        // The jar keeps the session cookie under either of its names, as a browser would.
        for c in headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=')
                && [
                    service::sessions::COOKIE_NAME,
                    service::sessions::SECURE_COOKIE_NAME,
                ]
                .contains(&name)
            {
                self.cookie = (!value.is_empty()).then(|| format!("{name}={value}"));
            }
        }
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST);
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let req = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(req).await
    }

    /// A same-origin form POST, as the browser sends for a server function.
    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let req = self
            .request("POST", path)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
            .unwrap();
        self.send(req).await
    }

    /// Calls the server function `F` (declared with `input = Json`) with a JSON body.
    pub async fn call_json<F: ServerFn>(&mut self, body: serde_json::Value) -> Reply {
        let req = self
            .request("POST", F::PATH)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Calls the server function `F` with form fields.
    pub async fn call<F: ServerFn>(&mut self, form: &[(&str, &str)]) -> Reply {
        self.post_form(F::PATH, form).await
    }

    pub async fn sign_up(&mut self, email: &str, name: &str) -> Reply {
        use app::api::auth::SignUp;
        self.call::<SignUp>(&[
            ("email", email),
            ("display_name", name),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        use app::api::auth::SignIn;
        self.call::<SignIn>(&[("email", email), ("password", password), ("next", "/")])
            .await
    }

    pub async fn sign_out(&mut self) -> Reply {
        use app::api::auth::SignOut;
        self.call::<SignOut>(&[]).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// The database's whole content as bytes: the SQLite file with its write-ahead log, or
/// `pg_dump`'s output.
pub async fn dump(app: &TestApp) -> Vec<u8> {
    match app.backend {
        Backend::Sqlite => {
            app.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .unwrap();
            let path = app
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg(&app.url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Tests that render pages run one at a time. Leptos' server-side rendering spawns its work
/// through one process-wide executor, and with several test runtimes alive at once a render
/// was seen never to finish (about one run in five). `on_both!` holds this for each test.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long one test may take. A test that hangs fails with this message instead of holding
/// the whole run (and `ONE_AT_A_TIME`) until CI's own limit.
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(240);

/// Runs a test body, failing it when it takes longer than [`TEST_LIMIT`].
pub async fn within_limit(body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, body).await.is_err() {
        panic!("the test did not finish within {TEST_LIMIT:?}");
    }
}

/// Runs one async test body on SQLite and on PostgreSQL, one test at a time, each within
/// [`TEST_LIMIT`].
#[macro_export]
macro_rules! on_both {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let _alone = common::ONE_AT_A_TIME.lock().await;
                common::within_limit(async move {
                    let mut $app = common::TestApp::new(common::Backend::Sqlite).await.unwrap();
                    $body
                    $app.cleanup().await;
                })
                .await;
            }

            #[tokio::test]
            async fn postgres() {
                let _alone = common::ONE_AT_A_TIME.lock().await;
                common::within_limit(async move {
                    let Some(mut $app) = common::TestApp::new(common::Backend::Postgres).await
                    else {
                        return;
                    };
                    $body
                    $app.cleanup().await;
                })
                .await;
            }
        }
    };
}

/// Signs `owner` up on `app` and applies a file with the public API `Shop/Orders 1.0` in front of
/// the backend on `127.0.0.1:upstream`, published.
pub async fn public_orders_api(app: &mut TestApp, owner: &str, upstream: u16) {
    app.sign_up(owner, "Kim Owner").await;
    let ctx = service::declarative::operator(&app.db, owner)
        .await
        .unwrap();
    let file = format!(
        "version: 1\norganizations:\n- name: Shop\n  apis:\n  - name: Orders\n    versions:\n    - version: '1.0'\n      status: published\n      public: true\n      endpoint: http://127.0.0.1:{upstream}/\n"
    );
    let none = |_: &str| None;
    let options = service::declarative::ApplyOptions {
        dry_run: false,
        prune: false,
        secrets: &none,
        max_changes: None,
    };
    service::declarative::apply(&app.db, &ctx, &file, options)
        .await
        .expect("the world applies");
}
