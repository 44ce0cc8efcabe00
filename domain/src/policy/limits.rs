//! What the three limiting policies (Rate Limiting, Quota, Transfer Quota) share: the periods
//! and granularities of their configurations, the GCRA rate limiter, the calendar windows of
//! quotas, the counter keys, their response headers and the shape of their failures
//! ([`LimitKind`]), and the checks of their configurations.
//!
//! Rate limiting uses GCRA (one stored timestamp per key, bursts of up to `limit`); quotas count
//! in fixed calendar windows ([`Period::window`]) with [`quota_check`].

use std::net::IpAddr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::check::{Errors, blank_to_none};
use super::failure::{FailureCode, FailureType, PolicyFailure};
use crate::portal::thousands;

/// The period a limit applies to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Period {
    Second,
    #[default]
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 6] = [
        Period::Second,
        Period::Minute,
        Period::Hour,
        Period::Day,
        Period::Month,
        Period::Year,
    ];

    /// "Second", "Minute", … (also the serialised form).
    pub fn label(self) -> &'static str {
        match self {
            Period::Second => "Second",
            Period::Minute => "Minute",
            Period::Hour => "Hour",
            Period::Day => "Day",
            Period::Month => "Month",
            Period::Year => "Year",
        }
    }
}

/// What a limit counts per: each client app, the whole API, each IP address, or each user
/// (identified by a request header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Granularity {
    #[default]
    Client,
    Api,
    Ip,
    User,
}

impl Granularity {
    /// "Client", "API", "IP address", "User".
    pub fn label(self) -> &'static str {
        match self {
            Granularity::Client => "Client",
            Granularity::Api => "API",
            Granularity::Ip => "IP address",
            Granularity::User => "User",
        }
    }
}

/// The three limiting policies, which share their headers and failure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    RateLimit,
    Quota,
    TransferQuota,
}

impl LimitKind {
    /// "X-RateLimit", "X-Quota", "X-TransferQuota".
    fn prefix(self) -> &'static str {
        match self {
            LimitKind::RateLimit => "X-RateLimit",
            LimitKind::Quota => "X-Quota",
            LimitKind::TransferQuota => "X-TransferQuota",
        }
    }

    /// `X-…-Limit`, `X-…-Remaining` and `X-…-Reset` (seconds), for allowed requests too.
    pub fn headers(self, limit: u64, remaining: u64, reset_secs: u64) -> Vec<(String, String)> {
        let prefix = self.prefix();
        vec![
            (format!("{prefix}-Limit"), limit.to_string()),
            (format!("{prefix}-Remaining"), remaining.to_string()),
            (format!("{prefix}-Reset"), reset_secs.to_string()),
        ]
    }

    /// `code` (429) with `message`, the limit headers (remaining 0) and `Retry-After`.
    pub(super) fn failure(
        self,
        code: FailureCode,
        message: &str,
        limit: u64,
        reset_secs: u64,
    ) -> PolicyFailure {
        let mut failure = PolicyFailure::new(code, FailureType::Other, message);
        failure.headers = self.headers(limit, 0, reset_secs);
        failure.with_header("Retry-After", reset_secs.to_string())
    }
}

const MICROS_PER_SEC: i64 = 1_000_000;

impl Period {
    /// The length of the period in microseconds; a Month is 30 days, a Year 365 days (GCRA).
    pub fn micros(self) -> i64 {
        let secs = match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 3_600,
            Period::Day => 86_400,
            Period::Month => 30 * 86_400,
            Period::Year => 365 * 86_400,
        };
        secs * MICROS_PER_SEC
    }

    /// The calendar-aligned window (UTC) containing `now`: `[start, end)`. Seconds, minutes,
    /// hours and days start on their boundary, months on the 1st, years on January 1st.
    pub fn window(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let fixed = |secs: i64| {
            let t = now.timestamp();
            let start = t - t.rem_euclid(secs);
            (
                at_timestamp(start),
                at_timestamp(start.saturating_add(secs)),
            )
        };
        let (year, month) = (now.year(), now.month());
        match self {
            Period::Second => fixed(1),
            Period::Minute => fixed(60),
            Period::Hour => fixed(3_600),
            Period::Day => fixed(86_400),
            Period::Month => {
                let next = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                (month_start(year, month), month_start(next.0, next.1))
            }
            Period::Year => (month_start(year, 1), month_start(year + 1, 1)),
        }
    }
}

/// Out-of-range instants (beyond chrono's years ±262,143) saturate to the latest one.
fn at_timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, 1).map_or(DateTime::<Utc>::MAX_UTC, |d| {
        d.and_time(NaiveTime::MIN).and_utc()
    })
}

