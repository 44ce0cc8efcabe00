//! JWT Validation: its configuration ([`Jwt`]), validation, and the pure checks on a token
//! ([`JwtRules`]): reading the bearer token, the algorithm of its header, `exp`/`nbf` with
//! leeway, issuer, audience, required claims, claim paths and the headers forwarded to the back
//! end. Signatures are verified by the gateway (no cryptography in this crate), which then calls
//! [`JwtRules::check_claims`] with the current time.
//!
//! Its refusals ([`JwtRefusal`]) answer 401 with `WWW-Authenticate: Bearer error="invalid_token"`
//! (RFC 6750) and a failure code each ([`JwtRefusal::code`], listed in [`FAILURES`]).

use std::fmt;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::check::{Errors, item, item_field};
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::{Category, Definition};
use crate::endpoint::EndpointUrl;

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "jwt",
    name: "JWT Validation",
    category: Category::Security,
    summary: "Requires a JSON Web Token signed by a trusted identity provider (OAuth 2 / OpenID Connect bearer tokens).",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[
    FailureCode::JwtMissing,
    FailureCode::JwtMalformed,
    FailureCode::JwtBadSignature,
    FailureCode::JwtExpired,
    FailureCode::JwtWrongIssuerOrAudience,
    FailureCode::JwtMissingClaim,
];

/// The most static keys a policy may list (a token without `kid` is tried against each).
const MAX_STATIC_KEYS: usize = 10;
/// The longest leeway accepted, in seconds.
const MAX_LEEWAY: u32 = 300;
/// The shortest HS256 shared secret, in bytes (RFC 7518 §3.2: at least the hash's size).
const MIN_SECRET_LEN: usize = 32;
/// The longest bearer token read, in bytes.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Headers a claim may not be forwarded into.
const RESERVED_HEADERS: [&str; 17] = [
    "authorization",
    "proxy-authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "cookie",
    "x-api-key",
    // What the gateway itself says about the request's way here.
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-real-ip",
    "forwarded",
    "via",
];

/// A secret that is never shown: its `Debug` prints `"***"`. It serialises as the plain string
/// (stored for the gateway; `service::policies` removes it from what the browser sees).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Secret {
    /// The secret's bytes, for the gateway's HMAC.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A public key given in the configuration: a PEM (`-----BEGIN PUBLIC KEY-----`, or `RSA
/// PUBLIC KEY`) or a JWK (RSA, EC P-256/P-384, OKP Ed25519), optionally named by `kid`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StaticKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Value>,
}

/// A claim a token must carry; with a `value`, the claim must equal it (or, for an array,
/// contain it). `name` is a claim path (see [`claim`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequiredClaim {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A claim (path) sent to the back end in a request header.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardClaim {
    pub claim: String,
    pub header: String,
}

/// JWT Validation.
///
/// Keys come from `jwksUrl` (fetched and cached by the gateway) or from `staticKeys`; HS256
/// tokens are checked with `sharedSecret`. `algorithms` lists what is accepted ("RS256",
/// "RS384", "RS512", "ES256", "ES384", "EdDSA", "HS256"); `none` never is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Jwt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_keys: Vec<StaticKey>,
    /// The HS256 key; write-only (never shown back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<Secret>,
    pub algorithms: Vec<String>,
    /// The `iss` a token must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Accepted audiences: the token's `aud` (a string or an array) must hold one of them.
    /// A single string is read as a list of one.
    #[serde(
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub audience: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds (at most 300).
    pub leeway_seconds: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_claims: Vec<RequiredClaim>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forward_claims: Vec<ForwardClaim>,
    /// Remove the `Authorization` header before the request goes on.
    pub strip_authorization: bool,
    /// The realm of `WWW-Authenticate: Bearer realm="…"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
}

impl Default for Jwt {
    fn default() -> Self {
        Self {
            jwks_url: None,
            static_keys: Vec::new(),
            shared_secret: None,
            algorithms: Vec::new(),
            issuer: None,
            audience: Vec::new(),
            leeway_seconds: 30,
            required_claims: Vec::new(),
            forward_claims: Vec::new(),
            strip_authorization: true,
            realm: None,
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// A signing algorithm JWT Validation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    Rsa,
    /// An EC key on this curve ("P-256", "P-384").
    Ec(&'static str),
    Ed25519,
    Hmac,
}

impl JwtAlgorithm {
    /// Every accepted algorithm.
    pub const ALL: [JwtAlgorithm; 7] = [
        JwtAlgorithm::RS256,
        JwtAlgorithm::RS384,
        JwtAlgorithm::RS512,
        JwtAlgorithm::ES256,
        JwtAlgorithm::ES384,
        JwtAlgorithm::EdDSA,
        JwtAlgorithm::HS256,
    ];

    /// The `alg` of a JOSE header ("RS256", …).
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::RS384 => "RS384",
            JwtAlgorithm::RS512 => "RS512",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::ES384 => "ES384",
            JwtAlgorithm::EdDSA => "EdDSA",
            JwtAlgorithm::HS256 => "HS256",
        }
    }

    /// The algorithm named exactly `alg` (JOSE names are case-sensitive).
    pub fn parse(alg: &str) -> Option<JwtAlgorithm> {
        JwtAlgorithm::ALL.into_iter().find(|a| a.as_str() == alg)
    }

    /// The kind of key it verifies with.
    pub fn family(self) -> KeyFamily {
        match self {
            JwtAlgorithm::RS256 | JwtAlgorithm::RS384 | JwtAlgorithm::RS512 => KeyFamily::Rsa,
            JwtAlgorithm::ES256 => KeyFamily::Ec("P-256"),
            JwtAlgorithm::ES384 => KeyFamily::Ec("P-384"),
            JwtAlgorithm::EdDSA => KeyFamily::Ed25519,
            JwtAlgorithm::HS256 => KeyFamily::Hmac,
        }
    }
}

/// Why a token was refused; [`JwtRules::failure`] turns it into the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtRefusal {
    Missing,
    Malformed,
    /// The header names an algorithm the policy does not accept (or `none`).
    AlgorithmRefused(String),
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    /// The claim (path) missing or with another value.
    MissingClaim(String),
}

