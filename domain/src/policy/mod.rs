//! Policies: the catalogue of definitions, their typed configurations, validation, one-line
//! descriptions, and the pure rules the gateway applies to requests and responses.
//!
//! What is where:
//!
//! - this module: the catalogue ([`definitions`], [`definition`], [`Category`]);
//! - `config`: the configuration types and [`PolicyConfig`] (parse, validate, serialise);
//! - `describe`: [`PolicyConfig::describe`], the one-line description;
//! - `compiled`: [`Compiled`], a configuration prepared once for the gateway (regexes compiled,
//!   IPs parsed); `validate` is "does it compile", so both share one set of checks;
//! - `check`: the error collector and field checks shared by the compilers;
//! - `failure`: [`PolicyFailure`], the refusal the gateway turns into a response;
//! - `limits`: rate limiting (GCRA), quotas (calendar windows), counter keys, their failures;
//! - `ip`: IP allowlist / blocklist matching ([`IpMatcher`], [`client_ip`]);
//! - `path`: the one spelling of a request path that path rules match ([`normalize_path`]);
//! - `rules`: ignored resources and caching rules (method + path);
//! - `time`: time restricted access;
//! - `cors`: CORS preflight and actual request handling;
//! - `headers`: simple header edits and URL rewriting;
//! - `auth`: BASIC authentication.
//!
//! Nothing here performs I/O or reads a clock: callers pass `now`.

mod auth;
mod check;
mod compiled;
mod config;
mod cors;
mod describe;
mod failure;
mod headers;
mod ip;
mod limits;
mod path;
mod rules;
mod time;

use serde::{Deserialize, Serialize};

pub use crate::portal::{QUOTA, RATE_LIMITING, TRANSFER_QUOTA};
pub use auth::{BasicAuthRealm, basic_credentials};
pub use compiled::Compiled;
pub use config::{
    AddHeader, ApplyTo, BasicAuth, CacheRule, Caching, Cors, Direction, Granularity, Identity,
    IgnoredResources, IpList, Limit, Period, PolicyConfig, ResourceRule, SimpleHeader, StripBy,
    StripHeader, TimeRestricted, TimeRule, TransferQuota, UrlRewriting,
};
pub use cors::{CorsRules, is_preflight};
pub use describe::bytes;
pub use failure::{FailureType, LimitKind, PolicyFailure};
pub use headers::{HeaderEditor, UrlRewriter};
pub use ip::{IpMatcher, client_ip};
pub use limits::{
    GcraOutcome, api_scope, caller_chosen, client_scope, gcra, granularity_key, quota_check,
    quota_failure, rate_limit_failure, transfer_quota_failure, user_scope,
};
pub use path::normalize_path;
pub use rules::{CacheRules, ResourceFilter};
pub use time::TimeWindows;

/// Definition id of IP Allowlist.
pub const IP_ALLOWLIST: &str = "ip-allowlist";
/// Definition id of IP Blocklist.
pub const IP_BLOCKLIST: &str = "ip-blocklist";
/// Definition id of Ignored Resources.
pub const IGNORED_RESOURCES: &str = "ignored-resources";
/// Definition id of Time Restricted Access.
pub const TIME_RESTRICTED_ACCESS: &str = "time-restricted-access";
/// Definition id of CORS.
pub const CORS: &str = "cors";
/// Definition id of Simple Header.
pub const SIMPLE_HEADER: &str = "simple-header";
/// Definition id of URL Rewriting.
pub const URL_REWRITING: &str = "url-rewriting";
/// Definition id of BASIC Authentication.
pub const BASIC_AUTH: &str = "basic-auth";
/// Definition id of Caching Resources.
pub const CACHING: &str = "caching";

/// The group a policy definition belongs to in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Security,
    Limitation,
    Modification,
    Other,
}

impl Category {
    /// Every category, in the order the catalogue shows them.
    pub const ALL: [Category; 4] = [
        Category::Security,
        Category::Limitation,
        Category::Modification,
        Category::Other,
    ];

    /// The label shown to users ("Security", …).
    pub fn label(self) -> &'static str {
        match self {
            Category::Security => "Security",
            Category::Limitation => "Limitation",
            Category::Modification => "Modification",
            Category::Other => "Other",
        }
    }
}

/// A policy definition of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Definition {
    /// Stable id, stored with each policy ("rate-limiting", …).
    pub id: &'static str,
    /// The name shown to users.
    pub name: &'static str,
    pub category: Category,
    /// One sentence: what the policy does.
    pub summary: &'static str,
}

