//! Typed indexes of indicator values: what a detection looks an event's fields up in.
//!
//! - IPv4 / IPv6 addresses: hash tables of the address as an integer; networks: the
//!   elementary ranges of the (nested or disjoint) networks, sorted, each with the
//!   indicators covering it, found by one binary search ([`ranges`]). An address
//!   matches every indicator of its own value and of every network holding it; an
//!   IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is also looked up as IPv4.
//! - Domains: a hash table of normalised names; a lookup of `a.b.evil.example` tries
//!   `a.b.evil.example`, `b.evil.example`, `evil.example`, `example` (label-wise suffix
//!   match: `xevil.example` does not match `evil.example`), case-insensitive, one
//!   trailing dot ignored.
//! - URLs: a hash table of [`crate::indicator::normalize_url`] forms.
//! - MD5 / SHA-1 / SHA-256: hash tables of the digest bytes (16, 20, 32 bytes, not
//!   hex strings). A lookup of any hash type picks the table by the hex length.
//! - File names: a hash table of lowercased names; a lookup tries the whole value and
//!   its last path component (after `/` or `\`), so `C:\Temp\Evil.exe` matches the
//!   indicator `evil.exe`.
//!
//! A lookup appends the positions (in the [`IndicatorSet`]) of every matching
//! indicator to `out`, each at most once, and never allocates for IPs, hashes and
//! lowercase domains. Pattern indicators are not in the index.

pub mod ranges;

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use rustc_hash::FxHashMap;

use crate::indicator::{normalize_url, IndicatorSet, IocType};
use ranges::Ranges;

/// Postings of one key: a single indicator, or (high bit set) an entry of `multi`.
const MULTI: u32 = 1 << 31;

/// A hash table from a key to the indicators holding it.
#[derive(Debug, Clone)]
pub(crate) struct Table<K> {
    map: FxHashMap<K, u32>,
    multi: Vec<Vec<u32>>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            map: FxHashMap::default(),
            multi: Vec::new(),
        }
    }
}

impl<K: Hash + Eq> Table<K> {
    fn with_capacity(n: usize) -> Self {
        let mut map = FxHashMap::default();
        map.reserve(n);
        Table {
            map,
            multi: Vec::new(),
        }
    }

    fn insert(&mut self, k: K, ind: u32) {
        match self.map.get_mut(&k) {
            None => {
                self.map.insert(k, ind);
            }
            Some(slot) if *slot & MULTI != 0 => {
                let v = &mut self.multi[(*slot & !MULTI) as usize];
                if v.last() != Some(&ind) {
                    v.push(ind);
                }
            }
            Some(slot) => {
                if *slot != ind {
                    let m = self.multi.len() as u32;
                    self.multi.push(vec![*slot, ind]);
                    *slot = m | MULTI;
                }
            }
        }
    }

    #[inline]
    fn get<Q>(&self, k: &Q, out: &mut Vec<u32>) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.map.get(k) {
            None => false,
            Some(&s) if s & MULTI != 0 => {
                out.extend_from_slice(&self.multi[(s & !MULTI) as usize]);
                true
            }
            Some(&s) => {
                out.push(s);
                true
            }
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn shrink(&mut self) {
        self.map.shrink_to_fit();
        self.multi.shrink_to_fit();
    }
}

/// Sizes of an [`IntelIndex`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub ipv4_addresses: usize,
    pub ipv4_networks: usize,
    pub ipv6_addresses: usize,
    pub ipv6_networks: usize,
    pub domains: usize,
    pub urls: usize,
    pub md5: usize,
    pub sha1: usize,
    pub sha256: usize,
    pub file_names: usize,
}

/// The typed indexes of an [`IndicatorSet`]'s simple indicators.
#[derive(Debug, Clone, Default)]
pub struct IntelIndex {
    v4: Table<u32>,
    v6: Table<u128>,
    v4_nets: Ranges,
    v6_nets: Ranges,
    domains: Table<Box<str>>,
    urls: Table<Box<str>>,
    md5: Table<[u8; 16]>,
    sha1: Table<[u8; 20]>,
    sha256: Table<[u8; 32]>,
    files: Table<Box<str>>,
    /// Bit `n` set when some indexed domain has `n` labels (63: 63 or more).
    domain_labels: u64,
}

fn label_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