impl JwtRefusal {
    /// The failure code (see the module's table).
    pub fn code(&self) -> FailureCode {
        match self {
            JwtRefusal::Missing => FailureCode::JwtMissing,
            JwtRefusal::Malformed | JwtRefusal::AlgorithmRefused(_) => FailureCode::JwtMalformed,
            JwtRefusal::BadSignature => FailureCode::JwtBadSignature,
            JwtRefusal::Expired | JwtRefusal::NotYetValid => FailureCode::JwtExpired,
            JwtRefusal::WrongIssuer | JwtRefusal::WrongAudience => {
                FailureCode::JwtWrongIssuerOrAudience
            }
            JwtRefusal::MissingClaim(_) => FailureCode::JwtMissingClaim,
        }
    }

    /// One sentence for the consumer.
    pub fn message(&self) -> String {
        match self {
            JwtRefusal::Missing => "A bearer token is required.".to_owned(),
            JwtRefusal::Malformed => "The bearer token is not a valid JWT.".to_owned(),
            JwtRefusal::AlgorithmRefused(alg) => {
                let alg: String = alg
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(20)
                    .collect();
                format!("Tokens signed with '{alg}' are not accepted.")
            }
            JwtRefusal::BadSignature => "The token's signature is not valid.".to_owned(),
            JwtRefusal::Expired => "The token has expired.".to_owned(),
            JwtRefusal::NotYetValid => "The token is not valid yet.".to_owned(),
            JwtRefusal::WrongIssuer => "The token was issued by another issuer.".to_owned(),
            JwtRefusal::WrongAudience => "The token is meant for another audience.".to_owned(),
            JwtRefusal::MissingClaim(name) => {
                format!("The token lacks the required claim '{name}'.")
            }
        }
    }
}

/// A token split into its parts, header and claims decoded (nothing verified yet).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedToken<'a> {
    pub header: Value,
    pub claims: Value,
    /// `base64url(header) . base64url(claims)`: what the signature signs.
    pub signing_input: &'a str,
    /// The third part, base64url.
    pub signature: &'a str,
}

impl<'a> DecodedToken<'a> {
    /// Splits and decodes a compact JWS: exactly three base64url parts, the first two JSON
    /// objects.
    pub fn parse(token: &'a str) -> Result<Self, JwtRefusal> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtRefusal::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(JwtRefusal::Malformed)?;
        let (header, claims) = signing_input.split_once('.').ok_or(JwtRefusal::Malformed)?;
        if signature.contains('.') || claims.contains('.') || decode_base64url(signature).is_none()
        {
            return Err(JwtRefusal::Malformed);
        }
        let object = |part: &str| -> Result<Value, JwtRefusal> {
            let bytes = decode_base64url(part).ok_or(JwtRefusal::Malformed)?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(JwtRefusal::Malformed),
            }
        };
        Ok(Self {
            header: object(header)?,
            claims: object(claims)?,
            signing_input,
            signature,
        })
    }

    /// The header's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// base64url without padding (RFC 7515 §2); `None` for anything else.
pub fn decode_base64url(input: &str) -> Option<Vec<u8>> {
    if input.len() % 4 == 1 {
        return None;
    }
    super::check::decode_sextets(input, b'-', b'_')
}

/// The value at a claim path: `sub`, `realm_access.roles`, `resource_access.my-app.roles`.
/// A key that itself contains dots (`https://example.com/roles`, a client `app.example`) is
/// found too: at each level the longest matching key wins.
pub fn claim<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    let segments: Vec<&str> = path.split('.').collect();
    lookup(claims, &segments)
}

fn lookup<'v>(value: &'v Value, segments: &[&str]) -> Option<&'v Value> {
    if segments.is_empty() {
        return Some(value);
    }
    let object = value.as_object()?;
    (1..=segments.len()).rev().find_map(|n| {
        let key = segments[..n].join(".");
        object.get(&key).and_then(|v| lookup(v, &segments[n..]))
    })
}

/// A claim as text for a header or a comparison: strings as they are, numbers and booleans
/// written out, arrays of those joined with ", " (an array with an item holding a comma has
/// none). Objects and null have no text.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // An item with a comma would read as two to a back end that splits the list.
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Array(_) => None,
                other => claim_text(other).filter(|t| !t.contains(',')),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(", ")),
        Value::Object(_) | Value::Null => None,
    }
}

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// Fetched from this URL by the gateway.
    Jwks(String),
    /// Given in the configuration.
    Static(Vec<StaticKey>),
    /// HS256 only: the shared secret.
    None,
}

/// Compiled JWT Validation.
#[derive(Debug, Clone)]
pub struct JwtRules {
    keys: KeySource,
    shared_secret: Option<Secret>,
    algorithms: Vec<JwtAlgorithm>,
    issuer: Option<String>,
    audience: Vec<String>,
    leeway: i64,
    required: Vec<RequiredClaim>,
    forward: Vec<(String, HeaderName)>,
    strip_authorization: bool,
    realm: Option<String>,
}

