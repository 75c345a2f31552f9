//! The observables of one detection: what its entities and fields name, split into what
//! may be shared (external addresses, domains, URLs, file names and hashes) and what is
//! internal (counted, and kept only with `--include-internal`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Value};
use vigie_incident::{EntityKind, ObservedDetection, Role};

use super::ids::sco_id;
use super::redact::Redactor;

/// A value worth an indicator (external, seen in a detection).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ioc {
    /// (STIX hash name, lower-case hex).
    Hash(&'static str, String),
    Ip(IpAddr),
    Domain(String),
    Url(String),
}

impl Ioc {
    /// Stable key (ids) and readable form.
    pub fn key(&self) -> String {
        match self {
            Ioc::Hash(a, h) => format!("file:hashes.{a}={h}"),
            Ioc::Ip(ip) => format!("{}:{ip}", ip_type(*ip)),
            Ioc::Domain(d) => format!("domain-name:{d}"),
            Ioc::Url(u) => format!("url:{u}"),
        }
    }

    /// The STIX pattern that matches it.
    pub fn pattern(&self) -> String {
        match self {
            Ioc::Hash(a, h) => {
                let path = if a.contains('-') {
                    format!("'{a}'")
                } else {
                    (*a).to_string()
                };
                format!("[file:hashes.{path} = '{}']", literal(h))
            }
            Ioc::Ip(ip) => format!("[{}:value = '{ip}']", ip_type(*ip)),
            Ioc::Domain(d) => format!("[domain-name:value = '{}']", literal(d)),
            Ioc::Url(u) => format!("[url:value = '{}']", literal(u)),
        }
    }

    /// What it is, for names ("SHA-256 1523e2c4...", "IPv4 address 203.0.113.77").
    pub fn describe(&self) -> String {
        match self {
            Ioc::Hash(a, h) => format!("file {a} {h}"),
            Ioc::Ip(IpAddr::V4(ip)) => format!("IPv4 address {ip}"),
            Ioc::Ip(IpAddr::V6(ip)) => format!("IPv6 address {ip}"),
            Ioc::Domain(d) => format!("domain {d}"),
            Ioc::Url(u) => format!("URL {u}"),
        }
    }
}

fn ip_type(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "ipv4-addr",
        IpAddr::V6(_) => "ipv6-addr",
    }
}

/// A pattern string literal's body: `\` and `'` escaped.
fn literal(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The observables of one detection.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// SCOs (with their deterministic ids), by id.
    pub scos: BTreeMap<String, Value>,
    /// Indicator-worthy values, each with the SCO id that carries it.
    pub iocs: BTreeMap<Ioc, String>,
    /// Values left out, by reason.
    pub redacted: BTreeMap<&'static str, u64>,
}

static IPV4: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").ok());
static IPV6: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,4}){2,8}").ok());
static URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)\b(?:https?|ftp)://[^\s'"<>`]+"#).ok());

/// STIX name of an entity's hash type (`SHA256=...`); `None` for those STIX has no
/// name for (`IMPHASH`).
fn hash_name(t: &str) -> Option<&'static str> {
    match t.to_ascii_uppercase().replace('-', "").as_str() {
        "MD5" => Some("MD5"),
        "SHA1" => Some("SHA-1"),
        "SHA256" => Some("SHA-256"),
        "SHA512" => Some("SHA-512"),
        _ => None,
    }
}

