//! Declarative configuration: the YAML document that `server export` writes and `server apply`
//! brings the database to (also `GET /api/v1/config` and `POST /api/v1/config:apply`), and the
//! pure rules of applying it: which lifecycle steps an API version, a plan version or a client
//! version takes from its current state to the file's, secret references (`${NAME}`), and the
//! diff that apply prints.
//!
//! Objects are named as in the UI; ids follow from names (`EntityName::id`). Secrets (BASIC
//! passwords, JWT shared secrets, API keys) are never exported: the file references them as
//! `${NAME}`, and apply reads them from the environment.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format's version; a file states it first.
pub const FORMAT_VERSION: u32 = 1;

/// The largest file apply reads.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The most objects of each list in one file (organizations, and each organization's members,
/// plans, APIs and clients, each one's versions, contracts and policies).
pub const MAX_ITEMS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "config-schema", schemars(title = "Tollgate configuration"))]
pub struct Document {
    /// The format's version: 1.
    pub version: u32,
    #[serde(default)]
    pub organizations: Vec<Organization>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Organization {
    /// Its name; the id in URLs follows from it.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Members by the email of their account. An email without an account adds nobody.
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub plans: Vec<Plan>,
    #[serde(default)]
    pub apis: Vec<Api>,
    #[serde(default)]
    pub clients: Vec<Client>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Member {
    pub email: String,
    /// `owner`, `api_developer`, `client_app_developer` or `viewer`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Plan {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub versions: Vec<PlanVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct PlanVersion {
    pub version: String,
    /// A locked plan version can be offered by APIs, and no longer changes.
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Api {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Portal tags (`featured` puts it on the portal's home).
    #[serde(default)]
    pub tags: Vec<String>,
    pub versions: Vec<ApiVersion>,
}

/// Where an API version is in its lifecycle, as far as a file can ask for it (Created and
/// Ready are both `draft`: which one follows from the implementation and plans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub enum ApiState {
    #[default]
    Draft,
    Published,
    Retired,
}

impl ApiState {
    pub fn of(status: crate::ApiStatus) -> Self {
        match status {
            crate::ApiStatus::Created | crate::ApiStatus::Ready => ApiState::Draft,
            crate::ApiStatus::Published => ApiState::Published,
            crate::ApiStatus::Retired => ApiState::Retired,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApiState::Draft => "draft",
            ApiState::Published => "published",
            ApiState::Retired => "retired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct ApiVersion {
    pub version: String,
    #[serde(default)]
    pub status: ApiState,
    /// The backend's URL (http or https); none yet when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `JSON` or `XML`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Callable without a key or contract.
    #[serde(default)]
    pub public: bool,
    /// The largest request body in bytes; absent: the default (10 MiB).
    #[serde(default)]
    pub request_body_limit: Option<u64>,
    #[serde(default)]
    pub allow_encoded_slashes: bool,
    #[serde(default)]
    pub accept_key_in_query: bool,
    /// How long the gateway waits for a connection to the backend, in milliseconds (100 to
    /// 60,000); absent: the default (5 s).
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// How long the gateway waits for the backend's answer once connected, in milliseconds (100
    /// to 600,000); absent: the default (30 s).
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    /// How many requests may be in flight towards the backend at once on one gateway node (1 to
    /// 10,000); absent: the default (256).
    #[serde(default)]
    pub max_concurrent_requests: Option<u32>,
    /// The OpenAPI definition, JSON or YAML text.
    #[serde(default)]
    pub definition: Option<String>,
    /// Markdown shown on the portal's API page.
    #[serde(default)]
    pub extended_description: String,
    /// The plans offered, in order: locked versions of this organization's plans.
    #[serde(default)]
    pub plans: Vec<Offer>,
    #[serde(default)]
    pub policies: Vec<Policy>,
}

fn default_content_type() -> String {
    crate::ContentType::Json.as_str().to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Offer {
    /// The plan's name.
    pub plan: String,
    pub version: String,
    #[serde(default)]
    pub requires_approval: bool,
    /// `org_members`, `all_users`, `portal` or `anonymous`.
    #[serde(default = "default_discoverability")]
    pub discoverability: String,
}

fn default_discoverability() -> String {
    crate::Discoverability::OrgMembers.as_str().to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Client {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub versions: Vec<ClientVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct ClientVersion {
    pub version: String,
    /// Registered with the gateway (every contract approved first).
    #[serde(default)]
    pub registered: bool,
    /// A key this version must accept, as a reference `${NAME}` to an environment variable of
    /// `server apply`. Never exported; without it a new version gets a generated key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default)]
    pub contracts: Vec<Contract>,
    #[serde(default)]
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Contract {
    /// The API's organization, by name.
    pub organization: String,
    /// The API, by name.
    pub api: String,
    /// The API version.
    pub version: String,
    /// The plan, by name: the version the API version offers.
    pub plan: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "config-schema", derive(schemars::JsonSchema))]
pub struct Policy {
    /// The policy type's id (`rate-limiting`, `basic-auth`, `jwt`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its configuration, as the Add Policy wizard sends it. Secrets are `${NAME}` references.
    pub configuration: Value,
}

/// Parses a secret reference: the whole text is `${NAME}` with `NAME` of letters, digits and
/// `_`, not starting with a digit, at most 200 characters.
pub fn secret_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_REFERENCE_NAME;
    ok.then_some(name)
}

/// The longest name of a reference.
pub const MAX_REFERENCE_NAME: usize = 200;

/// The reference export writes for a secret: `${PARTS_JOINED_BY_UNDERSCORE}`, upper case, every
/// other character `_`; a name longer than [`MAX_REFERENCE_NAME`] keeps its start and ends with
/// a digest of the whole, so that it still reads as a reference (and stays distinct).
pub fn reference_for(parts: &[&str]) -> String {
    let name: String = parts
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    };
    let name = if name.len() > MAX_REFERENCE_NAME {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(name.as_bytes());
        let tail: String = digest[..8].iter().map(|b| format!("{b:02X}")).collect();
        format!("{}_{tail}", &name[..MAX_REFERENCE_NAME - 17])
    } else {
        name
    };
    format!("${{{name}}}")
}

/// Every reference in a policy configuration replaced by `${}`: two configurations that differ
/// only in the names of their references are the same configuration.
pub fn without_reference_names(value: &Value) -> Value {
    match value {
        Value::String(s) if secret_reference(s).is_some() => Value::String("${}".to_owned()),
        Value::Array(items) => Value::Array(items.iter().map(without_reference_names).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_reference_names(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The lifecycle step an API version takes from `current` to `wanted`, or why it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiStep {
    Stay,
    Publish,
    Retire,
    /// Publish, then retire: a new version that the file wants retired.
    PublishAndRetire,
}

pub fn api_step(current: ApiState, wanted: ApiState) -> Result<ApiStep, String> {
    use ApiState::*;
    match (current, wanted) {
        (a, b) if a == b => Ok(ApiStep::Stay),
        (Draft, Published) => Ok(ApiStep::Publish),
        (Published, Retired) => Ok(ApiStep::Retire),
        (Draft, Retired) => Ok(ApiStep::PublishAndRetire),
        (Published, Draft) => {
            Err("A published API version cannot go back to draft; retire it instead.".into())
        }
        (Retired, _) => Err("A retired API version stays retired.".into()),
        _ => unreachable!("every other pair is equal"),
    }
}

/// Whether a plan version must be locked: a locked one never unlocks.
pub fn plan_lock(locked: bool, wanted: bool) -> Result<bool, String> {
    match (locked, wanted) {
        (true, false) => Err("A locked plan version cannot be unlocked.".into()),
        (false, true) => Ok(true),
        _ => Ok(false),
    }
}

/// What apply does to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn sign(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One line of apply's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub action: Action,
    /// What it is and which, e.g. `API version Acme/Weather 1.0`.
    pub object: String,
    /// What changes (for updates), e.g. `endpoint, plans`.
    pub detail: String,
    /// Its line in the file (none for deletions).
    pub line: Option<usize>,
}

/// What apply did, or would do with `dry_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyReport {
    pub dry_run: bool,
    pub changes: Vec<Change>,
}

impl ApplyReport {
    /// The diff as apply prints it: a line per change, then a summary; "No changes." when the
    /// database already is what the file says.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            out.push(c.action.sign());
            out.push(' ');
            out.push_str(c.action.verb());
            out.push(' ');
            out.push_str(&c.object);
            if !c.detail.is_empty() {
                out.push_str(": ");
                out.push_str(&c.detail);
            }
            if let Some(line) = c.line {
                out.push_str(&format!(" (line {line})"));
            }
            out.push('\n');
        }
        if self.changes.is_empty() {
            out.push_str("No changes.\n");
            return out;
        }
        let count = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        out.push_str(&format!(
            "{} {} {} to create, {} to update, {} to delete{}\n",
            self.changes.len(),
            if self.changes.len() == 1 {
                "change:"
            } else {
                "changes:"
            },
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete),
            if self.dry_run {
                " (dry run: nothing was written)"
            } else {
                ""
            }
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_whole_strings_with_plain_names() {
        assert_eq!(secret_reference("${MOBILE_KEY}"), Some("MOBILE_KEY"));
        assert_eq!(secret_reference("${_x1}"), Some("_x1"));
        for no in [
            "MOBILE_KEY",
            "${}",
            "${1A}",
            "${A-B}",
            "x${A}",
            "${A}x",
            "$A",
            "${A B}",
        ] {
            assert_eq!(secret_reference(no), None, "{no}");
        }
        assert_eq!(secret_reference(&format!("${{{}}}", "A".repeat(201))), None);
    }

    #[test]
    fn export_names_references_after_their_object() {
        assert_eq!(
            reference_for(&["basic", "acme", "weather", "1.0", "alice"]),
            "${BASIC_ACME_WEATHER_1_0_ALICE}"
        );
        assert_eq!(reference_for(&["2fa"]), "${_2FA}");
        // Long names still read back, and stay distinct.
        let long =
            |user: &str| reference_for(&["basic", &"o".repeat(150), &"a".repeat(100), "1.0", user]);
        assert!(
            secret_reference(&long("alice")).is_some(),
            "{}",
            long("alice")
        );
        assert_eq!(
            secret_reference(&long("alice")).unwrap().len(),
            MAX_REFERENCE_NAME
        );
        assert_ne!(long("alice"), long("bob"));
        assert!(secret_reference(&reference_for(&["jwt", "a-b", "ü"])).is_some());
    }

    #[test]
    fn reference_names_do_not_make_a_difference() {
        let a = serde_json::json!({"identities": [{"username": "a", "password": "${X}"}], "n": 1});
        let b = serde_json::json!({"identities": [{"username": "a", "password": "${Y}"}], "n": 1});
        let c = serde_json::json!({"identities": [{"username": "a", "password": "plain"}], "n": 1});
        assert_eq!(without_reference_names(&a), without_reference_names(&b));
        assert_ne!(without_reference_names(&a), without_reference_names(&c));
    }

    #[test]
    fn api_versions_move_forward_only() {
        use ApiState::*;
        assert_eq!(api_step(Draft, Draft), Ok(ApiStep::Stay));
        assert_eq!(api_step(Draft, Published), Ok(ApiStep::Publish));
        assert_eq!(api_step(Draft, Retired), Ok(ApiStep::PublishAndRetire));
        assert_eq!(api_step(Published, Retired), Ok(ApiStep::Retire));
        assert!(
            api_step(Published, Draft)
                .unwrap_err()
                .contains("retire it")
        );
        assert!(api_step(Retired, Published).is_err());
        assert!(api_step(Retired, Draft).is_err());
        assert_eq!(api_step(Retired, Retired), Ok(ApiStep::Stay));
    }

    #[test]
    fn plan_versions_lock_once() {
        assert_eq!(plan_lock(false, true), Ok(true));
        assert_eq!(plan_lock(false, false), Ok(false));
        assert_eq!(plan_lock(true, true), Ok(false));
        assert!(plan_lock(true, false).is_err());
    }

    #[test]
    fn the_diff_reads_line_by_line() {
        let report = ApplyReport {
            dry_run: true,
            changes: vec![
                Change {
                    action: Action::Create,
                    object: "organization Acme".into(),
                    detail: String::new(),
                    line: Some(3),
                },
                Change {
                    action: Action::Update,
                    object: "API version Acme/Weather 1.0".into(),
                    detail: "endpoint".into(),
                    line: Some(20),
                },
                Change {
                    action: Action::Delete,
                    object: "client Acme/Old".into(),
                    detail: String::new(),
                    line: None,
                },
            ],
        };
        assert_eq!(
            report.render(),
            "+ create organization Acme (line 3)\n\
             ~ update API version Acme/Weather 1.0: endpoint (line 20)\n\
             - delete client Acme/Old\n\
             3 changes: 1 to create, 1 to update, 1 to delete (dry run: nothing was written)\n"
        );
        let none = ApplyReport {
            dry_run: false,
            changes: vec![],
        };
        assert_eq!(none.render(), "No changes.\n");
    }

    #[test]
    fn a_minimal_file_reads_with_defaults() {
        let doc: Document = serde_json::from_value(serde_json::json!({
            "version": 1,
            "organizations": [{"name": "Acme", "apis": [{"name": "W", "versions": [{"version": "1.0"}]}]}]
        }))
        .unwrap();
        let v = &doc.organizations[0].apis[0].versions[0];
        assert_eq!(v.status, ApiState::Draft);
        assert_eq!(v.content_type, "JSON");
        let unknown = serde_json::from_value::<Document>(
            serde_json::json!({"version": 1, "organisations": []}),
        );
        assert!(unknown.is_err());
    }
}
