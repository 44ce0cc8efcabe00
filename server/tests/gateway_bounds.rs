//! The Implementation tab's gateway bounds through the real router on SQLite and PostgreSQL:
//! the request body limit (bounds checked, kept, cloned to a new version), the encoded-slash
//! switch, the warning for an endpoint the gateway refuses to connect to, and the backend's
//! connect and response timeouts and concurrency bound (bounds checked on their fields through
//! the server function and the REST API).

mod common;

use app::api::account::CreateAccessToken;
use app::api::entities::{CreateEntity, GetApiVersion};
use app::api::lifecycle::UpdateApiImplementation;
use app::api::orgs::CreateOrg;
use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Reply, TestApp};
use domain::dto::{ApiVersionDetail, CreatedAccessToken};
use serde_json::{Value, json};

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn get_api(app: &mut TestApp) -> ApiVersionDetail {
    ok(app
        .call::<GetApiVersion>(&[("org", "Acme"), ("api", "Weather"), ("version", "1.0")])
        .await)
    .await
    .json()
}

async fn implementation(
    app: &mut TestApp,
    endpoint: &str,
    extra: &[(&str, &str)],
) -> common::Reply {
    let mut form = vec![
        ("org", "Acme"),
        ("api", "Weather"),
        ("version", "1.0"),
        ("endpoint", endpoint),
        ("content_type", "JSON"),
        ("public_api", "false"),
    ];
    form.extend_from_slice(extra);
    app.call::<UpdateApiImplementation>(&form).await
}

on_both!(implementation_tab_sets_the_gateway_bounds, |app| {
    // As the server sets it from TOLLGATE_GATEWAY_DENY_NETWORKS: loopback denied.
    service::gateway::set_network_rule(std::sync::Arc::new(
        domain::gateway_bounds::NetworkRule::new(
            &[],
            &["127.0.0.0/8".to_owned(), "::1".to_owned()],
            Vec::new(),
        )
        .unwrap(),
    ));
    ok(app.sign_up("pat@example.com", "Pat").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await)
    .await;
    ok(app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "Acme"),
            ("name", "Weather"),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", "http://10.1.2.3:9/v1"),
        ])
        .await)
    .await;
    // The defaults: no limit of its own (10 MiB), encoded slashes refused, no warning.
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.request_body_limit,
            d.allow_encoded_slashes,
            d.endpoint_refusal.clone()
        ),
        (None, false, None)
    );

    // Set, then kept.
    ok(implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[
            ("request_body_limit", "2048"),
            ("allow_encoded_slashes", "true"),
        ],
    )
    .await)
    .await;
    let d = get_api(&mut app).await;
    assert_eq!(
        (d.request_body_limit, d.allow_encoded_slashes),
        (Some(2048), true)
    );

    // Over 1 GiB: refused on its field, nothing written.
    let r = implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[("request_body_limit", "1073741825")],
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    let message = r.error().field("requestBodyLimit").unwrap_or_default();
    assert!(message.contains("1 GiB"), "{}", r.body);
    assert_eq!(get_api(&mut app).await.request_body_limit, Some(2048));

    // Back to the default: the field left out.
    ok(implementation(&mut app, "http://10.1.2.3:9/v1", &[]).await).await;
    let d = get_api(&mut app).await;
    assert_eq!(
        (d.request_body_limit, d.allow_encoded_slashes),
        (None, false)
    );

    // An endpoint on the metadata address, or a name that resolves to link-local: the tab
    // says the gateway refuses it, and why.
    for endpoint in [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
    ] {
        ok(implementation(&mut app, endpoint, &[]).await).await;
        let warning = get_api(&mut app).await.endpoint_refusal.unwrap_or_default();
        assert!(warning.contains("refuses"), "{endpoint}: {warning}");
        assert!(warning.contains("link-local"), "{endpoint}: {warning}");
    }
    // A DNS name is resolved, and its addresses checked as the gateway checks them.
    ok(implementation(&mut app, "http://localhost:9/v1", &[]).await).await;
    let warning = get_api(&mut app).await.endpoint_refusal.unwrap_or_default();
    assert!(warning.contains("localhost"), "{warning}");
    assert!(warning.contains("denied"), "{warning}");
    // A private on-premises backend is fine.
    ok(implementation(&mut app, "http://10.1.2.3:8080/v1", &[]).await).await;
    assert_eq!(get_api(&mut app).await.endpoint_refusal, None);
});

