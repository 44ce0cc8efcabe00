//! The server secret and what it protects: API keys are never stored in plain text.
//!
//! - The gateway looks a key up by its HMAC-SHA-256 under a lookup key ([`Keyring::lookup`]).
//! - For display, the key is sealed with AES-256-GCM under an encryption key
//!   ([`Keyring::seal`], [`Keyring::open`]); the lookup digest is the associated data, so a
//!   sealed key copied to another row does not open.
//! - Other secrets that must be read back (JWT Validation's HS256 shared secret) are sealed
//!   the same way under a context of their own ([`Keyring::seal_for`], [`Keyring::open_for`]).
//!
//! Both keys are derived from one 256-bit secret: `TOLLGATE_SECRET_KEY` (64 hex characters), or
//! else the key file `data/secret.key` (`TOLLGATE_SECRET_KEY_FILE`), generated with mode 0600 on
//! first start. The database remembers a check value of the secret ([`Keyring::check`]): a
//! server started with another secret refuses to start instead of refusing every key.
//!
//! The keyring is process-wide ([`install`]): migrations, service functions and the gateway all
//! use the one loaded at start.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The environment variable that holds the secret (64 hex characters).
pub const SECRET_KEY_VAR: &str = "TOLLGATE_SECRET_KEY";
/// The key file used when [`SECRET_KEY_VAR`] is not set.
pub const DEFAULT_KEY_FILE: &str = "data/secret.key";

/// The keys derived from the server secret.
pub struct Keyring {
    lookup: HmacSha256,
    cipher: Aes256Gcm,
    check: String,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

fn derive(secret: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"tollgate/v1/");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Keyring {
    pub fn new(secret: &[u8; 32]) -> Self {
        let lookup = <HmacSha256 as Mac>::new_from_slice(&derive(secret, "api-key-lookup"))
            .expect("HMAC takes any key length");
        let cipher = Aes256Gcm::new(&derive(secret, "api-key-seal").into());
        Self {
            lookup,
            cipher,
            check: hex::encode(derive(secret, "check")),
        }
    }

    /// The HMAC-SHA-256 of an API key: how the database and the gateway find it.
    pub fn lookup(&self, key: &str) -> [u8; 32] {
        let mut mac = self.lookup.clone();
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// [`Self::lookup`] as the database stores it (lower-case hex).
    pub fn lookup_hex(&self, key: &str) -> String {
        hex::encode(self.lookup(key))
    }

    /// The key sealed for display, bound to `lookup_hex` (the row's lookup) as associated data.
    pub fn seal(&self, key: &str, lookup_hex: &str) -> String {
        self.seal_for(key, lookup_hex)
    }

    /// The key [`Self::seal`] sealed, if it opens under this secret and belongs to `lookup_hex`.
    pub fn open(&self, sealed: &str, lookup_hex: &str) -> Option<String> {
        let key = self.open_for(sealed, lookup_hex)?;
        (self.lookup_hex(&key) == lookup_hex).then_some(key)
    }

    /// `plain` sealed with AES-256-GCM: hex of a random 96-bit nonce followed by the ciphertext
    /// and its tag. `context` is bound as associated data, so the value opens only where it
    /// was sealed (an API key's row, a policy's shared secret).
    pub fn seal_for(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any text of this size");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        hex::encode(out)
    }

    /// What [`Self::seal_for`] sealed under `context`, if it opens under this secret.
    pub fn open_for(&self, sealed: &str, context: &str) -> Option<String> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// A value derived from the secret that reveals nothing of it: the database keeps it, so
    /// that a server started with another secret notices.
    pub fn check(&self) -> &str {
        &self.check
    }
}

static KEYRING: OnceLock<Arc<Keyring>> = OnceLock::new();

/// Makes `keyring` the process's keyring. The first call wins: later ones return the keyring
/// already installed (tests share one per process).
pub fn install(keyring: Keyring) -> Arc<Keyring> {
    KEYRING.get_or_init(|| Arc::new(keyring)).clone()
}

/// The installed keyring.
pub fn keyring() -> Result<Arc<Keyring>, String> {
    KEYRING.get().cloned().ok_or_else(|| {
        "the server secret is not loaded (call service::secrets::install first)".to_owned()
    })
}

/// Parses a secret written as 64 hex characters.
pub fn parse_secret(text: &str) -> Result<[u8; 32], String> {
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| {
        format!(
            "{SECRET_KEY_VAR} must be 64 hexadecimal characters (32 random bytes), e.g. from \
             `openssl rand -hex 32`"
        )
    })?;
    Ok(secret)
}

/// Where the secret came from, for the startup log (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Environment,
    KeyFile(String),
    NewKeyFile(String),
}

