//! URL Rewriting: rewrites the request URL, headers or the response body with a regular
//! expression. Its catalogue entry, configuration ([`UrlRewriting`]), validation, description
//! and compiled rule ([`UrlRewriter`]). It refuses nothing; the gateway answers its bounds
//! (8 KiB URLs, 8 MiB bodies) with its own code.

use http::{HeaderMap, HeaderValue};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::check::{Errors, Match};
use super::failure::FailureCode;
use super::simple_header::edit_values;
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "url-rewriting",
    name: "URL Rewriting",
    category: Category::Modification,
    summary: "Rewrites the request URL, headers or response body with a regular expression.",
};

/// Its failure codes: none.
pub(super) const FAILURES: &[FailureCode] = &[];

/// URL Rewriting: every match of `from_regex` is replaced by `to_replacement`, in which `$1` or
/// `${name}` insert capture groups (write `${1}x` when a letter or digit follows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UrlRewriting {
    pub from_regex: String,
    pub to_replacement: String,
    pub process_request_url: bool,
    pub process_request_headers: bool,
    pub process_response_headers: bool,
    pub process_body: bool,
}

impl Default for UrlRewriting {
    fn default() -> Self {
        Self {
            from_regex: String::new(),
            to_replacement: String::new(),
            process_request_url: true,
            process_request_headers: false,
            process_response_headers: false,
            process_body: false,
        }
    }
}

/// "Rewrites /v1/ to /v2/".
pub(super) fn describe(c: &UrlRewriting) -> String {
    format!("Rewrites {} to {}", c.from_regex, c.to_replacement)
}

/// The longest replacement accepted, in characters.
const MAX_REPLACEMENT_LEN: usize = 1_000;
/// The longest path and query a rewrite may produce, in bytes.
const MAX_REWRITTEN_URL: usize = 8 << 10;
/// The longest header value a rewrite may produce, in bytes.
const MAX_REWRITTEN_HEADER: usize = 8 << 10;

/// Whether `pattern` can match empty text (`a*`, `^`, `\b`, `x|`): replaced everywhere, such a
/// match would insert the replacement between every two characters. `false` when it does not
/// parse (the regex check reports that).
fn matches_empty_text(pattern: &str) -> bool {
    regex_syntax::Parser::new()
        .parse(pattern)
        .is_ok_and(|hir| hir.properties().minimum_len() == Some(0))
}

/// Compiled URL Rewriting: every match of the pattern is replaced, where configured.
#[derive(Debug, Clone)]
pub struct UrlRewriter {
    from: Regex,
    to: String,
    url: bool,
    request_headers: bool,
    response_headers: bool,
    body: bool,
}

impl UrlRewriter {
    pub(super) fn compile(config: &UrlRewriting, errs: &mut Errors) -> Option<Self> {
        let mut from = errs.regex("fromRegex", &config.from_regex, Match::Anywhere);
        if from.is_some() && matches_empty_text(&config.from_regex) {
            errs.add(
                "fromRegex",
                "The pattern must not match empty text (as a*, ^ or \\b do): it would insert the replacement everywhere. Match at least one character, e.g. ^/(.*) to replace the start of a path.",
            );
            from = None;
        }
        errs.ensure(
            config.to_replacement.chars().count() <= MAX_REPLACEMENT_LEN,
            "toReplacement",
            "A replacement can have at most 1,000 characters.",
        );
        errs.ensure(
            config.process_request_url
                || config.process_request_headers
                || config.process_response_headers
                || config.process_body,
            "processRequestUrl",
            "Choose at least one place to rewrite: the request URL, request headers, response headers or the response body.",
        );
        Some(Self {
            from: from?,
            to: config.to_replacement.clone(),
            url: config.process_request_url,
            request_headers: config.process_request_headers,
            response_headers: config.process_response_headers,
            body: config.process_body,
        })
    }

