//! Asset identifiers: the names an asset goes by in logs, how they are normalised, and
//! the index that resolves a name seen in an event to the asset holding it.
//!
//! Contract (shared by the model side and by `vigie-incident`'s entity extraction, so
//! both normalise the same way; `docs/model.md` documents it for users):
//! - **Hostnames** are case-folded and lose one trailing dot; an FQDN also answers to its
//!   first label (`web01.corp.example` ≡ `WEB01`) unless two assets' FQDNs share that
//!   label (then the short name is ambiguous and resolves to nothing). A short name
//!   listed on its own is explicit: it beats short names derived from FQDNs, and an
//!   event's FQDN that no asset lists still resolves through it. A machine account
//!   `HOST$` is the host.
//! - **IP addresses** lose IPv4-mapped prefixes (`::ffff:10.0.0.1` ≡ `10.0.0.1`), brackets
//!   and IPv6 zone ids. A CIDR on an asset holds every address in it; when CIDRs overlap
//!   the most specific (longest prefix) wins, an exact address beats any CIDR.
//! - **Accounts** are `DOMAIN\user`, `user@domain` or a bare `user`, case-folded. The
//!   domain compares by its first label (`CORP` ≡ `corp.example`). A bare name is *weak*:
//!   it resolves only when exactly one asset lists that user name (in any domain). In a
//!   model a bare account is written `user:NAME` (a bare word is a hostname); listed so,
//!   it also answers to `ANY\NAME`.
//! - **SIDs** (`S-1-...`) are upper-cased, numbers without leading zeros.
//!
//! The index answers in constant time per identifier kind; an address costs one hash
//! lookup per distinct CIDR prefix length present in the model (at most 33 for IPv4, 129
//! for IPv6, a handful in practice), whatever the number of assets.

use std::fmt::Write as _;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rustc_hash::FxHashMap;
use serde::Serialize;

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

/// The kinds of identifiers (for counts and reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    Host,
    Ip,
    Cidr,
    Account,
    Sid,
}

impl IdentifierKind {
    /// All kinds, in declaration order.
    pub const ALL: [IdentifierKind; 5] = [
        IdentifierKind::Host,
        IdentifierKind::Ip,
        IdentifierKind::Cidr,
        IdentifierKind::Account,
        IdentifierKind::Sid,
    ];

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Host => "host",
            IdentifierKind::Ip => "ip",
            IdentifierKind::Cidr => "cidr",
            IdentifierKind::Account => "account",
            IdentifierKind::Sid => "sid",
        }
    }
}

impl Identifier {
    /// What kind of identifier this is.
    pub fn kind(&self) -> IdentifierKind {
        match self {
            Identifier::Host { .. } => IdentifierKind::Host,
            Identifier::Ip(_) => IdentifierKind::Ip,
            Identifier::Cidr(_) => IdentifierKind::Cidr,
            Identifier::Account { .. } => IdentifierKind::Account,
            Identifier::Sid(_) => IdentifierKind::Sid,
        }
    }

    /// A bare account name (no domain): it links, but is too weak to mark an asset
    /// compromised on its own.
    pub fn is_weak(&self) -> bool {
        matches!(self, Identifier::Account { domain: None, .. })
    }
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
    #[error("malformed account {0:?} (expected DOMAIN\\user, user@domain or user:NAME)")]
    BadAccount(String),
    #[error("malformed hostname {0:?} (letters, digits, `-`, `_`, dot-separated labels)")]
    BadHost(String),
}

