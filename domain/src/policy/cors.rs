//! CORS: its catalogue entry, configuration ([`Cors`]), validation, description, failure, and
//! the compiled rule ([`CorsRules`]) that answers preflight requests and adds CORS headers to
//! actual requests.

use http::HeaderMap;
use http::header::{ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};

use serde::{Deserialize, Serialize};

use super::check::{Errors, item};
use super::describe::list;
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::{Category, Definition};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "cors",
    name: "CORS",
    category: Category::Security,
    summary: "Lets browsers call the API from other origins (Cross-Origin Resource Sharing).",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[FailureCode::CorsRefused];

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

/// "Cross-origin requests allowed from https://app.example.com".
pub(super) fn describe(c: &Cors) -> String {
    let from = if c.allow_origins.iter().any(|o| o == "*") {
        "any origin".to_owned()
    } else {
        list(&c.allow_origins)
    };
    let credentials = if c.allow_credentials {
        " (with credentials)"
    } else {
        ""
    };
    format!("Cross-origin requests allowed from {from}{credentials}")
}

/// Methods a browser may always use across origins.
const SAFELISTED_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
pub fn is_preflight(method: &str, headers: &HeaderMap) -> bool {
    method.eq_ignore_ascii_case("OPTIONS")
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// Compiled CORS: origins, methods and headers normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRules {
    any_origin: bool,
    /// Compared ignoring ASCII case.
    origins: Vec<String>,
    any_method: bool,
    /// Upper case.
    methods: Vec<String>,
    any_header: bool,
    /// Lower case.
    headers: Vec<String>,
    /// Lower case, joined with ", ".
    expose_headers: String,
    allow_credentials: bool,
    max_age: Option<u32>,
    error_on_failure: bool,
}

type Headers = Vec<(String, String)>;