static DEFINITIONS: [Definition; 12] = [
    Definition {
        id: RATE_LIMITING,
        name: "Rate Limiting",
        category: Category::Limitation,
        summary: "Limits how many requests a consumer may make per second, minute, hour, day, month or year.",
    },
    Definition {
        id: QUOTA,
        name: "Quota",
        category: Category::Limitation,
        summary: "Limits how many requests a consumer may make per hour, day, month or year of the calendar.",
    },
    Definition {
        id: TRANSFER_QUOTA,
        name: "Transfer Quota",
        category: Category::Limitation,
        summary: "Limits how many bytes a consumer may upload or download per hour, day, month or year.",
    },
    Definition {
        id: IP_ALLOWLIST,
        name: "IP Allowlist",
        category: Category::Security,
        summary: "Only lets requests through from the listed IP addresses, CIDR blocks and ranges.",
    },
    Definition {
        id: IP_BLOCKLIST,
        name: "IP Blocklist",
        category: Category::Security,
        summary: "Refuses requests from the listed IP addresses, CIDR blocks and ranges.",
    },
    Definition {
        id: IGNORED_RESOURCES,
        name: "Ignored Resources",
        category: Category::Limitation,
        summary: "Hides resources of the API: matching requests are answered 404 Not Found.",
    },
    Definition {
        id: TIME_RESTRICTED_ACCESS,
        name: "Time Restricted Access",
        category: Category::Security,
        summary: "Makes resources available only on given days and hours (UTC).",
    },
    Definition {
        id: CORS,
        name: "CORS",
        category: Category::Security,
        summary: "Lets browsers call the API from other origins (Cross-Origin Resource Sharing).",
    },
    Definition {
        id: SIMPLE_HEADER,
        name: "Simple Header",
        category: Category::Modification,
        summary: "Adds headers to requests or responses, or strips them.",
    },
    Definition {
        id: URL_REWRITING,
        name: "URL Rewriting",
        category: Category::Modification,
        summary: "Rewrites the request URL, headers or response body with a regular expression.",
    },
    Definition {
        id: BASIC_AUTH,
        name: "BASIC Authentication",
        category: Category::Security,
        summary: "Requires a user name and password (HTTP BASIC authentication) from a list of identities.",
    },
    Definition {
        id: CACHING,
        name: "Caching Resources",
        category: Category::Other,
        summary: "Caches matching responses in the gateway for a number of seconds.",
    },
];

/// The catalogue of policy definitions.
pub fn definitions() -> &'static [Definition] {
    &DEFINITIONS
}

/// The definition with this id.
pub fn definition(id: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|d| d.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_twelve_unique_definitions_in_their_categories() {
        let ids: Vec<_> = definitions().iter().map(|d| d.id).collect();
        assert_eq!(
            ids,
            [
                "rate-limiting",
                "quota",
                "transfer-quota",
                "ip-allowlist",
                "ip-blocklist",
                "ignored-resources",
                "time-restricted-access",
                "cors",
                "simple-header",
                "url-rewriting",
                "basic-auth",
                "caching"
            ]
        );
        let in_category = |c: Category| -> Vec<&str> {
            definitions()
                .iter()
                .filter(|d| d.category == c)
                .map(|d| d.id)
                .collect()
        };
        assert_eq!(
            in_category(Category::Security),
            [
                "ip-allowlist",
                "ip-blocklist",
                "time-restricted-access",
                "cors",
                "basic-auth"
            ]
        );
        assert_eq!(
            in_category(Category::Limitation),
            [
                "rate-limiting",
                "quota",
                "transfer-quota",
                "ignored-resources"
            ]
        );
        assert_eq!(
            in_category(Category::Modification),
            ["simple-header", "url-rewriting"]
        );
        assert_eq!(in_category(Category::Other), ["caching"]);
        assert!(definitions().iter().all(|d| d.summary.ends_with('.')));
    }

    #[test]
    fn definition_by_id() {
        assert_eq!(definition("cors").map(|d| d.name), Some("CORS"));
        assert_eq!(
            definition("basic-auth").map(|d| d.category),
            Some(Category::Security)
        );
        assert!(definition("nope").is_none());
    }

    #[test]
    fn category_labels() {
        let labels: Vec<_> = Category::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels, ["Security", "Limitation", "Modification", "Other"]);
    }
}