    /// Every match replaced; `None` as soon as the result is longer than `max_len` bytes (so
    /// the work is bounded too).
    fn replace_within(&self, text: &str, max_len: usize) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        for caps in self.from.captures_iter(text) {
            let whole = caps.get(0)?;
            out.push_str(&text[last..whole.start()]);
            caps.expand(&self.to, &mut out);
            last = whole.end();
            if out.len() > max_len {
                return None;
            }
        }
        out.push_str(&text[last..]);
        (out.len() <= max_len).then_some(out)
    }

    /// Whether the response body is rewritten (the gateway then buffers it).
    pub fn rewrites_body(&self) -> bool {
        self.body
    }

    /// The request path and query, rewritten when configured; `None` when the result would be
    /// longer than 8 KiB.
    pub fn rewrite_url(&self, path_and_query: &str) -> Option<String> {
        if self.url {
            self.replace_within(path_and_query, MAX_REWRITTEN_URL)
        } else {
            Some(path_and_query.to_owned())
        }
    }

    /// Rewrites request header values when configured.
    pub fn rewrite_request_headers(&self, headers: &mut HeaderMap) {
        if self.request_headers {
            self.rewrite_headers(headers);
        }
    }

    /// Rewrites response header values (e.g. `Location`) when configured.
    pub fn rewrite_response_headers(&self, headers: &mut HeaderMap) {
        if self.response_headers {
            self.rewrite_headers(headers);
        }
    }

    /// The response body, rewritten when configured; `None` when the rewritten body would be
    /// longer than `max_len` bytes (it stops there: the work is bounded too).
    pub fn rewrite_body(&self, body: &str, max_len: usize) -> Option<String> {
        if self.body {
            self.replace_within(body, max_len)
        } else {
            (body.len() <= max_len).then(|| body.to_owned())
        }
    }

    /// A value that would no longer be a valid header value, or be longer than
    /// 8 KiB, is kept as it was.
    fn rewrite_headers(&self, headers: &mut HeaderMap) {
        edit_values(headers, |v| match v.to_str() {
            Ok(s) if self.from.is_match(s) => Some(
                self.replace_within(s, MAX_REWRITTEN_HEADER)
                    .and_then(|new| HeaderValue::from_str(&new).ok())
                    .unwrap_or_else(|| v.clone()),
            ),
            _ => Some(v.clone()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::simple_header::tests::{map, values};

    fn rewriter(from: &str, to: &str, url: bool, headers: bool, body: bool) -> UrlRewriter {
        let config = UrlRewriting {
            from_regex: from.to_owned(),
            to_replacement: to.to_owned(),
            process_request_url: url,
            process_request_headers: headers,
            process_response_headers: headers,
            process_body: body,
        };
        let mut errs = Errors::default();
        let compiled = UrlRewriter::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    #[test]
    fn url_rewriting_with_capture_groups() {
        let r = rewriter("/v1/(\\w+)", "/v2/$1/latest", true, true, true);
        assert_eq!(
            r.rewrite_url("/v1/users?x=1").as_deref(),
            Some("/v2/users/latest?x=1")
        );
        assert_eq!(r.rewrite_url("/other").as_deref(), Some("/other"));
        assert_eq!(
            r.rewrite_body(r#"{"next":"/v1/page","prev":"/v1/start"}"#, 1000)
                .as_deref(),
            Some(r#"{"next":"/v2/page/latest","prev":"/v2/start/latest"}"#)
        );
        let mut headers = map(&[
            ("location", "https://api.example.com/v1/items"),
            ("x-other", "same"),
        ]);
        r.rewrite_response_headers(&mut headers);
        assert_eq!(
            values(&headers, "location"),
            ["https://api.example.com/v2/items/latest"]
        );
        assert_eq!(values(&headers, "x-other"), ["same"]);
        assert!(r.rewrites_body());
    }

    #[test]
    fn url_rewriting_only_where_configured() {
        let r = rewriter("a", "b", false, false, true);
        assert_eq!(r.rewrite_url("/a").as_deref(), Some("/a"));
        let mut headers = map(&[("x", "a")]);
        r.rewrite_request_headers(&mut headers);
        r.rewrite_response_headers(&mut headers);
        assert_eq!(values(&headers, "x"), ["a"]);
        // A rewrite producing an invalid header value keeps the old one.
        let bad = rewriter("a", "\n", false, true, false);
        let mut headers = map(&[("x", "a")]);
        bad.rewrite_request_headers(&mut headers);
        assert_eq!(values(&headers, "x"), ["a"]);
        assert!(!bad.rewrites_body());
        assert_eq!(bad.rewrite_body("a", 1).as_deref(), Some("a"));
    }

    fn rewriting_errors(from: &str, to: &str) -> Vec<crate::FieldError> {
        let config = UrlRewriting {
            from_regex: from.to_owned(),
            to_replacement: to.to_owned(),
            ..UrlRewriting::default()
        };
        let mut errs = Errors::default();
        let compiled = UrlRewriter::compile(&config, &mut errs);
        errs.finish(compiled).err().unwrap_or_default()
    }

    #[test]
    fn patterns_matching_empty_text_are_refused() {
        // (pattern, refused)
        let cases = [
            ("a*", true),
            ("^", true),
            ("$", true),
            ("\\b", true),
            ("x|", true),
            ("(?m)^", true),
            ("(a?)", true),
            ("a", false),
            ("^/old/(.*)$", false),
            ("^/", false),
            ("a+", false),
        ];
        for (pattern, refused) in cases {
            let errors = rewriting_errors(pattern, "b");
            assert_eq!(
                errors.iter().any(|e| e.field == "fromRegex"
                    && e.message
                        .starts_with("The pattern must not match empty text")),
                refused,
                "{pattern}: {errors:?}"
            );
        }
    }

    #[test]
    fn replacements_have_a_bounded_length() {
        assert!(rewriting_errors("a", &"b".repeat(1_000)).is_empty());
        let errors = rewriting_errors("a", &"b".repeat(1_001));
        assert_eq!(
            errors,
            [crate::FieldError::new(
                "toReplacement",
                "A replacement can have at most 1,000 characters."
            )]
        );
    }

    #[test]
    fn a_rewritten_body_stops_at_its_cap() {
        let r = rewriter("a", "bbbb", false, false, true);
        assert_eq!(r.rewrite_body("xax", 6).as_deref(), Some("xbbbbx"));
        assert_eq!(r.rewrite_body("xax", 5), None);
        // A body that grows a thousandfold is refused long before it is built.
        let big = rewriter("a", &"z".repeat(1_000), false, false, true);
        assert_eq!(big.rewrite_body(&"a".repeat(1 << 20), 8 << 20), None);
        // Unchanged bodies keep their own limit.
        let off = rewriter("a", "b", true, false, false);
        assert_eq!(off.rewrite_body("aaaa", 3), None);
    }

    #[test]
    fn rewritten_urls_and_header_values_stay_bounded() {
        let r = rewriter("a", &"z".repeat(1_000), true, true, false);
        // 8 matches: 8,001 bytes, within 8 KiB; 9 matches: 9,001 bytes, past it.
        let url = |n: usize| format!("/{}", "a".repeat(n));
        assert_eq!(r.rewrite_url(&url(8)).map(|u| u.len()), Some(8_001));
        assert_eq!(r.rewrite_url(&url(9)), None);
        assert_eq!(r.rewrite_url(&url(100_000)), None);
        // A header value that would grow past its bound keeps its old value.
        let value = "a".repeat(9);
        let mut headers = map(&[("x-short", "a"), ("x-long", value.as_str())]);
        r.rewrite_request_headers(&mut headers);
        assert_eq!(values(&headers, "x-short"), ["z".repeat(1_000)]);
        assert_eq!(values(&headers, "x-long"), [value]);
    }
}
