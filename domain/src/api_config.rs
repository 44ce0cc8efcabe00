//! What an API version is configured with besides its endpoint: content type, how each offered
//! plan may be discovered, and the OpenAPI definition's checks.

use crate::FieldError;

/// The content type an API speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContentType {
    Json,
    Xml,
}

impl ContentType {
    pub const ALL: [ContentType; 2] = [ContentType::Json, ContentType::Xml];

    /// The stored and displayed form: "JSON", "XML".
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => "JSON",
            ContentType::Xml => "XML",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| FieldError::new("content_type", "Choose JSON or XML."))
    }
}

/// The only endpoint type Tollgate proxies.
pub const ENDPOINT_TYPE_REST: &str = "REST";

/// Who may discover a plan offered by an API version (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Discoverability {
    /// Members of the API's organization only.
    OrgMembers,
    /// Every signed-in user of API Management and the portal.
    AllUsers,
    /// Listed in the Developer Portal for signed-in users.
    Portal,
    /// Listed in the Developer Portal, also for anonymous visitors.
    Anonymous,
}

impl Discoverability {
    pub const ALL: [Discoverability; 4] = [
        Discoverability::OrgMembers,
        Discoverability::AllUsers,
        Discoverability::Portal,
        Discoverability::Anonymous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Discoverability::OrgMembers => "org_members",
            Discoverability::AllUsers => "all_users",
            Discoverability::Portal => "portal",
            Discoverability::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Discoverability::OrgMembers => "Org members",
            Discoverability::AllUsers => "All users",
            Discoverability::Portal => "Portal",
            Discoverability::Anonymous => "Anonymous",
        }
    }

    /// Whether a visitor sees a plan with this discoverability: members of the API's
    /// organization always; other signed-in users unless it is for org members only; anonymous
    /// visitors only when it says so.
    pub fn visible_to(self, signed_in: bool, member_of_api_org: bool) -> bool {
        match self {
            _ if member_of_api_org => true,
            Discoverability::OrgMembers => false,
            Discoverability::AllUsers | Discoverability::Portal => signed_in,
            Discoverability::Anonymous => true,
        }
    }
}

/// Parses a comma-separated list of tags (`key` or `key=value`): trimmed, lower-case keys,
/// no duplicates, at most 20 of at most 50 characters each.
pub fn parse_tags(input: &str) -> Result<Vec<String>, FieldError> {
    let err = |m: String| FieldError::new("tags", m);
    let mut out: Vec<String> = Vec::new();
    for raw in input.split(',') {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().any(|c| c.is_control()) {
            return Err(err("Tags must not contain control characters.".to_owned()));
        }
        let tag = match t.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim().to_lowercase(), v.trim()),
            None => t.to_lowercase(),
        };
        // Measured once lower-cased, which can lengthen a tag ('İ' becomes 'i' and a dot).
        if t.chars().count() > 50 || tag.chars().count() > 50 {
            return Err(err(format!("The tag '{t}' is longer than 50 characters.")));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 20 {
        return Err(err("An API can have at most 20 tags.".to_owned()));
    }
    Ok(out)
}

/// The largest OpenAPI definition accepted, in bytes.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// The format a definition was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DefinitionFormat {
    Json,
    Yaml,
}

impl DefinitionFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionFormat::Json => "json",
            DefinitionFormat::Yaml => "yaml",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(DefinitionFormat::Json),
            "yaml" => Some(DefinitionFormat::Yaml),
            _ => None,
        }
    }

    /// JSON when the text starts with `{`, YAML otherwise.
    pub fn sniff(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            DefinitionFormat::Json
        } else {
            DefinitionFormat::Yaml
        }
    }
}

fn definition_error(message: impl Into<String>) -> FieldError {
    FieldError::new("definition", message)
}

/// Checks the size of a definition before it is parsed.
pub fn check_definition_size(text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(definition_error("Paste or upload an OpenAPI 3 document."));
    }
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(definition_error(
            "The definition is larger than 1 MiB; split it or remove examples.",
        ));
    }
    Ok(())
}

/// The most nodes (objects, arrays, scalars, keys not counted) a definition may have: far above
/// any real 1 MiB OpenAPI document, far below what makes a page slow.
pub const MAX_DEFINITION_NODES: usize = 100_000;
/// The deepest nesting of objects and arrays a definition may have.
pub const MAX_DEFINITION_DEPTH: usize = 64;

