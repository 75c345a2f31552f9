//! Asset identifiers: the names an asset goes by in logs, how they are normalised, and
//! the index that resolves a name seen in an event to the asset holding it.
//!
//! Contract (shared by the model side and by `vigie-incident`'s entity extraction, so
//! both normalise the same way):
//! - **Hostnames** are case-folded and lose a trailing dot; an FQDN also answers to its
//!   first label (`web01.corp.example` ≡ `WEB01`). A machine account `HOST$` is the host.
//! - **IP addresses** lose IPv4-mapped prefixes (`::ffff:10.0.0.1` ≡ `10.0.0.1`), brackets
//!   and IPv6 zone ids. A CIDR on an asset holds every address in it; when CIDRs overlap
//!   the most specific (longest prefix) wins, an exact address beats any CIDR.
//! - **Accounts** are `DOMAIN\user`, `user@domain` or a bare `user`, case-folded. The
//!   domain compares by its first label (`CORP` ≡ `corp.example`). A bare name is *weak*:
//!   it resolves only when exactly one asset lists that user name.
//! - **SIDs** (`S-1-...`) are upper-cased.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rustc_hash::FxHashMap;

use crate::Model;

/// One parsed identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// A hostname: `fqdn` when it had dots, `short` its first label (both case-folded).
    Host {
        short: String,
        fqdn: Option<String>,
    },
    Ip(IpAddr),
    Cidr(Cidr),
    /// An account; `domain` is the first label of the domain part, case-folded.
    Account {
        domain: Option<String>,
        user: String,
    },
    Sid(String),
}

/// An IP network: address with the host bits cleared, and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub network: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` (normalised, same family) is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => mask_v4(a, self.prefix) == n,
            (IpAddr::V6(n), IpAddr::V6(a)) => mask_v6(a, self.prefix) == n,
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl std::fmt::Display for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identifier::Host { short, fqdn } => f.write_str(fqdn.as_deref().unwrap_or(short)),
            Identifier::Ip(ip) => write!(f, "{ip}"),
            Identifier::Cidr(c) => write!(f, "{c}"),
            Identifier::Account {
                domain: Some(d),
                user,
            } => write!(f, "{d}\\{user}"),
            Identifier::Account { domain: None, user } => f.write_str(user),
            Identifier::Sid(s) => f.write_str(s),
        }
    }
}

/// Why an identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("empty identifier")]
    Empty,
    #[error("malformed IP address or CIDR {0:?}")]
    BadAddress(String),
    #[error("CIDR prefix /{prefix} is longer than the address ({max} bits) in {text:?}")]
    BadPrefix { text: String, prefix: u32, max: u32 },
    #[error("malformed SID {0:?} (expected S-1-<authority>-<sub>...)")]
    BadSid(String),
    #[error("malformed account {0:?} (expected DOMAIN\\user, user@domain or user)")]
    BadAccount(String),
    #[error("malformed hostname {0:?}")]
    BadHost(String),
}

/// Parses one identifier as written in a model. The form decides the kind: a SID starts
/// with `S-1-`; an address or CIDR parses as one (a string of digits, dots, colons and a
/// slash that does not is malformed, not a hostname); `\` or `@` make an account; a name
/// ending in `$` is a machine account, i.e. the host; anything else is a hostname.
/// Bare user names are written `user:NAME` in a model (a bare word is a hostname).
pub fn parse_identifier(text: &str) -> Result<Identifier, IdentifierError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if t.len() > 2 && t[..2].eq_ignore_ascii_case("s-") {
        return parse_sid(t)
            .map(Identifier::Sid)
            .ok_or_else(|| IdentifierError::BadSid(t.to_string()));
    }
    if looks_like_address(t) {
        return parse_address(t);
    }
    if let Some(user) = t.strip_prefix("user:") {
        return account(None, user).ok_or_else(|| IdentifierError::BadAccount(t.to_string()));
    }
    if t.contains('\\') || t.contains('@') {
        return parse_account(t).ok_or_else(|| IdentifierError::BadAccount(t.to_string()));
    }
    host(t).ok_or_else(|| IdentifierError::BadHost(t.to_string()))
}

fn looks_like_address(t: &str) -> bool {
    let addr = t.split('/').next().unwrap_or(t);
    (addr.contains(':') || addr.bytes().filter(|b| *b == b'.').count() == 3)
        && t.bytes()
            .all(|b| b.is_ascii_hexdigit() || b"./:[]%".contains(&b))
        || addr.parse::<IpAddr>().is_ok()
}

