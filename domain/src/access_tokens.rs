//! Personal access tokens: what a token looks like, how a leaked one is recognised, and the rules
//! for creating one (name, expiry, how many).
//!
//! A token is `tgp_` + 30 random base62 characters + 6 base62 characters of the CRC32 of the
//! random part, the way GitHub's `ghp_` tokens are built: a secret scanner recognises the prefix,
//! and the checksum tells a real token from a look-alike without asking the server (and lets the
//! server refuse a mistyped one before any database access). 30 base62 characters are 178 bits of
//! randomness, so the stored SHA-256 needs no salt or slow hash.
//!
//! The random part comes from the caller (this crate reads no randomness): [`from_random`].

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// What every token starts with.
pub const PREFIX: &str = "tgp_";
/// The length of the random part.
pub const RANDOM_LEN: usize = 30;
/// The length of the checksum (base62 of a CRC32: 62⁶ > 2³²).
pub const CHECKSUM_LEN: usize = 6;
/// The length of a whole token.
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// The longest name.
pub const NAME_MAX: usize = 100;
/// How far ahead an expiry may be.
pub const MAX_EXPIRY_DAYS: i64 = 365;
/// The most tokens of one user that may be live (neither expired nor revoked) at once.
pub const MAX_LIVE_TOKENS: usize = 50;
/// The most organizations a token may be limited to.
pub const MAX_ORGS: usize = 100;

