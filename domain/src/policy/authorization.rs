//! Authorization: ordered method + path rules, each naming the roles (or scopes) it requires,
//! checked against the identity an earlier policy verified ([`Principal`]): the claims of JWT
//! Validation, the roles of a BASIC Authentication user. The first matching rule decides; when
//! none matches, the default applies. A refusal is 403, [`FailureCode::AuthorizationRefused`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::check::{Errors, item_field};
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::jwt::claim;
use super::path::MethodPath;
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "authorization",
    name: "Authorization",
    category: Category::Security,
    summary: "Lets requests through only when the verified caller has a role or scope their method and path require.",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[FailureCode::AuthorizationRefused];

/// What happens to a request no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultAction {
    Allow,
    #[default]
    Deny,
}

/// A rule of Authorization: requests of `method` (or `*`) whose rest path matches
/// `pathPattern` as a whole need one of `roles`; with no roles, anyone verified may pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AccessRule {
    pub method: String,
    pub path_pattern: String,
    pub roles: Vec<String>,
}

impl Default for AccessRule {
    fn default() -> Self {
        Self {
            method: "*".to_owned(),
            path_pattern: String::new(),
            roles: Vec::new(),
        }
    }
}

/// Authorization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Authorization {
    /// The claim path holding the token's roles: `scope` (a space-separated string), `roles`,
    /// `realm_access.roles`, `resource_access.<client>.roles` (arrays).
    pub roles_claim: String,
    pub rules: Vec<AccessRule>,
    pub default_action: DefaultAction,
}

impl Default for Authorization {
    fn default() -> Self {
        Self {
            roles_claim: "scope".to_owned(),
            rules: Vec::new(),
            default_action: DefaultAction::Deny,
        }
    }
}

/// Who an earlier policy of the request verified.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Principal {
    /// The claims of a token JWT Validation accepted.
    pub claims: Option<Value>,
    /// The roles of the user BASIC Authentication let in.
    pub basic_roles: Option<Vec<String>>,
}

impl Principal {
    /// Whether any identity was verified.
    pub fn is_verified(&self) -> bool {
        self.claims.is_some() || self.basic_roles.is_some()
    }
}

/// Compiled Authorization.
#[derive(Debug, Clone)]
pub struct AccessRules {
    roles_claim: String,
    rules: Vec<(MethodPath, Vec<String>)>,
    default_allow: bool,
}