/// The server secret: from `env` (the value of [`SECRET_KEY_VAR`]) when set, else from the key
/// file at `path`, which is created (mode 0600, with its folder) when missing.
pub fn load_or_create(env: Option<&str>, path: &Path) -> Result<([u8; 32], Source), String> {
    if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
        return Ok((parse_secret(value)?, Source::Environment));
    }
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = parse_secret(&text)
                .map_err(|_| format!("the key file {shown} must hold 64 hexadecimal characters"))?;
            warn_if_readable_by_others(path);
            Ok((secret, Source::KeyFile(shown)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            write_key_file(path, &secret).map_err(|e| format!("cannot create {shown}: {e}"))?;
            Ok((secret, Source::NewKeyFile(shown)))
        }
        Err(e) => Err(format!("cannot read the key file {shown}: {e}")),
    }
}

fn write_key_file(path: &Path, secret: &[u8; 32]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", hex::encode(secret)).as_bytes())?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the key file can be read by other users of this machine: chmod 600 it"
            );
        }
    }
}

/// The platform setting that holds [`Keyring::check`].
pub(crate) const CHECK_SETTING: &str = "secret_key_check";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_for_their_row_and_secret() {
        let ring = Keyring::new(&[7; 32]);
        let key = "0b6c1f36-0d41-4c3c-9a52-1e0f3b2ea1b2";
        let lookup = ring.lookup_hex(key);
        let sealed = ring.seal(key, &lookup);
        assert!(!sealed.contains(key));
        assert_ne!(sealed, ring.seal(key, &lookup), "a fresh nonce every time");
        assert_eq!(ring.open(&sealed, &lookup).as_deref(), Some(key));
        assert_eq!(ring.open(&sealed, &ring.lookup_hex("another key")), None);
        assert_eq!(Keyring::new(&[8; 32]).open(&sealed, &lookup), None);
        assert_eq!(ring.open("zz", &lookup), None);
        assert_eq!(ring.open(&sealed[..40], &lookup), None);
    }

    #[test]
    fn lookups_depend_on_the_secret() {
        let a = Keyring::new(&[1; 32]);
        let b = Keyring::new(&[2; 32]);
        assert_eq!(a.lookup("k"), a.lookup("k"));
        assert_ne!(a.lookup("k"), b.lookup("k"));
        assert_ne!(a.lookup("k"), a.lookup("K"));
        assert_ne!(a.check(), b.check());
        assert_eq!(a.check().len(), 64);
    }

    #[test]
    fn the_secret_comes_from_the_environment_or_a_private_key_file() {
        let dir = std::env::temp_dir().join(format!("tollgate-secret-{}", uuid::Uuid::new_v4()));
        let path = dir.join("data/secret.key");
        let hexed = "11".repeat(32);
        let (s, source) = load_or_create(Some(&hexed), &path).unwrap();
        assert_eq!((s, source), ([0x11; 32], Source::Environment));
        assert!(!path.exists());
        assert!(load_or_create(Some("not hex"), &path).is_err());

        let (created, source) = load_or_create(None, &path).unwrap();
        assert!(matches!(source, Source::NewKeyFile(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = load_or_create(Some(" "), &path).unwrap();
        assert_eq!(again, created);
        assert!(matches!(source, Source::KeyFile(_)));
        std::fs::write(&path, "short").unwrap();
        assert!(
            load_or_create(None, &path)
                .unwrap_err()
                .contains("64 hexadecimal")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
