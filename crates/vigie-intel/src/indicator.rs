//! Indicators: what a feed says to look for, with the metadata a detection carries.
//!
//! An [`Indicator`] is either typed values ([`IndicatorBody::Value`], `AnyOf`, compiled
//! into the typed indexes of [`crate::index`]) or a STIX pattern that is not a plain OR
//! of equalities ([`IndicatorBody::Pattern`], evaluated by the detection).
//!
//! Contracts:
//! - [`Indicator::id`] is stable across runs and machines: the STIX `id`, the MISP
//!   attribute `uuid`, or for list and CSV entries `ioc--` + the first 32 hex digits of
//!   SHA-256 over `<file name>\0<type>\0<normalised value>` (the file name without its
//!   directory, so a list moved elsewhere keeps its ids).
//! - Values in [`IndicatorBody::Value`] and [`IndicatorBody::AnyOf`] are normalised by [`IocType::normalize`]: what
//!   the index stores is exactly that string.
//! - Metadata shared by many indicators (every entry of one plain list) is one
//!   [`IndicatorMeta`] behind an `Arc`: 2 M list entries cost one value and one id each.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The type of an indicator value: which index holds it and which event fields it is
/// matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IocType {
    /// An IPv4 address or network (`192.0.2.1`, `198.51.100.0/24`).
    Ipv4,
    /// An IPv6 address or network (`2001:db8::1`, `2001:db8::/32`).
    Ipv6,
    /// A domain or host name; matches itself and every name below it.
    Domain,
    /// A URL, matched after [`normalize_url`].
    Url,
    Md5,
    Sha1,
    Sha256,
    /// A file name (or path), case-insensitive.
    FileName,
}

impl IocType {
    pub const ALL: [IocType; 8] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Domain,
        IocType::Url,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::FileName,
    ];

    /// The name used in files, on the command line and in JSON (`ipv4`, `file-name`).
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Md5 => "md5",
            IocType::Sha1 => "sha1",
            IocType::Sha256 => "sha256",
            IocType::FileName => "file-name",
        }
    }

    /// The STIX 2.1 object type and property path of a value of this type.
    pub fn stix_path(self) -> (&'static str, &'static str) {
        match self {
            IocType::Ipv4 => ("ipv4-addr", "value"),
            IocType::Ipv6 => ("ipv6-addr", "value"),
            IocType::Domain => ("domain-name", "value"),
            IocType::Url => ("url", "value"),
            IocType::Md5 => ("file", "hashes.MD5"),
            IocType::Sha1 => ("file", "hashes.'SHA-1'"),
            IocType::Sha256 => ("file", "hashes.'SHA-256'"),
            IocType::FileName => ("file", "name"),
        }
    }

    /// Validate and normalise a value of this type: what the index stores and what a
    /// lookup compares with. `Err` says why the value is refused.
    ///
    /// - IPv4/IPv6: an address, or a network in prefix notation (host bits are cleared:
    ///   `10.1.2.3/8` is `10.0.0.0/8`); a `/32` (`/128`) is written as the address.
    /// - domain: lowercased, one trailing dot removed, 1 to 253 characters, labels of 1
    ///   to 63 characters with no whitespace, `/`, `:`, `@` or `*`.
    /// - URL: [`normalize_url`].
    /// - hashes: hexadecimal of the right length (32, 40, 64), lowercased.
    /// - file name: lowercased (Unicode), not empty, no NUL.
    pub fn normalize(self, value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() {
            return Err("empty value".into());
        }
        match self {
            IocType::Ipv4 => normalize_ip(v, false),
            IocType::Ipv6 => normalize_ip(v, true),
            IocType::Domain => normalize_domain(v),
            IocType::Url => normalize_url(v),
            IocType::Md5 => normalize_hex(v, 32, "MD5"),
            IocType::Sha1 => normalize_hex(v, 40, "SHA-1"),
            IocType::Sha256 => normalize_hex(v, 64, "SHA-256"),
            IocType::FileName => {
                if v.contains('\0') {
                    Err("a file name cannot hold NUL".into())
                } else {
                    Ok(v.to_lowercase())
                }
            }
        }
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A type name that is not one of [`IocType`]'s (nor an accepted alias).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown indicator type {0:?} (expected one of ipv4, ipv6, ip, cidr, domain, hostname, url, md5, sha1, sha256, filename)")]
pub struct UnknownType(pub String);

/// A declared type of a list or CSV column: one [`IocType`], or `ip`/`cidr` (IPv4 or
/// IPv6, told apart by each value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclaredType {
    One(IocType),
    /// `ip`, `cidr`: the address family is the value's.
    Ip,
}