impl CorsRules {
    pub(super) fn compile(config: &Cors, errs: &mut Errors) -> Option<Self> {
        errs.ensure(
            !config.allow_origins.is_empty(),
            "allowOrigins",
            "Enter at least one origin, or * for any.",
        );
        for (i, origin) in config.allow_origins.iter().enumerate() {
            if origin != "*" && !is_origin(origin) {
                errs.add(
                    item("allowOrigins", i),
                    format!("'{origin}' is not an origin: use scheme://host[:port], like https://app.example.com, or *."),
                );
            }
        }
        let any_origin = config.allow_origins.iter().any(|o| o == "*");
        errs.ensure(
            !(any_origin && config.allow_credentials),
            "allowCredentials",
            "Credentials cannot be allowed for any origin (*): list the origins instead.",
        );
        let methods: Vec<_> = config
            .allow_methods
            .iter()
            .enumerate()
            .map(|(i, m)| errs.method(&item("allowMethods", i), m))
            .collect();
        let mut names = |field: &str, list: &[String]| -> Option<Vec<String>> {
            let checked: Vec<_> = list
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    if h == "*" {
                        Some("*".to_owned())
                    } else {
                        errs.header_name(&item(field, i), h).map(|n| n.to_string())
                    }
                })
                .collect();
            checked.into_iter().collect()
        };
        let headers = names("allowHeaders", &config.allow_headers);
        let expose = names("exposeHeaders", &config.expose_headers);
        let methods: Vec<String> = methods.into_iter().collect::<Option<_>>()?;
        let headers = headers?;
        Some(Self {
            any_origin,
            origins: config.allow_origins.clone(),
            any_method: methods.iter().any(|m| m == "*"),
            methods,
            any_header: headers.iter().any(|h| h == "*"),
            headers,
            expose_headers: expose?.join(", "),
            allow_credentials: config.allow_credentials,
            max_age: config.max_age,
            error_on_failure: config.error_on_failure,
        })
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.any_origin || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// Methods compare case-insensitively.
    fn method_allowed(&self, method: &str) -> bool {
        let method = method.to_ascii_uppercase();
        self.any_method
            || SAFELISTED_METHODS.contains(&method.as_str())
            || self.methods.contains(&method)
    }

    fn header_allowed(&self, header: &str) -> bool {
        self.any_header || self.headers.iter().any(|h| h.eq_ignore_ascii_case(header))
    }

    /// `Access-Control-Allow-Origin`: `*` for any origin (never with credentials), else the
    /// request's origin.
    fn allow_origin(&self, origin: &str) -> (String, String) {
        let value = if self.any_origin && !self.allow_credentials {
            "*"
        } else {
            origin
        };
        header("Access-Control-Allow-Origin", value)
    }

    /// The answer to a refused request: 400 ([`FailureCode::CorsRefused`]) with `error_on_failure`,
    /// else no CORS headers (the browser then refuses the response).
    fn refuse(&self) -> Result<Headers, PolicyFailure> {
        if self.error_on_failure {
            Err(PolicyFailure::new(
                FailureCode::CorsRefused,
                FailureType::Other,
                "Cross-origin requests from this origin are not allowed.",
            ))
        } else {
            Ok(Vec::new())
        }
    }

    /// The answer to a preflight request; `None` when `headers` are not a preflight's (no
    /// `Origin` or no `Access-Control-Request-Method`). Call it for `OPTIONS` requests only
    /// (see [`is_preflight`]).
    ///
    /// `Ok` holds the full answer: `Access-Control-Allow-Origin`, `-Allow-Methods` (the
    /// requested method), `-Allow-Headers` (the requested headers), `-Allow-Credentials`,
    /// `-Max-Age` and `Vary: Origin`.
    pub fn preflight(&self, headers: &HeaderMap) -> Option<Result<Headers, PolicyFailure>> {
        let origin = header_str(headers, ORIGIN.as_str())?;
        let method = header_str(headers, ACCESS_CONTROL_REQUEST_METHOD.as_str())?;
        let requested: Vec<&str> = headers
            .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let allowed = self.origin_allowed(origin)
            && self.method_allowed(method)
            && requested.iter().all(|h| self.header_allowed(h));
        if !allowed {
            return Some(self.refuse());
        }
        let mut out = vec![
            self.allow_origin(origin),
            header("Access-Control-Allow-Methods", method),
        ];
        if !requested.is_empty() {
            out.push(header(
                "Access-Control-Allow-Headers",
                &requested.join(", "),
            ));
        }
        if self.allow_credentials {
            out.push(header("Access-Control-Allow-Credentials", "true"));
        }
        if let Some(age) = self.max_age {
            out.push(header("Access-Control-Max-Age", &age.to_string()));
        }
        out.push(header("Vary", "Origin"));
        Some(Ok(out))
    }

    /// The CORS headers to add to the response of an actual (non-preflight) request:
    /// `Access-Control-Allow-Origin`, `-Expose-Headers`, `-Allow-Credentials` and
    /// `Vary: Origin`. None without an `Origin` header; a refused origin or method is answered
    /// as [`refuse`](Self::refuse) says.
    pub fn check_actual(
        &self,
        method: &str,
        headers: &HeaderMap,
    ) -> Result<Headers, PolicyFailure> {
        let Some(origin) = header_str(headers, ORIGIN.as_str()) else {
            return Ok(Vec::new());
        };
        if !self.origin_allowed(origin) || !self.method_allowed(method) {
            return self.refuse();
        }
        let mut out = vec![self.allow_origin(origin)];
        if !self.expose_headers.is_empty() {
            out.push(header(
                "Access-Control-Expose-Headers",
                &self.expose_headers,
            ));
        }
        if self.allow_credentials {
            out.push(header("Access-Control-Allow-Credentials", "true"));
        }
        out.push(header("Vary", "Origin"));
        Ok(out)
    }
}

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `scheme://host[:port]`: a scheme, a host name or `[IPv6]`, an optional port, nothing else.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let (host_ok, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let Some((host, after)) = v6.split_once(']') else {
                return false;
            };
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return false,
                },
            };
            (host.parse::<std::net::Ipv6Addr>().is_ok(), port)
        }
        None => {
            let (host, port) = match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            };
            let host_ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            (host_ok, port)
        }
    };
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    scheme_ok && host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(origins: &[&str], credentials: bool, error_on_failure: bool) -> CorsRules {
        let config = Cors {
            allow_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            allow_methods: vec!["PUT".to_owned(), "delete".to_owned()],
            allow_headers: vec!["Content-Type".to_owned(), "X-Api-Key".to_owned()],
            expose_headers: vec!["X-Total".to_owned(), "X-Page".to_owned()],
            allow_credentials: credentials,
            max_age: Some(600),
            error_on_failure,
        };
        let mut errs = Errors::default();
        let compiled = CorsRules::compile(&config, &mut errs);
        errs.finish(compiled).unwrap()
    }

    fn request(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    fn pairs(list: &[(&str, &str)]) -> Headers {
        list.iter().map(|(n, v)| header(n, v)).collect()
    }

    #[test]
    fn origins() {
        for good in [
            "https://app.example.com",
            "http://localhost:8080",
            "http://[::1]:3000",
            "https://[2001:db8::1]",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://",
            "https://a.com/",
            "https://a.com/x",
            "https://a.com:0",
            "https://a.com:99999",
            "https://u@a.com",
            "1ttp://a.com",
            "https://[nope]",
            "null",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn preflight_allowed_with_credentials_echoes_the_origin() {
        let cors = rules(&["https://app.example.com"], true, true);
        let headers = request(&[
            ("origin", "https://APP.example.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type, x-api-key"),
        ]);
        assert!(is_preflight("OPTIONS", &headers));
        assert!(!is_preflight("GET", &headers));
        assert_eq!(
            cors.preflight(&headers),
            Some(Ok(pairs(&[
                ("Access-Control-Allow-Origin", "https://APP.example.com"),
                ("Access-Control-Allow-Methods", "PUT"),
                ("Access-Control-Allow-Headers", "content-type, x-api-key"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Max-Age", "600"),
                ("Vary", "Origin"),
            ])))
        );
    }

    #[test]
    fn preflight_refused() {
        let cors = rules(&["https://app.example.com"], false, true);
        let refused = |pairs: &[(&'static str, &str)]| {
            let failure = cors.preflight(&request(pairs)).unwrap().unwrap_err();
            (failure.status, failure.code.number())
        };
        let origin = ("origin", "https://app.example.com");
        assert_eq!(
            refused(&[
                ("origin", "https://evil.example.com"),
                ("access-control-request-method", "GET")
            ]),
            (400, 10015)
        );
        assert_eq!(
            refused(&[origin, ("access-control-request-method", "PATCH")]),
            (400, 10015)
        );
        assert_eq!(
            refused(&[
                origin,
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-secret")
            ]),
            (400, 10015)
        );
        // Not a preflight.
        assert_eq!(cors.preflight(&request(&[origin])), None);
        // Without error_on_failure the answer simply has no CORS headers.
        let quiet = rules(&["https://app.example.com"], false, false);
        let headers = request(&[
            ("origin", "https://evil.example.com"),
            ("access-control-request-method", "GET"),
        ]);
        assert_eq!(quiet.preflight(&headers), Some(Ok(Vec::new())));
    }

    #[test]
    fn wildcard_origin() {
        let cors = rules(&["*"], false, true);
        let headers = request(&[
            ("origin", "https://anyone.example"),
            ("access-control-request-method", "GET"),
        ]);
        let answer = cors.preflight(&headers).unwrap().unwrap();
        assert_eq!(answer[0], header("Access-Control-Allow-Origin", "*"));
        let actual = cors.check_actual("GET", &headers).unwrap();
        assert_eq!(actual[0], header("Access-Control-Allow-Origin", "*"));
    }

    #[test]
    fn actual_requests() {
        let cors = rules(&["https://app.example.com"], true, false);
        let from_app = request(&[("origin", "https://app.example.com")]);
        assert_eq!(
            cors.check_actual("delete", &from_app),
            Ok(pairs(&[
                ("Access-Control-Allow-Origin", "https://app.example.com"),
                ("Access-Control-Expose-Headers", "x-total, x-page"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin"),
            ]))
        );
        // Not cross-origin: nothing to add.
        assert_eq!(cors.check_actual("GET", &HeaderMap::new()), Ok(Vec::new()));
        // Refused without error_on_failure: no CORS headers.
        let from_evil = request(&[("origin", "https://evil.example.com")]);
        assert_eq!(cors.check_actual("GET", &from_evil), Ok(Vec::new()));
        assert_eq!(cors.check_actual("PATCH", &from_app), Ok(Vec::new()));
        // Refused with error_on_failure.
        let strict = rules(&["https://app.example.com"], false, true);
        let failure = strict.check_actual("GET", &from_evil).unwrap_err();
        assert_eq!((failure.status, failure.code.number()), (400, 10015));
        assert!(strict.check_actual("GET", &from_app).is_ok());
    }
}
