//! The names generated assets go by in logs, and the other issue-8 fields of the generator.
//!
//! One Active Directory domain `CORP` (`corp.example`) spans the operator; each site has a
//! DNS subdomain `site<N>.corp.example`. Machines get an FQDN there, their short (NetBIOS)
//! name and one address inside their zone's subnet; applications, and databases running
//! on a host, an FQDN alias only (they share the host's address). Accounts are
//! `CORP\<id>` with a SID of the domain, groups a SID (`Domain Admins` is RID 512).
//!
//! Address plan: zone `z` of site `s` (ZONES order) is subnet number `k = 8s + z`, the
//! IPv4 `/21` number `k` in `10.0.0.0/8` while `k` < 8192 (1024 sites), and always the
//! IPv6 `/64` `fd00:<s high>:<s low>:<z>::/64`. Hosts get the IPv4 address `10 + n` of
//! the subnet (their rank in the zone), or the IPv6 one when the IPv4 subnet is full or
//! absent. Each site's edge router `pe-1` holds its zones' subnets as CIDRs, so an unknown
//! address of a site resolves to the router that serves it (exact addresses win). The
//! shared zones `identity`, `backup` and `vpn` are `172.16.0-2.0/24`; the VPN
//! concentrators hold their client pools `172.20.0.0/16` and `172.21.0.0/16`.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Sink, ZONES};
use crate::identity::{parse_identifier, Identifier, IdentifierKind};
use crate::types::*;

const NETBIOS_DOMAIN: &str = "CORP";
const DNS_DOMAIN: &str = "corp.example";
/// The domain SID; accounts and groups are RIDs under it.
const DOMAIN_SID: &str = "S-1-5-21-3623811015-3361044348-30300820";
/// Bits of host part of a site zone's IPv4 subnet (/21: 2046 addresses).
const V4_HOST_BITS: u32 = 11;
/// IPv4 subnets available in 10.0.0.0/8.
const V4_SUBNETS: usize = 1 << (24 - V4_HOST_BITS);
/// Addresses below this one in a subnet are left to gateways and appliances.
const V4_FIRST: u32 = 10;
/// The shared zones, with their /24 in 172.16.0.0/16.
const GLOBAL_ZONES: [&str; 3] = ["identity", "backup", "vpn"];
/// First RID of accounts and groups (below are Windows' well-known ones).
const GLOBAL_RID: u64 = 1100;
/// Site `s`'s RIDs start at `SITE_RID + s * SITE_RIDS` (a site has under 300 identities).
const SITE_RID: u64 = 10_000;
const SITE_RIDS: u64 = 4096;

/// A [`Sink`] in front of another that gives each asset its identifiers and its
/// `personal_data` flag on the way.
pub(super) struct Identify<'a, S> {
    pub(super) inner: &'a mut S,
    names: &'a [Vec<String>],
    /// Groups of `names` used so far.
    pub(super) next_name: usize,
    /// Identifiers written so far.
    pub(super) identifiers: usize,
    site: Option<usize>,
    /// `s<N>-`, the current site's id prefix, and `site<N>.corp.example`, its domain.
    prefix: String,
    domain: String,
    /// Addresses handed out in each zone of the current site (ZONES order).
    used: [u32; ZONES.len()],
    used_global: [u32; GLOBAL_ZONES.len()],
    next_rid: u64,
}

impl<'a, S: Sink> Identify<'a, S> {
    pub(super) fn new(inner: &'a mut S, names: &'a [Vec<String>]) -> Self {
        Identify {
            inner,
            names,
            next_name: 0,
            identifiers: 0,
            site: None,
            prefix: String::new(),
            domain: DNS_DOMAIN.to_string(),
            used: [0; ZONES.len()],
            used_global: [0; GLOBAL_ZONES.len()],
            next_rid: GLOBAL_RID,
        }
    }

    /// The assets that follow are site `site`'s.
    pub(super) fn site(&mut self, site: usize) {
        self.site = Some(site);
        self.prefix = format!("s{site}-");
        self.domain = format!("site{site}.{DNS_DOMAIN}");
        self.used = [0; ZONES.len()];
        self.next_rid = SITE_RID + site as u64 * SITE_RIDS;
    }

    /// Workstations in `site`'s corp zone for the names no generated host took; returns
    /// how many.
    pub(super) fn extra_hosts(&mut self, site: usize) -> io::Result<usize> {
        let mut made = 0;
        while self.next_name < self.names.len() {
            let mut a = Asset::new(format!("s{site}-xh-{made}"), AssetKind::Host);
            a.zone = Some(format!("s{site}-corp"));
            a.admins = vec![format!("s{site}-g-admins")];
            // Same shares as generated workstations, without drawing from the site's
            // random stream (which would change every model generated with names).
            a.controls.edr = made % 10 < 7;
            a.controls.backup = made % 20 < 17;
            self.asset(a)?;
            made += 1;
        }
        Ok(made)
    }

