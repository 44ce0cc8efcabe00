//! BASIC Authentication: its catalogue entry, configuration ([`BasicAuth`]), validation,
//! description, failures, reading credentials ([`basic_credentials`]) and the compiled
//! identities ([`BasicAuthRealm`]). Password hashes are verified by the caller (argon2 is not a
//! dependency of this crate).

use std::collections::HashSet;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue};

use serde::{Deserialize, Serialize};

use super::check::{Errors, item_field};
use super::describe::count;
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "basic-auth",
    name: "BASIC Authentication",
    category: Category::Security,
    summary: "Requires a user name and password (HTTP BASIC authentication) from a list of identities.",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[
    FailureCode::BasicAuthFailed,
    FailureCode::BasicAuthTlsRequired,
    FailureCode::PasswordChecksBusy,
];

/// The longest realm accepted, in characters.
const MAX_REALM_LEN: usize = 100;

/// A BASIC authentication identity. `password` only travels from the browser to the server,
/// which stores `password_hash` (an argon2 PHC string) instead; an identity sent with neither
/// keeps its previous hash.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// The roles Authorization sees for this user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// BASIC Authentication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BasicAuth {
    pub realm: String,
    pub identities: Vec<Identity>,
    /// A header the gateway sets to the authenticated user name for the back end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_identity_header: Option<String>,
    pub require_tls: bool,
}

/// "BASIC authentication with 2 identities (realm Weather)".
pub(super) fn describe(c: &BasicAuth) -> String {
    format!(
        "BASIC authentication with {} (realm {})",
        count(c.identities.len() as u64, "identity", "identities"),
        c.realm.trim()
    )
}

/// The user name and password of an `Authorization: Basic base64(user:password)` header.
/// `None` without the header, with another scheme, bad base64, text that is not UTF-8, or no
/// colon.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode_base64(token.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Standard base64 (`+/`), padding optional.
fn decode_base64(input: &str) -> Option<Vec<u8>> {
    let data = input.trim_end_matches('=');
    let padding = input.len() - data.len();
    if padding > 2 || (padding > 0 && !input.len().is_multiple_of(4)) || data.len() % 4 == 1 {
        return None;
    }
    super::check::decode_sextets(data, b'+', b'/')
}

/// Compiled BASIC Authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuthRealm {
    realm: String,
    /// (user name, stored argon2 hash).
    identities: Vec<(String, Option<String>)>,
    forward_identity_header: Option<HeaderName>,
    require_tls: bool,
    /// (user name, roles) for Authorization.
    roles: Vec<(String, Vec<String>)>,
}

impl BasicAuthRealm {
    pub(super) fn compile(config: &BasicAuth, errs: &mut Errors) -> Option<Self> {
        let realm = config.realm.trim();
        if realm.is_empty() {
            errs.add(
                "realm",
                "Enter a realm, the name browsers show when asking for a password.",
            );
        } else if realm.chars().count() > MAX_REALM_LEN {
            errs.add("realm", "A realm can have at most 100 characters.");
        } else if !realm.chars().all(|c| c == ' ' || c.is_ascii_graphic()) || realm.contains('"') {
            errs.add(
                "realm",
                "A realm can only contain letters, digits, spaces and punctuation other than \".",
            );
        }
        errs.ensure(
            !config.identities.is_empty(),
            "identities",
            "Add at least one identity.",
        );
        let mut seen = HashSet::new();
        let mut roles = Vec::new();
        for (i, identity) in config.identities.iter().enumerate() {
            let field = item_field("identities", i, "username");
            let name = identity.username.as_str();
            if name.trim().is_empty() {
                errs.add(field, "Enter a user name.");
            } else if name.contains(':') {
                errs.add(field, "A user name cannot contain ':'.");
            } else if name.chars().any(char::is_control) {
                errs.add(field, "A user name cannot contain control characters.");
            } else if !seen.insert(name) {
                errs.add(field, format!("'{name}' is listed twice."));
            }
            let held = errs.roles(&item_field("identities", i, "roles"), &identity.roles);
            if !held.is_empty() {
                roles.push((name.to_owned(), held));
            }
            if let Some(hash) = &identity.password_hash {
                errs.ensure(
                    hash.starts_with("$argon2"),
                    &item_field("identities", i, "passwordHash"),
                    "The password hash is not an argon2 hash.",
                );
            }
        }
        let forward = errs
            .optional_header_name(
                "forwardIdentityHeader",
                config.forward_identity_header.as_deref(),
            )
            .ok()?;
        Some(Self {
            realm: realm.to_owned(),
            identities: config
                .identities
                .iter()
                .map(|i| (i.username.clone(), i.password_hash.clone()))
                .collect(),
            forward_identity_header: forward,
            require_tls: config.require_tls,
            roles,
        })
    }

