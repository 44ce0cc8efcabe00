//! Configuration from the environment (with documented defaults) and from `Leptos.toml`.

use std::time::Duration;

use leptos::config::LeptosOptions;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tollgate.db?mode=rwc";
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@tollgate.local";
pub const DEFAULT_ADMIN_PASSWORD: &str = "change-me-now-please";

/// Bounds on what a client may send the management listener.
#[derive(Debug, Clone, Copy)]
pub struct RequestBounds {
    /// The largest server-function request body (`413` beyond it).
    pub max_body_bytes: usize,
    /// How long a client has to send a request's headers; then the connection is closed.
    pub header_read_timeout: Duration,
    /// How long a client has to send a server function's body once its headers are in (`408`).
    pub body_read_timeout: Duration,
    /// Requests per minute that one personal access token (or one signed-in user) may make to
    /// the REST API (`429` with `Retry-After` beyond); `TOLLGATE_API_REQUESTS_PER_MINUTE`.
    pub api_requests_per_minute: usize,
}

impl Default for RequestBounds {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 << 20,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            api_requests_per_minute: crate::rest::DEFAULT_REQUESTS_PER_MINUTE,
        }
    }
}

/// A value that must never be printed: its `Debug` says only whether it is set.
#[derive(Clone, Default)]
pub struct Redacted(pub Option<String>);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "<set>" } else { "<unset>" })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// `TOLLGATE_SECRET_KEY`: the server secret (64 hex characters) under which API keys are
    /// looked up and sealed. When unset, the key file is used.
    pub secret_key: Redacted,
    /// `TOLLGATE_SECRET_KEY_FILE`: the key file, generated with mode 0600 on first start when
    /// `TOLLGATE_SECRET_KEY` is unset (default `data/secret.key`). Back it up with the database.
    pub secret_key_file: String,
    pub admin_email: String,
    pub admin_password: String,
    pub admin_name: String,
    /// `TOLLGATE_COOKIE_SECURE=true` when Tollgate is served over TLS (behind a proxy).
    pub secure_cookies: bool,
    /// `TOLLGATE_GATEWAY_URL`: the gateway's public base URL, shown as each API's endpoint.
    pub gateway_url: String,
    /// `TOLLGATE_GATEWAY_LISTEN`: where the gateway listens; `off` starts none. A separate port
    /// is not a separate cookie scope: browsers send a host's cookies to every port of it, so
    /// the gateway strips Tollgate's own cookies, and the gateway should have its own host name
    /// (see [`shared_host_warning`]).
    pub gateway_listen: String,
    /// `REDIS_URL`: when set, gateway nodes share rate limits and quotas through this Redis;
    /// otherwise each node counts on its own.
    pub redis_url: Option<String>,
    /// `TOLLGATE_GATEWAY_CA_FILE`: PEM certificates the gateway trusts for `https://` backends,
    /// besides the system's and the Mozilla roots.
    pub gateway_ca_file: Option<String>,
    /// `TOLLGATE_GATEWAY_TRUST_PROXY=true`: the gateway believes `X-Forwarded-Proto: https` from
    /// the TLS-terminating proxy in front of it.
    pub gateway_trust_proxy: bool,
    /// `TOLLGATE_GATEWAY_TLS_CERT`: a PEM file with the gateway listener's certificate chain
    /// (leaf first). Set together with `TOLLGATE_GATEWAY_TLS_KEY`, the gateway listener speaks
    /// TLS 1.2 and 1.3 only (HTTP/2 and HTTP/1.1 by ALPN); SIGHUP reads both files again
    /// without closing a connection (a pair that does not load leaves the previous one in use).
    /// Unset: plain HTTP (HTTP/1.1 and prior-knowledge HTTP/2).
    pub gateway_tls_cert: Option<String>,
    /// `TOLLGATE_GATEWAY_TLS_KEY`: a PEM file with the private key of `TOLLGATE_GATEWAY_TLS_CERT`
    /// (PKCS#8, PKCS#1 or SEC1). Keep it readable by the server's user only; it is never logged.
    pub gateway_tls_key: Option<String>,
    /// `TOLLGATE_TRUSTED_PROXIES`: comma-separated CIDR blocks or addresses of the reverse
    /// proxies in front of API Management; only from these peers does `X-Forwarded-For` name
    /// the client (sign-in throttling). Default: none.
    pub trusted_proxies: Vec<String>,
    /// `TOLLGATE_GATEWAY_ADMIN_LISTEN`: where the gateway serves `/metrics` and `/healthz`
    /// (default `127.0.0.1:9090`); `off` serves them nowhere.
    pub gateway_admin_listen: String,
    /// `TOLLGATE_GATEWAY_ALLOW_NETWORKS`: comma-separated CIDR blocks the gateway
    /// may connect to although they are refused by default (link-local, metadata).
    pub gateway_allow_networks: Vec<String>,
    /// `TOLLGATE_GATEWAY_DENY_NETWORKS`: CIDR blocks the gateway never connects to (wins over
    /// everything else), e.g. private ranges that backends must not reach.
    pub gateway_deny_networks: Vec<String>,
    pub api_requests_per_minute: usize,
    /// `TOLLGATE_SHUTDOWN_GRACE` (seconds, default 10): how long a stopping listener waits for
    /// its open requests to finish.
    pub shutdown_grace: Duration,
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A comma-separated list, entries trimmed, empty ones dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            database_url: env_or("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key: Redacted(
                std::env::var(service::secrets::SECRET_KEY_VAR)
                    .ok()
                    .filter(|v| !v.trim().is_empty()),
            ),
            secret_key_file: env_or(
                "TOLLGATE_SECRET_KEY_FILE",
                service::secrets::DEFAULT_KEY_FILE,
            ),
            admin_email: env_or("TOLLGATE_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
            admin_password: env_or("TOLLGATE_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
            admin_name: env_or("TOLLGATE_ADMIN_NAME", "Administrator"),
            secure_cookies: env_or("TOLLGATE_COOKIE_SECURE", "false") == "true",
            gateway_url: env_or("TOLLGATE_GATEWAY_URL", service::gateway::DEFAULT_PUBLIC_URL),
            gateway_listen: env_or("TOLLGATE_GATEWAY_LISTEN", "127.0.0.1:8080"),
            redis_url: std::env::var("REDIS_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            gateway_ca_file: std::env::var("TOLLGATE_GATEWAY_CA_FILE")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            gateway_trust_proxy: env_or("TOLLGATE_GATEWAY_TRUST_PROXY", "false") == "true",
            gateway_tls_cert: std::env::var("TOLLGATE_GATEWAY_TLS_CERT")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            gateway_tls_key: std::env::var("TOLLGATE_GATEWAY_TLS_KEY")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            trusted_proxies: list(&env_or("TOLLGATE_TRUSTED_PROXIES", "")),
            gateway_admin_listen: env_or("TOLLGATE_GATEWAY_ADMIN_LISTEN", "127.0.0.1:9090"),
            gateway_allow_networks: list(&env_or("TOLLGATE_GATEWAY_ALLOW_NETWORKS", "")),
            gateway_deny_networks: list(&env_or("TOLLGATE_GATEWAY_DENY_NETWORKS", "")),
            api_requests_per_minute: env_or("TOLLGATE_API_REQUESTS_PER_MINUTE", "")
                .parse()
                .unwrap_or(crate::rest::DEFAULT_REQUESTS_PER_MINUTE),
            shutdown_grace: Duration::from_secs(
                env_or("TOLLGATE_SHUTDOWN_GRACE", "10")
                    .parse()
                    .unwrap_or(10),
            ),
        }
    }

    /// Loads the server secret (creating the key file when needed) and installs its keyring for
    /// the whole process. Call it before opening the database.
    pub fn install_secret(&self) -> Result<(), String> {
        let (secret, source) = service::secrets::load_or_create(
            self.secret_key.0.as_deref(),
            std::path::Path::new(&self.secret_key_file),
        )?;
        match source {
            service::secrets::Source::Environment => {
                tracing::info!("server secret from TOLLGATE_SECRET_KEY")
            }
            service::secrets::Source::KeyFile(f) => {
                tracing::info!(file = %f, "server secret from the key file")
            }
            service::secrets::Source::NewKeyFile(f) => tracing::warn!(
                file = %f,
                "generated a new server secret: back this file up with the database; without it no API key can be checked or shown"
            ),
        }
        service::secrets::install(service::secrets::Keyring::new(&secret));
        Ok(())
    }

    /// The parsed `TOLLGATE_TRUSTED_PROXIES`, or what is wrong with it.
    pub fn trusted_proxies(&self) -> Result<domain::policy::IpMatcher, String> {
        domain::policy::IpMatcher::parse_setting("TOLLGATE_TRUSTED_PROXIES", &self.trusted_proxies)
    }

    /// The gateway listener's TLS files, when both are set; one without the other is an error.
    pub fn gateway_tls(&self) -> Result<Option<crate::tls::TlsFiles>, String> {
        match (&self.gateway_tls_cert, &self.gateway_tls_key) {
            (Some(cert), Some(key)) => Ok(Some(crate::tls::TlsFiles {
                cert: cert.into(),
                key: key.into(),
            })),
            (None, None) => Ok(None),
            _ => Err(
                "set both TOLLGATE_GATEWAY_TLS_CERT and TOLLGATE_GATEWAY_TLS_KEY, or neither"
                    .to_owned(),
            ),
        }
    }

    /// The first administrator's password is the published default: it must be changed at the
    /// first sign-in.
    pub fn uses_default_admin_password(&self) -> bool {
        self.admin_password == DEFAULT_ADMIN_PASSWORD
    }

    /// The startup warning while default credentials are in use. It names the email, never the
    /// password: logs are read by more people than the administrator.
    pub fn default_admin_warning(&self) -> Option<String> {
        self.uses_default_admin_credentials().then(|| {
            format!(
                "the first administrator {} uses default credentials{}; set TOLLGATE_ADMIN_EMAIL \
                 and TOLLGATE_ADMIN_PASSWORD before the first start to choose your own",
                self.admin_email,
                if self.uses_default_admin_password() {
                    ": the default password must be changed at the first sign-in"
                } else {
                    ""
                }
            )
        })
    }

    pub fn uses_default_admin_credentials(&self) -> bool {
        self.admin_email == DEFAULT_ADMIN_EMAIL || self.admin_password == DEFAULT_ADMIN_PASSWORD
    }
}