impl JwtRules {
    pub(crate) fn compile(config: &Jwt, errs: &mut Errors) -> Option<Self> {
        let mut algorithms = Vec::new();
        if config.algorithms.is_empty() {
            errs.add("algorithms", "Choose at least one algorithm.");
        }
        for (i, name) in config.algorithms.iter().enumerate() {
            match JwtAlgorithm::parse(name.trim()) {
                Some(a) if !algorithms.contains(&a) => algorithms.push(a),
                Some(_) => errs.add(item("algorithms", i), format!("{name} is listed twice.")),
                None if name.trim().eq_ignore_ascii_case("none") => errs.add(
                    item("algorithms", i),
                    "Unsigned tokens (alg none) are never accepted.",
                ),
                None => errs.add(
                    item("algorithms", i),
                    format!(
                        "'{name}' is not an accepted algorithm: use RS256, RS384, RS512, ES256, ES384, EdDSA or HS256."
                    ),
                ),
            }
        }
        let hs256 = algorithms.contains(&JwtAlgorithm::HS256);
        let asymmetric = algorithms.iter().any(|a| *a != JwtAlgorithm::HS256);

        let jwks = super::check::blank_to_none(config.jwks_url.as_deref());
        if let Some(url) = jwks
            && let Err(e) = EndpointUrl::parse(url)
        {
            errs.add("jwksUrl", e.message.replace("Endpoint URL", "The JWKS URL"));
        }
        if jwks.is_some() && !config.static_keys.is_empty() {
            errs.add(
                "staticKeys",
                "Use either a JWKS URL or static keys, not both.",
            );
        }
        if asymmetric && jwks.is_none() && config.static_keys.is_empty() {
            errs.add(
                "jwksUrl",
                "Enter the JWKS URL of the identity provider, or add a static key.",
            );
        }
        if config.static_keys.len() > MAX_STATIC_KEYS {
            errs.add("staticKeys", format!("Add at most {MAX_STATIC_KEYS} keys."));
        }
        for (i, key) in config.static_keys.iter().enumerate().take(MAX_STATIC_KEYS) {
            check_static_key(errs, i, key);
        }
        match &config.shared_secret {
            Some(s) if !hs256 && !s.0.is_empty() => errs.add(
                "sharedSecret",
                "A shared secret is only used for HS256: add HS256 or remove the secret.",
            ),
            Some(s) if hs256 && s.0.len() < MIN_SECRET_LEN => errs.add(
                "sharedSecret",
                "A shared secret for HS256 needs at least 32 characters.",
            ),
            None if hs256 => errs.add("sharedSecret", "Enter the shared secret for HS256."),
            _ => {}
        }

        let issuer = super::check::blank_to_none(config.issuer.as_deref()).map(str::to_owned);
        for (i, aud) in config.audience.iter().enumerate() {
            errs.ensure(
                !aud.trim().is_empty(),
                &item("audience", i),
                "Enter an audience, or remove this one.",
            );
        }
        errs.ensure(
            config.leeway_seconds <= MAX_LEEWAY,
            "leewaySeconds",
            "Allow at most 300 seconds of clock skew.",
        );
        for (i, c) in config.required_claims.iter().enumerate() {
            check_claim_path(errs, &item_field("requiredClaims", i, "name"), &c.name);
        }
        let mut forward = Vec::new();
        for (i, f) in config.forward_claims.iter().enumerate() {
            check_claim_path(errs, &item_field("forwardClaims", i, "claim"), &f.claim);
            let field = item_field("forwardClaims", i, "header");
            if let Some(name) = errs.header_name(&field, f.header.trim()) {
                if RESERVED_HEADERS.contains(&name.as_str()) {
                    errs.add(
                        field,
                        format!("A claim cannot be sent as {}.", f.header.trim()),
                    );
                } else {
                    forward.push((f.claim.trim().to_owned(), name));
                }
            }
        }
        let realm = super::check::blank_to_none(config.realm.as_deref()).map(str::trim);
        if let Some(r) = realm
            && (r.chars().count() > 100
                || r.contains('"')
                || !r.chars().all(|c| c == ' ' || c.is_ascii_graphic()))
        {
            errs.add(
                "realm",
                "A realm can have at most 100 letters, digits, spaces and punctuation other than \".",
            );
        }
        let keys = match jwks {
            Some(url) => KeySource::Jwks(url.trim().to_owned()),
            None if !config.static_keys.is_empty() => KeySource::Static(config.static_keys.clone()),
            None => KeySource::None,
        };
        Some(Self {
            keys,
            shared_secret: config.shared_secret.clone().filter(|_| hs256),
            algorithms,
            issuer,
            audience: config
                .audience
                .iter()
                .map(|a| a.trim().to_owned())
                .collect(),
            leeway: i64::from(config.leeway_seconds),
            required: config
                .required_claims
                .iter()
                .map(|c| RequiredClaim {
                    name: c.name.trim().to_owned(),
                    value: c.value.clone(),
                })
                .collect(),
            forward,
            strip_authorization: config.strip_authorization,
            realm: realm.map(str::to_owned),
        })
    }

    /// Where the keys come from.
    pub fn keys(&self) -> &KeySource {
        &self.keys
    }

    /// The HS256 secret, when HS256 is accepted.
    pub fn shared_secret(&self) -> Option<&Secret> {
        self.shared_secret.as_ref()
    }

