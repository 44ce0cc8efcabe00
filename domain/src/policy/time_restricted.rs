//! Time Restricted Access: windows of days and times (UTC) in which paths are available. Its
//! catalogue entry, configuration ([`TimeRestricted`]), validation, description, failure and
//! compiled rule ([`TimeWindows`]).

use chrono::{DateTime, Datelike, Timelike, Utc};
use regex::Regex;

use serde::{Deserialize, Serialize};

use super::check::{Errors, Match, item_field};
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "time-restricted-access",
    name: "Time Restricted Access",
    category: Category::Security,
    summary: "Makes resources available only on given days and hours (UTC).",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[FailureCode::OutsideTimeWindow];

/// A window of Time Restricted Access: the paths matching `path_pattern` are available from
/// `time_start` to `time_end` (UTC, both inclusive to the minute) on days `day_start` to
/// `day_end`. Either range may wrap: 22:00–06:00, or Saturday (6) to Monday (1). The day and the
/// time are checked separately on the current day: Mon–Fri 22:00–06:00 allows Friday 23:00 and
/// Monday 02:00 but not Saturday 02:00.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimeRule {
    /// "HH:MM", UTC.
    pub time_start: String,
    /// "HH:MM", UTC, inclusive.
    pub time_end: String,
    /// 1 = Monday … 7 = Sunday.
    pub day_start: u8,
    /// 1 = Monday … 7 = Sunday, inclusive.
    pub day_end: u8,
    /// A regular expression matched against the whole rest path.
    pub path_pattern: String,
}

impl Default for TimeRule {
    fn default() -> Self {
        Self {
            time_start: String::new(),
            time_end: String::new(),
            day_start: 1,
            day_end: 7,
            path_pattern: String::new(),
        }
    }
}

/// Time Restricted Access.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimeRestricted {
    pub rules: Vec<TimeRule>,
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn days(rule: &TimeRule) -> String {
    let name = |d: u8| {
        DAYS.get(usize::from(d).wrapping_sub(1))
            .copied()
            .unwrap_or("?")
    };
    if rule.day_start == rule.day_end {
        name(rule.day_start).to_owned()
    } else {
        format!("{}–{}", name(rule.day_start), name(rule.day_end))
    }
}

/// "Available Mon–Fri 08:00–18:00 UTC".
pub(super) fn describe(c: &TimeRestricted) -> String {
    let windows: Vec<String> = c
        .rules
        .iter()
        .map(|r| {
            let hhmm = |s: &str| match parse_hhmm(s) {
                Some(m) => format!("{:02}:{:02}", m / 60, m % 60),
                None => s.to_owned(),
            };
            let path = match r.path_pattern.as_str() {
                ".*" | "/.*" => String::new(),
                p => format!(" for {p}"),
            };
            format!(
                "{} {}–{} UTC{path}",
                days(r),
                hhmm(&r.time_start),
                hhmm(&r.time_end)
            )
        })
        .collect();
    format!("Available {}", windows.join("; "))
}