fn parse_address(t: &str) -> Result<Identifier, IdentifierError> {
    let bad = || IdentifierError::BadAddress(t.to_string());
    match t.split_once('/') {
        None => normalize_ip(t).map(Identifier::Ip).ok_or_else(bad),
        Some((addr, len)) => {
            let ip = normalize_ip(addr).ok_or_else(bad)?;
            let prefix: u32 = len.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if prefix > max {
                return Err(IdentifierError::BadPrefix {
                    text: t.to_string(),
                    prefix,
                    max,
                });
            }
            let prefix = prefix as u8;
            let network = match ip {
                IpAddr::V4(a) => IpAddr::V4(mask_v4(a, prefix)),
                IpAddr::V6(a) => IpAddr::V6(mask_v6(a, prefix)),
            };
            Ok(Identifier::Cidr(Cidr { network, prefix }))
        }
    }
}

fn mask_v4(a: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let bits = u32::from(a);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    Ipv4Addr::from(bits & mask)
}

fn mask_v6(a: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    };
    Ipv6Addr::from(bits & mask)
}

/// An IP address as events write it, normalised: brackets, an IPv6 zone id and an
/// IPv4-mapped prefix removed. `None` when it is not an address.
pub fn normalize_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    let t = t.split('%').next().unwrap_or(t);
    match t.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }),
        v4 => Some(v4),
    }
}

/// A hostname as events write it, normalised: `(short, fqdn)`, case-folded, trailing dot
/// and a machine account's `$` removed. `None` for what cannot be a hostname (empty,
/// spaces, slashes, an address).
pub fn host(text: &str) -> Option<Identifier> {
    let t = text.trim().trim_end_matches('.');
    let t = t.strip_suffix('$').unwrap_or(t);
    if t.is_empty()
        || t.len() > 253
        || normalize_ip(t).is_some()
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    match lower.split_once('.') {
        Some((short, _)) if !short.is_empty() => Some(Identifier::Host {
            short: short.to_string(),
            fqdn: Some(lower.clone()),
        }),
        Some(_) => None,
        None => Some(Identifier::Host {
            short: lower,
            fqdn: None,
        }),
    }
}

/// An account written `DOMAIN\user`, `user@domain` or `user`, normalised. A name ending in
/// `$` is a machine account: it comes back as the host ([`Identifier::Host`]).
pub fn parse_account(text: &str) -> Option<Identifier> {
    let t = text.trim();
    if let Some((d, u)) = t.split_once('\\') {
        return account(Some(d), u);
    }
    if let Some((u, d)) = t.rsplit_once('@') {
        return account(Some(d), u);
    }
    account(None, t)
}

/// An account from separate user and domain fields (`TargetUserName` +
/// `TargetDomainName`), normalised like [`parse_account`].
pub fn account(domain: Option<&str>, user: &str) -> Option<Identifier> {
    let user = user.trim();
    if user.is_empty() || user.contains(['\\', '@', '/']) || user.chars().any(char::is_control) {
        return None;
    }
    if user.ends_with('$') {
        return host(user);
    }
    let domain = domain
        .map(str::trim)
        .filter(|d| !d.is_empty() && *d != "-")
        .map(|d| d.split('.').next().unwrap_or(d).to_lowercase());
    Some(Identifier::Account {
        domain,
        user: user.to_lowercase(),
    })
}

fn parse_sid(t: &str) -> Option<String> {
    let up = t.to_ascii_uppercase();
    let mut parts = up.split('-');
    if parts.next() != Some("S") || parts.next() != Some("1") {
        return None;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty()
        || rest
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(up)
}

/// A SID as events write it, upper-cased; `None` when malformed.
pub fn normalize_sid(text: &str) -> Option<String> {
    parse_sid(text.trim())
}

/// Resolves names seen in events to asset ids. Built once per model.
#[derive(Debug, Default)]
pub struct IdentityIndex {
    hosts_fqdn: FxHashMap<String, u32>,
    hosts_short: FxHashMap<String, u32>,
    ips: FxHashMap<IpAddr, u32>,
    /// By prefix length, longest first; each a map network → asset.
    cidrs: BTreeMap<std::cmp::Reverse<u8>, FxHashMap<IpAddr, u32>>,
    accounts: FxHashMap<(String, String), u32>,
    /// User name → assets listing it (any domain); a bare name resolves when unique.
    users: FxHashMap<String, Vec<u32>>,
    sids: FxHashMap<String, u32>,
    ids: Vec<String>,
}

/// What one asset identifier clashed with, when the index was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub identifier: String,
    /// The asset that listed it first (and keeps it).
    pub first: String,
    pub second: String,
}

