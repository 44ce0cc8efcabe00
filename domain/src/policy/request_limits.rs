//! Rate Limiting and Quota, the two policies that count requests and share one configuration
//! ([`Limit`]): their catalogue entries, validation, description, limits summary and failures.
//! The counting itself (GCRA, calendar windows, counter keys) is shared with Transfer Quota in
//! `limits`; the compiled rule is the configuration itself (the gateway's counters apply it).

use serde::{Deserialize, Serialize};

use super::check::Errors;
use super::describe::count;
use super::failure::{FailureCode, PolicyFailure};
use super::limits::{LimitKind, check_amount, check_calendar_period, check_granularity};
use super::{Category, Definition, Granularity, Period};
use crate::portal::thousands;

/// Rate Limiting's catalogue entry.
pub(super) const RATE_LIMITING_DEFINITION: Definition = Definition {
    id: "rate-limiting",
    name: "Rate Limiting",
    category: Category::Limitation,
    summary: "Limits how many requests a consumer may make per second, minute, hour, day, month or year.",
};

/// Quota's catalogue entry.
pub(super) const QUOTA_DEFINITION: Definition = Definition {
    id: "quota",
    name: "Quota",
    category: Category::Limitation,
    summary: "Limits how many requests a consumer may make per hour, day, month or year of the calendar.",
};

/// Rate Limiting's failure codes.
pub(super) const RATE_LIMITING_FAILURES: &[FailureCode] = &[FailureCode::RateLimitExceeded];
/// Quota's failure codes.
pub(super) const QUOTA_FAILURES: &[FailureCode] = &[FailureCode::QuotaExceeded];

/// The largest request limit accepted.
const MAX_REQUESTS: u64 = 1_000_000_000_000;

/// Rate Limiting and Quota: `limit` requests per `period`, counted per `granularity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    pub limit: u64,
    #[serde(default)]
    pub granularity: Granularity,
    /// The header identifying the user; required (a valid header name) for
    /// [`Granularity::User`], ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub period: Period,
}

impl Limit {
    /// Rate limiting allows any period; quotas count per hour or longer.
    pub(super) fn check(&self, errs: &mut Errors, quota: bool) {
        check_amount(errs, self.limit, MAX_REQUESTS);
        if quota {
            check_calendar_period(errs, self.period);
        }
        check_granularity(errs, self.granularity, self.header.as_deref());
    }
}

/// "Consumers are limited to 100 requests per Minute per Client".
pub(super) fn describe(c: &Limit) -> String {
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

/// What the Developer Portal's limits summary says: "100 requests per Minute".
pub(super) fn summary(c: &Limit) -> String {
    format!(
        "{} per {}",
        count(c.limit, "request", "requests"),
        c.period.label()
    )
}

/// 429, [`FailureCode::RateLimitExceeded`], with `X-RateLimit-*` headers.
pub fn rate_limit_failure(limit: u64, reset_secs: u64) -> PolicyFailure {
    LimitKind::RateLimit.failure(
        FailureCode::RateLimitExceeded,
        "Rate limit exceeded.",
        limit,
        reset_secs,
    )
}

/// 429, [`FailureCode::QuotaExceeded`], with `X-Quota-*` headers.
pub fn quota_failure(limit: u64, reset_secs: u64) -> PolicyFailure {
    LimitKind::Quota.failure(
        FailureCode::QuotaExceeded,
        "Request quota exceeded.",
        limit,
        reset_secs,
    )
}
