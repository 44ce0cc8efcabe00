//! Personal access tokens through the real router on SQLite and PostgreSQL: create, list and
//! revoke through the server functions, a database that holds only the token's hash, every
//! refusal of `access_tokens::authenticate` (revoked, expired, bad checksum, an owner who must
//! choose a new password), and what a token's `Ctx` may do: its owner's current rights only,
//! only within its organizations, only reads when read-only, and never create tokens.

mod common;

use app::api::account::{CreateAccessToken, ListAccessTokens, RevokeAccessToken};
use app::api::orgs::{AddMember, ChangeMemberRole, CreateOrg};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{PASSWORD, TestApp, contains, dump};
use domain::access_tokens::{TokenScope, TokenState, checksum_ok};
use domain::dto::{AccessTokenDto, CreatedAccessToken, MemberDto, NewAccessToken};
use sea_orm::ConnectionTrait;
use serde_json::json;
use service::{Ctx, Error, access_tokens, organizations};

const KIM: &str = "kim@example.com";
const VAL: &str = "val@example.com";
const SAM: &str = "sam@example.com";

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn as_user(app: &mut TestApp, email: &str) {
    app.sign_out().await;
    ok(app.sign_in(email, PASSWORD).await).await;
}

/// Kim owns Acme and Beta; Val is an owner of Acme; Sam owns Sam's Org. Ends signed in as Kim.
async fn world(app: &mut TestApp) {
    ok(app.sign_up(SAM, "Sam Stranger").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Sams Org"), ("description", "")])
        .await)
    .await;
    app.sign_out().await;
    ok(app.sign_up(VAL, "Val Owner").await).await;
    app.sign_out().await;
    ok(app.sign_up(KIM, "Kim Owner").await).await;
    for org in ["Acme", "Beta"] {
        ok(app
            .call::<CreateOrg>(&[("name", org), ("description", "")])
            .await)
        .await;
    }
    ok(app
        .call::<AddMember>(&[("org", "Acme"), ("email", VAL), ("role", "owner")])
        .await)
    .await;
}

fn in_days(days: i64) -> chrono::NaiveDate {
    Utc::now().date_naive() + Duration::days(days)
}

fn new_token(name: &str, read_only: bool, orgs: Option<&[&str]>) -> NewAccessToken {
    NewAccessToken {
        name: name.into(),
        expires_on: in_days(30),
        read_only,
        orgs: orgs.map(|o| o.iter().map(|s| (*s).to_owned()).collect()),
    }
}

async fn create(app: &mut TestApp, input: &NewAccessToken) -> common::Reply {
    app.call_json::<CreateAccessToken>(json!({ "input": input }))
        .await
}

async fn created(app: &mut TestApp, input: NewAccessToken) -> CreatedAccessToken {
    ok(create(app, &input).await).await.json()
}

async fn list(app: &mut TestApp) -> Vec<AccessTokenDto> {
    ok(app.call::<ListAccessTokens>(&[]).await).await.json()
}

/// The token's owner context, as a request presenting it gets.
async fn ctx_of(app: &TestApp, secret: &str) -> Ctx {
    access_tokens::authenticate(&app.db, secret)
        .await
        .unwrap()
        .expect("the token is accepted")
}

async fn refused(app: &TestApp, secret: &str) -> bool {
    access_tokens::authenticate(&app.db, secret)
        .await
        .unwrap()
        .is_none()
}

async fn sql(app: &TestApp, statement: &str) {
    app.db.execute_unprepared(statement).await.unwrap();
}

/// A write that needs orgEdit: the organization's description.
async fn edit_description(app: &TestApp, ctx: &Ctx, org: &str) -> service::Result<()> {
    organizations::update_description(&app.db, ctx, org, "Changed by a token")
        .await
        .map(|_| ())
}

