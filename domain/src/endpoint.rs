//! API endpoint URLs: absolute `http` or `https` URLs with a host, no credentials, no fragment.

use crate::FieldError;

pub const MAX_ENDPOINT_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    /// Parses an endpoint; the field is "endpoint".
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("endpoint", m);
        let s = input.trim();
        if s.is_empty() {
            return Err(err("Endpoint URL is required."));
        }
        if s.chars().count() > MAX_ENDPOINT_LEN {
            return Err(err("Endpoint URL must be at most 2048 characters."));
        }
        let rest = s
            .strip_prefix("http://")
            .or_else(|| s.strip_prefix("https://"))
            .ok_or_else(|| {
                err("Use an http:// or https:// URL, like https://api.example.com/v1.")
            })?;
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("Endpoint URL must not contain spaces."));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(err(
                "Endpoint URL must not contain a user name or password.",
            ));
        }
        let is_port = |p: &str| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n > 0)
        };
        let host = if let Some(bracketed) = authority.strip_prefix('[') {
            // An IPv6 literal: [::1] or [::1]:8080.
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| err("Close the IPv6 address with ']'."))?;
            if !after.is_empty() && !after.strip_prefix(':').is_some_and(is_port) {
                return Err(err("The port must be a number from 1 to 65535."));
            }
            host
        } else {
            match authority.split_once(':') {
                Some((host, port)) if is_port(port) => host,
                Some(_) => return Err(err("The port must be a number from 1 to 65535.")),
                None => authority,
            }
        };
        if host.is_empty() {
            return Err(err("Endpoint URL needs a host name."));
        }
        if s.contains('#') {
            return Err(err("Endpoint URL must not contain a fragment (#)."));
        }
        // What the gateway will call: the same reading as its own (`host_and_port`).
        if crate::gateway_bounds::host_and_port(s).is_none() {
            return Err(err(
                "This is not a URL the gateway can call: check the host name for characters \
                 a URL cannot hold.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        for ok in [
            "http://localhost:8080",
            "https://api.example.com/v1",
            " https://api.example.com/v1?x=1 ",
            "http://[::1]:9000/api",
            "http://10.0.0.1/",
        ] {
            assert!(EndpointUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ftp://example.com",
            "example.com",
            "http://",
            "http:///path",
            "https://user:pw@example.com",
            "http://exa mple.com",
            "http://example.com:abc",
            "https://example.com/#top",
            // Found by the fuzz properties: accepted, and then no URL the gateway could call.
            "http://9`T",
            "http://example.com:526011/",
            "http://example.com:0/",
            "http://exa{mple.com/",
        ] {
            assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
