//! Collecting validation errors while compiling a configuration, and the field checks the
//! compilers share (regular expressions, header names, HTTP methods).

use http::HeaderName;
use regex::{Regex, RegexBuilder};

use crate::FieldError;

/// The longest regular expression accepted, in characters.
pub(crate) const MAX_PATTERN_LEN: usize = 1000;

/// The most memory one compiled regular expression may take (guards the gateway against
/// patterns such as `a{1000}{1000}`).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The most roles one list may name, and the longest role, in characters.
pub(crate) const MAX_ROLES: usize = 50;
pub(crate) const MAX_ROLE_LEN: usize = 100;

/// How a regular expression is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Anywhere in the text (find and replace).
    Anywhere,
    /// The whole text (`^…$`).
    Whole,
    /// The whole text, ignoring case (header names).
    WholeIgnoringCase,
}

/// The problems found so far, in field order.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    /// Records a problem.
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records `message` on `field` unless `ok`; returns `ok`.
    pub(crate) fn ensure(&mut self, ok: bool, field: &str, message: &str) -> bool {
        if !ok {
            self.add(field, message);
        }
        ok
    }

    /// Records problems found elsewhere.
    pub(crate) fn extend(&mut self, errors: Vec<FieldError>) {
        self.0.extend(errors);
    }

    /// The compiled value when no problem was recorded.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ if !self.0.is_empty() => Err(self.0),
            _ => Err(vec![FieldError::new(
                "configuration",
                "The configuration is not valid.",
            )]),
        }
    }

    /// A list of roles (or scopes) entered for `field`: at most [`MAX_ROLES`], each 1 to
    /// [`MAX_ROLE_LEN`] characters without white space or commas, none twice. Returns them
    /// trimmed; the first broken rule is the one reported.
    pub(crate) fn roles(&mut self, field: &str, roles: &[String]) -> Vec<String> {
        if roles.len() > MAX_ROLES {
            self.add(field, format!("List at most {MAX_ROLES} roles."));
            return Vec::new();
        }
        let mut kept: Vec<String> = Vec::with_capacity(roles.len());
        for role in roles.iter().map(|r| r.trim()) {
            let broken = if role.is_empty() || role.chars().count() > MAX_ROLE_LEN {
                format!("A role has 1 to {MAX_ROLE_LEN} characters.")
            } else if role
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',')
            {
                format!("'{role}' is not a role: a role has no spaces or commas.")
            } else if kept.iter().any(|k| k == role) {
                format!("'{role}' is listed twice.")
            } else {
                kept.push(role.to_owned());
                continue;
            };
            self.add(field, broken);
            return Vec::new();
        }
        kept
    }

    /// Compiles `pattern`: non-empty, at most [`MAX_PATTERN_LEN`] characters, valid.
    pub(crate) fn regex(&mut self, field: &str, pattern: &str, how: Match) -> Option<Regex> {
        if pattern.is_empty() {
            self.add(field, "Enter a regular expression.");
            return None;
        }
        if pattern.chars().count() > MAX_PATTERN_LEN {
            self.add(
                field,
                "A regular expression can have at most 1,000 characters.",
            );
            return None;
        }
        // The pattern alone must compile before it is wrapped: a pattern such as "a)|(b" would
        // otherwise escape the anchors.
        let build = |source: &str, ignore_case: bool| {
            RegexBuilder::new(source)
                .case_insensitive(ignore_case)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
        };
        let compiled = build(pattern, false).and_then(|plain| match how {
            Match::Anywhere => Ok(plain),
            Match::Whole => build(&format!("^(?:{pattern})$"), false),
            Match::WholeIgnoringCase => build(&format!("^(?:{pattern})$"), true),
        });
        match compiled {
            Ok(regex) => Some(regex),
            Err(e) => {
                self.add(field, regex_message(pattern, &e));
                None
            }
        }
    }

    /// A header name (as `http` accepts it; any case).
    pub(crate) fn header_name(&mut self, field: &str, name: &str) -> Option<HeaderName> {
        if name.trim().is_empty() {
            self.add(field, "Enter a header name.");
            return None;
        }
        let parsed = HeaderName::from_bytes(name.as_bytes()).ok();
        if parsed.is_none() {
            self.add(
                field,
                format!("'{name}' is not a valid header name (letters, digits and - only)."),
            );
        }
        parsed
    }

    /// An optional header name: blank means none.
    pub(crate) fn optional_header_name(
        &mut self,
        field: &str,
        name: Option<&str>,
    ) -> Result<Option<HeaderName>, ()> {
        match blank_to_none(name) {
            None => Ok(None),
            Some(name) => self.header_name(field, name).map(Some).ok_or(()),
        }
    }

    /// `*` or an HTTP method token, returned upper-cased.
    pub(crate) fn method(&mut self, field: &str, method: &str) -> Option<String> {
        let valid = !method.is_empty() && method.len() <= 32 && method.bytes().all(is_tchar);
        if valid {
            Some(method.to_ascii_uppercase())
        } else {
            self.add(
                field,
                format!("'{method}' is not an HTTP method: use GET, POST, … or *."),
            );
            None
        }
    }
}