on_both!(create_list_and_revoke_through_the_server_functions, |app| {
    world(&mut app).await;
    assert!(list(&mut app).await.is_empty());

    let first = created(&mut app, new_token("  CI deploy  ", false, None)).await;
    let second = created(&mut app, new_token("Metrics export", true, Some(&["Acme"]))).await;
    let secret = first.secret.clone();
    assert!(
        secret.starts_with("tgp_") && checksum_ok(&secret),
        "{secret}"
    );
    assert_eq!(first.token.name, "CI deploy");
    assert_eq!(first.token.scope, TokenScope::ReadWrite);
    assert_eq!(first.token.orgs, None);
    assert_eq!(first.token.expires_on, in_days(30));
    assert_eq!(first.token.state, TokenState::Active);
    assert_eq!(first.token.last_four, secret[secret.len() - 4..]);
    assert_eq!(second.token.scope, TokenScope::ReadOnly);
    let orgs = second.token.orgs.clone().unwrap();
    assert_eq!(
        (orgs.len(), orgs[0].id.as_str(), orgs[0].name.as_str()),
        (1, "Acme", "Acme")
    );

    // Listed newest first, never with the secret.
    let reply = ok(app.call::<ListAccessTokens>(&[]).await).await;
    assert!(!reply.body.contains(&secret) && !reply.body.contains(&second.secret));
    let tokens: Vec<AccessTokenDto> = reply.json();
    let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Metrics export", "CI deploy"]);
    assert!(tokens.iter().all(|t| t.last_used_on.is_none()));

    // Used: the list shows the minute of its last use.
    let ctx = ctx_of(&app, &secret).await;
    assert_eq!(ctx.email, KIM);
    let grant = ctx.grant.clone().unwrap();
    assert_eq!(
        (grant.token_id.as_str(), grant.read_only, grant.orgs),
        (first.token.id.as_str(), false, None)
    );
    let used = list(&mut app).await[1]
        .last_used_on
        .expect("last use recorded");
    assert!(used <= Utc::now() && Utc::now() - used < Duration::minutes(2));
    assert_eq!(used.timestamp() % 60, 0, "to the minute");

    // Someone else's token reads as not found, and stays as it was.
    as_user(&mut app, SAM).await;
    let r = app
        .call::<RevokeAccessToken>(&[("id", &first.token.id)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(list(&mut app).await.is_empty(), "Sam sees only his own");
    assert!(!refused(&app, &secret).await);

    // Revoked with effect at once.
    as_user(&mut app, KIM).await;
    let revoked: AccessTokenDto = ok(app
        .call::<RevokeAccessToken>(&[("id", &first.token.id)])
        .await)
    .await
    .json();
    assert_eq!(revoked.state, TokenState::Revoked);
    assert!(revoked.revoked_on.is_some());
    assert!(refused(&app, &secret).await);
    let states: Vec<TokenState> = list(&mut app).await.iter().map(|t| t.state).collect();
    assert_eq!(states, [TokenState::Active, TokenState::Revoked]);
    // Revoking again changes nothing.
    ok(app
        .call::<RevokeAccessToken>(&[("id", &first.token.id)])
        .await)
    .await;
});

on_both!(the_database_holds_only_the_tokens_hash, |app| {
    world(&mut app).await;
    let t = created(&mut app, new_token("Dump", false, None)).await;
    let bytes = dump(&app).await;
    assert!(
        !contains(&bytes, &t.secret),
        "the token is not in the database"
    );
    assert!(!contains(&bytes, &t.secret[4..34]), "nor its random part");
    let hash = service::sessions::hash_token(&t.secret);
    assert!(contains(&bytes, &hash), "its SHA-256 is");
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT token_hash, last_four FROM access_tokens".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "token_hash").unwrap(), hash);
    assert_eq!(
        row.try_get::<String>("", "last_four").unwrap(),
        t.secret[36..]
    );
});

on_both!(bad_input_is_a_field_message_and_writes_nothing, |app| {
    world(&mut app).await;
    let cases: Vec<(NewAccessToken, &str)> = vec![
        (new_token("", false, None), "name"),
        (new_token(&"x".repeat(101), false, None), "name"),
        (new_token("tab\there", false, None), "name"),
        (
            NewAccessToken {
                expires_on: in_days(0),
                ..new_token("Today", false, None)
            },
            "expires_on",
        ),
        (
            NewAccessToken {
                expires_on: in_days(366),
                ..new_token("Too far", false, None)
            },
            "expires_on",
        ),
        (new_token("No orgs", false, Some(&[])), "orgs"),
        (
            new_token("Not mine", false, Some(&["Acme", "SamsOrg"])),
            "orgs",
        ),
        (new_token("Unknown", false, Some(&["Nowhere"])), "orgs"),
    ];
    for (input, field) in cases {
        let r = create(&mut app, &input).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.error().field(field).is_some(), "{field}: {}", r.body);
    }
    assert_eq!(app.count("access_tokens").await, 0);

    // A year ahead is the furthest.
    let t = created(
        &mut app,
        NewAccessToken {
            expires_on: in_days(365),
            ..new_token("A year", false, None)
        },
    )
    .await;
    assert_eq!(t.token.expires_on, in_days(365));
    assert_eq!(app.count("access_tokens").await, 1);

    // At most 50 working tokens; a revoked one does not count.
    for i in 1..50 {
        created(&mut app, new_token(&format!("T{i}"), true, None)).await;
    }
    let r = create(&mut app, &new_token("One too many", true, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error().field("name").unwrap().contains("50"));
    ok(app.call::<RevokeAccessToken>(&[("id", &t.token.id)]).await).await;
    created(&mut app, new_token("In its place", true, None)).await;

    // Signed out: no tokens at all.
    app.sign_out().await;
    let r = create(&mut app, &new_token("Anonymous", false, None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
});

on_both!(authenticate_refuses_what_does_not_work, |app| {
    world(&mut app).await;
    let t = created(&mut app, new_token("Short-lived", false, None)).await;
    assert!(!refused(&app, &t.secret).await);

    // A bad checksum, a look-alike, a stranger's format: refused without a database look-up
    // (the same shape as a real one, so only the checksum can refuse it).
    let mut changed = t.secret.clone().into_bytes();
    changed[10] = if changed[10] == b'a' { b'b' } else { b'a' };
    let changed = String::from_utf8(changed).unwrap();
    for bad in [
        changed.as_str(),
        &t.secret[..39],
        &format!("{}0", t.secret),
        &t.secret.replacen("tgp_", "ghp_", 1),
        "",
        &"x".repeat(10_000),
    ] {
        assert!(refused(&app, bad).await, "{bad}");
    }
    // Well-formed but unknown.
    let unknown = domain::access_tokens::from_random(&"A".repeat(30)).unwrap();
    assert!(refused(&app, &unknown).await);

    // Expired (its end moved into the past in the database).
    let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
    sql(
        &app,
        &format!(
            "UPDATE access_tokens SET expires_on = '{past}' WHERE id = '{}'",
            t.token.id
        ),
    )
    .await;
    assert!(refused(&app, &t.secret).await);
    assert_eq!(list(&mut app).await[0].state, TokenState::Expired);

    // An owner who must choose a new password first.
    let t = created(&mut app, new_token("Owner locked", false, None)).await;
    assert!(!refused(&app, &t.secret).await);
    sql(&app, "UPDATE users SET must_change_password = TRUE").await;
    assert!(refused(&app, &t.secret).await);
});

on_both!(a_token_has_only_its_owners_current_rights, |app| {
    world(&mut app).await;
    as_user(&mut app, VAL).await;
    let t = created(&mut app, new_token("Val's", false, None)).await;
    let ctx = ctx_of(&app, &t.secret).await;
    edit_description(&app, &ctx, "Acme").await.unwrap();

    // Kim makes Val a Viewer: the same token can no longer edit Acme.
    as_user(&mut app, KIM).await;
    let members: Vec<MemberDto> = ok(app
        .call::<app::api::orgs::ListMembers>(&[("org", "Acme")])
        .await)
    .await
    .json();
    let val = members.iter().find(|m| m.email == VAL).unwrap();
    ok(app
        .call::<ChangeMemberRole>(&[
            ("org", "Acme"),
            ("user_id", &val.user_id),
            ("role", "viewer"),
        ])
        .await)
    .await;
    let ctx = ctx_of(&app, &t.secret).await;
    let err = edit_description(&app, &ctx, "Acme").await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    organizations::get(&app.db, &ctx, "Acme").await.unwrap();
    // Never a member of Beta.
    let err = organizations::get(&app.db, &ctx, "Beta").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
});

on_both!(a_token_is_bound_to_its_organizations_and_its_scope, |app| {
    world(&mut app).await;
    let limited = created(&mut app, new_token("Acme only", false, Some(&["Acme"]))).await;
    let ctx = ctx_of(&app, &limited.secret).await;
    // Beta is Kim's, but outside the token: not found, and not listed.
    let err = organizations::get(&app.db, &ctx, "Beta").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = edit_description(&app, &ctx, "Beta").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    edit_description(&app, &ctx, "Acme").await.unwrap();
    let mine: Vec<String> = organizations::list_mine(&app.db, &ctx, None)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(mine, ["Acme"]);
    // A new organization would lie outside it.
    let new_org = || organizations::NewOrganization {
        name: "Gamma".into(),
        description: String::new(),
    };
    let err = organizations::create(&app.db, &ctx, new_org())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");

    // Read-only: every View, no write.
    let read_only = created(&mut app, new_token("Reader", true, None)).await;
    let ctx = ctx_of(&app, &read_only.secret).await;
    assert_eq!(
        organizations::list_mine(&app.db, &ctx, None)
            .await
            .unwrap()
            .len(),
        2
    );
    organizations::get(&app.db, &ctx, "Beta").await.unwrap();
    match edit_description(&app, &ctx, "Beta").await.unwrap_err() {
        Error::Forbidden(m) => assert_eq!(m, "This token is read-only."),
        other => panic!("{other:?}"),
    }
    for err in [
        organizations::create(&app.db, &ctx, new_org())
            .await
            .unwrap_err(),
        service::accounts::change_display_name(&app.db, &ctx, "Renamed")
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    }
    assert_eq!(app.count("organizations").await, 3);

    // No token creates, or revokes through a read-only one, tokens.
    let rw = ctx_of(&app, &limited.secret).await;
    for ctx in [&ctx, &rw] {
        let err = access_tokens::create(&app.db, ctx, new_token("From a token", false, None))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        let err =
            service::accounts::change_password(&app.db, ctx, PASSWORD, "another long one", None)
                .await
                .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    }
    let err = access_tokens::revoke(&app.db, &ctx, &limited.token.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert_eq!(app.count("access_tokens").await, 2);
});
