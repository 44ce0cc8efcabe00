//! JWT Validation in the gateway: the signature check (`jsonwebtoken`, on the ring the TLS
//! stack already uses) with the policy's keys, and the JWKS cache. The rules on the header and
//! the claims are `domain::policy::JwtRules`.
//!
//! Keys:
//! - static PEM or JWK keys and the HS256 secret come from the policy;
//! - a JWKS URL is fetched with the node's own client (the same connector as backends, so the
//!   same network rules apply), at most 1 MiB within 5 s. The set is cached per URL and fetched
//!   again when a token names a `kid` it lacks or when it is older than [`MAX_AGE`], at most
//!   once per [`Jwks::min_refresh`] (30 s by default). When the URL is down, the last good set
//!   serves. Without any good set yet, a token cannot be checked: 502,
//!   `FailureCode::BackendFailed`.
//!
//! A key is only ever used with an algorithm of its own kind (RSA with RS*, EC P-256 with
//! ES256, …; the shared secret with HS256 only), so a public key can never serve as an HMAC
//! secret.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use domain::policy::{
    DecodedToken, JwtAlgorithm, JwtRefusal, JwtRules, KeyFamily, KeySource, StaticKey,
};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// How long a fetched key set is used before it is fetched again (when next needed).
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// The default for [`Jwks::min_refresh`].
pub const MIN_REFRESH: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_JWKS_BYTES: usize = 1 << 20;
/// The usable keys of a JWKS kept at most (a token without `kid` is tried against each).
const MAX_JWKS_KEYS: usize = 20;

/// The kind of a key, as far as it is known (a PEM EC key does not say its curve here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    Ec(Option<&'static str>),
    Ed25519,
    Hmac,
}

impl Kind {
    fn serves(self, alg: JwtAlgorithm) -> bool {
        match (self, alg.family()) {
            (Kind::Rsa, KeyFamily::Rsa)
            | (Kind::Ed25519, KeyFamily::Ed25519)
            | (Kind::Hmac, KeyFamily::Hmac)
            | (Kind::Ec(None), KeyFamily::Ec(_)) => true,
            (Kind::Ec(Some(have)), KeyFamily::Ec(want)) => have == want,
            _ => false,
        }
    }
}

/// A key that verifies signatures.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    kid: Option<String>,
    /// The JWK's `alg`, if it names one: the key serves that algorithm only.
    alg: Option<String>,
    kind: Kind,
    key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// A public JWK (RSA, EC P-256/P-384, OKP Ed25519); `None` for others (symmetric keys,
    /// encryption keys, private members, other curves).
    pub(crate) fn from_jwk(jwk: &Value) -> Option<VerifyKey> {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        if text("use").is_some_and(|u| u != "sig") || jwk.get("d").is_some() {
            return None;
        }
        let (kind, key) = match text("kty")? {
            "RSA" => (
                Kind::Rsa,
                DecodingKey::from_rsa_components(text("n")?, text("e")?).ok()?,
            ),
            "EC" => {
                let crv = match text("crv")? {
                    "P-256" => "P-256",
                    "P-384" => "P-384",
                    _ => return None,
                };
                let key = DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?;
                (Kind::Ec(Some(crv)), key)
            }
            "OKP" if text("crv")? == "Ed25519" => (
                Kind::Ed25519,
                DecodingKey::from_ed_components(text("x")?).ok()?,
            ),
            _ => return None,
        };
        Some(VerifyKey {
            kid: text("kid").map(str::to_owned),
            alg: text("alg").map(str::to_owned),
            kind,
            key,
        })
    }

    /// A public key PEM: RSA (SPKI or PKCS#1), EC or Ed25519 (SPKI).
    fn from_pem(pem: &str, kid: Option<&str>) -> Option<VerifyKey> {
        let bytes = pem.trim().as_bytes();
        let (kind, key) = if let Ok(k) = DecodingKey::from_rsa_pem(bytes) {
            (Kind::Rsa, k)
        } else if let Ok(k) = DecodingKey::from_ec_pem(bytes) {
            (Kind::Ec(None), k)
        } else {
            (Kind::Ed25519, DecodingKey::from_ed_pem(bytes).ok()?)
        };
        Some(VerifyKey {
            kid: kid.map(str::to_owned),
            alg: None,
            kind,
            key,
        })
    }

    fn from_static(key: &StaticKey) -> Option<VerifyKey> {
        let mut k = match (&key.pem, &key.jwk) {
            (Some(pem), _) => Self::from_pem(pem, None)?,
            (None, Some(jwk)) => Self::from_jwk(jwk)?,
            (None, None) => return None,
        };
        if key.kid.is_some() {
            k.kid.clone_from(&key.kid);
        }
        Some(k)
    }

    fn serves(&self, alg: JwtAlgorithm) -> bool {
        self.kind.serves(alg) && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
    }
}

