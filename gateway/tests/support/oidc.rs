//! A real OpenID provider for the JWT tests: `tests/oidc/provider.mjs` (the npm package
//! `oidc-provider`) in a Node process on a loopback port. Its dependencies are installed with
//! `npm ci` when missing (`scripts/test.sh` installs them too). Without Node the tests are
//! skipped locally, but fail when `CI` is set.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;

use super::{HttpClient, http, send};

/// The folder of the provider's script.
fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether this is a CI run, where a missing tool is a failure.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Installs the provider's npm dependencies once (tests of one binary run in parallel).
fn install() -> Result<(), String> {
    static ONCE: Mutex<bool> = Mutex::new(false);
    let mut done = ONCE.lock().unwrap_or_else(|p| p.into_inner());
    if *done
        || dir()
            .join("node_modules/oidc-provider/package.json")
            .exists()
    {
        *done = true;
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir())
        .status()
        .map_err(|e| format!("npm: {e}"))?;
    if !status.success() {
        return Err(format!("npm ci failed: {status}"));
    }
    *done = true;
    Ok(())
}

/// A running provider; stopped when dropped.
pub struct Provider {
    pub issuer: String,
    child: Child,
    http: HttpClient,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts a provider, or `None` when Node is not installed outside CI (the caller then
    /// skips). In CI, a missing Node or a provider that does not start fails the test.
    pub fn start() -> Option<Provider> {
        let node = Command::new("node").arg("--version").output();
        if !node.is_ok_and(|o| o.status.success()) {
            assert!(
                !in_ci(),
                "node is not installed: the JWT tests need it to run oidc-provider"
            );
            eprintln!("SKIPPED: node is not installed (these tests fail instead when CI is set)");
            return None;
        }
        install().unwrap();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node provider.mjs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(issuer) = v["issuer"].as_str()
                {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let issuer = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the OpenID provider did not start within 60 s");
        Some(Provider {
            issuer,
            child,
            http: http(),
        })
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    async fn post(&self, path: &str, form: &str) -> serde_json::Value {
        let req = Request::post(format!("{}{path}", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        let answer = send(&self.http, req).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.text);
        answer.body
    }

    /// An access token (a JWT) for `client` through the client_credentials grant, for the
    /// audience `resource`.
    pub async fn token(&self, client: &str, resource: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={client}&client_secret=secret-{client}&scope=read&resource={resource}"
        );
        let body = self.post("/token", &form).await;
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Signs with a new key from now on; `keep` keeps the old one in the JWKS. Returns the
    /// new kid.
    pub async fn rotate(&self, keep: bool) -> String {
        let path = format!("/admin/rotate?keep={}", u8::from(keep));
        self.post(&path, "").await["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Makes the JWKS URL answer 503 (`down`) or answer again.
    pub async fn set_down(&self, down: bool) {
        self.post(if down { "/admin/down" } else { "/admin/up" }, "")
            .await;
    }
}

/// The `kid` of a JWT's header.
pub fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes = domain::policy::decode_base64url(header).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    header["kid"].as_str().unwrap_or("").to_owned()
}
