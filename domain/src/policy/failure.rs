//! [`PolicyFailure`]: a refusal by a policy, which the gateway turns into a response, and the
//! headers of the limiting policies ([`LimitKind`]).
//!
//! The policy failure codes (the gateway's own, 10020 …, are in `gateway/src/lib.rs`):
//!
//! | code | status | policy: case |
//! |---|---|---|
//! | 10001 | 403/404/500 | IP Allowlist: address not on the list |
//! | 10002 | 403/404/500 | IP Blocklist: address on the list |
//! | 10003 | 401 | BASIC Authentication: missing or wrong credentials |
//! | 10004 | 401 | BASIC Authentication: TLS required |
//! | 10005 | 429 | Rate Limiting |
//! | 10007 | 404 | Ignored Resources |
//! | 10012 | 429 | Quota |
//! | 10013 | 429 | Transfer Quota |
//! | 10014 | 423 | Time Restricted Access |
//! | 10015 | 400 | CORS: origin, method or header not allowed |
//! | 10016 | 503 | BASIC Authentication: no password check could start in time |

use serde::{Deserialize, Serialize};

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
    /// The failure code (10001 …), sent as `X-Policy-Failure-Code`.
    pub code: u32,
    pub failure_type: FailureType,
    /// One sentence for the consumer, sent as `X-Policy-Failure-Message`.
    pub message: String,
    /// Headers particular to the failure (`X-RateLimit-Reset`, `WWW-Authenticate`, …).
    pub headers: Vec<(String, String)>,
}

impl PolicyFailure {
    pub(crate) fn new(status: u16, code: u32, failure_type: FailureType, message: &str) -> Self {
        Self {
            status,
            code,
            failure_type,
            message: message.to_owned(),
            headers: Vec::new(),
        }
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
            ("X-Policy-Failure-Code".to_owned(), self.code.to_string()),
            ("X-Policy-Failure-Message".to_owned(), self.message.clone()),
        ];
        out.extend(self.headers.iter().cloned());
        out
    }

    /// The JSON body: `{"type":"Other","failureCode":10005,"responseCode":429,"message":"…"}`.
    pub fn body(&self) -> String {
        serde_json::json!({
            "type": self.failure_type.as_str(),
            "failureCode": self.code,
            "responseCode": self.status,
            "message": self.message,
        })
        .to_string()
    }
}

/// The three limiting policies, which share their headers and failure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    RateLimit,
    Quota,
    TransferQuota,
}

impl LimitKind {
    /// "X-RateLimit", "X-Quota", "X-TransferQuota".
    fn prefix(self) -> &'static str {
        match self {
            LimitKind::RateLimit => "X-RateLimit",
            LimitKind::Quota => "X-Quota",
            LimitKind::TransferQuota => "X-TransferQuota",
        }
    }

    /// `X-…-Limit`, `X-…-Remaining` and `X-…-Reset` (seconds), for allowed requests too.
    pub fn headers(self, limit: u64, remaining: u64, reset_secs: u64) -> Vec<(String, String)> {
        let prefix = self.prefix();
        vec![
            (format!("{prefix}-Limit"), limit.to_string()),
            (format!("{prefix}-Remaining"), remaining.to_string()),
            (format!("{prefix}-Reset"), reset_secs.to_string()),
        ]
    }

    /// 429 with the limit headers (remaining 0) and `Retry-After`.
    pub fn failure(self, limit: u64, reset_secs: u64) -> PolicyFailure {
        let (code, message) = match self {
            LimitKind::RateLimit => (10005, "Rate limit exceeded."),
            LimitKind::Quota => (10012, "Request quota exceeded."),
            LimitKind::TransferQuota => (10013, "Transfer quota exceeded."),
        };
        let mut failure = PolicyFailure::new(429, code, FailureType::Other, message);
        failure.headers = self.headers(limit, 0, reset_secs);
        failure.with_header("Retry-After", reset_secs.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_headers_and_body() {
        let f = PolicyFailure::new(401, 10003, FailureType::Authentication, "No.")
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

    #[test]
    fn limit_headers() {
        assert_eq!(
            LimitKind::Quota.headers(10, 3, 60),
            [
                ("X-Quota-Limit".to_owned(), "10".to_owned()),
                ("X-Quota-Remaining".to_owned(), "3".to_owned()),
                ("X-Quota-Reset".to_owned(), "60".to_owned()),
            ]
        );
    }
}
