//! Policies: the registry of policy types ([`PolicyKind`]), their typed configurations,
//! validation, one-line descriptions, failures, and the pure rules the gateway applies to
//! requests and responses.
//!
//! One policy type, one module. Each holds its catalogue entry (id, name, category, summary),
//! its configuration with validation and description, its failure codes and its compiled rule:
//!
//! | kind | module | configuration | compiled rule |
//! |---|---|---|---|
//! | Rate Limiting, Quota | `request_limits` | [`Limit`] | [`Limit`] (the gateway's counters) |
//! | Transfer Quota | `transfer_quota` | [`TransferQuota`] | [`TransferQuota`] |
//! | IP Allowlist, IP Blocklist | `ip_lists` | [`IpList`] | [`IpRule`] |
//! | Ignored Resources | `ignored_resources` | [`IgnoredResources`] | [`ResourceFilter`] |
//! | Time Restricted Access | `time_restricted` | [`TimeRestricted`] | [`TimeWindows`] |
//! | CORS | `cors` | [`Cors`] | [`CorsRules`] |
//! | Simple Header | `simple_header` | [`SimpleHeader`] | [`HeaderEditor`] |
//! | URL Rewriting | `url_rewriting` | [`UrlRewriting`] | [`UrlRewriter`] |
//! | BASIC Authentication | `basic_auth` | [`BasicAuth`] | [`BasicAuthRealm`] |
//! | Caching Resources | `caching` | [`Caching`] | [`CacheRules`] |
//! | JWT Validation | `jwt` | [`Jwt`] | [`JwtRules`] |
//! | Authorization | `authorization` | [`Authorization`] | [`AccessRules`] |
//!
//! Each kind's failure codes are its [`PolicyKind::failure_codes`]; their numbers, statuses and
//! meanings are in [`FailureCode`](crate::FailureCode) (and `docs/failure-codes.md`).
//!
//! Shared by them:
//!
//! - this module: the registry, [`PolicyKind`], the only list of every kind: its id, catalogue
//!   entry ([`definitions`], [`definition`], [`Category`]) and failure codes; the id constants
//!   ([`RATE_LIMITING`], …) are read from it;
//! - `config`: [`PolicyConfig`] (parse by kind, validate, serialise);
//! - `describe`: [`PolicyConfig::describe`] and [`PolicyConfig::limit_summary`], and the
//!   wording helpers;
//! - `compiled`: [`Compiled`], a configuration prepared once for the gateway (regexes compiled,
//!   IPs parsed); `validate` is "does it compile", so both share one set of checks;
//! - `check`: the error collector and field checks shared by the compilers;
//! - `failure`: [`PolicyFailure`], the refusal the gateway turns into a response; its code is a
//!   [`FailureCode`] (`crate::failure`, with the gateway's own codes);
//! - `limits`: what the three limiting policies share: periods, granularities, GCRA, calendar
//!   windows, counter keys, their headers ([`LimitKind`]);
//! - `jwt`: JWT Validation (configuration, checks on decoded tokens; signatures in the gateway);
//! - `authorization`: Authorization (role rules over the identity earlier policies verified);
//! - `path`: the one spelling of a request path that path rules match ([`normalize_path`]), and
//!   the method + path rule of Ignored Resources and Caching Resources.
//!
//! To add a policy type: a module here with the pieces above, a [`PolicyKind`] variant (in
//! [`PolicyKind::ALL`] and the matches of the registry), a [`PolicyConfig`] and a [`Compiled`]
//! variant (the compiler then points at every match to complete), its codes in
//! [`FailureCode`], and its phase function in `gateway/src/chain.rs`.
//!
//! Nothing here performs I/O or reads a clock: callers pass `now`.

mod authorization;
mod basic_auth;
mod caching;
mod check;
mod compiled;
mod config;
mod cors;
mod describe;
mod failure;
mod ignored_resources;
mod ip_lists;
mod jwt;
mod limits;
mod path;
mod request_limits;
mod simple_header;
mod time_restricted;
mod transfer_quota;
mod url_rewriting;

use serde::{Deserialize, Serialize};

