//! Modification policies: Simple Header ([`HeaderEditor`]) and URL Rewriting ([`UrlRewriter`]).

use http::{HeaderMap, HeaderName, HeaderValue};
use regex::Regex;

use super::check::{Errors, Match, item_field};
use super::{ApplyTo, SimpleHeader, StripBy, UrlRewriting};

/// Replaces the values of every header by `edit`'s answer (`None` drops the value). Headers
/// whose values do not change are left untouched, order included.
fn edit_values(headers: &mut HeaderMap, mut edit: impl FnMut(&HeaderValue) -> Option<HeaderValue>) {
    let names: Vec<HeaderName> = headers.keys().cloned().collect();
    for name in names {
        let old: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
        let new: Vec<HeaderValue> = old.iter().filter_map(&mut edit).collect();
        if new != old {
            headers.remove(&name);
            for value in new {
                headers.append(name.clone(), value);
            }
        }
    }
}

/// A header value as text; bytes outside UTF-8 are replaced.
fn text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

#[derive(Debug, Clone)]
struct Addition {
    name: HeaderName,
    value: HeaderValue,
    apply_to: ApplyTo,
    overwrite: bool,
}

#[derive(Debug, Clone)]
struct Strip {
    by: StripBy,
    /// Whole match; case-insensitive for names.
    pattern: Regex,
    apply_to: ApplyTo,
}

/// Compiled Simple Header. Strips run before additions, so a header can be replaced by
/// stripping it and adding it again.
#[derive(Debug, Clone)]
pub struct HeaderEditor {
    add: Vec<Addition>,
    strip: Vec<Strip>,
}

impl HeaderEditor {
    pub(crate) fn compile(config: &SimpleHeader, errs: &mut Errors) -> Option<Self> {
        errs.ensure(
            !config.add_headers.is_empty() || !config.strip_headers.is_empty(),
            "addHeaders",
            "Add a header to add or to strip.",
        );
        let add: Vec<_> = config
            .add_headers
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let name = errs.header_name(&item_field("addHeaders", i, "name"), &a.name);
                let value = HeaderValue::from_str(&a.value).ok();
                errs.ensure(
                    value.is_some(),
                    &item_field("addHeaders", i, "value"),
                    "A header value cannot contain line breaks or control characters.",
                );
                Some(Addition {
                    name: name?,
                    value: value?,
                    apply_to: a.apply_to,
                    overwrite: a.overwrite,
                })
            })
            .collect();
        let strip: Vec<_> = config
            .strip_headers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let how = match s.by {
                    StripBy::Name => Match::WholeIgnoringCase,
                    StripBy::Value => Match::Whole,
                };
                let field = item_field("stripHeaders", i, "pattern");
                Some(Strip {
                    by: s.by,
                    pattern: errs.regex(&field, &s.pattern, how)?,
                    apply_to: s.apply_to,
                })
            })
            .collect();
        Some(Self {
            add: add.into_iter().collect::<Option<_>>()?,
            strip: strip.into_iter().collect::<Option<_>>()?,
        })
    }

    /// Edits the headers of a request on its way to the back end.
    pub fn apply_request(&self, headers: &mut HeaderMap) {
        self.apply(headers, ApplyTo::request);
    }

    /// Edits the headers of a response on its way to the consumer.
    pub fn apply_response(&self, headers: &mut HeaderMap) {
        self.apply(headers, ApplyTo::response);
    }

    fn apply(&self, headers: &mut HeaderMap, applies: fn(ApplyTo) -> bool) {
        for strip in self.strip.iter().filter(|s| applies(s.apply_to)) {
            match strip.by {
                StripBy::Name => {
                    let doomed: Vec<HeaderName> = headers
                        .keys()
                        .filter(|n| strip.pattern.is_match(n.as_str()))
                        .cloned()
                        .collect();
                    for name in doomed {
                        headers.remove(name);
                    }
                }
                StripBy::Value => edit_values(headers, |v| {
                    (!strip.pattern.is_match(&text(v))).then(|| v.clone())
                }),
            }
        }
        for add in self.add.iter().filter(|a| applies(a.apply_to)) {
            if add.overwrite {
                headers.insert(add.name.clone(), add.value.clone());
            } else {
                headers.append(add.name.clone(), add.value.clone());
            }
        }
    }
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
    pub(crate) fn compile(config: &UrlRewriting, errs: &mut Errors) -> Option<Self> {
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
    use crate::policy::{AddHeader, StripHeader};

    fn editor(
        add: &[(&str, &str, ApplyTo, bool)],
        strip: &[(StripBy, &str, ApplyTo)],
    ) -> HeaderEditor {
        let config = SimpleHeader {
            add_headers: add
                .iter()
                .map(|(name, value, apply_to, overwrite)| AddHeader {
                    name: (*name).to_owned(),
                    value: (*value).to_owned(),
                    apply_to: *apply_to,
                    overwrite: *overwrite,
                })
                .collect(),
            strip_headers: strip
                .iter()
                .map(|(by, pattern, apply_to)| StripHeader {
                    by: *by,
                    pattern: (*pattern).to_owned(),
                    apply_to: *apply_to,
                })
                .collect(),
        };
        let mut errs = Errors::default();
        let compiled = HeaderEditor::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    fn map(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
        headers.get_all(name).iter().map(text).collect()
    }

    #[test]
    fn add_appends_or_overwrites() {
        let e = editor(
            &[
                ("X-Append", "new", ApplyTo::Request, false),
                ("X-Replace", "new", ApplyTo::Both, true),
                ("X-Response-Only", "yes", ApplyTo::Response, true),
            ],
            &[],
        );
        let mut headers = map(&[
            ("x-append", "old"),
            ("x-replace", "old1"),
            ("x-replace", "old2"),
        ]);
        e.apply_request(&mut headers);
        assert_eq!(values(&headers, "x-append"), ["old", "new"]);
        assert_eq!(values(&headers, "x-replace"), ["new"]);
        assert!(headers.get("x-response-only").is_none());
        let mut response = HeaderMap::new();
        e.apply_response(&mut response);
        assert_eq!(values(&response, "x-response-only"), ["yes"]);
        assert!(response.get("x-append").is_none());
    }

    #[test]
    fn strip_by_name_and_by_value() {
        let e = editor(
            &[("Server", "Tollgate", ApplyTo::Response, true)],
            &[
                (StripBy::Name, "x-powered-.*|server", ApplyTo::Response),
                (StripBy::Value, "secret-.*", ApplyTo::Both),
            ],
        );
        let mut headers = map(&[
            ("x-powered-by", "PHP"),
            ("server", "nginx"),
            ("x-token", "secret-1"),
            ("x-token", "public"),
            ("x-keep", "a secret-2"),
            ("x-other-powered-by", "kept"),
        ]);
        e.apply_response(&mut headers);
        assert!(headers.get("x-powered-by").is_none());
        assert_eq!(values(&headers, "server"), ["Tollgate"]);
        assert_eq!(values(&headers, "x-token"), ["public"]);
        assert_eq!(values(&headers, "x-keep"), ["a secret-2"]);
        assert_eq!(values(&headers, "x-other-powered-by"), ["kept"]);
        // Name strips configured for responses leave requests alone.
        let mut request = map(&[("server", "client"), ("x-token", "secret-9")]);
        e.apply_request(&mut request);
        assert_eq!(values(&request, "server"), ["client"]);
        assert!(request.get("x-token").is_none());
    }

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
