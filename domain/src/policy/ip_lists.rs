//! IP Allowlist and IP Blocklist, the two policies that share one configuration ([`IpList`]):
//! their catalogue entries, validation, description, failures, the parsed entries
//! ([`IpMatcher`]), the address to check ([`client_ip`]) and the compiled rule ([`IpRule`]).

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

use serde::{Deserialize, Serialize};

use super::check::{Errors, blank_to_none, item};
use super::describe::list;
use super::failure::{FailureCode, FailureType, PolicyFailure};
use super::{Category, Definition};
use crate::FieldError;

/// IP Allowlist's catalogue entry.
pub(super) const ALLOWLIST_DEFINITION: Definition = Definition {
    id: "ip-allowlist",
    name: "IP Allowlist",
    category: Category::Security,
    summary: "Only lets requests through from the listed IP addresses, CIDR blocks and ranges.",
};

/// IP Blocklist's catalogue entry.
pub(super) const BLOCKLIST_DEFINITION: Definition = Definition {
    id: "ip-blocklist",
    name: "IP Blocklist",
    category: Category::Security,
    summary: "Refuses requests from the listed IP addresses, CIDR blocks and ranges.",
};

/// IP Allowlist's failure codes.
pub(super) const ALLOWLIST_FAILURES: &[FailureCode] = &[FailureCode::IpNotAllowed];
/// IP Blocklist's failure codes.
pub(super) const BLOCKLIST_FAILURES: &[FailureCode] = &[FailureCode::IpBlocked];

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

/// "any address" or the listed entries.
fn ips(c: &IpList) -> String {
    if c.ips.iter().any(|ip| ip.trim() == "*") {
        "any address".to_owned()
    } else {
        list(c.ips.iter().map(|ip| ip.trim()))
    }
}

/// "Only requests from 10.0.0.0/8, 192.168.1.1 are allowed".
pub(super) fn describe_allowlist(c: &IpList) -> String {
    format!("Only requests from {} are allowed", ips(c))
}

/// "Requests from 1.2.3.4 are refused".
pub(super) fn describe_blocklist(c: &IpList) -> String {
    format!("Requests from {} are refused", ips(c))
}

/// One entry: any address, or an inclusive range of one family (single addresses and CIDR
/// blocks are ranges too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Any,
    V4(u32, u32),
    V6(u128, u128),
}

impl Entry {
    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Entry::Any, _) => true,
            (Entry::V4(lo, hi), IpAddr::V4(a)) => (lo..=hi).contains(&u32::from(a)),
            (Entry::V6(lo, hi), IpAddr::V6(a)) => (lo..=hi).contains(&u128::from(a)),
            _ => false,
        }
    }
}

/// A parsed list of IP entries: single addresses (v4 or v6), CIDR blocks (`10.0.0.0/8`,
/// `2001:db8::/32`), ranges `a-b` (same family, `a <= b`) and `*` (any). IPv4-mapped IPv6
/// addresses (`::ffff:1.2.3.4`) match their IPv4 form and the other way round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpMatcher {
    entries: Vec<Entry>,
}

impl IpMatcher {
    /// [`IpMatcher::parse`] for a list from the operator's configuration: the problems in one
    /// line that starts with the setting's `name` (`TOLLGATE_TRUSTED_PROXIES: …`).
    pub fn parse_setting(name: &str, entries: &[String]) -> Result<IpMatcher, String> {
        IpMatcher::parse(entries).map_err(|errors| {
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            format!("{name}: {}", messages.join(" "))
        })
    }

    /// Parses every entry; problems are reported on field `ips[i]`. An empty list matches
    /// nothing.
    pub fn parse(entries: &[String]) -> Result<IpMatcher, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match parse_entry(entry.trim()) {
                Ok(e) => parsed.push(e),
                Err(message) => errors.push(FieldError::new(item("ips", i), message)),
            }
        }
        if errors.is_empty() {
            Ok(IpMatcher { entries: parsed })
        } else {
            Err(errors)
        }
    }

    /// Whether `ip` is covered by an entry.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.entries
            .iter()
            .any(|e| e.contains(ip) || e.contains(canonical))
    }
}