    /// The roles of `username` (none when not given), for Authorization.
    pub fn roles(&self, username: &str) -> Vec<String> {
        self.roles
            .iter()
            .find(|(name, _)| name == username)
            .map(|(_, roles)| roles.clone())
            .unwrap_or_default()
    }

    /// The realm shown by browsers.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Whether plain HTTP requests are refused.
    pub fn require_tls(&self) -> bool {
        self.require_tls
    }

    /// The stored argon2 hash of `username`'s password.
    pub fn password_hash(&self, username: &str) -> Option<&str> {
        self.identities
            .iter()
            .find(|(name, _)| name == username)
            .and_then(|(_, hash)| hash.as_deref())
    }

    /// The hash to check `username`'s password against: their own, or `dummy` (a hash of a
    /// throw-away password) for an unknown user or one without a password, so that a wrong
    /// user name costs the same argon2 work as a wrong password and answers no sooner.
    pub fn hash_to_verify<'a>(&'a self, username: &str, dummy: &'a str) -> &'a str {
        self.password_hash(username).unwrap_or(dummy)
    }

    /// Too many passwords are being checked at once and none could start in time: 503, code
    /// [`FailureCode::PasswordChecksBusy`], with `Retry-After: 1`.
    pub fn busy(&self) -> PolicyFailure {
        PolicyFailure::new(
            FailureCode::PasswordChecksBusy,
            FailureType::Authentication,
            "Too many passwords are being checked right now. Please try again shortly.",
        )
        .with_header("Retry-After", "1")
    }

    /// Missing or wrong credentials: 401, [`FailureCode::BasicAuthFailed`], with `WWW-Authenticate:
    /// Basic realm="…"`.
    pub fn unauthorized(&self) -> PolicyFailure {
        PolicyFailure::new(
            FailureCode::BasicAuthFailed,
            FailureType::Authentication,
            "Missing or invalid credentials.",
        )
        .with_header(
            "WWW-Authenticate",
            format!("Basic realm=\"{}\"", self.realm),
        )
    }

    /// A plain HTTP request while TLS is required: 401, [`FailureCode::BasicAuthTlsRequired`].
    pub fn tls_required(&self) -> PolicyFailure {
        PolicyFailure::new(
            FailureCode::BasicAuthTlsRequired,
            FailureType::Authentication,
            "BASIC authentication requires TLS.",
        )
    }