fn algorithm(alg: JwtAlgorithm) -> Algorithm {
    match alg {
        JwtAlgorithm::RS256 => Algorithm::RS256,
        JwtAlgorithm::RS384 => Algorithm::RS384,
        JwtAlgorithm::RS512 => Algorithm::RS512,
        JwtAlgorithm::ES256 => Algorithm::ES256,
        JwtAlgorithm::ES384 => Algorithm::ES384,
        JwtAlgorithm::EdDSA => Algorithm::EdDSA,
        JwtAlgorithm::HS256 => Algorithm::HS256,
    }
}

/// Whether one of `keys` (of the algorithm's kind, and of the token's `kid` when both have one)
/// verifies the token's signature.
fn verified_by(keys: &[VerifyKey], token: &DecodedToken<'_>, alg: JwtAlgorithm) -> bool {
    let kid = token.kid();
    keys.iter()
        .filter(|k| k.serves(alg))
        .filter(|k| match (kid, k.kid.as_deref()) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        })
        .any(|k| {
            jsonwebtoken::crypto::verify(
                token.signature,
                token.signing_input.as_bytes(),
                &k.key,
                algorithm(alg),
            )
            .unwrap_or(false)
        })
}

/// Why a token was not accepted.
#[derive(Debug, PartialEq)]
pub(crate) enum Rejection {
    /// The token's fault: 401.
    Token(JwtRefusal),
    /// No key set could be had from the JWKS URL yet.
    KeysUnavailable,
}

impl From<JwtRefusal> for Rejection {
    fn from(r: JwtRefusal) -> Self {
        Rejection::Token(r)
    }
}

/// The claims of the request's bearer token once its signature and claims pass, at `now`
/// (Unix seconds), and the token's SHA-256. The signature is checked once per
/// [`VERIFIED_FOR`] for a token of this policy ([`VerifiedTokens`]); the claims at every
/// request.
pub(crate) async fn verify(
    gw: &crate::Gateway,
    snapshot: i64,
    policy: i32,
    rules: &JwtRules,
    headers: &HeaderMap,
    now: i64,
) -> Result<(Value, [u8; 32]), Rejection> {
    let raw = JwtRules::bearer_token(headers)?;
    let digest: [u8; 32] = {
        use sha2::Digest;
        sha2::Sha256::digest(raw.as_bytes()).into()
    };
    let seen = Instant::now();
    if let Some((claims, set)) = gw.verified_tokens.get(snapshot, policy, &digest, seen) {
        // A token verified by a fetched key set stays verified while that set serves: a
        // fetch that drops its key refuses it from then on.
        let still = match (&set, rules.keys()) {
            (None, _) => true,
            (Some(set), KeySource::Jwks(url)) => gw
                .jwks
                .current(url)
                .is_some_and(|now| Arc::ptr_eq(&now, set)),
            (Some(_), _) => false,
        };
        if still {
            rules.check_claims(&claims, now)?;
            return Ok((claims, digest));
        }
    }
    let token = DecodedToken::parse(raw)?;
    let alg = rules.check_header(&token.header)?;
    let mut by_set = None;
    let ok = if alg == JwtAlgorithm::HS256 {
        let secret = rules.shared_secret().map(|s| VerifyKey {
            kid: None,
            alg: None,
            kind: Kind::Hmac,
            key: DecodingKey::from_secret(s.expose()),
        });
        verified_by(secret.as_slice(), &token, alg)
    } else {
        match rules.keys() {
            KeySource::Static(keys) => {
                let keys: Vec<_> = keys.iter().filter_map(VerifyKey::from_static).collect();
                verified_by(&keys, &token, alg)
            }
            KeySource::Jwks(url) => {
                let keys = gw
                    .jwks
                    .keys(url, token.kid(), Instant::now(), || fetch(gw, url))
                    .await
                    .ok_or(Rejection::KeysUnavailable)?;
                let ok = verified_by(&keys, &token, alg);
                by_set = Some(keys);
                ok
            }
            KeySource::None => false,
        }
    };
    if !ok {
        return Err(JwtRefusal::BadSignature.into());
    }
    if raw.len() <= MAX_REMEMBERED_TOKEN {
        let entry = Remembered {
            at: seen,
            snapshot,
            claims: token.claims.to_string().into(),
            set: by_set,
        };
        gw.verified_tokens.insert(policy, digest, entry);
    }
    rules.check_claims(&token.claims, now)?;
    Ok((token.claims, digest))
}

