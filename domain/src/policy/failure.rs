//! [`PolicyFailure`]: a refusal by a policy, which the gateway turns into a response. Its code
//! is a [`FailureCode`] of the policy family (the table is in `docs/failure-codes.md`); each
//! policy module builds its own refusals.

use serde::{Deserialize, Serialize};

pub use crate::failure::FailureCode;

/// The kind of a refusal, sent as `X-Policy-Failure-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureType {
    Authentication,
    Authorization,
    Other,
}

impl FailureType {
    /// "Authentication", "Authorization", "Other".
    pub fn as_str(self) -> &'static str {
        match self {
            FailureType::Authentication => "Authentication",
            FailureType::Authorization => "Authorization",
            FailureType::Other => "Other",
        }
    }
}

/// A refusal by a policy: the gateway answers `status` with the headers of
/// [`response_headers`](Self::response_headers) and the JSON [`body`](Self::body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFailure {
    pub status: u16,
    /// Sent as `X-Policy-Failure-Code`.
    pub code: FailureCode,
    pub failure_type: FailureType,
    /// One sentence for the consumer, sent as `X-Policy-Failure-Message`.
    pub message: String,
    /// Headers particular to the failure (`X-RateLimit-Reset`, `WWW-Authenticate`, …).
    pub headers: Vec<(String, String)>,
}

impl PolicyFailure {
    /// A refusal with `code`'s usual status.
    pub(crate) fn new(code: FailureCode, failure_type: FailureType, message: &str) -> Self {
        Self {
            status: code.status(),
            code,
            failure_type,
            message: message.to_owned(),
            headers: Vec::new(),
        }
    }

    /// Answers another of `code`'s statuses (an IP list's configured one).
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        debug_assert!(self.code.statuses().contains(&status), "{status}");
        self.status = status;
        self
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// `X-Policy-Failure-Type`, `-Code`, `-Message`, then [`headers`](Self::headers).
    pub fn response_headers(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "X-Policy-Failure-Type".to_owned(),
                self.failure_type.as_str().to_owned(),
            ),
            (
                "X-Policy-Failure-Code".to_owned(),
                self.code.number().to_string(),
            ),
            ("X-Policy-Failure-Message".to_owned(), self.message.clone()),
        ];
        out.extend(self.headers.iter().cloned());
        out
    }

    /// The JSON body: `{"type":"Other","failureCode":10005,"responseCode":429,"message":"…"}`.
    pub fn body(&self) -> String {
        serde_json::json!({
            "type": self.failure_type.as_str(),
            "failureCode": self.code.number(),
            "responseCode": self.status,
            "message": self.message,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_headers_and_body() {
        let f = PolicyFailure::new(
            FailureCode::BasicAuthFailed,
            FailureType::Authentication,
            "No.",
        )
        .with_header("WWW-Authenticate", "Basic realm=\"R\"");
        let names: Vec<_> = f.response_headers().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "X-Policy-Failure-Type",
                "X-Policy-Failure-Code",
                "X-Policy-Failure-Message",
                "WWW-Authenticate"
            ]
        );
        assert_eq!(f.response_headers()[0].1, "Authentication");
        assert_eq!(f.response_headers()[1].1, "10003");
        let body: serde_json::Value = serde_json::from_str(&f.body()).unwrap();
        assert_eq!(body["failureCode"], 10003);
        assert_eq!(body["responseCode"], 401);
        assert_eq!(body["type"], "Authentication");
        assert_eq!(body["message"], "No.");
    }
}
