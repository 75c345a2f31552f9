//! Entities from one detection, through the [`EntityMapping`].
//!
//! Where the values come from: a detection's captured event fields
//! ([`Detection::context`], see `vigie_hunt::SessionOptions::capture`), or, when nothing
//! was captured, the fields its rule matched ([`Detection::fields`]); for a correlation
//! hit (which has no event), its `group` fields (group-by field → value).
//! Each field name is read with its role in the detection's event (`events:` entries of
//! the mapping, by `Channel`/`EventID`...); a correlation's group rarely holds those
//! keys, so its fields take their default roles.
//!
//! Normalisation is `vigie_model::identity`'s (the same as the model's identifiers):
//! case-folding, an FQDN keeps its full name (it resolves by FQDN, then short name),
//! `HOST$` is the host, `::ffff:` is stripped. Noise (the mapping's `noise:` lists) is
//! never an entity. A bare account name (no domain) is `weak`.

use std::sync::Arc;

use serde_json::Value;
use vigie_hunt::Detection;
use vigie_model::identity::{
    account, host, normalize_ip, normalize_sid, parse_account, Identifier,
};

use crate::mapping::{EntityMapping, FieldKind, FieldSpec, Noise};
use crate::{Entity, EntityKind};

/// The 14 ATT&CK Enterprise tactics by short name, in kill-chain order.
pub const TACTICS: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Longest value read from a field: longer ones (a script block mapped by mistake) are
/// not names of anything.
const MAX_VALUE_BYTES: usize = 4096;

/// The entities a detection names, sorted and deduplicated (one per kind, role and
/// value; the first field name in order is kept).
pub fn extract(detection: &Detection, mapping: &EntityMapping) -> Vec<Entity> {
    let get = |name: &str| lookup(detection, name);
    let events = mapping.matching_events(&get);
    let mut out = Vec::new();
    let mut read = |name: &str, value: &Value| {
        if let Some((field, spec)) = mapping.spec(name, &events) {
            let domain = spec.domain.as_deref().and_then(get).and_then(text);
            read_value(
                spec,
                field,
                value,
                domain.as_deref(),
                &mapping.noise,
                &mut out,
            );
        }
    };
    for (name, v) in detection.context.iter().chain(matched(detection)) {
        read(name, v);
    }
    if let Some(c) = &detection.correlation {
        for (name, v) in &c.group {
            read(name, v);
        }
    }
    out.sort();
    out.dedup_by(|b, a| a.kind == b.kind && a.role == b.role && a.value == b.value);
    out
}

/// The fields the rule matched, when nothing was captured. With a context they are left
/// out: the context holds every mapped field the event has, under the event's names,
/// while a matched field goes by the rule's name, which may be a logsource alias of
/// another (`Image` for 4688's `NewProcessName`) and would name the same process twice.
fn matched(d: &Detection) -> &[(Arc<str>, Value)] {
    if d.context.is_empty() {
        &d.fields
    } else {
        &[]
    }
}

/// A field's value in a detection: context (else matched fields), then correlation group.
fn lookup<'d>(d: &'d Detection, name: &str) -> Option<&'d Value> {
    let find = |fs: &'d [(Arc<str>, Value)]| fs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v);
    find(&d.context).or_else(|| find(matched(d))).or_else(|| {
        d.correlation
            .as_ref()
            .and_then(|c| c.group.iter().find(|(k, _)| k == name).map(|(_, v)| v))
    })
}

/// A scalar as text (numbers too: an `EventID` or a numeric user id); `None` otherwise.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.len() <= MAX_VALUE_BYTES => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_value(
    spec: &FieldSpec,
    field: &Arc<str>,
    value: &Value,
    domain: Option<&str>,
    noise: &Noise,
    out: &mut Vec<Entity>,
) {
    // Arrays (ECS `host.ip`) hold one name per element.
    if let Value::Array(items) = value {
        for item in items.iter().filter(|i| !i.is_array()) {
            read_value(spec, field, item, domain, noise, out);
        }
        return;
    }
    let Some(raw) = text(value) else { return };
    if noise.value(&raw) {
        return;
    }
    let mut push = |kind, value: String, weak| {
        out.push(Entity {
            kind,
            role: spec.role,
            value,
            field: field.clone(),
            weak,
        })
    };
    match spec.kind {
        // A domain names a host as a host field does (what `QueryName` gave when it was
        // mapped `host`); a URL names no entity of respond's kinds.
        FieldKind::Host | FieldKind::Ip | FieldKind::Domain => {
            if let Some((kind, v)) = address(&raw, noise) {
                push(kind, v, false);
            }
        }
        FieldKind::Account => {
            if let Some((kind, v, weak)) = account_entity(&raw, domain, noise) {
                push(kind, v, weak);
            }
        }
        FieldKind::Sid => {
            if let Some(sid) = normalize_sid(&raw).filter(|s| !noise.sid(s)) {
                push(EntityKind::Sid, sid, false);
            }
        }
        FieldKind::Process | FieldKind::File => {
            if let Some(p) = path(&raw) {
                let kind = match spec.kind {
                    FieldKind::Process => EntityKind::Process,
                    _ => EntityKind::File,
                };
                push(kind, p, false);
            }
        }
        FieldKind::Hash => {
            if let Some(h) = spec.hash_type.as_deref().and_then(|t| hash(t, &raw)) {
                push(EntityKind::Hash, h, false);
            }
        }
        FieldKind::Hashes => {
            for part in raw.split([',', ';']) {
                if let Some(h) = part.split_once('=').and_then(|(t, hex)| hash(t, hex)) {
                    push(EntityKind::Hash, h, false);
                }
            }
        }
        FieldKind::Url => {}
    }
}

