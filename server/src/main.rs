#![recursion_limit = "512"]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::ssr::AppState;
use server::config::{self, Config};
use service::sessions::SessionPolicy;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let config = Config::from_env();
    // `server gateway`: only the gateway, against the same database (one node of several).
    let gateway_only = std::env::args().nth(1).as_deref() == Some("gateway");
    if gateway_only {
        let db = service::db::connect(&config.database_url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
        return run_gateway(db, &config).await;
    }
    let leptos_options = config::leptos_options()?;
    service::gateway::set_public_url(&config.gateway_url);
    let addr = leptos_options.site_addr;
    if let Some(warning) = config::shared_host_warning(&addr.to_string(), &config.gateway_url) {
        tracing::warn!("{warning}");
    }

    let db = service::db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
    if service::accounts::ensure_first_admin(
        &db,
        &config.admin_email,
        &config.admin_name,
        &config.admin_password,
    )
    .await
    .map_err(|e| format!("cannot create the first administrator: {e}"))?
    {
        tracing::info!(email = %config.admin_email, "created the first administrator");
        if config.uses_default_admin_credentials() {
            tracing::warn!(
                "the first administrator uses the default credentials {} / {}: sign in and change them, \
                 or set TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD before the first start",
                config::DEFAULT_ADMIN_EMAIL,
                config::DEFAULT_ADMIN_PASSWORD
            );
        }
    }

    if config.gateway_listen != "off" {
        let (db, config) = (db.clone(), config.clone());
        tokio::spawn(async move {
            if let Err(e) = run_gateway(db, &config).await {
                tracing::error!(error = %e, listen = %config.gateway_listen, "the gateway did not start");
            }
        });
    }

    let sessions = SessionPolicy::default();
    let purge_db = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = service::sessions::purge_expired(&purge_db, sessions).await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
        }
    });

    let state = AppState {
        db,
        leptos_options,
        limiter: Arc::new(service::rate_limit::SignInLimiter::default()),
        sessions,
        secure_cookies: config.secure_cookies,
    };
    let bounds = config::RequestBounds::default();
    let app = server::router_with(state, bounds);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("Tollgate listening on http://{addr}");
    server::serve::serve(listener, app, bounds.header_read_timeout, shutdown_signal()).await?;
    Ok(())
}

/// Serves the gateway on `listen` until SIGTERM / Ctrl-C; in-flight requests finish.
async fn run_gateway(
    db: service::DatabaseConnection,
    config: &Config,
) -> Result<(), Box<dyn std::error::Error>> {
    let listen = config.gateway_listen.as_str();
    let mut options = gateway::Options {
        redis_url: config.redis_url.clone(),
        trust_forwarded_proto: config.gateway_trust_proxy,
        ..Default::default()
    };
    if let Some(file) = &config.gateway_ca_file {
        options.trust_pem_file(std::path::Path::new(file))?;
    }
    let gw = gateway::Gateway::start_with(db.clone(), options).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!("Tollgate gateway listening on http://{listen}");
    axum::serve(
        listener,
        gateway::router(gw.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    // In-flight requests are done: keep their counters and metrics.
    gw.shutdown(&db).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
