//! Where the gateway is reached from outside: its public base URL, set once at start-up from
//! the configuration, used to show each API version's endpoint.

use std::sync::OnceLock;

static PUBLIC_URL: OnceLock<String> = OnceLock::new();

/// The default when nothing is configured: the gateway's default listener.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Sets the public base URL (first call wins; later calls are ignored).
pub fn set_public_url(url: &str) {
    let _ = PUBLIC_URL.set(url.trim_end_matches('/').to_owned());
}

/// The gateway URL of an API version: `{base}/{org}/{api}/{version}`.
pub fn api_url(org_id: &str, api_id: &str, version: &str) -> String {
    let base = PUBLIC_URL.get().map_or(DEFAULT_PUBLIC_URL, String::as_str);
    format!("{base}/{org_id}/{api_id}/{version}")
}
