//! The REST API `/api/v1` through the real router on SQLite and PostgreSQL: every operation
//! with a personal access token, errors as problem+json with field paths, ETag / If-Match,
//! paging with Link, token scopes, expiry and revocation, a token outliving its owner's role,
//! bearer requests ignoring cookies, the per-token rate limit, and the OpenAPI document.

mod common;

use app::api::account::CreateAccessToken;
use app::api::orgs::{AddMember, CreateOrg, RemoveMember};
use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{ORIGIN, Reply, TestApp};
use domain::dto::CreatedAccessToken;
use serde_json::{Value, json};

const OWNER: &str = "kim@example.com";
const OTHER: &str = "olga@example.com";

fn ok(r: Reply) -> Reply {
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    r
}

/// A REST call that must answer `204 No Content`.
async fn no_content(
    app: &mut TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) {
    let r = call(app, token, method, path, body, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{method} {path}: {}",
        r.body
    );
}

/// A REST call with `token` (or with the jar's cookie when `None`), from another site.
async fn call(
    app: &mut TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut b = if token.is_some() {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, common::HOST)
    } else {
        app.request(method, path).header(header::ORIGIN, ORIGIN)
    };
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
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

async fn token(app: &mut TestApp, read_only: bool, orgs: Option<Vec<&str>>) -> String {
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let created: CreatedAccessToken = ok(app
        .call_json::<CreateAccessToken>(json!({"input": {
            "name": format!("ci {read_only} {orgs:?}"), "expires_on": expires,
            "read_only": read_only, "orgs": orgs,
        }}))
        .await)
    .json();
    created.secret
}

fn problem(r: &Reply, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        r.body
    );
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], status.as_u16());
    assert!(!v["detail"].as_str().unwrap().is_empty());
    v
}

