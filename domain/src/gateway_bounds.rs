//! The gateway's bounds: how large a request body may be ([`check_request_body_limit`]),
//! which request paths it refuses ([`path_refusal`]), how long it waits for a backend and how
//! many requests it lets wait on one at once ([`BackendLimits`]), which requests it sends again
//! after a reset connection ([`retry_after_reset`]), and which addresses it never connects to
//! ([`NetworkRule`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::FieldError;
use crate::policy::IpMatcher;

/// The request body limit of an API version that sets none: 10 MiB.
pub const DEFAULT_REQUEST_BODY_LIMIT: u64 = 10 * 1024 * 1024;
/// The largest request body limit an API version may set: 1 GiB.
pub const MAX_REQUEST_BODY_LIMIT: u64 = 1024 * 1024 * 1024;

/// Checks an API version's request body limit in bytes (`None`: the default).
pub fn check_request_body_limit(limit: Option<u64>) -> Result<Option<u64>, FieldError> {
    match limit {
        Some(n) if n > MAX_REQUEST_BODY_LIMIT => Err(FieldError::new(
            "requestBodyLimit",
            format!(
                "The request body limit is at most {MAX_REQUEST_BODY_LIMIT} bytes (1 GiB); leave it empty for the default of 10 MiB."
            ),
        )),
        other => Ok(other),
    }
}

/// The limit in force for an API version's setting.
pub fn request_body_limit(setting: Option<u64>) -> u64 {
    setting.unwrap_or(DEFAULT_REQUEST_BODY_LIMIT)
}

/// How long the gateway waits for a connection to a backend (DNS, TCP and TLS) when the API
/// version sets nothing: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How long the gateway waits for a backend's answer (from the connection being ready to the
/// response's status and headers) when the API version sets nothing: 30 s.
pub const DEFAULT_RESPONSE_TIMEOUT_MS: u64 = 30_000;
/// How many requests of one API version may wait on its backend at once on one node when the
/// API version sets nothing.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 256;
/// The shortest timeout an API version may set: 100 ms.
pub const MIN_TIMEOUT_MS: u64 = 100;
/// The longest connect timeout an API version may set: 60 s.
pub const MAX_CONNECT_TIMEOUT_MS: u64 = 60_000;
/// The longest response timeout an API version may set: 10 minutes.
pub const MAX_RESPONSE_TIMEOUT_MS: u64 = 600_000;
/// The highest concurrency bound an API version may set.
pub const MAX_CONCURRENT_REQUESTS_BOUND: u32 = 10_000;

fn check_timeout(
    value: Option<u64>,
    field: &str,
    what: &str,
    max: u64,
    default: u64,
) -> Result<Option<u64>, FieldError> {
    match value {
        Some(ms) if !(MIN_TIMEOUT_MS..=max).contains(&ms) => Err(FieldError::new(
            field,
            format!(
                "The {what} is between {MIN_TIMEOUT_MS} and {max} milliseconds ({} s); leave it empty for the default of {} s.",
                max / 1000,
                default / 1000
            ),
        )),
        other => Ok(other),
    }
}

/// Checks an API version's connect timeout in milliseconds (`None`: the default, 5 s).
pub fn check_connect_timeout(ms: Option<u64>) -> Result<Option<u64>, FieldError> {
    check_timeout(
        ms,
        "connectTimeoutMs",
        "connect timeout",
        MAX_CONNECT_TIMEOUT_MS,
        DEFAULT_CONNECT_TIMEOUT_MS,
    )
}

/// Checks an API version's response timeout in milliseconds (`None`: the default, 30 s).
pub fn check_response_timeout(ms: Option<u64>) -> Result<Option<u64>, FieldError> {
    check_timeout(
        ms,
        "responseTimeoutMs",
        "response timeout",
        MAX_RESPONSE_TIMEOUT_MS,
        DEFAULT_RESPONSE_TIMEOUT_MS,
    )
}

