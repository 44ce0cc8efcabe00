//! JWT Validation and Authorization on real traffic: tokens from a real OpenID provider
//! (`oidc-provider`, client_credentials grant, JWT access tokens; `support::oidc`) through the
//! gateway to a backend that echoes what it received. Valid tokens pass with their claims as
//! headers; expired tokens, other audiences, missing roles and forged tokens get their refusal;
//! the provider's key rotation is picked up without a restart; an HS256 policy's secret is never
//! shown and survives an edit; every change writes its Change Log row.

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use domain::EntityKind;
use support::oidc::{Provider, kid};
use support::*;

const WEATHER: &str = "https://weather.example";
const SHORT: &str = "https://short.example";
const MAPS: &str = "https://maps.example";

/// JWT Validation for the provider's tokens to the weather (and short-lived) audience, with
/// the claims the backend gets.
fn jwt_policy(idp: &Provider, strip: bool) -> String {
    serde_json::json!({
        "jwksUrl": idp.jwks_url(),
        "algorithms": ["RS256"],
        "issuer": idp.issuer,
        "audience": [WEATHER, SHORT],
        "leewaySeconds": 0,
        "requiredClaims": [{"name": "tenant", "value": "acme"}],
        "forwardClaims": [
            {"claim": "sub", "header": "X-Client"},
            {"claim": "tenant", "header": "X-Tenant"},
            {"claim": "realm_access.roles", "header": "X-Roles"},
        ],
        "stripAuthorization": strip,
        "realm": "Weather",
    })
    .to_string()
}

/// `/admin/…` needs the Keycloak realm role admin, GET elsewhere the client role reader of
/// weather-app; anything else is denied.
const AUTHORIZATION: &str = r#"{
    "rolesClaim": "resource_access.weather-app.roles",
    "rules": [
        {"method": "*", "pathPattern": "/admin/.*", "roles": ["admin"]},
        {"method": "GET", "pathPattern": "/.*", "roles": ["reader"]}
    ],
    "defaultAction": "deny"
}"#;

/// A public API `name` (no API key needed: the token is the only credential) on `backend`
/// with `policies`, published.
async fn public_api(
    db: &service::DatabaseConnection,
    ctx: &service::Ctx,
    name: &str,
    backend: std::net::SocketAddr,
    policies: &[(&str, &str)],
) {
    let implementation = support::public_implementation(&format!("http://{backend}/v1"));
    support::publish_api(db, ctx, name, implementation, policies).await;
}

async fn organization(db: &service::DatabaseConnection) -> service::Ctx {
    let ctx = signed_up(db, "ops@example.com").await;
    let org = service::organizations::NewOrganization {
        name: "Acme".into(),
        description: String::new(),
    };
    service::organizations::create(db, &ctx, org).await.unwrap();
    ctx
}

/// GET `url` with `Authorization: Bearer token` (and a forged `X-Tenant`).
async fn call(http: &HttpClient, url: &str, token: Option<&str>) -> Answer {
    let mut req = Request::builder().uri(url).header("x-tenant", "forged");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    send(http, req.body(Body::empty()).unwrap()).await
}

/// A 401 of JWT Validation with `code` and an `invalid_token` challenge.
#[track_caller]
fn assert_invalid_token(a: &Answer, code: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    assert_eq!(a.header("x-policy-failure-code"), code, "{}", a.text);
    assert_eq!(a.header("x-policy-failure-type"), "Authentication");
    assert_eq!(a.body["failureCode"].as_u64().unwrap().to_string(), code);
    let challenge = a.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer realm=\"Weather\", error=\"invalid_token\""),
        "{challenge}"
    );
}

struct Setup {
    idp: Provider,
    http: HttpClient,
    gw: std::net::SocketAddr,
    dir: std::path::PathBuf,
}

