//! What of a policy's configuration is secret, and how it is kept so: BASIC Authentication's
//! password hashes and JWT Validation's HS256 shared secret never reach the browser
//! ([`public_configuration`]) and are kept when an edit leaves them out ([`prepare`]); the
//! shared secret, which the gateway must read back, is sealed at rest under the server secret
//! ([`stored`], [`opened`]).

use domain::FieldError;
use domain::policy::{self as rules, PolicyConfig, Secret};

use crate::{Error, Result};

/// How a sealed shared secret starts in a stored configuration.
const SEALED: &str = "sealed:";
/// The associated data of a sealed shared secret: it opens as nothing else.
const SHARED_SECRET_CONTEXT: &str = "policy/jwt/sharedSecret";

fn keyring() -> Result<std::sync::Arc<crate::secrets::Keyring>> {
    crate::secrets::keyring().map_err(|e| Error::Unexpected(e.into()))
}

/// The configuration as the database keeps it: a JWT shared secret sealed.
pub(crate) fn stored(config: &PolicyConfig) -> Result<String> {
    let PolicyConfig::Jwt(jwt) = config else {
        return Ok(config.to_json());
    };
    let mut jwt = jwt.clone();
    jwt.shared_secret = match jwt.shared_secret.take().filter(|s| !s.0.is_empty()) {
        Some(secret) => {
            let sealed = keyring()?.seal_for(&secret.0, SHARED_SECRET_CONTEXT);
            Some(Secret(format!("{SEALED}{sealed}")))
        }
        None => None,
    };
    Ok(PolicyConfig::Jwt(jwt).to_json())
}

/// A stored configuration with its shared secret opened, for the gateway and for an edit. A
/// secret that does not open (another server secret, a value written by hand) is an error:
/// the policy then refuses every request rather than accept a token signed with it.
pub(crate) fn opened(definition_id: &str, json: &str) -> std::result::Result<String, FieldError> {
    if definition_id != rules::JWT {
        return Ok(json.to_owned());
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Ok(json.to_owned());
    };
    let Some(sealed) = value
        .get("sharedSecret")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
    else {
        return Ok(json.to_owned());
    };
    let plain = sealed
        .strip_prefix(SEALED)
        .and_then(|hex| keyring().ok()?.open_for(hex, SHARED_SECRET_CONTEXT))
        .ok_or_else(|| {
            FieldError::new(
                "sharedSecret",
                "The stored shared secret cannot be read with this server's secret key; enter it again.",
            )
        })?;
    value["sharedSecret"] = plain.into();
    Ok(value.to_string())
}

/// The configuration the browser may see: BASIC authentication identities lose their
/// password hashes, JWT Validation its HS256 shared secret (whether or not the stored JSON
/// still validates).
pub(crate) fn public_configuration(definition_id: &str, json: &str) -> String {
    let kind = rules::PolicyKind::from_id(definition_id);
    if kind == Some(rules::PolicyKind::Jwt) {
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
            return "{}".to_owned();
        };
        if let Some(config) = value.as_object_mut() {
            config.remove("sharedSecret");
        }
        return value.to_string();
    }
    if kind != Some(rules::PolicyKind::BasicAuth) {
        return json.to_owned();
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
        return "{}".to_owned();
    };
    if let Some(identities) = value
        .get_mut("identities")
        .and_then(serde_json::Value::as_array_mut)
    {
        for identity in identities
            .iter_mut()
            .filter_map(serde_json::Value::as_object_mut)
        {
            identity.remove("passwordHash");
            identity.remove("password");
        }
    }
    value.to_string()
}