on_both!(every_operation_with_a_token, |app| {
    ok(app.sign_up(OTHER, "Olga Other").await);
    app.sign_out().await;
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let t = token(&mut app, false, None).await;
    let t = Some(t.as_str());

    // Organizations.
    let r = ok(call(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs",
        Some(json!({"name": "Acme", "description": "Rockets"})),
        &[],
    )
    .await);
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers[header::LOCATION], "/api/v1/orgs/Acme");
    let org = ok(call(&mut app, t, "GET", "/api/v1/orgs/Acme", None, &[]).await);
    let etag = org.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = call(
        &mut app,
        t,
        "GET",
        "/api/v1/orgs/Acme",
        None,
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let changed = ok(call(
        &mut app,
        t,
        "PATCH",
        "/api/v1/orgs/Acme",
        Some(json!({"description": "Rockets and more"})),
        &[("if-match", &etag)],
    )
    .await);
    assert_eq!(changed.json::<Value>()["description"], "Rockets and more");
    let stale = call(
        &mut app,
        t,
        "PATCH",
        "/api/v1/orgs/Acme",
        Some(json!({"description": "Lost update"})),
        &[("if-match", &etag)],
    )
    .await;
    problem(&stale, StatusCode::PRECONDITION_FAILED);
    let now: Value = ok(call(&mut app, t, "GET", "/api/v1/orgs/Acme", None, &[]).await).json();
    assert_eq!(
        now["description"], "Rockets and more",
        "a 412 changes nothing"
    );
    let list = ok(call(&mut app, t, "GET", "/api/v1/orgs", None, &[]).await);
    assert_eq!(list.headers["x-total-count"], "1");
    assert_eq!(list.json::<Vec<Value>>()[0]["id"], "Acme");

    // Members.
    let r = call(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs/Acme/members",
        Some(json!({"email": OTHER, "role": "viewer"})),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let members: Vec<Value> =
        ok(call(&mut app, t, "GET", "/api/v1/orgs/Acme/members", None, &[]).await).json();
    assert_eq!(members.len(), 2);
    let olga = members.iter().find(|m| m["email"] == OTHER).unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    no_content(
        &mut app,
        t,
        "PUT",
        &format!("/api/v1/orgs/Acme/members/{olga}"),
        Some(json!({"role": "client_app_developer"})),
    )
    .await;

    // Plan, API, client.
    for (kind, name, endpoint) in [
        ("plans", "Gold", ""),
        ("apis", "Weather", "https://backend.example.com/v1"),
        ("clients", "App", ""),
    ] {
        let r = ok(call(
            &mut app,
            t,
            "POST",
            &format!("/api/v1/orgs/Acme/{kind}"),
            Some(json!({"name": name, "version": "1.0", "endpoint": endpoint})),
            &[],
        )
        .await);
        assert_eq!(r.status, StatusCode::CREATED);
        let location = format!("/api/v1/orgs/Acme/{kind}/{name}/versions/1.0");
        assert_eq!(r.headers[header::LOCATION], location.as_str());
        ok(call(&mut app, t, "GET", &location, None, &[]).await);
    }
    let r = ok(call(
        &mut app,
        t,
        "PATCH",
        "/api/v1/orgs/Acme/clients/App",
        Some(json!({"description": "The app"})),
        &[],
    )
    .await);
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Policies on the plan: add two, reorder, update with If-Match, remove.
    let plan_policies = "/api/v1/orgs/Acme/plans/Gold/versions/1.0/policies";
    let defs: Vec<Value> =
        ok(call(&mut app, t, "GET", "/api/v1/policy-definitions", None, &[]).await).json();
    assert!(defs.iter().any(|d| d["id"] == "rate-limiting"), "{defs:?}");
    let limit = json!({"limit": 100, "granularity": "Client", "period": "Minute"});
    let a: Value = ok(call(
        &mut app,
        t,
        "POST",
        plan_policies,
        Some(json!({"definition_id": "rate-limiting", "configuration": limit})),
        &[],
    )
    .await)
    .json();
    let b = ok(call(&mut app, t, "POST", plan_policies, Some(json!({"definition_id": "ip-blocklist", "configuration": {"ips": ["10.0.0.1"], "responseCode": 403}, "position": 0})), &[]).await);
    assert_eq!(b.status, StatusCode::CREATED);
    let b: Value = b.json();
    let order: Vec<Value> = ok(call(&mut app, t, "GET", plan_policies, None, &[]).await).json();
    assert_eq!(
        order.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(),
        vec![b["id"].clone(), a["id"].clone()]
    );
    let order: Vec<Value> = ok(call(
        &mut app,
        t,
        "PUT",
        &format!("{plan_policies}/order"),
        Some(json!({"ids": [a["id"], b["id"]]})),
        &[],
    )
    .await)
    .json();
    assert_eq!(order[0]["id"], a["id"]);
    let one = ok(call(
        &mut app,
        t,
        "GET",
        &format!("{plan_policies}/{}", a["id"]),
        None,
        &[],
    )
    .await);
    let tag = one.headers[header::ETAG].to_str().unwrap().to_owned();
    let stale = call(
        &mut app,
        t,
        "PATCH",
        &format!("{plan_policies}/{}", a["id"]),
        Some(json!({"configuration": limit})),
        &[("if-match", "\"stale\"")],
    )
    .await;
    problem(&stale, StatusCode::PRECONDITION_FAILED);
    let updated: Value = ok(call(
        &mut app,
        t,
        "PATCH",
        &format!("{plan_policies}/{}", a["id"]),
        Some(json!({"configuration": {"limit": 50, "granularity": "Client", "period": "Minute"}})),
        &[("if-match", &tag)],
    )
    .await)
    .json();
    assert!(
        updated["description"].as_str().unwrap().contains("50"),
        "{updated}"
    );
    no_content(
        &mut app,
        t,
        "DELETE",
        &format!("{plan_policies}/{}", b["id"]),
        None,
    )
    .await;

    // Lock the plan; offer it on the API, with a definition; publish.
    no_content(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs/Acme/plans/Gold/versions/1.0/lock",
        None,
    )
    .await;
    let api = "/api/v1/orgs/Acme/apis/Weather/versions/1.0";
    no_content(
        &mut app,
        t,
        "PUT",
        &format!("{api}/implementation"),
        Some(json!({"endpoint": "https://backend.example.com/v2", "content_type": "JSON"})),
    )
    .await;
    no_content(&mut app, t, "PUT", &format!("{api}/plans"), Some(json!({"plans": [{"plan_id": "Gold", "plan_version": "1.0", "requires_approval": true, "discoverability": "all_users"}]}))).await;
    let doc = "openapi: 3.0.3\ninfo:\n  title: Weather\n  version: '1.0'\npaths:\n  /forecast:\n    get:\n      summary: Forecast\n";
    no_content(
        &mut app,
        t,
        "PUT",
        &format!("{api}/definition"),
        Some(json!({"definition": doc})),
    )
    .await;
    let d: Value =
        ok(call(&mut app, t, "GET", &format!("{api}/definition"), None, &[]).await).json();
    assert_eq!(d["definition"], doc);
    no_content(&mut app, t, "POST", &format!("{api}/publish"), None).await;
    let chains: Value =
        ok(call(&mut app, t, "GET", &format!("{api}/chains"), None, &[]).await).json();
    assert_eq!(chains["plans"][0]["plan_id"], "Gold", "{chains}");

    // Olga's clients ask for Gold, which needs approval: Kim approves one (registering it),
    // rejects the other, and later revokes the first from the provider's side.
    app.sign_out().await;
    ok(app.sign_in(OTHER, common::PASSWORD).await);
    let olga_token = token(&mut app, false, None).await;
    let o = Some(olga_token.as_str());
    app.sign_out().await;
    ok(app.sign_in(OWNER, common::PASSWORD).await);
    ok(call(
        &mut app,
        o,
        "POST",
        "/api/v1/orgs",
        Some(json!({"name": "Oco"})),
        &[],
    )
    .await);
    let gold = json!({"api_org": "Acme", "api": "Weather", "api_version": "1.0", "plan": "Gold"});
    for name in ["Mobile", "Tablet"] {
        ok(call(
            &mut app,
            o,
            "POST",
            "/api/v1/orgs/Oco/clients",
            Some(json!({"name": name, "version": "1.0"})),
            &[],
        )
        .await);
        let r = ok(call(
            &mut app,
            o,
            "POST",
            &format!("/api/v1/orgs/Oco/clients/{name}/versions/1.0/contracts"),
            Some(gold.clone()),
            &[],
        )
        .await);
        assert_eq!(r.json::<Value>()["status"], "awaiting_approval");
    }
    let pending: Vec<Value> =
        ok(call(&mut app, t, "GET", "/api/v1/approvals", None, &[]).await).json();
    assert_eq!(pending.len(), 2, "{pending:?}");
    let (mobile, tablet) = (
        pending[0]["id"].as_i64().unwrap(),
        pending[1]["id"].as_i64().unwrap(),
    );
    let approved: Value = ok(call(
        &mut app,
        t,
        "POST",
        &format!("/api/v1/contracts/{mobile}/approve"),
        Some(json!({"register": true})),
        &[],
    )
    .await)
    .json();
    assert_eq!(approved["client_status"], "registered", "{approved}");
    no_content(
        &mut app,
        t,
        "POST",
        &format!("/api/v1/contracts/{tablet}/reject"),
        Some(json!({"reason": "Not yet"})),
    )
    .await;
    let revoked: Value = ok(call(
        &mut app,
        t,
        "POST",
        &format!("/api/v1/contracts/{mobile}/revoke"),
        Some(json!({"reason": "Moving on"})),
        &[],
    )
    .await)
    .json();
    assert!(revoked["client_status"].is_string(), "{revoked}");
    let told: Vec<Value> =
        ok(call(&mut app, o, "GET", "/api/v1/notifications", None, &[]).await).json();
    assert!(
        told.iter().any(|n| n["reason"] == "contract_revoked"),
        "{told:?}"
    );

    // Kim's own client: the contract is in force at once; register; keys.
    let client = "/api/v1/orgs/Acme/clients/App/versions/1.0";
    let r = ok(call(
        &mut app,
        t,
        "POST",
        &format!("{client}/contracts"),
        Some(gold.clone()),
        &[],
    )
    .await);
    assert_eq!(r.json::<Value>()["status"], "created");
    let listed: Vec<Value> = ok(call(
        &mut app,
        t,
        "GET",
        &format!("{client}/contracts"),
        None,
        &[],
    )
    .await)
    .json();
    let contract = listed[0]["id"].as_i64().unwrap();
    no_content(&mut app, t, "POST", &format!("{client}/register"), None).await;
    let contracts = ok(call(
        &mut app,
        t,
        "GET",
        &format!("{client}/contracts?per_page=1"),
        None,
        &[],
    )
    .await);
    assert_eq!(contracts.headers["x-total-count"], "1");
    let api_contracts: Vec<Value> =
        ok(call(&mut app, t, "GET", &format!("{api}/contracts"), None, &[]).await).json();
    assert!(
        api_contracts.iter().any(|c| c["id"] == contract),
        "{api_contracts:?}"
    );
    let choices: Value = ok(call(
        &mut app,
        t,
        "GET",
        &format!("/api/v1/contracts/{contract}/plans"),
        None,
        &[],
    )
    .await)
    .json();
    assert_eq!(choices["contract"]["id"], contract);
    let rotated = ok(call(
        &mut app,
        t,
        "POST",
        &format!("{client}/keys"),
        Some(json!({"Rotate": {"overlap": "OneHour", "label": "ci"}})),
        &[],
    )
    .await);
    assert_eq!(rotated.status, StatusCode::CREATED);
    let rotated: Value = rotated.json();
    let key = rotated["key"]["id"].as_i64().unwrap();
    let shown: Value = ok(call(
        &mut app,
        t,
        "POST",
        &format!("{client}/keys/{key}/reveal"),
        None,
        &[],
    )
    .await)
    .json();
    assert_eq!(shown["secret"], rotated["secret"]);
    let detail: Value = ok(call(&mut app, t, "GET", client, None, &[]).await).json();
    let old = detail["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] != key)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    no_content(&mut app, t, "DELETE", &format!("{client}/keys/{old}"), None).await;
    let m: Value = ok(call(
        &mut app,
        t,
        "GET",
        &format!("{client}/metrics?range=hour"),
        None,
        &[],
    )
    .await)
    .json();
    assert_eq!(m["range"], "hour");
    no_content(&mut app, t, "POST", &format!("{client}/unregister"), None).await;
    no_content(&mut app, t, "POST", &format!("{client}/register"), None).await;

    // New versions, change log, notifications, retire, break, delete.
    let v2 = ok(call(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs/Acme/clients/App/versions",
        Some(json!({"version": "2.0", "clone_from": "1.0"})),
        &[],
    )
    .await);
    assert_eq!(
        v2.headers[header::LOCATION],
        "/api/v1/orgs/Acme/clients/App/versions/2.0"
    );
    let log = ok(call(
        &mut app,
        t,
        "GET",
        "/api/v1/orgs/Acme/changes?per_page=2",
        None,
        &[],
    )
    .await);
    let link = log.headers[header::LINK].to_str().unwrap().to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("page=2&per_page=2"),
        "{link}"
    );
    assert_eq!(log.json::<Vec<Value>>().len(), 2);
    let client_log: Vec<Value> = ok(call(
        &mut app,
        t,
        "GET",
        "/api/v1/orgs/Acme/clients/App/changes",
        None,
        &[],
    )
    .await)
    .json();
    assert!(!client_log.is_empty());
    ok(call(&mut app, t, "GET", "/api/v1/notifications", None, &[]).await);
    no_content(
        &mut app,
        t,
        "POST",
        "/api/v1/notifications/read",
        Some(json!({})),
    )
    .await;
    no_content(
        &mut app,
        t,
        "DELETE",
        &format!("/api/v1/contracts/{contract}"),
        None,
    )
    .await;
    no_content(&mut app, t, "POST", &format!("{api}/retire"), None).await;
    no_content(&mut app, t, "DELETE", "/api/v1/orgs/Acme/clients/App", None).await;
    let gone = call(&mut app, t, "GET", client, None, &[]).await;
    problem(&gone, StatusCode::NOT_FOUND);
    no_content(
        &mut app,
        t,
        "DELETE",
        &format!("/api/v1/orgs/Acme/members/{olga}"),
        None,
    )
    .await;
});

on_both!(errors_are_problems_with_the_ui_field_paths, |app| {
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let secret = token(&mut app, false, None).await;
    let t = Some(secret.as_str());
    let v = problem(
        &call(
            &mut app,
            t,
            "POST",
            "/api/v1/orgs",
            Some(json!({"name": ""})),
            &[],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(v["errors"][0]["field"], "name", "{v}");
    ok(call(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs",
        Some(json!({"name": "Acme"})),
        &[],
    )
    .await);
    let v = problem(
        &call(
            &mut app,
            t,
            "POST",
            "/api/v1/orgs",
            Some(json!({"name": "Acme"})),
            &[],
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert_eq!(v["errors"][0]["field"], "name", "{v}");
    let v = problem(
        &call(&mut app, t, "POST", "/api/v1/orgs/Acme/plans/Gold/versions/1.0/policies", Some(json!({"definition_id": "rate-limiting", "configuration": {"limit": 10, "granularity": "Client", "period": "Minute"}})), &[]).await,
        StatusCode::NOT_FOUND,
    );
    assert!(v["detail"].as_str().unwrap().contains("Gold"), "{v}");
    ok(call(
        &mut app,
        t,
        "POST",
        "/api/v1/orgs/Acme/plans",
        Some(json!({"name": "Gold", "version": "1.0"})),
        &[],
    )
    .await);
    let v = problem(
        &call(&mut app, t, "POST", "/api/v1/orgs/Acme/plans/Gold/versions/1.0/policies", Some(json!({"definition_id": "rate-limiting", "configuration": {"limit": 0, "granularity": "Client", "period": "Minute"}})), &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(v["errors"][0]["field"], "limit", "{v}");
    problem(
        &call(&mut app, t, "GET", "/api/v1/orgs/Nowhere", None, &[]).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &call(&mut app, t, "GET", "/api/v1/orgs/Acme/gadgets", None, &[]).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &call(&mut app, t, "GET", "/api/v1/nothing/here", None, &[]).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &call(&mut app, t, "DELETE", "/api/v1/orgs", None, &[]).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    problem(
        &call(
            &mut app,
            t,
            "POST",
            "/api/v1/orgs",
            Some(json!({"name": "X", "colour": "red"})),
            &[],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let bad = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/orgs")
        .header(header::HOST, common::HOST)
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    problem(&app.send(bad).await, StatusCode::BAD_REQUEST);
    let untyped = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/orgs")
        .header(header::HOST, common::HOST)
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::from("{}"))
        .unwrap();
    problem(&app.send(untyped).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v = problem(
        &call(&mut app, t, "GET", "/api/v1/orgs?per_page=101", None, &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(v["errors"][0]["field"], "per_page");
    problem(
        &call(&mut app, t, "GET", "/api/v1/orgs?page=abc", None, &[]).await,
        StatusCode::BAD_REQUEST,
    );
    let v = problem(
        &call(
            &mut app,
            t,
            "GET",
            "/api/v1/orgs/Acme/clients/X/versions/1/metrics?range=year",
            None,
            &[],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(v["errors"][0]["field"], "range");
    // Anonymous, a bad scheme, a token that is not one.
    app.sign_out().await;
    problem(
        &call(&mut app, None, "GET", "/api/v1/orgs", None, &[]).await,
        StatusCode::UNAUTHORIZED,
    );
    problem(
        &call(
            &mut app,
            None,
            "GET",
            "/api/v1/orgs",
            None,
            &[("authorization", "Basic a2ltOnB3")],
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
    problem(
        &call(
            &mut app,
            Some("tgp_000000000000000000000000000000000000"),
            "GET",
            "/api/v1/orgs",
            None,
            &[],
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
});

on_both!(
    token_scopes_expiry_revocation_and_the_owners_current_rights,
    |app| {
        ok(app.sign_up(OTHER, "Olga Other").await);
        app.sign_out().await;
        ok(app.sign_up(OWNER, "Kim Owner").await);
        for org in ["Acme", "Beta"] {
            ok(app
                .call::<CreateOrg>(&[("name", org), ("description", "")])
                .await);
        }
        let read_only = token(&mut app, true, None).await;
        let only_acme = token(&mut app, false, Some(vec!["Acme"])).await;
        let ro = Some(read_only.as_str());
        ok(call(&mut app, ro, "GET", "/api/v1/orgs/Beta", None, &[]).await);
        let v = problem(
            &call(
                &mut app,
                ro,
                "PATCH",
                "/api/v1/orgs/Beta",
                Some(json!({"description": "x"})),
                &[],
            )
            .await,
            StatusCode::FORBIDDEN,
        );
        assert!(v["detail"].as_str().unwrap().contains("read-only"), "{v}");
        problem(
            &call(
                &mut app,
                ro,
                "POST",
                "/api/v1/orgs",
                Some(json!({"name": "Gamma"})),
                &[],
            )
            .await,
            StatusCode::FORBIDDEN,
        );

        let acme = Some(only_acme.as_str());
        ok(call(
            &mut app,
            acme,
            "PATCH",
            "/api/v1/orgs/Acme",
            Some(json!({"description": "x"})),
            &[],
        )
        .await);
        problem(
            &call(&mut app, acme, "GET", "/api/v1/orgs/Beta", None, &[]).await,
            StatusCode::NOT_FOUND,
        );
        problem(
            &call(
                &mut app,
                acme,
                "PATCH",
                "/api/v1/orgs/Beta",
                Some(json!({"description": "x"})),
                &[],
            )
            .await,
            StatusCode::NOT_FOUND,
        );
        let listed: Vec<Value> =
            ok(call(&mut app, acme, "GET", "/api/v1/orgs", None, &[]).await).json();
        assert_eq!(
            listed
                .iter()
                .map(|o| o["id"].as_str().unwrap())
                .collect::<Vec<_>>(),
            vec!["Acme"]
        );

        // Olga's token is worth what Olga is: owner of Beta, then nothing once removed.
        ok(app
            .call::<AddMember>(&[("org", "Beta"), ("email", OTHER), ("role", "owner")])
            .await);
        app.sign_out().await;
        ok(app.sign_in(OTHER, common::PASSWORD).await);
        let olga = token(&mut app, false, None).await;
        let o = Some(olga.as_str());
        ok(call(
            &mut app,
            o,
            "PATCH",
            "/api/v1/orgs/Beta",
            Some(json!({"description": "Olga's"})),
            &[],
        )
        .await);
        let olga_id: String = {
            let members: Vec<Value> =
                ok(call(&mut app, o, "GET", "/api/v1/orgs/Beta/members", None, &[]).await).json();
            members.iter().find(|m| m["email"] == OTHER).unwrap()["user_id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        app.sign_out().await;
        ok(app.sign_in(OWNER, common::PASSWORD).await);
        ok(app
            .call::<RemoveMember>(&[("org", "Beta"), ("user_id", &olga_id)])
            .await);
        problem(
            &call(&mut app, o, "GET", "/api/v1/orgs/Beta", None, &[]).await,
            StatusCode::NOT_FOUND,
        );

        // Expired and revoked tokens are refused at once.
        let kim = token(&mut app, false, None).await;
        ok(call(&mut app, Some(&kim), "GET", "/api/v1/orgs", None, &[]).await);
        use sea_orm::ConnectionTrait;
        let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
        app.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                app.db.get_database_backend(),
                match app.backend {
                    common::Backend::Sqlite => {
                        "UPDATE access_tokens SET expires_on = ? WHERE last_four = ?"
                    }
                    common::Backend::Postgres => {
                        "UPDATE access_tokens SET expires_on = $1 WHERE last_four = $2"
                    }
                },
                [yesterday.into(), kim[kim.len() - 4..].to_owned().into()],
            ))
            .await
            .unwrap();
        problem(
            &call(&mut app, Some(&kim), "GET", "/api/v1/orgs", None, &[]).await,
            StatusCode::UNAUTHORIZED,
        );
        let list: Vec<domain::dto::AccessTokenDto> =
            ok(app.call::<app::api::account::ListAccessTokens>(&[]).await).json();
        let acme_token = list
            .iter()
            .find(|t| only_acme.ends_with(&t.last_four))
            .unwrap();
        ok(app
            .call::<app::api::account::RevokeAccessToken>(&[("id", &acme_token.id)])
            .await);
        problem(
            &call(&mut app, acme, "GET", "/api/v1/orgs/Acme", None, &[]).await,
            StatusCode::UNAUTHORIZED,
        );
    }
);

on_both!(
    a_bearer_request_ignores_cookies_and_needs_no_same_origin,
    |app| {
        ok(app.sign_up(OWNER, "Kim Owner").await);
        let t = token(&mut app, false, None).await;
        // Signed in, with a token that is not valid: the cookie does not stand in for it.
        let with_cookie = app
            .request("GET", "/api/v1/orgs")
            .header(header::AUTHORIZATION, "Bearer tgp_not_a_token")
            .body(Body::empty())
            .unwrap();
        problem(&app.send(with_cookie).await, StatusCode::UNAUTHORIZED);
        // The session works on its own, but a cross-site write with it is refused.
        ok(call(&mut app, None, "GET", "/api/v1/orgs", None, &[]).await);
        let cross_site = app
            .request("POST", "/api/v1/orgs")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"name": "Evil"}).to_string()))
            .unwrap();
        assert_eq!(app.send(cross_site).await.status, StatusCode::FORBIDDEN);
        let by_token = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/orgs")
            .header(header::HOST, common::HOST)
            .header(header::ORIGIN, "https://ci.example")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"name": "Pipeline"}).to_string()))
            .unwrap();
        assert_eq!(app.send(by_token).await.status, StatusCode::CREATED);
        assert_eq!(app.count("organizations").await, 1);
    }
);

on_both!(requests_are_limited_per_token, |app| {
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let t = token(&mut app, false, None).await;
    let other = token(&mut app, true, None).await;
    app.router = app.router_with(server::config::RequestBounds {
        api_requests_per_minute: 3,
        ..Default::default()
    });
    for _ in 0..3 {
        ok(call(&mut app, Some(&t), "GET", "/api/v1/orgs", None, &[]).await);
    }
    let limited = call(&mut app, Some(&t), "GET", "/api/v1/orgs", None, &[]).await;
    problem(&limited, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The budget is the account's: another of its tokens is limited too.
    problem(
        &call(&mut app, Some(&other), "GET", "/api/v1/orgs", None, &[]).await,
        StatusCode::TOO_MANY_REQUESTS,
    );
    // Invalid tokens cost a look-up each: an address gets a bounded number of tries a minute.
    let forged = |i: usize| format!("tgp_{i:030}");
    let mut refused = 0;
    for i in 0..server::rest::caller::BAD_TOKENS_PER_MINUTE + 5 {
        let r = call(&mut app, Some(&forged(i)), "GET", "/api/v1/orgs", None, &[]).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
});

on_both!(a_new_or_reset_password_revokes_the_accounts_tokens, |app| {
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let t = token(&mut app, false, None).await;
    ok(call(&mut app, Some(&t), "GET", "/api/v1/orgs", None, &[]).await);
    ok(app
        .call::<app::api::account::ChangePassword>(&[
            ("current_password", common::PASSWORD),
            ("new_password", "a brand new passphrase"),
        ])
        .await);
    problem(
        &call(&mut app, Some(&t), "GET", "/api/v1/orgs", None, &[]).await,
        StatusCode::UNAUTHORIZED,
    );
    let tokens: Vec<domain::dto::AccessTokenDto> =
        ok(app.call::<app::api::account::ListAccessTokens>(&[]).await).json();
    assert!(tokens.iter().all(|t| t.revoked_on.is_some()), "{tokens:?}");
});

on_both!(the_openapi_document_describes_every_route, |app| {
    let r = ok(app.get("/api/v1/openapi.json").await);
    let doc: Value = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .count()
        })
        .sum();
    println!(
        "the document has {} paths and {operations} operations",
        paths.len()
    );
    assert!(operations >= 50, "{operations}");
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    // Every documented operation is routed: none falls through to "no such operation".
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let t = token(&mut app, true, None).await;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{kind}", "clients")
                .replace("{policy}", "1")
                .replace("{key}", "1")
                .replace("{id}", "1")
                .replace("{org}", "Nowhere")
                .replace("{user}", "u")
                .replace("{version}", "1.0");
            let r = call(
                &mut app,
                Some(&t),
                &method.to_uppercase(),
                &concrete,
                None,
                &[],
            )
            .await;
            assert!(
                !r.body.contains("no such operation") && r.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {} {}",
                r.status,
                r.body
            );
        }
    }
});

on_both!(the_reference_page_shows_every_operation, |app| {
    let anonymous = app.get("/docs/api").await;
    assert_eq!(
        anonymous.status,
        StatusCode::SEE_OTHER,
        "{}",
        anonymous.body
    );
    ok(app.sign_up(OWNER, "Kim Owner").await);
    let page = ok(app.get("/docs/api").await);
    assert!(page.body.contains("REST API reference"), "{}", page.body);
    let reference: domain::portal::DefinitionSummary =
        ok(app.call::<app::api::docs::ApiReference>(&[]).await).json();
    let doc: Value = ok(app.get("/api/v1/openapi.json").await).json();
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(reference.operation_count(), documented);
    assert!(reference.groups.iter().any(|g| g.tag == "Organizations"));
});