    /// Whether `Authorization` is removed before the request goes on.
    pub fn strip_authorization(&self) -> bool {
        self.strip_authorization
    }

    /// The token of `Authorization: Bearer <token>` (scheme in any case).
    pub fn bearer_token(headers: &HeaderMap) -> Result<&str, JwtRefusal> {
        let value = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(JwtRefusal::Missing)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(JwtRefusal::Missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(JwtRefusal::Missing);
        }
        match token.trim() {
            "" => Err(JwtRefusal::Missing),
            t => Ok(t),
        }
    }

    /// The header's algorithm, if the policy accepts it. `none` (any case) never is, nor a
    /// header without `alg` or with critical extensions (`crit`).
    pub fn check_header(&self, header: &Value) -> Result<JwtAlgorithm, JwtRefusal> {
        // RFC 7515 §4.1.11: extensions marked critical must be understood; none are here.
        if header.get("crit").is_some() {
            return Err(JwtRefusal::Malformed);
        }
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        match JwtAlgorithm::parse(alg) {
            Some(a) if self.algorithms.contains(&a) => Ok(a),
            _ if alg.is_empty() => Err(JwtRefusal::Malformed),
            _ => Err(JwtRefusal::AlgorithmRefused(alg.to_owned())),
        }
    }

    /// The checks on verified claims at `now` (Unix seconds): `exp` (required) and `nbf` with
    /// the leeway, issuer, audience, then the required claims.
    pub fn check_claims(&self, claims: &Value, now: i64) -> Result<(), JwtRefusal> {
        let time = |name: &str| -> Result<Option<i64>, JwtRefusal> {
            match claims.get(name) {
                None => Ok(None),
                // NumericDate may have a fraction: a token is valid up to (not including) exp.
                Some(v) => v
                    .as_f64()
                    .map(|f| Some(f.floor() as i64))
                    .ok_or(JwtRefusal::Malformed),
            }
        };
        let exp = time("exp")?.ok_or_else(|| JwtRefusal::MissingClaim("exp".to_owned()))?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(JwtRefusal::Expired);
        }
        if let Some(nbf) = time("nbf")?
            && now.saturating_add(self.leeway) < nbf
        {
            return Err(JwtRefusal::NotYetValid);
        }
        if let Some(issuer) = &self.issuer
            && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Err(JwtRefusal::WrongIssuer);
        }
        if !self.audience.is_empty() {
            let matches = |v: &Value| {
                v.as_str()
                    .is_some_and(|a| self.audience.iter().any(|w| w == a))
            };
            let ok = match claims.get("aud") {
                Some(Value::Array(items)) => items.iter().any(matches),
                Some(v) => matches(v),
                None => false,
            };
            if !ok {
                return Err(JwtRefusal::WrongAudience);
            }
        }
        for required in &self.required {
            let found = claim(claims, &required.name);
            let ok = match (found, &required.value) {
                (None | Some(Value::Null), _) => false,
                (Some(_), None) => true,
                (Some(Value::Array(items)), Some(want)) => items
                    .iter()
                    .any(|i| claim_text(i).as_deref() == Some(want.as_str())),
                (Some(v), Some(want)) => claim_text(v).as_deref() == Some(want.as_str()),
            };
            if !ok {
                return Err(JwtRefusal::MissingClaim(required.name.clone()));
            }
        }
        Ok(())
    }

    /// The headers the back end gets from the claims: (header, value). A claim that is
    /// missing, an object, or not valid in a header sends nothing.
    pub fn forwarded(&self, claims: &Value) -> Vec<(HeaderName, HeaderValue)> {
        self.forward
            .iter()
            .filter_map(|(path, name)| {
                let text = claim_text(claim(claims, path)?)?;
                Some((name.clone(), HeaderValue::from_str(&text).ok()?))
            })
            .collect()
    }

    /// Sets the forwarded claim headers, first removing whatever the consumer sent under those
    /// names, and strips `Authorization` when configured.
    pub fn apply(&self, claims: &Value, headers: &mut HeaderMap) {
        for (_, name) in &self.forward {
            headers.remove(name);
        }
        for (name, value) in self.forwarded(claims) {
            headers.insert(name, value);
        }
        if self.strip_authorization {
            headers.remove(AUTHORIZATION);
        }
    }

    /// The refusal as the gateway answers it: 401 with `WWW-Authenticate: Bearer` (RFC 6750
    /// §3: `error="invalid_token"` unless the token is missing).
    pub fn failure(&self, refusal: &JwtRefusal) -> PolicyFailure {
        let message = refusal.message();
        let mut challenge = String::from("Bearer");
        if let Some(realm) = &self.realm {
            challenge.push_str(&format!(" realm=\"{realm}\""));
        }
        if *refusal != JwtRefusal::Missing {
            let sep = if self.realm.is_some() { "," } else { "" };
            challenge.push_str(&format!(
                "{sep} error=\"invalid_token\", error_description=\"{}\"",
                message.replace(['"', '\\'], "'")
            ));
        }
        PolicyFailure::new(refusal.code(), FailureType::Authentication, &message)
            .with_header("WWW-Authenticate", challenge)
    }
}

