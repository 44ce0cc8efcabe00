//! API keys of a client version: what state a key is in at a given moment, how long an old key
//! keeps working after a rotation, and which keys a user may bring from another gateway.
//!
//! A client version has one or more keys. A key works from its creation until it expires or is
//! revoked, whichever comes first; the gateway checks expiry on every request.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The most keys of one client version that may work at the same time (rotations with an
/// overlap each leave one more working for a while).
pub const MAX_LIVE_KEYS: usize = 25;

/// How far ahead a key's expiry may be set.
pub const MAX_EXPIRY_DAYS: i64 = 5 * 366;

/// The shortest key a user may bring.
pub const OWN_KEY_MIN: usize = 20;
/// The longest key a user may bring.
pub const OWN_KEY_MAX: usize = 128;
/// The longest label.
pub const LABEL_MAX: usize = 60;

/// How long revoked and expired keys are remembered: the gateway answers them with their own
/// failure code, and the Keys section lists them. After that they are deleted at the version's
/// next key change and read as unknown keys.
pub const FORGET_AFTER_DAYS: i64 = 90;

/// Where a key stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KeyState {
    /// Works, with no end set.
    Active,
    /// Works until the given moment.
    Expiring(DateTime<Utc>),
    /// Stopped working at the given moment.
    Expired(DateTime<Utc>),
    /// Revoked by hand at the given moment.
    Revoked(DateTime<Utc>),
}

impl KeyState {
    /// The state at `now` of a key that expires at `expires` (if set) and was revoked at
    /// `revoked` (if it was). A key is expired from the very moment of its expiry on.
    pub fn at(
        expires: Option<DateTime<Utc>>,
        revoked: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        match (revoked, expires) {
            (Some(r), Some(e)) if e <= r => KeyState::Expired(e),
            (Some(r), _) => KeyState::Revoked(r),
            (None, Some(e)) if e <= now => KeyState::Expired(e),
            (None, Some(e)) => KeyState::Expiring(e),
            (None, None) => KeyState::Active,
        }
    }

    /// Whether the gateway accepts the key.
    pub fn works(self) -> bool {
        matches!(self, KeyState::Active | KeyState::Expiring(_))
    }

    /// The short word a badge shows.
    pub fn label(self) -> &'static str {
        match self {
            KeyState::Active => "Active",
            KeyState::Expiring(_) => "Expiring",
            KeyState::Expired(_) => "Expired",
            KeyState::Revoked(_) => "Revoked",
        }
    }
}

/// Whether a key that stopped working at `ended` may be forgotten at `now`.
pub fn forgotten(ended: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - ended > Duration::days(FORGET_AFTER_DAYS)
}

/// How long the key being replaced keeps working after a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Overlap {
    OneHour,
    OneDay,
    SevenDays,
    /// Until a moment the user picked.
    Until(DateTime<Utc>),
    /// Until someone revokes it.
    UntilRevoked,
}

impl Overlap {
    /// When the old key stops working, for a rotation at `now`: `None` for never. A picked
    /// moment must lie in the future and at most [`MAX_EXPIRY_DAYS`] ahead.
    pub fn ends(self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
        Ok(match self {
            Overlap::OneHour => Some(now + Duration::hours(1)),
            Overlap::OneDay => Some(now + Duration::days(1)),
            Overlap::SevenDays => Some(now + Duration::days(7)),
            Overlap::Until(at) => Some(check_expiry(at, now)?),
            Overlap::UntilRevoked => None,
        })
    }
}

/// An expiry a user picked: in the future, and at most [`MAX_EXPIRY_DAYS`] ahead.
pub fn check_expiry(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if at <= now {
        return Err("Pick a moment in the future.".into());
    }
    if at - now > Duration::days(MAX_EXPIRY_DAYS) {
        return Err("Pick a moment at most five years ahead.".into());
    }
    Ok(at)
}

/// The characters a key may hold: letters, digits and `. _ ~ -` — safe in a header and in a
/// query string without escaping.
fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
}

/// A key a user brings from another gateway, checked against the rules it must follow. The
/// message names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnKey(String);

