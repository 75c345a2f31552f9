//! The entity mapping: which event fields name a host, an address, an account, a SID, a
//! process, a hash or a file, in which role, and which values are noise. One
//! user-editable YAML file (format in `docs/entities.md`); the default,
//! `mapping/entities.yml`, is embedded.
//!
//! A field's role comes from the default `fields:` table, replaced field by field by
//! every `events:` entry whose `when:` holds for the detection (in file order, the last
//! one wins), so the same `IpAddress` is the *source* of a 4624 logon but the
//! *destination* of a 4648 explicit-credential logon.
//!
//! The file is read by the bounded, positioned YAML reader (`vigie-yaml`); every problem
//! is reported at once, each with the file, line and column.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use vigie_model::identity::{parse_identifier, Cidr, Identifier};
use vigie_yaml::{parse_yaml, Limits, Node, Pos, Value};

use crate::Role;

/// The embedded default entity mapping (`mapping/entities.yml`).
pub const DEFAULT_ENTITY_MAPPING: &str = include_str!("../mapping/entities.yml");

/// Largest mapping file read, in bytes (the default is ~10 KiB).
pub const MAX_MAPPING_BYTES: u64 = 16 << 20;

/// How a field's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    /// A hostname, a machine account `HOST$` or an address (an address gives an IP
    /// entity, anything else a host entity).
    Host,
    /// An IP address (read like [`FieldKind::Host`]: a hostname in an IP field is kept
    /// as the host it names).
    Ip,
    /// `DOMAIN\user`, `user@domain` or `user`, with the domain optionally in another
    /// field; a machine account `HOST$` is the host.
    Account,
    Sid,
    /// A process image path.
    Process,
    /// A file path.
    File,
    /// One hash of a known type (`FieldSpec::hash_type`).
    Hash,
    /// A list `TYPE=hex,TYPE=hex` (Sysmon's `Hashes`), split by type.
    Hashes,
    /// A DNS name looked up or connected to (`QueryName`, `DestinationHostname`):
    /// entities are read as for [`FieldKind::Host`] (a host entity, or an IP entity for
    /// an address); threat intelligence matches it against domain indicators.
    Domain,
    /// A URL (`url.full`): no entity (respond's entities have no URL kind); threat
    /// intelligence matches it against URL indicators, and its host against domain and
    /// address indicators.
    Url,
}

impl FieldKind {
    const NAMES: [(&'static str, FieldKind); 10] = [
        ("host", FieldKind::Host),
        ("ip", FieldKind::Ip),
        ("account", FieldKind::Account),
        ("sid", FieldKind::Sid),
        ("process", FieldKind::Process),
        ("file", FieldKind::File),
        ("hash", FieldKind::Hash),
        ("hashes", FieldKind::Hashes),
        ("domain", FieldKind::Domain),
        ("url", FieldKind::Url),
    ];

    /// The name the mapping file uses (`host`, `hashes`, `domain`...).
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
}

const ROLES: [(&str, Role); 5] = [
    ("host", Role::Host),
    ("source", Role::Source),
    ("destination", Role::Destination),
    ("actor", Role::Actor),
    ("target", Role::Target),
];

/// What one event field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub kind: FieldKind,
    pub role: Role,
    /// For accounts: the field holding the domain (`TargetDomainName`), used when the
    /// value itself has none.
    pub domain: Option<Arc<str>>,
    /// For [`FieldKind::Hash`]: the hash type, upper-case (`SHA256`).
    pub hash_type: Option<String>,
}

/// One `events:` entry: field roles that apply when one of its alternatives holds.
#[derive(Debug, Clone)]
struct EventRule {
    /// Alternatives (OR), each a list of conditions (AND): key → accepted values,
    /// lower-case text.
    when: Vec<Vec<(String, Vec<String>)>>,
    /// Field → its spec here; `None`: the field names no entity in these events.
    fields: FxHashMap<Arc<str>, Option<FieldSpec>>,
}