impl AccessRules {
    pub(crate) fn compile(config: &Authorization, errs: &mut Errors) -> Option<Self> {
        let roles_claim = config.roles_claim.trim();
        if roles_claim.is_empty() || roles_claim.split('.').any(str::is_empty) {
            errs.add(
                "rolesClaim",
                "Enter the claim holding the roles, such as scope, roles or realm_access.roles.",
            );
        }
        errs.ensure(!config.rules.is_empty(), "rules", "Add at least one rule.");
        let rules: Vec<_> = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let rule = MethodPath::compile(errs, i, ("method", &r.method), &r.path_pattern);
                let roles = errs.roles(&item_field("rules", i, "roles"), &r.roles);
                Some((rule?, roles))
            })
            .collect();
        Some(Self {
            roles_claim: roles_claim.to_owned(),
            rules: rules.into_iter().collect::<Option<_>>()?,
            default_allow: config.default_action == DefaultAction::Allow,
        })
    }

    /// The roles of `principal`: the BASIC user's, and those at the roles claim of the token
    /// (a string is split at spaces, as `scope` is; an array gives its strings).
    pub fn roles(&self, principal: &Principal) -> Vec<String> {
        let mut roles = principal.basic_roles.clone().unwrap_or_default();
        match principal
            .claims
            .as_ref()
            .and_then(|c| claim(c, &self.roles_claim))
        {
            Some(Value::String(s)) => roles.extend(s.split_whitespace().map(str::to_owned)),
            Some(Value::Array(items)) => {
                roles.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
        roles
    }

    /// The first rule matching `method` and `rest_path` decides: the principal needs one of its
    /// roles (a rule without roles lets any verified identity through). No match: the default.
    pub fn check(
        &self,
        method: &str,
        rest_path: &str,
        principal: &Principal,
    ) -> Result<(), PolicyFailure> {
        let allowed = match self
            .rules
            .iter()
            .find(|(r, _)| r.matches(method, rest_path))
        {
            Some((_, wanted)) => {
                principal.is_verified() && {
                    let roles = self.roles(principal);
                    wanted.is_empty() || wanted.iter().any(|w| roles.contains(w))
                }
            }
            None => self.default_allow,
        };
        if allowed {
            Ok(())
        } else {
            Err(PolicyFailure::new(
                FailureCode::AuthorizationRefused,
                FailureType::Authorization,
                "You are not allowed to access this resource.",
            ))
        }
    }
}

/// The one-line description: "2 rules on roles from scope; other requests are denied".
pub(crate) fn describe(c: &Authorization) -> String {
    let n = c.rules.len();
    let rules = if n == 1 {
        "1 rule".to_owned()
    } else {
        format!("{n} rules")
    };
    let other = match c.default_action {
        DefaultAction::Allow => "allowed",
        DefaultAction::Deny => "denied",
    };
    format!(
        "{rules} on roles from {}; other requests are {other}",
        c.roles_claim.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(config: Value) -> AccessRules {
        let config: Authorization = serde_json::from_value(config).unwrap();
        let mut errs = Errors::default();
        let compiled = AccessRules::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    fn jwt(claims: Value) -> Principal {
        Principal {
            claims: Some(claims),
            basic_roles: None,
        }
    }

    fn verdict(r: &AccessRules, method: &str, path: &str, p: &Principal) -> u16 {
        r.check(method, path, p).map_or_else(|f| f.status, |()| 200)
    }

    #[test]
    fn first_match_decides_then_the_default() {
        let config = json!({
            "rolesClaim": "scope",
            "rules": [
                {"method": "GET", "pathPattern": "/admin/public", "roles": []},
                {"method": "*", "pathPattern": "/admin/.*", "roles": ["admin"]},
                {"method": "GET", "pathPattern": "/.*", "roles": ["read", "write"]},
            ],
        });
        let deny = rules(config.clone());
        let reader = jwt(json!({"scope": "openid read"}));
        let admin = jwt(json!({"scope": "admin"}));
        assert_eq!(verdict(&deny, "GET", "/forecast", &reader), 200);
        assert_eq!(verdict(&deny, "GET", "/forecast", &admin), 403);
        // /admin/x matches the admin rule first, though the reader could GET /.*
        assert_eq!(verdict(&deny, "GET", "/admin/x", &reader), 403);
        assert_eq!(verdict(&deny, "DELETE", "/admin/x", &admin), 200);
        // A rule without roles lets any verified identity through, but not nobody.
        assert_eq!(verdict(&deny, "GET", "/admin/public", &reader), 200);
        assert_eq!(
            verdict(&deny, "GET", "/admin/public", &Principal::default()),
            403
        );
        // No rule matches: the default.
        assert_eq!(verdict(&deny, "POST", "/forecast", &admin), 403);
        let mut allow_config = config;
        allow_config["defaultAction"] = json!("allow");
        let allow = rules(allow_config);
        assert_eq!(verdict(&allow, "POST", "/forecast", &admin), 200);
        assert_eq!(
            verdict(&allow, "POST", "/forecast", &Principal::default()),
            200
        );
        let refused = deny.check("POST", "/forecast", &admin).unwrap_err();
        assert_eq!(refused.code.number(), 10046);
        assert_eq!(refused.failure_type, FailureType::Authorization);
    }

    #[test]
    fn roles_from_scope_strings_arrays_keycloak_and_basic() {
        let claims = json!({
            "scope": "openid  read write",
            "roles": ["editor", 5],
            "realm_access": {"roles": ["user"]},
            "resource_access": {"weather-app": {"roles": ["forecaster"]}},
        });
        let at = |claim: &str| {
            rules(json!({"rolesClaim": claim, "rules": [{"pathPattern": ".*"}]}))
                .roles(&jwt(claims.clone()))
        };
        assert_eq!(at("scope"), ["openid", "read", "write"]);
        assert_eq!(at("roles"), ["editor"]);
        assert_eq!(at("realm_access.roles"), ["user"]);
        assert_eq!(at("resource_access.weather-app.roles"), ["forecaster"]);
        assert!(at("resource_access.other.roles").is_empty());

        let r = rules(json!({
            "rolesClaim": "realm_access.roles",
            "rules": [{"method": "get", "pathPattern": "/.*", "roles": ["user"]}],
        }));
        assert_eq!(verdict(&r, "GET", "/x", &jwt(claims.clone())), 200);
        assert_eq!(
            verdict(&r, "GET", "/x", &jwt(json!({"realm_access": {}}))),
            403
        );
        // A scope string under "roles" is split too; an object gives nothing.
        let strings = rules(
            json!({"rolesClaim": "roles", "rules": [{"pathPattern": ".*", "roles": ["user"]}]}),
        );
        assert_eq!(
            verdict(&strings, "GET", "/", &jwt(json!({"roles": "user admin"}))),
            200
        );
        assert_eq!(
            verdict(&strings, "GET", "/", &jwt(json!({"roles": {"user": true}}))),
            403
        );
        // A BASIC user's roles count, with or without a token.
        let basic = Principal {
            claims: None,
            basic_roles: Some(vec!["user".into()]),
        };
        assert_eq!(verdict(&strings, "GET", "/", &basic), 200);
        let both = Principal {
            claims: Some(json!({"roles": ["admin"]})),
            basic_roles: Some(vec!["user".into()]),
        };
        assert_eq!(strings.roles(&both), ["user", "admin"]);
        let no_roles = Principal {
            claims: None,
            basic_roles: Some(Vec::new()),
        };
        assert_eq!(verdict(&strings, "GET", "/", &no_roles), 403);
    }

    #[test]
    fn one_line_description() {
        let c: Authorization = serde_json::from_value(json!({
            "rolesClaim": "realm_access.roles", "rules": [{"pathPattern": ".*"}], "defaultAction": "allow"
        }))
        .unwrap();
        assert_eq!(
            describe(&c),
            "1 rule on roles from realm_access.roles; other requests are allowed"
        );
        assert_eq!(
            describe(&Authorization::default()),
            "0 rules on roles from scope; other requests are denied"
        );
    }

    #[test]
    fn validation_names_its_fields() {
        let errors = |config: Value| -> Vec<String> {
            let config: Authorization = serde_json::from_value(config).unwrap();
            let mut errs = Errors::default();
            let compiled = AccessRules::compile(&config, &mut errs);
            errs.finish(compiled)
                .map(|_| Vec::new())
                .unwrap_or_else(|e| e.into_iter().map(|e| e.field).collect())
        };
        assert_eq!(
            errors(json!({"rolesClaim": "", "rules": []})),
            ["rolesClaim", "rules"]
        );
        assert_eq!(
            errors(json!({"rules": [
                {"method": "G ET", "pathPattern": "(", "roles": ["ok", "two words", ""]},
            ]})),
            ["rules[0].method", "rules[0].pathPattern", "rules[0].roles",]
        );
    }
}
