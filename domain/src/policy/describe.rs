//! [`PolicyConfig::describe`]: the one-line description of a configuration shown in policy
//! lists (each policy module words its own), and the wording helpers they share.

use super::{
    Granularity, PolicyConfig, basic_auth, caching, cors, ignored_resources, ip_lists,
    request_limits, simple_header, time_restricted, transfer_quota, url_rewriting,
};
use crate::portal::thousands;

/// Lists longer than this are cut short ("…, and 3 more").
const MAX_LISTED: usize = 5;

/// A byte count in the largest binary unit that divides it: "1 GB", "512 MB", "1,500 bytes".
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TB"),
        (1 << 30, "GB"),
        (1 << 20, "MB"),
        (1 << 10, "kB"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| n >= *size && n.is_multiple_of(*size))
        .map_or_else(
            || format!("{} {}", thousands(n), if n == 1 { "byte" } else { "bytes" }),
            |(size, unit)| format!("{} {unit}", thousands(n / size)),
        )
}

/// "1 request", "10,000 requests".
pub(super) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// "a, b, c" or "a, b, c, d, e, and 2 more".
pub(super) fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.as_ref().to_owned()).collect();
    if items.len() <= MAX_LISTED {
        items.join(", ")
    } else {
        format!(
            "{}, and {} more",
            items[..MAX_LISTED].join(", "),
            items.len() - MAX_LISTED
        )
    }
}

/// " per API", " per User (header X-User)"; nothing for the default, per Client.
pub(super) fn per(granularity: Granularity, header: Option<&str>) -> String {
    match granularity {
        Granularity::Client => String::new(),
        Granularity::User => format!(" per User (header {})", header.unwrap_or("?")),
        other => format!(" per {}", other.label()),
    }
}

impl PolicyConfig {
    /// One line describing the configuration, e.g. "Consumers are limited to 100 requests per
    /// Minute per Client".
    pub fn describe(&self) -> String {
        match self {
            Self::RateLimit(c) | Self::Quota(c) => request_limits::describe(c),
            Self::TransferQuota(c) => transfer_quota::describe(c),
            Self::IpAllowlist(c) => ip_lists::describe_allowlist(c),
            Self::IpBlocklist(c) => ip_lists::describe_blocklist(c),
            Self::IgnoredResources(c) => ignored_resources::describe(c),
            Self::TimeRestricted(c) => time_restricted::describe(c),
            Self::Cors(c) => cors::describe(c),
            Self::SimpleHeader(c) => simple_header::describe(c),
            Self::UrlRewriting(c) => url_rewriting::describe(c),
            Self::BasicAuth(c) => basic_auth::describe(c),
            Self::Caching(c) => caching::describe(c),
            Self::Jwt(c) => super::jwt::describe(c),
            Self::Authorization(c) => super::authorization::describe(c),
        }
    }