/// What [`gcra`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcraOutcome {
    pub allowed: bool,
    /// The theoretical arrival time to store (unchanged when refused).
    pub tat_us: i64,
    /// Requests still allowed right now.
    pub remaining: u64,
    /// Allowed: seconds until the full limit is available again; refused: seconds until the
    /// next request is allowed. Rounded up.
    pub reset_secs: u64,
}

/// GCRA (generic cell rate algorithm): `limit` requests per `period`, in bursts of up to `limit`.
///
/// `tat_us` is the stored theoretical arrival time in microseconds since the epoch (0 = never
/// seen), `now_us` the current time. Each request moves the arrival time on by one emission
/// interval (`period / limit`, at least 1 µs); a request is refused while that would put it more
/// than one period ahead of now. A limit of 0 refuses everything.
pub fn gcra(limit: u64, period: Period, tat_us: i64, now_us: i64) -> GcraOutcome {
    let period_us = period.micros();
    if limit == 0 {
        return GcraOutcome {
            allowed: false,
            tat_us,
            remaining: 0,
            reset_secs: ceil_secs(period_us),
        };
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let interval = (period_us / limit).max(1);
    let burst = interval.saturating_mul(limit);
    let new_tat = tat_us.max(now_us).saturating_add(interval);
    let allow_at = new_tat.saturating_sub(burst);
    if now_us < allow_at {
        return GcraOutcome {
            allowed: false,
            tat_us,
            remaining: 0,
            reset_secs: ceil_secs(allow_at - now_us),
        };
    }
    let ahead = new_tat - now_us;
    GcraOutcome {
        allowed: true,
        tat_us: new_tat,
        remaining: u64::try_from((burst - ahead) / interval).unwrap_or(0),
        reset_secs: ceil_secs(ahead),
    }
}

fn ceil_secs(micros: i64) -> u64 {
    u64::try_from(micros)
        .unwrap_or(0)
        .div_ceil(MICROS_PER_SEC.unsigned_abs())
}

/// A quota check against a fixed-window counter: `used` so far, this request costs `cost`
/// (1 for a request, bytes for a transfer). Returns whether it is allowed and what remains
/// afterwards (what remained before, when refused).
pub fn quota_check(limit: u64, used: u64, cost: u64) -> (bool, u64) {
    match used.checked_add(cost) {
        Some(after) if after <= limit => (true, limit - after),
        _ => (false, limit.saturating_sub(used)),
    }
}

/// The scope of a client version's own counters (`c:{client}`).
pub fn client_scope(client: impl std::fmt::Display) -> String {
    format!("c:{client}")
}

/// The scope of counters shared by every caller of an API version (`a:{api}`).
pub fn api_scope(api: impl std::fmt::Display) -> String {
    format!("a:{api}")
}

/// The scope of a user's counters: `u:` and the hex of the first 16 bytes of the SHA-256 of
/// the (trimmed) header value. Whatever the caller sends, the key has the same short length.
pub fn user_scope(value: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(value);
    let mut scope = String::with_capacity(2 + 32);
    scope.push_str("u:");
    for b in &digest[..16] {
        scope.push_str(&format!("{b:02x}"));
    }
    scope
}

/// Whether the caller chooses a scope (`i:` its address, `u:` its user header), so that there
/// can be any number of them: a gateway node keeps only the most recently used ones.
pub fn caller_chosen(scope: &str) -> bool {
    scope.starts_with("i:") || scope.starts_with("u:")
}

/// The part of a counter key that says whose counter it is: `c:{client}`, `a:{api}`, `i:{ip}`
/// or [`user_scope`] of the header value.
///
/// `None` when there is nobody to count for: an anonymous request under [`Granularity::Client`],
/// or a request without the user header under [`Granularity::User`]. The gateway lets such
/// requests pass without limiting.
pub fn granularity_key(
    granularity: Granularity,
    header: Option<&str>,
    client: Option<&str>,
    api: &str,
    ip: IpAddr,
    headers: &HeaderMap,
) -> Option<String> {
    match granularity {
        Granularity::Client => blank_to_none(client).map(client_scope),
        Granularity::Api => Some(api_scope(api)),
        Granularity::Ip => Some(format!("i:{}", ip.to_canonical())),
        Granularity::User => {
            let value = headers.get(blank_to_none(header)?)?.as_bytes().trim_ascii();
            (!value.is_empty()).then(|| user_scope(value))
        }
    }
}

pub(super) fn check_amount(errs: &mut Errors, limit: u64, max: u64) {
    if limit == 0 {
        errs.add("limit", "Enter a limit of at least 1.");
    } else if limit > max {
        errs.add(
            "limit",
            format!("Enter a limit of at most {}.", thousands(max)),
        );
    }
}

pub(super) fn check_calendar_period(errs: &mut Errors, period: Period) {
    errs.ensure(
        period >= Period::Hour,
        "period",
        "Choose a period of Hour, Day, Month or Year.",
    );
}

pub(super) fn check_granularity(errs: &mut Errors, granularity: Granularity, header: Option<&str>) {
    if granularity != Granularity::User {
        return;
    }
    match blank_to_none(header) {
        None => errs.add("header", "Enter the header that identifies the user."),
        Some(name) => {
            errs.header_name("header", name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{quota_failure, rate_limit_failure, transfer_quota_failure};

    const SEC: i64 = 1_000_000;
    const T0: i64 = 1_700_000_000 * SEC;

    /// Runs requests at the given offsets from T0, returning (allowed, remaining, reset).
    fn run(limit: u64, period: Period, offsets_us: &[i64]) -> Vec<(bool, u64, u64)> {
        let mut tat = 0;
        offsets_us
            .iter()
            .map(|offset| {
                let o = gcra(limit, period, tat, T0 + offset);
                tat = o.tat_us;
                (o.allowed, o.remaining, o.reset_secs)
            })
            .collect()
    }

    #[test]
    fn gcra_burst_then_refusal_then_refill() {
        let third = SEC / 3 + 1;
        assert_eq!(
            run(3, Period::Second, &[0, 0, 0, 0, third, third]),
            [
                (true, 2, 1),
                (true, 1, 1),
                (true, 0, 1),
                (false, 0, 1),
                (true, 0, 1),
                (false, 0, 1),
            ]
        );
        // After a full period the whole burst is back.
        assert_eq!(
            run(3, Period::Second, &[0, 0, 0, SEC, SEC, SEC, SEC]),
            [
                (true, 2, 1),
                (true, 1, 1),
                (true, 0, 1),
                (true, 2, 1),
                (true, 1, 1),
                (true, 0, 1),
                (false, 0, 1),
            ]
        );
    }

    #[test]
    fn gcra_one_per_minute_boundary() {
        assert_eq!(
            run(1, Period::Minute, &[0, 60 * SEC - 1, 60 * SEC]),
            [(true, 0, 60), (false, 0, 1), (true, 0, 60)]
        );
        // Refused 20 s in: the next request is allowed 40 s later.
        assert_eq!(run(1, Period::Minute, &[0, 20 * SEC])[1], (false, 0, 40));
    }

    #[test]
    fn gcra_refusal_keeps_the_stored_time_and_zero_refuses() {
        let first = gcra(1, Period::Second, 0, T0);
        let refused = gcra(1, Period::Second, first.tat_us, T0 + 1);
        assert!(!refused.allowed);
        assert_eq!(refused.tat_us, first.tat_us);
        let zero = gcra(0, Period::Hour, 0, T0);
        assert_eq!((zero.allowed, zero.reset_secs), (false, 3600));
    }

    #[test]
    fn period_lengths() {
        assert_eq!(Period::Second.micros(), SEC);
        assert_eq!(Period::Month.micros(), 30 * 86_400 * SEC);
        assert_eq!(Period::Year.micros(), 365 * 86_400 * SEC);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn calendar_windows() {
        let cases = [
            (
                Period::Second,
                "2024-05-06T07:08:09.5Z",
                "2024-05-06T07:08:09Z",
                "2024-05-06T07:08:10Z",
            ),
            (
                Period::Minute,
                "2024-05-06T07:08:09Z",
                "2024-05-06T07:08:00Z",
                "2024-05-06T07:09:00Z",
            ),
            (
                Period::Hour,
                "2024-05-06T07:08:09Z",
                "2024-05-06T07:00:00Z",
                "2024-05-06T08:00:00Z",
            ),
            (
                Period::Hour,
                "2024-05-06T07:00:00Z",
                "2024-05-06T07:00:00Z",
                "2024-05-06T08:00:00Z",
            ),
            (
                Period::Hour,
                "2024-05-06T07:59:59.999Z",
                "2024-05-06T07:00:00Z",
                "2024-05-06T08:00:00Z",
            ),
            (
                Period::Day,
                "2024-12-31T23:59:59Z",
                "2024-12-31T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ),
            (
                Period::Month,
                "2024-12-15T10:00:00Z",
                "2024-12-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ),
            (
                Period::Month,
                "2024-02-29T23:59:59Z",
                "2024-02-01T00:00:00Z",
                "2024-03-01T00:00:00Z",
            ),
            (
                Period::Month,
                "2023-02-10T00:00:00Z",
                "2023-02-01T00:00:00Z",
                "2023-03-01T00:00:00Z",
            ),
            (
                Period::Year,
                "2024-12-31T23:59:59Z",
                "2024-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ),
            (
                Period::Year,
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
                "2026-01-01T00:00:00Z",
            ),
            (
                Period::Day,
                "1969-12-31T12:00:00Z",
                "1969-12-31T00:00:00Z",
                "1970-01-01T00:00:00Z",
            ),
        ];
        for (period, now, start, end) in cases {
            assert_eq!(
                period.window(utc(now)),
                (utc(start), utc(end)),
                "{period:?} {now}"
            );
        }
    }

    #[test]
    fn quota_boundary() {
        assert_eq!(quota_check(10, 9, 1), (true, 0));
        assert_eq!(quota_check(10, 10, 1), (false, 0));
        assert_eq!(quota_check(10, 0, 1), (true, 9));
        // A transfer larger than what remains is refused; nothing is used up.
        assert_eq!(quota_check(1000, 400, 700), (false, 600));
        assert_eq!(quota_check(u64::MAX, u64::MAX, 1), (false, 0));
    }

    #[test]
    fn failures_carry_codes_and_headers() {
        let cases = [
            (rate_limit_failure(100, 7), 10005, "X-RateLimit"),
            (quota_failure(100, 7), 10012, "X-Quota"),
            (transfer_quota_failure(100, 7), 10013, "X-TransferQuota"),
        ];
        for (failure, code, prefix) in cases {
            assert_eq!((failure.status, failure.code.number()), (429, code));
            assert_eq!(
                failure.headers,
                [
                    (format!("{prefix}-Limit"), "100".to_owned()),
                    (format!("{prefix}-Remaining"), "0".to_owned()),
                    (format!("{prefix}-Reset"), "7".to_owned()),
                    ("Retry-After".to_owned(), "7".to_owned()),
                ]
            );
        }
        assert_eq!(rate_limit_failure(1, 1).message, "Rate limit exceeded.");
    }

    #[test]
    fn counter_keys() {
        let ip: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-user", " ann ".parse().unwrap());
        headers.insert("x-blank", "  ".parse().unwrap());
        let key = |g, header, client| {
            granularity_key(g, header, client, "acme/weather/1.0", ip, &headers)
        };
        assert_eq!(
            key(Granularity::Client, None, Some("acme/app/1")).as_deref(),
            Some("c:acme/app/1")
        );
        assert_eq!(key(Granularity::Client, None, None), None);
        assert_eq!(
            key(Granularity::Api, None, None).as_deref(),
            Some("a:acme/weather/1.0")
        );
        assert_eq!(
            key(Granularity::Ip, None, None).as_deref(),
            Some("i:10.0.0.1")
        );
        // The user's value is hashed (trimmed first): SHA-256("ann") starts 49915e0d….
        assert_eq!(
            key(Granularity::User, Some("X-User"), None).as_deref(),
            Some("u:49915e0d7d4b402e3017d010bc1c0e83")
        );
        assert_eq!(key(Granularity::User, Some("X-Other"), None), None);
        assert_eq!(key(Granularity::User, None, None), None);
        assert_eq!(key(Granularity::User, Some("X-Blank"), None), None);
    }

    #[test]
    fn user_scopes_have_one_short_length_whatever_the_value() {
        let huge = vec![b'a'; 1 << 20];
        let scopes = [user_scope(b"ann"), user_scope(b"bob"), user_scope(&huge)];
        assert!(scopes.iter().all(|s| s.len() == 34 && s.starts_with("u:")));
        assert_ne!(scopes[0], scopes[1]);
        assert_ne!(scopes[0], scopes[2]);
        assert_eq!(user_scope(&huge), scopes[2]);
        // (scope, chosen by the caller)
        let cases = [
            (client_scope(7), false),
            (api_scope(7), false),
            ("i:10.0.0.1".to_owned(), true),
            (user_scope(b"ann"), true),
        ];
        for (scope, chosen) in cases {
            assert_eq!(caller_chosen(&scope), chosen, "{scope}");
        }
    }

    #[test]
    fn limit_headers() {
        assert_eq!(
            LimitKind::Quota.headers(10, 3, 60),
            [
                ("X-Quota-Limit".to_owned(), "10".to_owned()),
                ("X-Quota-Remaining".to_owned(), "3".to_owned()),
                ("X-Quota-Reset".to_owned(), "60".to_owned()),
            ]
        );
    }
}
