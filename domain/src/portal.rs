//! What the Developer Portal shows that is derived by rule: the summary of a plan's limits from
//! its policies, and the operations of an OpenAPI document grouped by tag.

use serde::{Deserialize, Serialize};

use crate::policy::PolicyConfig;

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line per limiting policy ("100 requests per Minute", "10,000 requests per Month",
/// "1 GB per Month"), or `["Unlimited"]` when the plan sets no limit. `policies` are
/// (definition id, JSON configuration) in order; each is read as its [`PolicyConfig`], and
/// unknown or unreadable ones are skipped (what each kind says is
/// [`PolicyConfig::limit_summary`]).
pub fn limits_summary<'a>(policies: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut out: Vec<String> = policies
        .into_iter()
        .filter_map(|(definition, json)| PolicyConfig::parse(definition, json).ok())
        .filter_map(|config| config.limit_summary())
        .collect();
    if out.is_empty() {
        out.push("Unlimited".to_owned());
    }
    out
}

/// A parameter of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parameter {
    pub name: String,
    /// "path", "query", "header", "cookie".
    pub location: String,
    pub required: bool,
    pub description: String,
    /// A short type, e.g. "string", "integer", "array of string".
    pub kind: String,
}

/// A response of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Response {
    pub status: String,
    pub description: String,
    /// The JSON schema of the first content type, pretty-printed.
    pub schema: Option<String>,
}

/// One operation (method + path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub parameters: Vec<Parameter>,
    pub request_schema: Option<String>,
    pub responses: Vec<Response>,
}

/// The operations that share a tag (the first tag of each operation; "default" without one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperationGroup {
    pub tag: String,
    pub operations: Vec<Operation>,
}

/// What the portal's API page and the API's Definition tab show of a definition, extracted once
/// when it is saved (stored as JSON next to the text), so no page view parses it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefinitionSummary {
    /// `info.title`.
    pub title: String,
    pub groups: Vec<OperationGroup>,
}

impl DefinitionSummary {
    /// The summary of a checked OpenAPI 3 document.
    pub fn of(doc: &serde_json::Value) -> Self {
        Self {
            title: text(doc.get("info").unwrap_or(&serde_json::Value::Null), "title"),
            groups: operation_groups(doc),
        }
    }

    pub fn operation_count(&self) -> usize {
        self.groups.iter().map(|g| g.operations.len()).sum()
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn kind(schema: Option<&serde_json::Value>) -> String {
    let Some(s) = schema else {
        return String::new();
    };
    if let Some(r) = s.get("$ref").and_then(serde_json::Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    match s.get("type").and_then(serde_json::Value::as_str) {
        Some("array") => format!("array of {}", kind(s.get("items"))),
        Some(t) => t.to_owned(),
        None => "object".to_owned(),
    }
}

fn first_schema(content: Option<&serde_json::Value>) -> Option<String> {
    let schema = content?.as_object()?.values().next()?.get("schema")?;
    serde_json::to_string_pretty(schema).ok()
}

/// The operations of an OpenAPI 3 document grouped by their first tag, in document order.
pub fn operation_groups(doc: &serde_json::Value) -> Vec<OperationGroup> {
    let mut groups: Vec<OperationGroup> = Vec::new();
    let Some(paths) = doc.get("paths").and_then(serde_json::Value::as_object) else {
        return groups;
    };
    for (path, item) in paths {
        let shared: Vec<serde_json::Value> = item
            .get("parameters")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op
                .get("tags")
                .and_then(|t| t.get(0))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("default")
                .to_owned();
            let parameters = shared
                .iter()
                .chain(
                    op.get("parameters")
                        .and_then(serde_json::Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .map(|p| Parameter {
                    name: text(p, "name"),
                    location: text(p, "in"),
                    required: p
                        .get("required")
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false),
                    description: text(p, "description"),
                    kind: kind(p.get("schema")),
                })
                .collect();
            let responses = op
                .get("responses")
                .and_then(serde_json::Value::as_object)
                .map(|r| {
                    r.iter()
                        .map(|(status, resp)| Response {
                            status: status.clone(),
                            description: text(resp, "description"),
                            schema: first_schema(resp.get("content")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let operation = Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: {
                    let s = text(op, "summary");
                    if s.is_empty() {
                        text(op, "description")
                    } else {
                        s
                    }
                },
                parameters,
                request_schema: first_schema(op.get("requestBody").and_then(|b| b.get("content"))),
                responses,
            };
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(g) => g.operations.push(operation),
                None => groups.push(OperationGroup {
                    tag,
                    operations: vec![operation],
                }),
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{QUOTA, RATE_LIMITING, TRANSFER_QUOTA};
    use serde_json::json;

    #[test]
    fn limits_are_summarized_per_policy() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let rate = r#"{"limit":100,"period":"Minute","granularity":"Client"}"#;
        let quota = r#"{"limit":10000,"period":"Month"}"#;
        let transfer = r#"{"limit":1073741824,"period":"Month","direction":"both"}"#;
        assert_eq!(
            limits_summary([
                (RATE_LIMITING, rate),
                (QUOTA, quota),
                (TRANSFER_QUOTA, transfer)
            ]),
            [
                "100 requests per Minute",
                "10,000 requests per Month",
                "1 GB per Month"
            ]
        );
        assert_eq!(
            limits_summary([(RATE_LIMITING, r#"{"limit":1,"period":"Second"}"#)]),
            ["1 request per Second"]
        );
        assert_eq!(limits_summary([]), ["Unlimited"]);
        assert_eq!(
            limits_summary([("cors", "{}"), (QUOTA, "not json")]),
            ["Unlimited"]
        );
    }

    #[test]
    fn operations_grouped_by_first_tag() {
        let doc = json!({"openapi": "3.0.0", "paths": {
            "/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {"tags": ["pets"], "summary": "Find a pet",
                    "parameters": [{"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}],
                    "responses": {"200": {"description": "A pet", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}},
                "delete": {"tags": ["admin", "pets"], "responses": {"204": {"description": "Gone"}}}
            },
            "/health": {"get": {"description": "Health"}}
        }});
        let groups = operation_groups(&doc);
        let tags: Vec<&str> = groups.iter().map(|g| g.tag.as_str()).collect();
        assert_eq!(tags, ["default", "pets", "admin"]);
        let pets = &groups[1].operations[0];
        assert_eq!(
            (
                pets.method.as_str(),
                pets.path.as_str(),
                pets.summary.as_str()
            ),
            ("GET", "/pets/{id}", "Find a pet")
        );
        assert_eq!(pets.parameters.len(), 2);
        assert_eq!(
            (
                pets.parameters[0].kind.as_str(),
                pets.parameters[0].required
            ),
            ("integer", true)
        );
        assert_eq!(pets.parameters[1].kind, "array of string");
        assert!(
            pets.responses[0]
                .schema
                .as_deref()
                .unwrap()
                .contains("#/components/schemas/Pet")
        );
        assert_eq!(groups[0].operations[0].summary, "Health");
    }
}