/// JWT Validation on a request: the token's claims and the caller for cache keys
/// (`jwt:` and the SHA-256 of the token, so that cached answers stay the token's own), with the
/// claim headers set and `Authorization` stripped as configured; or the refusal to answer.
pub(crate) async fn enforce(
    gw: &crate::Gateway,
    snapshot: i64,
    policy: i32,
    rules: &JwtRules,
    headers: &mut HeaderMap,
    now: i64,
) -> Result<(Value, String), axum::response::Response> {
    let (claims, digest) = verify(gw, snapshot, policy, rules, headers, now)
        .await
        .map_err(|r| match r {
            Rejection::Token(refusal) => crate::errors::policy_failure(&rules.failure(&refusal)),
            Rejection::KeysUnavailable => crate::errors::failure(
                domain::FailureCode::BackendFailed,
                "The identity provider's keys cannot be fetched right now.",
            ),
        })?;
    let caller = format!("jwt:{}", hex(&digest));
    rules.apply(&claims, headers);
    Ok((claims, caller))
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// How long a token whose signature verified skips the signature check (its claims are still
/// checked at each request). No longer than a JWKS is trusted without a fetch allowed anyway.
pub(crate) const VERIFIED_FOR: Duration = MIN_REFRESH;
/// Verified tokens kept at most (the least recently used give way first).
const MAX_VERIFIED: usize = 10_000;
/// The longest token remembered, in bytes (longer ones are checked each time), so that the
/// memory [`VerifiedTokens`] takes stays bounded (about 40 MiB at most: each keeps the claims'
/// text, shorter than the token).
const MAX_REMEMBERED_TOKEN: usize = 4 * 1024;

/// Tokens whose signature verified lately, by policy and SHA-256 of the token, with their
/// claims. Only tokens with a good signature get in, so a stranger cannot fill it with
/// garbage; it is emptied whenever the snapshot changes, since a policy's keys may have.
pub(crate) struct VerifiedTokens {
    seen: Mutex<Seen>,
}

/// A token whose signature verified.
struct Remembered {
    at: Instant,
    /// The version of the snapshot whose policy verified it: only requests served by that
    /// snapshot use it (a request that began before a change must not vouch for after it).
    snapshot: i64,
    /// As JSON text, read again on each use: the text is no larger than the token, while a
    /// parsed `Value` can take many times that.
    claims: Box<str>,
    /// The fetched key set that verified it (none for static keys and the shared secret,
    /// which only change with the snapshot).
    set: Option<Arc<Vec<VerifyKey>>>,
}

/// (policy id, SHA-256 of the token) → the token's verification.
type Seen = crate::cache::Lru<(i32, [u8; 32]), Remembered>;

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self {
            seen: Mutex::new(crate::cache::Lru::new(MAX_VERIFIED)),
        }
    }
}

