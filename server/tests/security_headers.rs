//! The security headers and cookie flags of one route of each kind: on the management
//! listener (`CASES`: HTML page, server function, static file, health check), with plain and
//! with `Secure` cookies, through the real router on SQLite and PostgreSQL; and on the gateway
//! (`GATEWAY_CASES`: a proxied answer and the gateway's own errors) with a real backend.
//!
//! The tables are what to extend: each row says how to ask and what the answer must carry.

mod common;
#[path = "../../gateway/tests/support/mod.rs"]
mod gateway_support;

use app::api::auth::CurrentUser;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use leptos::server_fn::ServerFn;
use service::sessions::{COOKIE_NAME, SECURE_COOKIE_NAME};

/// Whether a cache may keep the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caching {
    /// `Cache-Control: no-store`: pages and server functions (they carry API keys).
    NoStore,
    /// The route's own caching: anything but `no-store`.
    Own,
}

/// One route kind: how to ask, whether signed in, and what the answer must carry.
struct Case {
    kind: &'static str,
    signed_in: bool,
    method: &'static str,
    path: &'static str,
    status: StatusCode,
    caching: Caching,
    /// HTML pages bring their nonce-based CSP; everything else gets `default-src 'none'`.
    html: bool,
}

const CASES: &[Case] = &[
    Case {
        kind: "HTML page, anonymous",
        signed_in: false,
        method: "GET",
        path: "/portal",
        status: StatusCode::OK,
        caching: Caching::NoStore,
        html: true,
    },
    Case {
        kind: "HTML page, signed in",
        signed_in: true,
        method: "GET",
        path: "/",
        status: StatusCode::OK,
        caching: Caching::NoStore,
        html: true,
    },
    Case {
        kind: "server function, signed in",
        signed_in: true,
        method: "POST",
        path: CurrentUser::PATH,
        status: StatusCode::OK,
        caching: Caching::NoStore,
        html: false,
    },
    Case {
        kind: "static file",
        signed_in: false,
        method: "GET",
        path: "/favicon.svg",
        status: StatusCode::OK,
        caching: Caching::Own,
        html: false,
    },
    Case {
        kind: "health check",
        signed_in: false,
        method: "GET",
        path: "/healthz",
        status: StatusCode::OK,
        caching: Caching::Own,
        html: false,
    },
];

fn header<'a>(r: &'a common::Reply, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Walks every row of `CASES` on `app` and checks every security header.
async fn walk(app: &mut common::TestApp) {
    let secure = app.secure_cookies;
    let session = app.cookie.clone().expect("signed in");
    for case in CASES {
        let mut req = Request::builder()
            .method(case.method)
            .uri(case.path)
            .header(header::HOST, common::HOST);
        if case.signed_in {
            req = req.header(header::COOKIE, &session);
        }
        if case.method == "POST" {
            req = req
                .header(header::ORIGIN, common::ORIGIN)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json");
        }
        let what = format!(
            "{} ({} {}, secure: {secure})",
            case.kind, case.method, case.path
        );
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.send(req.body(Body::empty()).unwrap()),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in 10 s"));
        assert_eq!(r.status, case.status, "{what}: {}", r.body);
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(header(&r, "referrer-policy"), Some("same-origin"), "{what}");
        assert_eq!(header(&r, "x-frame-options"), Some("DENY"), "{what}");
        let permissions = header(&r, "permissions-policy").unwrap_or_default();
        for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"] {
            assert!(permissions.contains(feature), "{what}: {permissions}");
        }
        let csp = header(&r, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        if case.html {
            assert!(csp.contains("'nonce-"), "{what}: {csp}");
        } else {
            assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
        }
        assert_eq!(
            header(&r, "strict-transport-security"),
            secure.then_some("max-age=31536000"),
            "{what}"
        );
        let cache = header(&r, "cache-control");
        match case.caching {
            Caching::NoStore => assert_eq!(cache, Some("no-store"), "{what}"),
            Caching::Own => assert_ne!(cache, Some("no-store"), "{what}"),
        }
    }
}

/// Signs up on a fresh app with plain or `Secure` cookies, checks the session cookie's name and
/// flags, walks the table, and checks that signing out clears the same cookie.
async fn cookies_and_headers(backend: common::Backend, secure: bool) {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let Some(mut app) = common::TestApp::with_cookies(backend, secure).await else {
        return;
    };
    let r = app.sign_up("jane@example.com", "Jane Doe").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = header(&r, "set-cookie").unwrap().to_owned();
    let name = if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    };
    assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
    let flags: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(flags.contains(&flag), "{cookie}");
    }
    assert_eq!(flags.contains(&"Secure"), secure, "{cookie}");
    assert!(!flags.iter().any(|f| f.starts_with("Domain")), "{cookie}");

    walk(&mut app).await;

    let r = app.sign_out().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cleared = header(&r, "set-cookie").unwrap();
    assert!(cleared.starts_with(&format!("{name}=;")), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(app.cookie.is_none());
    app.cleanup().await;
}

