//! Policies on real traffic, through a real local backend and a real database (SQLite): the
//! Client → Plan → API chain, each policy's refusal with its status and failure code, header
//! and URL edits, caching, BASIC authentication, limits that survive a restart and are shared
//! through Redis, and the per-minute metrics the Metrics tab and My Clients read.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use chrono::Timelike;
use domain::EntityKind;
use domain::metrics::Range;
use support::*;

/// Attaches `definition` to the client, re-registers it, and waits until the gateway answers
/// `probe` with `expected`.
#[allow(clippy::too_many_arguments)]
async fn with_client_policy(
    db: &service::DatabaseConnection,
    ctx: &service::Ctx,
    http: &HttpClient,
    probe: &str,
    key: &str,
    expected: StatusCode,
    definition: &str,
    config: &str,
) -> i64 {
    let p = service::policies::add(
        db,
        ctx,
        EntityKind::Client,
        &at("Acme", "App"),
        definition,
        config,
        None,
    )
    .await
    .unwrap();
    service::clients::register(db, ctx, &at("Acme", "App"))
        .await
        .unwrap();
    if expected == StatusCode::OK {
        // Nothing to see from outside: give the gateway time to reload.
        tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    } else {
        within_a_second(http, probe.to_owned(), key, expected).await;
    }
    p.id
}

async fn without_client_policy(
    db: &service::DatabaseConnection,
    ctx: &service::Ctx,
    http: &HttpClient,
    probe: &str,
    key: &str,
    id: i64,
) {
    service::policies::remove(db, ctx, EntityKind::Client, &at("Acme", "App"), id)
        .await
        .unwrap();
    service::clients::register(db, ctx, &at("Acme", "App"))
        .await
        .unwrap();
    within_a_second(http, probe.to_owned(), key, StatusCode::OK).await;
}

fn req(method: &str, url: &str, key: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(url)
        .header("x-api-key", key)
}

