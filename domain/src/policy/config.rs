//! [`PolicyConfig`]: the configuration of a policy, typed by its kind, which parses, validates
//! and serialises it. Each configuration type lives in its policy's module.
//!
//! The JSON format is camelCase; optional fields may be left out. Rate Limiting and Quota read
//! `{"limit": 100, "granularity": "Client", "period": "Minute"}`.

use serde::de::DeserializeOwned;

use super::{
    Authorization, BasicAuth, Caching, Compiled, Cors, IgnoredResources, IpList, Jwt, Limit,
    PolicyKind, SimpleHeader, TimeRestricted, TransferQuota, UrlRewriting,
};
use crate::FieldError;

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
    Jwt(Jwt),
    Authorization(Authorization),
}

impl PolicyConfig {
    /// Parses and validates the JSON configuration of a policy of `definition_id`.
    ///
    /// An unknown definition is an error on field "definition"; JSON that does not read as the
    /// definition's configuration is one error on field "configuration"; then every problem
    /// [`validate`](Self::validate) finds.
    pub fn parse(definition_id: &str, json: &str) -> Result<PolicyConfig, Vec<FieldError>> {
        let Some(kind) = PolicyKind::from_id(definition_id) else {
            return Err(vec![FieldError::new(
                "definition",
                format!("'{definition_id}' is not a known policy."),
            )]);
        };
        let config = Self::read(kind, json)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the JSON configuration of a policy of `kind`, without validating it.
    fn read(kind: PolicyKind, json: &str) -> Result<PolicyConfig, Vec<FieldError>> {
        Ok(match kind {
            PolicyKind::RateLimiting => Self::RateLimit(read(json)?),
            PolicyKind::Quota => Self::Quota(read(json)?),
            PolicyKind::TransferQuota => Self::TransferQuota(read(json)?),
            PolicyKind::IpAllowlist => Self::IpAllowlist(read(json)?),
            PolicyKind::IpBlocklist => Self::IpBlocklist(read(json)?),
            PolicyKind::IgnoredResources => Self::IgnoredResources(read(json)?),
            PolicyKind::TimeRestrictedAccess => Self::TimeRestricted(read(json)?),
            PolicyKind::Cors => Self::Cors(read(json)?),
            PolicyKind::SimpleHeader => Self::SimpleHeader(read(json)?),
            PolicyKind::UrlRewriting => Self::UrlRewriting(read(json)?),
            PolicyKind::BasicAuth => Self::BasicAuth(read(json)?),
            PolicyKind::Caching => Self::Caching(read(json)?),
            PolicyKind::Jwt => Self::Jwt(read(json)?),
            PolicyKind::Authorization => Self::Authorization(read(json)?),
        })
    }

    /// The id of this configuration's definition.
    pub fn definition_id(&self) -> &'static str {
        self.kind().id()
    }

    /// This configuration's policy type.
    pub fn kind(&self) -> PolicyKind {
        match self {
            Self::RateLimit(_) => PolicyKind::RateLimiting,
            Self::Quota(_) => PolicyKind::Quota,
            Self::TransferQuota(_) => PolicyKind::TransferQuota,
            Self::IpAllowlist(_) => PolicyKind::IpAllowlist,
            Self::IpBlocklist(_) => PolicyKind::IpBlocklist,
            Self::IgnoredResources(_) => PolicyKind::IgnoredResources,
            Self::TimeRestricted(_) => PolicyKind::TimeRestrictedAccess,
            Self::Cors(_) => PolicyKind::Cors,
            Self::SimpleHeader(_) => PolicyKind::SimpleHeader,
            Self::UrlRewriting(_) => PolicyKind::UrlRewriting,
            Self::BasicAuth(_) => PolicyKind::BasicAuth,
            Self::Caching(_) => PolicyKind::Caching,
            Self::Jwt(_) => PolicyKind::Jwt,
            Self::Authorization(_) => PolicyKind::Authorization,
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
            Self::Jwt(c) => serde_json::to_string(c),
            Self::Authorization(c) => serde_json::to_string(c),
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
    use crate::policy::{
        AddHeader, ApplyTo, Direction, Granularity, Period, StripBy, StripHeader, definitions,
    };

    /// One valid configuration per definition.
    const VALID: [(&str, &str); 14] = [
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
        (
            "jwt",
            r#"{"jwksUrl":"https://idp.example.com/jwks","algorithms":["RS256","ES256"],"issuer":"https://idp.example.com","audience":["weather"],"leewaySeconds":30,"requiredClaims":[{"name":"tenant","value":"acme"}],"forwardClaims":[{"claim":"sub","header":"X-User"}],"stripAuthorization":true,"realm":"Weather"}"#,
        ),
        (
            "authorization",
            r#"{"rolesClaim":"realm_access.roles","rules":[{"method":"GET","pathPattern":"/admin/.*","roles":["admin"]}],"defaultAction":"allow"}"#,
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
        let catalogue: Vec<_> = definitions().iter().map(|d| d.id).collect();
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
        ("jwt", r#"{"algorithms":[]}"#, &["algorithms"]),
        (
            "jwt",
            r#"{"algorithms":["none","HS256"],"requiredClaims":[{"name":""}]}"#,
            &["algorithms[0]", "sharedSecret", "requiredClaims[0].name"],
        ),
        ("authorization", r#"{"rules":[]}"#, &["rules"]),
        (
            "authorization",
            r#"{"rolesClaim":" ","rules":[{"method":"*","pathPattern":"","roles":["a b"]}]}"#,
            &["rolesClaim", "rules[0].pathPattern", "rules[0].roles"],
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