/// `None` for a missing or blank value.
pub(crate) fn blank_to_none(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// "rules[2]".
pub(crate) fn item(field: &str, index: usize) -> String {
    format!("{field}[{index}]")
}

/// "rules[2].pathPattern".
pub(crate) fn item_field(field: &str, index: usize, sub: &str) -> String {
    format!("{field}[{index}].{sub}")
}

/// A token character of RFC 9110 (method names, header names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn regex_message(pattern: &str, error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(_) => {
            format!("'{pattern}' is too complex a regular expression.")
        }
        regex::Error::Syntax(text) => {
            let reason = text
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("syntax error");
            format!("'{pattern}' is not a valid regular expression: {reason}.")
        }
        _ => format!("'{pattern}' is not a valid regular expression."),
    }
}

/// The bytes of unpadded base64 whose 62nd and 63rd digits are `c62` and `c63` (`+/` for
/// standard base64, `-_` for base64url); `None` on any other character. Callers check length
/// and padding, which differ between the two.
pub(super) fn decode_sextets(data: &str, c62: u8, c63: u8) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in data.bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            _ if c == c62 => 62,
            _ if c == c63 => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(acc >> bits).ok()?);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_anchoring_and_errors() {
        let mut errs = Errors::default();
        let whole = errs.regex("p", "/a.*", Match::Whole).unwrap();
        assert!(whole.is_match("/abc"));
        assert!(!whole.is_match("/x/abc"));
        let anywhere = errs.regex("p", "/a", Match::Anywhere).unwrap();
        assert!(anywhere.is_match("/x/abc"));
        let names = errs.regex("p", "x-.*", Match::WholeIgnoringCase).unwrap();
        assert!(names.is_match("X-Powered-By"));
        // A pattern escaping the anchors is refused rather than silently widened.
        assert!(errs.regex("p", "a)|(b", Match::Whole).is_none());
        assert!(errs.regex("p", "a{1000}{1000}", Match::Anywhere).is_none());
        let fields: Vec<_> = errs.0.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            fields,
            [
                "'a)|(b' is not a valid regular expression: unopened group.",
                "'a{1000}{1000}' is too complex a regular expression."
            ]
        );
    }

    #[test]
    fn methods_and_header_names() {
        let mut errs = Errors::default();
        assert_eq!(errs.method("m", "get").as_deref(), Some("GET"));
        assert_eq!(errs.method("m", "*").as_deref(), Some("*"));
        assert!(errs.method("m", "GE T").is_none());
        assert!(errs.method("m", "").is_none());
        assert!(errs.header_name("h", "X-User").is_some());
        assert!(errs.header_name("h", "X User").is_none());
        assert_eq!(errs.optional_header_name("h", Some("  ")), Ok(None));
        assert_eq!(errs.0.len(), 3);
        assert!(errs.finish(Some(())).is_err());
        assert_eq!(Errors::default().finish(Some(1)), Ok(1));
    }

    #[test]
    fn roles_are_bounded_distinct_names() {
        let check = |roles: &[&str]| {
            let mut errs = Errors::default();
            let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
            let kept = errs.roles("rules[0].roles", &roles);
            match errs.finish(Some(kept)) {
                Ok(kept) => Ok(kept),
                Err(e) => Err((e[0].field.clone(), e[0].message.clone())),
            }
        };
        assert_eq!(
            check(&[" admin ", "billing:read"]).unwrap(),
            ["admin", "billing:read"]
        );
        assert!(check(&[]).unwrap().is_empty());
        let message = |roles: &[&str]| check(roles).unwrap_err().1;
        assert_eq!(check(&[""]).unwrap_err().0, "rules[0].roles");
        assert_eq!(message(&[""]), "A role has 1 to 100 characters.");
        assert_eq!(
            message(&[&"r".repeat(101)]),
            "A role has 1 to 100 characters."
        );
        assert!(check(&[&"r".repeat(100)]).is_ok());
        assert_eq!(
            message(&["a b"]),
            "'a b' is not a role: a role has no spaces or commas."
        );
        assert_eq!(
            message(&["a,b"]),
            "'a,b' is not a role: a role has no spaces or commas."
        );
        assert_eq!(message(&["admin", "admin"]), "'admin' is listed twice.");
        let many: Vec<String> = (0..51).map(|i| format!("r{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(message(&many), "List at most 50 roles.");
        assert!(check(&many[..50]).is_ok());
    }
}