#[tokio::test]
async fn plan_and_api_chain_limits_headers_and_metrics() {
    let (dir, url) = sqlite_url("chain");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, key) = world(
        &db,
        backend,
        &[(
            "rate-limiting",
            r#"{"limit":3,"granularity":"Client","period":"Minute"}"#,
        )],
        &[
            (
                "simple-header",
                r#"{"addHeaders":[{"name":"X-Added","value":"yes","applyTo":"both","overwrite":true}],
                "stripHeaders":[{"by":"name","pattern":"Server","applyTo":"response"}]}"#,
            ),
            ("cors", r#"{"allowOrigins":["https://app.example.com"],"allowHeaders":["X-API-Key"]}"#),
        ],
    )
    .await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let url = format!("http://{gw}/Acme/Weather/1.0/forecast");

    // A browser's preflight carries no key: the API's own CORS policy answers it.
    let preflight = send(
        &http,
        Request::builder()
            .method("OPTIONS")
            .uri(&url)
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        preflight.status,
        StatusCode::NO_CONTENT,
        "{}",
        preflight.text
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://app.example.com"
    );

    for remaining in ["2", "1", "0"] {
        let a = send(
            &http,
            req("GET", &url, &key)
                .header("origin", "https://app.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            a.header("access-control-allow-origin"),
            "https://app.example.com"
        );
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.header("x-ratelimit-limit"), "3");
        assert_eq!(a.header("x-ratelimit-remaining"), remaining);
        // The API's Simple Header policy edits both ways.
        assert_eq!(a.body["headers"]["x-added"], "yes");
        assert_eq!(a.header("x-added"), "yes");
        assert_eq!(a.header("server"), "");
        assert_eq!(a.header("x-backend"), "yes");
    }
    let refused = send(&http, req("GET", &url, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["failureCode"], 10005);
    assert_eq!(refused.body["type"], "Other");
    assert_eq!(refused.header("x-policy-failure-code"), "10005");
    assert_eq!(refused.header("x-policy-failure-type"), "Other");
    assert_eq!(refused.header("x-ratelimit-remaining"), "0");
    assert!(!refused.header("retry-after").is_empty());

    // Rollups reach the database within a flush; the Metrics tab reads them.
    tokio::time::sleep(gateway::recorder::FLUSH_EVERY + Duration::from_millis(500)).await;
    let m = service::metrics::query(
        &db,
        &ctx,
        EntityKind::Api,
        &at("Acme", "Weather"),
        Range::Hour,
    )
    .await
    .unwrap();
    // Five requests: the preflight (answered by the gateway, no client) and four with the key.
    assert_eq!(m.total, 5);
    assert_eq!(m.by_class[1], 4);
    assert_eq!(m.by_class[3], 1);
    assert_eq!(
        m.points
            .iter()
            .map(|p| p.by_class.iter().sum::<u64>())
            .sum::<u64>(),
        5
    );
    assert!(m.p50_ms.is_some());
    assert_eq!(m.by_client.len(), 2);
    assert!(
        m.by_client[0].label.contains("App 1.0"),
        "{:?}",
        m.by_client
    );
    assert_eq!((m.by_client[0].requests, m.by_client[0].errors), (4, 1));
    assert_eq!(m.by_plan[0].label, "Gold 1.0");
    let client_view = service::metrics::query(
        &db,
        &ctx,
        EntityKind::Client,
        &at("Acme", "App"),
        Range::Day,
    )
    .await
    .unwrap();
    assert_eq!(client_view.total, 4);
    assert_eq!(client_view.by_plan[0].label, "Weather 1.0 · Gold 1.0");

    // My Clients in the portal shows what is used and left of the plan's rate limit.
    let mine = service::portal::my_clients(&db, &ctx).await.unwrap();
    let usage = &mine[0].usage[0].limits;
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!(usage[0].kind, "Rate limit");
    assert_eq!(
        (usage[0].limit, usage[0].used, usage[0].remaining),
        (3, 3, 0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn each_policy_on_real_traffic() {
    let (dir, url) = sqlite_url("each");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let base = format!("http://{gw}/Acme/Weather/1.0");
    let probe = format!("{base}/probe");
    let failure_of = |a: &Answer| (a.status, a.body["failureCode"].as_u64());

    // IP blocklist / allowlist, on the peer address.
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::FORBIDDEN,
        "ip-blocklist",
        r#"{"ips":["127.0.0.0/8"]}"#,
    )
    .await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::FORBIDDEN, Some(10002)));
    assert_eq!(a.header("x-policy-failure-type"), "Authorization");
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::NOT_FOUND,
        "ip-allowlist",
        r#"{"ips":["10.0.0.0/8","192.168.1.1-192.168.1.9"],"responseCode":404}"#,
    )
    .await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::NOT_FOUND, Some(10001)));
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // Ignored resources: only the matching method and path.
    let admin = format!("{base}/admin/users");
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &admin,
        &key,
        StatusCode::NOT_FOUND,
        "ignored-resources",
        r#"{"rules":[{"verb":"GET","pathPattern":"/admin.*"}]}"#,
    )
    .await;
    let a = send(&http, req("GET", &admin, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::NOT_FOUND, Some(10007)));
    // Other spellings of the same path are the same path.
    for other in ["/%61dmin/users", "//admin/users", "/x/../admin/users"] {
        let a = send(
            &http,
            req("GET", &format!("{base}{other}"), &key)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            failure_of(&a),
            (StatusCode::NOT_FOUND, Some(10007)),
            "{other}"
        );
    }
    let a = send(
        &http,
        req("POST", &admin, &key).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["method"], "POST");
    without_client_policy(&db, &ctx, &http, &admin, &key, id).await;

    // Time restricted access: a window that is not now.
    let h = chrono::Utc::now().hour();
    let config = format!(
        r#"{{"rules":[{{"timeStart":"{:02}:00","timeEnd":"{:02}:00","dayStart":1,"dayEnd":7,"pathPattern":".*"}}]}}"#,
        (h + 2) % 24,
        (h + 3) % 24
    );
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::LOCKED,
        "time-restricted-access",
        &config,
    )
    .await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::LOCKED, Some(10014)));
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // CORS: a preflight is answered by the gateway; a foreign origin is refused.
    let id = service::policies::add(
        &db, &ctx, EntityKind::Client, &at("Acme", "App"), "cors",
        r#"{"allowOrigins":["https://app.example.com"],"allowMethods":["GET","PUT"],"allowHeaders":["X-API-Key"],"exposeHeaders":["X-RateLimit-Remaining"],"allowCredentials":false,"errorOnFailure":true}"#,
        None,
    )
    .await
    .unwrap()
    .id;
    service::clients::register(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    let a = send(
        &http,
        req("OPTIONS", &probe, &key)
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "PUT")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        a.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(a.header("access-control-allow-methods").contains("PUT"));
    let a = send(
        &http,
        req("GET", &probe, &key)
            .header("origin", "https://evil.example.net")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(failure_of(&a), (StatusCode::BAD_REQUEST, Some(10015)));
    let a = send(
        &http,
        req("GET", &probe, &key)
            .header("origin", "https://app.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;
    // Refused quietly: no CORS headers at all, not even the backend's own `*`.
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::OK,
        "cors",
        r#"{"allowOrigins":["https://app.example.com"],"errorOnFailure":false}"#,
    )
    .await;
    let a = send(
        &http,
        req("GET", &probe, &key)
            .header("origin", "https://evil.example.net")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (a.status, a.header("access-control-allow-origin")),
        (StatusCode::OK, "")
    );
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // URL rewriting: the request path, and the response body.
    let id = service::policies::add(
        &db, &ctx, EntityKind::Client, &at("Acme", "App"), "url-rewriting",
        r#"{"fromRegex":"^/old/(.*)$","toReplacement":"/new/$1","processRequestUrl":true,"processRequestHeaders":false,"processResponseHeaders":false,"processBody":false}"#,
        None,
    )
    .await
    .unwrap()
    .id;
    let body_id = service::policies::add(
        &db, &ctx, EntityKind::Client, &at("Acme", "App"), "url-rewriting",
        r#"{"fromRegex":"backend\\.internal","toReplacement":"api.example.com","processRequestUrl":false,"processRequestHeaders":false,"processResponseHeaders":false,"processBody":true}"#,
        None,
    )
    .await
    .unwrap()
    .id;
    service::clients::register(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    let a = send(
        &http,
        req("GET", &format!("{base}/old/items?x=1"), &key)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.body["path"], "/v1/new/items", "{}", a.text);
    assert_eq!(a.body["query"], "x=1");
    assert_eq!(a.body["link"], "http://api.example.com/v1/items");
    service::policies::remove(&db, &ctx, EntityKind::Client, &at("Acme", "App"), body_id)
        .await
        .unwrap();
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // BASIC authentication: refused without or with wrong credentials; the identity is
    // forwarded and the credentials are not.
    let id = with_client_policy(
        &db, &ctx, &http, &probe, &key, StatusCode::UNAUTHORIZED,
        "basic-auth",
        r#"{"realm":"Weather","identities":[{"username":"ann","password":"s3cret-pass"}],"forwardIdentityHeader":"X-Identity","requireTls":false}"#,
    )
    .await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::UNAUTHORIZED, Some(10003)));
    assert_eq!(a.header("www-authenticate"), "Basic realm=\"Weather\"");
    let basic = |user: &str, pass: &str| {
        use std::io::Write;
        let mut raw = Vec::new();
        write!(raw, "{user}:{pass}").unwrap();
        format!("Basic {}", base64(&raw))
    };
    let a = send(
        &http,
        req("GET", &probe, &key)
            .header("authorization", basic("ann", "wrong"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(failure_of(&a), (StatusCode::UNAUTHORIZED, Some(10003)));
    for _ in 0..2 {
        let a = send(
            &http,
            req("GET", &probe, &key)
                .header("authorization", basic("ann", "s3cret-pass"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["headers"]["x-identity"], "ann");
        assert!(a.body["headers"].get("authorization").is_none());
    }
    // The stored configuration keeps a hash, never the password.
    let stored = service::policies::list_for(&db, &ctx, EntityKind::Client, &at("Acme", "App"))
        .await
        .unwrap();
    assert!(!stored[0].configuration.contains("s3cret"));
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // Caching: the second identical GET comes from the gateway.
    let cached = format!("{base}/cached/list");
    let id = service::policies::add(
        &db,
        &ctx,
        EntityKind::Client,
        &at("Acme", "App"),
        "caching",
        r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/cached.*"}]}"#,
        None,
    )
    .await
    .unwrap()
    .id;
    service::clients::register(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    let first = send(
        &http,
        req("GET", &cached, &key).body(Body::empty()).unwrap(),
    )
    .await;
    let second = send(
        &http,
        req("GET", &cached, &key).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (first.header("x-cache"), second.header("x-cache")),
        ("MISS", "HIT")
    );
    assert_eq!(first.text, second.text);
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // Quota: the fourth request of the day is refused.
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::OK,
        "quota",
        r#"{"limit":3,"granularity":"Client","period":"Day"}"#,
    )
    .await;
    for remaining in ["2", "1", "0"] {
        let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (a.status, a.header("x-quota-remaining")),
            (StatusCode::OK, remaining)
        );
    }
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::TOO_MANY_REQUESTS, Some(10012)));
    assert_eq!(a.header("x-quota-remaining"), "0");
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // Transfer quota: downloads count once sent; the next request is refused.
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::OK,
        "transfer-quota",
        r#"{"limit":100,"direction":"download","granularity":"Client","period":"Day"}"#,
    )
    .await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(
        (a.status, a.header("x-transferquota-remaining")),
        (StatusCode::OK, "100")
    );
    assert!(a.text.len() > 100);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = send(&http, req("GET", &probe, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(failure_of(&a), (StatusCode::TOO_MANY_REQUESTS, Some(10013)));
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // Uploads: a body of known length is counted before it is sent on; a streamed (chunked)
    // one once it has passed. Either way the next request over the limit is refused.
    let id = with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::OK,
        "transfer-quota",
        r#"{"limit":30,"direction":"upload","granularity":"Client","period":"Day"}"#,
    )
    .await;
    let a = send(
        &http,
        req("POST", &probe, &key)
            .body(Body::new(Chunked(Some(bytes::Bytes::from_static(
                b"0123456789012345678901234",
            )))))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["headers"]["transfer-encoding"], "chunked");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = send(
        &http,
        req("POST", &probe, &key)
            .body(Body::from("0123456789"))
            .unwrap(),
    )
    .await;
    assert_eq!(failure_of(&a), (StatusCode::TOO_MANY_REQUESTS, Some(10013)));
    without_client_policy(&db, &ctx, &http, &probe, &key, id).await;

    // A change to a registered client's policies waits for Re-register.
    service::policies::add(
        &db,
        &ctx,
        EntityKind::Client,
        &at("Acme", "App"),
        "ip-blocklist",
        r#"{"ips":["*"]}"#,
        None,
    )
    .await
    .unwrap();
    let v = service::clients::get_version(&db, &ctx, "Acme", "App", "1.0")
        .await
        .unwrap();
    assert!(v.unpublished_changes);
    tokio::time::sleep(gateway::POLL_EVERY * 3).await;
    assert_eq!(
        get(&http, probe.clone(), Some(&key)).await.0,
        StatusCode::OK
    );
    service::clients::register(&db, &ctx, &at("Acme", "App"))
        .await
        .unwrap();
    within_a_second(&http, probe.clone(), &key, StatusCode::FORBIDDEN).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn quotas_survive_a_restart_and_redis_shares_rate_limits() {
    let (dir, url) = sqlite_url("restart");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (_ctx, key) = world(
        &db,
        backend,
        &[
            (
                "quota",
                r#"{"limit":2,"granularity":"Client","period":"Day"}"#,
            ),
            (
                "rate-limiting",
                r#"{"limit":100,"granularity":"Api","period":"Minute"}"#,
            ),
        ],
        &[],
    )
    .await;
    let http = http();
    let first = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    for _ in 0..2 {
        let (status, _) = get(
            &http,
            format!("http://{first}/Acme/Weather/1.0/x"),
            Some(&key),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    tokio::time::sleep(gateway::PERSIST_EVERY * 2).await;
    // A node started afterwards (a restart) starts from the stored counters.
    let restarted = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let (status, body) = get(
        &http,
        format!("http://{restarted}/Acme/Weather/1.0/x"),
        Some(&key),
    )
    .await;
    assert_eq!(
        (status, body["failureCode"].as_u64()),
        (StatusCode::TOO_MANY_REQUESTS, Some(10012))
    );

    // Two nodes sharing Redis (database 7, emptied first) count one rate limit together.
    let redis_url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/7".into());
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Redis must answer at {redis_url} under CI"
        );
        eprintln!("skipped the Redis part: no Redis at {redis_url}");
        return;
    };
    let _: () = redis::cmd("FLUSHDB").query_async(&mut conn).await.unwrap();
    let (dir2, url2) = sqlite_url("redis");
    let db2 = support::connect(&url2).await;
    let (_ctx2, key2) = world(
        &db2,
        backend,
        &[(
            "rate-limiting",
            r#"{"limit":4,"granularity":"Client","period":"Minute"}"#,
        )],
        &[],
    )
    .await;
    let options = gateway::Options {
        redis_url: Some(redis_url.clone()),
        ..Default::default()
    };
    let a = gateway::Gateway::start_with(db2.clone(), options.clone())
        .await
        .unwrap();
    assert!(a.limits.shared());
    let a = serve(a).await;
    let b = serve(
        gateway::Gateway::start_with(db2.clone(), options)
            .await
            .unwrap(),
    )
    .await;
    let mut statuses = Vec::new();
    for node in [a, b, a, b, a, b] {
        statuses.push(
            get(
                &http,
                format!("http://{node}/Acme/Weather/1.0/x"),
                Some(&key2),
            )
            .await
            .0,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// A backend whose answers say what it saw (path, `Accept-Language`, whether `Authorization`
/// came) and how many requests it has answered; `…/vary` answers `Vary: Accept-Language`,
/// `…/star` `Vary: *`, and `…/big` 100 kB of text.
async fn counting_backend() -> std::net::SocketAddr {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let answered = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().fallback(move |req: Request| {
        let answered = answered.clone();
        async move {
            use axum::response::IntoResponse;
            let n = answered.fetch_add(1, Ordering::SeqCst) + 1;
            let path = req.uri().path().to_owned();
            if path.ends_with("/big") {
                return "a".repeat(100_000).into_response();
            }
            let lang = req
                .headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = serde_json::json!({
                "path": path,
                "lang": lang,
                "authorization": req.headers().contains_key("authorization"),
                "n": n,
            });
            let mut res = body.to_string().into_response();
            let vary = if path.ends_with("/vary") {
                Some("Accept-Language")
            } else if path.ends_with("/star") {
                Some("*")
            } else {
                None
            };
            if let Some(v) = vary {
                res.headers_mut()
                    .insert("vary", axum::http::HeaderValue::from_static(v));
            }
            res
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// API "Forecast" 1.0 on `endpoint`, offering plan Gold, published, and a contract of client
/// App with it (re-registered).
async fn second_api(db: &service::DatabaseConnection, ctx: &service::Ctx, endpoint: &str) {
    let api = service::apis::NewApi {
        name: "Forecast".into(),
        version: "1.0".into(),
        description: String::new(),
        endpoint: endpoint.to_owned(),
    };
    service::apis::create(db, ctx, "Acme", api).await.unwrap();
    let offer = domain::dto::PlanOffer {
        plan_id: "Gold".into(),
        plan_version: "1.0".into(),
        requires_approval: false,
        discoverability: domain::Discoverability::AllUsers,
    };
    service::apis::set_plans(db, ctx, &at("Acme", "Forecast"), vec![offer])
        .await
        .unwrap();
    service::apis::publish(db, ctx, &at("Acme", "Forecast"))
        .await
        .unwrap();
    let target = service::contracts::Target {
        api_org_id: "Acme".into(),
        api_id: "Forecast".into(),
        api_version: "1.0".into(),
        plan_id: "Gold".into(),
    };
    service::contracts::create(db, ctx, &at("Acme", "App"), target)
        .await
        .unwrap();
    service::clients::register(db, ctx, &at("Acme", "App"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_cache_keeps_responses_per_api_version_caller_and_varied_header() {
    let (dir, url) = sqlite_url("cache-keys");
    let db = support::connect(&url).await;
    let backend = counting_backend().await;
    // The plan's Caching policy is one policy for every API the plan is offered on.
    let (ctx, key) = world(
        &db,
        backend,
        &[(
            "caching",
            r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/.*"}]}"#,
        )],
        &[],
    )
    .await;
    second_api(&db, &ctx, &format!("http://{backend}/v2")).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let weather = format!("http://{gw}/Acme/Weather/1.0");
    let forecast = format!("http://{gw}/Acme/Forecast/1.0");
    let fetch = |url: String, extra: Option<(&'static str, String)>| {
        let mut r = req("GET", &url, &key);
        if let Some((name, value)) = extra {
            r = r.header(name, value);
        }
        send(&http, r.body(Body::empty()).unwrap())
    };

    // Two API versions behind one plan policy: each its own response.
    let a = fetch(format!("{weather}/plain"), None).await;
    assert_eq!(
        (a.header("x-cache"), a.body["path"].as_str()),
        ("MISS", Some("/v1/plain"))
    );
    let b = fetch(format!("{forecast}/plain"), None).await;
    assert_eq!(
        (b.header("x-cache"), b.body["path"].as_str()),
        ("MISS", Some("/v2/plain")),
        "another API version's response must not be served"
    );
    let again = fetch(format!("{weather}/plain"), None).await;
    assert_eq!(
        (again.header("x-cache"), again.text.as_str()),
        ("HIT", a.text.as_str())
    );

    // Vary: one response per value of the header; Vary: * is never kept.
    let fr = || Some(("accept-language", "fr".to_owned()));
    let first = fetch(format!("{weather}/vary"), fr()).await;
    assert_eq!(
        (first.header("x-cache"), first.body["lang"].as_str()),
        ("MISS", Some("fr"))
    );
    let en = fetch(
        format!("{weather}/vary"),
        Some(("accept-language", "en".into())),
    )
    .await;
    assert_eq!(
        (en.header("x-cache"), en.body["lang"].as_str()),
        ("MISS", Some("en"))
    );
    let second = fetch(format!("{weather}/vary"), fr()).await;
    assert_eq!(
        (second.header("x-cache"), second.text.as_str()),
        ("HIT", first.text.as_str())
    );
    for _ in 0..2 {
        let star = fetch(format!("{weather}/star"), None).await;
        assert_eq!(star.header("x-cache"), "");
    }

    // A request with Authorization is not cached (the policy does not say otherwise).
    for _ in 0..2 {
        let a = fetch(
            format!("{weather}/plain"),
            Some(("authorization", "Bearer personal".into())),
        )
        .await;
        assert_eq!(a.header("x-cache"), "");
        assert_eq!(a.body["authorization"], true);
    }

    // BASIC users of one client: each their own responses.
    with_client_policy(
        &db, &ctx, &http, &format!("{weather}/probe"), &key, StatusCode::UNAUTHORIZED,
        "basic-auth",
        r#"{"realm":"Weather","identities":[{"username":"ann","password":"ann-password"},{"username":"bob","password":"bob-password"}],"requireTls":false}"#,
    )
    .await;
    let as_user = |user: &str, password: &str| {
        Some((
            "authorization",
            format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
        ))
    };
    let ann = fetch(format!("{weather}/who"), as_user("ann", "ann-password")).await;
    assert_eq!(
        (ann.status, ann.header("x-cache")),
        (StatusCode::OK, "MISS"),
        "{}",
        ann.text
    );
    let bob = fetch(format!("{weather}/who"), as_user("bob", "bob-password")).await;
    assert_eq!(
        bob.header("x-cache"),
        "MISS",
        "ann's response must not be served to bob"
    );
    assert_ne!(bob.body["n"], ann.body["n"]);
    let ann_again = fetch(format!("{weather}/who"), as_user("ann", "ann-password")).await;
    assert_eq!(
        (ann_again.header("x-cache"), ann_again.text.as_str()),
        ("HIT", ann.text.as_str())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn requests_with_authorization_are_cached_per_token_when_the_policy_says_so() {
    let (dir, url) = sqlite_url("cache-authorized");
    let db = support::connect(&url).await;
    let backend = counting_backend().await;
    let (_ctx, key) = world(
        &db,
        backend,
        &[],
        &[(
            "caching",
            r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/.*"}],"cacheAuthorizedRequests":true}"#,
        )],
    )
    .await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let url = format!("http://{gw}/Acme/Weather/1.0/mine");
    let with_token = |token: &str| {
        req("GET", &url, &key)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let a = send(&http, with_token("a")).await;
    assert_eq!(a.header("x-cache"), "MISS");
    let again = send(&http, with_token("a")).await;
    assert_eq!(
        (again.header("x-cache"), again.text.as_str()),
        ("HIT", a.text.as_str())
    );
    let b = send(&http, with_token("b")).await;
    assert_eq!(
        b.header("x-cache"),
        "MISS",
        "another token's answer is not served"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn ip_lists_read_the_last_line_of_their_header() {
    let (dir, url) = sqlite_url("ip-last-line");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let probe = format!("http://{gw}/Acme/Weather/1.0/probe");
    with_client_policy(
        &db,
        &ctx,
        &http,
        &probe,
        &key,
        StatusCode::OK,
        "ip-blocklist",
        r#"{"ips":["203.0.113.5"],"ipHeader":"X-Forwarded-For"}"#,
    )
    .await;
    let with_lines = |lines: [&str; 2]| {
        req("GET", &probe, &key)
            .header("x-forwarded-for", lines[0])
            .header("x-forwarded-for", lines[1])
            .body(Body::empty())
            .unwrap()
    };
    // The proxy in front appends its own line last; the caller's earlier line does not count.
    let a = send(&http, with_lines(["10.0.0.7", "198.51.100.1, 203.0.113.5"])).await;
    assert_eq!(
        (a.status, a.body["failureCode"].as_u64()),
        (StatusCode::FORBIDDEN, Some(10002))
    );
    let a = send(&http, with_lines(["203.0.113.5", "10.0.0.7"])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_body_that_would_grow_past_the_rewrite_cap_is_refused() {
    let (dir, url) = sqlite_url("rewrite-cap");
    let db = support::connect(&url).await;
    let backend = counting_backend().await;
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let big = format!("http://{gw}/Acme/Weather/1.0/big");
    // 100 kB of "a", each replaced by 100 characters: 10 MB, past the 8 MiB cap.
    let config = serde_json::json!({
        "fromRegex": "a",
        "toReplacement": "z".repeat(100),
        "processRequestUrl": false,
        "processBody": true,
    });
    with_client_policy(
        &db,
        &ctx,
        &http,
        &big,
        &key,
        StatusCode::BAD_GATEWAY,
        "url-rewriting",
        &config.to_string(),
    )
    .await;
    let a = send(&http, req("GET", &big, &key).body(Body::empty()).unwrap()).await;
    assert_eq!(
        (a.status, a.body["failureCode"].as_u64()),
        (StatusCode::BAD_GATEWAY, Some(10025))
    );
    assert!(a.text.len() < 1000, "refused, not sent unrewritten");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("too large once rewritten")
    );
    // A body that stays under the cap is rewritten.
    let small = send(
        &http,
        req("GET", &format!("http://{gw}/Acme/Weather/1.0/small"), &key)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(small.status, StatusCode::OK);
    assert!(small.text.contains(&"z".repeat(100)), "{}", small.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_saturated_password_pool_answers_503_even_for_unknown_users() {
    let (dir, url) = sqlite_url("basic-busy");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    // No hashing thread is ever free: every check waits its 50 ms and gives up.
    let options = gateway::Options {
        password_checks: gateway::PasswordChecks {
            threads: 0,
            wait: Duration::from_millis(50),
        },
        ..Default::default()
    };
    let gw = serve(
        gateway::Gateway::start_with(db.clone(), options)
            .await
            .unwrap(),
    )
    .await;
    let http = http();
    let probe = format!("http://{gw}/Acme/Weather/1.0/probe");
    with_client_policy(
        &db, &ctx, &http, &probe, &key, StatusCode::UNAUTHORIZED,
        "basic-auth",
        r#"{"realm":"Weather","identities":[{"username":"ann","password":"s3cret-pass"}],"requireTls":false}"#,
    )
    .await;
    // A known user and an unknown one alike go to the (busy) password check.
    for user in ["ann", "eve"] {
        let a = send(
            &http,
            req("GET", &probe, &key)
                .header(
                    "authorization",
                    format!("Basic {}", base64(format!("{user}:s3cret-pass").as_bytes())),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (a.status, a.body["failureCode"].as_u64()),
            (StatusCode::SERVICE_UNAVAILABLE, Some(10016)),
            "{user}: {}",
            a.text
        );
        assert_eq!(a.header("retry-after"), "1");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh database on the PostgreSQL server at `TEST_DATABASE_URL` (its URL, and the admin URL
/// and name to drop it with); `None` when the server does not answer and `CI` is not set.
async fn postgres_database() -> Option<(String, String, String)> {
    use sea_orm::ConnectionTrait;
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let admin = match sea_orm::Database::connect(&admin_url).await {
        Ok(db) => db,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL at {admin_url} is required under CI: {e}"
            );
            eprintln!("skipped the PostgreSQL part: no PostgreSQL at {admin_url} ({e})");
            return None;
        }
    };
    let name = format!(
        "tollgate_gw_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    Some((format!("{base}/{name}"), admin_url.clone(), name))
}

/// Sends `req` straight to the gateway's router (no HTTP parser in between, so a header of any
/// size arrives).
async fn in_process(
    router: &axum::Router,
    req: axum::http::Request<Body>,
) -> (StatusCode, HeaderMapOf) {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers)
}

type HeaderMapOf = axum::http::HeaderMap;

/// A 1 MB per-user header value is counted under a short key, persisted, and still counted
/// after a restart.
async fn per_user_counters_take_any_header_value(url: &str) {
    let db = support::connect(url).await;
    let backend = backend().await;
    let (_ctx, key) = world(
        &db,
        backend,
        &[(
            "quota",
            r#"{"limit":2,"granularity":"User","header":"X-User","period":"Day"}"#,
        )],
        // The backend (a plain HTTP server) would refuse such a header: it stops here.
        &[(
            "simple-header",
            r#"{"stripHeaders":[{"by":"name","pattern":"X-User","applyTo":"request"}]}"#,
        )],
    )
    .await;
    let huge = |c: char| c.to_string().repeat(1 << 20);
    let call = |router: axum::Router, user: String| {
        let key = key.clone();
        async move {
            let req = Request::builder()
                .uri("/Acme/Weather/1.0/x")
                .header("x-api-key", key)
                .header("x-user", user)
                .body(Body::empty())
                .unwrap();
            let (status, headers) = in_process(&router, req).await;
            let remaining = headers
                .get("x-quota-remaining")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (status, remaining)
        }
    };
    let router = gateway::router(gateway::Gateway::start(db.clone()).await.unwrap());
    assert_eq!(
        call(router.clone(), huge('a')).await,
        (StatusCode::OK, "1".into())
    );
    assert_eq!(
        call(router.clone(), huge('a')).await,
        (StatusCode::OK, "0".into())
    );
    assert_eq!(
        call(router.clone(), huge('a')).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call(router.clone(), huge('b')).await,
        (StatusCode::OK, "1".into())
    );

    tokio::time::sleep(gateway::PERSIST_EVERY * 3).await;
    let stored: Vec<_> = service::limits::load_active(&db, chrono::Utc::now().timestamp())
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.key.contains("|u:"))
        .collect();
    let mut used: Vec<i64> = stored.iter().map(|c| c.used).collect();
    used.sort();
    let lengths: Vec<usize> = stored.iter().map(|c| c.key.len()).collect();
    assert_eq!(used, [1, 2], "key lengths {lengths:?}");
    assert!(lengths.iter().all(|&n| n <= 48), "key lengths {lengths:?}");

    // A restarted node starts from the stored counters.
    let restarted = gateway::router(gateway::Gateway::start(db.clone()).await.unwrap());
    assert_eq!(
        call(restarted.clone(), huge('a')).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call(restarted, huge('b')).await,
        (StatusCode::OK, "0".into())
    );
    db.close().await.ok();
}

#[tokio::test]
async fn per_user_counters_take_a_1_mb_header_value_on_sqlite() {
    let (dir, url) = sqlite_url("huge-user");
    per_user_counters_take_any_header_value(&url).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn per_user_counters_take_a_1_mb_header_value_on_postgres() {
    use sea_orm::ConnectionTrait;
    let Some((url, admin_url, name)) = postgres_database().await else {
        return;
    };
    per_user_counters_take_any_header_value(&url).await;
    if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .ok();
    }
}

/// Standard base64 (for the Authorization header in the tests).
fn base64(raw: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in raw.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A request body of unknown length: sent chunked.
struct Chunked(Option<bytes::Bytes>);

impl hyper::body::Body for Chunked {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}