/// Checks an API version's concurrency bound (`None`: the default, 256).
pub fn check_max_concurrent_requests(n: Option<u32>) -> Result<Option<u32>, FieldError> {
    match n {
        Some(n) if !(1..=MAX_CONCURRENT_REQUESTS_BOUND).contains(&n) => Err(FieldError::new(
            "maxConcurrentRequests",
            format!(
                "The concurrent requests bound is between 1 and {MAX_CONCURRENT_REQUESTS_BOUND}; leave it empty for the default of {DEFAULT_MAX_CONCURRENT_REQUESTS}."
            ),
        )),
        other => Ok(other),
    }
}

/// What the gateway allows an API version's backend: how long to connect (else 504, 10033),
/// how long to answer once connected (else 504, 10034), and how many requests may be in flight
/// towards it at once on one node, from the connection until the response's body has been
/// passed on (past it: 503, 10035).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendLimits {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub max_concurrent: usize,
}

impl Default for BackendLimits {
    fn default() -> Self {
        BackendLimits::of(None, None, None)
    }
}

impl BackendLimits {
    /// The limits in force for an API version's settings (`None`: each one's default). Values
    /// outside the bounds (which validation refuses) are brought within them.
    pub fn of(
        connect_timeout_ms: Option<u64>,
        response_timeout_ms: Option<u64>,
        max_concurrent_requests: Option<u32>,
    ) -> BackendLimits {
        let ms = |v: Option<u64>, default: u64, max: u64| {
            Duration::from_millis(v.unwrap_or(default).clamp(MIN_TIMEOUT_MS, max))
        };
        BackendLimits {
            connect_timeout: ms(
                connect_timeout_ms,
                DEFAULT_CONNECT_TIMEOUT_MS,
                MAX_CONNECT_TIMEOUT_MS,
            ),
            response_timeout: ms(
                response_timeout_ms,
                DEFAULT_RESPONSE_TIMEOUT_MS,
                MAX_RESPONSE_TIMEOUT_MS,
            ),
            max_concurrent: max_concurrent_requests
                .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS)
                .clamp(1, MAX_CONCURRENT_REQUESTS_BOUND) as usize,
        }
    }

    /// Whether one more request may go to the backend while `in_flight` are on their way.
    pub fn admits(&self, in_flight: usize) -> bool {
        in_flight < self.max_concurrent
    }
}

/// The largest request body the gateway keeps in memory so that it can send it again after a
/// reset connection: 64 KiB.
pub const RETRY_BODY_MAX: u64 = 64 * 1024;

/// Whether a request whose backend connection was reset (or closed before the answer) is sent
/// again, once, on a fresh connection: only an idempotent method (RFC 9110 §9.2.2: GET, HEAD,
/// OPTIONS, TRACE, PUT, DELETE), whose repetition the backend must tolerate, and only with a
/// body the gateway can send again: one of known length (`body_length`; `None` for a streamed
/// body) of at most [`RETRY_BODY_MAX`].
pub fn retry_after_reset(method: &http::Method, body_length: Option<u64>) -> bool {
    method.is_idempotent() && body_length.is_some_and(|n| n <= RETRY_BODY_MAX)
}

/// Why the gateway refuses a request path, if it does: a backslash, raw or encoded (`%5C`),
/// and an encoded slash (`%2F`) unless the API version allows it. Backends and proxies decode
/// these differently from the gateway, so they can reach paths that the policies never saw.
/// Allocation-free.
pub fn path_refusal(path: &str, allow_encoded_slashes: bool) -> Option<&'static str> {
    let b = path.as_bytes();
    if b.contains(&b'\\') {
        return Some("The request path contains a backslash.");
    }
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|c| *c == b'%') {
        let p = i + at;
        if let Some(&[hi, lo]) = b.get(p + 1..p + 3) {
            let lo = lo.to_ascii_uppercase();
            if hi == b'5' && lo == b'C' {
                return Some("The request path contains an encoded backslash (%5C).");
            }
            if hi == b'2' && lo == b'F' && !allow_encoded_slashes {
                return Some("The request path contains an encoded slash (%2F).");
            }
            // Encoded twice (`%252F`, `%255C`): a backend that decodes twice sees `/` or `\`.
            if hi == b'2'
                && lo == b'5'
                && let Some(&[hi2, lo2]) = b.get(p + 3..p + 5)
            {
                let lo2 = lo2.to_ascii_uppercase();
                if (hi2 == b'5' && lo2 == b'C') || (hi2 == b'2' && lo2 == b'F') {
                    return Some("The request path contains a doubly encoded slash or backslash.");
                }
            }
        }
        i = p + 1;
    }
    None
}

