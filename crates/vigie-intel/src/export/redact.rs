//! What must not leave the operator: the [`Redactor`] knows what is internal (addresses,
//! domains, names) and how to name an asset without naming it (its role in the model).
//!
//! Internal addresses: RFC 1918 (10/8, 172.16/12, 192.168/16), loopback (127/8, ::1),
//! link-local (169.254/16, fe80::/10), unique local (fc00::/7), shared address space
//! (100.64/10, RFC 6598: carrier-grade NAT), unspecified, broadcast and multicast, the
//! IPv4-mapped forms of these, and every address or CIDR that a model asset lists among
//! its `identifiers` (its public addresses included: they name the operator's own
//! machines). Internal domains: single labels, the suffixes `.local`, `.lan`,
//! `.internal`, `.intranet`, `.corp`, `.home.arpa`, `.localdomain`, every host name the
//! model lists and every name under the parent domain of one (`empweb01.dmz.example.fr`
//! makes `dmz.example.fr` and below internal).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ipnet::IpNet;
use rustc_hash::FxHashMap;
use vigie_model::{AssetKind, Model};

/// What replaces a sensitive string in free text.
pub const REDACTED: &str = "[redacted]";

const INTERNAL_SUFFIXES: [&str; 7] = [
    "local",
    "lan",
    "internal",
    "intranet",
    "corp",
    "home.arpa",
    "localdomain",
];

/// Knows what is internal to one operator model (plus the names seen in one export).
#[derive(Debug, Clone)]
pub struct Redactor {
    nets: Vec<IpNet>,
    /// Lower-case DNS names and suffixes that are the operator's.
    domains: Vec<String>,
    /// Lower-case sensitive strings (asset ids, identifiers, names seen in detections).
    sensitive: Vec<String>,
    matcher: Option<AhoCorasick>,
    roles: FxHashMap<String, String>,
}

impl Redactor {
    /// What `model` names: its asset ids and identifiers are sensitive, its addresses
    /// and host names internal.
    pub fn new(model: &Model) -> Redactor {
        let mut r = Redactor {
            nets: Vec::new(),
            domains: Vec::new(),
            sensitive: Vec::new(),
            matcher: None,
            roles: FxHashMap::default(),
        };
        for a in &model.assets {
            r.sensitive.push(a.id.to_lowercase());
            for id in &a.identifiers {
                let t = id.trim();
                if let Ok(ip) = t.parse::<IpAddr>() {
                    r.nets.push(IpNet::from(ip));
                } else if let Ok(net) = t.parse::<IpNet>() {
                    r.nets.push(net);
                } else if looks_like_fqdn(t) {
                    let d = t.trim_end_matches('.').to_lowercase();
                    if let Some((_, parent)) = d.split_once('.') {
                        if parent.contains('.') {
                            r.domains.push(parent.to_string());
                        }
                    }
                    r.domains.push(d);
                }
                r.sensitive.push(t.to_lowercase());
                // `DOMAIN\user` and `user@domain` also go by the user alone (the domain
                // alone is often the operator's public name).
                if let Some((_, user)) = t.split_once('\\') {
                    r.sensitive.push(user.to_lowercase());
                }
                if let Some((user, _)) = t.split_once('@') {
                    r.sensitive.push(user.to_lowercase());
                }
            }
        }
        r.domains.sort();
        r.domains.dedup();
        let roles: Vec<(String, String)> = model
            .assets
            .iter()
            .map(|a| (a.id.clone(), role_of(model, a)))
            .collect();
        r.rebuild();
        for (id, role) in roles {
            let role = if r.leaks(&role).is_empty() {
                role
            } else {
                // The display name names something: fall back to the kind alone.
                let a = model.assets.iter().find(|a| a.id == id);
                a.map(|a| generic_role(model, a)).unwrap_or_default()
            };
            r.roles.insert(id, role);
        }
        r
    }

