//! Small in-memory stores of a node: a least-recently-used map ([`Lru`], also used by the
//! limit counters), responses kept by the Caching Resources policy (at most [`MAX_ENTRIES`] and
//! [`MAX_TOTAL`] bytes, emptied when the snapshot changes), and BASIC authentication
//! credentials already checked (argon2 is deliberately slow: a node checks each password once,
//! on its own few threads, so that a flood of wrong passwords can neither pin every core nor
//! delay sign-ins to the management UI; a check that cannot start within
//! [`PasswordChecks::wait`] answers 503).

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, StatusCode};
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

/// A map that keeps at most `cap` entries: inserting one more drops the least recently used.
pub(crate) struct Lru<K, V> {
    map: HashMap<K, (V, u64)>,
    /// Last use → key, oldest first.
    order: BTreeMap<u64, K>,
    tick: u64,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(cap: usize) -> Self {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            cap: cap.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The value of `key`, now the most recently used.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.tick += 1;
        let (value, used) = self.map.get_mut(key)?;
        if let Some(k) = self.order.remove(used) {
            self.order.insert(self.tick, k);
        }
        *used = self.tick;
        Some(value)
    }

    /// The value of `key`, inserted with `make` if missing (dropping the least recently used
    /// entry when full); now the most recently used.
    pub fn get_or_insert_with(&mut self, key: &K, make: impl FnOnce() -> V) -> &mut V {
        use std::collections::hash_map::Entry;
        if self.map.len() >= self.cap
            && !self.map.contains_key(key)
            && let Some((_, oldest)) = self.order.pop_first()
        {
            self.map.remove(&oldest);
        }
        self.tick += 1;
        let tick = self.tick;
        self.order.insert(tick, key.clone());
        match self.map.entry(key.clone()) {
            Entry::Occupied(o) => {
                let (value, used) = o.into_mut();
                self.order.remove(used);
                *used = tick;
                value
            }
            Entry::Vacant(v) => &mut v.insert((make(), tick)).0,
        }
    }

    /// Sets `key` to `value`, replacing what it held (dropping the least recently used entry
    /// when full); now the most recently used.
    pub fn insert(&mut self, key: K, value: V) {
        let mut value = Some(value);
        let slot = self.get_or_insert_with(&key, || value.take().expect("taken once"));
        if let Some(value) = value {
            *slot = value;
        }
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let order = &mut self.order;
        self.map.retain(|k, (v, used)| {
            let kept = keep(k, v);
            if !kept {
                order.remove(used);
            }
            kept
        });
    }

    /// Every entry, without changing their order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, (v, _))| (k, v))
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }
}

/// The header names a response varies on (lower case, sorted); `None` for `Vary: *`, which
/// no cache may answer for.
fn vary_names(headers: &HeaderMap) -> Option<Vec<HeaderName>> {
    let mut names = Vec::new();
    for value in headers.get_all(axum::http::header::VARY) {
        for name in value.to_str().unwrap_or("*").split(',') {
            let name = name.trim();
            if name == "*" {
                return None;
            }
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                names.push(n);
            }
        }
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    names.dedup();
    Some(names)
}

/// Whether a backend response may be kept for other requests of the same caller: its size is
/// known and small, it is not personal (`Set-Cookie`, `Cache-Control: private` or `no-store`),
/// and it does not vary on everything (`Vary: *`).
pub(crate) fn storable(headers: &HeaderMap) -> bool {
    use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, SET_COOKIE};
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
    small && !personal && vary_names(headers).is_some()
}

/// What a cached response is kept for: the policy, the API version, the caller (client
/// version, BASIC user, and the `Authorization` header when the policy caches such requests),
/// the method, the path and the query.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CacheKey<'a> {
    pub policy: i32,
    pub api: i32,
    pub client: Option<i32>,
    pub user: Option<&'a str>,
    pub authorization: Option<&'a [u8]>,
    pub method: &'a str,
    pub rest: &'a str,
    pub query: Option<&'a str>,
}

impl CacheKey<'_> {
    /// Its SHA-256. Each part is length-prefixed (a missing one differs from an empty one), so
    /// no two requests share a key by a trick of separators.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut part = |bytes: Option<&[u8]>| match bytes {
            Some(b) => {
                h.update((b.len() as u64).to_le_bytes());
                h.update(b);
            }
            None => h.update(u64::MAX.to_le_bytes()),
        };
        part(Some(&self.policy.to_le_bytes()));
        part(Some(&self.api.to_le_bytes()));
        part(self.client.map(i32::to_le_bytes).as_ref().map(|b| &b[..]));
        part(self.user.map(str::as_bytes));
        part(self.authorization);
        part(Some(self.method.as_bytes()));
        part(Some(self.rest.as_bytes()));
        part(self.query.map(str::as_bytes));
        h.finalize().into()
    }
}