impl IntelIndex {
    /// Index every simple indicator of `set`. Values were normalised when loaded; one
    /// that does not parse here (a set built by hand) is skipped with a warning.
    pub fn build(set: &IndicatorSet) -> IntelIndex {
        let mut counts = [0usize; 8];
        for ind in &set.indicators {
            ind.what.for_each_value(|t, _| counts[t as usize] += 1);
        }
        let mut ix = IntelIndex {
            v4: Table::with_capacity(counts[IocType::Ipv4 as usize]),
            v6: Table::with_capacity(counts[IocType::Ipv6 as usize]),
            domains: Table::with_capacity(counts[IocType::Domain as usize]),
            urls: Table::with_capacity(counts[IocType::Url as usize]),
            md5: Table::with_capacity(counts[IocType::Md5 as usize]),
            sha1: Table::with_capacity(counts[IocType::Sha1 as usize]),
            sha256: Table::with_capacity(counts[IocType::Sha256 as usize]),
            files: Table::with_capacity(counts[IocType::FileName as usize]),
            ..IntelIndex::default()
        };
        let mut v4_nets: Vec<(u128, u128, u32)> = Vec::new();
        let mut v6_nets: Vec<(u128, u128, u32)> = Vec::new();
        let mut skipped = 0usize;
        for (i, ind) in set.indicators.iter().enumerate() {
            let i = i as u32;
            ind.what.for_each_value(|t, v| {
                let ok = match t {
                    IocType::Ipv4 | IocType::Ipv6 => ix.insert_ip(v, i, &mut v4_nets, &mut v6_nets),
                    IocType::Domain => {
                        ix.domain_labels |= label_bit(v.split('.').count());
                        ix.domains.insert(Box::from(v), i);
                        true
                    }
                    IocType::Url => {
                        ix.urls.insert(Box::from(v), i);
                        true
                    }
                    IocType::Md5 => decode_hex::<16>(v).map(|h| ix.md5.insert(h, i)).is_some(),
                    IocType::Sha1 => decode_hex::<20>(v).map(|h| ix.sha1.insert(h, i)).is_some(),
                    IocType::Sha256 => decode_hex::<32>(v)
                        .map(|h| ix.sha256.insert(h, i))
                        .is_some(),
                    IocType::FileName => {
                        ix.files.insert(Box::from(v), i);
                        true
                    }
                };
                if !ok {
                    skipped += 1;
                }
            });
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "indicator values that do not parse were not indexed"
            );
        }
        ix.v4_nets = Ranges::build(v4_nets);
        ix.v6_nets = Ranges::build(v6_nets);
        for t in [&mut ix.domains, &mut ix.urls, &mut ix.files] {
            t.shrink();
        }
        ix.v4.shrink();
        ix.v6.shrink();
        ix.md5.shrink();
        ix.sha1.shrink();
        ix.sha256.shrink();
        ix
    }

    fn insert_ip(
        &mut self,
        v: &str,
        i: u32,
        v4_nets: &mut Vec<(u128, u128, u32)>,
        v6_nets: &mut Vec<(u128, u128, u32)>,
    ) -> bool {
        if v.contains('/') {
            match ipnet::IpNet::from_str(v) {
                Ok(ipnet::IpNet::V4(n)) => {
                    let n = n.trunc();
                    v4_nets.push((
                        u128::from(u32::from(n.network())),
                        u128::from(u32::from(n.broadcast())),
                        i,
                    ));
                    true
                }
                Ok(ipnet::IpNet::V6(n)) => {
                    let n = n.trunc();
                    v6_nets.push((u128::from(n.network()), u128::from(n.broadcast()), i));
                    true
                }
                Err(_) => false,
            }
        } else {
            match IpAddr::from_str(v) {
                Ok(IpAddr::V4(a)) => {
                    self.v4.insert(u32::from(a), i);
                    true
                }
                Ok(IpAddr::V6(a)) => {
                    self.v6.insert(u128::from(a), i);
                    true
                }
                Err(_) => false,
            }
        }
    }

    /// Append to `out` the positions of the indicators `value` (of type `ty`) matches.
    /// `Ipv4` and `Ipv6` look up any address (the family is the value's).
    #[inline]
    pub fn lookup(&self, ty: IocType, value: &str, out: &mut Vec<u32>) {
        match ty {
            IocType::Ipv4 | IocType::Ipv6 => {
                if let Some(a) = parse_ip(value.trim()) {
                    self.lookup_ip(a, out);
                }
            }
            IocType::Domain => self.lookup_domain(value, out),
            IocType::Url => {
                if !self.urls.map.is_empty() {
                    if let Ok(n) = normalize_url(value) {
                        self.urls.get(n.as_str(), out);
                    }
                }
            }
            IocType::Md5 | IocType::Sha1 | IocType::Sha256 => self.lookup_hash(value, out),
            IocType::FileName => self.lookup_file_name(value, out),
        }
    }

    /// Append the indicators matching an address (its own value and every network
    /// holding it).
    #[inline]
    pub fn lookup_ip(&self, a: IpAddr, out: &mut Vec<u32>) {
        match a {
            IpAddr::V4(a) => self.lookup_v4(a, out),
            IpAddr::V6(a) => {
                if let Some(m) = a.to_ipv4_mapped() {
                    self.lookup_v4(m, out);
                }
                let n = u128::from(a);
                let before = out.len();
                self.v6.get(&n, out);
                self.v6_nets.lookup(n, out);
                dedup_tail(out, before);
            }
        }
    }

    #[inline]
    fn lookup_v4(&self, a: Ipv4Addr, out: &mut Vec<u32>) {
        let n = u32::from(a);
        let before = out.len();
        self.v4.get(&n, out);
        self.v4_nets.lookup(u128::from(n), out);
        dedup_tail(out, before);
    }

    /// Label-wise suffix lookup (see the module documentation). ASCII names (up to 253
    /// bytes, the DNS limit) are lower-cased into a buffer on the stack while their dots
    /// are found, in one pass, and only the suffixes with as many labels as some indexed
    /// name are looked up; others (non-ASCII, longer) are lower-cased by `to_lowercase`
    /// and every suffix is looked up.
    #[inline]
    pub fn lookup_domain(&self, value: &str, out: &mut Vec<u32>) {
        if self.domains.map.is_empty() {
            return;
        }
        let v = value.trim();
        let v = v.strip_suffix('.').unwrap_or(v);
        if v.is_empty() {
            return;
        }
        let before = out.len();
        if !self.lookup_ascii_domain(v.as_bytes(), out) {
            let owned = v.to_lowercase();
            let mut rest = owned.as_str();
            loop {
                self.domains.get(rest, out);
                match rest.find('.') {
                    Some(k) => rest = &rest[k + 1..],
                    None => break,
                }
            }
        }
        dedup_tail(out, before);
    }

    /// The fast path of [`IntelIndex::lookup_domain`]: false (nothing looked up) when `b`
    /// is not ASCII, longer than 253 bytes or has 127 dots or more.
    #[inline]
    fn lookup_ascii_domain(&self, b: &[u8], out: &mut Vec<u32>) -> bool {
        let mut buf = [0u8; 253];
        // Start of each label after the first (a dot's position + 1), in order.
        let mut starts = [0u8; 126];
        let mut dots = 0usize;
        if b.len() > buf.len() || !b.is_ascii() {
            return false;
        }
        for (i, &c) in b.iter().enumerate() {
            buf[i] = c.to_ascii_lowercase();
            if c == b'.' {
                if dots == starts.len() {
                    return false;
                }
                starts[dots] = (i + 1) as u8;
                dots += 1;
            }
        }
        // ASCII bytes: valid UTF-8 (checked once; the suffixes are cut at ASCII dots).
        let Ok(lower) = std::str::from_utf8(&buf[..b.len()]) else {
            return false;
        };
        // The whole name (dots + 1 labels), then each shorter suffix.
        for k in 0..=dots {
            if self.domain_labels & label_bit(dots + 1 - k) == 0 {
                continue;
            }
            let from = if k == 0 {
                0
            } else {
                usize::from(starts[k - 1])
            };
            if let Some(name) = lower.get(from..) {
                self.domains.get(name, out);
            }
        }
        true
    }

    /// A hash of any supported type, told by its hexadecimal length.
    #[inline]
    pub fn lookup_hash(&self, value: &str, out: &mut Vec<u32>) {
        let v = value.trim();
        match v.len() {
            32 => {
                if let Some(h) = decode_hex::<16>(v) {
                    self.md5.get(&h, out);
                }
            }
            40 => {
                if let Some(h) = decode_hex::<20>(v) {
                    self.sha1.get(&h, out);
                }
            }
            64 => {
                if let Some(h) = decode_hex::<32>(v) {
                    self.sha256.get(&h, out);
                }
            }
            _ => {}
        }
    }

    /// A file name or path (see the module documentation).
    pub fn lookup_file_name(&self, value: &str, out: &mut Vec<u32>) {
        if self.files.map.is_empty() {
            return;
        }
        let lower = value.trim().to_lowercase();
        let before = out.len();
        self.files.get(lower.as_str(), out);
        if let Some(k) = lower.rfind(['/', '\\']) {
            let base = &lower[k + 1..];
            if !base.is_empty() {
                self.files.get(base, out);
            }
        }
        dedup_tail(out, before);
    }

    pub fn stats(&self) -> IndexStats {
        IndexStats {
            ipv4_addresses: self.v4.len(),
            ipv4_networks: self.v4_nets.networks(),
            ipv6_addresses: self.v6.len(),
            ipv6_networks: self.v6_nets.networks(),
            domains: self.domains.len(),
            urls: self.urls.len(),
            md5: self.md5.len(),
            sha1: self.sha1.len(),
            sha256: self.sha256.len(),
            file_names: self.files.len(),
        }
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.stats() == IndexStats::default()
    }
}