    /// The line of the Developer Portal's limits summary for a limiting policy ("100 requests
    /// per Minute", "1 GB per Month"); `None` for the others.
    pub fn limit_summary(&self) -> Option<String> {
        match self {
            Self::RateLimit(c) | Self::Quota(c) => Some(request_limits::summary(c)),
            Self::TransferQuota(c) => Some(transfer_quota::summary(c)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(id: &str, json: &str) -> String {
        PolicyConfig::parse(id, json).unwrap().describe()
    }

    #[test]
    fn one_line_per_definition() {
        let cases = [
            (
                "rate-limiting",
                r#"{"limit":100,"granularity":"Client","period":"Minute"}"#,
                "Consumers are limited to 100 requests per Minute per Client",
            ),
            (
                "rate-limiting",
                r#"{"limit":1,"granularity":"Ip","period":"Second"}"#,
                "Consumers are limited to 1 request per Second per IP address",
            ),
            (
                "quota",
                r#"{"limit":10000,"granularity":"Api","period":"Month"}"#,
                "Consumers are limited to 10,000 requests per Month per API",
            ),
            (
                "rate-limiting",
                r#"{"limit":5,"granularity":"User","header":"X-User","period":"Second"}"#,
                "Requests per User (header X-User) limited to 5 per Second",
            ),
            (
                "transfer-quota",
                r#"{"limit":1073741824,"direction":"download","period":"Month"}"#,
                "Consumers may transfer at most 1 GB per Month (download)",
            ),
            (
                "transfer-quota",
                r#"{"limit":1500,"direction":"both","granularity":"Api","period":"Day"}"#,
                "Consumers may transfer at most 1,500 bytes per Day per API (upload and download)",
            ),
            (
                "ip-allowlist",
                r#"{"ips":["10.0.0.0/8","192.168.1.1"]}"#,
                "Only requests from 10.0.0.0/8, 192.168.1.1 are allowed",
            ),
            (
                "ip-blocklist",
                r#"{"ips":["1.2.3.4"]}"#,
                "Requests from 1.2.3.4 are refused",
            ),
            (
                "ip-blocklist",
                r#"{"ips":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4","1.1.1.5","1.1.1.6","1.1.1.7"]}"#,
                "Requests from 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, and 2 more are refused",
            ),
            (
                "ignored-resources",
                r#"{"rules":[{"verb":"GET","pathPattern":"/admin.*"}]}"#,
                "GET /admin.* is not available",
            ),
            (
                "ignored-resources",
                r#"{"rules":[{"verb":"get","pathPattern":"/a"},{"verb":"*","pathPattern":"/b"}]}"#,
                "GET /a, /b are not available",
            ),
            (
                "time-restricted-access",
                r#"{"rules":[{"timeStart":"08:00","timeEnd":"18:00","dayStart":1,"dayEnd":5,"pathPattern":".*"}]}"#,
                "Available Mon–Fri 08:00–18:00 UTC",
            ),
            (
                "time-restricted-access",
                r#"{"rules":[{"timeStart":"22:00","timeEnd":"06:00","dayStart":6,"dayEnd":6,"pathPattern":"/batch/.*"}]}"#,
                "Available Sat 22:00–06:00 UTC for /batch/.*",
            ),
            (
                "cors",
                r#"{"allowOrigins":["https://app.example.com"]}"#,
                "Cross-origin requests allowed from https://app.example.com",
            ),
            (
                "cors",
                r#"{"allowOrigins":["*"]}"#,
                "Cross-origin requests allowed from any origin",
            ),
            (
                "simple-header",
                r#"{"addHeaders":[{"name":"X-A","value":"1"}],"stripHeaders":[{"pattern":"Server"}]}"#,
                "Adds 1 header, strips 1 header",
            ),
            (
                "simple-header",
                r#"{"stripHeaders":[{"pattern":"Server"},{"pattern":"X-Powered-By"}]}"#,
                "Strips 2 headers",
            ),
            (
                "url-rewriting",
                r#"{"fromRegex":"/v1/","toReplacement":"/v2/"}"#,
                "Rewrites /v1/ to /v2/",
            ),
            (
                "basic-auth",
                r#"{"realm":"Weather","identities":[{"username":"a","password":"x"},{"username":"b","password":"y"}]}"#,
                "BASIC authentication with 2 identities (realm Weather)",
            ),
            (
                "caching",
                r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/.*"}]}"#,
                "Caches GET responses for 60 seconds",
            ),
            (
                "caching",
                r#"{"ttlSeconds":1,"rules":[{"method":"GET","pathPattern":"/a"},{"method":"head","pathPattern":"/b"},{"method":"GET","pathPattern":"/c"}]}"#,
                "Caches GET, HEAD responses for 1 second",
            ),
            (
                "caching",
                r#"{"ttlSeconds":5,"rules":[{"method":"GET","pathPattern":"/a"}],"cacheAuthorizedRequests":true}"#,
                "Caches GET responses for 5 seconds, requests with Authorization included",
            ),
        ];
        for (id, json, expected) in cases {
            assert_eq!(describe(id, json), expected, "{id} {json}");
        }
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(1023), "1,023 bytes");
        assert_eq!(bytes(1024), "1 kB");
        assert_eq!(bytes(512 << 20), "512 MB");
        assert_eq!(bytes(3 << 40), "3 TB");
    }
}
