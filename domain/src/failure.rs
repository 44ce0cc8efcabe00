//! [`FailureCode`]: every failure code the gateway answers with, the policies' (10001 …) and
//! the gateway's own (10020 …), each with its number, its status and what it means.
//!
//! This enum is the one list: the gateway's error answers and policy refusals carry a
//! `FailureCode`, `/metrics` counts [`FailureCode::ALL`], and `docs/failure-codes.md` is
//! [`FailureCode::markdown_table`] (a test compares them).
//!
//! To add a code: a variant, its line in [`FailureCode::ALL`] (ordered by number within its
//! family) and its arm in `info`; then run `cargo test -p domain failure` and paste the table
//! it prints into `docs/failure-codes.md`. Free policy numbers: 10006, 10008–10011, 10017–10019;
//! gateway numbers continue at 10036.

/// Who refuses with a code: a policy of the chain, or the gateway itself (no API, bad key, …).
/// `/metrics` counts each family in its own series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Policy,
    Gateway,
}

#[doc = include_str!("../../docs/failure-codes.md")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureCode {
    // Policies.
    IpNotAllowed,
    IpBlocked,
    BasicAuthFailed,
    BasicAuthTlsRequired,
    RateLimitExceeded,
    ResourceIgnored,
    QuotaExceeded,
    TransferQuotaExceeded,
    OutsideTimeWindow,
    CorsRefused,
    PasswordChecksBusy,
    JwtMissing,
    JwtMalformed,
    JwtBadSignature,
    JwtExpired,
    JwtWrongIssuerOrAudience,
    JwtMissingClaim,
    AuthorizationRefused,
    // The gateway's own.
    NoSuchApi,
    ApiRetired,
    KeyMissing,
    KeyUnknown,
    NoContract,
    BackendFailed,
    PolicyUnusable,
    BodyTooLarge,
    PathRefused,
    BackendRefused,
    KeyRevoked,
    KeyExpired,
    KeyInQuery,
    BackendConnectTimeout,
    BackendResponseTimeout,
    BackendBusy,
}

/// What one code is: its number, the status it answers (and the others it may answer), its
/// family and one line on when it is used.
struct Info {
    number: u32,
    status: u16,
    also: &'static [u16],
    family: Family,
    meaning: &'static str,
}

const fn info(
    number: u32,
    status: u16,
    also: &'static [u16],
    family: Family,
    meaning: &'static str,
) -> Info {
    Info {
        number,
        status,
        also,
        family,
        meaning,
    }
}

impl FailureCode {
    /// Every code: the policies' first, then the gateway's, each by number.
    pub const ALL: [FailureCode; 34] = [
        FailureCode::IpNotAllowed,
        FailureCode::IpBlocked,
        FailureCode::BasicAuthFailed,
        FailureCode::BasicAuthTlsRequired,
        FailureCode::RateLimitExceeded,
        FailureCode::ResourceIgnored,
        FailureCode::QuotaExceeded,
        FailureCode::TransferQuotaExceeded,
        FailureCode::OutsideTimeWindow,
        FailureCode::CorsRefused,
        FailureCode::PasswordChecksBusy,
        FailureCode::JwtMissing,
        FailureCode::JwtMalformed,
        FailureCode::JwtBadSignature,
        FailureCode::JwtExpired,
        FailureCode::JwtWrongIssuerOrAudience,
        FailureCode::JwtMissingClaim,
        FailureCode::AuthorizationRefused,
        FailureCode::NoSuchApi,
        FailureCode::ApiRetired,
        FailureCode::KeyMissing,
        FailureCode::KeyUnknown,
        FailureCode::NoContract,
        FailureCode::BackendFailed,
        FailureCode::PolicyUnusable,
        FailureCode::BodyTooLarge,
        FailureCode::PathRefused,
        FailureCode::BackendRefused,
        FailureCode::KeyRevoked,
        FailureCode::KeyExpired,
        FailureCode::KeyInQuery,
        FailureCode::BackendConnectTimeout,
        FailureCode::BackendResponseTimeout,
        FailureCode::BackendBusy,
    ];