impl VerifiedTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The claims of a token of `policy` in `snapshot` verified less than [`VERIFIED_FOR`]
    /// before `now`, and the fetched key set that verified it.
    fn get(
        &self,
        snapshot: i64,
        policy: i32,
        digest: &[u8; 32],
        now: Instant,
    ) -> Option<(Value, Option<Arc<Vec<VerifyKey>>>)> {
        let (claims, set) = {
            let mut seen = self.lock();
            let r = seen.get_mut(&(policy, *digest))?;
            if r.snapshot != snapshot || now.saturating_duration_since(r.at) >= VERIFIED_FOR {
                return None;
            }
            (r.claims.clone(), r.set.clone())
        };
        Some((serde_json::from_str(&claims).ok()?, set))
    }

    fn insert(&self, policy: i32, digest: [u8; 32], entry: Remembered) {
        self.lock().insert((policy, digest), entry);
    }

    /// Forgets every token (the snapshot changed).
    pub(crate) fn clear(&self) {
        self.lock().retain(|_, _| false);
    }
}

/// Fetches a JWKS with the node's client: the usable keys, or why not.
async fn fetch(gw: &crate::Gateway, url: &str) -> Result<Vec<VerifyKey>, String> {
    let request = Request::get(url)
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(FETCH_TIMEOUT, gw.client.request(request))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    if response.status() != StatusCode::OK {
        return Err(format!("answered {}", response.status()));
    }
    let body = tokio::time::timeout(
        FETCH_TIMEOUT,
        http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES).collect(),
    )
    .await
    .map_err(|_| "timed out".to_owned())?
    .map_err(|e| e.to_string())?
    .to_bytes();
    parse_jwks(&body)
}

/// The usable signing keys of a JWKS document (the first [`MAX_JWKS_KEYS`]); an error when
/// there are none.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyKey>, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let keys: Vec<_> = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?
        .iter()
        .filter_map(VerifyKey::from_jwk)
        .take(MAX_JWKS_KEYS)
        .collect();
    if keys.is_empty() {
        return Err("no usable signing key".to_owned());
    }
    Ok(keys)
}

/// One URL's key set.
#[derive(Default)]
struct Entry {
    state: Mutex<State>,
    /// Held while fetching: one fetch per URL at a time.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<Vec<VerifyKey>>>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

impl State {
    /// Whether a fetch is due at `now` for a token naming `kid`, and allowed.
    fn due(&self, kid: Option<&str>, now: Instant, min_refresh: Duration) -> bool {
        let needed = match &self.keys {
            None => true,
            Some(keys) => {
                self.fetched
                    .is_none_or(|t| now.saturating_duration_since(t) >= MAX_AGE)
                    || kid.is_some_and(|kid| !keys.iter().any(|k| k.kid.as_deref() == Some(kid)))
            }
        };
        needed
            && self
                .attempted
                .is_none_or(|t| now.saturating_duration_since(t) >= min_refresh)
    }
}

/// The JWKS cache of a node, by URL.
pub(crate) struct Jwks {
    sets: Mutex<HashMap<String, Arc<Entry>>>,
    /// The shortest time between two fetches of one URL.
    min_refresh: Duration,
}

impl Jwks {
    pub(crate) fn new(min_refresh: Duration) -> Self {
        Self {
            sets: Mutex::new(HashMap::new()),
            min_refresh,
        }
    }

    fn entry(&self, url: &str) -> Arc<Entry> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        sets.entry(url.to_owned()).or_default().clone()
    }

    /// The key set of `url` as it is now, without fetching.
    pub(crate) fn current(&self, url: &str) -> Option<Arc<Vec<VerifyKey>>> {
        let entry = {
            let sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
            sets.get(url)?.clone()
        };
        let state = entry.state.lock().unwrap_or_else(|p| p.into_inner());
        state.keys.clone()
    }