fn parse_entry(s: &str) -> Result<Entry, String> {
    if s == "*" {
        return Ok(Entry::Any);
    }
    if s.is_empty() {
        return Err("Enter an IP address, a CIDR block or a range.".to_owned());
    }
    let not_an_ip = || format!("'{s}' is not an IP address, a CIDR block or a range.");
    let addr = |a: &str| a.trim().parse::<IpAddr>().map_err(|_| not_an_ip());
    if let Some((base, len)) = s.split_once('/') {
        let len: u32 = len.trim().parse().map_err(|_| not_an_ip())?;
        return match addr(base)? {
            IpAddr::V4(a) if len <= 32 => {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                let lo = u32::from(a) & mask;
                Ok(Entry::V4(lo, lo | !mask))
            }
            IpAddr::V6(a) if len <= 128 => {
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                let lo = u128::from(a) & mask;
                Ok(Entry::V6(lo, lo | !mask))
            }
            IpAddr::V4(_) => Err(format!("'{s}': an IPv4 block is at most /32.")),
            IpAddr::V6(_) => Err(format!("'{s}': an IPv6 block is at most /128.")),
        };
    }
    let (first, last) = match s.split_once('-') {
        Some((a, b)) => (addr(a)?.to_canonical(), addr(b)?.to_canonical()),
        None => {
            let a = addr(s)?.to_canonical();
            (a, a)
        }
    };
    let entry = match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Entry::V4(u32::from(a), u32::from(b)),
        (IpAddr::V6(a), IpAddr::V6(b)) => Entry::V6(u128::from(a), u128::from(b)),
        _ => return Err(format!("'{s}' mixes IPv4 and IPv6 addresses.")),
    };
    match entry {
        Entry::V4(a, b) if a > b => Err(format!("'{s}' starts after it ends.")),
        Entry::V6(a, b) if a > b => Err(format!("'{s}' starts after it ends.")),
        _ => Ok(entry),
    }
}

/// The IP address a policy checks: the last entry of the last `ip_header` header line (e.g.
/// `X-Forwarded-For: 1.2.3.4, 10.0.0.1` gives 10.0.0.1) when configured and readable as an
/// address (a port is ignored), else the peer address.
///
/// The last entry is the address the proxy in front of the gateway saw; earlier entries, and
/// earlier lines of the same header, come from the caller and could be forged to pass an
/// allowlist or dodge a blocklist. Configure the header only when such a proxy sets it.
pub fn client_ip(ip_header: Option<&str>, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    blank_to_none(ip_header)
        .and_then(|name| headers.get_all(name.trim()).iter().next_back())
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|first| {
            let first = first.trim();
            first
                .parse::<IpAddr>()
                .ok()
                .or_else(|| first.parse::<SocketAddr>().ok().map(|a| a.ip()))
        })
        .unwrap_or(peer)
}

/// A compiled IP Allowlist or IP Blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRule {
    matcher: IpMatcher,
    response_code: u16,
    ip_header: Option<String>,
}

impl IpRule {
    /// IP Allowlist: refuses a request whose [`client_ip`] is not on the list
    /// ([`FailureCode::IpNotAllowed`]).
    pub fn allow(&self, headers: &HeaderMap, peer: IpAddr) -> Result<(), PolicyFailure> {
        let ip = client_ip(self.ip_header.as_deref(), headers, peer);
        allowlist_check(&self.matcher, self.response_code, ip)
    }

    /// IP Blocklist: refuses a request whose [`client_ip`] is on the list
    /// ([`FailureCode::IpBlocked`]).
    pub fn block(&self, headers: &HeaderMap, peer: IpAddr) -> Result<(), PolicyFailure> {
        let ip = client_ip(self.ip_header.as_deref(), headers, peer);
        blocklist_check(&self.matcher, self.response_code, ip)
    }
}