    const fn info(self) -> Info {
        use Family::{Gateway, Policy};
        match self {
            Self::IpNotAllowed => info(
                10001,
                403,
                &[404, 500],
                Policy,
                "IP Allowlist: the caller's address is not on the list (the status is the policy's)",
            ),
            Self::IpBlocked => info(
                10002,
                403,
                &[404, 500],
                Policy,
                "IP Blocklist: the caller's address is on the list (the status is the policy's)",
            ),
            Self::BasicAuthFailed => info(
                10003,
                401,
                &[],
                Policy,
                "BASIC Authentication: missing or wrong credentials",
            ),
            Self::BasicAuthTlsRequired => info(
                10004,
                401,
                &[],
                Policy,
                "BASIC Authentication: the policy requires TLS and the request came over plain HTTP",
            ),
            Self::RateLimitExceeded => {
                info(10005, 429, &[], Policy, "Rate Limiting: limit reached")
            }
            Self::ResourceIgnored => info(
                10007,
                404,
                &[],
                Policy,
                "Ignored Resources: the method and path are hidden",
            ),
            Self::QuotaExceeded => info(10012, 429, &[], Policy, "Quota: quota used up"),
            Self::TransferQuotaExceeded => {
                info(10013, 429, &[], Policy, "Transfer Quota: bytes used up")
            }
            Self::OutsideTimeWindow => info(
                10014,
                423,
                &[],
                Policy,
                "Time Restricted Access: the resource is not available at this time",
            ),
            Self::CorsRefused => info(
                10015,
                400,
                &[],
                Policy,
                "CORS: origin, method or header not allowed (with `errorOnFailure`)",
            ),
            Self::PasswordChecksBusy => info(
                10016,
                503,
                &[],
                Policy,
                "BASIC Authentication: no password check could start in time",
            ),
            Self::JwtMissing => info(10040, 401, &[], Policy, "JWT Validation: no bearer token"),
            Self::JwtMalformed => info(
                10041,
                401,
                &[],
                Policy,
                "JWT Validation: not a JWT, an algorithm the policy does not accept (`none` never is), or a `crit` header",
            ),
            Self::JwtBadSignature => info(
                10042,
                401,
                &[],
                Policy,
                "JWT Validation: no key verifies the signature (wrong key, unknown `kid`)",
            ),
            Self::JwtExpired => info(
                10043,
                401,
                &[],
                Policy,
                "JWT Validation: the token expired or is not yet valid (beyond the leeway)",
            ),
            Self::JwtWrongIssuerOrAudience => info(
                10044,
                401,
                &[],
                Policy,
                "JWT Validation: wrong issuer or audience",
            ),
            Self::JwtMissingClaim => info(
                10045,
                401,
                &[],
                Policy,
                "JWT Validation: a required claim is missing or has another value (`exp` is always required)",
            ),
            Self::AuthorizationRefused => info(
                10046,
                403,
                &[],
                Policy,
                "Authorization: the caller has none of the roles the matching rule requires, or no rule matches and the default denies",
            ),
            Self::NoSuchApi => info(10020, 404, &[], Gateway, "no such API version"),
            Self::ApiRetired => info(10021, 410, &[], Gateway, "the API version is retired"),
            Self::KeyMissing => info(10022, 401, &[], Gateway, "no API key (non-public API)"),
            Self::KeyUnknown => info(10023, 401, &[], Gateway, "unknown or unregistered key"),
            Self::NoContract => info(
                10024,
                403,
                &[],
                Gateway,
                "the client has no contract with this API version",
            ),
            Self::BackendFailed => info(
                10025,
                502,
                &[],
                Gateway,
                "the backend is unreachable, fails or resets the connection (an idempotent request with a body of at most 64 KiB is sent once more first, on a fresh connection); a URL Rewriting bound is passed",
            ),
            Self::PolicyUnusable => {
                info(10026, 500, &[], Gateway, "a policy that cannot be applied")
            }
            Self::BodyTooLarge => info(
                10027,
                413,
                &[],
                Gateway,
                "the request body is larger than the API version's limit (default 10 MiB)",
            ),
            Self::PathRefused => info(
                10028,
                400,
                &[],
                Gateway,
                "`%2F` (unless the API version allows it), `%5C` or `\\` in the path",
            ),
            Self::BackendRefused => info(
                10029,
                502,
                &[508],
                Gateway,
                "the backend's address is refused (link-local, cloud metadata, denied, Tollgate's own listeners), or the request came back through a backend (508: its `Via` names this node)",
            ),
            Self::KeyRevoked => info(10030, 401, &[], Gateway, "the API key was revoked"),
            Self::KeyExpired => info(
                10031,
                401,
                &[],
                Gateway,
                "the API key has expired (checked on each request)",
            ),
            Self::KeyInQuery => info(
                10032,
                401,
                &[],
                Gateway,
                "the key came in the query string of an API version that takes it only in `X-API-Key`",
            ),
            Self::BackendConnectTimeout => info(
                10033,
                504,
                &[],
                Gateway,
                "no connection to the backend within the API version's connect timeout (default 5 s)",
            ),
            Self::BackendResponseTimeout => info(
                10034,
                504,
                &[],
                Gateway,
                "the backend did not answer within the API version's response timeout (default 30 s), counted from the connection",
            ),
            Self::BackendBusy => info(
                10035,
                503,
                &[],
                Gateway,
                "the API version's bound of requests in flight towards its backend on this node is reached (default 256)",
            ),
        }
    }