pub use authorization::{AccessRule, AccessRules, Authorization, DefaultAction, Principal};
pub use basic_auth::{BasicAuth, BasicAuthRealm, Identity, basic_credentials};
pub use caching::{CacheRule, CacheRules, Caching};
pub use compiled::Compiled;
pub use config::PolicyConfig;
pub use cors::{Cors, CorsRules, is_preflight};
pub use describe::bytes;
pub use failure::{FailureCode, FailureType, PolicyFailure};
pub use ignored_resources::{IgnoredResources, ResourceFilter, ResourceRule};
pub use ip_lists::{IpList, IpMatcher, IpRule, client_ip};
pub use jwt::{
    DecodedToken, ForwardClaim, Jwt, JwtAlgorithm, JwtRefusal, JwtRules, KeyFamily, KeySource,
    RequiredClaim, Secret, StaticKey, claim, decode_base64url,
};
pub use limits::{
    GcraOutcome, Granularity, LimitKind, Period, api_scope, caller_chosen, client_scope, gcra,
    granularity_key, quota_check, user_scope,
};
pub use path::normalize_path;
pub use request_limits::{Limit, quota_failure, rate_limit_failure};
pub use simple_header::{AddHeader, ApplyTo, HeaderEditor, SimpleHeader, StripBy, StripHeader};
pub use time_restricted::{TimeRestricted, TimeRule, TimeWindows};
pub use transfer_quota::{Direction, TransferQuota, transfer_quota_failure};
pub use url_rewriting::{UrlRewriter, UrlRewriting};

/// A policy type: the one name the domain, the server, the UI and the gateway use for it.
///
/// Its [`id`](Self::id) is what is stored with each policy; [`definition`](Self::definition)
/// is what the catalogue shows. This is the registry: the one place that lists every kind and
/// says which module holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyKind {
    RateLimiting,
    Quota,
    TransferQuota,
    IpAllowlist,
    IpBlocklist,
    IgnoredResources,
    TimeRestrictedAccess,
    Cors,
    SimpleHeader,
    UrlRewriting,
    BasicAuth,
    Caching,
    Jwt,
    Authorization,
}

impl PolicyKind {
    /// Every policy type, in the catalogue's order.
    pub const ALL: [PolicyKind; 14] = [
        PolicyKind::RateLimiting,
        PolicyKind::Quota,
        PolicyKind::TransferQuota,
        PolicyKind::IpAllowlist,
        PolicyKind::IpBlocklist,
        PolicyKind::IgnoredResources,
        PolicyKind::TimeRestrictedAccess,
        PolicyKind::Cors,
        PolicyKind::SimpleHeader,
        PolicyKind::UrlRewriting,
        PolicyKind::BasicAuth,
        PolicyKind::Caching,
        PolicyKind::Jwt,
        PolicyKind::Authorization,
    ];

    /// The stored definition id ("rate-limiting", …).
    pub const fn id(self) -> &'static str {
        self.definition().id
    }

    /// The policy type stored under `id`.
    pub fn from_id(id: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Its catalogue entry, from its module.
    pub const fn definition(self) -> &'static Definition {
        match self {
            PolicyKind::RateLimiting => &request_limits::RATE_LIMITING_DEFINITION,
            PolicyKind::Quota => &request_limits::QUOTA_DEFINITION,
            PolicyKind::TransferQuota => &transfer_quota::DEFINITION,
            PolicyKind::IpAllowlist => &ip_lists::ALLOWLIST_DEFINITION,
            PolicyKind::IpBlocklist => &ip_lists::BLOCKLIST_DEFINITION,
            PolicyKind::IgnoredResources => &ignored_resources::DEFINITION,
            PolicyKind::TimeRestrictedAccess => &time_restricted::DEFINITION,
            PolicyKind::Cors => &cors::DEFINITION,
            PolicyKind::SimpleHeader => &simple_header::DEFINITION,
            PolicyKind::UrlRewriting => &url_rewriting::DEFINITION,
            PolicyKind::BasicAuth => &basic_auth::DEFINITION,
            PolicyKind::Caching => &caching::DEFINITION,
            PolicyKind::Jwt => &jwt::DEFINITION,
            PolicyKind::Authorization => &authorization::DEFINITION,
        }
    }

    /// The failure codes its refusals carry, from its module.
    pub const fn failure_codes(self) -> &'static [FailureCode] {
        match self {
            PolicyKind::RateLimiting => request_limits::RATE_LIMITING_FAILURES,
            PolicyKind::Quota => request_limits::QUOTA_FAILURES,
            PolicyKind::TransferQuota => transfer_quota::FAILURES,
            PolicyKind::IpAllowlist => ip_lists::ALLOWLIST_FAILURES,
            PolicyKind::IpBlocklist => ip_lists::BLOCKLIST_FAILURES,
            PolicyKind::IgnoredResources => ignored_resources::FAILURES,
            PolicyKind::TimeRestrictedAccess => time_restricted::FAILURES,
            PolicyKind::Cors => cors::FAILURES,
            PolicyKind::SimpleHeader => simple_header::FAILURES,
            PolicyKind::UrlRewriting => url_rewriting::FAILURES,
            PolicyKind::BasicAuth => basic_auth::FAILURES,
            PolicyKind::Caching => caching::FAILURES,
            PolicyKind::Jwt => jwt::FAILURES,
            PolicyKind::Authorization => authorization::FAILURES,
        }
    }
}