/// The one-line description: "Requires a JWT (RS256, ES256) with keys from https://…/jwks,
/// issuer https://…, audience weather". The shared secret is never part of it.
pub(crate) fn describe(c: &Jwt) -> String {
    let algorithms = c.algorithms.join(", ");
    let mut out = format!("Requires a JWT ({algorithms})");
    if let Some(url) = super::check::blank_to_none(c.jwks_url.as_deref()) {
        out.push_str(&format!(" with keys from {}", url.trim()));
    } else if !c.static_keys.is_empty() {
        let n = c.static_keys.len();
        out.push_str(&format!(
            " with {n} static {}",
            if n == 1 { "key" } else { "keys" }
        ));
    }
    if let Some(issuer) = super::check::blank_to_none(c.issuer.as_deref()) {
        out.push_str(&format!(", issuer {}", issuer.trim()));
    }
    if !c.audience.is_empty() {
        out.push_str(&format!(", audience {}", c.audience.join(" or ")));
    }
    if !c.required_claims.is_empty() {
        let names: Vec<&str> = c.required_claims.iter().map(|r| r.name.as_str()).collect();
        out.push_str(&format!(", claims {}", names.join(", ")));
    }
    out
}

/// A claim path: non-empty, no empty segment.
fn check_claim_path(errs: &mut Errors, field: &str, path: &str) {
    let path = path.trim();
    if path.is_empty() {
        errs.add(
            field,
            "Enter a claim name, such as sub or realm_access.roles.",
        );
    } else if path.split('.').any(str::is_empty) || path.chars().any(char::is_control) {
        errs.add(
            field,
            format!("'{path}' is not a claim path: separate names with single dots."),
        );
    }
}

fn check_static_key(errs: &mut Errors, i: usize, key: &StaticKey) {
    match (&key.pem, &key.jwk) {
        (Some(pem), None) => {
            let field = item_field("staticKeys", i, "pem");
            if let Err(message) = check_pem(pem) {
                errs.add(field, message);
            }
        }
        (None, Some(jwk)) => {
            let field = item_field("staticKeys", i, "jwk");
            if let Err(message) = check_jwk(jwk) {
                errs.add(field, message);
            }
        }
        (Some(_), Some(_)) => errs.add(
            item("staticKeys", i),
            "Give either a PEM or a JWK for this key, not both.",
        ),
        (None, None) => errs.add(
            item_field("staticKeys", i, "pem"),
            "Paste the public key (PEM) or give it as a JWK.",
        ),
    }
}