/// Parses one identifier as written in a model. The form decides the kind, in this order:
/// `user:NAME` is a bare account; `\` or `@` make an account (`HOST$` after the
/// separator is the host); a SID starts with `S-1-` (or is `S-`, digits and dashes);
/// brackets, a colon, a slash or a dotted string of digits make an address or CIDR
/// (malformed if it does not parse, not a hostname); anything else is a hostname, `HOST$`
/// included.
pub fn parse_identifier(text: &str) -> Result<Identifier, IdentifierError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(IdentifierError::Empty);
    }
    let b = t.as_bytes();
    if b.len() >= 5 && b[..5].eq_ignore_ascii_case(b"user:") {
        return account(None, &t[5..]).ok_or_else(|| IdentifierError::BadAccount(t.to_string()));
    }
    if t.contains(['\\', '@']) {
        return parse_account(t).ok_or_else(|| IdentifierError::BadAccount(t.to_string()));
    }
    // `S-1-...`, or `S-` digits and dashes (a SID with a wrong revision); `s-0$` is a host.
    let sid_like = b.len() >= 3
        && b[0].eq_ignore_ascii_case(&b'S')
        && b[1] == b'-'
        && b[2].is_ascii_digit()
        && (b[2..].starts_with(b"1-") || b[2..].iter().all(|c| c.is_ascii_digit() || *c == b'-'));
    if sid_like {
        return parse_sid(t)
            .map(Identifier::Sid)
            .ok_or_else(|| IdentifierError::BadSid(t.to_string()));
    }
    if looks_like_address(t) {
        return parse_address(t);
    }
    host(t).ok_or_else(|| IdentifierError::BadHost(t.to_string()))
}

/// Whether `t` is meant as an address: hostnames never hold `[`, `:` or `/`, and a name
/// made of digits and dots only is an IPv4 address (maybe mistyped), not a host.
fn looks_like_address(t: &str) -> bool {
    t.contains(['[', ':', '/'])
        || (t.contains('.') && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

fn parse_address(t: &str) -> Result<Identifier, IdentifierError> {
    let bad = || IdentifierError::BadAddress(t.to_string());
    let Some((addr, len)) = t.rsplit_once('/') else {
        return normalize_ip(t).map(Identifier::Ip).ok_or_else(bad);
    };
    let (ip, mapped) = ip_and_mapped(addr).ok_or_else(bad)?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut prefix: u32 = len.parse().map_err(|_| bad())?;
    let max = if mapped {
        128
    } else if ip.is_ipv4() {
        32
    } else {
        128
    };
    if prefix > max {
        return Err(IdentifierError::BadPrefix {
            text: t.to_string(),
            prefix,
            max,
        });
    }
    if mapped {
        // `::ffff:10.0.0.0/120` is `10.0.0.0/24`; shorter would cover non-mapped space.
        prefix = prefix.checked_sub(96).ok_or_else(bad)?;
    }
    let prefix = prefix as u8;
    let network = match ip {
        IpAddr::V4(a) => IpAddr::V4(mask_v4(a, prefix)),
        IpAddr::V6(a) => IpAddr::V6(mask_v6(a, prefix)),
    };
    Ok(Identifier::Cidr(Cidr { network, prefix }))
}

/// Whether the text of a CIDR written in a model sets bits past its prefix
/// (`10.0.0.1/24`, which means `10.0.0.0/24`): probably a typo, worth a warning.
pub fn cidr_has_host_bits(text: &str, cidr: &Cidr) -> bool {
    let addr = text.trim().rsplit_once('/').map_or(text, |(a, _)| a);
    normalize_ip(addr).is_some_and(|ip| ip != cidr.network)
}

fn mask_v4(a: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a).mask(prefix))
}

fn mask_v6(a: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(a).mask(prefix))
}

/// An address's bits: what a CIDR table keys on.
trait Bits: Copy + Eq + Hash {
    fn mask(self, prefix: u8) -> Self;
}

impl Bits for u32 {
    fn mask(self, prefix: u8) -> u32 {
        match prefix {
            0 => 0,
            p if p >= 32 => self,
            p => self & (u32::MAX << (32 - u32::from(p))),
        }
    }
}

impl Bits for u128 {
    fn mask(self, prefix: u8) -> u128 {
        match prefix {
            0 => 0,
            p if p >= 128 => self,
            p => self & (u128::MAX << (128 - u32::from(p))),
        }
    }
}

/// An IP address as events write it, normalised: brackets, an IPv6 zone id and an
/// IPv4-mapped prefix removed. `None` when it is not an address.
pub fn normalize_ip(text: &str) -> Option<IpAddr> {
    ip_and_mapped(text).map(|(ip, _)| ip)
}

/// The normalised address, and whether it was written IPv4-mapped.
fn ip_and_mapped(text: &str) -> Option<(IpAddr, bool)> {
    let t = text.trim();
    let t = match t.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None => t,
    };
    let t = match t.split_once('%') {
        // A zone id only qualifies an IPv6 address, and is never empty.
        Some((addr, zone)) if addr.contains(':') && !zone.is_empty() => addr,
        Some(_) => return None,
        None => t,
    };
    match t.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), true),
            None => (IpAddr::V6(v6), false),
        }),
        v4 => Some((v4, false)),
    }
}

