//! Small in-memory stores of a node: responses kept by the Caching Resources policy, and BASIC
//! authentication credentials already verified (argon2 is deliberately slow; a node checks each
//! user's password once per snapshot, not once per request). Both are bounded and emptied when
//! the snapshot changes.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Responses kept at most.
const MAX_ENTRIES: usize = 10_000;
/// Largest body kept.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// Verified credentials kept at most.
const MAX_CREDENTIALS: usize = 10_000;

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
    entries: Mutex<HashMap<String, Cached>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Cache {
    pub fn get(&self, key: &str) -> Option<Cached> {
        let mut entries = lock(&self.entries);
        match entries.get(key) {
            Some(c) if c.expires > Instant::now() => Some(c.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: String, status: StatusCode, headers: HeaderMap, body: Bytes, ttl: u32) {
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, c| c.expires > now);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(
            key,
            Cached {
                status,
                headers,
                body,
                expires: Instant::now() + Duration::from_secs(u64::from(ttl)),
            },
        );
    }

    pub fn clear(&self) {
        lock(&self.entries).clear();
    }

    pub fn evict_expired(&self) {
        let now = Instant::now();
        lock(&self.entries).retain(|_, c| c.expires > now);
    }
}

/// SHA-256 digests of (stored hash, password) pairs that verified.
#[derive(Default)]
pub(crate) struct VerifiedCredentials {
    ok: Mutex<HashSet<[u8; 32]>>,
}

fn digest(hash: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(hash.as_bytes());
    h.update([0]);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl VerifiedCredentials {
    pub fn contains(&self, hash: &str, password: &str) -> bool {
        lock(&self.ok).contains(&digest(hash, password))
    }

    pub fn insert(&self, hash: &str, password: &str) {
        let mut ok = lock(&self.ok);
        if ok.len() >= MAX_CREDENTIALS {
            ok.clear();
        }
        ok.insert(digest(hash, password));
    }

    pub fn clear(&self) {
        lock(&self.ok).clear();
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

    #[test]
    fn credentials_are_remembered_by_digest() {
        let v = VerifiedCredentials::default();
        assert!(!v.contains("$argon2id$x", "secret"));
        v.insert("$argon2id$x", "secret");
        assert!(v.contains("$argon2id$x", "secret"));
        assert!(!v.contains("$argon2id$x", "other"));
    }
}
