//! Declarative configuration through the real router and the real binary, on SQLite and
//! PostgreSQL: a populated instance exported, applied to an empty database with `server apply`,
//! and exported again gives the same file, and a second apply prints "No changes."; apply over
//! REST is all or nothing, names the object and its line when a lifecycle rule refuses, writes
//! nothing on a dry run, deletes only with prune, and never reads the server's environment.

mod common;

use app::api::account::CreateAccessToken;
use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Reply, TestApp};
use domain::dto::CreatedAccessToken;
use serde_json::{Value, json};

const OWNER: &str = "kim@example.com";
const OTHER: &str = "olga@example.com";

fn ok(r: Reply) -> Reply {
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    r
}

async fn token(app: &mut TestApp) -> String {
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let created: CreatedAccessToken = ok(app
        .call_json::<CreateAccessToken>(json!({"input": {
            "name": "pipeline", "expires_on": expires, "read_only": false, "orgs": null,
        }}))
        .await)
    .json();
    created.secret
}

/// A REST call with a bearer token.
async fn call(
    app: &mut TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> Reply {
    let b = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, common::HOST)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let req = match body {
        Some((media, text)) => b.header(header::CONTENT_TYPE, media).body(Body::from(text)),
        None => b.body(Body::empty()),
    }
    .unwrap();
    app.send(req).await
}

async fn rest(app: &mut TestApp, token: &str, method: &str, path: &str, body: Value) {
    ok(call(
        app,
        token,
        method,
        path,
        Some(("application/json", body.to_string())),
    )
    .await);
}

async fn export(app: &mut TestApp, token: &str) -> String {
    let r = ok(call(app, token, "GET", "/api/v1/config", None).await);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/yaml");
    r.body
}

async fn apply(app: &mut TestApp, token: &str, query: &str, yaml: &str) -> Reply {
    let path = format!("/api/v1/config:apply{query}");
    call(
        app,
        token,
        "POST",
        &path,
        Some(("application/yaml", yaml.to_owned())),
    )
    .await
}