    /// The key set of `url` for a token naming `kid`: fetched with `fetch` when due (none
    /// yet, too old, or `kid` unknown) and allowed (not within `min_refresh` of the last
    /// attempt); the last good set when the fetch fails; `None` when there never was one.
    pub(crate) async fn keys<F, Fut>(
        &self,
        url: &str,
        kid: Option<&str>,
        now: Instant,
        fetch: F,
    ) -> Option<Arc<Vec<VerifyKey>>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<VerifyKey>, String>>,
    {
        let entry = self.entry(url);
        fn lock(e: &Entry) -> std::sync::MutexGuard<'_, State> {
            e.state.lock().unwrap_or_else(|p| p.into_inner())
        }
        {
            let state = lock(&entry);
            if !state.due(kid, now, self.min_refresh) {
                return state.keys.clone();
            }
        }
        let _one_at_a_time = entry.fetching.lock().await;
        // Another request may have fetched while this one waited.
        {
            let mut state = lock(&entry);
            if !state.due(kid, now, self.min_refresh) {
                return state.keys.clone();
            }
            state.attempted = Some(now);
        }
        let fetched = fetch().await;
        let mut state = lock(&entry);
        match fetched {
            Ok(keys) => {
                tracing::debug!(%url, keys = keys.len(), "JWKS fetched");
                state.keys = Some(Arc::new(keys));
                state.fetched = Some(now);
            }
            Err(error) => {
                tracing::warn!(%url, %error, "JWKS fetch failed; the last good key set serves");
            }
        }
        state.keys.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const RSA_A: &str = include_str!("../testdata/rsa-a.key");
    const RSA_A_PUB: &str = include_str!("../testdata/rsa-a.pub");
    const RSA_A_PKCS1_PUB: &str = include_str!("../testdata/rsa-a.pkcs1.pub");
    const RSA_B: &str = include_str!("../testdata/rsa-b.key");
    const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

    fn rules(config: Value) -> JwtRules {
        let config = domain::policy::PolicyConfig::parse("jwt", &config.to_string()).unwrap();
        match domain::policy::Compiled::compile(&config).unwrap() {
            domain::policy::Compiled::Jwt(r) => r,
            _ => unreachable!(),
        }
    }

    fn claims() -> Value {
        json!({"sub": "ann", "exp": chrono::Utc::now().timestamp() + 60})
    }

    fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    async fn check(rules: &JwtRules, token: &str) -> Result<Value, Rejection> {
        let gw = crate::Gateway::new(service::gateway::GatewaySnapshot::default());
        verify(
            &gw,
            1,
            1,
            rules,
            &bearer(token),
            chrono::Utc::now().timestamp(),
        )
        .await
        .map(|(claims, _)| claims)
    }

