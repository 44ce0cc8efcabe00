//! Ignored Resources: hides methods and paths of an API (404). Its catalogue entry,
//! configuration ([`IgnoredResources`]), validation, description, failure and compiled rule
//! ([`ResourceFilter`]).

use serde::{Deserialize, Serialize};

use super::check::Errors;
use super::describe::list;
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::path::{MethodPath, require_rules};
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "ignored-resources",
    name: "Ignored Resources",
    category: Category::Limitation,
    summary: "Hides resources of the API: matching requests are answered 404 Not Found.",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[FailureCode::ResourceIgnored];

/// A method and path rule of Ignored Resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceRule {
    /// `*` or an HTTP method (any case).
    pub verb: String,
    /// A regular expression matched against the whole rest path (anchored `^…$`).
    pub path_pattern: String,
}

impl Default for ResourceRule {
    fn default() -> Self {
        Self {
            verb: "*".to_owned(),
            path_pattern: String::new(),
        }
    }
}

/// Ignored Resources.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IgnoredResources {
    pub rules: Vec<ResourceRule>,
}

/// "GET /admin.* is not available".
pub(super) fn describe(c: &IgnoredResources) -> String {
    let rules = list(c.rules.iter().map(|r| {
        if r.verb == "*" {
            r.path_pattern.clone()
        } else {
            format!("{} {}", r.verb.to_ascii_uppercase(), r.path_pattern)
        }
    }));
    let verb = if c.rules.len() == 1 { "is" } else { "are" };
    format!("{rules} {verb} not available")
}

/// Compiled Ignored Resources: requests matching a rule are answered 404.
#[derive(Debug, Clone)]
pub struct ResourceFilter {
    rules: Vec<MethodPath>,
}

impl ResourceFilter {
    pub(super) fn compile(config: &IgnoredResources, errs: &mut Errors) -> Option<Self> {
        require_rules(errs, config.rules.len());
        let rules: Vec<_> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| MethodPath::compile(errs, i, ("verb", &r.verb), &r.path_pattern))
            .collect();
        Some(Self {
            rules: rules.into_iter().collect::<Option<_>>()?,
        })
    }

    /// Refuses (404, [`FailureCode::ResourceIgnored`]) a request whose method and rest path match a
    /// rule.
    pub fn check(&self, method: &str, rest_path: &str) -> Result<(), PolicyFailure> {
        if self.rules.iter().any(|r| r.matches(method, rest_path)) {
            Err(PolicyFailure::new(
                FailureCode::ResourceIgnored,
                FailureType::Other,
                "This resource is not available.",
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(rules: &[(&str, &str)]) -> ResourceFilter {
        let config = IgnoredResources {
            rules: rules
                .iter()
                .map(|(verb, path)| ResourceRule {
                    verb: (*verb).to_owned(),
                    path_pattern: (*path).to_owned(),
                })
                .collect(),
        };
        let mut errs = Errors::default();
        let compiled = ResourceFilter::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    #[test]
    fn ignored_resources() {
        let f = filter(&[("GET", "/admin.*"), ("*", "/internal/[0-9]+")]);
        // (method, rest path, ignored)
        let cases = [
            ("GET", "/admin", true),
            ("get", "/admin/users", true),
            ("POST", "/admin", false),
            ("GET", "/v1/admin", false),
            ("DELETE", "/internal/42", true),
            ("GET", "/internal/42/x", false),
            ("GET", "/public", false),
        ];
        for (method, path, ignored) in cases {
            assert_eq!(f.check(method, path).is_err(), ignored, "{method} {path}");
        }
        let failure = f.check("GET", "/admin").unwrap_err();
        assert_eq!((failure.status, failure.code.number()), (404, 10007));
        assert_eq!(failure.failure_type, FailureType::Other);
    }
}
