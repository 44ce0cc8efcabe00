use app::ssr::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{
    LeptosRoutes, file_and_error_handler_with_context, generate_route_list,
    handle_server_fns_with_context,
};
use tower_http::compression::CompressionLayer;

use crate::config::RequestBounds;

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(
        move || {
            provide_context(state.clone());
            provide_context(api_reference());
        },
        req,
    )
    .await
}

/// The REST API's document as the reference page shows it, summarized once.
fn api_reference() -> app::ssr::ApiReference {
    static SUMMARY: std::sync::OnceLock<app::ssr::ApiReference> = std::sync::OnceLock::new();
    SUMMARY
        .get_or_init(|| {
            let doc = serde_json::from_str(crate::rest::document_json()).unwrap_or_default();
            app::ssr::ApiReference(std::sync::Arc::new(domain::portal::DefinitionSummary::of(
                &doc,
            )))
        })
        .clone()
}

/// `GET /portal/apis/{org}/{api}/{version}/definition`: the OpenAPI document of a published
/// version the visitor may see, as a download.
async fn download_definition(
    State(state): State<AppState>,
    axum::extract::Path((org, api, version)): axum::extract::Path<(String, String, String)>,
    axum::Extension(user): axum::Extension<app::ssr::CurrentUser>,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    match service::portal::definition(&state.db, user.ctx.as_ref(), &org, &api, &version).await {
        Ok((name, media_type, text)) => (
            [
                (header::CONTENT_TYPE, media_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            text,
        )
            .into_response(),
        Err(service::Error::NotFound(m)) => (StatusCode::NOT_FOUND, m).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "definition download failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// The whole HTTP application: health check, server functions (POST only), Leptos pages, static
/// files; wrapped in the session, same-origin and security-header middleware.
pub fn router(state: AppState) -> Router {
    router_with(state, RequestBounds::default())
}

/// [`router`] with its own bounds on server-function bodies.
pub fn router_with(state: AppState, bounds: RequestBounds) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            provide_context(api_reference());
        }
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::rest::router(
            state.clone(),
            bounds.api_requests_per_minute,
        ))
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route(
            "/portal/apis/{org}/{api}/{version}/definition",
            get(download_definition),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::session::session_layer,
        ))
        .layer(middleware::from_fn_with_state(
            bounds,
            crate::security::bound_body,
        ))
        .layer(middleware::from_fn(crate::security::same_origin_guard))
        .layer(middleware::from_fn_with_state(
            state.secure_cookies,
            crate::security::security_headers,
        ))
        .layer(CompressionLayer::new())
        .with_state(state)
}