/// A hostname as events write it, normalised: `(short, fqdn)`, case-folded, one trailing
/// dot and a machine account's `$` removed. `None` for what cannot be a hostname (empty,
/// spaces, slashes, an empty or over-long label, an address).
pub fn host(text: &str) -> Option<Identifier> {
    let t = text.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    let t = t.strip_suffix('$').unwrap_or(t);
    if t.is_empty()
        || t.len() > 253
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        // `-` (Windows' "no value") or `_._`: punctuation alone names no machine.
        || !t.bytes().any(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut labels = 0;
    let mut all_numeric = true;
    for label in t.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        labels += 1;
        all_numeric &= label.bytes().all(|b| b.is_ascii_digit());
    }
    // Dotted digits are an address (valid or not), never a name: no TLD is numeric.
    if labels > 1 && all_numeric {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    Some(match lower.find('.') {
        Some(dot) => Identifier::Host {
            short: lower[..dot].to_string(),
            fqdn: Some(lower),
        },
        None => Identifier::Host {
            short: lower,
            fqdn: None,
        },
    })
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
/// `TargetDomainName`), normalised like [`parse_account`]. An empty or `-` domain is no
/// domain; a malformed user or domain is `None`.
pub fn account(domain: Option<&str>, user: &str) -> Option<Identifier> {
    let user = user.trim();
    let bad = |s: &str| s.contains(['\\', '@', '/']) || s.chars().any(char::is_control);
    if user.is_empty() || user == "-" || bad(user) {
        return None;
    }
    if user.ends_with('$') {
        return host(user);
    }
    let domain = match domain.map(str::trim) {
        // `.\user` is Windows' "this machine": a local account, no domain.
        None | Some("" | "-" | ".") => None,
        Some(d) if bad(d) => return None,
        Some(d) => {
            let first = d.split('.').next().unwrap_or(d);
            if first.is_empty() {
                return None;
            }
            Some(first.to_lowercase())
        }
    };
    Some(Identifier::Account {
        domain,
        user: user.to_lowercase(),
    })
}

/// Sub-authorities a SID may have (the Windows limit).
const MAX_SUB_AUTHORITIES: usize = 15;

fn parse_sid(t: &str) -> Option<String> {
    let mut parts = t.split('-');
    if !parts.next()?.eq_ignore_ascii_case("S") || parts.next()? != "1" {
        return None;
    }
    let authority: u64 = number(parts.next()?)?;
    if authority >= 1 << 48 {
        return None;
    }
    let mut out = String::with_capacity(t.len());
    // Writing to a String cannot fail.
    let _ = write!(out, "S-1-{authority}");
    let mut subs = 0;
    for p in parts {
        let sub: u32 = number(p)?;
        subs += 1;
        if subs > MAX_SUB_AUTHORITIES {
            return None;
        }
        let _ = write!(out, "-{sub}");
    }
    Some(out)
}

/// A decimal number of at most 20 digits, nothing else (no sign, no spaces).
fn number<T: std::str::FromStr>(p: &str) -> Option<T> {
    if p.is_empty() || p.len() > 20 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

/// A SID as events write it, canonical (upper-case `S`, no leading zeros); `None` when
/// malformed.
pub fn normalize_sid(text: &str) -> Option<String> {
    parse_sid(text.trim())
}

/// Marks a name several assets answer to (a short name shared by FQDNs, a bare user name
/// in several domains): it resolves to nothing.
const AMBIGUOUS: u32 = u32::MAX;

/// CIDRs of one family: one map network → asset per prefix length, longest first.
#[derive(Debug)]
struct PrefixTable<K> {
    levels: Vec<(u8, FxHashMap<K, u32>)>,
}

impl<K> Default for PrefixTable<K> {
    fn default() -> Self {
        PrefixTable { levels: Vec::new() }
    }
}

impl<K: Bits> PrefixTable<K> {
    fn level(&mut self, prefix: u8) -> &mut FxHashMap<K, u32> {
        let at = match self.levels.iter().position(|(p, _)| *p <= prefix) {
            Some(i) if self.levels[i].0 == prefix => i,
            Some(i) => {
                self.levels.insert(i, (prefix, FxHashMap::default()));
                i
            }
            None => {
                self.levels.push((prefix, FxHashMap::default()));
                self.levels.len() - 1
            }
        };
        &mut self.levels[at].1
    }

    fn insert(&mut self, network: K, prefix: u8, n: u32) -> Option<u32> {
        put(self.level(prefix), network, n)
    }

    /// The asset of the longest prefix holding `addr`, with that prefix.
    fn longest(&self, addr: K) -> Option<(u8, u32)> {
        self.levels
            .iter()
            .find_map(|(p, m)| m.get(&addr.mask(*p)).map(|n| (*p, *n)))
    }

    fn exact(&self, network: K, prefix: u8) -> Option<u32> {
        self.levels
            .iter()
            .find(|(p, _)| *p == prefix)
            .and_then(|(_, m)| m.get(&network).copied())
    }

    fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

/// Inserts `k → n` unless `k` is there; returns the asset already holding it (left in
/// place).
fn put<K: Hash + Eq>(m: &mut FxHashMap<K, u32>, k: K, n: u32) -> Option<u32> {
    match m.entry(k) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(n);
            None
        }
    }
}

/// Records that asset `n` answers to `k`; several assets make it [`AMBIGUOUS`].
fn share<K: Hash + Eq>(m: &mut FxHashMap<K, u32>, k: K, n: u32) {
    m.entry(k)
        .and_modify(|v| {
            if *v != n {
                *v = AMBIGUOUS;
            }
        })
        .or_insert(n);
}

/// Resolves names seen in events to asset ids. Built once per model.
#[derive(Debug, Default)]
pub struct IdentityIndex {
    fqdns: FxHashMap<Box<str>, u32>,
    /// Short names listed as such (or as `HOST$`).
    shorts: FxHashMap<Box<str>, u32>,
    /// First labels of FQDNs ([`AMBIGUOUS`] when several assets' FQDNs share one).
    derived: FxHashMap<Box<str>, u32>,
    ips: FxHashMap<IpAddr, u32>,
    v4: PrefixTable<u32>,
    v6: PrefixTable<u128>,
    /// `domain\user`, or `\user` for a bare `user:NAME`.
    accounts: FxHashMap<Box<str>, u32>,
    /// User name → the asset listing it in any form ([`AMBIGUOUS`] when several do).
    users: FxHashMap<Box<str>, u32>,
    sids: FxHashMap<Box<str>, u32>,
    ids: Vec<Box<str>>,
}

/// Every identifier written on two assets, without building an index (what validation
/// needs: a fraction of the time and memory of [`IdentityIndex::build`] on a big model),
/// showing `visit` each identifier's parse as it goes (`visit(position, text, parsed)`)
/// so that each is parsed once. Same clashes, in the same order, as the index reports.
pub fn clashes_visiting(
    model: &Model,
    mut visit: impl FnMut(IdentifierAt, &str, &Result<Identifier, IdentifierError>),
) -> Vec<Clash> {
    let total = model.assets.iter().map(|a| a.identifiers.len()).sum();
    // Identifier equality is key equality (an FQDN, a short name, an address, a CIDR's
    // network and prefix, domain and user, a SID). Sorting (hash, asset, position) brings
    // equal identifiers together with sequential memory traffic, several times faster
    // than a hash table of millions of entries; each group of equal hashes is then
    // compared for real, so a hash collision neither hides nor invents a clash.
    let mut keys: Vec<(u64, u32, u32)> = Vec::with_capacity(total);
    for (i, asset) in model.assets.iter().enumerate() {
        for (j, text) in asset.identifiers.iter().enumerate() {
            let here = IdentifierAt {
                asset: i,
                identifier: j,
            };
            let parsed = parse_identifier(text);
            visit(here, text, &parsed);
            if let (Ok(id), Ok(a), Ok(p)) = (parsed, u32::try_from(i), u32::try_from(j)) {
                let mut h = rustc_hash::FxHasher::default();
                id.hash(&mut h);
                keys.push((std::hash::Hasher::finish(&h), a, p));
            }
        }
    }
    keys.sort_unstable();
    let text_at =
        |k: &(u64, u32, u32)| model.assets[k.1 as usize].identifiers[k.2 as usize].as_str();
    let mut clashes = Vec::new();
    for group in keys.chunk_by(|a, b| a.0 == b.0) {
        if group.iter().all(|k| k.1 == group[0].1) {
            continue;
        }
        let ids: Vec<Option<Identifier>> = group
            .iter()
            .map(|k| parse_identifier(text_at(k)).ok())
            .collect();
        for (m, k) in group.iter().enumerate() {
            let Some(id) = &ids[m] else { continue };
            // The owner is the earliest listing of this very identifier.
            let Some(o) = ids[..m].iter().position(|x| x.as_ref() == Some(id)) else {
                continue;
            };
            let owner = group[o];
            if owner.1 != k.1 {
                clashes.push(Clash {
                    identifier: text_at(k).to_string(),
                    first: model.assets[owner.1 as usize].id.clone(),
                    second: model.assets[k.1 as usize].id.clone(),
                    first_at: IdentifierAt {
                        asset: owner.1 as usize,
                        identifier: owner.2 as usize,
                    },
                    second_at: IdentifierAt {
                        asset: k.1 as usize,
                        identifier: k.2 as usize,
                    },
                });
            }
        }
    }
    clashes.sort_by_key(|c| c.second_at);
    clashes
}

/// Where an identifier is written: `assets[asset].identifiers[identifier]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentifierAt {
    pub asset: usize,
    pub identifier: usize,
}

/// What one asset identifier clashed with, when the index was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub identifier: String,
    /// The asset that listed it first (and keeps it).
    pub first: String,
    pub second: String,
    /// Where the first asset lists it.
    pub first_at: IdentifierAt,
    /// Where the second asset lists it (as written there, `identifier`).
    pub second_at: IdentifierAt,
}