    /// The number sent as `failureCode` and `X-Policy-Failure-Code` (10001 …).
    pub const fn number(self) -> u32 {
        self.info().number
    }

    /// The status answered with this code, unless the case says otherwise (see
    /// [`statuses`](Self::statuses)).
    pub const fn status(self) -> u16 {
        self.info().status
    }

    /// Every status this code may be answered with, the usual one first.
    pub fn statuses(self) -> Vec<u16> {
        let info = self.info();
        std::iter::once(info.status)
            .chain(info.also.iter().copied())
            .collect()
    }

    /// A policy's refusal or the gateway's own.
    pub const fn family(self) -> Family {
        self.info().family
    }

    /// One line: when this code is answered.
    pub const fn meaning(self) -> &'static str {
        self.info().meaning
    }

    /// The code with this number.
    pub fn from_number(number: u32) -> Option<FailureCode> {
        FailureCode::ALL.into_iter().find(|c| c.number() == number)
    }

    /// The codes of one family, in [`ALL`](Self::ALL)'s order.
    pub fn of(family: Family) -> impl Iterator<Item = FailureCode> {
        FailureCode::ALL
            .into_iter()
            .filter(move |c| c.family() == family)
    }

    /// The documentation of every code, `docs/failure-codes.md`.
    pub fn markdown_table() -> String {
        let mut out = String::from(
            "Failure codes: the policies' (`X-Policy-Failure-Code`, JSON \
             `{\"type\", \"failureCode\", \"responseCode\", \"message\"}`) and the gateway's own \
             (`X-Gateway-Error`, JSON `{\"responseCode\", \"failureCode\", \"message\"}`).\n\
             Generated from `domain::failure::FailureCode` (`cargo test -p domain failure` \
             checks it).\n\n\
             | code | status | family | when |\n|---|---|---|---|\n",
        );
        for code in FailureCode::ALL {
            let statuses: Vec<String> = code.statuses().iter().map(u16::to_string).collect();
            let family = match code.family() {
                Family::Policy => "policy",
                Family::Gateway => "gateway",
            };
            out.push_str(&format!(
                "| {} | {} | {family} | {} |\n",
                code.number(),
                statuses.join(" / "),
                code.meaning()
            ));
        }
        out
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_ordered_within_each_family() {
        let numbers: Vec<u32> = FailureCode::ALL.iter().map(|c| c.number()).collect();
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), numbers.len(), "{numbers:?}");
        for family in [Family::Policy, Family::Gateway] {
            let of: Vec<u32> = FailureCode::of(family).map(FailureCode::number).collect();
            assert!(of.windows(2).all(|w| w[0] < w[1]), "{of:?}");
        }
        // Policies first, then the gateway: what /metrics and the table list.
        let families: Vec<Family> = FailureCode::ALL.iter().map(|c| c.family()).collect();
        assert!(
            families
                .windows(2)
                .all(|w| w != [Family::Gateway, Family::Policy])
        );
        for code in FailureCode::ALL {
            assert_eq!(FailureCode::from_number(code.number()), Some(code));
            assert!((400..600).contains(&code.status()), "{code:?}");
            assert!(!code.meaning().ends_with('.'), "{code:?}");
        }
        assert_eq!(FailureCode::from_number(10006), None);
        assert_eq!(FailureCode::KeyInQuery.to_string(), "10032");
    }

    #[test]
    fn the_documented_table_is_the_generated_one() {
        let documented = include_str!("../../docs/failure-codes.md");
        let generated = FailureCode::markdown_table();
        assert!(
            documented == generated,
            "docs/failure-codes.md is out of date; replace it with:\n\n{generated}"
        );
    }
}
