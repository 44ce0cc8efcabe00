//! The gateway's bounds: how large a request body may be ([`check_request_body_limit`]),
//! which request paths it refuses ([`path_refusal`]), and which addresses it never connects to
//! ([`NetworkRule`]).

use std::net::{IpAddr, SocketAddr};

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
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_owned(), uri.port_u16().unwrap_or(default)))
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
    }

    #[test]
    fn bad_entries_are_named() {
        let e = NetworkRule::new(&[], &strings(&["10.0.0.0/99"]), Vec::new()).unwrap_err();
        assert!(e.starts_with("TOLLGATE_GATEWAY_DENY_NETWORKS"), "{e}");
    }
}