/// How an identifier was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum Via {
    /// The FQDN itself.
    Fqdn,
    /// A short name (listed, or the first label of one asset's FQDN).
    ShortName,
    /// The exact address.
    Ip,
    /// The most specific CIDR holding the address.
    Cidr {
        prefix: u8,
    },
    /// `domain\user` (or a bare `user:NAME` listed in the model, any domain).
    Account,
    /// A bare user name that exactly one asset lists (weak).
    BareUser,
    Sid,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Asset number `asset` (its position in `model.assets`).
    Found {
        asset: usize,
        via: Via,
    },
    /// Several assets answer to it (a shared short name or bare user name).
    Ambiguous,
    NotFound,
}

impl IdentityIndex {
    /// Indexes every parseable identifier of `model`'s assets. Malformed identifiers are
    /// skipped here (validation reports them); an identifier on two assets stays with
    /// the first and is returned as a [`Clash`]. Overlapping CIDRs are not clashes, nor
    /// a short name shared by two FQDNs.
    pub fn build(model: &Model) -> (IdentityIndex, Vec<Clash>) {
        let mut ix = IdentityIndex {
            ids: Vec::with_capacity(model.assets.len()),
            ..Default::default()
        };
        ix.reserve(model);
        let mut clashes = Vec::new();
        for (i, asset) in model.assets.iter().enumerate() {
            // Asset numbers are u32 (a model beyond 4 billion assets is refused long
            // before, by the loader's size bound); the AMBIGUOUS marker is never one.
            let n = u32::try_from(i).unwrap_or(AMBIGUOUS - 1);
            ix.ids.push(asset.id.as_str().into());
            for (j, text) in asset.identifiers.iter().enumerate() {
                let here = IdentifierAt {
                    asset: i,
                    identifier: j,
                };
                let Ok(id) = parse_identifier(text) else {
                    continue;
                };
                match ix.insert(id, n) {
                    Some(first) if first != n => {
                        let first = first as usize;
                        clashes.push(Clash {
                            identifier: text.clone(),
                            first: model.assets[first].id.clone(),
                            second: asset.id.clone(),
                            first_at: IdentifierAt {
                                asset: first,
                                identifier: position_of(&model.assets[first].identifiers, text),
                            },
                            second_at: here,
                        });
                    }
                    _ => {}
                }
            }
        }
        (ix, clashes)
    }

