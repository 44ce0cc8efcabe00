//! Small in-memory stores of a node: responses kept by the Caching Resources policy (at most
//! [`MAX_ENTRIES`] and [`MAX_TOTAL`] bytes, emptied when the snapshot changes), and BASIC
//! authentication credentials already checked (argon2 is deliberately slow: a node checks each
//! password once, on its own few threads, so that a flood of wrong passwords can neither pin
//! every core nor delay sign-ins to the management UI).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Responses kept at most.
const MAX_ENTRIES: usize = 10_000;
/// Largest body kept.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// All kept bodies together at most.
pub(crate) const MAX_TOTAL: usize = 64 << 20;
/// Checked credentials (right and wrong) kept at most.
const MAX_CREDENTIALS: usize = 10_000;

/// Whether a backend response may be kept for other requests of the same caller: its size is
/// known and small, and it is not personal (`Set-Cookie`, `Cache-Control: private` or
/// `no-store`) nor varies on more than its encoding.
pub(crate) fn storable(headers: &HeaderMap) -> bool {
    use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, SET_COOKIE, VARY};
    let small = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n <= MAX_BODY);
    let personal = headers.contains_key(SET_COOKIE)
        || headers.get_all(CACHE_CONTROL).iter().any(|v| {
            let v = v.to_str().unwrap_or("").to_ascii_lowercase();
            v.contains("private") || v.contains("no-store")
        });
    let varies = headers.get_all(VARY).iter().any(|v| {
        v.to_str()
            .unwrap_or("*")
            .split(',')
            .any(|name| !name.trim().eq_ignore_ascii_case("accept-encoding"))
    });
    small && !personal && !varies
}

/// A stored response.
#[derive(Clone)]
pub(crate) struct Cached {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    expires: Instant,
}

#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<(HashMap<String, Cached>, usize)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Cache {
    pub fn get(&self, key: &str) -> Option<Cached> {
        let mut guard = lock(&self.entries);
        let (entries, total) = &mut *guard;
        match entries.get(key) {
            Some(c) if c.expires > Instant::now() => Some(c.clone()),
            Some(_) => {
                if let Some(old) = entries.remove(key) {
                    *total -= old.body.len();
                }
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: String, status: StatusCode, headers: HeaderMap, body: Bytes, ttl: u32) {
        let mut guard = lock(&self.entries);
        let (entries, total) = &mut *guard;
        if entries.len() >= MAX_ENTRIES || *total + body.len() > MAX_TOTAL {
            let now = Instant::now();
            entries.retain(|_, c| c.expires > now);
            *total = entries.values().map(|c| c.body.len()).sum();
            if entries.len() >= MAX_ENTRIES || *total + body.len() > MAX_TOTAL {
                return;
            }
        }
        *total += body.len();
        if let Some(old) = entries.insert(
            key,
            Cached {
                status,
                headers,
                body,
                expires: Instant::now() + Duration::from_secs(u64::from(ttl)),
            },
        ) {
            *total -= old.body.len();
        }
    }

    pub fn clear(&self) {
        let mut guard = lock(&self.entries);
        guard.0.clear();
        guard.1 = 0;
    }

    pub fn evict_expired(&self) {
        let now = Instant::now();
        let mut guard = lock(&self.entries);
        let (entries, total) = &mut *guard;
        entries.retain(|_, c| c.expires > now);
        *total = entries.values().map(|c| c.body.len()).sum();
    }
}

/// SHA-256 digests of (stored hash, password) pairs already checked, with the outcome.
pub(crate) struct VerifiedCredentials {
    checked: Mutex<HashMap<[u8; 32], bool>>,
    /// The gateway's own argon2 threads (half the cores, at least one).
    permits: tokio::sync::Semaphore,
}

impl Default for VerifiedCredentials {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        VerifiedCredentials {
            checked: Mutex::new(HashMap::new()),
            permits: tokio::sync::Semaphore::new((cores / 2).max(1)),
        }
    }
}

fn digest(hash: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(hash.as_bytes());
    h.update([0]);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl VerifiedCredentials {
    /// Whether the pair was checked and is right.
    pub fn contains(&self, hash: &str, password: &str) -> bool {
        lock(&self.checked)
            .get(&digest(hash, password))
            .copied()
            .unwrap_or(false)
    }

    /// Checks the pair against its argon2 hash unless it was checked before.
    pub async fn verify(&self, hash: &str, password: &str) {
        let key = digest(hash, password);
        if lock(&self.checked).contains_key(&key) {
            return;
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return;
        };
        let (h, p) = (hash.to_owned(), password.to_owned());
        let ok = tokio::task::spawn_blocking(move || {
            use argon2::{PasswordHash, PasswordVerifier};
            PasswordHash::new(&h).is_ok_and(|parsed| {
                argon2::Argon2::default()
                    .verify_password(p.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        self.insert(key, ok);
    }

    fn insert(&self, key: [u8; 32], ok: bool) {
        let mut checked = lock(&self.checked);
        if checked.len() >= MAX_CREDENTIALS {
            checked.clear();
        }
        checked.insert(key, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_responses_expire() {
        let c = Cache::default();
        c.put(
            "k".into(),
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(b"x"),
            60,
        );
        assert_eq!(c.get("k").unwrap().body, Bytes::from_static(b"x"));
        c.put(
            "old".into(),
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::new(),
            0,
        );
        assert!(c.get("old").is_none());
        c.clear();
        assert!(c.get("k").is_none());
    }

    #[tokio::test]
    async fn credentials_are_checked_once_by_digest() {
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::encode_b64(b"tollgate-salt-16").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"secret", &salt)
            .unwrap()
            .to_string();
        let v = VerifiedCredentials::default();
        assert!(!v.contains(&hash, "secret"));
        v.verify(&hash, "secret").await;
        v.verify(&hash, "wrong").await;
        assert!(v.contains(&hash, "secret"));
        assert!(!v.contains(&hash, "wrong"));
        v.verify("not a hash", "secret").await;
        assert!(!v.contains("not a hash", "secret"));
    }

    #[test]
    fn personal_or_unsized_responses_are_not_stored() {
        let mut h = HeaderMap::new();
        assert!(!storable(&h), "unknown size");
        h.insert("content-length", "10".parse().unwrap());
        assert!(storable(&h));
        h.insert("vary", "Accept-Encoding".parse().unwrap());
        assert!(storable(&h));
        let mut personal = h.clone();
        personal.insert("set-cookie", "a=b".parse().unwrap());
        assert!(!storable(&personal));
        let mut private = h.clone();
        private.insert("cache-control", "max-age=60, private".parse().unwrap());
        assert!(!storable(&private));
        h.insert("vary", "Authorization".parse().unwrap());
        assert!(!storable(&h));
    }
}
