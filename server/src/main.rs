#![recursion_limit = "512"]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::ssr::AppState;
use server::config::{self, Config};
use service::sessions::SessionPolicy;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = Config::from_env();
    config.install_secret()?;
    // `server export` / `server apply`: the declarative configuration, then exit.
    let args: Vec<String> = std::env::args().collect();
    if let Some(command @ ("export" | "apply")) = args.get(1).map(String::as_str) {
        return Ok(server::cli::run(command, &args[2..], &config).await);
    }
    // `server gateway`: only the gateway, against the same database (one node of several).
    let gateway_only = std::env::args().nth(1).as_deref() == Some("gateway");
    if gateway_only {
        let db = service::db::connect(&config.database_url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
        run_gateway(db, &config, None).await?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let leptos_options = config::leptos_options()?;
    service::gateway::set_public_url(&config.gateway_url);
    let addr = leptos_options.site_addr;
    // The Implementation tab warns about endpoints the gateway refuses, by the same rule.
    let configured: Vec<SocketAddr> = [
        config.gateway_listen.as_str(),
        config.gateway_admin_listen.as_str(),
    ]
    .iter()
    .filter_map(|l| l.parse().ok())
    .chain([addr])
    .collect();
    service::gateway::set_network_rule(network_rule(&config, configured)?);
    if let Some(warning) = config::shared_host_warning(&addr.to_string(), &config.gateway_url) {
        tracing::warn!("{warning}");
    }

    let db = service::db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
    let trusted_proxies = config.trusted_proxies()?;
    // Sign-ins of unknown emails and BASIC checks of unknown users verify against this hash:
    // compute it now, not on the first such request.
    tokio::task::spawn_blocking(service::accounts::dummy_hash);
    server::config::ensure_first_admin(&db, &config).await?;

    if config.gateway_listen != "off" {
        let (db, config) = (db.clone(), config.clone());
        tokio::spawn(async move {
            if let Err(e) = run_gateway(db, &config, Some(addr)).await {
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
        trusted_proxies: Arc::new(trusted_proxies),
    };
    let bounds = config::RequestBounds {
        api_requests_per_minute: config.api_requests_per_minute,
        ..config::RequestBounds::default()
    };
    let app = server::router_with(state, bounds);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("Tollgate listening on http://{addr}");
    server::serve::serve(
        listener,
        app,
        bounds.header_read_timeout,
        shutdown_signal(),
        config.shutdown_grace,
    )
    .await?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The rule for backend addresses: the configured allow and deny lists, and Tollgate's own
/// listeners `own`.
fn network_rule(
    config: &Config,
    own: Vec<SocketAddr>,
) -> Result<Arc<domain::gateway_bounds::NetworkRule>, Box<dyn std::error::Error>> {
    Ok(Arc::new(domain::gateway_bounds::NetworkRule::new(
        &config.gateway_allow_networks,
        &config.gateway_deny_networks,
        own,
    )?))
}

/// Serves the gateway on `listen`, and `/metrics` and `/healthz` on the admin listener, until
/// SIGTERM / Ctrl-C; in-flight requests finish. `management` is the UI's listener (when this
/// process serves it): the gateway never connects to it, nor to its own listeners.
async fn run_gateway(
    db: service::DatabaseConnection,
    config: &Config,
    management: Option<SocketAddr>,
) -> Result<(), Box<dyn std::error::Error>> {
    let listen = config.gateway_listen.as_str();
    // TLS first: a certificate that does not load stops the start before anything listens.
    let tls = match config.gateway_tls()? {
        Some(files) => {
            let tls = server::tls::Tls::load(files)?;
            #[cfg(unix)]
            tls.reload_on_sighup()?;
            Some(tls)
        }
        None => {
            // A SIGHUP meant for a TLS reload must not stop a node without TLS.
            #[cfg(unix)]
            server::tls::ignore_sighup()?;
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let admin = match config.gateway_admin_listen.as_str() {
        "off" => None,
        a => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen on TOLLGATE_GATEWAY_ADMIN_LISTEN={a}: {e}"))?,
        ),
    };
    let mut own = vec![listener.local_addr()?];
    own.extend(admin.as_ref().and_then(|a| a.local_addr().ok()));
    own.extend(management);
    let mut options = gateway::Options {
        redis_url: config.redis_url.clone(),
        trust_forwarded_proto: config.gateway_trust_proxy,
        networks: network_rule(config, own)?,
        ..Default::default()
    };
    if let Some(file) = &config.gateway_ca_file {
        options.trust_pem_file(std::path::Path::new(file))?;
    }
    let gw = gateway::Gateway::start_with(db.clone(), options).await?;
    if let Some(admin) = admin {
        let app = gateway::admin_router(gw.clone());
        tracing::info!(
            "Tollgate gateway metrics on http://{}/metrics",
            config.gateway_admin_listen
        );
        tokio::spawn(async move {
            let timeout = config::RequestBounds::default().header_read_timeout;
            let grace = Duration::from_secs(1);
            if let Err(e) =
                server::serve::serve(admin, app, timeout, shutdown_signal(), grace).await
            {
                tracing::error!(error = %e, "the gateway's admin listener stopped");
            }
        });
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("Tollgate gateway listening on {scheme}://{listen}");
    // Request headers (and the TLS handshake) have the same deadline as on the management
    // listener; bodies stream to the backend within the gateway's backend timeout.
    let timeout = config::RequestBounds::default().header_read_timeout;
    server::serve::serve_with(
        listener,
        gateway::router(gw.clone()),
        timeout,
        tls,
        shutdown_signal(),
        config.shutdown_grace,
    )
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