    /// Sizes the maps from a quick look at the identifiers' shapes: growing a table of a
    /// million entries rehashes it several times, which costs more than the inserts.
    fn reserve(&mut self, model: &Model) {
        let (mut fqdns, mut shorts, mut ips, mut accounts, mut sids) = (0, 0, 0, 0, 0);
        for t in model.assets.iter().flat_map(|a| &a.identifiers) {
            let b = t.as_bytes();
            if t.contains(['\\', '@']) || t.starts_with("user:") {
                accounts += 1;
            } else if b.len() > 2 && b[1] == b'-' && (b[0] | 0x20) == b's' {
                sids += 1;
            } else if t.contains([':', '/']) || b.first().is_some_and(u8::is_ascii_digit) {
                ips += 1;
            } else if t.contains('.') {
                fqdns += 1;
            } else {
                shorts += 1;
            }
        }
        self.fqdns.reserve(fqdns);
        self.derived.reserve(fqdns);
        self.shorts.reserve(shorts);
        self.ips.reserve(ips);
        self.accounts.reserve(accounts);
        self.users.reserve(accounts);
        self.sids.reserve(sids);
    }

    /// Inserts; returns the asset already holding it, if any (left in place).
    fn insert(&mut self, id: Identifier, n: u32) -> Option<u32> {
        match id {
            Identifier::Host {
                short,
                fqdn: Some(f),
            } => {
                share(&mut self.derived, short.into_boxed_str(), n);
                put(&mut self.fqdns, f.into_boxed_str(), n)
            }
            Identifier::Host { short, fqdn: None } => {
                put(&mut self.shorts, short.into_boxed_str(), n)
            }
            Identifier::Ip(ip) => put(&mut self.ips, ip, n),
            Identifier::Cidr(Cidr {
                network: IpAddr::V4(a),
                prefix,
            }) => self.v4.insert(u32::from(a), prefix, n),
            Identifier::Cidr(Cidr {
                network: IpAddr::V6(a),
                prefix,
            }) => self.v6.insert(u128::from(a), prefix, n),
            Identifier::Account { domain, user } => {
                let key = account_key(domain.as_deref(), &user);
                share(&mut self.users, user.into_boxed_str(), n);
                put(&mut self.accounts, key, n)
            }
            Identifier::Sid(s) => put(&mut self.sids, s.into_boxed_str(), n),
        }
    }