/// The ranges refused by default: link-local (which holds most cloud metadata services) and
/// the metadata addresses outside it (AWS IPv6, Google Cloud IPv6, Alibaba Cloud, Oracle Cloud).
pub const DEFAULT_REFUSED_NETWORKS: [&str; 6] = [
    "169.254.0.0/16",
    "fe80::/10",
    "fd00:ec2::254",
    "fd20:ce::254",
    "100.100.100.200",
    "192.0.0.192",
];

/// Why the gateway does not connect to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Link-local or a cloud metadata address (refused by default).
    LinkLocalOrMetadata,
    /// In `TOLLGATE_GATEWAY_DENY_NETWORKS`.
    Denied,
    /// One of Tollgate's own listeners (management or gateway).
    OwnListener,
    /// `0.0.0.0/8` or `::`: "this host", which a connect turns into a loopback address.
    Unspecified,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::LinkLocalOrMetadata => {
                "it is a link-local or cloud metadata address, which the gateway never connects to"
            }
            Refusal::Denied => "it is in a network the operator denied",
            Refusal::OwnListener => "it is one of Tollgate's own listeners",
            Refusal::Unspecified => {
                "it is the unspecified address (0.0.0.0 or ::), which reaches this host itself"
            }
        }
    }
}

/// Which backend addresses the gateway may connect to. Loopback and private ranges are allowed
/// (typical on-premises backends); link-local and metadata addresses are not, unless the
/// operator's allow list re-opens them; the operator's deny list closes any range; Tollgate's
/// own listeners are always refused.
#[derive(Debug, Clone)]
pub struct NetworkRule {
    defaults: IpMatcher,
    allow: IpMatcher,
    deny: IpMatcher,
    /// Management and gateway listeners as bound; an unspecified address (`0.0.0.0`, `::`)
    /// means the port on any local address.
    own: Vec<SocketAddr>,
}

impl Default for NetworkRule {
    fn default() -> Self {
        Self::new(&[], &[], Vec::new()).unwrap_or_else(|_| unreachable!())
    }
}

impl NetworkRule {
    /// A rule from the operator's allow and deny lists (CIDR blocks, addresses or ranges as
    /// [`IpMatcher`] reads them) and the own listeners. Errors name the entry.
    pub fn new(
        allow: &[String],
        deny: &[String],
        own: Vec<SocketAddr>,
    ) -> Result<NetworkRule, String> {
        let defaults: Vec<String> = DEFAULT_REFUSED_NETWORKS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        Ok(NetworkRule {
            defaults: IpMatcher::parse_setting("default networks", &defaults)?,
            allow: IpMatcher::parse_setting("TOLLGATE_GATEWAY_ALLOW_NETWORKS", allow)?,
            deny: IpMatcher::parse_setting("TOLLGATE_GATEWAY_DENY_NETWORKS", deny)?,
            own,
        })
    }