/// Definition id of Rate Limiting.
pub const RATE_LIMITING: &str = PolicyKind::RateLimiting.id();
/// Definition id of Quota.
pub const QUOTA: &str = PolicyKind::Quota.id();
/// Definition id of Transfer Quota.
pub const TRANSFER_QUOTA: &str = PolicyKind::TransferQuota.id();
/// Definition id of IP Allowlist.
pub const IP_ALLOWLIST: &str = PolicyKind::IpAllowlist.id();
/// Definition id of IP Blocklist.
pub const IP_BLOCKLIST: &str = PolicyKind::IpBlocklist.id();
/// Definition id of Ignored Resources.
pub const IGNORED_RESOURCES: &str = PolicyKind::IgnoredResources.id();
/// Definition id of Time Restricted Access.
pub const TIME_RESTRICTED_ACCESS: &str = PolicyKind::TimeRestrictedAccess.id();
/// Definition id of CORS.
pub const CORS: &str = PolicyKind::Cors.id();
/// Definition id of Simple Header.
pub const SIMPLE_HEADER: &str = PolicyKind::SimpleHeader.id();
/// Definition id of URL Rewriting.
pub const URL_REWRITING: &str = PolicyKind::UrlRewriting.id();
/// Definition id of BASIC Authentication.
pub const BASIC_AUTH: &str = PolicyKind::BasicAuth.id();
/// Definition id of Caching Resources.
pub const CACHING: &str = PolicyKind::Caching.id();
/// Definition id of JWT Validation.
pub const JWT: &str = PolicyKind::Jwt.id();
/// Definition id of Authorization.
pub const AUTHORIZATION: &str = PolicyKind::Authorization.id();

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

/// The catalogue, in [`PolicyKind::ALL`]'s order.
static DEFINITIONS: [Definition; PolicyKind::ALL.len()] = {
    let mut out = [*PolicyKind::RateLimiting.definition(); PolicyKind::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = *PolicyKind::ALL[i].definition();
        i += 1;
    }
    out
};

/// The catalogue of policy definitions.
pub fn definitions() -> &'static [Definition] {
    &DEFINITIONS
}

/// The definition with this id.
pub fn definition(id: &str) -> Option<&'static Definition> {
    PolicyKind::from_id(id).map(PolicyKind::definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_fourteen_unique_definitions_in_their_categories() {
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
                "caching",
                "jwt",
                "authorization"
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
                "basic-auth",
                "jwt",
                "authorization"
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
    fn kinds_follow_the_catalogue() {
        for (kind, def) in PolicyKind::ALL.iter().zip(definitions()) {
            assert_eq!(kind.id(), def.id);
            assert_eq!(PolicyKind::from_id(def.id), Some(*kind));
        }
        assert_eq!(PolicyKind::ALL.len(), definitions().len());
        assert_eq!(PolicyKind::from_id("nope"), None);
    }

    #[test]
    fn category_labels() {
        let labels: Vec<_> = Category::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels, ["Security", "Limitation", "Modification", "Other"]);
    }

    #[test]
    fn every_policy_code_belongs_to_one_kind() {
        use crate::failure::Family;
        let mut claimed: Vec<FailureCode> = PolicyKind::ALL
            .iter()
            .flat_map(|k| k.failure_codes().iter().copied())
            .collect();
        assert!(claimed.iter().all(|c| c.family() == Family::Policy));
        claimed.sort_by_key(|c| c.number());
        let before = claimed.len();
        claimed.dedup();
        assert_eq!(claimed.len(), before, "a code claimed by two kinds");
        let policy_codes: Vec<FailureCode> = FailureCode::of(Family::Policy).collect();
        assert_eq!(claimed, policy_codes);
    }
}