    /// Looks `id` up (an identifier as [`parse_identifier`] or the event-side normalisers
    /// give it: normalised).
    pub fn lookup(&self, id: &Identifier) -> Lookup {
        let found = |n: Option<&u32>, via: Via| match n {
            Some(&AMBIGUOUS) => Lookup::Ambiguous,
            Some(&n) => Lookup::Found {
                asset: n as usize,
                via,
            },
            None => Lookup::NotFound,
        };
        match id {
            Identifier::Host {
                short,
                fqdn: Some(f),
            } => match self.fqdns.get(f.as_str()) {
                Some(n) => found(Some(n), Via::Fqdn),
                // Another FQDN with the same first label is another host; only a short
                // name listed on its own answers to any domain.
                None => found(self.shorts.get(short.as_str()), Via::ShortName),
            },
            Identifier::Host { short, fqdn: None } => found(
                self.shorts
                    .get(short.as_str())
                    .or_else(|| self.derived.get(short.as_str())),
                Via::ShortName,
            ),
            Identifier::Ip(ip) => match self.ips.get(ip) {
                Some(n) => found(Some(n), Via::Ip),
                None => {
                    let hit = match ip {
                        IpAddr::V4(a) => self.v4.longest(u32::from(*a)),
                        IpAddr::V6(a) => self.v6.longest(u128::from(*a)),
                    };
                    match hit {
                        Some((prefix, n)) => found(Some(&n), Via::Cidr { prefix }),
                        None => Lookup::NotFound,
                    }
                }
            },
            Identifier::Cidr(c) => {
                let n = match c.network {
                    IpAddr::V4(a) => self.v4.exact(u32::from(a), c.prefix),
                    IpAddr::V6(a) => self.v6.exact(u128::from(a), c.prefix),
                };
                found(n.as_ref(), Via::Cidr { prefix: c.prefix })
            }
            Identifier::Account {
                domain: Some(d),
                user,
            } => found(
                self.accounts
                    .get(&*account_key(Some(d), user))
                    .or_else(|| self.accounts.get(&*account_key(None, user))),
                Via::Account,
            ),
            Identifier::Account { domain: None, user } => {
                found(self.users.get(user.as_str()), Via::BareUser)
            }
            Identifier::Sid(s) => found(self.sids.get(s.as_str()), Via::Sid),
        }
    }