impl OwnKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let key = raw.trim();
        if key.is_empty() {
            return Err("Enter the key, or leave “Bring your own key” off.".into());
        }
        if let Some(c) = key.chars().find(|c| !key_char(*c)) {
            let shown = if c.is_whitespace() || c.is_control() {
                format!("U+{:04X}", u32::from(c))
            } else {
                format!("“{c}”")
            };
            return Err(format!(
                "A key may hold only letters A–Z and a–z, digits, and . _ ~ - ({shown} is not allowed)."
            ));
        }
        let n = key.len();
        if n < OWN_KEY_MIN {
            return Err(format!(
                "A key has at least {OWN_KEY_MIN} characters (this one has {n})."
            ));
        }
        if n > OWN_KEY_MAX {
            return Err(format!(
                "A key has at most {OWN_KEY_MAX} characters (this one has {n})."
            ));
        }
        if key.chars().all(|c| c == key.chars().next().unwrap_or(c)) {
            return Err("A key must not repeat one character only.".into());
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional label: at most [`LABEL_MAX`] characters, no control characters; blank is none.
pub fn parse_label(raw: &str) -> Result<Option<String>, String> {
    let label = raw.trim();
    if label.is_empty() {
        return Ok(None);
    }
    if label.chars().count() > LABEL_MAX {
        return Err(format!("Keep the label under {LABEL_MAX} characters."));
    }
    if label.chars().any(char::is_control) {
        return Err("A label is one line of text.".into());
    }
    Ok(Some(label.to_owned()))
}

/// The last four characters of a key: how pages and the Change Log name it ("…a1b2").
pub fn last4(key: &str) -> String {
    let n = key.chars().count();
    key.chars().skip(n.saturating_sub(4)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, m, s).unwrap()
    }

    #[test]
    fn key_states_at_the_boundary() {
        let e = t(12, 0, 0);
        assert_eq!(KeyState::at(None, None, t(11, 0, 0)), KeyState::Active);
        assert_eq!(
            KeyState::at(Some(e), None, t(11, 59, 59)),
            KeyState::Expiring(e)
        );
        assert!(KeyState::at(Some(e), None, t(11, 59, 59)).works());
        // At the very moment of expiry the key no longer works.
        assert_eq!(KeyState::at(Some(e), None, e), KeyState::Expired(e));
        assert!(!KeyState::at(Some(e), None, e).works());
        assert_eq!(
            KeyState::at(Some(e), None, t(12, 0, 1)),
            KeyState::Expired(e)
        );
    }

    #[test]
    fn revoked_keys_stay_revoked_unless_they_had_expired_first() {
        let r = t(10, 0, 0);
        assert_eq!(
            KeyState::at(None, Some(r), t(9, 0, 0)),
            KeyState::Revoked(r)
        );
        assert_eq!(
            KeyState::at(Some(t(11, 0, 0)), Some(r), t(12, 0, 0)),
            KeyState::Revoked(r)
        );
        assert_eq!(
            KeyState::at(Some(t(9, 0, 0)), Some(r), t(12, 0, 0)),
            KeyState::Expired(t(9, 0, 0))
        );
        assert!(!KeyState::Revoked(r).works());
    }

    #[test]
    fn overlaps_end_when_picked() {
        let now = t(8, 0, 0);
        assert_eq!(Overlap::OneHour.ends(now), Ok(Some(t(9, 0, 0))));
        assert_eq!(Overlap::OneDay.ends(now), Ok(Some(now + Duration::days(1))));
        assert_eq!(
            Overlap::SevenDays.ends(now),
            Ok(Some(now + Duration::days(7)))
        );
        assert_eq!(Overlap::UntilRevoked.ends(now), Ok(None));
        assert_eq!(Overlap::Until(t(9, 30, 0)).ends(now), Ok(Some(t(9, 30, 0))));
        assert!(Overlap::Until(now).ends(now).is_err());
        assert!(Overlap::Until(t(7, 0, 0)).ends(now).is_err());
        assert!(
            Overlap::Until(now + Duration::days(MAX_EXPIRY_DAYS + 1))
                .ends(now)
                .is_err()
        );
    }

    #[test]
    fn own_keys_name_the_rule_they_break() {
        assert!(OwnKey::parse("legacy-gateway-key-0001").is_ok());
        assert!(OwnKey::parse("  legacy.gateway_key~0001  ").is_ok());
        let short = OwnKey::parse("abc123").unwrap_err();
        assert!(short.contains("at least 20"), "{short}");
        let long = OwnKey::parse(&"ab".repeat(65)).unwrap_err();
        assert!(long.contains("at most 128"), "{long}");
        let space = OwnKey::parse("legacy gateway key 0001").unwrap_err();
        assert!(space.contains("U+0020"), "{space}");
        let plus = OwnKey::parse("legacy+gateway+key+0001").unwrap_err();
        assert!(plus.contains("“+”"), "{plus}");
        let unicode = OwnKey::parse("clé-de-l-ancienne-passerelle").unwrap_err();
        assert!(unicode.contains("“é”"), "{unicode}");
        assert!(OwnKey::parse("aaaaaaaaaaaaaaaaaaaaaaaa").is_err());
        assert!(OwnKey::parse("   ").is_err());
    }

    #[test]
    fn labels_are_short_single_lines() {
        assert_eq!(parse_label("  "), Ok(None));
        assert_eq!(parse_label(" CI runner "), Ok(Some("CI runner".into())));
        assert!(parse_label(&"x".repeat(LABEL_MAX + 1)).is_err());
        assert!(parse_label("a\nb").is_err());
    }

    #[test]
    fn keys_are_named_by_their_last_four_characters() {
        assert_eq!(last4("0b6c1f36-0d41-4c3c-9a52-1e0f3b2ea1b2"), "a1b2");
        assert_eq!(last4("ab"), "ab");
    }

    #[test]
    fn ended_keys_are_forgotten_after_ninety_days() {
        let ended = t(0, 0, 0);
        assert!(!forgotten(ended, ended + Duration::days(90)));
        assert!(forgotten(ended, ended + Duration::days(91)));
    }
}