/// Compiles an IP list (either kind), or records its problems.
pub(super) fn compile(list: &IpList, errs: &mut Errors) -> Option<IpRule> {
    errs.ensure(
        !list.ips.is_empty(),
        "ips",
        "Enter at least one IP address, CIDR block or range.",
    );
    let matcher = IpMatcher::parse(&list.ips).map_err(|e| errs.extend(e)).ok();
    errs.ensure(
        matches!(list.response_code, 403 | 404 | 500),
        "responseCode",
        "Choose a response code of 403, 404 or 500.",
    );
    let header = errs
        .optional_header_name("ipHeader", list.ip_header.as_deref())
        .ok()?;
    Some(IpRule {
        matcher: matcher?,
        response_code: list.response_code,
        ip_header: header.map(|h| h.to_string()),
    })
}

/// Refuses an allowlisted API's request from an address not on the list
/// ([`FailureCode::IpNotAllowed`]).
fn allowlist_check(
    matcher: &IpMatcher,
    response_code: u16,
    ip: IpAddr,
) -> Result<(), PolicyFailure> {
    if matcher.matches(ip) {
        Ok(())
    } else {
        Err(PolicyFailure::new(
            FailureCode::IpNotAllowed,
            FailureType::Authorization,
            "Your IP address is not allowed.",
        )
        .with_status(response_code))
    }
}

