//! The typed configuration of each policy, and [`PolicyConfig`], which parses, validates and
//! serialises them.
//!
//! The JSON format is camelCase; optional fields may be left out. Rate Limiting and Quota read
//! `{"limit": 100, "granularity": "Client", "period": "Minute"}` (what the Developer Portal's
//! limits summary reads too).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    BASIC_AUTH, CACHING, CORS, Compiled, IGNORED_RESOURCES, IP_ALLOWLIST, IP_BLOCKLIST, QUOTA,
    RATE_LIMITING, SIMPLE_HEADER, TIME_RESTRICTED_ACCESS, TRANSFER_QUOTA, URL_REWRITING,
};
use crate::FieldError;

/// The period a limit applies to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Period {
    Second,
    #[default]
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 6] = [
        Period::Second,
        Period::Minute,
        Period::Hour,
        Period::Day,
        Period::Month,
        Period::Year,
    ];

    /// "Second", "Minute", … (also the serialised form).
    pub fn label(self) -> &'static str {
        match self {
            Period::Second => "Second",
            Period::Minute => "Minute",
            Period::Hour => "Hour",
            Period::Day => "Day",
            Period::Month => "Month",
            Period::Year => "Year",
        }
    }
}

/// What a limit counts per: each client app, the whole API, each IP address, or each user
/// (identified by a request header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Granularity {
    #[default]
    Client,
    Api,
    Ip,
    User,
}

impl Granularity {
    /// "Client", "API", "IP address", "User".
    pub fn label(self) -> &'static str {
        match self {
            Granularity::Client => "Client",
            Granularity::Api => "API",
            Granularity::Ip => "IP address",
            Granularity::User => "User",
        }
    }
}

/// Which bytes a transfer quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Request bodies.
    Upload,
    /// Response bodies.
    Download,
    #[default]
    Both,
}

impl Direction {
    /// "upload", "download", "upload and download".
    pub fn label(self) -> &'static str {
        match self {
            Direction::Upload => "upload",
            Direction::Download => "download",
            Direction::Both => "upload and download",
        }
    }
}

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

/// Rate Limiting and Quota: `limit` requests per `period`, counted per `granularity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    pub limit: u64,
    #[serde(default)]
    pub granularity: Granularity,
    /// The header identifying the user; required (a valid header name) for
    /// [`Granularity::User`], ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub period: Period,
}

/// Transfer Quota: `limit` bytes per `period` in `direction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferQuota {
    /// Bytes.
    pub limit: u64,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub granularity: Granularity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub period: Period,
}

/// IP Allowlist and IP Blocklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpList {
    /// Addresses (v4 or v6), CIDR blocks, ranges `a-b`, or `*`.
    pub ips: Vec<String>,
    /// 403, 404 or 500.
    pub response_code: u16,
    /// A header holding the client IP (its last entry), e.g. `X-Forwarded-For`; without it (or
    /// blank) the peer address is checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_header: Option<String>,
}

impl Default for IpList {
    fn default() -> Self {
        Self {
            ips: Vec::new(),
            response_code: 403,
            ip_header: None,
        }
    }
}

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

/// CORS. An empty `allow_methods` allows the CORS-safelisted methods (GET, HEAD, POST) only;
/// `*` in `allow_methods` or `allow_headers` allows any.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cors {
    /// `*` or origins `scheme://host[:port]`.
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    /// Seconds a browser may cache a preflight answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Refuse requests from other origins (400) instead of answering without CORS headers.
    pub error_on_failure: bool,
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

/// A BASIC authentication identity. `password` only travels from the browser to the server,
/// which stores `password_hash` (an argon2 PHC string) instead; an identity sent with neither
/// keeps its previous hash.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

/// BASIC Authentication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BasicAuth {
    pub realm: String,
    pub identities: Vec<Identity>,
    /// A header the gateway sets to the authenticated user name for the back end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_identity_header: Option<String>,
    pub require_tls: bool,
}

/// A rule of Caching Resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CacheRule {
    /// An HTTP method, or `*`.
    pub method: String,
    /// A regular expression matched against the whole rest path.
    pub path_pattern: String,
    /// The response status cached; without it, 200 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl Default for CacheRule {
    fn default() -> Self {
        Self {
            method: "GET".to_owned(),
            path_pattern: String::new(),
            status_code: None,
        }
    }
}

/// Caching Resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Caching {
    pub ttl_seconds: u32,
    pub rules: Vec<CacheRule>,
    /// Also cache requests that carry `Authorization` (off: their answers are usually
    /// personal). The cache key holds the caller's identity either way.
    pub cache_authorized_requests: bool,
}

