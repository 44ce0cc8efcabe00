//! The management REST API, `/api/v1`: a thin adapter over the same `service` functions that the
//! server functions call (no rule lives here), with its OpenAPI 3.1 document generated from
//! these handlers at `/api/v1/openapi.json`.
//!
//! - `caller`: who calls (a personal access token, or the browser session), rate limits;
//! - `problem`: errors as `application/problem+json`;
//! - `answer`: `ETag` / `If-None-Match` / `If-Match`, `201` with `Location`, paging with `Link`;
//! - `extract`: path, query and body extractors whose refusals are problems;
//! - one module per resource: `orgs`, `entities` (what clients, APIs and plans share),
//!   `clients`, `apis`, `plans`, `contracts`, `notifications`, and `config` (declarative export /
//!   apply and the file's JSON Schema).

pub mod answer;
mod apis;
pub mod caller;
mod clients;
mod config;
mod contracts;
mod entities;
pub mod extract;
mod notifications;
mod orgs;
mod plans;
pub mod problem;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::ssr::AppState;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use caller::ApiLimiter;

/// What the REST handlers share.
#[derive(Clone)]
pub struct RestState {
    pub app: AppState,
    pub limiter: ApiLimiter,
}

impl FromRef<RestState> for AppState {
    fn from_ref(s: &RestState) -> Self {
        s.app.clone()
    }
}

/// Requests per minute for one account (all its tokens and its session) unless configured.
pub const DEFAULT_REQUESTS_PER_MINUTE: usize = 600;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate management API",
        version = "1",
        description = "Organizations, clients, APIs, plans, contracts, keys and policies, as the \
            management UI offers them. Authenticate with a personal access token from Account \
            settings: `Authorization: Bearer tgp_…`. Errors are `application/problem+json` with \
            the same messages and field paths as the UI. Lists are paged (`page`, `per_page` up \
            to 100) with `Link` and `X-Total-Count`. Reads carry an `ETag`; updates take \
            `If-Match` and answer 412 when the object changed meanwhile."
    ),
    paths(
        orgs::list, orgs::create, orgs::get, orgs::update, orgs::members, orgs::add_member,
        orgs::change_member, orgs::remove_member, orgs::changes,
        entities::list, entities::create, entities::update, entities::delete,
        entities::new_version, entities::changes, entities::policies, entities::add_policy,
        entities::policy, entities::update_policy, entities::remove_policy, entities::reorder_policies,
        entities::metrics,
        clients::get, clients::register, clients::unregister, clients::change_key,
        clients::revoke_key, clients::reveal_key, clients::contracts, clients::create_contract,
        clients::break_all,
        apis::get, apis::implementation, apis::definition, apis::set_definition,
        apis::set_plans, apis::publish, apis::retire, apis::contracts, apis::chains,
        plans::get, plans::lock,
        contracts::break_one, contracts::plan_choices, contracts::change_plan,
        contracts::approve, contracts::reject, contracts::revoke, contracts::approvals,
        notifications::list, notifications::mark_read, notifications::policy_definitions,
        config::export, config::apply,
    ),
    components(schemas(problem::Problem, extract::Kind)),
    modifiers(&BearerAuth, &ProblemResponses),
    security(("token" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal access token (`tgp_…`)."))
                    .build(),
            ),
        );
    }
}

/// Every error is `application/problem+json`, and every operation documents the refusals that
/// any request may meet before its handler runs: 400 (a path, query or body that does not
/// parse), 401 (no valid token), 403 (a read-only token, a cross-site session write, a
/// portal-only account), 404 (a hidden or absent object), 422 (a query or body of the wrong
/// shape) and 429 (the token's rate limit); with a request body also 413 and 415.
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        const PROBLEM: &str = "application/problem+json";
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        let common: &[(&str, &str)] = &[
            ("400", "The path, query or body does not parse"),
            ("401", "No valid personal access token or session"),
            ("403", "Not allowed"),
            ("404", "No such object, or one the caller may not see"),
            (
                "422",
                "A query or body of the wrong shape, or invalid fields",
            ),
            ("429", "Too many requests for this token; see `Retry-After`"),
        ];
        let with_body: &[(&str, &str)] = &[
            ("413", "The body is too large"),
            ("415", "The body is not `application/json`"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                // What the handlers document with `body = Problem` is sent as problem+json.
                for r in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = r
                        && let Some(content) = r.content.shift_remove("application/json")
                    {
                        let is_problem = matches!(&content.schema,
                            Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem"));
                        let key = if is_problem {
                            PROBLEM
                        } else {
                            "application/json"
                        };
                        r.content.insert(key.to_owned(), content);
                    }
                }
                let extra = if op.request_body.is_some() {
                    with_body
                } else {
                    &[]
                };
                for (status, description) in common.iter().chain(extra) {
                    op.responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(*description)
                                .content(PROBLEM, problem())
                                .build()
                                .into()
                        });
                }
            }
        }
    }
}