    /// Authenticates a request: TLS when required, then the credentials of `headers`, whose
    /// password `verify(stored_hash, password)` checks. Returns the user name.
    ///
    /// An unknown user is refused without calling `verify`: the caller has already checked the
    /// password against [`hash_to_verify`](Self::hash_to_verify), a dummy hash for them.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        is_https: bool,
        verify: impl FnOnce(&str, &str) -> bool,
    ) -> Result<String, PolicyFailure> {
        if self.require_tls && !is_https {
            return Err(self.tls_required());
        }
        let (user, password) = basic_credentials(headers).ok_or_else(|| self.unauthorized())?;
        match self.password_hash(&user) {
            Some(hash) if verify(hash, &password) => Ok(user),
            _ => Err(self.unauthorized()),
        }
    }

    /// Sets the configured identity header to `username` (replacing any value the consumer
    /// sent), so the back end knows who called.
    pub fn forward_identity(&self, headers: &mut HeaderMap, username: &str) {
        if let Some(name) = &self.forward_identity_header {
            match HeaderValue::from_str(username) {
                Ok(value) => {
                    headers.insert(name.clone(), value);
                }
                Err(_) => {
                    headers.remove(name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn base64() {
        let cases: [(&str, Option<&[u8]>); 9] = [
            ("", Some(b"")),
            ("Zg==", Some(b"f")),
            ("Zm8=", Some(b"fo")),
            ("Zm9v", Some(b"foo")),
            ("Zm8", Some(b"fo")),
            ("YW5uOnMzY3IzdA==", Some(b"ann:s3cr3t")),
            ("Zm9v!", None),
            ("Z", None),
            ("Zg===", None),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_base64(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn credentials() {
        let cases = [
            ("Basic YW5uOnMzY3IzdA==", Some(("ann", "s3cr3t"))),
            ("basic   YW5uOnMzY3IzdA==", Some(("ann", "s3cr3t"))),
            // "ann:pa:ss": the password may contain colons.
            ("Basic YW5uOnBhOnNz", Some(("ann", "pa:ss"))),
            // ":": empty user and password.
            ("Basic Og==", Some(("", ""))),
            ("Bearer YW5uOnMzY3IzdA==", None),
            ("Basic not*base64", None),
            // "annonly": no colon.
            ("Basic YW5ub25seQ==", None),
            // Not UTF-8.
            ("Basic //79", None),
            ("Basic", None),
        ];
        for (header, expected) in cases {
            let got = basic_credentials(&auth_header(header));
            let expected = expected.map(|(u, p)| (u.to_owned(), p.to_owned()));
            assert_eq!(got, expected, "{header}");
        }
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }

    fn realm(require_tls: bool) -> BasicAuthRealm {
        let config = BasicAuth {
            realm: "Weather".to_owned(),
            identities: vec![
                Identity {
                    username: "ann".to_owned(),
                    password: None,
                    password_hash: Some("$argon2id$ann".to_owned()),
                    roles: vec!["admin".to_owned(), "reader".to_owned()],
                },
                Identity {
                    username: "bob".to_owned(),
                    password: None,
                    password_hash: None,
                    roles: Vec::new(),
                },
            ],
            forward_identity_header: Some("X-Identity".to_owned()),
            require_tls,
        };
        let mut errs = Errors::default();
        let compiled = BasicAuthRealm::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    #[test]
    fn authenticate() {
        let r = realm(false);
        assert_eq!(r.password_hash("ann"), Some("$argon2id$ann"));
        assert_eq!(r.password_hash("bob"), None);
        assert_eq!(r.password_hash("eve"), None);
        assert_eq!(r.roles("ann"), ["admin", "reader"]);
        assert!(r.roles("bob").is_empty());
        // Unknown users and users without a password are checked against the dummy.
        assert_eq!(r.hash_to_verify("ann", "$dummy"), "$argon2id$ann");
        assert_eq!(r.hash_to_verify("bob", "$dummy"), "$dummy");
        assert_eq!(r.hash_to_verify("eve", "$dummy"), "$dummy");
        let busy = r.busy();
        assert_eq!((busy.status, busy.code.number()), (503, 10016));
        assert_eq!(busy.headers, [("Retry-After".to_owned(), "1".to_owned())]);
        // The fake verifier accepts "s3cr3t" for ann's hash.
        let verify = |hash: &str, password: &str| hash == "$argon2id$ann" && password == "s3cr3t";
        let good = auth_header("Basic YW5uOnMzY3IzdA==");
        assert_eq!(r.authenticate(&good, false, verify), Ok("ann".to_owned()));
        let wrong = auth_header("Basic YW5uOndyb25n");
        let failure = r.authenticate(&wrong, false, verify).unwrap_err();
        assert_eq!((failure.status, failure.code.number()), (401, 10003));
        assert_eq!(failure.failure_type, FailureType::Authentication);
        assert_eq!(
            failure.headers,
            [(
                "WWW-Authenticate".to_owned(),
                "Basic realm=\"Weather\"".to_owned()
            )]
        );
        assert_eq!(
            r.authenticate(&HeaderMap::new(), true, verify)
                .unwrap_err()
                .code
                .number(),
            10003
        );

        let tls = realm(true);
        let failure = tls.authenticate(&good, false, verify).unwrap_err();
        assert_eq!((failure.status, failure.code.number()), (401, 10004));
        assert_eq!(failure.message, "BASIC authentication requires TLS.");
        assert!(tls.authenticate(&good, true, verify).is_ok());
    }

    #[test]
    fn forwards_the_identity_over_any_sent_value() {
        let r = realm(false);
        let mut headers = HeaderMap::new();
        headers.insert("x-identity", "admin".parse().unwrap());
        r.forward_identity(&mut headers, "ann");
        assert_eq!(headers.get("x-identity").unwrap(), "ann");
    }
}