/// Whether the secrets a configuration sends (`wanted`: BASIC passwords, the JWT shared secret)
/// are the ones `stored` keeps; a secret not sent matches (an edit keeps it).
pub(crate) async fn matches(definition_id: &str, stored: &str, wanted: &serde_json::Value) -> bool {
    use serde_json::Value;
    let old: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    match rules::PolicyKind::from_id(definition_id) {
        Some(rules::PolicyKind::BasicAuth) => {
            let sent = wanted.get("identities").and_then(Value::as_array);
            for identity in sent.into_iter().flatten() {
                let Some(password) = identity.get("password").and_then(Value::as_str) else {
                    continue;
                };
                let hash = old
                    .get("identities")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|o| o.get("username") == identity.get("username"))
                    .and_then(|o| o.get("passwordHash"))
                    .and_then(Value::as_str);
                match hash {
                    Some(hash) if crate::accounts::verify_secret(password, hash).await => {}
                    _ => return false,
                }
            }
            true
        }
        Some(rules::PolicyKind::Jwt) => {
            let Some(sent) = wanted.get("sharedSecret").and_then(Value::as_str) else {
                return true;
            };
            let kept = opened(definition_id, stored)
                .ok()
                .and_then(|json| serde_json::from_str::<Value>(&json).ok())
                .and_then(|v| {
                    v.get("sharedSecret")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            // Compared as digests: the time taken says nothing about the stored secret.
            use sha2::{Digest, Sha256};
            kept.is_some_and(|k| Sha256::digest(k.as_bytes()) == Sha256::digest(sent.as_bytes()))
        }
        _ => true,
    }
}

/// Parses and validates a configuration from the browser, hashing new BASIC authentication
/// passwords; an identity sent without a password keeps the hash it had in `previous` (the
/// stored configuration), JWT Validation sent without its shared secret keeps the stored one.
pub(crate) async fn prepare(
    definition_id: &str,
    json: &str,
    previous: Option<&str>,
) -> Result<PolicyConfig> {
    let with_secret = keep_shared_secret(definition_id, json, previous)?;
    let json = with_secret.as_deref().unwrap_or(json);
    let mut config = PolicyConfig::parse(definition_id, json).map_err(Error::Invalid)?;
    if let PolicyConfig::BasicAuth(b) = &mut config {
        let old = match previous.map(|p| PolicyConfig::parse(definition_id, p)) {
            Some(Ok(PolicyConfig::BasicAuth(old))) => old.identities,
            _ => Vec::new(),
        };
        for (i, identity) in b.identities.iter_mut().enumerate() {
            match identity.password.take().filter(|p| !p.is_empty()) {
                Some(plain) => {
                    identity.password_hash = Some(crate::accounts::hash_secret(plain).await?)
                }
                None => {
                    identity.password_hash = old
                        .iter()
                        .find(|o| o.username == identity.username)
                        .and_then(|o| o.password_hash.clone());
                    if identity.password_hash.is_none() {
                        return Err(Error::invalid(
                            &format!("identities[{i}].password"),
                            "Enter a password for this identity.",
                        ));
                    }
                }
            }
        }
    }
    Ok(config)
}

/// JWT Validation sent without its HS256 shared secret (the browser never sees it) keeps the
/// stored one (`previous`, opened here: only when it is needed, so that a secret that no longer
/// opens can be replaced by sending a new one), when HS256 is still accepted: the
/// configuration with it, else `None`.
fn keep_shared_secret(
    definition_id: &str,
    json: &str,
    previous: Option<&str>,
) -> Result<Option<String>> {
    if definition_id != rules::JWT {
        return Ok(None);
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Ok(None);
    };
    let Some(config) = value.as_object_mut() else {
        return Ok(None);
    };
    let sent = config
        .get("sharedSecret")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let hs256 = config
        .get("algorithms")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "HS256"));
    let Some(previous) = previous.filter(|_| !sent && hs256) else {
        return Ok(None);
    };
    let old: serde_json::Value =
        serde_json::from_str(&opened(definition_id, previous)?).map_err(Error::unexpected)?;
    let Some(secret) = old.get("sharedSecret").and_then(serde_json::Value::as_str) else {
        return Ok(None);
    };
    config.insert("sharedSecret".to_owned(), secret.into());
    Ok(Some(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_keyring() {
        crate::secrets::install(crate::secrets::Keyring::new(&[7; 32]));
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

    fn hs256(secret: Option<&str>) -> String {
        let mut config = serde_json::json!({"algorithms": ["HS256"], "leewaySeconds": 30});
        if let Some(s) = secret {
            config["sharedSecret"] = s.into();
        }
        config.to_string()
    }

    #[tokio::test]
    async fn the_shared_secret_is_sealed_at_rest_and_opens_for_the_gateway() {
        with_keyring();
        let config = prepare(rules::JWT, &hs256(Some(SECRET)), None)
            .await
            .unwrap();
        let at_rest = stored(&config).unwrap();
        assert!(!at_rest.contains(SECRET), "{at_rest}");
        assert!(at_rest.contains("\"sharedSecret\":\"sealed:"), "{at_rest}");
        // Sealing twice gives two values (a fresh nonce each time).
        assert_ne!(at_rest, stored(&config).unwrap());
        let open = opened(rules::JWT, &at_rest).unwrap();
        let back = PolicyConfig::parse(rules::JWT, &open).unwrap();
        assert_eq!(back, config);
        // The browser never sees it.
        assert!(!public_configuration(rules::JWT, &at_rest).contains("sharedSecret"));
    }

    #[tokio::test]
    async fn an_edit_without_the_secret_keeps_the_sealed_one() {
        with_keyring();
        let first = prepare(rules::JWT, &hs256(Some(SECRET)), None)
            .await
            .unwrap();
        let at_rest = stored(&first).unwrap();
        let edited = prepare(rules::JWT, &hs256(None), Some(&at_rest))
            .await
            .unwrap();
        let PolicyConfig::Jwt(jwt) = &edited else {
            unreachable!()
        };
        assert_eq!(jwt.shared_secret.as_ref().unwrap().0, SECRET);
        // A new secret replaces it.
        let other = "another-secret-of-at-least-32-characters";
        let replaced = prepare(rules::JWT, &hs256(Some(other)), Some(&at_rest))
            .await
            .unwrap();
        let PolicyConfig::Jwt(jwt) = &replaced else {
            unreachable!()
        };
        assert_eq!(jwt.shared_secret.as_ref().unwrap().0, other);
    }

    #[tokio::test]
    async fn a_secret_that_no_longer_opens_is_replaced_by_a_new_one_and_an_empty_one_is_none() {
        with_keyring();
        let unreadable = hs256(Some(&format!("sealed:{}", "ab".repeat(40))));
        let kept = prepare(rules::JWT, &hs256(None), Some(&unreadable)).await;
        assert!(matches!(kept, Err(Error::Invalid(e)) if e[0].field == "sharedSecret"));
        let replaced = prepare(rules::JWT, &hs256(Some(SECRET)), Some(&unreadable))
            .await
            .unwrap();
        assert!(
            opened(rules::JWT, &stored(&replaced).unwrap())
                .unwrap()
                .contains(SECRET)
        );
        // No HS256: an empty secret is stored as none, not as an unsealed "".
        let rs256 =
            r#"{"algorithms":["RS256"],"jwksUrl":"https://id.example.com/jwks","sharedSecret":""}"#;
        let config = prepare(rules::JWT, rs256, Some(&unreadable)).await.unwrap();
        let at_rest = stored(&config).unwrap();
        assert!(!at_rest.contains("sharedSecret"), "{at_rest}");
        assert_eq!(opened(rules::JWT, &at_rest).unwrap(), at_rest);
    }

    #[test]
    fn a_secret_that_does_not_open_is_refused_not_used() {
        with_keyring();
        for stored in [
            hs256(Some(SECRET)),
            hs256(Some("sealed:00")),
            hs256(Some(&format!("sealed:{}", "ab".repeat(40)))),
        ] {
            let e = opened(rules::JWT, &stored).unwrap_err();
            assert_eq!(e.field, "sharedSecret");
        }
        // Without a secret, and for other policies, the configuration is as stored.
        assert_eq!(opened(rules::JWT, &hs256(None)).unwrap(), hs256(None));
        let rate = r#"{"limit":5,"sharedSecret":"x"}"#;
        assert_eq!(opened(rules::RATE_LIMITING, rate).unwrap(), rate);
    }
}
