//! Simple Header: adds headers to requests or responses, or strips them. Its catalogue entry,
//! configuration ([`SimpleHeader`]), validation, description and compiled rule
//! ([`HeaderEditor`]). It refuses nothing, so it has no failure code.

use http::{HeaderMap, HeaderName, HeaderValue};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::check::{Errors, Match, item_field};
use super::describe::count;
use super::failure::FailureCode;
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "simple-header",
    name: "Simple Header",
    category: Category::Modification,
    summary: "Adds headers to requests or responses, or strips them.",
};

/// Its failure codes: none.
pub(super) const FAILURES: &[FailureCode] = &[];

/// Whether a header edit applies to the request, the response, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyTo {
    #[default]
    Request,
    Response,
    Both,
}

impl ApplyTo {
    /// Applies to requests.
    pub fn request(self) -> bool {
        matches!(self, ApplyTo::Request | ApplyTo::Both)
    }

    /// Applies to responses.
    pub fn response(self) -> bool {
        matches!(self, ApplyTo::Response | ApplyTo::Both)
    }
}

/// What a strip-header pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StripBy {
    #[default]
    Name,
    Value,
}

/// A header Simple Header adds. Without `overwrite` the value is appended to existing ones.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddHeader {
    pub name: String,
    pub value: String,
    pub apply_to: ApplyTo,
    pub overwrite: bool,
}

/// Headers Simple Header removes: those whose name (case-insensitively) or value matches
/// `pattern` as a whole.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StripHeader {
    pub by: StripBy,
    /// A regular expression matched against the whole name or value.
    pub pattern: String,
    pub apply_to: ApplyTo,
}

/// Simple Header. Strips are applied before additions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimpleHeader {
    pub add_headers: Vec<AddHeader>,
    pub strip_headers: Vec<StripHeader>,
}

/// "Adds 1 header, strips 1 header".
pub(super) fn describe(c: &SimpleHeader) -> String {
    let mut parts = Vec::new();
    if !c.add_headers.is_empty() {
        parts.push(format!(
            "Adds {}",
            count(c.add_headers.len() as u64, "header", "headers")
        ));
    }
    if !c.strip_headers.is_empty() {
        let strips = count(c.strip_headers.len() as u64, "header", "headers");
        parts.push(if parts.is_empty() {
            format!("Strips {strips}")
        } else {
            format!("strips {strips}")
        });
    }
    if parts.is_empty() {
        "Changes no headers".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Replaces the values of every header by `edit`'s answer (`None` drops the value). Headers
/// whose values do not change are left untouched, order included.
pub(super) fn edit_values(
    headers: &mut HeaderMap,
    mut edit: impl FnMut(&HeaderValue) -> Option<HeaderValue>,
) {
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
pub(super) fn text(value: &HeaderValue) -> String {
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
    pub(super) fn compile(config: &SimpleHeader, errs: &mut Errors) -> Option<Self> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

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

    /// Headers from (name, value) pairs, in order.
    pub(crate) fn map(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    /// Every value of `name`, in order.
    pub(crate) fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
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
}