    fn sid(&mut self) -> String {
        self.next_rid += 1;
        format!("{DOMAIN_SID}-{}", self.next_rid - 1)
    }

    /// The asset's id without its site prefix.
    fn local<'i>(&self, id: &'i str) -> &'i str {
        id.strip_prefix(self.prefix.as_str()).unwrap_or(id)
    }

    /// The next address of `zone`.
    fn address(&mut self, zone: &str) -> Option<String> {
        match self.site {
            Some(s) => {
                let z = ZONES.iter().position(|z| *z == self.local(zone))?;
                self.used[z] += 1;
                Some(site_address(s, z, self.used[z]))
            }
            None => {
                let g = GLOBAL_ZONES.iter().position(|z| *z == zone)?;
                self.used_global[g] += 1;
                let ip = Ipv4Addr::new(172, 16, g as u8, (V4_FIRST + self.used_global[g]) as u8);
                Some(ip.to_string())
            }
        }
    }

    fn decorate(&mut self, a: &mut Asset) {
        let fqdn = |me: &Self, a: &Asset| format!("{}.{}", a.id, me.domain);
        let mut ids = Vec::with_capacity(4);
        match a.kind {
            AssetKind::Account => {
                ids.push(format!("{NETBIOS_DOMAIN}\\{}", a.id));
                ids.push(self.sid());
            }
            AssetKind::Group if a.id == "g-domain-admins" => ids.push(format!("{DOMAIN_SID}-512")),
            AssetKind::Group => ids.push(self.sid()),
            AssetKind::Application => ids.push(fqdn(self, a)),
            AssetKind::Database if a.runs_on.is_some() => ids.push(fqdn(self, a)),
            AssetKind::Host | AssetKind::NetworkDevice | AssetKind::Database => {
                match self
                    .names
                    .get(self.next_name)
                    .filter(|_| a.kind == AssetKind::Host)
                {
                    Some(group) => {
                        ids.extend(group.iter().cloned());
                        self.next_name += 1;
                    }
                    None => {
                        ids.push(fqdn(self, a));
                        ids.push(a.id.to_ascii_uppercase());
                    }
                }
                if let Some(ip) = a.zone.as_deref().and_then(|z| self.address(z)) {
                    ids.push(ip);
                }
            }
        }
        match (self.site, self.local(&a.id)) {
            (Some(s), "pe-1") => {
                for z in 0..ZONES.len() {
                    if let Some(v4) = site_subnet_v4(s, z) {
                        ids.push(format!("{v4}/{}", 32 - V4_HOST_BITS));
                    }
                    ids.push(format!("{}/64", Ipv6Addr::from(site_subnet_v6(s, z))));
                }
            }
            (None, "vpn-1") => ids.push("172.20.0.0/16".into()),
            (None, "vpn-2") => ids.push("172.21.0.0/16".into()),
            _ => {}
        }
        let local = self.local(&a.id);
        a.personal_data = self.site.is_some()
            && (["crm-", "bill-", "db-crm-", "db-bill-"]
                .iter()
                .any(|p| local.starts_with(p))
                || local == "db-emp");
        self.identifiers += ids.len();
        a.identifiers = ids;
    }
}

fn site_subnet_v4(site: usize, z: usize) -> Option<Ipv4Addr> {
    let k = site * ZONES.len() + z;
    (k < V4_SUBNETS).then(|| Ipv4Addr::from((10u32 << 24) | ((k as u32) << V4_HOST_BITS)))
}

fn site_subnet_v6(site: usize, z: usize) -> u128 {
    let s = site as u128 & 0xffff_ffff;
    (0xfd00u128 << 112) | (s << 80) | ((z as u128) << 64)
}

/// Address `n` (from 1) of zone `z` of `site`: IPv4 while the /21 has room, else IPv6.
fn site_address(site: usize, z: usize, n: u32) -> String {
    let room = (1u32 << V4_HOST_BITS) - 2 - V4_FIRST;
    match site_subnet_v4(site, z) {
        Some(net) if n <= room => Ipv4Addr::from(u32::from(net) + V4_FIRST + n).to_string(),
        _ => Ipv6Addr::from(site_subnet_v6(site, z) | u128::from(n)).to_string(),
    }
}