    /// A generated EC or Ed25519 key pair: the signing key, the public PEM and the public JWK.
    fn generated(alg: &'static rcgen::SignatureAlgorithm) -> (EncodingKey, String, Value) {
        let pair = rcgen::KeyPair::generate_for(alg).unwrap();
        let raw = pair.public_key_raw();
        let (signing, jwk) = if alg == &rcgen::PKCS_ED25519 {
            (
                EncodingKey::from_ed_der(&pair.serialize_der()),
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(raw)}),
            )
        } else {
            let half = (raw.len() - 1) / 2;
            let crv = if half == 32 { "P-256" } else { "P-384" };
            (
                EncodingKey::from_ec_der(&pair.serialize_der()),
                json!({"kty": "EC", "crv": crv, "x": B64.encode(&raw[1..=half]), "y": B64.encode(&raw[1 + half..])}),
            )
        };
        (signing, pair.public_key_pem(), jwk)
    }

    #[tokio::test]
    async fn every_algorithm_signs_and_verifies_and_a_wrong_key_fails() {
        let rsa_a = EncodingKey::from_rsa_pem(RSA_A.as_bytes()).unwrap();
        let rsa_b = EncodingKey::from_rsa_pem(RSA_B.as_bytes()).unwrap();
        for (alg, name) in [
            (Algorithm::RS256, "RS256"),
            (Algorithm::RS384, "RS384"),
            (Algorithm::RS512, "RS512"),
        ] {
            for public in [RSA_A_PUB, RSA_A_PKCS1_PUB] {
                let r = rules(json!({"staticKeys": [{"pem": public}], "algorithms": [name]}));
                let token = sign(alg, None, &rsa_a, &claims());
                assert_eq!(check(&r, &token).await.unwrap()["sub"], "ann", "{name}");
                let wrong = sign(alg, None, &rsa_b, &claims());
                assert_eq!(
                    check(&r, &wrong).await,
                    Err(Rejection::Token(JwtRefusal::BadSignature)),
                    "{name}"
                );
            }
        }
        for (alg, name, generate) in [
            (Algorithm::ES256, "ES256", &rcgen::PKCS_ECDSA_P256_SHA256),
            (Algorithm::ES384, "ES384", &rcgen::PKCS_ECDSA_P384_SHA384),
            (Algorithm::EdDSA, "EdDSA", &rcgen::PKCS_ED25519),
        ] {
            let (signing, pem, jwk) = generated(generate);
            let (other, _, _) = generated(generate);
            for key in [json!({"pem": pem}), json!({"jwk": jwk})] {
                let r = rules(json!({"staticKeys": [key], "algorithms": [name]}));
                let token = sign(alg, None, &signing, &claims());
                assert!(check(&r, &token).await.is_ok(), "{name} {key}");
                let wrong = sign(alg, None, &other, &claims());
                assert_eq!(
                    check(&r, &wrong).await,
                    Err(Rejection::Token(JwtRefusal::BadSignature)),
                    "{name}"
                );
            }
        }
        let r = rules(json!({"sharedSecret": SECRET, "algorithms": ["HS256"]}));
        let token = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(SECRET.as_bytes()),
            &claims(),
        );
        assert!(check(&r, &token).await.is_ok());
        let wrong = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(b"another-secret-another-secret-another"),
            &claims(),
        );
        assert_eq!(
            check(&r, &wrong).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
    }

    #[tokio::test]
    async fn a_verified_signature_is_remembered_per_policy_but_the_claims_are_checked_each_time() {
        let gw = crate::Gateway::new(service::gateway::GatewaySnapshot::default());
        let r = rules(json!({"sharedSecret": SECRET, "algorithms": ["HS256"]}));
        let exp = chrono::Utc::now().timestamp() + 60;
        let token = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(SECRET.as_bytes()),
            &json!({"sub": "ann", "exp": exp}),
        );
        let headers = bearer(&token);
        let (claims, digest) = verify(&gw, 1, 7, &r, &headers, exp - 10).await.unwrap();
        assert_eq!(claims["sub"], "ann");
        // The second check is a hit; expiry (beyond the 30 s leeway) still applies to it.
        assert_eq!(
            verify(&gw, 1, 7, &r, &headers, exp + 31).await,
            Err(Rejection::Token(JwtRefusal::Expired))
        );
        assert_eq!(
            verify(&gw, 1, 7, &r, &headers, exp - 5).await.unwrap().1,
            digest
        );
        // Another policy with another secret checks the signature itself.
        let other = rules(
            json!({"sharedSecret": "another-secret-another-secret-another", "algorithms": ["HS256"]}),
        );
        assert_eq!(
            verify(&gw, 1, 8, &other, &headers, exp - 5).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
        // The remembered signature belongs to policy 7's keys as they were: a new snapshot
        // (which may change them) forgets it.
        assert!(verify(&gw, 1, 7, &other, &headers, exp - 5).await.is_ok());
        gw.verified_tokens.clear();
        assert_eq!(
            verify(&gw, 1, 7, &other, &headers, exp - 5).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
        // A request served by another snapshot checks the signature itself.
        assert!(
            gw.verified_tokens
                .get(2, 7, &digest, Instant::now())
                .is_none()
        );
        // An entry lives VERIFIED_FOR at most.
        assert!(verify(&gw, 1, 7, &r, &headers, exp - 5).await.is_ok());
        let later = Instant::now() + VERIFIED_FOR;
        assert!(gw.verified_tokens.get(1, 7, &digest, later).is_none());
        assert!(
            gw.verified_tokens
                .get(1, 7, &digest, Instant::now())
                .is_some()
        );
    }

    #[tokio::test]
    async fn alg_none_and_algorithm_confusion_are_refused() {
        let r = rules(json!({"staticKeys": [{"pem": RSA_A_PUB}], "algorithms": ["RS256"]}));
        let body = B64.encode(claims().to_string());
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = B64.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
            for signature in ["", "c2ln"] {
                let token = format!("{header}.{body}.{signature}");
                assert_eq!(
                    check(&r, &token).await,
                    Err(Rejection::Token(JwtRefusal::AlgorithmRefused(alg.into()))),
                    "{token}"
                );
            }
        }
        // An HS256 token "signed" with the RSA public key as the secret: never accepted, even
        // by a policy that takes both.
        let both = rules(
            json!({"staticKeys": [{"pem": RSA_A_PUB}], "sharedSecret": SECRET, "algorithms": ["RS256", "HS256"]}),
        );
        let forged = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(RSA_A_PUB.as_bytes()),
            &claims(),
        );
        assert_eq!(
            check(&both, &forged).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
        // An RS256 policy refuses HS256 tokens outright.
        assert_eq!(
            check(&r, &forged).await,
            Err(Rejection::Token(JwtRefusal::AlgorithmRefused(
                "HS256".into()
            )))
        );
        // An ES256 key does not verify ES384, nor the reverse.
        let (p256, _, jwk256) = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
        let es = rules(json!({"staticKeys": [{"jwk": jwk256}], "algorithms": ["ES256", "ES384"]}));
        let good = sign(Algorithm::ES256, None, &p256, &claims());
        assert!(check(&es, &good).await.is_ok());
        let dot = good.find('.').unwrap();
        let relabelled = format!(
            "{}{}",
            B64.encode(json!({"alg": "ES384"}).to_string()),
            &good[dot..]
        );
        assert_eq!(
            check(&es, &relabelled).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
        // Missing and malformed tokens.
        let gw = crate::Gateway::new(service::gateway::GatewaySnapshot::default());
        assert_eq!(
            verify(&gw, 1, 1, &r, &HeaderMap::new(), 0).await,
            Err(Rejection::Token(JwtRefusal::Missing))
        );
        assert_eq!(
            check(&r, "not-a-jwt").await,
            Err(Rejection::Token(JwtRefusal::Malformed))
        );
    }

    #[tokio::test]
    async fn claims_are_checked_after_the_signature() {
        let rsa_a = EncodingKey::from_rsa_pem(RSA_A.as_bytes()).unwrap();
        let r = rules(
            json!({"staticKeys": [{"pem": RSA_A_PUB, "kid": "a"}], "algorithms": ["RS256"], "leewaySeconds": 0, "audience": "weather"}),
        );
        let now = chrono::Utc::now().timestamp();
        let expired = sign(
            Algorithm::RS256,
            Some("a"),
            &rsa_a,
            &json!({"exp": now - 1, "aud": "weather"}),
        );
        assert_eq!(
            check(&r, &expired).await,
            Err(Rejection::Token(JwtRefusal::Expired))
        );
        let other = sign(
            Algorithm::RS256,
            Some("a"),
            &rsa_a,
            &json!({"exp": now + 60, "aud": ["maps"]}),
        );
        assert_eq!(
            check(&r, &other).await,
            Err(Rejection::Token(JwtRefusal::WrongAudience))
        );
        // A kid the static keys do not have.
        let unknown = sign(
            Algorithm::RS256,
            Some("z"),
            &rsa_a,
            &json!({"exp": now + 60, "aud": "weather"}),
        );
        assert_eq!(
            check(&r, &unknown).await,
            Err(Rejection::Token(JwtRefusal::BadSignature))
        );
    }

    fn jwk_of(kid: &str) -> (EncodingKey, Value) {
        let (signing, _, mut jwk) = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("ES256");
        (signing, jwk)
    }

    #[test]
    fn jwks_documents_keep_their_usable_signing_keys() {
        let (_, a) = jwk_of("a");
        let doc = json!({"keys": [
            a,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB", "kid": "enc"},
            {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "kid": "p521"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["a", "rsa"]);
        assert!(parse_jwks(br#"{"keys": []}"#).is_err());
        assert!(parse_jwks(b"<html>").is_err());
        // A key whose JWK names an algorithm serves that one only.
        assert!(keys[0].serves(JwtAlgorithm::ES256));
        assert!(!keys[0].serves(JwtAlgorithm::ES384));
        assert!(keys[1].serves(JwtAlgorithm::RS512));
        assert!(!keys[1].serves(JwtAlgorithm::HS256));
    }

    #[tokio::test]
    async fn jwks_rotation_refreshes_on_an_unknown_kid_at_most_every_30_seconds() {
        let jwks = Jwks::new(MIN_REFRESH);
        let fetches = AtomicUsize::new(0);
        let (_, a) = jwk_of("a");
        let (_, b) = jwk_of("b");
        // What the URL serves: Ok(set) or Err (down).
        let served: Mutex<Result<Vec<Value>, String>> = Mutex::new(Ok(vec![a.clone()]));
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            served
                .lock()
                .unwrap()
                .clone()
                .map(|keys| keys.iter().filter_map(VerifyKey::from_jwk).collect())
        };
        let kids = |keys: Option<Arc<Vec<VerifyKey>>>| -> Vec<String> {
            keys.map(|k| k.iter().filter_map(|k| k.kid.clone()).collect())
                .unwrap_or_default()
        };
        let url = "https://idp/jwks";
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // The first token fetches; a known kid (or none) does not fetch again.
        assert_eq!(kids(jwks.keys(url, Some("a"), at(0), fetch).await), ["a"]);
        assert_eq!(kids(jwks.keys(url, Some("a"), at(1), fetch).await), ["a"]);
        assert_eq!(kids(jwks.keys(url, None, at(2), fetch).await), ["a"]);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // The provider rotates to b. Within 30 s of the last fetch an unknown kid does not
        // fetch; at 30 s it does.
        *served.lock().unwrap() = Ok(vec![a.clone(), b.clone()]);
        assert_eq!(kids(jwks.keys(url, Some("b"), at(29), fetch).await), ["a"]);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(
            kids(jwks.keys(url, Some("b"), at(30), fetch).await),
            ["a", "b"]
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // Unknown kids in a burst cost one fetch per 30 s.
        for s in 31..=60 {
            jwks.keys(url, Some("forged"), at(s), fetch).await;
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
        // The URL goes down: the last good set serves.
        *served.lock().unwrap() = Err("connection refused".into());
        assert_eq!(
            kids(jwks.keys(url, Some("c"), at(90), fetch).await),
            ["a", "b"]
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 4);
        assert_eq!(
            kids(jwks.keys(url, Some("a"), at(91), fetch).await),
            ["a", "b"]
        );
        // A set older than MAX_AGE (last fetched at 60) is fetched again when next used; still
        // down: still served.
        let later = 60 + MAX_AGE.as_secs();
        assert_eq!(
            kids(jwks.keys(url, Some("a"), at(later - 1), fetch).await),
            ["a", "b"]
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 4);
        assert_eq!(
            kids(jwks.keys(url, Some("a"), at(later), fetch).await),
            ["a", "b"]
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 5);
        // Back up, with b only.
        *served.lock().unwrap() = Ok(vec![b]);
        assert_eq!(
            kids(jwks.keys(url, Some("a"), at(later + 30), fetch).await),
            ["b"]
        );
        // A URL that never answered has no keys.
        let other = Jwks::new(MIN_REFRESH);
        *served.lock().unwrap() = Err("down".into());
        assert!(other.keys(url, None, at(0), fetch).await.is_none());
        assert!(other.keys(url, None, at(1), fetch).await.is_none());
        assert_eq!(fetches.load(Ordering::SeqCst), 7);
    }
}