/// Sort and deduplicate what a lookup appended after `before` (a value can match one
/// indicator twice: an address and a network of one STIX OR).
#[inline]
fn dedup_tail(out: &mut Vec<u32>, before: usize) {
    if out.len() - before > 1 {
        out[before..].sort_unstable();
        let mut w = before + 1;
        for r in before + 1..out.len() {
            if out[r] != out[w - 1] {
                out[w] = out[r];
                w += 1;
            }
        }
        out.truncate(w);
    }
}

/// Decode `2 * N` hexadecimal digits (either case).
#[inline]
pub fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

#[inline]
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parse an address: dotted-quad IPv4 by a direct scan (four decimal numbers up to 255,
/// no leading zeros, as `Ipv4Addr::from_str` accepts them), anything else by
/// `IpAddr::from_str`.
#[inline]
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    match parse_ipv4(s.as_bytes()) {
        Some(a) => Some(IpAddr::V4(a)),
        None => IpAddr::from_str(s).ok(),
    }
}

/// A dotted-quad IPv4 address, or `None` (then it is either not an address or an IPv6
/// one).
#[inline]
pub fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut addr = 0u32;
    let mut octets = 0;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut n = 0u32;
        while i < b.len() && b[i].is_ascii_digit() {
            n = n * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 3 || n > 255 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        addr = (addr << 8) | n;
        octets += 1;
        if i < b.len() {
            if b[i] != b'.' || octets == 4 {
                return None;
            }
            i += 1;
            if i == b.len() {
                return None;
            }
        }
    }
    (octets == 4).then(|| Ipv4Addr::from(addr))
}

