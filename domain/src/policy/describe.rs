//! [`PolicyConfig::describe`]: the one-line description of a configuration shown in policy
//! lists.

use super::time::parse_hhmm;
use super::{
    BasicAuth, Caching, Cors, Granularity, IgnoredResources, IpList, Limit, PolicyConfig,
    SimpleHeader, TimeRestricted, TimeRule, TransferQuota,
};
use crate::portal::thousands;

/// Lists longer than this are cut short ("…, and 3 more").
const MAX_LISTED: usize = 5;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

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
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// "a, b, c" or "a, b, c, d, e, and 2 more".
fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
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
fn per(granularity: Granularity, header: Option<&str>) -> String {
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
            Self::RateLimit(c) | Self::Quota(c) => describe_limit(c),
            Self::TransferQuota(c) => describe_transfer(c),
            Self::IpAllowlist(c) => format!("Only requests from {} are allowed", ips(c)),
            Self::IpBlocklist(c) => format!("Requests from {} are refused", ips(c)),
            Self::IgnoredResources(c) => describe_ignored(c),
            Self::TimeRestricted(c) => describe_time(c),
            Self::Cors(c) => describe_cors(c),
            Self::SimpleHeader(c) => describe_headers(c),
            Self::UrlRewriting(c) => format!("Rewrites {} to {}", c.from_regex, c.to_replacement),
            Self::BasicAuth(c) => describe_basic(c),
            Self::Caching(c) => describe_caching(c),
        }
    }
}

fn describe_limit(c: &Limit) -> String {
    match c.granularity {
        Granularity::User => format!(
            "Requests per User (header {}) limited to {} per {}",
            c.header.as_deref().unwrap_or("?"),
            thousands(c.limit),
            c.period.label()
        ),
        other => format!(
            "Consumers are limited to {} per {} per {}",
            count(c.limit, "request", "requests"),
            c.period.label(),
            other.label()
        ),
    }
}

fn describe_transfer(c: &TransferQuota) -> String {
    format!(
        "Consumers may transfer at most {} per {}{} ({})",
        bytes(c.limit),
        c.period.label(),
        per(c.granularity, c.header.as_deref()),
        c.direction.label()
    )
}

fn ips(c: &IpList) -> String {
    if c.ips.iter().any(|ip| ip.trim() == "*") {
        "any address".to_owned()
    } else {
        list(c.ips.iter().map(|ip| ip.trim()))
    }
}

fn describe_ignored(c: &IgnoredResources) -> String {
    let rules = list(c.rules.iter().map(|r| {
        if r.verb == "*" {
            r.path_pattern.clone()
        } else {
            format!("{} {}", r.verb.to_ascii_uppercase(), r.path_pattern)
        }
    }));
    let verb = if c.rules.len() == 1 { "is" } else { "are" };
    format!("{rules} {verb} not available")
}

fn days(rule: &TimeRule) -> String {
    let name = |d: u8| {
        DAYS.get(usize::from(d).wrapping_sub(1))
            .copied()
            .unwrap_or("?")
    };
    if rule.day_start == rule.day_end {
        name(rule.day_start).to_owned()
    } else {
        format!("{}–{}", name(rule.day_start), name(rule.day_end))
    }
}

fn describe_time(c: &TimeRestricted) -> String {
    let windows: Vec<String> = c
        .rules
        .iter()
        .map(|r| {
            let hhmm = |s: &str| match parse_hhmm(s) {
                Some(m) => format!("{:02}:{:02}", m / 60, m % 60),
                None => s.to_owned(),
            };
            let path = match r.path_pattern.as_str() {
                ".*" | "/.*" => String::new(),
                p => format!(" for {p}"),
            };
            format!(
                "{} {}–{} UTC{path}",
                days(r),
                hhmm(&r.time_start),
                hhmm(&r.time_end)
            )
        })
        .collect();
    format!("Available {}", windows.join("; "))
}

fn describe_cors(c: &Cors) -> String {
    let from = if c.allow_origins.iter().any(|o| o == "*") {
        "any origin".to_owned()
    } else {
        list(&c.allow_origins)
    };
    let credentials = if c.allow_credentials {
        " (with credentials)"
    } else {
        ""
    };
    format!("Cross-origin requests allowed from {from}{credentials}")
}

fn describe_headers(c: &SimpleHeader) -> String {
    let mut parts = Vec::new();
    if !c.add_headers.is_empty() {
        parts.push(format!(
            "Adds {}",
            count(c.add_headers.len() as u64, "header", "headers")
        ));
    }
    if !c.strip_headers.is_empty() {
        let strips = count(c.strip_headers.len() as u64, "header", "headers");
        parts.push(if parts.is_empty() {
            format!("Strips {strips}")
        } else {
            format!("strips {strips}")
        });
    }
    if parts.is_empty() {
        "Changes no headers".to_owned()
    } else {
        parts.join(", ")
    }
}

fn describe_basic(c: &BasicAuth) -> String {
    format!(
        "BASIC authentication with {} (realm {})",
        count(c.identities.len() as u64, "identity", "identities"),
        c.realm.trim()
    )
}

fn describe_caching(c: &Caching) -> String {
    let mut methods: Vec<String> = Vec::new();
    for rule in &c.rules {
        let method = match rule.method.as_str() {
            "*" => "all".to_owned(),
            m => m.to_ascii_uppercase(),
        };
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    format!(
        "Caches {} responses for {}{}",
        list(&methods),
        count(u64::from(c.ttl_seconds), "second", "seconds"),
        if c.cache_authorized_requests {
            ", requests with Authorization included"
        } else {
            ""
        }
    )
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