    /// Whether the gateway may connect to `addr`. `is_local` tells whether an address belongs
    /// to this host; it is asked only when the port is that of an own listener bound to every
    /// address.
    pub fn check(
        &self,
        addr: SocketAddr,
        is_local: impl Fn(IpAddr) -> bool,
    ) -> Result<(), Refusal> {
        let ip = embedded_ipv4(addr.ip().to_canonical());
        // Never re-opened by the allow list: a connect to it reaches this host's listeners.
        let unspecified = match ip {
            IpAddr::V4(v4) => v4.octets()[0] == 0,
            IpAddr::V6(v6) => v6.is_unspecified(),
        };
        if unspecified {
            return Err(Refusal::Unspecified);
        }
        let own = self.own.iter().any(|l| {
            l.port() == addr.port()
                && (l.ip().to_canonical() == ip
                    || (l.ip().is_unspecified()
                        && (ip.is_loopback() || ip.is_unspecified() || is_local(ip))))
        });
        if own {
            return Err(Refusal::OwnListener);
        }
        if self.deny.matches(ip) {
            return Err(Refusal::Denied);
        }
        if self.defaults.matches(ip) && !self.allow.matches(ip) {
            return Err(Refusal::LinkLocalOrMetadata);
        }
        Ok(())
    }
}

/// The IPv4 address a NAT64 address (`64:ff9b::/96`) stands for; any other address as it is.
fn embedded_ipv4(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] => {
            let o = v6.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]))
        }
        other => other,
    }
}