/// Parse an IPv6 address (for callers holding one as text).
pub fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    Ipv6Addr::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{parse_str, Format, LoadOptions};
    use crate::indicator::DeclaredType;

    fn domain_index(names: &str) -> IntelIndex {
        let (set, _) = parse_str(
            Format::List,
            names,
            "d.txt",
            Some(DeclaredType::One(IocType::Domain)),
            &LoadOptions::default(),
        );
        IntelIndex::build(&set)
    }

    fn found(ix: &IntelIndex, v: &str) -> Vec<u32> {
        let mut out = Vec::new();
        ix.lookup_domain(v, &mut out);
        out
    }

    #[test]
    fn domain_suffixes_fast_and_slow_paths() {
        // 0: evil.example (2 labels), 1: a.b.c.example (4), 2: com (1), 3: bücher.example
        let ix = domain_index("evil.example\na.b.c.example\ncom\nbücher.example\n");
        assert_eq!(found(&ix, "evil.example"), vec![0]);
        assert_eq!(found(&ix, "x.y.EVIL.Example."), vec![0]);
        assert_eq!(found(&ix, "xevil.example"), Vec::<u32>::new());
        assert_eq!(found(&ix, "z.a.b.c.example"), vec![1]);
        assert_eq!(found(&ix, "b.c.example"), Vec::<u32>::new());
        assert_eq!(found(&ix, "www.site.com"), vec![2]);
        assert_eq!(found(&ix, "a..evil.example"), vec![0]);
        assert_eq!(found(&ix, "shop.BÜCHER.example"), vec![3]);
        // Longer than 253 bytes, or 127 dots: the slow path, same answers.
        let long = format!("{}.evil.example", "a".repeat(260));
        assert_eq!(found(&ix, &long), vec![0]);
        let dots = format!("{}evil.example", ".".repeat(130));
        assert_eq!(found(&ix, &dots), vec![0]);
        assert_eq!(found(&ix, ""), Vec::<u32>::new());
        assert_eq!(found(&ix, "."), Vec::<u32>::new());
    }

    #[test]
    fn parse_ipv4_agrees_with_std() {
        let cases = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4.5",
            ".1.2.3",
            "1..2.3",
            "1.2.3.04",
            "10.0.0.10",
            "1.2.3.4 ",
            "a.b.c.d",
            "1.2.3.1000",
            "1234.1.1.1",
            "::1",
            "::ffff:1.2.3.4",
            "",
            "192.168.001.1",
            "100.200.250.199",
        ];
        for c in cases {
            assert_eq!(
                parse_ipv4(c.as_bytes()),
                Ipv4Addr::from_str(c).ok(),
                "{c:?}"
            );
            assert_eq!(parse_ip(c), IpAddr::from_str(c).ok(), "{c:?}");
        }
        let mut x = 99u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = Ipv4Addr::from((x >> 32) as u32);
            assert_eq!(parse_ipv4(a.to_string().as_bytes()), Some(a));
        }
    }
}