impl DeclaredType {
    /// The type of one value: `Ip` picks IPv4 or IPv6 from the value.
    pub fn resolve(self, value: &str) -> IocType {
        match self {
            DeclaredType::One(t) => t,
            DeclaredType::Ip => {
                if value.contains(':') {
                    IocType::Ipv6
                } else {
                    IocType::Ipv4
                }
            }
        }
    }

    /// The name written back (`ip` for [`DeclaredType::Ip`]).
    pub fn as_str(self) -> &'static str {
        match self {
            DeclaredType::One(t) => t.as_str(),
            DeclaredType::Ip => "ip",
        }
    }
}

impl FromStr for DeclaredType {
    type Err = UnknownType;
    /// Case-insensitive; accepts vigie's names and the usual aliases: `ip`, `cidr`,
    /// `ip-src`, `ip-dst` (either family), `ipv4-addr`, `ipv6-addr`, `hostname`,
    /// `domain-name`, `fqdn`, `uri`, `sha-1`, `sha-256`, `filename`, `file_name`,
    /// `file-name`.
    fn from_str(s: &str) -> Result<Self, UnknownType> {
        let t = match s.trim().to_ascii_lowercase().as_str() {
            "ip" | "cidr" | "ip-src" | "ip-dst" | "ip_src" | "ip_dst" | "ip-address" => {
                return Ok(DeclaredType::Ip)
            }
            "ipv4" | "ipv4-addr" | "ip4" => IocType::Ipv4,
            "ipv6" | "ipv6-addr" | "ip6" => IocType::Ipv6,
            "domain" | "domain-name" | "hostname" | "fqdn" | "host" => IocType::Domain,
            "url" | "uri" => IocType::Url,
            "md5" => IocType::Md5,
            "sha1" | "sha-1" => IocType::Sha1,
            "sha256" | "sha-256" => IocType::Sha256,
            "filename" | "file-name" | "file_name" | "file" => IocType::FileName,
            _ => return Err(UnknownType(s.to_string())),
        };
        Ok(DeclaredType::One(t))
    }
}

/// What an indicator looks for.
#[derive(Debug, Clone)]
pub enum IndicatorBody {
    /// One typed value (normalised by [`IocType::normalize`]): every list entry, most
    /// STIX and MISP indicators. (A variant of its own: 2 M list entries save a vector
    /// each.)
    Value(IocType, Box<str>),
    /// Any of these typed values (a STIX `[a] OR [b]`, a MISP `filename|md5`).
    AnyOf(Vec<(IocType, String)>),
    /// A STIX pattern that is not an OR of simple equalities on indexed paths, parsed
    /// (evaluated by the detection).
    Pattern(PatternBody),
}

impl IndicatorBody {
    /// The typed values of a simple body (none for a pattern).
    pub fn values(&self) -> Vec<(IocType, &str)> {
        match self {
            IndicatorBody::Value(t, v) => vec![(*t, &**v)],
            IndicatorBody::AnyOf(vs) => vs.iter().map(|(t, v)| (*t, v.as_str())).collect(),
            IndicatorBody::Pattern(_) => Vec::new(),
        }
    }

    /// Call `f` on each typed value of a simple body, without allocating.
    pub fn for_each_value(&self, mut f: impl FnMut(IocType, &str)) {
        match self {
            IndicatorBody::Value(t, v) => f(*t, v),
            IndicatorBody::AnyOf(vs) => vs.iter().for_each(|(t, v)| f(*t, v)),
            IndicatorBody::Pattern(_) => {}
        }
    }
}

/// A STIX pattern kept for evaluation.
#[derive(Debug, Clone)]
pub struct PatternBody {
    /// The pattern as the indicator wrote it.
    pub text: String,
    /// It parsed (STIX 2.1), ready for [`crate::pattern::Pattern::evaluate`].
    pub pattern: crate::pattern::Pattern,
}

/// Metadata of one indicator, or shared by every entry of one list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorMeta {
    /// STIX `name`, the MISP event's `info`, or the list's file name.
    pub name: String,
    /// 0-100 (STIX `confidence`; none for lists unless a CSV column gives it).
    pub confidence: Option<u8>,
    /// STIX `labels`, MISP tags (galaxy ATT&CK tags become techniques), kill-chain
    /// phases as `attack.<phase>` when the chain is `mitre-attack`.
    pub labels: Vec<String>,
    /// ATT&CK technique ids (`T1059`, `T1059.001`), upper case, sorted, unique.
    pub techniques: Vec<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The file (or feed directory) it was read from.
    pub source: Arc<str>,
}