/// The refusal of a YAML anchor (`&name`) or alias (`*name`): expanding aliases can turn a few
/// kilobytes into gigabytes ("billion laughs"), so definitions are written out in full.
pub fn yaml_anchors_refused() -> FieldError {
    definition_error(
        "YAML anchors and aliases (&name, *name) are not accepted; write the repeated parts out \
         in full or use $ref.",
    )
}

/// Counts a document's nodes and nesting as a parser meets them, and refuses past
/// [`MAX_DEFINITION_NODES`] or [`MAX_DEFINITION_DEPTH`].
#[derive(Debug, Default)]
pub struct NodeBudget {
    nodes: usize,
    depth: usize,
}

impl NodeBudget {
    fn count(&mut self) -> Result<(), FieldError> {
        self.nodes += 1;
        if self.nodes > MAX_DEFINITION_NODES {
            return Err(definition_error(format!(
                "The definition has more than {MAX_DEFINITION_NODES} values; split it."
            )));
        }
        Ok(())
    }

    /// A scalar.
    pub fn leaf(&mut self) -> Result<(), FieldError> {
        self.count()
    }

    /// The start of an object or an array.
    pub fn open(&mut self) -> Result<(), FieldError> {
        self.count()?;
        self.depth += 1;
        if self.depth > MAX_DEFINITION_DEPTH {
            return Err(definition_error(format!(
                "The definition is nested more than {MAX_DEFINITION_DEPTH} levels deep."
            )));
        }
        Ok(())
    }