/// Names compared case-insensitively, exactly or by prefix (`DWM-*`).
#[derive(Debug, Clone, Default)]
struct Patterns {
    exact: FxHashSet<String>,
    prefixes: Vec<String>,
}

impl Patterns {
    fn add(&mut self, text: &str) {
        let t = text.trim().to_lowercase();
        match t.strip_suffix('*') {
            Some(p) => self.prefixes.push(p.to_string()),
            None => {
                self.exact.insert(t);
            }
        }
    }

    /// Whether `lower` (already lower-case) is listed.
    fn has(&self, lower: &str) -> bool {
        self.exact.contains(lower) || self.prefixes.iter().any(|p| lower.starts_with(p.as_str()))
    }
}

/// Values that are never entities (`noise:` of the file).
#[derive(Debug, Clone, Default)]
pub(crate) struct Noise {
    /// Any field: these raw values (trimmed, case-folded).
    values: FxHashSet<String>,
    hosts: Patterns,
    ips: Vec<Cidr>,
    /// By the user part of an account, any domain.
    accounts: Patterns,
    /// Accounts of these domains (`NT AUTHORITY`), by the domain's first label.
    account_domains: Patterns,
    sids: Patterns,
}

impl Noise {
    pub(crate) fn value(&self, raw: &str) -> bool {
        self.values.contains(&raw.trim().to_lowercase())
    }

    pub(crate) fn host(&self, short: &str, fqdn: Option<&str>) -> bool {
        self.hosts.has(short) || fqdn.is_some_and(|f| self.hosts.has(f))
    }

    pub(crate) fn ip(&self, ip: IpAddr) -> bool {
        self.ips.iter().any(|c| c.contains(ip))
    }

    pub(crate) fn account(&self, domain: Option<&str>, user: &str) -> bool {
        self.accounts.has(user) || domain.is_some_and(|d| self.account_domains.has(d))
    }

    pub(crate) fn sid(&self, sid: &str) -> bool {
        self.sids.has(&sid.to_lowercase())
    }
}

/// The entity mapping (see the module docs). `Default` is the embedded file.
#[derive(Debug, Clone)]
pub struct EntityMapping {
    /// Condition key → the event fields tried for it, first present wins.
    keys: FxHashMap<String, Vec<Arc<str>>>,
    defaults: FxHashMap<Arc<str>, FieldSpec>,
    events: Vec<EventRule>,
    pub(crate) noise: Noise,
    /// Where it was read from (for messages).
    origin: String,
}

/// One problem of a mapping file, positioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    pub pos: Pos,
    pub message: String,
}

/// Why a mapping file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {size} bytes is more than the {max} accepted for an entity mapping", path.display())]
    TooBig { path: PathBuf, size: u64, max: u64 },
    /// Every problem found, in file order.
    #[error("{}", Problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<MappingProblem>,
    },
}

struct Problems<'a>(&'a str, &'a [MappingProblem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.1.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{}: {}", self.0, p.pos, p.message)?;
        }
        Ok(())
    }
}

impl Default for EntityMapping {
    fn default() -> EntityMapping {
        // The embedded file is tested (`the_default_mapping_loads`); failing here would
        // be a build defect, and a mapping naming nothing is the safe degradation.
        EntityMapping::parse(DEFAULT_ENTITY_MAPPING, "entities.yml (embedded)").unwrap_or_else(
            |e| {
                tracing::error!("embedded entity mapping is invalid: {e}");
                EntityMapping::empty("entities.yml (embedded)")
            },
        )
    }
}

impl EntityMapping {
    fn empty(origin: &str) -> EntityMapping {
        EntityMapping {
            keys: FxHashMap::default(),
            defaults: FxHashMap::default(),
            events: Vec::new(),
            noise: Noise::default(),
            origin: origin.to_string(),
        }
    }

