//! The request path as path rules see it ([`normalize_path`]): one spelling for one resource, so
//! that `/%61dmin`, `//admin` or `/x/../admin` cannot slip past a rule written for `/admin`;
//! and the method + path rule ([`MethodPath`]) of Ignored Resources and Caching Resources.

use regex::Regex;

use super::check::{Errors, Match, item_field};

/// A compiled method (upper case, or `*` for any) and whole-path regex: a rule of Ignored
/// Resources and of Caching Resources.
#[derive(Debug, Clone)]
pub(crate) struct MethodPath {
    method: String,
    path: Regex,
}

impl MethodPath {
    /// Checks `rules[i].{method_field}` and `rules[i].pathPattern`.
    pub(super) fn compile(
        errs: &mut Errors,
        index: usize,
        (method_field, method): (&str, &str),
        pattern: &str,
    ) -> Option<Self> {
        let method = errs.method(&item_field("rules", index, method_field), method);
        let path = errs.regex(
            &item_field("rules", index, "pathPattern"),
            pattern,
            Match::Whole,
        );
        Some(Self {
            method: method?,
            path: path?,
        })
    }

    pub(super) fn matches(&self, method: &str, rest_path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && self.path.is_match(rest_path)
    }
}

/// At least one rule.
pub(super) fn require_rules(errs: &mut Errors, count: usize) {
    errs.ensure(count > 0, "rules", "Add at least one rule.");
}

/// Normalises a request path (RFC 3986 §6.2.2): percent-encoded unreserved characters are
/// decoded, other escapes get upper-case hex, repeated slashes collapse, and `.` / `..` segments
/// are resolved (never above the root), and a `%` that starts no escape becomes `%25`. A
/// trailing slash stays; an empty path stays empty. Normalising twice changes nothing more.
pub fn normalize_path(path: &str) -> String {
    let plain = !path.contains('%')
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..");
    if plain {
        return path.to_owned();
    }
    let decoded = decode_unreserved(path);
    let mut segments: Vec<&str> = Vec::new();
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing || out.is_empty() {
        out.push('/');
    }
    out
}

fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let c = (h << 4 | l) as char;
            let unreserved = c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
            if unreserved && !(c.is_ascii_hexdigit() && spells_double_escape(&out)) {
                out.push(c);
            } else {
                out.push('%');
                out.push(bytes[i + 1].to_ascii_uppercase() as char);
                out.push(bytes[i + 2].to_ascii_uppercase() as char);
            }
            i += 3;
            continue;
        }
        // A `%` that starts no escape stands for itself, written `%25`: decoding what follows it
        // must not make an escape of them (`/%%361dmin` would read `/%61dmin`, which the backend
        // reads as `/admin`, past a rule for `/admin`).
        if bytes[i] == b'%' {
            out.push_str("%25");
            i += 1;
            continue;
        }
        // Paths reach here from a parsed URI: ASCII only; anything else is kept as it is.
        let ch = path[i..].chars().next().unwrap_or('\u{FFFD}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Whether a hex digit decoded after `out` would spell a doubly encoded character with it:
/// `out` ends with `%25`, or with `%25` and a hex digit (`%25%32F` must not read `%252F`, which
/// a backend that decodes twice takes for `/`). Such a digit stays encoded.
fn spells_double_escape(out: &str) -> bool {
    let before_digit = out.strip_suffix(|c: char| c.is_ascii_hexdigit());
    out.ends_with("%25") || before_digit.is_some_and(|o| o.ends_with("%25"))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_path;

    #[test]
    fn one_spelling_per_resource() {
        for (raw, normal) in [
            ("", ""),
            ("/", "/"),
            ("/admin", "/admin"),
            ("/%61dmin", "/admin"),
            ("/%7euser", "/~user"),
            ("//admin", "/admin"),
            ("/x/../admin", "/admin"),
            ("/x/%2E%2E/admin", "/admin"),
            ("/a/./b", "/a/b"),
            ("/../../etc", "/etc"),
            ("/a/b/", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a%2fb", "/a%2Fb"),
            ("/a%2", "/a%252"),
            ("/%", "/%25"),
            // A stray `%` does not make an escape with what is decoded after it.
            ("/%%361dmin", "/%25%361dmin"),
            ("/%2%46", "/%252%46"),
            ("/%25%32F", "/%25%32F"),
            ("/%25%61", "/%25%61"),
            ("/%25x%61", "/%25xa"),
            ("/caf%C3%A9", "/caf%C3%A9"),
        ] {
            assert_eq!(normalize_path(raw), normal, "{raw}");
        }
    }
}