/// A REST call with a personal access token.
async fn rest(app: &mut TestApp, token: &str, method: &str, path: &str, body: Value) -> Reply {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, common::HOST)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(req).await
}

on_both!(backend_timeouts_and_concurrency_bound_are_checked, |app| {
    ok(app.sign_up("pat@example.com", "Pat").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await)
    .await;
    ok(app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "Acme"),
            ("name", "Weather"),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", "http://10.1.2.3:9/v1"),
        ])
        .await)
    .await;
    // The defaults: nothing of its own.
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.connect_timeout_ms,
            d.response_timeout_ms,
            d.max_concurrent_requests
        ),
        (None, None, None)
    );

    // The Implementation tab's server function: set, then kept.
    ok(implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[
            ("connect_timeout_ms", "250"),
            ("response_timeout_ms", "1500"),
            ("max_concurrent_requests", "8"),
        ],
    )
    .await)
    .await;
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.connect_timeout_ms,
            d.response_timeout_ms,
            d.max_concurrent_requests
        ),
        (Some(250), Some(1500), Some(8))
    );
    // Out of bounds: each refused on its field, all at once, nothing written.
    let r = implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[
            ("connect_timeout_ms", "60001"),
            ("response_timeout_ms", "99"),
            ("max_concurrent_requests", "0"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let e = r.error();
    let connect = e.field("connectTimeoutMs").unwrap_or_default();
    assert!(connect.contains("between 100 and 60000"), "{}", r.body);
    let response = e.field("responseTimeoutMs").unwrap_or_default();
    assert!(response.contains("between 100 and 600000"), "{}", r.body);
    let concurrency = e.field("maxConcurrentRequests").unwrap_or_default();
    assert!(concurrency.contains("between 1 and 10000"), "{}", r.body);
    assert_eq!(
        get_api(&mut app).await.response_timeout_ms,
        Some(1500),
        "nothing written"
    );

    // The REST API: the same rules, 422 problems naming the field.
    let created: CreatedAccessToken = ok(app
        .call_json::<CreateAccessToken>(json!({"input": {
            "name": "ci", "read_only": false, "orgs": null,
            "expires_on": (chrono::Utc::now() + chrono::Duration::days(30)).date_naive(),
        }}))
        .await)
    .await
    .json();
    let token = created.secret;
    let path = "/api/v1/orgs/Acme/apis/Weather/versions/1.0/implementation";
    let base =
        json!({"endpoint": "http://10.1.2.3:9/v1", "content_type": "JSON", "public_api": true});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, field) in [
        (json!({"connect_timeout_ms": 0}), "connectTimeoutMs"),
        (json!({"connect_timeout_ms": 60_001}), "connectTimeoutMs"),
        (json!({"response_timeout_ms": 50}), "responseTimeoutMs"),
        (json!({"response_timeout_ms": 600_001}), "responseTimeoutMs"),
        (
            json!({"max_concurrent_requests": 0}),
            "maxConcurrentRequests",
        ),
        (
            json!({"max_concurrent_requests": 10_001}),
            "maxConcurrentRequests",
        ),
    ] {
        let r = rest(&mut app, &token, "PUT", path, with(extra.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra}: {}",
            r.body
        );
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["errors"][0]["field"], field, "{v}");
        assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v}");
    }
    // Not a number at all: refused before the service sees it.
    let r = rest(
        &mut app,
        &token,
        "PUT",
        path,
        with(json!({"max_concurrent_requests": -1})),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_eq!(get_api(&mut app).await.max_concurrent_requests, Some(8));

    // Within bounds, through REST, on a published version too: operational settings, which
    // `lifecycle::change_api` lets a published version change.
    let r = rest(&mut app, &token, "PUT", path, base.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let publish = "/api/v1/orgs/Acme/apis/Weather/versions/1.0/publish";
    let r = rest(&mut app, &token, "POST", publish, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(get_api(&mut app).await.status, domain::ApiStatus::Published);
    let within = with(json!({
        "connect_timeout_ms": 100, "response_timeout_ms": 600_000, "max_concurrent_requests": 10_000,
    }));
    let r = rest(&mut app, &token, "PUT", path, within).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.connect_timeout_ms,
            d.response_timeout_ms,
            d.max_concurrent_requests
        ),
        (Some(100), Some(600_000), Some(10_000))
    );
    // Left out: back to the defaults.
    let r = rest(&mut app, &token, "PUT", path, base.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.connect_timeout_ms,
            d.response_timeout_ms,
            d.max_concurrent_requests
        ),
        (None, None, None)
    );
});
