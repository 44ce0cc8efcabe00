//! Caching Resources: responses the gateway keeps for a while. Its catalogue entry,
//! configuration ([`Caching`]), validation, description and compiled rule ([`CacheRules`]); the
//! store itself is the gateway's. It refuses nothing, so it has no failure code.

use serde::{Deserialize, Serialize};

use super::check::{Errors, item_field};
use super::describe::{count, list};
use super::failure::FailureCode;
use super::path::{MethodPath, require_rules};
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "caching",
    name: "Caching Resources",
    category: Category::Other,
    summary: "Caches matching responses in the gateway for a number of seconds.",
};

/// Its failure codes: none.
pub(super) const FAILURES: &[FailureCode] = &[];

/// The longest cache time accepted: 30 days.
const MAX_TTL_SECONDS: u32 = 86_400 * 30;

/// A rule of Caching Resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CacheRule {
    /// An HTTP method, or `*`.
    pub method: String,
    /// A regular expression matched against the whole rest path.
    pub path_pattern: String,
    /// The response status cached; without it, 200 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl Default for CacheRule {
    fn default() -> Self {
        Self {
            method: "GET".to_owned(),
            path_pattern: String::new(),
            status_code: None,
        }
    }
}

/// Caching Resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Caching {
    pub ttl_seconds: u32,
    pub rules: Vec<CacheRule>,
    /// Also cache requests that carry `Authorization` (off: their answers are usually
    /// personal). The cache key holds the caller's identity either way.
    pub cache_authorized_requests: bool,
}

impl Default for Caching {
    fn default() -> Self {
        Self {
            ttl_seconds: 60,
            rules: Vec::new(),
            cache_authorized_requests: false,
        }
    }
}

/// "Caches GET responses for 60 seconds".
pub(super) fn describe(c: &Caching) -> String {
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

/// Compiled Caching Resources.
#[derive(Debug, Clone)]
pub struct CacheRules {
    ttl_seconds: u32,
    authorized: bool,
    rules: Vec<(MethodPath, Option<u16>)>,
}

impl CacheRules {
    pub(super) fn compile(config: &Caching, errs: &mut Errors) -> Option<Self> {
        errs.ensure(
            (1..=MAX_TTL_SECONDS).contains(&config.ttl_seconds),
            "ttlSeconds",
            "Enter a time to live from 1 second to 30 days (2,592,000 seconds).",
        );
        require_rules(errs, config.rules.len());
        let rules: Vec<_> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let rule = MethodPath::compile(errs, i, ("method", &r.method), &r.path_pattern);
                let status_ok = r.status_code.is_none_or(|s| (100..=599).contains(&s));
                errs.ensure(
                    status_ok,
                    &item_field("rules", i, "statusCode"),
                    "Enter a status code from 100 to 599.",
                );
                Some((rule?, r.status_code))
            })
            .collect();
        Some(Self {
            ttl_seconds: config.ttl_seconds,
            authorized: config.cache_authorized_requests,
            rules: rules.into_iter().collect::<Option<_>>()?,
        })
    }

    /// How long a cached response is served, in seconds.
    pub fn ttl_seconds(&self) -> u32 {
        self.ttl_seconds
    }

    /// Whether a request (`status` None) is a candidate for the cache, or a response (`status`
    /// Some) may be stored: method and rest path match a rule, and the status is the rule's
    /// (200 when the rule names none).
    pub fn cacheable(&self, method: &str, rest_path: &str, status: Option<u16>) -> bool {
        self.rules.iter().any(|(rule, wanted)| {
            rule.matches(method, rest_path) && status.is_none_or(|s| s == wanted.unwrap_or(200))
        })
    }

    /// Whether a request with these headers (as they go to the backend) may use the cache: one
    /// carrying `Authorization` only when the policy says so.
    pub fn admits(&self, headers: &http::HeaderMap) -> bool {
        self.authorized || !headers.contains_key(http::header::AUTHORIZATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caching_rules() {
        let config = Caching {
            ttl_seconds: 60,
            rules: vec![
                CacheRule {
                    method: "GET".to_owned(),
                    path_pattern: "/weather/.*".to_owned(),
                    status_code: None,
                },
                CacheRule {
                    method: "*".to_owned(),
                    path_pattern: "/missing".to_owned(),
                    status_code: Some(404),
                },
            ],
            cache_authorized_requests: false,
        };
        let mut errs = Errors::default();
        let compiled = CacheRules::compile(&config, &mut errs);
        let rules = errs.finish(compiled).unwrap();
        assert_eq!(rules.ttl_seconds(), 60);
        // Requests with Authorization stay out unless the policy lets them in.
        let mut authorized = http::HeaderMap::new();
        assert!(rules.admits(&authorized));
        authorized.insert("authorization", "Bearer t".parse().unwrap());
        assert!(!rules.admits(&authorized));
        let open = Caching {
            cache_authorized_requests: true,
            ..config.clone()
        };
        let mut errs = Errors::default();
        let compiled = CacheRules::compile(&open, &mut errs);
        assert!(errs.finish(compiled).unwrap().admits(&authorized));
        // (method, path, status, cacheable)
        let cases = [
            ("GET", "/weather/paris", None, true),
            ("GET", "/weather/paris", Some(200), true),
            ("GET", "/weather/paris", Some(500), false),
            ("POST", "/weather/paris", None, false),
            ("GET", "/other", None, false),
            ("HEAD", "/missing", Some(404), true),
            ("HEAD", "/missing", Some(200), false),
        ];
        for (method, path, status, expected) in cases {
            assert_eq!(
                rules.cacheable(method, path, status),
                expected,
                "{method} {path} {status:?}"
            );
        }
    }
}