/// One indicator.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// Stable id (see the module documentation).
    pub id: Box<str>,
    pub meta: Arc<IndicatorMeta>,
    pub what: IndicatorBody,
}

impl Indicator {
    pub fn name(&self) -> &str {
        &self.meta.name
    }
    pub fn confidence(&self) -> Option<u8> {
        self.meta.confidence
    }
    pub fn labels(&self) -> &[String] {
        &self.meta.labels
    }
    pub fn techniques(&self) -> &[String] {
        &self.meta.techniques
    }
    pub fn valid_from(&self) -> Option<DateTime<Utc>> {
        self.meta.valid_from
    }
    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.meta.valid_until
    }
    pub fn source(&self) -> &str {
        &self.meta.source
    }

    /// Whether the indicator is valid at `t`: `valid_from <= t < valid_until` (an absent
    /// bound does not limit).
    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.meta.valid_from.is_none_or(|f| f <= t) && self.meta.valid_until.is_none_or(|u| t < u)
    }

    /// The tags of a detection by this indicator: its labels, then `attack.tXXXX[.YYY]`
    /// for each technique (lowercase, as Sigma writes them).
    pub fn tags(&self) -> Vec<String> {
        let mut t = self.meta.labels.clone();
        t.extend(
            self.meta
                .techniques
                .iter()
                .map(|x| format!("attack.{}", x.to_ascii_lowercase())),
        );
        t
    }
}

/// The stable id of a list or CSV entry (see the module documentation).
pub fn list_entry_id(file_name: &str, ty: IocType, normalized: &str) -> Box<str> {
    list_entry_id_from_digest(&list_entry_digest(file_name, ty, normalized))
}

/// The 16 bytes behind [`list_entry_id`] (what loaders deduplicate on).
pub fn list_entry_digest(file_name: &str, ty: IocType, normalized: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(file_name.as_bytes());
    h.update(b"\0");
    h.update(ty.as_str().as_bytes());
    h.update(b"\0");
    h.update(normalized.as_bytes());
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// `ioc--` + the digest in hexadecimal.
pub fn list_entry_id_from_digest(d: &[u8; 16]) -> Box<str> {
    let mut s = String::with_capacity(5 + 32);
    s.push_str("ioc--");
    for b in d {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s.into_boxed_str()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Indicators read from one or more sources.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    /// In load order; an [`crate::index::IntelIndex`] lookup answers positions in it.
    pub indicators: Vec<Indicator>,
}

impl IndicatorSet {
    pub fn len(&self) -> usize {
        self.indicators.len()
    }
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }
    pub fn get(&self, i: u32) -> Option<&Indicator> {
        self.indicators.get(i as usize)
    }
    /// Append another set (its indicators get the next positions).
    pub fn extend(&mut self, other: IndicatorSet) {
        self.indicators.extend(other.indicators);
    }
    /// The pattern indicators (not in the index), with their positions.
    pub fn patterns(&self) -> impl Iterator<Item = (u32, &Indicator, &PatternBody)> {
        self.indicators
            .iter()
            .enumerate()
            .filter_map(|(i, ind)| match &ind.what {
                IndicatorBody::Pattern(p) => Some((i as u32, ind, p)),
                _ => None,
            })
    }
}

fn normalize_ip(v: &str, v6: bool) -> Result<String, String> {
    let family = if v6 { "IPv6" } else { "IPv4" };
    if let Some((addr, len)) = v.split_once('/') {
        let len: u8 = len
            .parse()
            .map_err(|_| format!("{len:?} is not a prefix length"))?;
        let a: IpAddr = if v6 {
            IpAddr::V6(
                Ipv6Addr::from_str(addr)
                    .map_err(|_| format!("{addr:?} is not an {family} address"))?,
            )
        } else {
            IpAddr::V4(
                Ipv4Addr::from_str(addr)
                    .map_err(|_| format!("{addr:?} is not an {family} address"))?,
            )
        };
        let net = ipnet::IpNet::new(a, len)
            .map_err(|_| format!("prefix length {len} is too long for {family}"))?
            .trunc();
        if net.prefix_len() == net.max_prefix_len() {
            Ok(net.addr().to_string())
        } else {
            Ok(net.to_string())
        }
    } else if v6 {
        Ipv6Addr::from_str(v)
            .map(|a| a.to_string())
            .map_err(|_| format!("{v:?} is not an {family} address"))
    } else {
        Ipv4Addr::from_str(v)
            .map(|a| a.to_string())
            .map_err(|_| format!("{v:?} is not an {family} address"))
    }
}

fn normalize_domain(v: &str) -> Result<String, String> {
    let d = v.strip_suffix('.').unwrap_or(v).to_lowercase();
    if d.is_empty() || d.len() > 253 {
        return Err(format!("{v:?} is not a domain name (length)"));
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "{v:?} is not a domain name (empty or over-long label)"
            ));
        }
        if label.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '@' | '*' | '\\')
        }) {
            return Err(format!("{v:?} is not a domain name (bad character)"));
        }
    }
    Ok(d)
}