async fn setup(name: &str, options: gateway::Options) -> Option<Setup> {
    let idp = Provider::start()?;
    let (dir, url) = sqlite_url(name);
    let db = support::connect(&url).await;
    let backend = backend().await;
    let ctx = organization(&db).await;
    let jwt = jwt_policy(&idp, true);
    public_api(
        &db,
        &ctx,
        "Open",
        backend,
        &[("jwt", &jwt), ("authorization", AUTHORIZATION)],
    )
    .await;
    public_api(
        &db,
        &ctx,
        "Keep",
        backend,
        &[("jwt", &jwt_policy(&idp, false))],
    )
    .await;
    let caching = r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/.*"}]}"#;
    public_api(
        &db,
        &ctx,
        "Cached",
        backend,
        &[("jwt", &jwt), ("caching", caching)],
    )
    .await;
    let gw = serve(gateway::Gateway::start_with(db, options).await.unwrap()).await;
    Some(Setup {
        idp,
        http: http(),
        gw,
        dir,
    })
}

#[tokio::test]
async fn a_valid_token_passes_with_its_claims_as_headers() {
    let Some(s) = setup("jwt-valid", gateway::Options::default()).await else {
        return;
    };
    let open = format!("http://{}/Acme/Open/1.0/forecast", s.gw);
    let admin = s.idp.token("weather-admin", WEATHER).await;
    let a = call(&s.http, &open, Some(&admin)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let headers = &a.body["headers"];
    assert_eq!(headers["x-client"], "weather-admin");
    // The consumer's own X-Tenant is replaced by the claim.
    assert_eq!(headers["x-tenant"], "acme");
    assert_eq!(headers["x-roles"], "admin, reader");
    assert!(headers.get("authorization").is_none(), "{headers}");
    assert_eq!(a.body["path"], "/v1/forecast");
    // The reader may GET outside /admin; the admin may use /admin.
    let reader = s.idp.token("weather-reader", WEATHER).await;
    let a = call(&s.http, &open, Some(&reader)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["headers"]["x-client"], "weather-reader");
    let a = call(
        &s.http,
        &format!("http://{}/Acme/Open/1.0/admin/stats", s.gw),
        Some(&admin),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // Without stripAuthorization, the backend gets the token too.
    let keep = format!("http://{}/Acme/Keep/1.0/forecast", s.gw);
    let a = call(&s.http, &keep, Some(&admin)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.body["headers"]["authorization"],
        format!("Bearer {admin}")
    );
    assert_eq!(a.body["headers"]["x-client"], "weather-admin");
    // A cached answer is the token's own, though Authorization is stripped before the cache.
    let cached = format!("http://{}/Acme/Cached/1.0/forecast", s.gw);
    let a = call(&s.http, &cached, Some(&admin)).await;
    assert_eq!((a.status, a.header("x-cache")), (StatusCode::OK, "MISS"));
    let a = call(&s.http, &cached, Some(&reader)).await;
    assert_eq!(a.header("x-cache"), "MISS");
    assert_eq!(a.body["headers"]["x-client"], "weather-reader");
    let a = call(&s.http, &cached, Some(&admin)).await;
    assert_eq!(a.header("x-cache"), "HIT");
    assert_eq!(a.body["headers"]["x-client"], "weather-admin");
    assert_eq!(
        call(&s.http, &cached, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test]
async fn expired_foreign_forged_and_unauthorized_tokens_are_refused() {
    let Some(s) = setup("jwt-refusals", gateway::Options::default()).await else {
        return;
    };
    let open = format!("http://{}/Acme/Open/1.0/forecast", s.gw);
    let admin_path = format!("http://{}/Acme/Open/1.0/admin/stats", s.gw);

    // No token: 401, 10040, a challenge without an error (RFC 6750 §3.1).
    let a = call(&s.http, &open, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("x-policy-failure-code"), "10040");
    assert_eq!(a.header("www-authenticate"), "Bearer realm=\"Weather\"");

    // A token of 1 s, once expired (no leeway): 10043.
    let short = s.idp.token("weather-admin", SHORT).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_invalid_token(&call(&s.http, &open, Some(&short)).await, "10043");

    // Another audience: 10044.
    let maps = s.idp.token("weather-admin", MAPS).await;
    assert_invalid_token(&call(&s.http, &open, Some(&maps)).await, "10044");

    // A forged signature: 10042; alg none: 10041.
    let admin = s.idp.token("weather-admin", WEATHER).await;
    let (signed, signature) = admin.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{flipped}{}", &signature[1..]);
    assert_invalid_token(&call(&s.http, &open, Some(&forged)).await, "10042");
    let claims = signed.split_once('.').unwrap().1;
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
    assert_invalid_token(&call(&s.http, &open, Some(&unsigned)).await, "10041");

    // The reader lacks the admin role: 403, 10046.
    let reader = s.idp.token("weather-reader", WEATHER).await;
    let a = call(&s.http, &admin_path, Some(&reader)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert_eq!(a.header("x-policy-failure-code"), "10046");
    assert_eq!(a.header("x-policy-failure-type"), "Authorization");
    // Not a GET and not /admin: the default denies.
    let post = Request::post(&open)
        .header("authorization", format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    let a = send(&s.http, post).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert_eq!(a.header("x-policy-failure-code"), "10046");
    // And the good token still passes.
    assert_eq!(
        call(&s.http, &open, Some(&admin)).await.status,
        StatusCode::OK
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test]
async fn the_providers_key_rotation_is_picked_up_without_a_restart() {
    let min_refresh = Duration::from_secs(3);
    let options = gateway::Options {
        jwks_min_refresh: Some(min_refresh),
        ..gateway::Options::default()
    };
    let Some(s) = setup("jwt-rotation", options).await else {
        return;
    };
    let open = format!("http://{}/Acme/Open/1.0/forecast", s.gw);
    let status = |token: String| {
        let (http, open) = (s.http.clone(), open.clone());
        async move {
            let a = call(&http, &open, Some(&token)).await;
            (
                a.status.as_u16(),
                a.header("x-policy-failure-code").to_owned(),
            )
        }
    };
    let ok = (200, String::new());
    let bad_signature = (401, "10042".to_owned());

    // Key 1: the gateway fetches the JWKS on the first token.
    let first = s.idp.token("weather-admin", WEATHER).await;
    let fetched = Instant::now();
    assert_eq!(status(first.clone()).await, ok);

    // The provider rotates to key 2 and drops key 1.
    let kid2 = s.idp.rotate(false).await;
    let second = s.idp.token("weather-admin", WEATHER).await;
    assert_eq!(kid(&second), kid2);
    assert_ne!(kid(&first), kid2);
    // Within the refresh interval an unknown kid does not fetch again.
    if fetched.elapsed() < min_refresh - Duration::from_millis(500) {
        assert_eq!(status(second.clone()).await, bad_signature);
    }
    tokio::time::sleep(min_refresh.saturating_sub(fetched.elapsed()) + Duration::from_millis(200))
        .await;
    // Past it, the unknown kid fetches the new set: no restart, no reload.
    assert_eq!(status(second.clone()).await, ok);
    let refetched = Instant::now();
    // Key 1 is gone from the provider's JWKS, so from the gateway's.
    assert_eq!(status(first).await, bad_signature);

    // Key 3, keeping key 2: both pass once the set is fetched again.
    let kid3 = s.idp.rotate(true).await;
    let third = s.idp.token("weather-admin", WEATHER).await;
    assert_eq!(kid(&third), kid3);
    tokio::time::sleep(
        min_refresh.saturating_sub(refetched.elapsed()) + Duration::from_millis(200),
    )
    .await;
    assert_eq!(status(third.clone()).await, ok);
    let refetched = Instant::now();
    assert_eq!(status(second.clone()).await, ok);

    // The JWKS URL goes down, and the provider moves on to key 4: the last good set serves
    // keys 2 and 3; key 4 cannot be had until the URL is back.
    s.idp.set_down(true).await;
    s.idp.rotate(true).await;
    let fourth = s.idp.token("weather-admin", WEATHER).await;
    tokio::time::sleep(
        min_refresh.saturating_sub(refetched.elapsed()) + Duration::from_millis(200),
    )
    .await;
    assert_eq!(status(fourth.clone()).await, bad_signature);
    let tried = Instant::now();
    assert_eq!(status(third.clone()).await, ok);
    assert_eq!(status(second).await, ok);
    s.idp.set_down(false).await;
    tokio::time::sleep(min_refresh.saturating_sub(tried.elapsed()) + Duration::from_millis(200))
        .await;
    assert_eq!(status(fourth).await, ok);
    assert_eq!(status(third).await, ok);
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// An HS256 policy: its secret is never shown back, an edit without it keeps it, every change
/// writes a Change Log row, and the gateway verifies tokens with it. (No provider needed.)
#[tokio::test]
async fn an_hs256_secret_is_never_shown_and_survives_an_edit() {
    let (dir, url) = sqlite_url("jwt-hs256");
    let db = support::connect(&url).await;
    let backend = backend().await;
    let ctx = organization(&db).await;
    let secret = "a-shared-secret-of-at-least-32-characters";
    let api = service::apis::NewApi {
        name: "Signed".into(),
        version: "1.0".into(),
        description: String::new(),
        endpoint: format!("http://{backend}/v1"),
    };
    service::apis::create(&db, &ctx, "Acme", api).await.unwrap();
    let implementation = support::public_implementation(&format!("http://{backend}/v1"));
    let signed = at("Acme", "Signed");
    service::apis::update_implementation(&db, &ctx, &signed, implementation)
        .await
        .unwrap();
    let config = serde_json::json!({"algorithms": ["HS256"], "sharedSecret": secret});
    let added = service::policies::add(
        &db,
        &ctx,
        EntityKind::Api,
        &signed,
        "jwt",
        &config.to_string(),
        None,
    )
    .await
    .unwrap();
    assert!(
        !added.configuration.contains(secret),
        "{}",
        added.configuration
    );
    assert!(!added.configuration.contains("sharedSecret"));
    assert_eq!(added.name, "JWT Validation");
    // The form sends the configuration back without the secret: the stored one stays.
    let edited = serde_json::json!({"algorithms": ["HS256"], "leewaySeconds": 5});
    service::policies::update(
        &db,
        &ctx,
        EntityKind::Api,
        &signed,
        added.id,
        &edited.to_string(),
    )
    .await
    .unwrap();
    let listed = service::policies::list_for(&db, &ctx, EntityKind::Api, &signed)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].configuration.contains(secret));
    assert!(listed[0].configuration.contains("\"leewaySeconds\":5"));
    // A new HS256 policy without a secret is refused on its field.
    let refused = service::policies::add(
        &db,
        &ctx,
        EntityKind::Api,
        &signed,
        "jwt",
        r#"{"algorithms":["HS256"]}"#,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        format!("{refused:?}").contains("sharedSecret"),
        "{refused:?}"
    );
    // Change Log rows, like any policy's, and no secret in them.
    let log = service::audit::list(
        &db,
        &ctx,
        "Acme",
        Some((domain::EntityKind::Api, "Signed")),
        1,
        50,
    )
    .await
    .unwrap();
    let whats: Vec<_> = log.items.iter().map(|e| e.what.as_str()).collect();
    assert!(whats.contains(&"Policy added"), "{whats:?}");
    assert!(whats.contains(&"Policy changed"), "{whats:?}");
    assert!(
        log.items
            .iter()
            .any(|e| e.summary.contains("JWT Validation") && e.summary.contains("HS256")),
        "{:?}",
        log.items
    );
    assert!(!format!("{:?}", log.items).contains(secret));

    service::apis::publish(&db, &ctx, &signed).await.unwrap();
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let url = format!("http://{gw}/Acme/Signed/1.0/x");
    let exp = chrono::Utc::now().timestamp() + 60;
    let token = |key: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &serde_json::json!({"sub": "ann", "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let a = call(&http, &url, Some(&token(secret))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = call(
        &http,
        &url,
        Some(&token("another-secret-of-at-least-32-characters")),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("x-policy-failure-code"), "10042");
    let _ = std::fs::remove_dir_all(&dir);
}