/// A public key PEM: `PUBLIC KEY` or `RSA PUBLIC KEY`, base64 inside.
fn check_pem(pem: &str) -> Result<(), String> {
    let pem = pem.trim();
    if pem.contains("PRIVATE KEY") {
        return Err("This is a private key: paste the public key instead.".to_owned());
    }
    let label = ["PUBLIC KEY", "RSA PUBLIC KEY"].into_iter().find(|l| {
        pem.starts_with(&format!("-----BEGIN {l}-----"))
            && pem.ends_with(&format!("-----END {l}-----"))
    });
    let Some(label) = label else {
        return Err(
            "Paste a PEM public key, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----."
                .to_owned(),
        );
    };
    let body: String = pem[format!("-----BEGIN {label}-----").len()
        ..pem.len() - format!("-----END {label}-----").len()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let standard: String = body
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    match decode_base64url(&standard) {
        Some(der) if der.len() >= 32 => Ok(()),
        _ => Err("The PEM's contents are not valid base64.".to_owned()),
    }
}

/// A public JWK: RSA (`n`, `e`), EC on P-256 or P-384 (`x`, `y`), or OKP Ed25519 (`x`).
fn check_jwk(jwk: &Value) -> Result<(), String> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .is_some_and(|v| decode_base64url(v).is_some_and(|b| !b.is_empty()))
    };
    let crv = jwk.get("crv").and_then(Value::as_str);
    if jwk.get("d").is_some() {
        return Err("This JWK holds a private key: give the public key only.".to_owned());
    }
    let ok = match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => member("n") && member("e"),
        Some("EC") => matches!(crv, Some("P-256" | "P-384")) && member("x") && member("y"),
        Some("OKP") => crv == Some("Ed25519") && member("x"),
        _ => {
            return Err("A JWK needs kty RSA, EC (P-256 or P-384) or OKP (Ed25519).".to_owned());
        }
    };
    if ok {
        Ok(())
    } else {
        Err(
            "The JWK lacks its public key members (n and e; crv, x and y; or crv and x)."
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(config: serde_json::Value) -> JwtRules {
        let config: Jwt = serde_json::from_value(config).unwrap();
        let mut errs = Errors::default();
        let compiled = JwtRules::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    fn errors(config: serde_json::Value) -> Vec<String> {
        let config: Jwt = serde_json::from_value(config).unwrap();
        let mut errs = Errors::default();
        let compiled = JwtRules::compile(&config, &mut errs);
        errs.finish(compiled)
            .map(|_| Vec::new())
            .unwrap_or_else(|e| e.into_iter().map(|e| e.field).collect())
    }

    fn basic() -> JwtRules {
        rules(json!({
            "jwksUrl": "https://idp.example.com/jwks",
            "algorithms": ["RS256", "ES256"],
            "issuer": "https://idp.example.com",
            "audience": ["weather", "maps"],
            "leewaySeconds": 10,
            "requiredClaims": [{"name": "tenant", "value": "acme"}, {"name": "realm_access.roles", "value": "user"}, {"name": "sub"}],
            "forwardClaims": [{"claim": "sub", "header": "X-User"}, {"claim": "realm_access.roles", "header": "X-Roles"}],
        }))
    }

    fn claims_at(exp: i64) -> Value {
        json!({
            "iss": "https://idp.example.com",
            "aud": "weather",
            "exp": exp,
            "sub": "ann",
            "tenant": "acme",
            "realm_access": {"roles": ["user", "admin"]},
        })
    }

    #[test]
    fn expiry_and_not_before_at_their_boundaries_with_leeway() {
        let r = basic();
        let exp = 1_000;
        // Leeway 10: valid up to exp + 10 (exclusive).
        assert_eq!(r.check_claims(&claims_at(exp), exp - 1), Ok(()));
        assert_eq!(r.check_claims(&claims_at(exp), exp + 9), Ok(()));
        assert_eq!(
            r.check_claims(&claims_at(exp), exp + 10),
            Err(JwtRefusal::Expired)
        );
        let mut c = claims_at(exp);
        c["nbf"] = json!(500);
        assert_eq!(r.check_claims(&c, 490), Ok(()));
        assert_eq!(r.check_claims(&c, 489), Err(JwtRefusal::NotYetValid));
        // A fractional NumericDate counts from its second.
        c["exp"] = json!(1000.7);
        assert_eq!(r.check_claims(&c, 1009), Ok(()));
        assert_eq!(r.check_claims(&c, 1010), Err(JwtRefusal::Expired));
        // Without leeway.
        let strict = rules(
            json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"], "leewaySeconds": 0}),
        );
        assert_eq!(strict.check_claims(&json!({"exp": 100}), 99), Ok(()));
        assert_eq!(
            strict.check_claims(&json!({"exp": 100}), 100),
            Err(JwtRefusal::Expired)
        );
        assert_eq!(
            strict.check_claims(&json!({"exp": 200, "nbf": 101}), 100),
            Err(JwtRefusal::NotYetValid)
        );
        // exp is required, and must be a number.
        assert_eq!(
            strict.check_claims(&json!({"sub": "x"}), 100),
            Err(JwtRefusal::MissingClaim("exp".into()))
        );
        assert_eq!(
            strict.check_claims(&json!({"exp": "soon"}), 100),
            Err(JwtRefusal::Malformed)
        );
    }

    #[test]
    fn issuer_audience_and_required_claims() {
        let r = basic();
        let now = 900;
        let mut c = claims_at(1000);
        c["iss"] = json!("https://evil.example.com");
        assert_eq!(r.check_claims(&c, now), Err(JwtRefusal::WrongIssuer));
        let mut c = claims_at(1000);
        c.as_object_mut().unwrap().remove("iss");
        assert_eq!(r.check_claims(&c, now), Err(JwtRefusal::WrongIssuer));
        // Audience: a string or an array holding one accepted audience.
        for (aud, ok) in [
            (json!("maps"), true),
            (json!(["other", "maps"]), true),
            (json!("other"), false),
            (json!(["other"]), false),
            (json!([]), false),
            (json!(42), false),
        ] {
            let mut c = claims_at(1000);
            c["aud"] = aud.clone();
            let expected = if ok {
                Ok(())
            } else {
                Err(JwtRefusal::WrongAudience)
            };
            assert_eq!(r.check_claims(&c, now), expected, "{aud}");
        }
        let mut c = claims_at(1000);
        c.as_object_mut().unwrap().remove("aud");
        assert_eq!(r.check_claims(&c, now), Err(JwtRefusal::WrongAudience));
        // Required claims: a value, a value in an array, presence only.
        let mut c = claims_at(1000);
        c["tenant"] = json!("globex");
        assert_eq!(
            r.check_claims(&c, now),
            Err(JwtRefusal::MissingClaim("tenant".into()))
        );
        let mut c = claims_at(1000);
        c["realm_access"]["roles"] = json!(["admin"]);
        assert_eq!(
            r.check_claims(&c, now),
            Err(JwtRefusal::MissingClaim("realm_access.roles".into()))
        );
        let mut c = claims_at(1000);
        c["sub"] = Value::Null;
        assert_eq!(
            r.check_claims(&c, now),
            Err(JwtRefusal::MissingClaim("sub".into()))
        );
        assert_eq!(r.check_claims(&claims_at(1000), now), Ok(()));
        // A number claim compares by its text.
        let n = rules(
            json!({"sharedSecret": "0123456789abcdef0123456789abcdef", "algorithms": ["HS256"], "requiredClaims": [{"name": "level", "value": "3"}]}),
        );
        assert_eq!(n.check_claims(&json!({"exp": 10, "level": 3}), 0), Ok(()));
    }

    #[test]
    fn claim_paths() {
        let c = json!({
            "sub": "ann",
            "scope": "read write",
            "realm_access": {"roles": ["user"]},
            "resource_access": {"weather-app": {"roles": ["forecaster"]}, "app.example": {"roles": ["dotted"]}},
            "https://example.com/roles": ["namespaced"],
        });
        assert_eq!(claim(&c, "sub"), Some(&json!("ann")));
        assert_eq!(claim(&c, "realm_access.roles"), Some(&json!(["user"])));
        assert_eq!(
            claim(&c, "resource_access.weather-app.roles"),
            Some(&json!(["forecaster"]))
        );
        assert_eq!(
            claim(&c, "resource_access.app.example.roles"),
            Some(&json!(["dotted"]))
        );
        assert_eq!(
            claim(&c, "https://example.com/roles"),
            Some(&json!(["namespaced"]))
        );
        assert_eq!(claim(&c, "realm_access.missing"), None);
        assert_eq!(claim(&c, "sub.deeper"), None);
        assert_eq!(claim(&c, "nope"), None);
    }

    #[test]
    fn forwarded_headers_replace_what_the_consumer_sent() {
        let r = basic();
        let mut headers = HeaderMap::new();
        headers.insert("x-user", "admin".parse().unwrap());
        headers.insert("x-roles", "everything".parse().unwrap());
        headers.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        let mut c = claims_at(1000);
        c.as_object_mut().unwrap().remove("realm_access");
        r.apply(&c, &mut headers);
        assert_eq!(headers.get("x-user").unwrap(), "ann");
        // A claim the token lacks sends nothing, and the consumer's value is gone.
        assert!(headers.get("x-roles").is_none());
        assert!(headers.get(AUTHORIZATION).is_none());
        r.apply(&claims_at(1000), &mut headers);
        assert_eq!(headers.get("x-roles").unwrap(), "user, admin");

        let keep = rules(
            json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"], "stripAuthorization": false}),
        );
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        keep.apply(&claims_at(1000), &mut headers);
        assert!(headers.get(AUTHORIZATION).is_some());
        // A claim that cannot be a header value sends nothing.
        let bad = json!({"sub": "a\nb", "exp": 1});
        assert!(basic().forwarded(&bad).is_empty());
        // Nor a list with an item that would read as two.
        let mut c = claims_at(1000);
        c["realm_access"]["roles"] = json!(["user, admin"]);
        let mut headers = HeaderMap::new();
        r.apply(&c, &mut headers);
        assert!(headers.get("x-roles").is_none());
        assert_eq!(headers.get("x-user").unwrap(), "ann");
    }

    #[test]
    fn claims_are_never_sent_as_headers_the_gateway_owns() {
        for header in [
            "X-Forwarded-For",
            "Forwarded",
            "Via",
            "Proxy-Authorization",
            "Host",
        ] {
            let config = json!({
                "jwksUrl": "https://idp/jwks",
                "algorithms": ["RS256"],
                "forwardClaims": [{"claim": "sub", "header": header}],
            });
            let config: Jwt = serde_json::from_value(config).unwrap();
            let mut errs = Errors::default();
            let compiled = JwtRules::compile(&config, &mut errs);
            let e = errs.finish(compiled).unwrap_err();
            assert_eq!(e[0].field, "forwardClaims[0].header", "{header}");
            assert_eq!(e[0].message, format!("A claim cannot be sent as {header}."));
        }
    }

    #[test]
    fn algorithms_and_alg_none() {
        let r = basic();
        assert_eq!(
            r.check_header(&json!({"alg": "RS256"})),
            Ok(JwtAlgorithm::RS256)
        );
        assert_eq!(
            r.check_header(&json!({"alg": "ES256", "kid": "a"})),
            Ok(JwtAlgorithm::ES256)
        );
        for alg in ["none", "None", "NONE", "HS256", "RS384", "rs256", "PS256"] {
            let refused = r.check_header(&json!({ "alg": alg })).unwrap_err();
            assert_eq!(refused, JwtRefusal::AlgorithmRefused(alg.into()), "{alg}");
            assert_eq!(refused.code().number(), 10041);
        }
        assert_eq!(r.check_header(&json!({})), Err(JwtRefusal::Malformed));
        assert_eq!(
            r.check_header(&json!({"alg": "RS256", "crit": ["b64"], "b64": false})),
            Err(JwtRefusal::Malformed)
        );
        assert_eq!(
            r.check_header(&json!({"alg": 5})),
            Err(JwtRefusal::Malformed)
        );
        let labels: Vec<_> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            labels,
            [
                "RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA", "HS256"
            ]
        );
        assert_eq!(JwtAlgorithm::ES384.family(), KeyFamily::Ec("P-384"));
    }

    #[test]
    fn tokens_split_and_decode() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890","exp":1} . sig
        let token =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxfQ.c2ln";
        let t = DecodedToken::parse(token).unwrap();
        assert_eq!(t.header["alg"], "HS256");
        assert_eq!(t.claims["sub"], "1234567890");
        assert_eq!(t.signature, "c2ln");
        assert_eq!(t.signing_input, &token[..token.len() - 5]);
        assert_eq!(t.kid(), None);
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
            "eyJhbGciOiJIUzI1NiJ9.WzFd.c2ln",
            "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln",
            "eyJhbGciOiJIUzI1NiJ9.e30.c2l+",
        ] {
            assert_eq!(
                DecodedToken::parse(bad),
                Err(JwtRefusal::Malformed),
                "{bad}"
            );
        }
        assert!(DecodedToken::parse("eyJhbGciOiJIUzI1NiJ9.e30.").is_ok());
        assert_eq!(decode_base64url("SGk").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(decode_base64url("-_8"), Some(vec![0xfb, 0xff]));
    }

    #[test]
    fn bearer_tokens() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert_eq!(JwtRules::bearer_token(&with("Bearer abc")), Ok("abc"));
        assert_eq!(JwtRules::bearer_token(&with("bearer  abc ")), Ok("abc"));
        for bad in ["Basic YTpi", "Bearer", "Bearer  ", "abc"] {
            assert_eq!(
                JwtRules::bearer_token(&with(bad)),
                Err(JwtRefusal::Missing),
                "{bad}"
            );
        }
        assert_eq!(
            JwtRules::bearer_token(&HeaderMap::new()),
            Err(JwtRefusal::Missing)
        );
    }

    #[test]
    fn refusals_answer_401_with_a_bearer_challenge() {
        let r = basic();
        let missing = r.failure(&JwtRefusal::Missing);
        assert_eq!((missing.status, missing.code.number()), (401, 10040));
        assert_eq!(
            missing.headers,
            [("WWW-Authenticate".into(), "Bearer".into())]
        );
        let expired = r.failure(&JwtRefusal::Expired);
        assert_eq!((expired.status, expired.code.number()), (401, 10043));
        assert_eq!(
            expired.headers[0].1,
            "Bearer error=\"invalid_token\", error_description=\"The token has expired.\""
        );
        let realm = rules(
            json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"], "realm": "Weather"}),
        );
        assert_eq!(
            realm.failure(&JwtRefusal::Missing).headers[0].1,
            "Bearer realm=\"Weather\""
        );
        assert_eq!(
            realm.failure(&JwtRefusal::WrongAudience).headers[0].1,
            "Bearer realm=\"Weather\", error=\"invalid_token\", error_description=\"The token is meant for another audience.\""
        );
        let codes: Vec<u32> = [
            JwtRefusal::Missing,
            JwtRefusal::Malformed,
            JwtRefusal::BadSignature,
            JwtRefusal::Expired,
            JwtRefusal::WrongIssuer,
            JwtRefusal::MissingClaim("x".into()),
        ]
        .iter()
        .map(|r| r.code().number())
        .collect();
        assert_eq!(codes, [10040, 10041, 10042, 10043, 10044, 10045]);
        // The algorithm echoed back is cut to harmless characters.
        assert_eq!(
            JwtRefusal::AlgorithmRefused("\"><x".into()).message(),
            "Tokens signed with 'x' are not accepted."
        );
    }

    #[test]
    fn validation_names_its_fields() {
        let cases: &[(Value, &[&str])] = &[
            (
                json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"]}),
                &[],
            ),
            (json!({}), &["algorithms"]),
            (
                json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256", "none", "PS256", "RS256"]}),
                &["algorithms[1]", "algorithms[2]", "algorithms[3]"],
            ),
            (json!({"algorithms": ["ES256"]}), &["jwksUrl"]),
            (
                json!({"jwksUrl": "ftp://idp/jwks", "algorithms": ["ES256"]}),
                &["jwksUrl"],
            ),
            (
                json!({"jwksUrl": "https://idp/jwks", "staticKeys": [{"pem": "x"}], "algorithms": ["RS256"]}),
                &["staticKeys", "staticKeys[0].pem"],
            ),
            (json!({"algorithms": ["HS256"]}), &["sharedSecret"]),
            (
                json!({"algorithms": ["HS256"], "sharedSecret": "short"}),
                &["sharedSecret"],
            ),
            (
                json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"], "sharedSecret": "0123456789abcdef0123456789abcdef"}),
                &["sharedSecret"],
            ),
            (
                json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"], "audience": ["a", " "], "leewaySeconds": 301}),
                &["audience[1]", "leewaySeconds"],
            ),
            (
                json!({"jwksUrl": "https://idp/jwks", "algorithms": ["RS256"],
                    "requiredClaims": [{"name": "ok"}, {"name": ""}, {"name": "a..b"}],
                    "forwardClaims": [{"claim": "sub", "header": "X User"}, {"claim": "", "header": "Authorization"}, {"claim": "sub", "header": "X-Sub"}]}),
                &[
                    "requiredClaims[1].name",
                    "requiredClaims[2].name",
                    "forwardClaims[0].header",
                    "forwardClaims[1].claim",
                    "forwardClaims[1].header",
                ],
            ),
            (
                json!({"staticKeys": [
                    {"pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"},
                    {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
                    {"jwk": {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}},
                    {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}},
                    {},
                    {"pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "jwk": {"kty": "OKP"}},
                    {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
                ], "algorithms": ["EdDSA"], "realm": "a\"b"}),
                &[
                    "staticKeys[0].pem",
                    "staticKeys[1].jwk",
                    "staticKeys[2].jwk",
                    "staticKeys[3].jwk",
                    "staticKeys[4].pem",
                    "staticKeys[5]",
                    "realm",
                ],
            ),
        ];
        for (config, fields) in cases {
            assert_eq!(&errors(config.clone()), fields, "{config}");
        }
    }

    #[test]
    fn one_line_descriptions() {
        let config: Jwt = serde_json::from_value(json!({
            "jwksUrl": "https://idp/jwks", "algorithms": ["RS256", "HS256"], "issuer": "https://idp",
            "audience": ["a", "b"], "requiredClaims": [{"name": "tenant"}],
            "sharedSecret": "super-secret-value-0123456789abcdef"
        }))
        .unwrap();
        assert_eq!(
            describe(&config),
            "Requires a JWT (RS256, HS256) with keys from https://idp/jwks, issuer https://idp, audience a or b, claims tenant"
        );
        let config: Jwt = serde_json::from_value(json!({
            "staticKeys": [{"pem": "x"}], "algorithms": ["EdDSA"]
        }))
        .unwrap();
        assert_eq!(
            describe(&config),
            "Requires a JWT (EdDSA) with 1 static key"
        );
    }

    #[test]
    fn secrets_are_never_in_debug_output() {
        let config: Jwt = serde_json::from_value(json!({
            "algorithms": ["HS256"], "sharedSecret": "super-secret-value-0123456789abcdef"
        }))
        .unwrap();
        assert!(!format!("{config:?}").contains("super-secret"));
        let mut errs = Errors::default();
        let compiled = JwtRules::compile(&config, &mut errs).unwrap();
        assert!(!format!("{compiled:?}").contains("super-secret"));
        assert_eq!(
            compiled.shared_secret().unwrap().expose(),
            b"super-secret-value-0123456789abcdef"
        );
        // The audience may be one string.
        let one: Jwt = serde_json::from_value(json!({"audience": "weather"})).unwrap();
        assert_eq!(one.audience, ["weather"]);
    }
}