/// The values of the `vary` headers in a request, hashed.
fn vary_key(vary: &[HeaderName], request: &HeaderMap) -> [u8; 32] {
    let mut h = Sha256::new();
    for name in vary {
        let values: Vec<_> = request.get_all(name).iter().collect();
        h.update((values.len() as u64).to_le_bytes());
        for v in values {
            h.update((v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
    }
    h.finalize().into()
}

/// A stored response.
#[derive(Clone)]
pub(crate) struct Cached {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    expires: Instant,
}

/// The responses kept for one request key: the header names they vary on, and one response
/// per combination of those headers' values.
struct Variants {
    vary: Vec<HeaderName>,
    by_values: HashMap<[u8; 32], Cached>,
}

#[derive(Default)]
struct Store {
    entries: HashMap<[u8; 32], Variants>,
    /// Responses kept (every variant counts).
    count: usize,
    /// Their bodies' bytes.
    total: usize,
}

impl Store {
    fn drop_expired(&mut self) {
        let now = Instant::now();
        let (mut count, mut total) = (0, 0);
        self.entries.retain(|_, v| {
            v.by_values.retain(|_, c| c.expires > now);
            count += v.by_values.len();
            total += v.by_values.values().map(|c| c.body.len()).sum::<usize>();
            !v.by_values.is_empty()
        });
        (self.count, self.total) = (count, total);
    }
}

#[derive(Default)]
pub(crate) struct Cache {
    store: Mutex<Store>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Cache {
    /// The live response kept for `key` and a request with these headers.
    pub fn get(&self, key: &[u8; 32], request: &HeaderMap) -> Option<Cached> {
        let mut store = lock(&self.store);
        let variants = store.entries.get_mut(key)?;
        let values = vary_key(&variants.vary, request);
        let hit = variants.by_values.get(&values)?;
        if hit.expires > Instant::now() {
            return Some(hit.clone());
        }
        let gone = variants.by_values.remove(&values);
        let empty = variants.by_values.is_empty();
        if let Some(old) = gone {
            store.count -= 1;
            store.total -= old.body.len();
        }
        if empty {
            store.entries.remove(key);
        }
        None
    }

    /// Keeps a response for `key` and the request's values of the headers the response varies
    /// on (never one with `Vary: *`). A response that varies on other headers than those kept
    /// for the key so far replaces them.
    pub fn put(
        &self,
        key: [u8; 32],
        request: &HeaderMap,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        ttl: u32,
    ) {
        let Some(vary) = vary_names(&headers) else {
            return;
        };
        let mut store = lock(&self.store);
        if store.count >= MAX_ENTRIES || store.total + body.len() > MAX_TOTAL {
            store.drop_expired();
            if store.count >= MAX_ENTRIES || store.total + body.len() > MAX_TOTAL {
                return;
            }
        }
        let values = vary_key(&vary, request);
        let store = &mut *store;
        let variants = store.entries.entry(key).or_insert_with(|| Variants {
            vary: vary.clone(),
            by_values: HashMap::new(),
        });
        if variants.vary != vary {
            for old in variants.by_values.drain() {
                store.count -= 1;
                store.total -= old.1.body.len();
            }
            variants.vary = vary;
        }
        store.count += 1;
        store.total += body.len();
        let cached = Cached {
            status,
            headers,
            body,
            expires: Instant::now() + Duration::from_secs(u64::from(ttl)),
        };
        if let Some(old) = variants.by_values.insert(values, cached) {
            store.count -= 1;
            store.total -= old.body.len();
        }
    }

    pub fn clear(&self) {
        *lock(&self.store) = Store::default();
    }

    pub fn evict_expired(&self) {
        lock(&self.store).drop_expired();
    }
}

/// How a node checks BASIC authentication passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChecks {
    /// argon2 checks at a time (default: half the cores, at least one).
    pub threads: usize,
    /// How long a request waits for a check to start before it is answered 503 (code 10016).
    /// Default 2 s.
    pub wait: Duration,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordChecks {
            threads: (cores / 2).max(1),
            wait: Duration::from_secs(2),
        }
    }
}

/// No password check could start within [`PasswordChecks::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy;

/// SHA-256 digests of (user, stored hash, password) already checked, with the outcome; the
/// least recently used give way first.
pub(crate) struct VerifiedCredentials {
    checked: Mutex<Lru<[u8; 32], bool>>,
    /// The gateway's own argon2 threads.
    permits: tokio::sync::Semaphore,
    wait: Duration,
    /// argon2 checks run so far.
    hashed: AtomicU64,
}

impl Default for VerifiedCredentials {
    fn default() -> Self {
        Self::new(PasswordChecks::default())
    }
}

/// The user is part of the digest: unknown users all share the dummy hash, and one of them
/// must not answer faster because another tried the same password.
fn digest(user: &str, hash: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [user, hash, password] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

impl VerifiedCredentials {
    pub fn new(checks: PasswordChecks) -> Self {
        Self::with_capacity(checks, MAX_CREDENTIALS)
    }

    fn with_capacity(checks: PasswordChecks, cap: usize) -> Self {
        VerifiedCredentials {
            checked: Mutex::new(Lru::new(cap)),
            permits: tokio::sync::Semaphore::new(checks.threads),
            wait: checks.wait,
            hashed: AtomicU64::new(0),
        }
    }

    /// Whether the triple was checked and is right.
    pub fn contains(&self, user: &str, hash: &str, password: &str) -> bool {
        lock(&self.checked)
            .get_mut(&digest(user, hash, password))
            .is_some_and(|ok| *ok)
    }

    /// How many argon2 checks this node has run.
    #[cfg(test)]
    pub fn hashed(&self) -> u64 {
        self.hashed.load(Ordering::Relaxed)
    }

    /// Takes a hashing thread away, as a long check would (tests).
    #[cfg(test)]
    pub async fn occupy(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.permits.acquire().await.unwrap()
    }

    /// Checks `user`'s password against `hash` (their stored argon2 hash, or the dummy one for
    /// an unknown user) unless it was checked before. [`Busy`] when no check could start within
    /// the configured wait.
    pub async fn verify(&self, user: &str, hash: &str, password: &str) -> Result<(), Busy> {
        let key = digest(user, hash, password);
        if lock(&self.checked).contains_key(&key) {
            return Ok(());
        }
        let _permit = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(Busy),
        };
        self.hashed.fetch_add(1, Ordering::Relaxed);
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
        lock(&self.checked).insert(key, ok);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn cached_responses_expire() {
        let c = Cache::default();
        let none = HeaderMap::new();
        c.put(
            key(1),
            &none,
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(b"x"),
            60,
        );
        assert_eq!(
            c.get(&key(1), &none).unwrap().body,
            Bytes::from_static(b"x")
        );
        c.put(
            key(2),
            &none,
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::new(),
            0,
        );
        assert!(c.get(&key(2), &none).is_none());
        c.clear();
        assert!(c.get(&key(1), &none).is_none());
    }

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn responses_are_kept_per_value_of_the_headers_they_vary_on() {
        let c = Cache::default();
        let vary = request(&[("vary", "Accept-Language, accept")]);
        let fr = request(&[("accept-language", "fr"), ("accept", "*/*")]);
        let en = request(&[("accept-language", "en"), ("accept", "*/*")]);
        c.put(
            key(1),
            &fr,
            StatusCode::OK,
            vary.clone(),
            Bytes::from_static(b"bonjour"),
            60,
        );
        assert_eq!(
            c.get(&key(1), &fr).unwrap().body,
            Bytes::from_static(b"bonjour")
        );
        assert!(
            c.get(&key(1), &en).is_none(),
            "another language is another response"
        );
        assert!(c.get(&key(1), &HeaderMap::new()).is_none());
        c.put(
            key(1),
            &en,
            StatusCode::OK,
            vary,
            Bytes::from_static(b"hello"),
            60,
        );
        assert_eq!(
            c.get(&key(1), &en).unwrap().body,
            Bytes::from_static(b"hello")
        );
        assert_eq!(
            c.get(&key(1), &fr).unwrap().body,
            Bytes::from_static(b"bonjour")
        );
        // Vary: * is never kept.
        let star = request(&[("vary", "accept, *")]);
        c.put(
            key(2),
            &fr,
            StatusCode::OK,
            star,
            Bytes::from_static(b"x"),
            60,
        );
        assert!(c.get(&key(2), &fr).is_none());
    }

    #[test]
    fn cache_keys_tell_callers_and_api_versions_apart() {
        let base = CacheKey {
            policy: 1,
            api: 2,
            client: Some(3),
            method: "GET",
            rest: "/a",
            query: Some("q=1"),
            ..CacheKey::default()
        };
        let others = [
            CacheKey { api: 9, ..base },
            CacheKey {
                client: Some(4),
                ..base
            },
            CacheKey {
                client: None,
                ..base
            },
            CacheKey {
                user: Some("ann"),
                ..base
            },
            CacheKey {
                authorization: Some(b"Bearer a"),
                ..base
            },
            CacheKey {
                query: None,
                ..base
            },
            CacheKey {
                query: Some(""),
                ..base
            },
            CacheKey {
                method: "HEAD",
                ..base
            },
        ];
        for other in others {
            assert_ne!(base.digest(), other.digest(), "{other:?}");
        }
        let ann = CacheKey {
            user: Some("ann"),
            ..base
        };
        assert_ne!(
            ann.digest(),
            CacheKey {
                user: Some("bob"),
                ..base
            }
            .digest()
        );
        let a = CacheKey {
            authorization: Some(b"Bearer a"),
            ..base
        };
        assert_ne!(
            a.digest(),
            CacheKey {
                authorization: Some(b"Bearer b"),
                ..base
            }
            .digest()
        );
        assert_eq!(base.digest(), CacheKey { ..base }.digest());
    }

    #[test]
    fn lru_drops_the_least_recently_used_one_at_a_time() {
        let mut lru: Lru<&str, u32> = Lru::new(3);
        for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
            *lru.get_or_insert_with(&k, || v) = v;
        }
        // "a" is used again: "b" is now the oldest.
        assert_eq!(lru.get_mut("a").copied(), Some(1));
        lru.get_or_insert_with(&"d", || 4);
        assert_eq!(lru.len(), 3);
        assert!(!lru.contains_key("b"));
        for k in ["a", "c", "d"] {
            assert!(lru.contains_key(k), "{k}");
        }
        // An existing key is not a new entry.
        assert_eq!(*lru.get_or_insert_with(&"c", || 99), 3);
        assert_eq!(lru.len(), 3);
        lru.get_or_insert_with(&"e", || 5);
        assert!(
            !lru.contains_key("a"),
            "a was the oldest after c and d were used"
        );
        lru.retain(|k, _| *k != "c");
        assert_eq!(lru.len(), 2);
        lru.get_or_insert_with(&"f", || 6);
        lru.get_or_insert_with(&"g", || 7);
        assert!(!lru.contains_key("d"));
        assert_eq!(lru.len(), 3);
    }

    fn argon2_hash(password: &str) -> String {
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::encode_b64(b"tollgate-salt-16").unwrap();
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn credentials_are_checked_once_by_digest() {
        let hash = argon2_hash("secret");
        let v = VerifiedCredentials::default();
        assert!(!v.contains("ann", &hash, "secret"));
        v.verify("ann", &hash, "secret").await.unwrap();
        v.verify("ann", &hash, "wrong").await.unwrap();
        assert_eq!(v.hashed(), 2);
        assert!(v.contains("ann", &hash, "secret"));
        assert!(!v.contains("ann", &hash, "wrong"));
        v.verify("ann", &hash, "secret").await.unwrap();
        assert_eq!(v.hashed(), 2, "checked once");
        // Another user with the same hash and password is checked on its own.
        v.verify("eve", &hash, "secret").await.unwrap();
        assert_eq!(v.hashed(), 3);
        v.verify("ann", "not a hash", "secret").await.unwrap();
        assert!(!v.contains("ann", "not a hash", "secret"));
    }

    #[tokio::test]
    async fn checked_credentials_give_way_one_at_a_time() {
        let hash = argon2_hash("secret");
        let v = VerifiedCredentials::with_capacity(PasswordChecks::default(), 2);
        v.verify("ann", &hash, "secret").await.unwrap();
        v.verify("ann", &hash, "wrong-1").await.unwrap();
        // ann's right password is used again, so the wrong one is the oldest.
        assert!(v.contains("ann", &hash, "secret"));
        v.verify("ann", &hash, "wrong-2").await.unwrap();
        assert!(v.contains("ann", &hash, "secret"), "not emptied when full");
        assert_eq!(lock(&v.checked).len(), 2);
        v.verify("ann", &hash, "wrong-1").await.unwrap();
        assert_eq!(v.hashed(), 4, "the dropped one is checked again");
    }

    #[tokio::test]
    async fn a_check_that_cannot_start_in_time_is_busy() {
        let hash = argon2_hash("secret");
        let checks = PasswordChecks {
            threads: 1,
            wait: Duration::from_millis(20),
        };
        let v = VerifiedCredentials::new(checks);
        let held = v.permits.acquire().await.unwrap();
        assert_eq!(v.verify("ann", &hash, "secret").await, Err(Busy));
        assert_eq!(v.hashed(), 0);
        drop(held);
        assert_eq!(v.verify("ann", &hash, "secret").await, Ok(()));
        assert!(v.contains("ann", &hash, "secret"));
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
        // Varying on a header is kept per value of it; varying on everything is not kept.
        h.insert("vary", "Authorization".parse().unwrap());
        assert!(storable(&h));
        h.insert("vary", "*".parse().unwrap());
        assert!(!storable(&h));
    }
}