/// Runs `check(backend, secure)` on SQLite and PostgreSQL, with plain and with `Secure` cookies.
macro_rules! on_both_cookie_modes {
    ($name:ident, $check:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite_plain() {
                common::within_limit($check(common::Backend::Sqlite, false)).await;
            }

            #[tokio::test]
            async fn sqlite_secure() {
                common::within_limit($check(common::Backend::Sqlite, true)).await;
            }

            #[tokio::test]
            async fn postgres_plain() {
                common::within_limit($check(common::Backend::Postgres, false)).await;
            }

            #[tokio::test]
            async fn postgres_secure() {
                common::within_limit($check(common::Backend::Postgres, true)).await;
            }
        }
    };
}

on_both_cookie_modes!(session_cookie_and_security_headers, cookies_and_headers);

/// The session middleware reads only the cookie named for the configured mode: with `Secure`
/// cookies a `tollgate_session` cookie (which any page on the host could plant over plain HTTP)
/// signs nobody in, and the other way round.
async fn only_the_configured_name_is_read(backend: common::Backend, secure: bool) {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let Some(mut app) = common::TestApp::with_cookies(backend, secure).await else {
        return;
    };
    app.sign_up("jane@example.com", "Jane Doe").await;
    let cookie = app.cookie.clone().unwrap();
    let (name, token) = cookie.split_once('=').unwrap();
    let other = if secure {
        COOKIE_NAME
    } else {
        SECURE_COOKIE_NAME
    };
    assert_eq!(name, service::sessions::cookie_name(secure));
    for (sent, signed_in) in [(name, true), (other, false)] {
        app.cookie = Some(format!("{sent}={token}"));
        let r = app.call::<CurrentUser>(&[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let me: Option<domain::dto::UserDto> = r.json();
        assert_eq!(
            me.is_some(),
            signed_in,
            "cookie {sent} with secure: {secure}"
        );
        // A protected page sends the anonymous visitor to sign in.
        let r = app.get("/").await;
        assert_eq!(
            r.status.is_success(),
            signed_in,
            "GET / with {sent}: {}",
            r.status
        );
    }
    app.cleanup().await;
}

on_both_cookie_modes!(
    session_layer_reads_only_the_configured_cookie,
    only_the_configured_name_is_read
);

/// One gateway route kind: the path under the gateway, whether the client's key is sent, and
/// the status; every row is sent with the UI's session cookie, as a signed-in browser would.
struct GatewayCase {
    kind: &'static str,
    path: &'static str,
    with_key: bool,
    status: StatusCode,
    /// The gateway's own answer (an error), rather than the backend's.
    own: bool,
}

const GATEWAY_CASES: &[GatewayCase] = &[
    GatewayCase {
        kind: "gateway answer",
        path: "/Acme/Weather/1.0/forecast",
        with_key: true,
        status: StatusCode::OK,
        own: false,
    },
    GatewayCase {
        kind: "gateway error, no such API",
        path: "/Acme/Nothing/1.0/x",
        with_key: true,
        status: StatusCode::NOT_FOUND,
        own: true,
    },
    GatewayCase {
        kind: "gateway error, no key",
        path: "/Acme/Weather/1.0/forecast",
        with_key: false,
        status: StatusCode::UNAUTHORIZED,
        own: true,
    },
];

#[tokio::test]
async fn gateway_answers_and_errors_keep_tollgate_cookies_and_carry_their_headers() {
    let (dir, url) = gateway_support::sqlite_url("security-headers-gateway");
    let db = common::connect(&url).await;
    let (backend, seen) = gateway_support::cookie_backend().await;
    let (_, key) = gateway_support::world(&db, backend, &[], &[]).await;
    let gw = gateway_support::serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = gateway_support::http();
    for case in GATEWAY_CASES {
        let mut req = Request::builder()
            .uri(format!("http://{gw}{}", case.path))
            .header(
                header::COOKIE,
                format!("{COOKIE_NAME}=s3cret; {SECURE_COOKIE_NAME}=s3cret; lang=en"),
            );
        if case.with_key {
            req = req.header("x-api-key", &key);
        }
        let what = case.kind;
        let a = gateway_support::send(&http, req.body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, case.status, "{what}: {}", a.text);
        let set: Vec<&str> = a
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            !set.iter().any(|c| c.contains("tollgate_session")),
            "{what}: {set:?}"
        );
        if case.own {
            assert!(set.is_empty(), "{what}: {set:?}");
            assert_eq!(a.header("x-content-type-options"), "nosniff", "{what}");
            assert_eq!(a.header("cache-control"), "no-store", "{what}");
            assert_eq!(a.header("content-type"), "application/json", "{what}");
        } else {
            assert_eq!(set, ["theme=dark; Path=/", "lang=en"], "{what}");
        }
    }
    let received = seen.lock().unwrap().clone();
    assert_eq!(received, ["lang=en"], "what the backend saw");
    let _ = std::fs::remove_dir_all(&dir);
}