/// Minutes since midnight of an "HH:MM" time (00:00 to 23:59).
fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Whether `value` lies in `start..=end`, or, when `start > end`, in the range that wraps
/// around (`start..=max` or `min..=end`).
fn within<T: Ord>(start: T, end: T, value: T) -> bool {
    if start <= end {
        start <= value && value <= end
    } else {
        value >= start || value <= end
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Window {
    /// Minutes since midnight, both inclusive.
    start: u16,
    end: u16,
    /// 1 = Monday … 7 = Sunday, both inclusive.
    day_start: u8,
    day_end: u8,
    path: Regex,
}

impl Window {
    fn compile(errs: &mut Errors, index: usize, rule: &TimeRule) -> Option<Self> {
        let mut time = |name: &str, value: &str| {
            let parsed = parse_hhmm(value);
            errs.ensure(
                parsed.is_some(),
                &item_field("rules", index, name),
                "Enter a time as HH:MM, from 00:00 to 23:59.",
            );
            parsed
        };
        let start = time("timeStart", &rule.time_start);
        let end = time("timeEnd", &rule.time_end);
        for (name, day) in [("dayStart", rule.day_start), ("dayEnd", rule.day_end)] {
            errs.ensure(
                (1..=7).contains(&day),
                &item_field("rules", index, name),
                "Choose a day from 1 (Monday) to 7 (Sunday).",
            );
        }
        let path = errs.regex(
            &item_field("rules", index, "pathPattern"),
            &rule.path_pattern,
            Match::Whole,
        );
        Some(Self {
            start: start?,
            end: end?,
            day_start: rule.day_start,
            day_end: rule.day_end,
            path: path?,
        })
    }

    /// The day and the time are each checked on the current day.
    fn allows(&self, now: DateTime<Utc>) -> bool {
        let day = u8::try_from(now.weekday().number_from_monday()).unwrap_or(0);
        let minute = u16::try_from(now.hour() * 60 + now.minute()).unwrap_or(0);
        within(self.day_start, self.day_end, day) && within(self.start, self.end, minute)
    }
}

/// Compiled Time Restricted Access.
#[derive(Debug, Clone)]
pub struct TimeWindows {
    rules: Vec<Window>,
}

impl TimeWindows {
    pub(super) fn compile(config: &TimeRestricted, errs: &mut Errors) -> Option<Self> {
        errs.ensure(!config.rules.is_empty(), "rules", "Add at least one rule.");
        let rules: Vec<_> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| Window::compile(errs, i, r))
            .collect();
        Some(Self {
            rules: rules.into_iter().collect::<Option<_>>()?,
        })
    }

    /// Among the rules whose path pattern matches `rest_path`, at least one must allow `now`;
    /// otherwise the request is refused (423, [`FailureCode::OutsideTimeWindow`]). A path no rule
    /// names is allowed.
    pub fn check(&self, rest_path: &str, now: DateTime<Utc>) -> Result<(), PolicyFailure> {
        let mut matching = self
            .rules
            .iter()
            .filter(|w| w.path.is_match(rest_path))
            .peekable();
        if matching.peek().is_none() || matching.any(|w| w.allows(now)) {
            Ok(())
        } else {
            Err(PolicyFailure::new(
                FailureCode::OutsideTimeWindow,
                FailureType::Other,
                "This resource is not available at this time.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(rules: &[(&str, &str, u8, u8, &str)]) -> TimeWindows {
        let config = TimeRestricted {
            rules: rules
                .iter()
                .map(|(ts, te, ds, de, p)| TimeRule {
                    time_start: (*ts).to_owned(),
                    time_end: (*te).to_owned(),
                    day_start: *ds,
                    day_end: *de,
                    path_pattern: (*p).to_owned(),
                })
                .collect(),
        };
        let mut errs = Errors::default();
        let compiled = TimeWindows::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    /// 2024-01-01 is a Monday; `day` 1..=7 picks that week's day.
    fn at(day: u32, hh_mm_ss: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2024-01-{day:02}T{hh_mm_ss}Z"))
            .unwrap()
            .to_utc()
    }

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("23:59"), Some(1439));
        assert_eq!(parse_hhmm("08:30"), Some(510));
        for bad in [
            "24:00", "8:00", "08:60", "0800", "ab:cd", "", "08:00:00", "+8:00",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_table() {
        let office = windows(&[("08:00", "18:00", 1, 5, ".*")]);
        let night = windows(&[("22:00", "06:00", 1, 7, ".*")]);
        let weekend = windows(&[("00:00", "23:59", 6, 1, ".*")]);
        // (policy, day, time, allowed)
        let cases = [
            (&office, 1, "08:00:00", true),
            (&office, 1, "07:59:59", false),
            (&office, 3, "12:00:00", true),
            (&office, 5, "18:00:59", true),
            (&office, 5, "18:01:00", false),
            (&office, 6, "12:00:00", false),
            (&office, 7, "12:00:00", false),
            (&night, 2, "23:30:00", true),
            (&night, 2, "03:00:00", true),
            (&night, 2, "06:00:30", true),
            (&night, 2, "06:01:00", false),
            (&night, 2, "12:00:00", false),
            (&night, 2, "22:00:00", true),
            (&weekend, 6, "10:00:00", true),
            (&weekend, 7, "10:00:00", true),
            (&weekend, 1, "23:59:59", true),
            (&weekend, 2, "00:00:00", false),
            (&weekend, 5, "23:59:00", false),
        ];
        for (policy, day, time, allowed) in cases {
            assert_eq!(
                policy.check("/any", at(day, time)).is_ok(),
                allowed,
                "day {day} {time}"
            );
        }
    }

    #[test]
    fn only_matching_paths_are_restricted_and_any_matching_rule_allows() {
        let w = windows(&[
            ("08:00", "12:00", 1, 7, "/reports/.*"),
            ("14:00", "16:00", 1, 7, "/reports/daily"),
        ]);
        let afternoon = at(1, "15:00:00");
        assert!(w.check("/weather", afternoon).is_ok());
        assert!(w.check("/reports/daily", afternoon).is_ok());
        let refused = w.check("/reports/monthly", afternoon).unwrap_err();
        assert_eq!((refused.status, refused.code.number()), (423, 10014));
        assert!(w.check("/reports/monthly", at(1, "09:00:00")).is_ok());
    }
}