/// Refuses a request from a blocklisted address ([`FailureCode::IpBlocked`]).
fn blocklist_check(
    matcher: &IpMatcher,
    response_code: u16,
    ip: IpAddr,
) -> Result<(), PolicyFailure> {
    if matcher.matches(ip) {
        Err(PolicyFailure::new(
            FailureCode::IpBlocked,
            FailureType::Authorization,
            "Your IP address is blocked.",
        )
        .with_status(response_code))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(entries: &[&str]) -> IpMatcher {
        let entries: Vec<String> = entries.iter().map(|s| (*s).to_owned()).collect();
        IpMatcher::parse(&entries).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn matching_table() {
        // (entries, address, matches)
        let cases: &[(&[&str], &str, bool)] = &[
            (&["1.2.3.4"], "1.2.3.4", true),
            (&["1.2.3.4"], "1.2.3.5", false),
            (&["2001:db8::1"], "2001:db8::1", true),
            (&["2001:db8::1"], "2001:db8::2", false),
            (&["10.0.0.0/8"], "10.255.255.255", true),
            (&["10.0.0.0/8"], "11.0.0.0", false),
            (&["10.1.2.3/8"], "10.9.9.9", true),
            (&["0.0.0.0/0"], "203.0.113.9", true),
            (&["0.0.0.0/0"], "::1", false),
            (&["1.2.3.4/32"], "1.2.3.4", true),
            (&["1.2.3.4/32"], "1.2.3.5", false),
            (&["2001:db8::/32"], "2001:db8:ffff::1", true),
            (&["2001:db8::/32"], "2001:db9::1", false),
            (&["::1/128"], "::1", true),
            (&["::1/128"], "::2", false),
            (&["::/0"], "2001:db8::1", true),
            (&["1.2.3.4-1.2.3.9"], "1.2.3.9", true),
            (&["1.2.3.4-1.2.3.9"], "1.2.3.10", false),
            (&["1.2.3.4 - 1.2.4.0"], "1.2.3.200", true),
            (&["2001:db8::1-2001:db8::ff"], "2001:db8::80", true),
            (&["*"], "8.8.8.8", true),
            (&["*"], "::1", true),
            (&["1.2.3.4"], "::ffff:1.2.3.4", true),
            (&["::ffff:1.2.3.4"], "1.2.3.4", true),
            (&["10.0.0.0/8"], "::ffff:10.0.0.1", true),
            (&["::ffff:0:0/96"], "::ffff:10.0.0.1", true),
            (&["1.1.1.1", "2.2.2.2"], "2.2.2.2", true),
            (&[], "1.1.1.1", false),
        ];
        for (entries, addr, expected) in cases {
            assert_eq!(
                matcher(entries).matches(ip(addr)),
                *expected,
                "{entries:?} {addr}"
            );
        }
    }

    #[test]
    fn bad_entries_are_refused_with_their_index() {
        let cases = [
            (
                "10.0.0.300",
                "'10.0.0.300' is not an IP address, a CIDR block or a range.",
            ),
            (
                "garbage",
                "'garbage' is not an IP address, a CIDR block or a range.",
            ),
            (
                "10.0.0.0/33",
                "'10.0.0.0/33': an IPv4 block is at most /32.",
            ),
            ("::/129", "'::/129': an IPv6 block is at most /128."),
            (
                "10.0.0.0/x",
                "'10.0.0.0/x' is not an IP address, a CIDR block or a range.",
            ),
            ("1.2.3.9-1.2.3.4", "'1.2.3.9-1.2.3.4' starts after it ends."),
            (
                "1.2.3.4-::1",
                "'1.2.3.4-::1' mixes IPv4 and IPv6 addresses.",
            ),
            (
                "1.2.3.4-",
                "'1.2.3.4-' is not an IP address, a CIDR block or a range.",
            ),
            ("", "Enter an IP address, a CIDR block or a range."),
        ];
        for (entry, message) in cases {
            let entries = vec!["1.1.1.1".to_owned(), entry.to_owned()];
            let errors = IpMatcher::parse(&entries).unwrap_err();
            assert_eq!(errors, [FieldError::new("ips[1]", message)], "{entry}");
        }
    }

    #[test]
    fn client_ip_from_header_or_peer() {
        let peer = ip("192.0.2.1");
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 10.0.0.1".parse().unwrap());
        headers.insert("x-real-ip", "[2001:db8::1]:443".parse().unwrap());
        headers.insert("x-bad", "unknown".parse().unwrap());
        // The entry the nearest proxy appended, not what the caller wrote before it.
        assert_eq!(
            client_ip(Some("X-Forwarded-For"), &headers, peer),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(Some("X-Real-IP"), &headers, peer),
            ip("2001:db8::1")
        );
        assert_eq!(client_ip(Some("X-Bad"), &headers, peer), peer);
        assert_eq!(client_ip(Some("X-Missing"), &headers, peer), peer);
        assert_eq!(client_ip(None, &headers, peer), peer);
        assert_eq!(client_ip(Some(""), &headers, peer), peer);
    }

    #[test]
    fn client_ip_from_the_last_line_of_a_repeated_header() {
        let peer = ip("192.0.2.1");
        let mut headers = HeaderMap::new();
        // The caller's own line first, then the one the proxy in front added.
        headers.append("x-forwarded-for", "10.0.0.7".parse().unwrap());
        headers.append("x-forwarded-for", "1.2.3.4, 203.0.113.5".parse().unwrap());
        assert_eq!(
            client_ip(Some("X-Forwarded-For"), &headers, peer),
            ip("203.0.113.5")
        );
        // An unreadable last line falls back to the peer, never to an earlier line.
        headers.append("x-forwarded-for", "unknown".parse().unwrap());
        assert_eq!(client_ip(Some("X-Forwarded-For"), &headers, peer), peer);
    }

    #[test]
    fn list_checks() {
        let m = matcher(&["10.0.0.0/8"]);
        assert!(allowlist_check(&m, 403, ip("10.1.1.1")).is_ok());
        let refused = allowlist_check(&m, 404, ip("8.8.8.8")).unwrap_err();
        assert_eq!((refused.status, refused.code.number()), (404, 10001));
        assert_eq!(refused.failure_type, FailureType::Authorization);
        assert_eq!(refused.message, "Your IP address is not allowed.");
        assert!(blocklist_check(&m, 403, ip("8.8.8.8")).is_ok());
        let blocked = blocklist_check(&m, 500, ip("10.0.0.1")).unwrap_err();
        assert_eq!((blocked.status, blocked.code.number()), (500, 10002));
    }
}