impl Default for Caching {
    fn default() -> Self {
        Self {
            ttl_seconds: 60,
            rules: Vec::new(),
            cache_authorized_requests: false,
        }
    }
}

/// The configuration of a policy, typed by its definition.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyConfig {
    RateLimit(Limit),
    Quota(Limit),
    TransferQuota(TransferQuota),
    IpAllowlist(IpList),
    IpBlocklist(IpList),
    IgnoredResources(IgnoredResources),
    TimeRestricted(TimeRestricted),
    Cors(Cors),
    SimpleHeader(SimpleHeader),
    UrlRewriting(UrlRewriting),
    BasicAuth(BasicAuth),
    Caching(Caching),
}

impl PolicyConfig {
    /// Parses and validates the JSON configuration of a policy of `definition_id`.
    ///
    /// An unknown definition is an error on field "definition"; JSON that does not read as the
    /// definition's configuration is one error on field "configuration"; then every problem
    /// [`validate`](Self::validate) finds.
    pub fn parse(definition_id: &str, json: &str) -> Result<PolicyConfig, Vec<FieldError>> {
        let config = match definition_id {
            RATE_LIMITING => Self::RateLimit(read(json)?),
            QUOTA => Self::Quota(read(json)?),
            TRANSFER_QUOTA => Self::TransferQuota(read(json)?),
            IP_ALLOWLIST => Self::IpAllowlist(read(json)?),
            IP_BLOCKLIST => Self::IpBlocklist(read(json)?),
            IGNORED_RESOURCES => Self::IgnoredResources(read(json)?),
            TIME_RESTRICTED_ACCESS => Self::TimeRestricted(read(json)?),
            CORS => Self::Cors(read(json)?),
            SIMPLE_HEADER => Self::SimpleHeader(read(json)?),
            URL_REWRITING => Self::UrlRewriting(read(json)?),
            BASIC_AUTH => Self::BasicAuth(read(json)?),
            CACHING => Self::Caching(read(json)?),
            other => {
                return Err(vec![FieldError::new(
                    "definition",
                    format!("'{other}' is not a known policy."),
                )]);
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// The id of this configuration's definition.
    pub fn definition_id(&self) -> &'static str {
        match self {
            Self::RateLimit(_) => RATE_LIMITING,
            Self::Quota(_) => QUOTA,
            Self::TransferQuota(_) => TRANSFER_QUOTA,
            Self::IpAllowlist(_) => IP_ALLOWLIST,
            Self::IpBlocklist(_) => IP_BLOCKLIST,
            Self::IgnoredResources(_) => IGNORED_RESOURCES,
            Self::TimeRestricted(_) => TIME_RESTRICTED_ACCESS,
            Self::Cors(_) => CORS,
            Self::SimpleHeader(_) => SIMPLE_HEADER,
            Self::UrlRewriting(_) => URL_REWRITING,
            Self::BasicAuth(_) => BASIC_AUTH,
            Self::Caching(_) => CACHING,
        }
    }

    /// The configuration as JSON, without the variant tag: what [`parse`](Self::parse) reads.
    pub fn to_json(&self) -> String {
        let json = match self {
            Self::RateLimit(c) | Self::Quota(c) => serde_json::to_string(c),
            Self::TransferQuota(c) => serde_json::to_string(c),
            Self::IpAllowlist(c) | Self::IpBlocklist(c) => serde_json::to_string(c),
            Self::IgnoredResources(c) => serde_json::to_string(c),
            Self::TimeRestricted(c) => serde_json::to_string(c),
            Self::Cors(c) => serde_json::to_string(c),
            Self::SimpleHeader(c) => serde_json::to_string(c),
            Self::UrlRewriting(c) => serde_json::to_string(c),
            Self::BasicAuth(c) => serde_json::to_string(c),
            Self::Caching(c) => serde_json::to_string(c),
        };
        // Plain structs with string keys always serialise.
        json.unwrap_or_else(|_| "{}".to_owned())
    }

    /// Every problem of the configuration, each on its camelCase field path ("limit",
    /// "ips[2]", "rules[0].pathPattern", …). A configuration is valid when it compiles for the
    /// gateway, so this shares its checks with [`Compiled::compile`].
    ///
    /// BASIC authentication identities are not required to carry a password or hash here: the
    /// server keeps the previous hash of an identity sent without a password, and refuses it
    /// when there is none.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        Compiled::compile(self).map(drop)
    }
}

/// Reads a configuration, turning serde's error into one readable "configuration" error.
fn read<T: DeserializeOwned>(json: &str) -> Result<T, Vec<FieldError>> {
    serde_json::from_str(json).map_err(|e| {
        let message = if e.is_data() {
            format!("The configuration has a wrong value: {e}.")
        } else {
            format!(
                "The configuration is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            )
        };
        vec![FieldError::new("configuration", message)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One valid configuration per definition.
    const VALID: [(&str, &str); 12] = [
        (
            "rate-limiting",
            r#"{"limit":100,"granularity":"Client","period":"Minute"}"#,
        ),
        (
            "quota",
            r#"{"limit":10000,"granularity":"User","header":"X-User","period":"Month"}"#,
        ),
        (
            "transfer-quota",
            r#"{"limit":1073741824,"direction":"download","granularity":"Api","period":"Month"}"#,
        ),
        (
            "ip-allowlist",
            r#"{"ips":["10.0.0.0/8","192.168.1.1","2001:db8::/32","1.2.3.4-1.2.3.9","*"],"responseCode":404,"ipHeader":"X-Forwarded-For"}"#,
        ),
        ("ip-blocklist", r#"{"ips":["1.2.3.4"],"responseCode":403}"#),
        (
            "ignored-resources",
            r#"{"rules":[{"verb":"GET","pathPattern":"/admin.*"},{"verb":"*","pathPattern":"/internal"}]}"#,
        ),
        (
            "time-restricted-access",
            r#"{"rules":[{"timeStart":"22:00","timeEnd":"06:00","dayStart":6,"dayEnd":1,"pathPattern":".*"}]}"#,
        ),
        (
            "cors",
            r#"{"allowOrigins":["https://app.example.com","http://localhost:8080"],"allowMethods":["GET","PUT"],"allowHeaders":["Content-Type","*"],"exposeHeaders":["X-Total"],"allowCredentials":true,"maxAge":600,"errorOnFailure":true}"#,
        ),
        (
            "simple-header",
            r#"{"addHeaders":[{"name":"X-Api","value":"v1","applyTo":"both","overwrite":true}],"stripHeaders":[{"by":"value","pattern":"secret.*","applyTo":"response"}]}"#,
        ),
        (
            "url-rewriting",
            r#"{"fromRegex":"/v1/(.*)","toReplacement":"/v2/$1","processRequestUrl":true,"processRequestHeaders":false,"processResponseHeaders":true,"processBody":true}"#,
        ),
        (
            "basic-auth",
            r#"{"realm":"Weather","identities":[{"username":"ann","passwordHash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"},{"username":"bob","password":"s3cret"}],"forwardIdentityHeader":"X-Identity","requireTls":true}"#,
        ),
        (
            "caching",
            r#"{"ttlSeconds":60,"rules":[{"method":"GET","pathPattern":"/weather/.*","statusCode":200},{"method":"*","pathPattern":"/static/.*"}]}"#,
        ),
    ];

    #[test]
    fn every_definition_round_trips() {
        for (id, json) in VALID {
            let config = PolicyConfig::parse(id, json).unwrap_or_else(|e| panic!("{id}: {e:?}"));
            assert_eq!(config.definition_id(), id);
            let again = PolicyConfig::parse(id, &config.to_json()).unwrap();
            assert_eq!(again, config, "{id}");
        }
        let ids: Vec<_> = VALID.iter().map(|(id, _)| *id).collect();
        let catalogue: Vec<_> = super::super::definitions().iter().map(|d| d.id).collect();
        assert_eq!(ids, catalogue);
    }

    #[test]
    fn portal_json_parses_and_optional_fields_default() {
        let config = PolicyConfig::parse(
            "rate-limiting",
            r#"{"limit":100,"granularity":"Client","period":"Minute"}"#,
        )
        .unwrap();
        assert_eq!(
            config,
            PolicyConfig::RateLimit(Limit {
                limit: 100,
                granularity: Granularity::Client,
                header: None,
                period: Period::Minute,
            })
        );
        assert_eq!(
            config.to_json(),
            r#"{"limit":100,"granularity":"Client","period":"Minute"}"#
        );
        let quota = PolicyConfig::parse("quota", r#"{"limit":5,"period":"Day"}"#).unwrap();
        assert!(matches!(
            quota,
            PolicyConfig::Quota(Limit {
                granularity: Granularity::Client,
                ..
            })
        ));
        let ips = PolicyConfig::parse("ip-blocklist", r#"{"ips":["1.2.3.4"]}"#).unwrap();
        assert!(matches!(
            ips,
            PolicyConfig::IpBlocklist(IpList {
                response_code: 403,
                ..
            })
        ));
        let rewrite =
            PolicyConfig::parse("url-rewriting", r#"{"fromRegex":"a","toReplacement":"b"}"#)
                .unwrap();
        assert!(matches!(
            rewrite,
            PolicyConfig::UrlRewriting(UrlRewriting {
                process_request_url: true,
                ..
            })
        ));
    }

    #[test]
    fn serialised_enum_values() {
        let tq = TransferQuota {
            limit: 1,
            direction: Direction::Upload,
            granularity: Granularity::Ip,
            header: None,
            period: Period::Year,
        };
        assert_eq!(
            serde_json::to_string(&tq).unwrap(),
            r#"{"limit":1,"direction":"upload","granularity":"Ip","period":"Year"}"#
        );
        let add = AddHeader {
            apply_to: ApplyTo::Both,
            ..AddHeader::default()
        };
        assert!(
            serde_json::to_string(&add)
                .unwrap()
                .contains(r#""applyTo":"both""#)
        );
        let strip = StripHeader {
            by: StripBy::Value,
            ..StripHeader::default()
        };
        assert!(
            serde_json::to_string(&strip)
                .unwrap()
                .contains(r#""by":"value""#)
        );
        let labels: Vec<_> = Period::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(labels, ["Second", "Minute", "Hour", "Day", "Month", "Year"]);
    }

    #[test]
    fn unknown_definition_and_bad_json() {
        let e = PolicyConfig::parse("teleport", "{}").unwrap_err();
        assert_eq!(
            e,
            [FieldError::new(
                "definition",
                "'teleport' is not a known policy."
            )]
        );

        let e = PolicyConfig::parse("quota", "{\"limit\": ").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "configuration");
        assert!(
            e[0].message
                .starts_with("The configuration is not valid JSON"),
            "{}",
            e[0].message
        );

        let e = PolicyConfig::parse("quota", r#"{"limit":"many","period":"Day"}"#).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "configuration");
        assert!(e[0].message.contains("invalid type"), "{}", e[0].message);

        let e = PolicyConfig::parse("quota", r#"{"limit":5,"period":"Week"}"#).unwrap_err();
        assert!(
            e[0].message.contains("unknown variant `Week`"),
            "{}",
            e[0].message
        );
    }

    /// (definition, JSON, the field paths of the expected errors)
    const INVALID: &[(&str, &str, &[&str])] = &[
        (
            "rate-limiting",
            r#"{"limit":0,"period":"Second"}"#,
            &["limit"],
        ),
        (
            "rate-limiting",
            r#"{"limit":1000000000001,"period":"Second"}"#,
            &["limit"],
        ),
        (
            "rate-limiting",
            r#"{"limit":5,"granularity":"User","period":"Second"}"#,
            &["header"],
        ),
        (
            "rate-limiting",
            r#"{"limit":5,"granularity":"User","header":"X User","period":"Second"}"#,
            &["header"],
        ),
        ("quota", r#"{"limit":5,"period":"Minute"}"#, &["period"]),
        (
            "quota",
            r#"{"limit":0,"period":"Second"}"#,
            &["limit", "period"],
        ),
        (
            "transfer-quota",
            r#"{"limit":0,"period":"Second"}"#,
            &["limit", "period"],
        ),
        (
            "transfer-quota",
            r#"{"limit":10,"granularity":"User","header":"","period":"Day"}"#,
            &["header"],
        ),
        ("ip-allowlist", r#"{"ips":[]}"#, &["ips"]),
        (
            "ip-allowlist",
            r#"{"ips":["1.2.3.4","::1","10.0.0.300"]}"#,
            &["ips[2]"],
        ),
        (
            "ip-blocklist",
            r#"{"ips":["1.2.3.4"],"responseCode":401}"#,
            &["responseCode"],
        ),
        (
            "ip-blocklist",
            r#"{"ips":["1.2.3.4"],"ipHeader":"X(Forwarded)"}"#,
            &["ipHeader"],
        ),
        ("ignored-resources", r#"{"rules":[]}"#, &["rules"]),
        (
            "ignored-resources",
            r#"{"rules":[{"verb":"GET","pathPattern":"(abc"}]}"#,
            &["rules[0].pathPattern"],
        ),
        (
            "ignored-resources",
            r#"{"rules":[{"verb":"GET","pathPattern":"/a"},{"verb":"GE T","pathPattern":""}]}"#,
            &["rules[1].verb", "rules[1].pathPattern"],
        ),
        ("time-restricted-access", r#"{"rules":[]}"#, &["rules"]),
        (
            "time-restricted-access",
            r#"{"rules":[{"timeStart":"08:00","timeEnd":"18:00","pathPattern":".*"},{"timeStart":"24:00","timeEnd":"8:00","dayStart":0,"dayEnd":8,"pathPattern":".*"}]}"#,
            &[
                "rules[1].timeStart",
                "rules[1].timeEnd",
                "rules[1].dayStart",
                "rules[1].dayEnd",
            ],
        ),
        ("cors", r#"{"allowOrigins":[]}"#, &["allowOrigins"]),
        (
            "cors",
            r#"{"allowOrigins":["https://a.example.com/path","example.com","*"],"allowCredentials":true}"#,
            &["allowOrigins[0]", "allowOrigins[1]", "allowCredentials"],
        ),
        (
            "cors",
            r#"{"allowOrigins":["*"],"allowMethods":["G ET"],"allowHeaders":["X:Y"],"exposeHeaders":[""]}"#,
            &["allowMethods[0]", "allowHeaders[0]", "exposeHeaders[0]"],
        ),
        ("simple-header", r#"{}"#, &["addHeaders"]),
        (
            "simple-header",
            r#"{"addHeaders":[{"name":"X Bad","value":"a\nb"}],"stripHeaders":[{"pattern":"["}]}"#,
            &[
                "addHeaders[0].name",
                "addHeaders[0].value",
                "stripHeaders[0].pattern",
            ],
        ),
        (
            "url-rewriting",
            r#"{"fromRegex":"","toReplacement":"x"}"#,
            &["fromRegex"],
        ),
        (
            "url-rewriting",
            r#"{"fromRegex":"a","toReplacement":"b","processRequestUrl":false}"#,
            &["processRequestUrl"],
        ),
        (
            "basic-auth",
            r#"{"realm":"","identities":[]}"#,
            &["realm", "identities"],
        ),
        (
            "basic-auth",
            r#"{"realm":"R","identities":[{"username":"a","password":"x"},{"username":"","password":"y"},{"username":"a","password":"z"},{"username":"b:c","password":"z"}],"forwardIdentityHeader":"bad header"}"#,
            &[
                "identities[1].username",
                "identities[2].username",
                "identities[3].username",
                "forwardIdentityHeader",
            ],
        ),
        (
            "basic-auth",
            r#"{"realm":"R","identities":[{"username":"a","passwordHash":"plain"}]}"#,
            &["identities[0].passwordHash"],
        ),
        (
            "caching",
            r#"{"ttlSeconds":0,"rules":[]}"#,
            &["ttlSeconds", "rules"],
        ),
        (
            "caching",
            r#"{"ttlSeconds":2592001,"rules":[{"method":"GET","pathPattern":".*","statusCode":600}]}"#,
            &["ttlSeconds", "rules[0].statusCode"],
        ),
    ];

    #[test]
    fn invalid_configurations_name_their_fields() {
        for (id, json, fields) in INVALID {
            let errors = PolicyConfig::parse(id, json).expect_err(json);
            let got: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(&got, fields, "{id} {json}: {errors:?}");
            for e in &errors {
                assert!(e.message.ends_with('.'), "{}", e.message);
            }
        }
    }

    #[test]
    fn messages_are_sentences_for_users() {
        let first = |id: &str, json: &str| {
            PolicyConfig::parse(id, json).unwrap_err()[0]
                .message
                .clone()
        };
        assert_eq!(
            first("rate-limiting", r#"{"limit":0,"period":"Second"}"#),
            "Enter a limit of at least 1."
        );
        assert_eq!(
            first("ip-allowlist", r#"{"ips":["10.0.0.300"]}"#),
            "'10.0.0.300' is not an IP address, a CIDR block or a range."
        );
        assert_eq!(
            first(
                "url-rewriting",
                r#"{"fromRegex":"(abc","toReplacement":"x"}"#
            ),
            "'(abc' is not a valid regular expression: unclosed group."
        );
        let long = format!(
            r#"{{"fromRegex":"{}","toReplacement":"x"}}"#,
            "a".repeat(1001)
        );
        assert_eq!(
            first("url-rewriting", &long),
            "A regular expression can have at most 1,000 characters."
        );
    }

    #[test]
    fn identities_without_password_parse_for_the_server_to_complete() {
        let config = PolicyConfig::parse(
            "basic-auth",
            r#"{"realm":"R","identities":[{"username":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(
            config.to_json(),
            r#"{"realm":"R","identities":[{"username":"a"}],"requireTls":false}"#
        );
    }
}
