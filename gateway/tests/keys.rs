//! API keys at the gateway, against a real backend and a real database (SQLite): rotation
//! without a single failed request, revocation within a second, expiry checked on each request,
//! the query-string rule, and the last use reported with the metrics.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use domain::credentials::Overlap;
use domain::dto::{ApiKeyDto, KeyRequest};
use support::*;

fn rotate(overlap: Overlap) -> KeyRequest {
    KeyRequest::Rotate {
        overlap,
        label: String::new(),
    }
}

async fn keys(db: &service::DatabaseConnection, ctx: &service::Ctx) -> Vec<ApiKeyDto> {
    service::clients::get_version(db, ctx, "Acme", "App", "1.0")
        .await
        .unwrap()
        .keys
}

#[tokio::test]
async fn rotating_ten_times_under_load_fails_no_request_and_revoking_refuses_within_a_second() {
    let (dir, url) = sqlite_url("gw-keys");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, old) = world(&db, backend, &[], &[]).await;
    let app = at("Acme", "App");
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let api = format!("http://{gw}/Acme/Weather/1.0/ping");
    assert_eq!(get(&http, api.clone(), Some(&old)).await.0, StatusCode::OK);

    // A bounded loop of requests with the old key, while the key is rotated ten times (each
    // rotation reloads the gateway's snapshot).
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (stop, sent, failed, http, api, old) = (
            stop.clone(),
            sent.clone(),
            failed.clone(),
            http.clone(),
            api.clone(),
            old.clone(),
        );
        tokio::spawn(async move {
            let until = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                let (status, body) = get(&http, api.clone(), Some(&old)).await;
                sent.fetch_add(1, Ordering::Relaxed);
                if status != StatusCode::OK {
                    failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("failed: {status} {body}");
                }
            }
        })
    };
    let mut new_keys = Vec::new();
    for _ in 0..10 {
        let new = service::api_keys::change(&db, &ctx, &app, rotate(Overlap::UntilRevoked))
            .await
            .unwrap();
        new_keys.push(new.secret);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("rotations: 10, requests with the old key: {sent}, failed: {failed}");
    assert!(sent >= 50, "the loop ran ({sent} requests)");
    assert_eq!(failed, 0);
    // Every new key works too.
    for k in &new_keys {
        within_a_second(&http, api.clone(), k, StatusCode::OK).await;
    }

    // Revoke the old key: refused with its own code within a second; the newest still works.
    let list = keys(&db, &ctx).await;
    let first = list.iter().min_by_key(|k| k.id).unwrap();
    service::api_keys::revoke(&db, &ctx, &app, first.id)
        .await
        .unwrap();
    let took = within_a_second(&http, api.clone(), &old, StatusCode::UNAUTHORIZED).await;
    eprintln!("revoked key refused after {took:?}");
    let (status, body) = get(&http, api.clone(), Some(&old)).await;
    assert_eq!(
        (status, body["failureCode"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(10030)),
        "{body}"
    );
    assert_eq!(
        get(&http, api.clone(), Some(new_keys.last().unwrap()))
            .await
            .0,
        StatusCode::OK
    );
    // An unknown key keeps its own code.
    let (_, body) = get(&http, api.clone(), Some("no-such-key-0000000000")).await;
    assert_eq!(body["failureCode"].as_i64(), Some(10023));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn expiry_is_checked_on_each_request_without_a_reload() {
    let (dir, url) = sqlite_url("gw-expiry");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, old) = world(&db, backend, &[], &[]).await;
    let app = at("Acme", "App");
    // The old key works for two more seconds after the rotation.
    let end = chrono::Utc::now() + chrono::Duration::seconds(2);
    let new = service::api_keys::change(&db, &ctx, &app, rotate(Overlap::Until(end)))
        .await
        .unwrap();
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let api = format!("http://{gw}/Acme/Weather/1.0/ping");
    assert_eq!(get(&http, api.clone(), Some(&old)).await.0, StatusCode::OK);
    assert_eq!(
        get(&http, api.clone(), Some(&new.secret)).await.0,
        StatusCode::OK
    );
    let version = service::gateway::config_version(&db).await.unwrap();
    let wait = (end - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    // Nothing changed in the database: the same snapshot refuses the key now.
    assert_eq!(
        service::gateway::config_version(&db).await.unwrap(),
        version
    );
    let (status, body) = get(&http, api.clone(), Some(&old)).await;
    assert_eq!(
        (status, body["failureCode"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(10031)),
        "{body}"
    );
    assert_eq!(
        get(&http, api.clone(), Some(&new.secret)).await.0,
        StatusCode::OK
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn keys_in_the_query_only_where_the_api_takes_them_and_last_use_is_reported() {
    let (dir, url) = sqlite_url("gw-query");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let (ctx, key) = world(&db, backend, &[], &[]).await;
    // Legacy 1.1 takes the key from the query too (as versions from before this rule do).
    service::apis::new_version(&db, &ctx, "Acme", "Weather", "1.1", None)
        .await
        .unwrap();
    let v11 = service::EntityRef {
        org_id: "Acme".into(),
        id: "Weather".into(),
        version: "1.1".into(),
    };
    let implementation = service::apis::Implementation {
        accept_key_in_query: true,
        ..support::public_implementation(&format!("http://{backend}/v1"))
    };
    service::apis::update_implementation(&db, &ctx, &v11, implementation)
        .await
        .unwrap();
    service::apis::publish(&db, &ctx, &v11).await.unwrap();

    let gw = gateway::Gateway::start(db.clone()).await.unwrap();
    let addr = serve(gw.clone()).await;
    let http = http();
    let base = format!("http://{addr}/Acme/Weather");
    // 1.0 (new): only the header.
    let (status, body) = get(&http, format!("{base}/1.0/x?apikey={key}"), None).await;
    assert_eq!(
        (status, body["failureCode"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(10032)),
        "{body}"
    );
    // 1.1 takes it from the query, and the backend never sees it.
    let (status, body) = get(&http, format!("{base}/1.1/x?a=1&apikey={key}&b=2"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["query"], "a=1&b=2");
    assert!(!body.to_string().contains(&key));

    // The last use reaches the database with the metrics (to the minute).
    assert_eq!(
        get(&http, format!("{base}/1.0/x"), Some(&key)).await.0,
        StatusCode::OK
    );
    let start = Instant::now();
    loop {
        let list = keys(&db, &ctx).await;
        if let Some(used) = list[0].last_used_on {
            let age = chrono::Utc::now() - used;
            assert!(age < chrono::Duration::minutes(2), "{age:?}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no last use");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::remove_dir_all(dir).ok();
}