/// Whether `hex` is a whole hash of the STIX algorithm `name`.
fn is_hash(name: &str, hex: &str) -> bool {
    let len = match name {
        "MD5" => 32,
        "SHA-1" => 40,
        "SHA-256" => 64,
        "SHA-512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

fn kind_name(k: EntityKind) -> String {
    match serde_json::to_value(k) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Every string inside `v`.
fn strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

impl Seen {
    fn add_sco(&mut self, mut obj: Value) -> Option<String> {
        let id = sco_id(&obj)?;
        if let Some(m) = obj.as_object_mut() {
            m.insert("id".into(), Value::String(id.clone()));
            m.insert("spec_version".into(), Value::String("2.1".into()));
        }
        self.scos.entry(id.clone()).or_insert(obj);
        Some(id)
    }

    fn redact(&mut self, why: &'static str) {
        *self.redacted.entry(why).or_insert(0) += 1;
    }

    fn ip(&mut self, ip: IpAddr, r: &Redactor, include_internal: bool) {
        let internal = r.is_internal_ip(ip);
        if internal && !include_internal {
            self.redact("internal_address");
            return;
        }
        let sco = json!({"type": ip_type(ip), "value": ip.to_string()});
        if let Some(id) = self.add_sco(sco) {
            if !internal {
                self.iocs.insert(Ioc::Ip(ip), id);
            }
        }
    }

    fn domain(&mut self, d: &str, r: &Redactor, include_internal: bool) {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        if !valid_domain(&d) {
            return;
        }
        let internal = r.is_internal_domain(&d);
        if internal && !include_internal {
            self.redact("internal_domain");
            return;
        }
        if let Some(id) = self.add_sco(json!({"type": "domain-name", "value": d})) {
            if !internal {
                self.iocs.insert(Ioc::Domain(d), id);
            }
        }
    }

    fn url(&mut self, u: &str, r: &Redactor, include_internal: bool) {
        let u = u.trim_end_matches(['.', ',', ';', ')', ']']);
        let Some(rest) = u.split_once("://").map(|x| x.1) else {
            return;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        let host = if let Some(h) = host.strip_prefix('[') {
            h.split(']').next().unwrap_or("")
        } else {
            host.split(':').next().unwrap_or("")
        };
        let internal = match host.parse::<IpAddr>() {
            Ok(ip) => r.is_internal_ip(ip),
            Err(_) => !valid_domain(&host.to_ascii_lowercase()) || r.is_internal_domain(host),
        };
        if internal && !include_internal {
            self.redact("internal_url");
            return;
        }
        if let Some(id) = self.add_sco(json!({"type": "url", "value": u})) {
            if !internal {
                self.iocs.insert(Ioc::Url(u.to_string()), id);
            }
        }
    }
}

fn valid_domain(d: &str) -> bool {
    d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && d.rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

/// The observables of `d`.
pub(crate) fn observe(d: &ObservedDetection, r: &Redactor, include_internal: bool) -> Seen {
    let mut seen = Seen::default();
    // Files: a process image or file path with the hashes of the same role.
    let mut files: Vec<(Role, String, BTreeMap<String, String>)> = Vec::new();
    let mut hashes: Vec<(Role, &'static str, String)> = Vec::new();
    for e in &d.entities {
        let v = &e.entity.value;
        match e.entity.kind {
            EntityKind::Ip => match v.parse::<IpAddr>() {
                Ok(ip) => seen.ip(ip, r, include_internal),
                Err(_) => seen.redact("unreadable_address"),
            },
            EntityKind::Host => {
                let fqdn_dest = e.asset.is_none()
                    && e.entity.role == Role::Destination
                    && valid_domain(&v.to_ascii_lowercase())
                    && !r.is_internal_domain(v);
                if fqdn_dest {
                    seen.domain(v, r, include_internal);
                } else if include_internal && valid_domain(&v.to_ascii_lowercase()) {
                    seen.domain(v, r, true);
                } else if !include_internal {
                    seen.redact("host");
                }
            }
            EntityKind::Account => {
                if include_internal {
                    seen.add_sco(json!({"type": "user-account", "account_login": v}));
                } else {
                    seen.redact("account");
                }
            }
            EntityKind::Sid => {
                if include_internal {
                    seen.add_sco(json!({"type": "user-account", "user_id": v}));
                } else {
                    seen.redact("sid");
                }
            }
            EntityKind::Process | EntityKind::File => {
                let parent = e.entity.field.to_ascii_lowercase().contains("parent");
                if !parent || include_internal {
                    let role = if parent { Role::Source } else { e.entity.role };
                    files.push((role, v.clone(), BTreeMap::new()));
                }
            }
            EntityKind::Hash => {
                let Some((t, hex)) = v.split_once('=') else {
                    continue;
                };
                match hash_name(t) {
                    Some(n) if is_hash(n, hex) => {
                        hashes.push((e.entity.role, n, hex.to_ascii_lowercase()))
                    }
                    // A log's placeholder (`SHA256=00`) is no indicator: STIX (and the
                    // validator) want the algorithm's full length in hex.
                    Some(_) => seen.redact("malformed_hash"),
                    None => seen.redact("unsupported_hash"),
                }
            }
            #[allow(unreachable_patterns)]
            other => match kind_name(other).as_str() {
                "domain" => seen.domain(v, r, include_internal),
                "url" => seen.url(v, r, include_internal),
                _ => seen.redact("other_entity"),
            },
        }
    }
    for (role, algo, hex) in hashes {
        match files.iter_mut().find(|f| f.0 == role) {
            Some(f) => {
                f.2.insert(algo.to_string(), hex);
            }
            None => files.push((
                role,
                String::new(),
                BTreeMap::from([(algo.to_string(), hex)]),
            )),
        }
    }
    for (_, path, h) in files {
        let name = basename(&path);
        if !include_internal && name.len() < path.len() {
            seen.redact("file_path");
        }
        let mut sco = serde_json::Map::new();
        sco.insert("type".into(), Value::String("file".into()));
        if !name.is_empty() {
            sco.insert("name".into(), Value::String(name.to_string()));
        }
        if !h.is_empty() {
            sco.insert(
                "hashes".into(),
                Value::Object(h.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
            );
        }
        if let Some(id) = seen.add_sco(Value::Object(sco)) {
            for (algo, hex) in &h {
                if let Some(a) = hash_name(algo) {
                    seen.iocs.insert(Ioc::Hash(a, hex.clone()), id.clone());
                }
            }
        }
    }
    // Addresses and URLs written inside field values (command lines, messages).
    let mut texts = Vec::new();
    for (_, v) in d.detection.fields.iter().chain(&d.detection.context) {
        strings(v, &mut texts);
    }
    texts.sort_unstable();
    texts.dedup();
    for t in texts {
        if let Some(re) = URL.as_ref() {
            for m in re.find_iter(t) {
                seen.url(m.as_str(), r, include_internal);
            }
        }
        if let Some(re) = IPV4.as_ref() {
            for m in re.find_iter(t) {
                if let Ok(ip) = m.as_str().parse::<IpAddr>() {
                    seen.ip(ip, r, include_internal);
                }
            }
        }
        if t.contains("::") || t.matches(':').count() >= 3 {
            if let Some(re) = IPV6.as_ref() {
                for m in re.find_iter(t) {
                    if let Ok(ip @ IpAddr::V6(_)) = m.as_str().parse::<IpAddr>() {
                        seen.ip(ip, r, include_internal);
                    }
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_quote_what_they_must() {
        assert_eq!(
            Ioc::Hash("SHA-256", "ab".into()).pattern(),
            "[file:hashes.'SHA-256' = 'ab']"
        );
        assert_eq!(
            Ioc::Hash("MD5", "ab".into()).pattern(),
            "[file:hashes.MD5 = 'ab']"
        );
        assert_eq!(
            Ioc::Url("http://x.example/a'b".into()).pattern(),
            "[url:value = 'http://x.example/a\\'b']"
        );
    }

    #[test]
    fn only_whole_hashes_are_indicators() {
        assert!(is_hash("SHA-256", &"a".repeat(64)));
        assert!(is_hash("MD5", &"0F".repeat(16)));
        assert!(!is_hash("SHA-256", "00"));
        assert!(!is_hash("SHA-1", &"g".repeat(40)));
        assert!(!is_hash("SHA-512", &"a".repeat(64)));
    }

    #[test]
    fn domains() {
        assert!(valid_domain("evil.example"));
        assert!(!valid_domain("evil"));
        assert!(!valid_domain("1.2.3.4"));
        assert!(!valid_domain("a..b"));
    }
}