    /// The end of an object or an array.
    pub fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Checks a parsed document's size in nodes and its depth (see [`NodeBudget`]).
pub fn check_node_budget(doc: &serde_json::Value) -> Result<(), FieldError> {
    fn walk(v: &serde_json::Value, budget: &mut NodeBudget) -> Result<(), FieldError> {
        match v {
            serde_json::Value::Array(items) => {
                budget.open()?;
                for item in items {
                    walk(item, budget)?;
                }
                budget.close();
            }
            serde_json::Value::Object(map) => {
                budget.open()?;
                for item in map.values() {
                    walk(item, budget)?;
                }
                budget.close();
            }
            _ => budget.leaf()?,
        }
        Ok(())
    }
    walk(doc, &mut NodeBudget::default())
}

/// Checks a parsed document (JSON or YAML, as a JSON value) for what makes it OpenAPI 3:
/// an `openapi` field "3.x", an `info` object with a title and a version, and `paths` (or
/// `webhooks`/`components`) as an object.
pub fn check_openapi(doc: &serde_json::Value) -> Result<(), FieldError> {
    let obj = doc
        .as_object()
        .ok_or_else(|| definition_error("The document must be an object at the top level."))?;
    match obj.get("openapi").and_then(|v| v.as_str()) {
        Some(v) if v.starts_with("3.") => {}
        Some(v) => {
            return Err(definition_error(format!(
                "Only OpenAPI 3 is supported; this document says openapi: {v}."
            )));
        }
        None if obj.contains_key("swagger") => {
            return Err(definition_error(
                "This is a Swagger 2 document; convert it to OpenAPI 3 first.",
            ));
        }
        None => {
            return Err(definition_error(
                "The document has no 'openapi' field (for example openapi: 3.0.3).",
            ));
        }
    }
    let info = obj
        .get("info")
        .and_then(|v| v.as_object())
        .ok_or_else(|| definition_error("The document needs an 'info' object."))?;
    for key in ["title", "version"] {
        if !info.get(key).is_some_and(|v| v.is_string()) {
            return Err(definition_error(format!("'info' needs a '{key}'.")));
        }
    }
    let has_object = |k: &str| obj.get(k).is_some_and(|v| v.is_object());
    if !(has_object("paths") || has_object("webhooks") || has_object("components")) {
        return Err(definition_error(
            "The document needs 'paths' (or 'webhooks' or 'components').",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(
            parse_tags(" Featured, weather ,featured, Team = Ops ,").unwrap(),
            ["featured", "weather", "team=Ops"]
        );
        assert_eq!(parse_tags("").unwrap(), Vec::<String>::new());
        assert!(parse_tags(&"x".repeat(51)).is_err());
        // Found by bench/faults/fuzz.sh: 'İ' lower-cases to two characters, and a tag of 50
        // that grew past 50 was then refused when read back.
        assert!(parse_tags(&format!("İ{}", "a".repeat(49))).is_err());
        assert_eq!(
            parse_tags(&format!("İ{}", "a".repeat(48))).unwrap()[0]
                .chars()
                .count(),
            50
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&many.join(",")).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(ContentType::parse("JSON"), Ok(ContentType::Json));
        assert_eq!(ContentType::parse("XML"), Ok(ContentType::Xml));
        assert!(ContentType::parse("json").is_err());
    }

    #[test]
    fn discoverability_by_visitor() {
        use Discoverability::*;
        // (level, signed in, member, visible)
        let cases = [
            (OrgMembers, true, true, true),
            (OrgMembers, true, false, false),
            (OrgMembers, false, false, false),
            (AllUsers, true, false, true),
            (AllUsers, false, false, false),
            (Portal, true, false, true),
            (Portal, false, false, false),
            (Anonymous, false, false, true),
            (Anonymous, true, false, true),
        ];
        for (d, signed_in, member, visible) in cases {
            assert_eq!(d.visible_to(signed_in, member), visible, "{d:?}");
            assert_eq!(Discoverability::parse(d.as_str()), Some(d));
        }
    }

    #[test]
    fn openapi_checks() {
        let ok = json!({"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {
            "/a": {"get": {}, "post": {}, "parameters": []}, "/b": {"delete": {}}}});
        assert!(check_openapi(&ok).is_ok());
        assert_eq!(
            crate::portal::DefinitionSummary::of(&ok).operation_count(),
            3
        );
        let bad = [
            (json!([1]), "object at the top"),
            (json!({"swagger": "2.0"}), "Swagger 2"),
            (json!({"openapi": "2.0"}), "Only OpenAPI 3"),
            (json!({"info": {}}), "no 'openapi'"),
            (json!({"openapi": "3.1.0", "paths": {}}), "'info' object"),
            (
                json!({"openapi": "3.1.0", "info": {"title": "T"}, "paths": {}}),
                "'version'",
            ),
            (
                json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1"}}),
                "'paths'",
            ),
        ];
        for (doc, msg) in bad {
            let e = check_openapi(&doc).unwrap_err();
            assert!(e.message.contains(msg), "{doc}: {}", e.message);
            assert_eq!(e.field, "definition");
        }
    }

    #[test]
    fn node_budget() {
        let wide = |n: usize| serde_json::Value::Array(vec![json!(0); n]);
        // The array itself is a node too.
        assert!(check_node_budget(&wide(MAX_DEFINITION_NODES - 1)).is_ok());
        let e = check_node_budget(&wide(MAX_DEFINITION_NODES)).unwrap_err();
        assert_eq!(e.field, "definition");
        assert!(
            e.message.contains("more than 100000 values"),
            "{}",
            e.message
        );

        let deep = |n: usize| (0..n).fold(json!(1), |inner, _| json!({ "a": inner }));
        assert!(check_node_budget(&deep(MAX_DEFINITION_DEPTH)).is_ok());
        let e = check_node_budget(&deep(MAX_DEFINITION_DEPTH + 1)).unwrap_err();
        assert!(e.message.contains("nested more than 64"), "{}", e.message);

        // Depth is nesting, not the number of containers: siblings do not add up.
        let siblings = serde_json::Value::Array(vec![deep(MAX_DEFINITION_DEPTH - 1); 100]);
        assert!(check_node_budget(&siblings).is_ok());
        assert_eq!(yaml_anchors_refused().field, "definition");
    }

    #[test]
    fn definition_size_and_format() {
        assert!(check_definition_size("  ").is_err());
        assert!(check_definition_size(&"a".repeat(MAX_DEFINITION_BYTES + 1)).is_err());
        assert!(check_definition_size("openapi: 3.0.0").is_ok());
        assert_eq!(
            DefinitionFormat::sniff("  {\"a\":1}"),
            DefinitionFormat::Json
        );
        assert_eq!(
            DefinitionFormat::sniff("openapi: 3"),
            DefinitionFormat::Yaml
        );
    }
}