fn normalize_hex(v: &str, len: usize, what: &str) -> Result<String, String> {
    if v.len() != len || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{v:?} is not a {what} hash ({len} hexadecimal digits)"
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// Normalise a URL for comparison: the scheme is dropped (`http://x/a` and
/// `https://x/a` are the same indicator; a value without a scheme is a URL too), user
/// information is dropped, the host is lowercased with one trailing dot removed, the
/// ports 80 and 443 are dropped, the fragment is dropped, an empty path becomes `/`.
/// The path and query are kept as written (case-sensitive). The result is
/// `host[:port]/path[?query]`.
pub fn normalize_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let rest = match v.find("://") {
        Some(i)
            if i > 0
                && v[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            &v[i + 3..]
        }
        _ => v,
    };
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        match stripped.split_once(']') {
            Some((h, p)) => (format!("[{}]", h.to_ascii_lowercase()), p.strip_prefix(':')),
            None => return Err(format!("{v:?}: unclosed [ in the host")),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_lowercase(), Some(p)),
            None => (hostport.to_lowercase(), None),
        }
    };
    let host = host.strip_suffix('.').unwrap_or(&host).to_string();
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(format!("{v:?} is not a URL (no host, or a bad host)"));
    }
    let port = match port {
        None | Some("") | Some("80") | Some("443") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 5 => Some(p),
        Some(p) => return Err(format!("{v:?} is not a URL (port {p:?})")),
    };
    let mut out = host;
    if let Some(p) = port {
        out.push(':');
        out.push_str(p);
    }
    if !tail.starts_with('/') {
        out.push('/');
    }
    out.push_str(tail);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(IocType::Ipv4.normalize("10.1.2.3/8").unwrap(), "10.0.0.0/8");
        assert_eq!(IocType::Ipv4.normalize("10.1.2.3/32").unwrap(), "10.1.2.3");
        assert!(IocType::Ipv4.normalize("10.1.2").is_err());
        assert!(IocType::Ipv4.normalize("010.1.2.3").is_err());
        assert_eq!(
            IocType::Ipv6.normalize("2001:DB8::1").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(
            IocType::Domain.normalize("Evil.Example.").unwrap(),
            "evil.example"
        );
        assert!(IocType::Domain.normalize("a..b").is_err());
        assert_eq!(
            IocType::Url
                .normalize("HTTPS://User@Evil.Example:443/A?b#c")
                .unwrap(),
            "evil.example/A?b"
        );
        assert_eq!(
            IocType::Url.normalize("evil.example").unwrap(),
            "evil.example/"
        );
        assert_eq!(
            IocType::Url
                .normalize("http://evil.example:8080?q")
                .unwrap(),
            "evil.example:8080/?q"
        );
        assert!(IocType::Md5.normalize("abc").is_err());
        assert_eq!(
            IocType::Sha1.normalize(&"A".repeat(40)).unwrap(),
            "a".repeat(40)
        );
        assert_eq!(DeclaredType::from_str("IP-DST").unwrap(), DeclaredType::Ip);
        assert_eq!(DeclaredType::Ip.resolve("::1"), IocType::Ipv6);
    }

    #[test]
    fn ids_are_stable() {
        let a = list_entry_id("bad.txt", IocType::Ipv4, "192.0.2.1");
        assert_eq!(a, list_entry_id("bad.txt", IocType::Ipv4, "192.0.2.1"));
        assert_ne!(a, list_entry_id("bad.txt", IocType::Ipv4, "192.0.2.2"));
        assert_eq!(a.len(), 37);
        assert!(a.starts_with("ioc--"));
    }
}