    /// Reads a mapping file; errors name the file, line and column.
    pub fn load(path: impl AsRef<Path>) -> Result<EntityMapping, MappingError> {
        let path = path.as_ref();
        let io = |source| MappingError::Io {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_MAPPING_BYTES {
            return Err(MappingError::TooBig {
                path: path.to_path_buf(),
                size,
                max: MAX_MAPPING_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        EntityMapping::parse(&text, &path.display().to_string())
    }

    /// Parses a mapping from YAML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<EntityMapping, MappingError> {
        let limits = Limits {
            max_bytes: MAX_MAPPING_BYTES as usize,
            ..Limits::default()
        };
        let invalid = |problems| MappingError::Invalid {
            origin: origin.to_string(),
            problems,
        };
        let root = parse_yaml(text, &limits).map_err(|errs| {
            invalid(
                errs.into_iter()
                    .map(|e| MappingProblem {
                        pos: e.pos,
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        let mut r = Reader::default();
        let mut m = EntityMapping::empty(origin);
        r.root(&root, &mut m);
        if r.problems.is_empty() {
            Ok(m)
        } else {
            Err(invalid(r.problems))
        }
    }

    /// Where it was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every event field name the mapping can use: the fields of `fields:` and
    /// `events:`, their domain fields, the fields `when:` conditions read, plus
    /// `EventID` and `Channel`; sorted. What [`capture`](Self::capture) captures.
    pub fn capture_fields(&self) -> Vec<Arc<str>> {
        let mut names: FxHashSet<Arc<str>> = FxHashSet::default();
        names.insert(Arc::from("EventID"));
        names.insert(Arc::from("Channel"));
        let mut spec = |name: &Arc<str>, s: Option<&FieldSpec>| {
            names.insert(name.clone());
            if let Some(d) = s.and_then(|s| s.domain.as_ref()) {
                names.insert(d.clone());
            }
        };
        for (name, s) in &self.defaults {
            spec(name, Some(s));
        }
        for ev in &self.events {
            for (name, s) in &ev.fields {
                spec(name, s.as_ref());
            }
        }
        for ev in &self.events {
            for (key, _) in ev.when.iter().flatten() {
                match self.keys.get(key) {
                    Some(fields) => names.extend(fields.iter().cloned()),
                    None => {
                        names.insert(Arc::from(key.as_str()));
                    }
                }
            }
        }
        let mut v: Vec<Arc<str>> = names.into_iter().collect();
        v.sort();
        v
    }

    /// The capture set for `vigie_hunt::SessionOptions::capture`.
    pub fn capture(&self) -> Arc<vigie_hunt::Capture> {
        Arc::new(vigie_hunt::Capture::new(self.capture_fields()))
    }

    /// Indices of the `events:` entries that hold for an event whose fields `get` gives.
    pub(crate) fn matching_events<'m, 'v>(
        &'m self,
        get: &dyn Fn(&str) -> Option<&'v serde_json::Value>,
    ) -> Vec<usize> {
        let value = |key: &str| -> Option<String> {
            let v = match self.keys.get(key) {
                Some(fields) => fields.iter().find_map(|f| get(f)),
                None => get(key),
            }?;
            match v {
                serde_json::Value::String(s) => Some(s.trim().to_lowercase()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        };
        // Each key (`EventID`, `Channel`) is looked up and folded once per event, however
        // many entries test it.
        let mut cache: Vec<(&str, Option<String>)> = Vec::new();
        let mut holds = |key: &'m str, accepted: &[String]| {
            let i = match cache.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    cache.push((key, value(key)));
                    cache.len() - 1
                }
            };
            cache[i].1.as_ref().is_some_and(|v| accepted.contains(v))
        };
        let mut out = Vec::new();
        for (i, ev) in self.events.iter().enumerate() {
            let mut any = false;
            for alt in &ev.when {
                let mut all = true;
                for (key, accepted) in alt {
                    all = all && holds(key, accepted);
                }
                any = any || all;
            }
            if any {
                out.push(i);
            }
        }
        out
    }

    /// The spec of `field` in an event matched by `events` (from
    /// [`matching_events`](Self::matching_events)): the last matching entry naming the
    /// field, else the default; `None` when nothing maps it (or an entry nulls it).
    pub(crate) fn spec(&self, field: &str, events: &[usize]) -> Option<(&Arc<str>, &FieldSpec)> {
        for &i in events.iter().rev() {
            if let Some((name, s)) = self.events[i].fields.get_key_value(field) {
                return s.as_ref().map(|s| (name, s));
            }
        }
        self.defaults.get_key_value(field)
    }

    /// Every field the mapping types, with each distinct (kind, hash type) it can have in
    /// any event (its default and every `events:` entry naming it; a `null` names
    /// nothing and adds nothing), sorted by field then kind. What threat intelligence
    /// matches against (`vigie_intel::detect`): which event fields hold an address, a
    /// domain, a URL, a hash or a file name. The role is left out: an indicator matches a
    /// value wherever it is seen.
    pub fn typed_fields(&self) -> Vec<(Arc<str>, FieldKind, Option<String>)> {
        let mut out: Vec<(Arc<str>, FieldKind, Option<String>)> = Vec::new();
        let mut add = |name: &Arc<str>, s: &FieldSpec| {
            out.push((name.clone(), s.kind, s.hash_type.clone()));
        };
        for (name, s) in &self.defaults {
            add(name, s);
        }
        for ev in &self.events {
            for (name, s) in &ev.fields {
                if let Some(s) = s {
                    add(name, s);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The default spec of `field` (before any `events:` entry), for docs and tests.
    pub fn default_spec(&self, field: &str) -> Option<&FieldSpec> {
        self.defaults.get(field)
    }
}

/// Walks the YAML tree, collecting every problem.
#[derive(Default)]
struct Reader {
    problems: Vec<MappingProblem>,
}

fn is_null(n: &Node) -> bool {
    matches!(&n.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

impl Reader {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(MappingProblem {
            pos,
            message: message.into(),
        });
    }

    fn map<'n>(&mut self, n: &'n Node, what: &str) -> &'n [(Node, Node)] {
        match &n.value {
            Value::Map(entries) => entries,
            _ if is_null(n) => &[],
            _ => {
                self.err(
                    n.pos,
                    format!("{what}: expected a mapping, found {}", n.type_name()),
                );
                &[]
            }
        }
    }

    fn text<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n str> {
        match &n.value {
            Value::Scalar { text, .. } if !is_null(n) => Some(text),
            _ => {
                self.err(
                    n.pos,
                    format!("{what}: expected a text, found {}", describe(n)),
                );
                None
            }
        }
    }

    /// A text or a list of texts.
    fn texts<'n>(&mut self, n: &'n Node, what: &str) -> Vec<(Pos, &'n str)> {
        match &n.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| self.text(i, what).map(|t| (i.pos, t)))
                .collect(),
            _ => self
                .text(n, what)
                .map(|t| vec![(n.pos, t)])
                .unwrap_or_default(),
        }
    }

    fn root(&mut self, root: &Node, m: &mut EntityMapping) {
        const TOP: &str = "keys, noise, fields or events";
        let entries = match &root.value {
            Value::Map(entries) => entries,
            _ => {
                return self.err(
                    root.pos,
                    format!(
                        "an entity mapping is a mapping with {TOP}, found {}",
                        root.type_name()
                    ),
                )
            }
        };
        for (k, v) in entries {
            match k.as_scalar() {
                Some("keys") => self.keys(v, m),
                Some("noise") => self.noise(v, &mut m.noise),
                Some("fields") => {
                    for (pos, name, spec) in self.fields(v, "fields") {
                        match spec {
                            Some(s) => {
                                m.defaults.insert(name, s);
                            }
                            None => self.err(
                                pos,
                                format!("fields: {name}: a default cannot be null (leave the field out)"),
                            ),
                        }
                    }
                }
                Some("events") => self.events(v, m),
                _ => self.err(
                    k.pos,
                    format!("unknown key {}, expected {TOP}", describe(k)),
                ),
            }
        }
    }

    fn keys(&mut self, v: &Node, m: &mut EntityMapping) {
        for (k, fields) in self.map(v, "keys") {
            let Some(key) = self.text(k, "keys") else {
                continue;
            };
            let names = self
                .texts(fields, &format!("keys: {key}"))
                .into_iter()
                .map(|(_, t)| Arc::from(t))
                .collect();
            m.keys.insert(key.to_string(), names);
        }
    }

    fn noise(&mut self, v: &Node, noise: &mut Noise) {
        for (k, list) in self.map(v, "noise") {
            let Some(key) = self.text(k, "noise") else {
                continue;
            };
            const LISTS: [&str; 6] = [
                "values",
                "hosts",
                "ips",
                "accounts",
                "account_domains",
                "sids",
            ];
            if !LISTS.contains(&key) {
                self.err(
                    k.pos,
                    format!("unknown noise list `{key}`, expected {}", LISTS.join(", ")),
                );
                continue;
            }
            let what = format!("noise: {key}");
            let items = match &list.value {
                Value::Seq(_) => self.texts(list, &what),
                _ if is_null(list) => Vec::new(),
                _ => {
                    self.err(list.pos, format!("{what}: expected a list"));
                    continue;
                }
            };
            for (pos, t) in items {
                match key {
                    "values" => {
                        noise.values.insert(t.trim().to_lowercase());
                    }
                    "hosts" => noise.hosts.add(t),
                    "accounts" => noise.accounts.add(t),
                    // Accounts compare domains by their first label (`CORP` ≡
                    // `corp.example`), so the list does too.
                    "account_domains" => noise
                        .account_domains
                        .add(t.trim().split('.').next().unwrap_or(t)),
                    "sids" => noise.sids.add(t),
                    "ips" => match parse_identifier(t) {
                        Ok(Identifier::Ip(ip)) => noise.ips.push(Cidr {
                            network: ip,
                            prefix: if ip.is_ipv4() { 32 } else { 128 },
                        }),
                        Ok(Identifier::Cidr(c)) => noise.ips.push(c),
                        _ => self.err(pos, format!("{what}: {t:?} is not an IP address or CIDR")),
                    },
                    _ => {}
                }
            }
        }
    }

    /// A `fields:` mapping: field → spec or null.
    fn fields(&mut self, v: &Node, what: &str) -> Vec<(Pos, Arc<str>, Option<FieldSpec>)> {
        let mut out = Vec::new();
        for (k, s) in self.map(v, what) {
            let Some(name) = self.text(k, what) else {
                continue;
            };
            if is_null(s) {
                out.push((s.pos, Arc::from(name), None));
                continue;
            }
            if let Some(spec) = self.spec(s, &format!("{what}: {name}")) {
                out.push((s.pos, Arc::from(name), Some(spec)));
            }
        }
        out
    }

    fn spec(&mut self, n: &Node, what: &str) -> Option<FieldSpec> {
        let Value::Map(entries) = &n.value else {
            self.err(
                n.pos,
                format!(
                    "{what}: expected {{kind: ..., role: ...}} or null, found {}",
                    describe(n)
                ),
            );
            return None;
        };
        let (mut kind, mut role, mut domain, mut hash_type) = (None, None, None, None);
        let before = self.problems.len();
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("");
            match key {
                "kind" => kind = self.word(v, what, "kind", &FieldKind::NAMES),
                "role" => role = self.word(v, what, "role", &ROLES),
                "domain" => domain = self.text(v, &format!("{what}: domain")).map(Arc::from),
                "type" => {
                    hash_type = self
                        .text(v, &format!("{what}: type"))
                        .map(|t| t.trim().to_ascii_uppercase())
                }
                _ => self.err(
                    k.pos,
                    format!(
                        "{what}: unknown key {}, expected kind, role, domain or type",
                        describe(k)
                    ),
                ),
            }
        }
        if self.problems.len() > before {
            return None;
        }
        let (Some(kind), Some(role)) = (kind, role) else {
            self.err(n.pos, format!("{what}: needs both `kind` and `role`"));
            return None;
        };
        if domain.is_some() && kind != FieldKind::Account {
            self.err(
                n.pos,
                format!("{what}: `domain` only applies to kind account"),
            );
            return None;
        }
        match (kind, &hash_type) {
            (FieldKind::Hash, None) => {
                self.err(
                    n.pos,
                    format!("{what}: kind hash needs a `type` (SHA256, MD5...)"),
                );
                return None;
            }
            (FieldKind::Hash, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                self.err(n.pos, format!("{what}: `type` only applies to kind hash"));
                return None;
            }
        }
        Some(FieldSpec {
            kind,
            role,
            domain,
            hash_type,
        })
    }

    fn word<T: Copy>(&mut self, v: &Node, what: &str, key: &str, words: &[(&str, T)]) -> Option<T> {
        let t = self.text(v, &format!("{what}: {key}"))?;
        if let Some((_, w)) = words.iter().find(|(n, _)| *n == t) {
            return Some(*w);
        }
        let allowed: Vec<&str> = words.iter().map(|(n, _)| *n).collect();
        self.err(
            v.pos,
            format!(
                "{what}: unknown {key} `{t}`, expected one of {}",
                allowed.join(", ")
            ),
        );
        None
    }

    fn events(&mut self, v: &Node, m: &mut EntityMapping) {
        let items: &[Node] = match &v.value {
            Value::Seq(items) => items,
            _ if is_null(v) => &[],
            _ => return self.err(v.pos, "events: expected a list of entries"),
        };
        for (i, item) in items.iter().enumerate() {
            let mut what = format!("events[{i}]");
            if let Some(name) = item.get("name").and_then(Node::as_scalar) {
                what = format!("events[{i}] ({name})");
            }
            let mut rule = EventRule {
                when: Vec::new(),
                fields: FxHashMap::default(),
            };
            let (mut has_when, mut has_fields) = (false, false);
            for (k, val) in self.map(item, &what) {
                match k.as_scalar() {
                    Some("name") => {}
                    Some("when") => {
                        has_when = true;
                        rule.when = self.when(val, &what);
                    }
                    Some("fields") => {
                        has_fields = true;
                        rule.fields = self
                            .fields(val, &format!("{what}: fields"))
                            .into_iter()
                            .map(|(_, name, spec)| (name, spec))
                            .collect();
                    }
                    _ => self.err(
                        k.pos,
                        format!(
                            "{what}: unknown key {}, expected name, when or fields",
                            describe(k)
                        ),
                    ),
                }
            }
            if !has_when || !has_fields {
                // The entry's first key: where its `- ` is, which the reader does not
                // position.
                let pos = match &item.value {
                    Value::Map(entries) => entries.first().map_or(item.pos, |(k, _)| k.pos),
                    _ => item.pos,
                };
                self.err(pos, format!("{what}: needs `when` and `fields`"));
            }
            m.events.push(rule);
        }
    }

    fn when(&mut self, v: &Node, what: &str) -> Vec<Vec<(String, Vec<String>)>> {
        let what = format!("{what}: when");
        let Value::Seq(alts) = &v.value else {
            self.err(v.pos, format!("{what}: expected a list of alternatives"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for alt in alts {
            let Value::Map(conds) = &alt.value else {
                self.err(
                    alt.pos,
                    format!("{what}: each alternative is a mapping of field to values"),
                );
                continue;
            };
            let mut c = Vec::new();
            for (k, vals) in conds {
                let Some(key) = self.text(k, &what) else {
                    continue;
                };
                let accepted = self
                    .texts(vals, &format!("{what}: {key}"))
                    .into_iter()
                    .map(|(_, t)| t.trim().to_lowercase())
                    .collect();
                c.push((key.to_string(), accepted));
            }
            out.push(c);
        }
        out
    }
}

/// A node for a message: a scalar by its text, else its type.
fn describe(n: &Node) -> String {
    match n.as_scalar() {
        Some(t) if !is_null(n) => format!("`{t}`"),
        Some(_) => "nothing (null)".to_string(),
        None => n.type_name().to_string(),
    }
}
