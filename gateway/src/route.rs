//! Where a request goes and who sends it: the API version its path names ([`split_path`],
//! [`api`]), whether that version takes requests ([`admit`]), the API key from the header or
//! the query ([`take_key`], [`key`]), and the key's client and contract ([`caller`]).

use axum::http::HeaderMap;
use domain::failure::FailureCode;
use service::gateway::{GatewayApi, GatewayContract, GatewayKey, GatewaySnapshot, KeyVerdict};

use crate::errors::Refusal;

/// The API version a request's path names.
pub(crate) struct Found<'s, 'p> {
    /// `{org}/{api}/{version}`, the snapshot's key for it.
    pub api_path: &'p str,
    /// The rest of the path, with its leading slash, or empty.
    pub rest: &'p str,
    pub target: &'s GatewayApi,
}

/// The published API version at `path`, or 404 (10020).
pub(crate) fn api<'s, 'p>(
    snapshot: &'s GatewaySnapshot,
    path: &'p str,
) -> Result<Found<'s, 'p>, Refusal> {
    let no_api = || Refusal::Gateway(FailureCode::NoSuchApi, "No API at this path.");
    let (org, api, version, rest) = split_path(path).ok_or_else(no_api)?;
    let api_path = &path[1..1 + org.len() + api.len() + version.len() + 2];
    let target = snapshot.apis.get(api_path).ok_or_else(no_api)?;
    Ok(Found {
        api_path,
        rest,
        target,
    })
}

/// Whether the API version takes the request at all: not retired (410, 10021), and a path
/// within `domain::gateway_bounds` (400, 10028).
pub(crate) fn admit(target: &GatewayApi, path: &str) -> Result<(), Refusal> {
    if target.retired {
        return Err(Refusal::Gateway(
            FailureCode::ApiRetired,
            "This API version is retired.",
        ));
    }
    if let Some(why) = domain::gateway_bounds::path_refusal(path, target.allow_encoded_slashes) {
        return Err(Refusal::Gateway(FailureCode::PathRefused, why));
    }
    Ok(())
}

/// The request's API key, if any, and its query without the key. An API version that takes
/// its key only from the header refuses one in the query string (401, 10032): query strings
/// end up in logs, browser histories and Referer headers.
pub(crate) fn key(
    target: &GatewayApi,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(Option<String>, Option<String>), Refusal> {
    let (key, query) = take_key(headers, query);
    match key {
        Some((_, KeySource::Query)) if !target.accept_key_in_query => Err(Refusal::Gateway(
            FailureCode::KeyInQuery,
            "This API takes its API key only in the X-API-Key header, not in the query string.",
        )),
        key => Ok((key.map(|(k, _)| k), query)),
    }
}

/// Who calls: a key opens the API through a contract (the key and its contract); a public API
/// also takes requests without one (and with a key that has no contract), under the API's own
/// policies only (`None`). Otherwise: 401 without a key (10022), with an unknown (10023),
/// revoked (10030) or expired one (10031); 403 without a contract (10024).
pub(crate) fn caller<'s>(
    snapshot: &'s GatewaySnapshot,
    found: &Found<'_, '_>,
    key: Option<&str>,
) -> Result<Option<(&'s GatewayKey, &'s GatewayContract)>, Refusal> {
    let public = found.target.public;
    let Some(key) = key else {
        return if public {
            Ok(None)
        } else {
            Err(Refusal::Gateway(
                FailureCode::KeyMissing,
                "An API key is required: send it in the X-API-Key header.",
            ))
        };
    };
    match snapshot.check_key(key, chrono::Utc::now()) {
        KeyVerdict::Works(found_key) => match found_key.client.contract(found.api_path) {
            Some(contract) => Ok(Some((found_key, contract))),
            None if public => Ok(None),
            None => Err(Refusal::Gateway(
                FailureCode::NoContract,
                "This client has no contract with this API version.",
            )),
        },
        KeyVerdict::Revoked => Err(Refusal::Gateway(
            FailureCode::KeyRevoked,
            "The API key was revoked.",
        )),
        KeyVerdict::Expired => Err(Refusal::Gateway(
            FailureCode::KeyExpired,
            "The API key has expired.",
        )),
        KeyVerdict::Unknown if public => Ok(None),
        KeyVerdict::Unknown => Err(Refusal::Gateway(
            FailureCode::KeyUnknown,
            "The API key is not valid.",
        )),
    }
}

/// `/{org}/{api}/{version}` and the rest of the path (with its leading slash, or empty).
pub fn split_path(path: &str) -> Option<(&str, &str, &str, &str)> {
    let trimmed = path.strip_prefix('/')?;
    let mut parts = trimmed.splitn(4, '/');
    let org = parts.next().filter(|s| !s.is_empty())?;
    let api = parts.next().filter(|s| !s.is_empty())?;
    let version = parts.next().filter(|s| !s.is_empty())?;
    let rest_start = org.len() + api.len() + version.len() + 3;
    let rest = path.get(rest_start..).unwrap_or("");
    Some((org, api, version, rest))
}

/// Where a request's API key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Header,
    Query,
}

/// The API key from `X-API-Key`, else from the `apikey` query parameter, with where it came
/// from; and the query without that parameter (a key never reaches the backend).
pub fn take_key(
    headers: &HeaderMap,
    query: Option<&str>,
) -> (Option<(String, KeySource)>, Option<String>) {
    let mut key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .map(|k| (k.to_owned(), KeySource::Header));
    if !query.is_some_and(|q| q.contains("apikey")) {
        return (key, query.filter(|q| !q.is_empty()).map(str::to_owned));
    }
    let mut kept = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("apikey", v)) => {
                if key.is_none() && !v.is_empty() {
                    key = Some((v.to_owned(), KeySource::Query));
                }
            }
            _ if pair == "apikey" => {}
            _ => kept.push(pair),
        }
    }
    let query = (!kept.is_empty()).then(|| kept.join("&"));
    (key, query)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            split_path("/Acme/Weather/1.0"),
            Some(("Acme", "Weather", "1.0", ""))
        );
        assert_eq!(
            split_path("/Acme/Weather/1.0/"),
            Some(("Acme", "Weather", "1.0", "/"))
        );
        assert_eq!(
            split_path("/Acme/Weather/1.0/daily/today"),
            Some(("Acme", "Weather", "1.0", "/daily/today"))
        );
        assert_eq!(split_path("/Acme/Weather"), None);
        assert_eq!(split_path("/Acme//1.0"), None);
        assert_eq!(split_path("/"), None);
    }

    #[test]
    fn keys_from_header_or_query_and_stripped() {
        let mut h = HeaderMap::new();
        assert_eq!(
            take_key(&h, Some("a=1&apikey=k1&b=2")),
            (
                Some(("k1".into(), KeySource::Query)),
                Some("a=1&b=2".into())
            )
        );
        assert_eq!(
            take_key(&h, Some("apikey=k1")),
            (Some(("k1".into(), KeySource::Query)), None)
        );
        assert_eq!(take_key(&h, None), (None, None));
        assert_eq!(
            take_key(&h, Some("city=Oslo&days=2")),
            (None, Some("city=Oslo&days=2".into()))
        );
        assert_eq!(take_key(&h, Some("apikey=")), (None, None));
        h.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(
            take_key(&h, Some("apikey=k1&x=y")),
            (Some(("k2".into(), KeySource::Header)), Some("x=y".into()))
        );
    }
}