/// The base62 alphabet, in the order GitHub uses: digits, upper case, lower case.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as `zlib`'s `crc32` computes it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `n` in base62, left-padded with `0` to [`CHECKSUM_LEN`] characters.
fn checksum_of(random: &str) -> String {
    let mut n = crc32(random.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

fn base62(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// The token for a random part of [`RANDOM_LEN`] base62 characters, or `None` for any other
/// input.
pub fn from_random(random: &str) -> Option<String> {
    (random.len() == RANDOM_LEN && random.chars().all(base62))
        .then(|| format!("{PREFIX}{random}{}", checksum_of(random)))
}

/// Whether `token` has the shape of a token and its checksum matches its random part. Says
/// nothing about whether it exists.
pub fn checksum_ok(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !rest.chars().all(base62) {
        return false;
    }
    let (random, checksum) = rest.split_at(RANDOM_LEN);
    checksum_of(random) == checksum
}

/// The last four characters, which the token list shows ("…Ab3x").
pub fn last_four(token: &str) -> String {
    let n = token.chars().count();
    token.chars().skip(n.saturating_sub(4)).collect()
}

/// A token's name: 1 to 100 characters after trimming, no control characters. Errors use the
/// field `"name"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let error = |m: &str| FieldError::new("name", m);
        if name.is_empty() {
            return Err(error(
                "Give the token a name, so that you know what it is for.",
            ));
        }
        if name.chars().count() > NAME_MAX {
            return Err(error("The name must be at most 100 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(error("The name must not contain control characters."));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An expiry date: after `today`, at most [`MAX_EXPIRY_DAYS`] ahead. The token works through the
/// end of that day (UTC): see [`ends_at`]. Errors use the field `"expires_on"`.
pub fn check_expiry(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let error = |m: &str| FieldError::new("expires_on", m);
    if date <= today {
        return Err(error("Pick a date after today."));
    }
    if date > today + Duration::days(MAX_EXPIRY_DAYS) {
        return Err(error("Pick a date at most one year ahead."));
    }
    Ok(date)
}

/// The moment a token that expires on `date` stops working: the end of that day, UTC.
pub fn ends_at(date: NaiveDate) -> DateTime<Utc> {
    (date + Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

/// The expiry date of a token that stops working at `end` (the inverse of [`ends_at`]).
pub fn expiry_date(end: DateTime<Utc>) -> NaiveDate {
    (end - Duration::seconds(1)).date_naive()
}

/// The expiry choices the form offers besides a custom date, in days from today.
pub const EXPIRY_PRESETS: [(i64, &str); 4] = [
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (365, "1 year"),
];

/// Refuses a new token when `live` of the user's tokens already work. Errors use the field
/// `"name"` (the form's first field).
pub fn check_live_count(live: usize) -> Result<(), FieldError> {
    if live >= MAX_LIVE_TOKENS {
        return Err(FieldError::new(
            "name",
            format!(
                "You have {MAX_LIVE_TOKENS} working tokens, the most there may be. Revoke one you no longer use first."
            ),
        ));
    }
    Ok(())
}

/// What a token may do within its owner's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenScope {
    /// Only what a View permission allows.
    ReadOnly,
    /// Everything its owner may do.
    ReadWrite,
}

impl TokenScope {
    pub fn read_only(self) -> bool {
        self == TokenScope::ReadOnly
    }

    pub fn from_read_only(read_only: bool) -> Self {
        if read_only {
            TokenScope::ReadOnly
        } else {
            TokenScope::ReadWrite
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "Read-only",
            TokenScope::ReadWrite => "Read and write",
        }
    }
}

/// Where a token stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    Active,
    /// Stopped working at its expiry.
    Expired,
    /// Revoked by its owner before it expired.
    Revoked,
}

impl TokenState {
    /// The state at `now` of a token that stops working at `ends` and was revoked at `revoked`
    /// (if it was). A token revoked after it had expired reads as expired.
    pub fn at(ends: DateTime<Utc>, revoked: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match revoked {
            Some(r) if r < ends => TokenState::Revoked,
            _ if now >= ends => TokenState::Expired,
            Some(_) => TokenState::Revoked,
            None => TokenState::Active,
        }
    }

    pub fn works(self) -> bool {
        self == TokenState::Active
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenState::Active => "Active",
            TokenState::Expired => "Expired",
            TokenState::Revoked => "Revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8bC0";

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_token_has_the_prefix_the_random_part_and_a_checksum() {
        let t = from_random(RANDOM).unwrap();
        assert_eq!(t.len(), TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 40);
        assert!(t.starts_with("tgp_"));
        assert_eq!(&t[4..34], RANDOM);
        assert!(t[34..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(checksum_ok(&t));
        assert_eq!(last_four(&t), &t[36..]);
    }

    #[test]
    fn only_a_random_part_of_the_right_shape_makes_a_token() {
        assert!(from_random(&RANDOM[1..]).is_none());
        assert!(from_random(&format!("{RANDOM}x")).is_none());
        assert!(from_random(&RANDOM.replace('a', "-")).is_none());
        assert!(from_random(&RANDOM.replace('a', "é")).is_none());
    }

    #[test]
    fn the_checksum_rejects_any_one_changed_character() {
        let t = from_random(RANDOM).unwrap();
        for i in 4..t.len() {
            for c in ['0', 'a', 'Z'] {
                let mut b = t.clone().into_bytes();
                if b[i] == c as u8 {
                    continue;
                }
                b[i] = c as u8;
                let changed = String::from_utf8(b).unwrap();
                assert!(!checksum_ok(&changed), "{changed}");
            }
        }
    }

    #[test]
    fn look_alikes_are_refused() {
        let t = from_random(RANDOM).unwrap();
        for bad in [
            "",
            "tgp_",
            &t[..t.len() - 1],
            &format!("{t}0"),
            &t.replacen("tgp_", "ghp_", 1),
            &t.replacen("tgp_", "TGP_", 1),
            &format!(" {t}"),
            &t.replacen('a', "_", 1),
        ] {
            assert!(!checksum_ok(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            TokenName::parse("  CI deploy ").unwrap().as_str(),
            "CI deploy"
        );
        assert_eq!(
            TokenName::parse(&"x".repeat(100)).unwrap().as_str().len(),
            100
        );
        assert_eq!(
            TokenName::parse(&"é".repeat(100))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            100
        );
        for bad in ["", "   ", &"x".repeat(101), "a\u{7}b", "line\nbreak"] {
            let e = TokenName::parse(bad).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
        }
    }

    #[test]
    fn expiry_lies_after_today_and_at_most_a_year_ahead() {
        let today = day("2026-12-02");
        for (date, ok) in [
            ("2026-12-01", false),
            ("2026-12-02", false),
            ("2026-12-03", true),
            ("2027-12-02", true),
            ("2027-12-03", false),
        ] {
            let r = check_expiry(day(date), today);
            assert_eq!(r.is_ok(), ok, "{date}");
            if let Err(e) = r {
                assert_eq!(e.field, "expires_on");
            }
        }
        // +365 and +366 days, across a leap day.
        let today = day("2027-03-01");
        assert!(check_expiry(today + Duration::days(365), today).is_ok());
        assert!(check_expiry(today + Duration::days(366), today).is_err());
    }

    #[test]
    fn a_token_works_through_the_end_of_its_expiry_day() {
        let d = day("2026-12-09");
        let end = ends_at(d);
        assert_eq!(end.to_rfc3339(), "2026-12-10T00:00:00+00:00");
        assert_eq!(expiry_date(end), d);
    }

    #[test]
    fn at_most_fifty_live_tokens() {
        assert!(check_live_count(0).is_ok());
        assert!(check_live_count(49).is_ok());
        assert_eq!(check_live_count(50).unwrap_err().field, "name");
    }

    #[test]
    fn states_at_a_moment() {
        let end = ends_at(day("2026-12-09"));
        let before = end - Duration::hours(1);
        let after = end + Duration::hours(1);
        assert_eq!(TokenState::at(end, None, before), TokenState::Active);
        assert_eq!(TokenState::at(end, None, end), TokenState::Expired);
        assert_eq!(TokenState::at(end, None, after), TokenState::Expired);
        assert_eq!(
            TokenState::at(end, Some(before), before),
            TokenState::Revoked
        );
        assert_eq!(
            TokenState::at(end, Some(before), after),
            TokenState::Revoked
        );
        assert_eq!(TokenState::at(end, Some(after), after), TokenState::Expired);
        assert!(TokenState::Active.works());
        assert!(!TokenState::Revoked.works() && !TokenState::Expired.works());
    }

    #[test]
    fn scopes() {
        assert!(TokenScope::ReadOnly.read_only());
        assert_eq!(TokenScope::from_read_only(false), TokenScope::ReadWrite);
        assert_eq!(TokenScope::ReadWrite.label(), "Read and write");
    }
}
