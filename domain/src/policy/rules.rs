//! Method + path rules: Ignored Resources ([`ResourceFilter`]) and Caching Resources
//! ([`CacheRules`]).

use regex::Regex;

use super::check::{Errors, Match, item_field};
use super::failure::{FailureType, PolicyFailure};
use super::{Caching, IgnoredResources};

/// The longest cache time accepted: 30 days.
const MAX_TTL_SECONDS: u32 = 86_400 * 30;

/// A compiled method (upper case, or `*` for any) and whole-path regex.
#[derive(Debug, Clone)]
struct MethodPath {
    method: String,
    path: Regex,
}

impl MethodPath {
    /// Checks `rules[i].{method_field}` and `rules[i].pathPattern`.
    fn compile(
        errs: &mut Errors,
        index: usize,
        (method_field, method): (&str, &str),
        pattern: &str,
    ) -> Option<Self> {
        let method = errs.method(&item_field("rules", index, method_field), method);
        let path = errs.regex(
            &item_field("rules", index, "pathPattern"),
            pattern,
            Match::Whole,
        );
        Some(Self {
            method: method?,
            path: path?,
        })
    }

    fn matches(&self, method: &str, rest_path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && self.path.is_match(rest_path)
    }
}

fn require_rules(errs: &mut Errors, count: usize) {
    errs.ensure(count > 0, "rules", "Add at least one rule.");
}

/// Compiled Ignored Resources: requests matching a rule are answered 404.
#[derive(Debug, Clone)]
pub struct ResourceFilter {
    rules: Vec<MethodPath>,
}

impl ResourceFilter {
    pub(crate) fn compile(config: &IgnoredResources, errs: &mut Errors) -> Option<Self> {
        require_rules(errs, config.rules.len());
        let rules: Vec<_> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| MethodPath::compile(errs, i, ("verb", &r.verb), &r.path_pattern))
            .collect();
        Some(Self {
            rules: rules.into_iter().collect::<Option<_>>()?,
        })
    }

    /// Refuses (404, code 10007) a request whose method and rest path match a rule.
    pub fn check(&self, method: &str, rest_path: &str) -> Result<(), PolicyFailure> {
        if self.rules.iter().any(|r| r.matches(method, rest_path)) {
            Err(PolicyFailure::new(
                404,
                10007,
                FailureType::Other,
                "This resource is not available.",
            ))
        } else {
            Ok(())
        }
    }
}

/// Compiled Caching Resources.
#[derive(Debug, Clone)]
pub struct CacheRules {
    ttl_seconds: u32,
    authorized: bool,
    rules: Vec<(MethodPath, Option<u16>)>,
}

impl CacheRules {
    pub(crate) fn compile(config: &Caching, errs: &mut Errors) -> Option<Self> {
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
    use crate::policy::{CacheRule, ResourceRule};

    fn filter(rules: &[(&str, &str)]) -> ResourceFilter {
        let config = IgnoredResources {
            rules: rules
                .iter()
                .map(|(verb, path)| ResourceRule {
                    verb: (*verb).to_owned(),
                    path_pattern: (*path).to_owned(),
                })
                .collect(),
        };
        let mut errs = Errors::default();
        let compiled = ResourceFilter::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    #[test]
    fn ignored_resources() {
        let f = filter(&[("GET", "/admin.*"), ("*", "/internal/[0-9]+")]);
        // (method, rest path, ignored)
        let cases = [
            ("GET", "/admin", true),
            ("get", "/admin/users", true),
            ("POST", "/admin", false),
            ("GET", "/v1/admin", false),
            ("DELETE", "/internal/42", true),
            ("GET", "/internal/42/x", false),
            ("GET", "/public", false),
        ];
        for (method, path, ignored) in cases {
            assert_eq!(f.check(method, path).is_err(), ignored, "{method} {path}");
        }
        let failure = f.check("GET", "/admin").unwrap_err();
        assert_eq!((failure.status, failure.code), (404, 10007));
        assert_eq!(failure.failure_type, FailureType::Other);
    }

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