/// The document as JSON text, built once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default())
}

async fn openapi_json() -> Response {
    let body = document_json();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn unknown() -> problem::Problem {
    problem::Problem::not_found("There is no such operation in the Tollgate API v1.")
}

/// The `/api/v1` routes, with their own state.
pub fn router(app: AppState, requests_per_minute: usize) -> Router<AppState> {
    let state = RestState {
        app,
        limiter: ApiLimiter {
            requests: Arc::new(service::rate_limit::ActionLimiter::new(
                Duration::from_secs(60),
                requests_per_minute.max(1),
            )),
            bad_tokens: Arc::new(service::rate_limit::ActionLimiter::new(
                Duration::from_secs(60),
                caller::BAD_TOKENS_PER_MINUTE,
            )),
        },
    };
    let version = "/orgs/{org}/{kind}/{id}/versions/{version}";
    let client = "/orgs/{org}/clients/{id}/versions/{version}";
    let api = "/orgs/{org}/apis/{id}/versions/{version}";
    let r = Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/config.schema.json", get(config::schema))
        .route("/config", get(config::export))
        .route("/config:apply", post(config::apply))
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route("/orgs/{org}", get(orgs::get).patch(orgs::update))
        .route(
            "/orgs/{org}/members",
            get(orgs::members).post(orgs::add_member),
        )
        .route(
            "/orgs/{org}/members/{user}",
            put(orgs::change_member).delete(orgs::remove_member),
        )
        .route("/orgs/{org}/changes", get(orgs::changes))
        .route(
            "/orgs/{org}/{kind}",
            get(entities::list).post(entities::create),
        )
        .route(
            "/orgs/{org}/{kind}/{id}",
            axum::routing::patch(entities::update).delete(entities::delete),
        )
        .route(
            "/orgs/{org}/{kind}/{id}/versions",
            post(entities::new_version),
        )
        .route("/orgs/{org}/{kind}/{id}/changes", get(entities::changes))
        .route(
            &format!("{version}/policies"),
            get(entities::policies).post(entities::add_policy),
        )
        .route(
            &format!("{version}/policies/order"),
            put(entities::reorder_policies),
        )
        .route(
            &format!("{version}/policies/{{policy}}"),
            get(entities::policy)
                .patch(entities::update_policy)
                .delete(entities::remove_policy),
        )
        .route(&format!("{version}/metrics"), get(entities::metrics))
        .route(client, get(clients::get))
        .route(&format!("{client}/register"), post(clients::register))
        .route(&format!("{client}/unregister"), post(clients::unregister))
        .route(&format!("{client}/keys"), post(clients::change_key))
        .route(
            &format!("{client}/keys/{{key}}"),
            axum::routing::delete(clients::revoke_key),
        )
        .route(
            &format!("{client}/keys/{{key}}/reveal"),
            post(clients::reveal_key),
        )
        .route(
            &format!("{client}/contracts"),
            get(clients::contracts)
                .post(clients::create_contract)
                .delete(clients::break_all),
        )
        .route(api, get(apis::get))
        .route(&format!("{api}/implementation"), put(apis::implementation))
        .route(
            &format!("{api}/definition"),
            get(apis::definition).put(apis::set_definition),
        )
        .route(&format!("{api}/plans"), put(apis::set_plans))
        .route(&format!("{api}/publish"), post(apis::publish))
        .route(&format!("{api}/retire"), post(apis::retire))
        .route(&format!("{api}/contracts"), get(apis::contracts))
        .route(&format!("{api}/chains"), get(apis::chains))
        .route("/orgs/{org}/plans/{id}/versions/{version}", get(plans::get))
        .route(
            "/orgs/{org}/plans/{id}/versions/{version}/lock",
            post(plans::lock),
        )
        .route(
            "/contracts/{id}",
            axum::routing::delete(contracts::break_one),
        )
        .route("/contracts/{id}/plans", get(contracts::plan_choices))
        .route("/contracts/{id}/plan", put(contracts::change_plan))
        .route("/contracts/{id}/approve", post(contracts::approve))
        .route("/contracts/{id}/reject", post(contracts::reject))
        .route("/contracts/{id}/revoke", post(contracts::revoke))
        .route("/approvals", get(contracts::approvals))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route(
            "/policy-definitions",
            get(notifications::policy_definitions),
        )
        // Nested, a fallback would not see paths that the server functions' `/api/{*fn_name}`
        // route also matches: a catch-all of its own answers them.
        .route("/{*rest}", axum::routing::any(unknown))
        .fallback(unknown)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    Router::new().nest("/api/v1", r)
}

async fn method_not_allowed() -> problem::Problem {
    problem::Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "This operation does not take this method.",
    )
}