impl<S: Sink> Sink for Identify<'_, S> {
    fn section(&mut self, name: &str) -> io::Result<()> {
        self.inner.section(name)
    }
    fn zone(&mut self, z: Zone) -> io::Result<()> {
        self.inner.zone(z)
    }
    fn flow(&mut self, f: Flow) -> io::Result<()> {
        self.inner.flow(f)
    }
    fn asset(&mut self, mut a: Asset) -> io::Result<()> {
        self.decorate(&mut a);
        self.inner.asset(a)
    }
    fn service(&mut self, s: Service) -> io::Result<()> {
        self.inner.service(s)
    }
    fn segment(&mut self, s: Segment) -> io::Result<()> {
        self.inner.segment(s)
    }
}

/// Countries of a site's segment: France, with some enterprise and wholesale customers
/// across the border (Belgium, Germany), so some incidents are cross-border.
pub(super) fn countries(site: usize, segment: &str) -> Vec<String> {
    let codes: &[&str] = match segment {
        "enterprise" if site % 4 == 1 => &["FR", "BE"],
        "enterprise" if site % 4 == 3 => &["FR", "DE"],
        "wholesale" if site.is_multiple_of(5) => &["FR", "BE", "DE"],
        _ => &["FR"],
    };
    codes.iter().map(|c| c.to_string()).collect()
}

/// Hostnames read from a list (`vigie model generate --hosts FILE`), grouped by machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostNames {
    /// One group per machine, in the order of the list: an FQDN with the short names
    /// that are its first label (when no other FQDN of the list shares it), or a short
    /// name alone.
    pub groups: Vec<Vec<String>>,
    /// Lines not used, with why.
    pub skipped: Vec<SkippedName>,
}

/// A line of a host list that names no new machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedName {
    /// Line number, from 1.
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// Reads a host list: one hostname per line, `#` starts a comment, blank lines ignored.
/// Names that are not hostnames, repeats (after normalisation) and short names shared
/// by several listed FQDNs are skipped with their reason; a short name that is the first
/// label of exactly one listed FQDN joins that FQDN's machine (logs name the same host
/// both ways: `Computer` an FQDN, `WorkstationName` a short name).
pub fn host_names(text: &str) -> HostNames {
    let mut out = HostNames::default();
    // (line, text, short, is_fqdn), after dropping what is skipped.
    let mut entries: Vec<(usize, String, String, bool)> = Vec::new();
    let mut seen: rustc_hash::FxHashMap<Identifier, usize> = Default::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.split('#').next().unwrap_or("").trim();
        if t.is_empty() {
            continue;
        }
        let mut skip = |reason: String| {
            out.skipped.push(SkippedName {
                line,
                text: t.to_string(),
                reason,
            })
        };
        match parse_identifier(t) {
            Ok(id @ Identifier::Host { .. }) => {
                if let Some(first) = seen.get(&id) {
                    skip(format!("the same host as line {first}"));
                    continue;
                }
                seen.insert(id.clone(), line);
                if let Identifier::Host { short, fqdn } = id {
                    entries.push((line, t.to_string(), short, fqdn.is_some()));
                }
            }
            Ok(other) => {
                let what = match other.kind() {
                    IdentifierKind::Ip => "an IP address",
                    IdentifierKind::Cidr => "a CIDR",
                    IdentifierKind::Account => "an account",
                    IdentifierKind::Sid => "a SID",
                    IdentifierKind::Host => "a hostname",
                };
                skip(format!("not a hostname but {what}"))
            }
            Err(e) => skip(e.to_string()),
        }
    }
    let mut fqdns_by_short: rustc_hash::FxHashMap<&str, Vec<usize>> = Default::default();
    for (k, e) in entries.iter().enumerate() {
        if e.3 {
            fqdns_by_short.entry(e.2.as_str()).or_default().push(k);
        }
    }
    let mut group_of = vec![usize::MAX; entries.len()];
    let mut pending = Vec::new();
    for (k, (line, text, short, is_fqdn)) in entries.iter().enumerate() {
        let owners = fqdns_by_short
            .get(short.as_str())
            .map_or(&[][..], Vec::as_slice);
        match (*is_fqdn, owners) {
            (false, [owner]) => pending.push((k, *owner)),
            (false, [_, _, ..]) => out.skipped.push(SkippedName {
                line: *line,
                text: text.clone(),
                reason: format!(
                    "ambiguous: the first label of {} listed FQDNs",
                    owners.len()
                ),
            }),
            _ => {
                group_of[k] = out.groups.len();
                out.groups.push(vec![text.clone()]);
            }
        }
    }
    for (k, owner) in pending {
        out.groups[group_of[owner]].push(entries[k].1.clone());
    }
    out.skipped.sort_by_key(|s| s.line);
    out
}