/// Populates an instance through the REST API the way a team would: two organizations,
/// members, a locked plan with a policy, a published API with a definition, tags, a BASIC
/// identity and a second draft version, and clients with contracts, one registered.
async fn populate(app: &mut TestApp, t: &str) {
    let v1 = "/api/v1";
    rest(
        app,
        t,
        "POST",
        &format!("{v1}/orgs"),
        json!({"name": "Acme", "description": "Rockets"}),
    )
    .await;
    rest(
        app,
        t,
        "POST",
        &format!("{v1}/orgs"),
        json!({"name": "Beta"}),
    )
    .await;
    let r = call(
        app,
        t,
        "POST",
        &format!("{v1}/orgs/Acme/members"),
        Some((
            "application/json",
            json!({"email": OTHER, "role": "viewer"}).to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    for (kind, name) in [("plans", "Gold"), ("apis", "Weather"), ("clients", "App")] {
        rest(
            app,
            t,
            "POST",
            &format!("{v1}/orgs/Acme/{kind}"),
            json!({"name": name, "version": "1.0", "description": format!("{name} things")}),
        )
        .await;
    }
    rest(
        app,
        t,
        "POST",
        &format!("{v1}/orgs/Beta/clients"),
        json!({"name": "Partner", "version": "2.1"}),
    )
    .await;
    let plan = format!("{v1}/orgs/Acme/plans/Gold/versions/1.0");
    rest(
        app,
        t,
        "POST",
        &format!("{plan}/policies"),
        json!({"definition_id": "rate-limiting",
        "configuration": {"limit": 100, "granularity": "Client", "period": "Minute"}}),
    )
    .await;
    ok(call(app, t, "POST", &format!("{plan}/lock"), None).await);
    let api = format!("{v1}/orgs/Acme/apis/Weather/versions/1.0");
    rest(
        app,
        t,
        "PUT",
        &format!("{api}/implementation"),
        json!({"endpoint": "http://127.0.0.1:9/weather", "content_type": "JSON",
        "connect_timeout_ms": 2500, "response_timeout_ms": 12000, "max_concurrent_requests": 64}),
    )
    .await;
    rest(
        app,
        t,
        "PUT",
        &format!("{api}/plans"),
        json!({"plans": [{"plan_id": "Gold",
        "plan_version": "1.0", "requires_approval": false, "discoverability": "portal"}]}),
    )
    .await;
    let doc = "openapi: 3.0.3\ninfo:\n  title: Weather\n  version: '1.0'\npaths:\n  /forecast:\n    get:\n      summary: Forecast\n";
    rest(
        app,
        t,
        "PUT",
        &format!("{api}/definition"),
        json!({"definition": doc}),
    )
    .await;
    rest(
        app,
        t,
        "POST",
        &format!("{api}/policies"),
        json!({"definition_id": "basic-auth",
        "configuration": {"realm": "Weather", "requireTls": false, "identities": [
            {"username": "alice", "password": "wonderland-2026", "roles": ["reader"]}]}}),
    )
    .await;
    ok(call(app, t, "POST", &format!("{api}/publish"), None).await);
    rest(
        app,
        t,
        "POST",
        &format!("{v1}/orgs/Acme/apis/Weather/versions"),
        json!({"version": "2.0"}),
    )
    .await;
    for client in [
        "orgs/Acme/clients/App/versions/1.0",
        "orgs/Beta/clients/Partner/versions/2.1",
    ] {
        rest(
            app,
            t,
            "POST",
            &format!("{v1}/{client}/contracts"),
            json!({"api_org": "Acme",
            "api": "Weather", "api_version": "1.0", "plan": "Gold"}),
        )
        .await;
    }
    rest(app, t, "POST", &format!("{v1}/orgs/Acme/clients/App/versions/1.0/policies"),
        json!({"definition_id": "ip-blocklist", "configuration": {"ips": ["10.0.0.1"], "responseCode": 403}})).await;
    ok(call(
        app,
        t,
        "POST",
        &format!("{v1}/orgs/Acme/clients/App/versions/1.0/register"),
        None,
    )
    .await);
}

/// Runs the server binary against `app`'s database.
fn server(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env("DATABASE_URL", &app.url)
        .env("TOLLGATE_SECRET_KEY", hex::encode(common::TEST_SECRET))
        .env("TOLLGATE_ADMIN_EMAIL", "root@example.com")
        .env("TOLLGATE_ADMIN_PASSWORD", "a long and private password")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the server binary runs")
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

on_both!(
    an_exported_instance_applied_to_an_empty_database_exports_the_same,
    |app| {
        ok(app.sign_up(OTHER, "Olga Other").await);
        app.sign_out().await;
        ok(app.sign_up(OWNER, "Kim Owner").await);
        let t = token(&mut app).await;
        populate(&mut app, &t).await;
        let first = export(&mut app, &t).await;
        for part in [
            "name: Acme",
            "email: olga@example.com",
            "role: viewer",
            "locked: true",
            "type: rate-limiting",
            "status: published",
            "endpoint: http://127.0.0.1:9/weather",
            "connectTimeoutMs: 2500",
            "responseTimeoutMs: 12000",
            "maxConcurrentRequests: 64",
            "openapi: 3.0.3",
            "discoverability: portal",
            "password: ${BASIC_ACME_WEATHER_1_0_ALICE}",
            "status: draft",
            "registered: true",
            "organization: Acme",
            "type: ip-blocklist",
            "name: Partner",
        ] {
            assert!(first.contains(part), "{part} missing from\n{first}");
        }
        assert!(!first.contains("wonderland"), "no secret is exported");
        assert!(!first.contains("passwordHash"), "no hash is exported");

        // An empty database with the same people.
        let backend = app.backend;
        let mut empty = TestApp::new(backend).await.unwrap();
        ok(empty.sign_up(OTHER, "Olga Other").await);
        empty.sign_out().await;
        ok(empty.sign_up(OWNER, "Kim Owner").await);
        let file = std::env::temp_dir().join(format!("tollgate-{}.yaml", uuid::Uuid::new_v4()));
        std::fs::write(&file, &first).unwrap();
        let path = file.to_str().unwrap();
        let secret = [("BASIC_ACME_WEATHER_1_0_ALICE", "wonderland-2026")];

        let dry = stdout(&server(
            &empty,
            &["apply", "-f", path, "--dry-run", "--as", OWNER],
            &secret,
        ));
        assert!(dry.contains("+ create organization Acme (line "), "{dry}");
        assert!(dry.contains("(dry run: nothing was written)"), "{dry}");
        let t2 = token(&mut empty).await;
        assert!(
            !export(&mut empty, &t2).await.contains("Acme"),
            "a dry run writes nothing"
        );

        let applied = stdout(&server(
            &empty,
            &["apply", "-f", path, "--as", OWNER],
            &secret,
        ));
        assert!(
            applied.contains("+ create API Acme/Weather (line "),
            "{applied}"
        );
        assert!(
            applied.contains("+ create API version Acme/Weather 2.0"),
            "{applied}"
        );
        assert!(
            applied.contains("+ create contract of Beta/Partner 2.1 with API Acme/Weather 1.0"),
            "{applied}"
        );
        let second = export(&mut empty, &t2).await;
        assert_eq!(
            first, second,
            "export, apply to an empty database, export: the same file"
        );
        let again = stdout(&server(
            &empty,
            &["apply", "-f", path, "--as", OWNER],
            &secret,
        ));
        assert_eq!(again, "No changes.\n");
        // Without the secret the stored password is kept: still no changes.
        let again = stdout(&server(&empty, &["apply", "-f", path, "--as", OWNER], &[]));
        assert_eq!(again, "No changes.\n");
        // Another password in the environment is a change, which a published API version refuses:
        // the refusal names the object and its line, and nothing is written.
        let other = [("BASIC_ACME_WEATHER_1_0_ALICE", "another-password")];
        let refused = server(&empty, &["apply", "-f", path, "--as", OWNER], &other);
        assert!(!refused.status.success());
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains("nothing was applied"), "{err}");
        assert!(err.contains("API version Acme/Weather 1.0 (line "), "{err}");

        // The CLI's export is the REST API's.
        let cli = stdout(&server(&empty, &["export", "--as", OWNER], &[]));
        assert_eq!(cli, second);
        let only = stdout(&server(
            &empty,
            &["export", "--org", "Beta", "--as", OWNER],
            &[],
        ));
        assert!(
            only.contains("name: Beta") && !only.contains("name: Acme"),
            "{only}"
        );

        // The gateway gets what was applied: the registered client's key is in the snapshot.
        assert_eq!(empty.count("client_keys").await, 2);
        let _ = std::fs::remove_file(&file);
        empty.cleanup().await;
    }
);

const BASE: &str = "version: 1
organizations:
- name: Shop
  members:
  - email: kim@example.com
    role: owner
  plans:
  - name: Basic
    versions:
    - version: '1.0'
      locked: true
      policies:
      - type: rate-limiting
        configuration: {limit: 10, granularity: Client, period: Minute}
  apis:
  - name: Orders
    versions:
    - version: '1.0'
      status: published
      endpoint: http://127.0.0.1:9/orders
      plans:
      - plan: Basic
        version: '1.0'
  clients:
  - name: Till
    versions:
    - version: '1.0'
      registered: true
      contracts:
      - organization: Shop
        api: Orders
        version: '1.0'
        plan: Basic
";

fn problem(r: &Reply, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
    serde_json::from_str(&r.body).unwrap()
}

fn messages(p: &Value) -> String {
    let mut all = vec![p["detail"].as_str().unwrap_or_default().to_owned()];
    for e in p["errors"].as_array().into_iter().flatten() {
        all.push(format!(
            "{} [{}]",
            e["message"].as_str().unwrap(),
            e["field"].as_str().unwrap()
        ));
    }
    all.join("\n")
}

on_both!(
    apply_over_rest_is_all_or_nothing_and_names_the_line,
    |app| {
        ok(app.sign_up(OWNER, "Kim Owner").await);
        let t = token(&mut app).await;

        let report: Value = ok(apply(&mut app, &t, "", BASE).await).json();
        let changes = report["changes"].as_array().unwrap();
        assert_eq!(report["dry_run"], false);
        assert!(
            changes.iter().any(|c| c["action"] == "create"
                && c["object"] == "client Shop/Till"
                && c["line"] == 25),
            "{report}"
        );
        let report: Value = ok(apply(&mut app, &t, "", BASE).await).json();
        assert_eq!(
            report["changes"],
            json!([]),
            "the second apply changes nothing"
        );
        let before = export(&mut app, &t).await;

        // A locked plan does not change: the refusal names the object and its line.
        let locked = BASE.replace("limit: 10,", "limit: 20,");
        let p = problem(
            &apply(&mut app, &t, "", &locked).await,
            StatusCode::CONFLICT,
        );
        let text = messages(&p);
        assert!(
            text.contains("plan version Shop/Basic 1.0 (line 13)"),
            "{text}"
        );
        // A published API version keeps the plans it offers.
        let moved = BASE.replace(
            "      plans:\n      - plan: Basic\n        version: '1.0'\n",
            "",
        );
        let p = problem(&apply(&mut app, &t, "", &moved).await, StatusCode::CONFLICT);
        assert!(
            messages(&p).contains("API version Shop/Orders 1.0 (line 18)"),
            "{}",
            messages(&p)
        );
        let p = problem(
            &apply(
                &mut app,
                &t,
                "",
                &BASE.replace("status: published", "status: draft"),
            )
            .await,
            StatusCode::CONFLICT,
        );
        assert!(
            messages(&p).contains("cannot go back to draft"),
            "{}",
            messages(&p)
        );

        // All or nothing: a new client first, then a refusal; the client is not there.
        let late = format!(
            "{}  - name: Kiosk\n    versions:\n    - version: '1.0'\n      contracts:\n      - {{organization: Shop, api: Orders, version: '1.0', plan: Missing}}\n",
            BASE
        );
        let p = problem(&apply(&mut app, &t, "", &late).await, StatusCode::CONFLICT);
        let text = messages(&p);
        assert!(
            text.contains("contract of Shop/Kiosk 1.0 with API Shop/Orders 1.0 (line 38)"),
            "{text}"
        );
        assert!(
            text.contains("organizations[0].clients[1].versions[0].contracts[0]"),
            "{text}"
        );
        assert_eq!(
            export(&mut app, &t).await,
            before,
            "nothing of a refused file is written"
        );

        // A dry run reports and writes nothing.
        let more = format!("{BASE}  - name: Kiosk\n    versions:\n    - version: '1.0'\n");
        let report: Value = ok(apply(&mut app, &t, "?dry_run=true", &more).await).json();
        assert_eq!(report["dry_run"], true);
        assert_eq!(report["changes"][0]["object"], "client Shop/Kiosk");
        assert_eq!(export(&mut app, &t).await, before);
        ok(apply(&mut app, &t, "", &more).await);

        // What the file leaves out stays, unless pruned.
        let report: Value = ok(apply(&mut app, &t, "", BASE).await).json();
        assert_eq!(report["changes"], json!([]));
        let report: Value = ok(apply(&mut app, &t, "?prune=true", BASE).await).json();
        assert_eq!(
            report["changes"],
            json!([{"action": "delete", "object": "client Shop/Kiosk", "detail": "", "line": null}])
        );
        assert_eq!(export(&mut app, &t).await, before);

        // Secrets are not read from the server's environment over REST.
        let basic = BASE.replace(
            "  clients:\n",
            "    - version: '2.0'\n      policies:\n      - type: basic-auth\n        configuration: {realm: R, requireTls: false, identities: [{username: u, password: '${HOME}'}]}\n  clients:\n",
        );
        let p = problem(
            &apply(&mut app, &t, "", &basic).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(
            messages(&p).contains("not set: ${HOME}"),
            "{}",
            messages(&p)
        );

        // Bad files are 4xx with a message, never a 500.
        for (media, text, status, says) in [
            (
                "application/yaml",
                "version: [",
                StatusCode::UNPROCESSABLE_ENTITY,
                "not valid YAML",
            ),
            (
                "application/yaml",
                "version: 1\na: &x 1\nb: *x\n",
                StatusCode::UNPROCESSABLE_ENTITY,
                "anchors",
            ),
            (
                "application/yaml",
                "version: 1\norganizations: [{name: ''}]\n",
                StatusCode::UNPROCESSABLE_ENTITY,
                "organization  (line 2)",
            ),
            (
                "application/json",
                "{\"version\": 1, \"organizations\": 3}",
                StatusCode::UNPROCESSABLE_ENTITY,
                "does not read",
            ),
            (
                "text/plain",
                "version: 1",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "application/yaml",
            ),
        ] {
            let r = call(
                &mut app,
                &t,
                "POST",
                "/api/v1/config:apply",
                Some((media, text.to_owned())),
            )
            .await;
            let p = problem(&r, status);
            assert!(messages(&p).contains(says), "{text}: {}", messages(&p));
        }

        // The schema is published, and describes the file.
        let r = ok(app.get("/api/v1/config.schema.json").await);
        let schema: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(schema["title"], "Tollgate configuration");
        assert!(
            schema["properties"]["organizations"].is_object(),
            "{schema}"
        );
    }
);
