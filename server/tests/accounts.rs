//! Sign up, sign in, sign out, sessions, throttling and request-level security, through the
//! real router, on SQLite and PostgreSQL.

mod common;

use app::api::account::{
    ChangeDisplayName, ChangeEmail, ChangePassword, GetPlatformSettings, ListAccounts,
    SavePlatformSettings, SetTemporaryPassword,
};
use app::api::auth::CurrentUser;
use app::api::orgs::{AddMember, CreateOrg, ListMembers, ListOrgs};
use app::error::AppError;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::dto::{AccountDto, MemberDto, OrgCreation, Page, PlatformSettings, UserDto};

async fn whoami(app: &mut common::TestApp) -> Option<UserDto> {
    let r = app.call::<CurrentUser>(&[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

on_both!(sign_up_sign_in_sign_out, |app| {
    let r = app.sign_up("Jane@Example.com", "Jane Doe").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = whoami(&mut app).await.expect("signed in after sign-up");
    assert_eq!(me.email, "jane@example.com");
    assert!(!me.is_admin);

    let r = app.sign_out().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app.cookie.is_none());
    assert_eq!(whoami(&mut app).await, None);

    let r = app.sign_in("jane@example.com", "wrong password!!").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.error().general().as_deref(),
        Some("Invalid email or password.")
    );
    let r = app.sign_in("nobody@example.com", common::PASSWORD).await;
    assert_eq!(
        r.error().general().as_deref(),
        Some("Invalid email or password.")
    );

    let r = app.sign_in("JANE@example.com", common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first = app.cookie.clone().unwrap();
    assert_eq!(whoami(&mut app).await.unwrap().display_name, "Jane Doe");

    // Signing in again issues a new session id and ends the old one.
    app.sign_in("jane@example.com", common::PASSWORD).await;
    let second = app.cookie.clone().unwrap();
    assert_ne!(first, second);
    app.cookie = Some(first);
    assert_eq!(whoami(&mut app).await, None, "old session must be gone");
});

on_both!(sign_up_refuses_bad_input_and_writes_nothing, |app| {
    let before = app.count("users").await;
    let r = app
        .call::<app::api::auth::SignUp>(&[
            ("email", "not-an-email"),
            ("display_name", " "),
            ("password", "short"),
            ("next", "/"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.error();
    assert!(e.field("email").is_some());
    assert_eq!(
        e.field("display_name").as_deref(),
        Some("Display name is required.")
    );
    assert_eq!(
        e.field("password").as_deref(),
        Some("Password must be at least 12 characters.")
    );
    assert_eq!(app.count("users").await, before);

    app.sign_up("jane@example.com", "Jane").await;
    app.sign_out().await;
    let r = app.sign_up("JANE@example.com", "Other Jane").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error().field("email").is_some());
    assert_eq!(app.count("users").await, before + 1);
});

on_both!(session_survives_restart, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    app.restart().await;
    assert_eq!(whoami(&mut app).await.unwrap().email, "jane@example.com");
    assert_eq!(app.count("sessions").await, 1);
});

on_both!(
    sign_in_failures_slow_the_account_down_instead_of_locking_it,
    |app| {
        app.sign_up("jane@example.com", "Jane").await;
        app.sign_out().await;
        for _ in 0..3 {
            let r = app.sign_in("jane@example.com", "wrong password!!").await;
            assert_eq!(r.status, StatusCode::CONFLICT);
        }
        // The fourth attempt waits a second; even the right password does.
        let r = app.sign_in("jane@example.com", common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            r.error(),
            AppError::RateLimited("Too many attempts. Try again in 1 second.".into())
        );
        assert!(app.cookie.is_none());
        // Once the delay has run, the owner gets in: no lockout.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let r = app.sign_in("jane@example.com", common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(app.cookie.is_some());
    }
);

on_both!(cross_origin_posts_are_refused, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    let path = <app::api::orgs::CreateOrg as leptos::server_fn::ServerFn>::PATH;
    let body = "name=Evil+Org&description=";
    let cases: [&[(&str, &str)]; 4] = [
        &[("origin", "https://evil.example")],
        &[("sec-fetch-site", "cross-site"), ("origin", common::ORIGIN)],
        &[("origin", "null")],
        &[],
    ];
    for headers in cases {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::HOST, common::HOST)
            .header(header::COOKIE, app.cookie.clone().unwrap())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = app.send(req.body(Body::from(body)).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(app.count("organizations").await, 0);
});

on_both!(pages_need_a_session_and_carry_security_headers, |app| {
    let r = app.get("/orgs?x=1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/signin?next=%2Forgs%3Fx%3D1");

    let r = app.get("/signin").await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(
        r.body.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the nonce"
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
    assert!(r.body.contains("Sign in to Tollgate"));

    app.sign_up("jane@example.com", "Jane").await;
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Dashboard"));
    let r = app.get("/signin").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "signed-in users skip the sign-in page"
    );
});

const NEW_PASSWORD: &str = "a brand new password";

async fn password_hash(app: &common::TestApp, email: &str) -> String {
    service::accounts::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

/// Signs in again without the current cookie: a second session (another browser).
async fn second_session(app: &mut common::TestApp, email: &str, password: &str) -> String {
    let first = app.cookie.take();
    let r = app.sign_in(email, password).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let second = app.cookie.clone().unwrap();
    app.cookie = first;
    second
}

on_both!(change_password_ends_every_other_session, |app| {
    app.sign_up("jane@example.com", "Jane").await;
    let other = second_session(&mut app, "jane@example.com", common::PASSWORD).await;
    let before = password_hash(&app, "jane@example.com").await;

    // A wrong current password: a field error, nothing written, both sessions live.
    let r = app
        .call::<ChangePassword>(&[
            ("current_password", "not my password"),
            ("new_password", NEW_PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error().field("current_password").as_deref(),
        Some(service::accounts::WRONG_CURRENT_PASSWORD)
    );
    // The new one follows the sign-up rules.
    let r = app
        .call::<ChangePassword>(&[
            ("current_password", common::PASSWORD),
            ("new_password", "short"),
        ])
        .await;
    assert_eq!(
        r.error().field("new_password").as_deref(),
        Some("Password must be at least 12 characters.")
    );
    assert_eq!(password_hash(&app, "jane@example.com").await, before);
    assert_eq!(app.count("sessions").await, 2);

    let r = app
        .call::<ChangePassword>(&[
            ("current_password", common::PASSWORD),
            ("new_password", NEW_PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(whoami(&mut app).await.is_some(), "this session stays");
    let mine = app.cookie.replace(other);
    assert_eq!(whoami(&mut app).await, None, "the other session ended");
    app.cookie = mine;
    assert_eq!(app.count("sessions").await, 1);

    app.sign_out().await;
    let r = app.sign_in("jane@example.com", common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.sign_in("jane@example.com", NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
});

on_both!(email_change_asks_for_the_password, |app| {
    app.sign_up("other@example.com", "Other").await;
    app.sign_out().await;
    app.sign_up("jane@example.com", "Jane").await;
    for (password, message) in [
        ("", "Enter your current password."),
        (
            "wrong password!!",
            service::accounts::WRONG_CURRENT_PASSWORD,
        ),
    ] {
        let r = app
            .call::<ChangeEmail>(&[
                ("email", "jane@new.example"),
                ("current_password", password),
            ])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.error().field("current_password").as_deref(),
            Some(message)
        );
    }
    assert_eq!(whoami(&mut app).await.unwrap().email, "jane@example.com");
    let r = app
        .call::<ChangeEmail>(&[
            ("email", "Other@example.com"),
            ("current_password", common::PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error().field("email").is_some());
    // A taken email counts like a wrong password (no account probing at speed): after these
    // three failures the account waits a second.
    let r = app
        .call::<ChangeEmail>(&[
            ("email", "Jane@New.example"),
            ("current_password", common::PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .call::<ChangeEmail>(&[
            ("email", "Jane@New.example"),
            ("current_password", common::PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(whoami(&mut app).await.unwrap().email, "jane@new.example");

    let r = app
        .call::<ChangeDisplayName>(&[("display_name", "  ")])
        .await;
    assert_eq!(
        r.error().field("display_name").as_deref(),
        Some("Display name is required.")
    );
    let r = app
        .call::<ChangeDisplayName>(&[("display_name", "Jane Q. Doe")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(whoami(&mut app).await.unwrap().display_name, "Jane Q. Doe");
});

on_both!(account_settings_for_portal_only_accounts, |app| {
    let r = app
        .call::<app::api::auth::SignUp>(&[
            ("email", "dev@example.com"),
            ("display_name", "Dev"),
            ("password", common::PASSWORD),
            ("next", "/portal/apis"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(whoami(&mut app).await.unwrap().portal_only);
    let r = app.get("/account").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/portal/account");
    let r = app.get("/portal/account").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Account settings"), "{}", r.body);
    let r = app
        .call::<ChangeDisplayName>(&[("display_name", "Dev Eloper")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .call::<ChangePassword>(&[
            ("current_password", common::PASSWORD),
            ("new_password", NEW_PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
});

on_both!(
    the_default_administrator_must_choose_a_new_password_first,
    |app| {
        assert!(
            service::accounts::ensure_first_admin(
                &app.db,
                "admin@example.com",
                "Admin",
                common::PASSWORD,
                true
            )
            .await
            .unwrap()
        );
        let r = app.sign_in("admin@example.com", common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for page in ["/", "/orgs", "/admin/accounts", "/account", "/portal"] {
            let r = app.get(page).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
            assert_eq!(r.headers[header::LOCATION], "/choose-password", "{page}");
        }
        let r = app.get("/choose-password").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Choose a new password"));
        // Every other server function refuses, with a message.
        let r = app.call::<ListOrgs>(&[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            r.error(),
            AppError::Forbidden(server::session::MUST_CHANGE_PASSWORD.into())
        );
        let r = app
            .call::<CreateOrg>(&[("name", "Sneaky"), ("description", "")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(app.count("organizations").await, 0);
        assert!(
            whoami(&mut app).await.unwrap().is_admin,
            "who am I still answers"
        );

        let r = app
            .call::<ChangePassword>(&[
                ("current_password", common::PASSWORD),
                ("new_password", NEW_PASSWORD),
            ])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app.get("/").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(app.call::<ListOrgs>(&[]).await.status, StatusCode::OK);
        let r = app.get("/choose-password").await;
        assert_eq!(r.headers[header::LOCATION], "/account");
        // Once changed, a restart with the default password configured marks nothing.
        assert!(
            !service::accounts::require_change_of_default_password(
                &app.db,
                "admin@example.com",
                common::PASSWORD
            )
            .await
            .unwrap()
        );
    }
);

on_both!(administrators_set_temporary_passwords, |app| {
    service::accounts::ensure_first_admin(
        &app.db,
        "admin@example.com",
        "Admin",
        common::PASSWORD,
        false,
    )
    .await
    .unwrap();
    app.sign_up("jane@example.com", "Jane").await;
    let jane_session = app.cookie.clone();
    let jane = service::accounts::find_by_email(&app.db, "jane@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    // Not for anyone else: the page and its functions do not exist for them.
    let r = app
        .call::<ListAccounts>(&[("query", ""), ("page", "1"), ("per_page", "25")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call::<SetTemporaryPassword>(&[("user_id", &jane), ("password", "temporary password")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/admin/accounts").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "nor does the page");

    app.cookie = None;
    app.sign_in("admin@example.com", common::PASSWORD).await;
    let page: Page<AccountDto> = app
        .call::<ListAccounts>(&[("query", "JANE"), ("page", "1"), ("per_page", "25")])
        .await
        .json();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, jane);
    let all: Page<AccountDto> = app
        .call::<ListAccounts>(&[("query", ""), ("page", "1"), ("per_page", "1")])
        .await
        .json();
    assert_eq!((all.total, all.items.len()), (2, 1));
    let r = app
        .call::<SetTemporaryPassword>(&[("user_id", &jane), ("password", "short")])
        .await;
    assert!(r.error().field("password").is_some());
    let r = app
        .call::<SetTemporaryPassword>(&[("user_id", "nobody"), ("password", "temporary password")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call::<SetTemporaryPassword>(&[("user_id", &jane), ("password", "temporary password")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page: Page<AccountDto> = app
        .call::<ListAccounts>(&[("query", "jane"), ("page", "1"), ("per_page", "25")])
        .await
        .json();
    assert!(page.items[0].must_change_password);

    // Jane's sessions ended; the temporary password works once, for choosing a new one.
    app.cookie = jane_session;
    assert_eq!(whoami(&mut app).await, None);
    let r = app.sign_in("jane@example.com", common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.sign_in("jane@example.com", "temporary password").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/").await.headers[header::LOCATION],
        "/choose-password"
    );
    assert_eq!(
        app.call::<ListOrgs>(&[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.sign_out().await.status,
        StatusCode::OK,
        "sign out is allowed"
    );
    app.sign_in("jane@example.com", "temporary password").await;
    let r = app
        .call::<ChangePassword>(&[
            ("current_password", "temporary password"),
            ("new_password", NEW_PASSWORD),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.get("/").await.status, StatusCode::OK);
});

on_both!(
    adding_a_member_answers_the_same_for_unknown_emails_and_is_throttled,
    |app| {
        app.sign_up("known@example.com", "Known").await;
        app.sign_out().await;
        app.sign_up("owner@example.com", "Owner").await;
        let r = app
            .call::<CreateOrg>(&[("name", "ACME"), ("description", "")])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let add = |email: &'static str| [("org", "ACME"), ("email", email), ("role", "viewer")];
        let known = app.call::<AddMember>(&add("known@example.com")).await;
        let unknown = app.call::<AddMember>(&add("nobody@example.com")).await;
        assert_eq!(known.status, StatusCode::OK, "{}", known.body);
        // A second add of a member answers the same too (no "already a member" oracle).
        let again = app.call::<AddMember>(&add("known@example.com")).await;
        assert_eq!((again.status, &again.body), (known.status, &known.body));
        assert_eq!((unknown.status, unknown.body), (known.status, known.body));
        let members: Vec<MemberDto> = app.call::<ListMembers>(&[("org", "ACME")]).await.json();
        assert_eq!(members.len(), 2, "the owner and the known account");

        // Throttled per acting user: three adds are counted already.
        for _ in 3..service::members::ADDS_PER_WINDOW {
            let r = app.call::<AddMember>(&add("nobody@example.com")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let r = app.call::<AddMember>(&add("someone@example.com")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            matches!(r.error(), AppError::RateLimited(m) if m.starts_with("Too many attempts."))
        );
    }
);

on_both!(who_may_create_organizations_is_a_platform_setting, |app| {
    service::accounts::ensure_first_admin(
        &app.db,
        "admin@example.com",
        "Admin",
        common::PASSWORD,
        false,
    )
    .await
    .unwrap();
    app.sign_up("jane@example.com", "Jane").await;
    let jane = app.cookie.clone();
    let s: PlatformSettings = app.call::<GetPlatformSettings>(&[]).await.json();
    assert_eq!(s.org_creation, OrgCreation::Anyone);
    let r = app
        .call::<SavePlatformSettings>(&[("org_creation", "AdminsOnly")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    app.cookie = None;
    app.sign_in("admin@example.com", common::PASSWORD).await;
    let admin = app.cookie.clone();
    let r = app
        .call::<SavePlatformSettings>(&[("org_creation", "AdminsOnly")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    app.cookie = jane;
    let s: PlatformSettings = app.call::<GetPlatformSettings>(&[]).await.json();
    assert_eq!(s.org_creation, OrgCreation::AdminsOnly);
    let r = app
        .call::<CreateOrg>(&[("name", "Jane Org"), ("description", "")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.error(),
        AppError::Forbidden(service::settings::ADMINS_ONLY.into())
    );
    assert_eq!(app.count("organizations").await, 0);

    app.cookie = admin;
    let r = app
        .call::<CreateOrg>(&[("name", "Admin Org"), ("description", "")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.call::<SavePlatformSettings>(&[("org_creation", "Anyone")])
        .await;
    app.cookie = jane_cookie_after(&mut app).await;
    let r = app
        .call::<CreateOrg>(&[("name", "Jane Org"), ("description", "")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
});

async fn jane_cookie_after(app: &mut common::TestApp) -> Option<String> {
    app.cookie = None;
    app.sign_in("jane@example.com", common::PASSWORD).await;
    app.cookie.clone()
}

/// A failed sign-in from `peer` with `X-Forwarded-For: xff`.
async fn fail_from(app: &mut common::TestApp, peer: &str, xff: &str, n: usize) -> StatusCode {
    app.peer = Some(peer.parse().unwrap());
    let email = format!("nobody{n}@example.com");
    let body = serde_urlencoded::to_string([
        ("email", email.as_str()),
        ("password", "wrong password!!"),
        ("next", "/"),
    ])
    .unwrap();
    let req = app
        .request(
            "POST",
            <app::api::auth::SignIn as leptos::server_fn::ServerFn>::PATH,
        )
        .header(header::ORIGIN, common::ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("x-forwarded-for", xff)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await.status
}

async fn trusted_proxies_name_the_client(backend: common::Backend) {
    let Some(mut app) = common::TestApp::new_with(backend, |s| {
        s.limiter = std::sync::Arc::new(service::rate_limit::SignInLimiter::new(
            std::time::Duration::from_secs(600),
            2,
        ));
        s.trusted_proxies = std::sync::Arc::new(
            domain::policy::IpMatcher::parse(&["10.0.0.0/8".to_owned()]).unwrap(),
        );
    })
    .await
    else {
        return;
    };
    // From an untrusted peer the header is ignored: a forged one does not dodge the limit.
    assert_eq!(
        fail_from(&mut app, "203.0.113.5:1000", "1.1.1.1", 1).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        fail_from(&mut app, "203.0.113.5:1000", "2.2.2.2", 2).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        fail_from(&mut app, "203.0.113.5:1000", "3.3.3.3", 3).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // From a trusted proxy it names the client: each client has its own window.
    assert_eq!(
        fail_from(&mut app, "10.0.0.1:1000", "1.1.1.1", 4).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        fail_from(&mut app, "10.0.0.2:1000", "6.6.6.6, 1.1.1.1", 5).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        fail_from(&mut app, "10.0.0.1:1000", "1.1.1.1", 6).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        fail_from(&mut app, "10.0.0.1:1000", "2.2.2.2, 10.0.0.9", 7).await,
        StatusCode::CONFLICT
    );
    app.cleanup().await;
}

mod trusted_proxies_name_the_client {
    #[tokio::test]
    async fn sqlite() {
        super::common::within_limit(super::trusted_proxies_name_the_client(
            super::common::Backend::Sqlite,
        ))
        .await;
    }

    #[tokio::test]
    async fn postgres() {
        super::common::within_limit(super::trusted_proxies_name_the_client(
            super::common::Backend::Postgres,
        ))
        .await;
    }
}

on_both!(
    an_older_database_with_the_default_password_is_marked_at_start,
    |app| {
        service::accounts::ensure_first_admin(
            &app.db,
            "admin@example.com",
            "Admin",
            common::PASSWORD,
            false,
        )
        .await
        .unwrap();
        let marked = service::accounts::require_change_of_default_password(
            &app.db,
            "admin@example.com",
            common::PASSWORD,
        )
        .await
        .unwrap();
        assert!(marked);
        app.sign_in("admin@example.com", common::PASSWORD).await;
        assert_eq!(
            app.get("/").await.headers[header::LOCATION],
            "/choose-password"
        );
        let again = service::accounts::require_change_of_default_password(
            &app.db,
            "admin@example.com",
            common::PASSWORD,
        )
        .await
        .unwrap();
        assert!(!again, "marked once");
    }
);