    /// The asset number (position in `model.assets`) named by `id`, or `None` (unknown
    /// or ambiguous).
    pub fn resolve_index(&self, id: &Identifier) -> Option<usize> {
        match self.lookup(id) {
            Lookup::Found { asset, .. } => Some(asset),
            Lookup::Ambiguous | Lookup::NotFound => None,
        }
    }

    /// The asset named by `id` (an identifier as [`parse_identifier`] or the event-side
    /// normalisers give it), or `None` (unknown or ambiguous).
    pub fn resolve(&self, id: &Identifier) -> Option<&str> {
        self.resolve_index(id).and_then(|n| self.asset_id(n))
    }

    /// The id of asset number `n`.
    pub fn asset_id(&self, n: usize) -> Option<&str> {
        self.ids.get(n).map(|s| &**s)
    }

    /// Whether no identifier at all was indexed (a model without identifiers).
    pub fn is_empty(&self) -> bool {
        self.fqdns.is_empty()
            && self.shorts.is_empty()
            && self.ips.is_empty()
            && self.v4.is_empty()
            && self.v6.is_empty()
            && self.accounts.is_empty()
            && self.sids.is_empty()
    }
}

fn account_key(domain: Option<&str>, user: &str) -> Box<str> {
    let d = domain.unwrap_or("");
    let mut k = String::with_capacity(d.len() + 1 + user.len());
    k.push_str(d);
    k.push('\\');
    k.push_str(user);
    k.into_boxed_str()
}

/// The position among `identifiers` of the first one equal to `text` once parsed (a
/// clash's first listing; 0 if none, which cannot happen for a real clash).
fn position_of(identifiers: &[String], text: &str) -> usize {
    let Ok(wanted) = parse_identifier(text) else {
        return 0;
    };
    identifiers
        .iter()
        .position(|t| parse_identifier(t).as_ref() == Ok(&wanted))
        .unwrap_or(0)
}

/// ISO 3166-1 alpha-2 codes officially assigned (249, from Debian's `iso-codes` 4.15,
/// `iso_3166-1.json`), sorted: segments' `countries` must be among them.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 country code (upper-case).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && ISO_3166_ALPHA2.split(' ').any(|c| c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_table_is_sorted_and_complete() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        for c in ["FR", "BE", "DE", "AD", "ZW"] {
            assert!(is_country_code(c), "{c}");
        }
        for c in ["fr", "XK", "UK", "EU", "F", "FRA", "É"] {
            assert!(!is_country_code(c), "{c}");
        }
    }

    #[test]
    fn punctuation_alone_is_no_host() {
        for bad in ["-", "--", "_", "-.-", "$", "-$"] {
            assert_eq!(host(bad), None, "{bad}");
        }
        assert!(host("a-1").is_some());
        assert!(host("WEB-01$").is_some());
    }

    #[test]
    fn sid_is_canonical() {
        assert_eq!(
            normalize_sid("s-1-5-21-01-2").as_deref(),
            Some("S-1-5-21-1-2")
        );
        assert_eq!(normalize_sid("S-1-5").as_deref(), Some("S-1-5"));
        for bad in [
            "S-1",
            "S-2-5-21",
            "S-1-5-",
            "S-1-5-x",
            "S-1-5-4294967296",
            "S-1--5",
        ] {
            assert_eq!(normalize_sid(bad), None, "{bad}");
        }
        let long = format!("S-1-5{}", "-1".repeat(16));
        assert_eq!(normalize_sid(&long), None);
    }

    #[test]
    fn prefix_levels_stay_longest_first() {
        let mut t = PrefixTable::<u32>::default();
        for p in [16, 24, 8, 24, 32, 0] {
            t.insert(0, p, u32::from(p));
        }
        let order: Vec<u8> = t.levels.iter().map(|(p, _)| *p).collect();
        assert_eq!(order, vec![32, 24, 16, 8, 0]);
    }
}
