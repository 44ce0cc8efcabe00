//! [`Compiled`]: a policy prepared once when the gateway loads its snapshot (regexes compiled,
//! IPs parsed). Compiling is also how a configuration is validated.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use http::HeaderMap;

use super::check::Errors;
use super::failure::PolicyFailure;
use super::{
    AccessRules, BasicAuthRealm, CacheRules, CorsRules, HeaderEditor, IpRule, JwtRules, Limit,
    PolicyConfig, ResourceFilter, TimeWindows, TransferQuota, UrlRewriter, ip_lists,
};
use crate::FieldError;

/// A compiled policy. Stateless request checks are in [`check_request`](Self::check_request)
/// and on the compiled types; the limiting and caching variants expose their configuration for
/// the gateway's stores.
#[derive(Debug, Clone)]
pub enum Compiled {
    RateLimit(Limit),
    Quota(Limit),
    TransferQuota(TransferQuota),
    IpAllowlist(IpRule),
    IpBlocklist(IpRule),
    IgnoredResources(ResourceFilter),
    TimeRestricted(TimeWindows),
    Cors(CorsRules),
    SimpleHeader(HeaderEditor),
    UrlRewriting(UrlRewriter),
    BasicAuth(BasicAuthRealm),
    Caching(CacheRules),
    Jwt(JwtRules),
    Authorization(AccessRules),
}

impl Compiled {
    /// Compiles a configuration, or returns every problem it has (see
    /// [`PolicyConfig::validate`]).
    pub fn compile(config: &PolicyConfig) -> Result<Compiled, Vec<FieldError>> {
        let mut errs = Errors::default();
        let compiled = match config {
            PolicyConfig::RateLimit(c) => {
                c.check(&mut errs, false);
                Some(Self::RateLimit(c.clone()))
            }
            PolicyConfig::Quota(c) => {
                c.check(&mut errs, true);
                Some(Self::Quota(c.clone()))
            }
            PolicyConfig::TransferQuota(c) => {
                c.check(&mut errs);
                Some(Self::TransferQuota(c.clone()))
            }
            PolicyConfig::IpAllowlist(c) => ip_lists::compile(c, &mut errs).map(Self::IpAllowlist),
            PolicyConfig::IpBlocklist(c) => ip_lists::compile(c, &mut errs).map(Self::IpBlocklist),
            PolicyConfig::IgnoredResources(c) => {
                ResourceFilter::compile(c, &mut errs).map(Self::IgnoredResources)
            }
            PolicyConfig::TimeRestricted(c) => {
                TimeWindows::compile(c, &mut errs).map(Self::TimeRestricted)
            }
            PolicyConfig::Cors(c) => CorsRules::compile(c, &mut errs).map(Self::Cors),
            PolicyConfig::SimpleHeader(c) => {
                HeaderEditor::compile(c, &mut errs).map(Self::SimpleHeader)
            }
            PolicyConfig::UrlRewriting(c) => {
                UrlRewriter::compile(c, &mut errs).map(Self::UrlRewriting)
            }
            PolicyConfig::BasicAuth(c) => {
                BasicAuthRealm::compile(c, &mut errs).map(Self::BasicAuth)
            }
            PolicyConfig::Caching(c) => CacheRules::compile(c, &mut errs).map(Self::Caching),
            PolicyConfig::Jwt(c) => JwtRules::compile(c, &mut errs).map(Self::Jwt),
            PolicyConfig::Authorization(c) => {
                AccessRules::compile(c, &mut errs).map(Self::Authorization)
            }
        };
        errs.finish(compiled)
    }

    /// The stateless request checks: IP allowlist and blocklist (on the [`client_ip`]), ignored
    /// resources and time restricted access. Every other policy passes here; BASIC
    /// authentication, CORS and the limits have their own calls.
    pub fn check_request(
        &self,
        method: &str,
        rest_path: &str,
        headers: &HeaderMap,
        peer: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<(), PolicyFailure> {
        match self {
            Self::IpAllowlist(rule) => rule.allow(headers, peer),
            Self::IpBlocklist(rule) => rule.block(headers, peer),
            Self::IgnoredResources(filter) => filter.check(method, rest_path),
            Self::TimeRestricted(windows) => windows.check(rest_path, now),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(id: &str, json: &str) -> Compiled {
        Compiled::compile(&PolicyConfig::parse(id, json).unwrap()).unwrap()
    }

    #[test]
    fn request_checks_through_the_compiled_policy() {
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2024-01-06T12:00:00Z")
            .unwrap()
            .to_utc();
        let mut forwarded = HeaderMap::new();
        forwarded.insert("x-forwarded-for", "192.0.2.99, 10.1.2.3".parse().unwrap());
        let none = HeaderMap::new();

        let allow = compile(
            "ip-allowlist",
            r#"{"ips":["10.0.0.0/8"],"ipHeader":"X-Forwarded-For"}"#,
        );
        assert!(
            allow
                .check_request("GET", "/", &forwarded, peer, now)
                .is_ok()
        );
        let refused = allow
            .check_request("GET", "/", &none, peer, now)
            .unwrap_err();
        assert_eq!((refused.status, refused.code.number()), (403, 10001));

        let block = compile(
            "ip-blocklist",
            r#"{"ips":["192.0.2.0/24"],"responseCode":404}"#,
        );
        let refused = block
            .check_request("GET", "/", &none, peer, now)
            .unwrap_err();
        assert_eq!((refused.status, refused.code.number()), (404, 10002));

        let ignored = compile(
            "ignored-resources",
            r#"{"rules":[{"verb":"*","pathPattern":"/admin.*"}]}"#,
        );
        assert_eq!(
            ignored
                .check_request("PUT", "/admin/x", &none, peer, now)
                .unwrap_err()
                .code
                .number(),
            10007
        );
        assert!(
            ignored
                .check_request("PUT", "/x/admin", &none, peer, now)
                .is_ok()
        );

        // 2024-01-06 is a Saturday.
        let weekdays = compile(
            "time-restricted-access",
            r#"{"rules":[{"timeStart":"00:00","timeEnd":"23:59","dayStart":1,"dayEnd":5,"pathPattern":".*"}]}"#,
        );
        assert_eq!(
            weekdays
                .check_request("GET", "/", &none, peer, now)
                .unwrap_err()
                .status,
            423
        );

        let rate = compile("rate-limiting", r#"{"limit":1,"period":"Second"}"#);
        assert!(rate.check_request("GET", "/", &none, peer, now).is_ok());
    }

    #[test]
    fn compile_refuses_what_validate_refuses() {
        let config = PolicyConfig::Quota(Limit {
            limit: 0,
            granularity: crate::policy::Granularity::Client,
            header: None,
            period: crate::policy::Period::Second,
        });
        let errors = Compiled::compile(&config).unwrap_err();
        assert_eq!(config.validate().unwrap_err(), errors);
        assert_eq!(errors.len(), 2);
    }
}