    /// Adds names seen in the export (host names, accounts, SIDs, internal addresses of
    /// the detections) to the sensitive strings.
    pub fn add_sensitive<'s>(&mut self, names: impl IntoIterator<Item = &'s str>) {
        for n in names {
            let t = n.trim();
            if t.len() >= 2 {
                self.sensitive.push(t.to_lowercase());
                if let Some((_, user)) = t.split_once('\\') {
                    if user.len() >= 2 {
                        self.sensitive.push(user.to_lowercase());
                    }
                }
            }
        }
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.sensitive.retain(|s| !s.is_empty());
        self.sensitive.sort();
        self.sensitive.dedup();
        self.matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&self.sensitive)
            .ok();
    }

    /// The sensitive strings (lower case), for tests and the summary.
    pub fn sensitive(&self) -> &[String] {
        &self.sensitive
    }

    /// Is `ip` internal (see the module docs)?
    pub fn is_internal_ip(&self, ip: IpAddr) -> bool {
        is_special(ip) || self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Is `name` one of the operator's DNS names, or a name that only makes sense
    /// inside it?
    pub fn is_internal_domain(&self, name: &str) -> bool {
        let d = name.trim_end_matches('.').to_ascii_lowercase();
        if !d.contains('.') {
            return true;
        }
        let under = |suffix: &str| d == suffix || d.ends_with(&format!(".{suffix}"));
        INTERNAL_SUFFIXES.iter().any(|s| under(s)) || self.domains.iter().any(|s| under(s))
    }

    /// The role of asset `id` in the model ("EMP front end (application, Partner and
    /// enterprise DMZ)", "privileged service account"); `None` for an unknown id.
    pub fn role(&self, id: &str) -> Option<&str> {
        self.roles.get(id).map(String::as_str)
    }

    /// The sensitive strings `text` contains (whole words: not inside a longer word).
    pub fn leaks<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.word_matches(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    /// `text` with every sensitive string replaced by [`REDACTED`], and how many were.
    pub fn scrub(&self, text: &str) -> (String, usize) {
        let hits = self.word_matches(text);
        if hits.is_empty() {
            return (text.to_string(), 0);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for &(s, e) in &hits {
            out.push_str(&text[at..s]);
            out.push_str(REDACTED);
            at = e;
        }
        out.push_str(&text[at..]);
        (out, hits.len())
    }

    fn word_matches(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        m.find_iter(text)
            .filter(|h| {
                let before = text[..h.start()].chars().next_back();
                let after = text[h.end()..].chars().next();
                !word(before) && !word(after)
            })
            .map(|h| (h.start(), h.end()))
            .collect()
    }
}

/// Loopback, private, link-local, shared, unique-local, unspecified, broadcast,
/// multicast, documentation-free test: what is never an address on the Internet.
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xfe00) == 0xfc00
        }
    }
}

fn special_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || o[0] == 0
}

fn looks_like_fqdn(s: &str) -> bool {
    s.contains('.')
        && !s.contains(['\\', '@', ' ', '/'])
        && s.parse::<Ipv6Addr>().is_err()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn kind_words(k: AssetKind) -> &'static str {
    match k {
        AssetKind::Host => "host",
        AssetKind::Application => "application",
        AssetKind::Database => "database",
        AssetKind::NetworkDevice => "network device",
        AssetKind::Account => "account",
        AssetKind::Group => "group",
    }
}

fn zone_name<'m>(model: &'m Model, a: &vigie_model::Asset) -> Option<&'m str> {
    let z = a.zone.as_deref()?;
    model.zones.iter().find(|x| x.id == z).map(|x| {
        if x.name.is_empty() {
            x.id.as_str()
        } else {
            x.name.as_str()
        }
    })
}

/// An asset's role: its display name, kind and zone for a machine or application;
/// for an identity only what it is (service or user account, privileged or not): the
/// display names of accounts often name people.
fn role_of(model: &Model, a: &vigie_model::Asset) -> String {
    if a.kind.is_identity() || a.name.trim().is_empty() {
        return generic_role(model, a);
    }
    match zone_name(model, a) {
        Some(z) => format!("{} ({}, {z})", a.name.trim(), kind_words(a.kind)),
        None => format!("{} ({})", a.name.trim(), kind_words(a.kind)),
    }
}

fn generic_role(model: &Model, a: &vigie_model::Asset) -> String {
    if a.kind.is_identity() {
        let privileged = administers(model, &a.id);
        let service = a.name.to_ascii_lowercase().contains("service");
        let what = match (a.kind, service) {
            (AssetKind::Group, _) => "group",
            (_, true) => "service account",
            _ => "user account",
        };
        return if privileged {
            format!("privileged {what}")
        } else {
            what.to_string()
        };
    }
    let crit = a.criticality.as_str();
    match zone_name(model, a) {
        Some(z) => format!("{crit}-criticality {} in {z}", kind_words(a.kind)),
        None => format!("{crit}-criticality {}", kind_words(a.kind)),
    }
}

/// Does identity `id` administer some asset, directly or through the groups it is a
/// member of?
fn administers(model: &Model, id: &str) -> bool {
    let mut seen: Vec<&str> = vec![id];
    let mut i = 0;
    while i < seen.len() {
        let cur = seen[i];
        if model
            .assets
            .iter()
            .any(|a| a.admins.iter().any(|x| x == cur))
        {
            return true;
        }
        for g in model
            .assets
            .iter()
            .filter(|g| g.kind == AssetKind::Group && g.members.iter().any(|m| m == cur))
        {
            if !seen.contains(&g.id.as_str()) {
                seen.push(&g.id);
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses() {
        for s in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.3.4",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_special(s.parse().unwrap()), "{s}");
        }
        for s in ["203.0.113.77", "8.8.8.8", "2001:db8::1", "172.32.0.1"] {
            assert!(!is_special(s.parse().unwrap()), "{s}");
        }
    }
}