/// The host (without IPv6 brackets) and port of an `http://` or `https://` endpoint URL.
pub fn host_and_port(endpoint: &str) -> Option<(String, u16)> {
    let uri: http::Uri = endpoint.trim().parse().ok()?;
    let default = match uri.scheme_str()? {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let host = uri.host()?;
    let port = match uri.port() {
        Some(p) => p.as_u16(),
        // Something after the host that is no port (out of range, or empty) is no port to
        // call, not the scheme's default.
        None if !uri.authority()?.as_str().ends_with(host) => return None,
        None => default,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn body_limits_have_bounds() {
        assert_eq!(check_request_body_limit(None), Ok(None));
        assert_eq!(check_request_body_limit(Some(0)), Ok(Some(0)));
        assert_eq!(
            check_request_body_limit(Some(MAX_REQUEST_BODY_LIMIT)),
            Ok(Some(MAX_REQUEST_BODY_LIMIT))
        );
        let e = check_request_body_limit(Some(MAX_REQUEST_BODY_LIMIT + 1)).unwrap_err();
        assert_eq!(e.field, "requestBodyLimit");
        assert!(e.message.contains("1 GiB"), "{}", e.message);
        assert_eq!(request_body_limit(None), 10 * 1024 * 1024);
        assert_eq!(request_body_limit(Some(5)), 5);
    }

    #[test]
    fn backend_timeouts_and_concurrency_have_bounds() {
        assert_eq!(check_connect_timeout(None), Ok(None));
        assert_eq!(check_response_timeout(None), Ok(None));
        assert_eq!(check_max_concurrent_requests(None), Ok(None));
        for ok in [100, 5_000, 60_000] {
            assert_eq!(check_connect_timeout(Some(ok)), Ok(Some(ok)));
        }
        for ok in [100, 30_000, 600_000] {
            assert_eq!(check_response_timeout(Some(ok)), Ok(Some(ok)));
        }
        for ok in [1, 256, 10_000] {
            assert_eq!(check_max_concurrent_requests(Some(ok)), Ok(Some(ok)));
        }
        for bad in [0, 99, 60_001, u64::MAX] {
            let e = check_connect_timeout(Some(bad)).unwrap_err();
            assert_eq!(e.field, "connectTimeoutMs", "{bad}");
            assert!(e.message.contains("between 100 and 60000"), "{}", e.message);
            assert!(e.message.contains("default of 5 s"), "{}", e.message);
        }
        for bad in [0, 99, 600_001] {
            let e = check_response_timeout(Some(bad)).unwrap_err();
            assert_eq!(e.field, "responseTimeoutMs", "{bad}");
            assert!(e.message.contains("default of 30 s"), "{}", e.message);
        }
        for bad in [0, 10_001, u32::MAX] {
            let e = check_max_concurrent_requests(Some(bad)).unwrap_err();
            assert_eq!(e.field, "maxConcurrentRequests", "{bad}");
        }
    }

    #[test]
    fn backend_limits_default_and_bound() {
        let d = BackendLimits::default();
        assert_eq!(d.connect_timeout, Duration::from_secs(5));
        assert_eq!(d.response_timeout, Duration::from_secs(30));
        assert_eq!(d.max_concurrent, 256);
        let set = BackendLimits::of(Some(250), Some(1_500), Some(3));
        assert_eq!(
            (
                set.connect_timeout,
                set.response_timeout,
                set.max_concurrent
            ),
            (Duration::from_millis(250), Duration::from_millis(1_500), 3)
        );
        assert!(set.admits(0) && set.admits(2));
        assert!(!set.admits(3) && !set.admits(4));
        // Out of bounds (never stored: validation refuses it) is brought within them.
        let clamped = BackendLimits::of(Some(0), Some(u64::MAX), Some(0));
        assert_eq!(
            clamped.connect_timeout,
            Duration::from_millis(MIN_TIMEOUT_MS)
        );
        assert_eq!(clamped.response_timeout, Duration::from_secs(600));
        assert_eq!(clamped.max_concurrent, 1);
    }

    #[test]
    fn only_idempotent_requests_with_a_replayable_body_are_retried() {
        use http::Method;
        for m in [
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::TRACE,
            Method::PUT,
            Method::DELETE,
        ] {
            assert!(retry_after_reset(&m, Some(0)), "{m}");
            assert!(retry_after_reset(&m, Some(RETRY_BODY_MAX)), "{m}");
            assert!(!retry_after_reset(&m, Some(RETRY_BODY_MAX + 1)), "{m}");
            // A streamed body cannot be sent again.
            assert!(!retry_after_reset(&m, None), "{m}");
        }
        for m in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert!(!retry_after_reset(&m, Some(0)), "{m}");
        }
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert!(!retry_after_reset(&custom, Some(0)));
    }

    #[test]
    fn paths_with_backslashes_or_encoded_slashes_are_refused() {
        for p in ["/a/b", "/a%20b", "/a%2", "/%", "/a%2G", "/caf%C3%A9"] {
            assert_eq!(path_refusal(p, false), None, "{p}");
        }
        for p in [
            "/a\\b",
            "/a%5cb",
            "/a%5Cb",
            "/a%2fb",
            "/a%2Fb",
            "/x/%252F%2f",
            "/x/%252F",
            "/x/%255c",
        ] {
            assert!(path_refusal(p, false).is_some(), "{p}");
        }
        assert_eq!(path_refusal("/a%2Fb", true), None);
        assert!(path_refusal("/a%5Cb", true).is_some());
        assert!(path_refusal("/a\\b", true).is_some());
    }

    #[test]
    fn link_local_and_metadata_are_refused_private_ranges_allowed() {
        let rule = NetworkRule::default();
        let no = |_| false;
        for a in [
            "169.254.169.254:80",
            "169.254.170.2:80",
            "[fe80::1]:80",
            "[fd00:ec2::254]:80",
            "100.100.100.200:80",
            "[::ffff:169.254.169.254]:80",
        ] {
            assert_eq!(
                rule.check(addr(a), no),
                Err(Refusal::LinkLocalOrMetadata),
                "{a}"
            );
        }
        for a in [
            "127.0.0.1:8080",
            "10.1.2.3:80",
            "192.168.1.1:443",
            "[::1]:80",
            "93.184.216.34:443",
            "100.100.100.201:80",
        ] {
            assert_eq!(rule.check(addr(a), no), Ok(()), "{a}");
        }
    }

    #[test]
    fn deny_wins_allow_reopens() {
        let rule = NetworkRule::new(
            &strings(&["169.254.10.0/24"]),
            &strings(&["10.0.0.0/8", "127.0.0.2"]),
            Vec::new(),
        )
        .unwrap();
        let no = |_| false;
        assert_eq!(rule.check(addr("10.9.9.9:80"), no), Err(Refusal::Denied));
        assert_eq!(rule.check(addr("127.0.0.2:80"), no), Err(Refusal::Denied));
        assert_eq!(rule.check(addr("127.0.0.1:80"), no), Ok(()));
        assert_eq!(rule.check(addr("169.254.10.7:80"), no), Ok(()));
        assert_eq!(
            rule.check(addr("169.254.169.254:80"), no),
            Err(Refusal::LinkLocalOrMetadata)
        );
        // Deny wins over allow.
        let rule = NetworkRule::new(
            &strings(&["169.254.0.0/16"]),
            &strings(&["169.254.169.254"]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(
            rule.check(addr("169.254.169.254:80"), no),
            Err(Refusal::Denied)
        );
    }

    #[test]
    fn own_listeners_are_refused() {
        let rule =
            NetworkRule::new(&[], &[], vec![addr("127.0.0.1:3000"), addr("0.0.0.0:8080")]).unwrap();
        let local = |ip: IpAddr| ip == "192.168.1.5".parse::<IpAddr>().unwrap();
        assert_eq!(
            rule.check(addr("127.0.0.1:3000"), local),
            Err(Refusal::OwnListener)
        );
        assert_eq!(rule.check(addr("127.0.0.1:3001"), local), Ok(()));
        assert_eq!(rule.check(addr("192.168.1.5:3000"), local), Ok(()));
        for a in [
            "127.0.0.1:8080",
            "127.9.9.9:8080",
            "[::1]:8080",
            "192.168.1.5:8080",
        ] {
            assert_eq!(rule.check(addr(a), local), Err(Refusal::OwnListener), "{a}");
        }
        assert_eq!(rule.check(addr("192.168.1.6:8080"), local), Ok(()));
    }

    #[test]
    fn this_host_metadata_and_nat64_are_refused_whatever_the_allow_list() {
        let rule = NetworkRule::new(
            &strings(&["0.0.0.0/0", "::/0"]),
            &[],
            vec![addr("127.0.0.1:9090")],
        )
        .unwrap();
        let not_local = |_: IpAddr| false;
        // `0.0.0.0` reaches the loopback listeners (the admin listener's /metrics, say).
        for a in [
            "0.0.0.0:9090",
            "0.1.2.3:80",
            "[::]:9090",
            "[::ffff:0.0.0.0]:9090",
        ] {
            assert_eq!(
                rule.check(addr(a), not_local),
                Err(Refusal::Unspecified),
                "{a}"
            );
        }
        let rule = NetworkRule::default();
        for a in [
            "[fd20:ce::254]:80",
            // NAT64 for 169.254.169.254.
            "[64:ff9b::a9fe:a9fe]:80",
        ] {
            assert_eq!(
                rule.check(addr(a), not_local),
                Err(Refusal::LinkLocalOrMetadata),
                "{a}"
            );
        }
        assert_eq!(rule.check(addr("[64:ff9b::a00:1]:80"), not_local), Ok(()));
    }

    #[test]
    fn endpoint_hosts_and_ports() {
        assert_eq!(
            host_and_port("http://169.254.169.254/latest"),
            Some(("169.254.169.254".into(), 80))
        );
        assert_eq!(
            host_and_port("https://[fe80::1]:8443/x"),
            Some(("fe80::1".into(), 8443))
        );
        assert_eq!(
            host_and_port("https://api.example.com"),
            Some(("api.example.com".into(), 443))
        );
        assert_eq!(host_and_port("ftp://x"), None);
        assert_eq!(host_and_port("http://example.com:526011/"), None);
        assert_eq!(host_and_port("http://example.com:/"), None);
    }

    #[test]
    fn bad_entries_are_named() {
        let e = NetworkRule::new(&[], &strings(&["10.0.0.0/99"]), Vec::new()).unwrap_err();
        assert!(e.starts_with("TOLLGATE_GATEWAY_DENY_NETWORKS"), "{e}");
    }
}