/// The host part of a URL (`http://Host:8080/x` → `host`) or of an address (`127.0.0.1:3000`,
/// `[::1]:3000`), lower-cased, without brackets, port, user info or path.
fn host_of(url_or_addr: &str) -> Option<String> {
    let rest = url_or_addr
        .trim()
        .split_once("://")
        .map_or(url_or_addr.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split_once(']')?.0
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Creates the first administrator on an empty database (and marks a default password to be
/// changed at the first sign-in), with the warning while the defaults are in use.
pub async fn ensure_first_admin(
    db: &service::DatabaseConnection,
    config: &Config,
) -> Result<(), String> {
    let must_change = config.uses_default_admin_password();
    let created = service::accounts::ensure_first_admin(
        db,
        &config.admin_email,
        &config.admin_name,
        &config.admin_password,
        must_change,
    )
    .await
    .map_err(|e| format!("cannot create the first administrator: {e}"))?;
    if created {
        tracing::info!(email = %config.admin_email, "created the first administrator");
    }
    // A database from before the mark existed whose administrator still has the default password.
    let marked = must_change
        && !created
        && service::accounts::require_change_of_default_password(
            db,
            &config.admin_email,
            &config.admin_password,
        )
        .await
        .map_err(|e| format!("cannot check the first administrator: {e}"))?;
    if let Some(warning) = config.default_admin_warning().filter(|_| created || marked) {
        tracing::warn!("{warning}");
    }
    Ok(())
}

/// The startup warning when the management UI (`ui`, its address or URL) and the gateway's public
/// URL (`TOLLGATE_GATEWAY_URL`) share a host name. Browsers do not separate cookies by port: the
/// gateway strips Tollgate's own cookies before forwarding, but a backend's page served through
/// it runs its script on the UI's host, where it can plant cookies the UI then receives.
pub fn shared_host_warning(ui: &str, gateway_url: &str) -> Option<String> {
    let host = host_of(ui)?;
    (host_of(gateway_url)? == host).then(|| {
        format!(
            "the management UI ({ui}) and the gateway ({gateway_url}) share the host {host}: \
             browsers do not separate cookies by port, so pages of the backends served through \
             the gateway run on the UI's host and can plant cookies there. Give the gateway its \
             own host name (TOLLGATE_GATEWAY_URL) in production."
        )
    })
}

/// Leptos' runtime options: `Leptos.toml` in the working directory, overridden by the
/// `LEPTOS_*` variables that cargo-leptos sets when it runs the server.
pub fn leptos_options() -> Result<LeptosOptions, leptos::config::errors::LeptosConfigError> {
    let conf = if std::path::Path::new("Leptos.toml").exists() {
        leptos::config::get_configuration(Some("Leptos.toml"))?
    } else {
        leptos::config::get_configuration(None)?
    };
    Ok(conf.leptos_options)
}

#[cfg(test)]
mod tests {
    use super::shared_host_warning;

    #[test]
    fn warns_when_the_ui_and_the_gateway_share_a_host() {
        for (ui, gateway, shared) in [
            ("127.0.0.1:3000", "http://127.0.0.1:8080", true),
            ("127.0.0.1:3000", "http://127.0.0.1:8080/", true),
            (
                "http://Tollgate.Example.com",
                "https://tollgate.example.com:8443/apis",
                true,
            ),
            ("[::1]:3000", "http://[::1]:8080", true),
            ("127.0.0.1:3000", "http://user:pw@127.0.0.1:8080", true),
            ("127.0.0.1:3000", "https://api.example.com", false),
            (
                "https://tollgate.example.com",
                "https://api.tollgate.example.com",
                false,
            ),
            // Browsers keep `localhost` and `127.0.0.1` apart.
            ("127.0.0.1:3000", "http://localhost:8080", false),
            ("[::1]:3000", "http://127.0.0.1:8080", false),
            ("127.0.0.1:3000", "", false),
        ] {
            let warning = shared_host_warning(ui, gateway);
            assert_eq!(warning.is_some(), shared, "{ui} / {gateway}: {warning:?}");
            if let Some(w) = warning {
                assert!(w.contains("do not separate cookies by port"), "{w}");
                assert!(w.contains("TOLLGATE_GATEWAY_URL"), "{w}");
            }
        }
    }

    #[test]
    fn the_default_admin_warning_never_prints_a_password() {
        let mut c = super::Config::from_env();
        c.admin_email = super::DEFAULT_ADMIN_EMAIL.into();
        c.admin_password = super::DEFAULT_ADMIN_PASSWORD.into();
        let w = c.default_admin_warning().unwrap();
        assert!(
            w.contains(super::DEFAULT_ADMIN_EMAIL) && w.contains("must be changed"),
            "{w}"
        );
        assert!(!w.contains(super::DEFAULT_ADMIN_PASSWORD), "{w}");
        c.admin_password = "an operator's own secret".into();
        let w = c.default_admin_warning().unwrap();
        assert!(
            !w.contains("an operator's own secret") && !w.contains("must be changed"),
            "{w}"
        );
        c.admin_email = "ops@example.com".into();
        assert_eq!(c.default_admin_warning(), None);
    }
    #[test]
    fn gateway_tls_needs_both_files() {
        let mut c = super::Config::from_env();
        (c.gateway_tls_cert, c.gateway_tls_key) = (None, None);
        assert_eq!(c.gateway_tls(), Ok(None));
        c.gateway_tls_cert = Some("gw.crt".into());
        assert!(
            c.gateway_tls()
                .unwrap_err()
                .contains("TOLLGATE_GATEWAY_TLS_KEY")
        );
        c.gateway_tls_key = Some("gw.key".into());
        let files = c.gateway_tls().unwrap().unwrap();
        assert_eq!(
            (files.cert.to_str(), files.key.to_str()),
            (Some("gw.crt"), Some("gw.key"))
        );
        c.gateway_tls_cert = None;
        assert!(c.gateway_tls().is_err());
    }

    #[test]
    fn trusted_proxies_are_cidr_lists() {
        let mut c = super::Config::from_env();
        c.trusted_proxies = super::list(" 10.0.0.0/8, ,::1 ");
        assert_eq!(c.trusted_proxies, ["10.0.0.0/8", "::1"]);
        let m = c.trusted_proxies().unwrap();
        assert!(m.matches("10.1.2.3".parse().unwrap()) && !m.matches("11.0.0.1".parse().unwrap()));
        c.trusted_proxies = super::list("10.0.0.0/33");
        assert!(
            c.trusted_proxies()
                .unwrap_err()
                .starts_with("TOLLGATE_TRUSTED_PROXIES")
        );
        c.trusted_proxies = super::list("");
        assert!(
            !c.trusted_proxies()
                .unwrap()
                .matches("127.0.0.1".parse().unwrap())
        );
    }

    /// cargo-leptos reads `[[workspace.metadata.leptos]]` in Cargo.toml; the server reads
    /// Leptos.toml when it runs alone. Every setting in Leptos.toml must match Cargo.toml.
    #[test]
    fn leptos_toml_agrees_with_cargo_toml() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let leptos: toml::Table = std::fs::read_to_string(root.join("Leptos.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let from_cargo = cargo["workspace"]["metadata"]["leptos"][0]
            .as_table()
            .unwrap();
        let from_leptos = leptos["package"]["metadata"]["leptos"].as_table().unwrap();
        assert!(!from_leptos.is_empty());
        for (key, value) in from_leptos {
            assert_eq!(
                Some(value),
                from_cargo.get(key),
                "Leptos.toml's `{key}` differs from Cargo.toml's [[workspace.metadata.leptos]]"
            );
        }
        for key in ["output-name", "site-root", "site-pkg-dir", "site-addr"] {
            assert!(from_leptos.contains_key(key), "Leptos.toml lacks `{key}`");
        }
    }
}