impl IdentityIndex {
    /// Indexes every parseable identifier of `model`'s assets. Malformed identifiers are
    /// skipped here (validation reports them); an identifier on two assets stays with
    /// the first and is returned as a [`Clash`]. Overlapping CIDRs are not clashes.
    pub fn build(model: &Model) -> (IdentityIndex, Vec<Clash>) {
        let mut ix = IdentityIndex::default();
        let mut clashes = Vec::new();
        for (n, asset) in model.assets.iter().enumerate() {
            let n = n as u32;
            ix.ids.push(asset.id.clone());
            for text in &asset.identifiers {
                let Ok(id) = parse_identifier(text) else {
                    continue;
                };
                if let Some(first) = ix.insert(&id, n) {
                    if first != n {
                        clashes.push(Clash {
                            identifier: text.clone(),
                            first: model.assets[first as usize].id.clone(),
                            second: asset.id.clone(),
                        });
                    }
                }
            }
        }
        (ix, clashes)
    }

    /// Inserts; returns the asset already holding it, if any (left in place).
    fn insert(&mut self, id: &Identifier, n: u32) -> Option<u32> {
        fn put<K: std::hash::Hash + Eq>(m: &mut FxHashMap<K, u32>, k: K, n: u32) -> Option<u32> {
            match m.entry(k) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(n);
                    None
                }
            }
        }
        match id {
            Identifier::Host { short, fqdn } => {
                let by_fqdn = fqdn
                    .as_ref()
                    .and_then(|f| put(&mut self.hosts_fqdn, f.clone(), n));
                // Two FQDNs may share a short name (web01.a, web01.b): the short name then
                // stays with the first, and only FQDNs tell them apart; not a clash.
                let by_short = put(&mut self.hosts_short, short.clone(), n);
                match fqdn {
                    Some(_) => by_fqdn,
                    None => by_short,
                }
            }
            Identifier::Ip(ip) => put(&mut self.ips, *ip, n),
            Identifier::Cidr(c) => put(
                self.cidrs.entry(std::cmp::Reverse(c.prefix)).or_default(),
                c.network,
                n,
            ),
            Identifier::Account { domain, user } => {
                let users = self.users.entry(user.clone()).or_default();
                if !users.contains(&n) {
                    users.push(n);
                }
                put(
                    &mut self.accounts,
                    (domain.clone().unwrap_or_default(), user.clone()),
                    n,
                )
            }
            Identifier::Sid(s) => put(&mut self.sids, s.clone(), n),
        }
    }

    fn id(&self, n: u32) -> &str {
        &self.ids[n as usize]
    }

    /// The asset named by `id` (an identifier as [`parse_identifier`] or the event-side
    /// normalisers give it), or `None`.
    pub fn resolve(&self, id: &Identifier) -> Option<&str> {
        let n = match id {
            Identifier::Host { short, fqdn } => fqdn
                .as_ref()
                .and_then(|f| self.hosts_fqdn.get(f))
                .or_else(|| self.hosts_short.get(short))
                .copied(),
            Identifier::Ip(ip) => self.ip_node(*ip),
            Identifier::Cidr(c) => self
                .cidrs
                .get(&std::cmp::Reverse(c.prefix))
                .and_then(|m| m.get(&c.network))
                .copied(),
            Identifier::Account { domain, user } => match domain {
                Some(d) => self
                    .accounts
                    .get(&(d.clone(), user.clone()))
                    .or_else(|| self.accounts.get(&(String::new(), user.clone())))
                    .copied(),
                None => self
                    .accounts
                    .get(&(String::new(), user.clone()))
                    .copied()
                    .or_else(|| match self.users.get(user).map(Vec::as_slice) {
                        Some([only]) => Some(*only),
                        _ => None,
                    }),
            },
            Identifier::Sid(s) => self.sids.get(s).copied(),
        };
        n.map(|n| self.id(n))
    }

    fn ip_node(&self, ip: IpAddr) -> Option<u32> {
        if let Some(n) = self.ips.get(&ip) {
            return Some(*n);
        }
        self.cidrs
            .iter()
            .find_map(|(std::cmp::Reverse(prefix), nets)| {
                let net = match ip {
                    IpAddr::V4(_) if *prefix > 32 => return None,
                    IpAddr::V4(a) => IpAddr::V4(mask_v4(a, *prefix)),
                    IpAddr::V6(a) => IpAddr::V6(mask_v6(a, *prefix)),
                };
                nets.get(&net).copied()
            })
    }

    /// Whether no identifier at all was indexed (a model without identifiers).
    pub fn is_empty(&self) -> bool {
        self.hosts_short.is_empty()
            && self.ips.is_empty()
            && self.cidrs.is_empty()
            && self.accounts.is_empty()
            && self.sids.is_empty()
    }
}