/// A host field's value: an address (IP entity) or a hostname / machine account (host
/// entity, its FQDN when it has one). `\\HOST` (UNC style, as some events write a
/// workstation) is the host.
fn address(raw: &str, noise: &Noise) -> Option<(EntityKind, String)> {
    let t = raw.trim();
    let t = t.strip_prefix("\\\\").unwrap_or(t);
    if let Some(ip) = normalize_ip(t) {
        return (!noise.ip(ip)).then(|| (EntityKind::Ip, ip.to_string()));
    }
    host_entity(host(t)?, noise)
}

fn host_entity(id: Identifier, noise: &Noise) -> Option<(EntityKind, String)> {
    match id {
        Identifier::Host { short, fqdn } if !noise.host(&short, fqdn.as_deref()) => {
            Some((EntityKind::Host, fqdn.unwrap_or(short)))
        }
        _ => None,
    }
}

/// An account field's value with its domain field: `(kind, value, weak)`; a machine
/// account is its host.
fn account_entity(
    raw: &str,
    domain: Option<&str>,
    noise: &Noise,
) -> Option<(EntityKind, String, bool)> {
    let t = raw.trim();
    // A domain written in the value itself wins over the domain field.
    let id = if t.contains(['\\', '@']) {
        parse_account(t)
    } else {
        // The identity parser takes a separate domain as given; one that could not be
        // written `DOMAIN\user` (a `\`, `@` or `/` in it) would not read back, so it is
        // left out and the name is bare.
        let domain = domain.filter(|d| {
            !noise.value(d) && !d.contains(['\\', '@', '/']) && !d.chars().any(char::is_control)
        });
        account(domain, t)
    }?;
    match id {
        Identifier::Account { domain, user } => {
            // `.\user` (a local account, as Windows writes it) comes back from the
            // identity parser with an empty domain: it is a bare name.
            let domain = domain.filter(|d| !d.is_empty());
            if noise.account(domain.as_deref(), &user) {
                return None;
            }
            Some(match domain {
                Some(d) => (EntityKind::Account, format!("{d}\\{user}"), false),
                None => (EntityKind::Account, user, true),
            })
        }
        host @ Identifier::Host { .. } => host_entity(host, noise).map(|(k, v)| (k, v, false)),
        _ => None,
    }
}

/// A process or file path: trimmed of blanks and quotes; a Windows path (drive letter or
/// backslash) is case-folded, as Windows compares it; others are kept as written.
fn path(raw: &str) -> Option<String> {
    let t = raw.trim().trim_matches('"').trim();
    if t.is_empty() || t.chars().any(char::is_control) {
        return None;
    }
    let b = t.as_bytes();
    let windows = t.contains('\\') || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':');
    Some(if windows {
        t.to_lowercase()
    } else {
        t.to_string()
    })
}

/// `TYPE=hex` with the type upper-case and the digits lower-case; `None` unless both
/// are well formed.
fn hash(kind: &str, hex: &str) -> Option<String> {
    let (kind, hex) = (kind.trim(), hex.trim());
    let ok = !kind.is_empty()
        && kind.bytes().all(|b| b.is_ascii_alphanumeric())
        && !hex.is_empty()
        && hex.len() <= 128
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| format!("{}={}", kind.to_ascii_uppercase(), hex.to_ascii_lowercase()))
}

impl Entity {
    /// A host entity's short name (first label of an FQDN), which is how an FQDN and a
    /// NetBIOS name of one host compare; `None` for other kinds.
    pub fn host_short(&self) -> Option<&str> {
        (self.kind == EntityKind::Host).then(|| self.value.split('.').next().unwrap_or(&self.value))
    }

    /// The entity as a `vigie_model` identifier (what [`resolve()`](crate::resolve()) looks up);
    /// `None` for processes, hashes and files, which name no asset.
    pub fn identifier(&self) -> Option<Identifier> {
        match self.kind {
            EntityKind::Host => host(&self.value),
            EntityKind::Ip => normalize_ip(&self.value).map(Identifier::Ip),
            EntityKind::Account => parse_account(&self.value),
            EntityKind::Sid => normalize_sid(&self.value).map(Identifier::Sid),
            EntityKind::Process | EntityKind::Hash | EntityKind::File => None,
        }
    }
}

/// ATT&CK technique ids and tactics from Sigma tags: `attack.t1059.001` → `T1059.001`,
/// `attack.credential-access` (or `credential_access`) → `credential-access`. Other
/// tags (groups, software, CAR, CVE) are left out. Techniques come back sorted and
/// deduplicated, tactics in kill-chain order.
pub fn attack_tags(tags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut techniques = Vec::new();
    let mut tactics = [false; TACTICS.len()];
    for tag in tags {
        let t = tag.trim().to_ascii_lowercase();
        let Some(rest) = t.strip_prefix("attack.") else {
            continue;
        };
        if is_technique(rest) {
            techniques.push(rest.to_ascii_uppercase());
        } else if let Some(i) = TACTICS.iter().position(|n| *n == rest.replace('_', "-")) {
            tactics[i] = true;
        }
    }
    techniques.sort();
    techniques.dedup();
    let tactics = TACTICS
        .iter()
        .zip(tactics)
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect();
    (techniques, tactics)
}

/// `t` + 4 digits, optionally `.` + 3 digits.
fn is_technique(s: &str) -> bool {
    let Some(id) = s.strip_prefix('t') else {
        return false;
    };
    let (base, sub) = match id.split_once('.') {
        Some((b, s)) => (b, Some(s)),
        None => (id, None),
    };
    let digits = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
    digits(base, 4) && sub.is_none_or(|s| digits(s, 3))
}
