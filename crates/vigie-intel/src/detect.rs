//! Indicators inside detection: an [`IntelMatcher`] is a [`vigie_hunt::ExtraMatcher`]
//! that the streaming session runs after the Sigma matcher on every event, so that an
//! indicator hit is an ordinary [`Match`] of a rule of kind
//! [`RuleKind::Indicator`]: it is levelled, reported, rendered, stored, captured for
//! entity extraction and grouped into incidents by the code that handles Sigma hits.
//!
//! Contract:
//! - **Registration.** [`IntelMatcher::new`] registers one rule per indicator with
//!   [`RuleSet::add_external`]: key and id = the indicator id, title = its name (the id
//!   when it has none), tags = its labels then `attack.<technique>` lowercased
//!   (`attack.t1059.001`), path = the file it came from, level from its confidence
//!   ([`level_of`]). The rule of indicator `i` is `first + i`.
//! - **Which fields.** The event fields that hold each IoC type are those of respond's
//!   entity mapping ([`EntityMapping::typed_fields`], one source of truth): `ip` fields
//!   are looked up as addresses (IPv4 also against CIDRs, `::ffff:` mapped IPv4 as IPv4),
//!   `host` fields as addresses, or else as domains (`\\HOST` and a trailing dot
//!   stripped), `domain` fields as domains or addresses, `url` fields as URLs and their
//!   host as a domain or address, `hash` fields as their declared type, `hashes` fields
//!   (`SHA1=..,MD5=..,SHA256=..`) split by type (other types, e.g. `IMPHASH`, ignored),
//!   `process` and `file` fields by their file name (the part after the last `\` or
//!   `/`). Accounts and SIDs are not matched. Arrays are matched element by element.
//! - **Simple indicators** (plain values, and STIX patterns that are an OR of
//!   `[type:path = 'lit']`) are looked up in the typed [`IntelIndex`]; the walk of an
//!   event allocates nothing unless something matches (a per-thread buffer holds index
//!   answers and folded text).
//! - **Pattern indicators** (every other STIX pattern) are evaluated on a synthetic
//!   observed-data of the event ([`IntelMatcher::observed`]): one cyber-observable per
//!   typed value (`ipv4-addr`/`ipv6-addr`, `domain-name`, `url` with `value`; `file`
//!   with `name` for each process and file name; one `file` with the event's `hashes`
//!   by STIX hash name, `MD5`, `SHA-1`, `SHA-256`), first and last observed at the event
//!   time, `number_observed` 1. Built only for events with at least one typed value, and
//!   only when pattern indicators exist.
//! - **Validity.** A hit is kept when the event time is within the indicator's
//!   `[valid_from, valid_until)` (STIX: `valid_until` is the first instant it is no longer
//!   valid); an event without a time is matched (nothing says it is outside). Left-out
//!   hits are counted ([`IntelStats::outside_validity`]).
//! - **Warning lists.** A value that matched but is on a warning list (known benign, MISP
//!   format) is not reported; counted by list ([`IntelStats::suppressed`]).
//! - One match per (event, indicator): its fields are every event field whose value
//!   matched, by the field's name, in walk order.
//!
//! Level from confidence (STIX 2.1 Appendix A, the None / Low / Med / High scale):
//! no confidence → `medium`; 0 → `informational`; 1–29 → `low`; 30–69 → `medium`;
//! 70–100 → `high`. `critical` is left to Sigma rules and correlations: an indicator
//! says a value was seen, not that an incident is under way.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigie_event::Event;
use vigie_incident::{EntityMapping, FieldKind};
use vigie_sigma::{Level, Match, RuleId, RuleKind, RuleMeta, RuleSet};

use crate::feed::{Format, LoadOptions, Source};
use crate::index::IntelIndex;
use crate::indicator::{Indicator, IndicatorBody, IndicatorSet, IocType};
use pattern_shim::{ObservedData, Pattern};

// TEMPORARY: stands for `crate::pattern` until the pattern engine (branch h-pattern)
// lands; every pattern indicator is refused meanwhile.
mod pattern_shim {
    use chrono::{DateTime, Utc};
    pub struct Pattern;
    pub struct Evaluation {
        pub matched: bool,
    }
    pub struct ObservedData;
    impl Pattern {
        pub fn parse(_: &str) -> Result<Pattern, String> {
            Err("the STIX pattern engine is not built yet".into())
        }
        pub fn evaluate(&self, _: &[ObservedData]) -> Evaluation {
            Evaluation { matched: false }
        }
    }
    impl ObservedData {
        pub fn new(
            _: DateTime<Utc>,
            _: DateTime<Utc>,
            _: u64,
            _: Vec<(String, serde_json::Value)>,
        ) -> ObservedData {
            ObservedData
        }
    }
}
use crate::warninglist::WarningLists;

/// Why indicators could not be used at all (a bad indicator is refused and listed, not
/// an error).
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("indicator path {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("warning lists: {0}")]
    WarningLists(#[from] crate::warninglist::WarningListError),
}

/// Indicators loaded and registered.
#[derive(Debug)]
pub struct Loaded {
    pub matcher: IntelMatcher,
    /// Every refused indicator, line or file: `file:position: reason`.
    pub refused: Vec<String>,
    /// What each source gave (ioc's report; refusals are in `refused` too).
    pub report: crate::feed::LoadReport,
}

/// Loads the indicators of `paths` (each `[TYPE:]PATH`, [`Source::parse`]) and of the
/// STIX objects `shared` (a TAXII collection's content; its `indicator` objects), the
/// warning lists of `warning_lists`, and registers the indicators in `rules`
/// ([`IntelMatcher::new`]). A path that does not exist and unreadable warning lists are
/// errors; everything else refused is listed in [`Loaded::refused`].
pub fn load(
    paths: &[PathBuf],
    warning_lists: Option<&Path>,
    shared: &[Value],
    mapping: &EntityMapping,
    rules: &mut RuleSet,
) -> Result<Loaded, DetectError> {
    let sources: Vec<Source> = paths
        .iter()
        .map(|p| Source::parse(&p.to_string_lossy()))
        .collect();
    for s in &sources {
        if std::fs::symlink_metadata(&s.path).is_err() {
            return Err(DetectError::Missing(s.path.clone()));
        }
    }
    let warnings = warning_lists.map(WarningLists::load).transpose()?;
    let opts = LoadOptions::default();
    let (mut set, mut report) = crate::feed::load(&sources, &opts);
    if !shared.is_empty() {
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": shared,
        });
        let (more, r) = crate::feed::parse_str(
            Format::StixBundle,
            &bundle.to_string(),
            "taxii:shared",
            None,
            &opts,
        );
        set.extend(more);
        report.sources.extend(r.sources);
        report.refused.extend(r.refused);
    }
    let mut refused: Vec<String> = report.refused.iter().map(|r| r.to_string()).collect();
    let (matcher, bad_patterns) = IntelMatcher::new(&set, mapping, warnings, rules);
    refused.extend(bad_patterns);
    Ok(Loaded {
        matcher,
        refused,
        report,
    })
}

/// The rule level of an indicator of this confidence (module docs).
pub fn level_of(confidence: Option<u8>) -> Level {
    match confidence {
        None => Level::Medium,
        Some(0) => Level::Informational,
        Some(1..=29) => Level::Low,
        Some(30..=69) => Level::Medium,
        Some(_) => Level::High,
    }
}

/// The key of the rule of indicators that share their metadata (every entry of one
/// list): `ioc-list--` + 32 hex digits of SHA-256 over `<file name>\0<name>`.
pub fn list_rule_key(source: &str, name: &str) -> String {
    let file = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let mut h = Sha256::new();
    h.update(file.as_bytes());
    h.update(b"\0");
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut key = String::from("ioc-list--");
    for b in &d[..16] {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// The rule an indicator is registered as, under `key`.
pub fn rule_meta(ind: &Indicator, key: &str, path: Arc<str>) -> RuleMeta {
    RuleMeta {
        key: Arc::from(key),
        id: Some(key.to_string()),
        name: None,
        title: if ind.name().trim().is_empty() {
            key.to_string()
        } else {
            ind.name().to_string()
        },
        level: level_of(ind.confidence()),
        tags: ind.tags(),
        kind: RuleKind::Indicator,
        path,
        report: true,
        status: None,
        logsource: None,
    }
}

/// What a typed event field is looked up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    /// An address (IPv4 also against CIDRs); anything else is not looked up.
    Ip,
    /// An address, else a domain.
    Host,
    /// A domain, or an address written as one.
    Domain,
    /// A URL, and its host as a domain or address.
    Url,
    /// One hash of this type.
    Hash(IocType),
    /// `TYPE=hex,TYPE=hex`.
    Hashes,
    /// A path: its file name.
    FileName,
}

impl Look {
    fn of(kind: FieldKind, hash_type: Option<&str>) -> Option<Look> {
        Some(match kind {
            FieldKind::Ip => Look::Ip,
            FieldKind::Host => Look::Host,
            FieldKind::Domain => Look::Domain,
            FieldKind::Url => Look::Url,
            FieldKind::Hash => Look::Hash(hash_type.and_then(hash_type_of)?),
            FieldKind::Hashes => Look::Hashes,
            FieldKind::Process | FieldKind::File => Look::FileName,
            FieldKind::Account | FieldKind::Sid => return None,
        })
    }
}

/// `SHA256`, `SHA-256`, `sha256`... → the hash type; `None` for types not indexed.
fn hash_type_of(t: &str) -> Option<IocType> {
    let t = t.trim();
    let is = |a: &str, b: &str| t.eq_ignore_ascii_case(a) || t.eq_ignore_ascii_case(b);
    if is("SHA256", "SHA-256") {
        Some(IocType::Sha256)
    } else if is("SHA1", "SHA-1") {
        Some(IocType::Sha1)
    } else if is("MD5", "MD-5") {
        Some(IocType::Md5)
    } else {
        None
    }
}

/// What a matcher did since it was built, shared by every worker thread.
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    outside_validity: AtomicU64,
    suppressed: Mutex<BTreeMap<String, u64>>,
}

/// The counts of an [`IntelMatcher`] since it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntelStats {
    /// Indicators matched.
    pub indicators: u64,
    /// Rules they are registered as (indicators sharing their metadata, the entries
    /// of one list, are one rule).
    pub rules: u64,
    /// Indicators evaluated as STIX patterns on each event.
    pub patterns: u64,
    /// Matches reported: one per event and rule.
    pub hits: u64,
    /// Matches left out: event time outside the indicator's validity.
    pub outside_validity: u64,
    /// Matched values on a warning list, by list name: not reported.
    pub suppressed: BTreeMap<String, u64>,
}

/// One typed event field.
#[derive(Debug, Clone)]
struct FieldLook {
    name: Arc<str>,
    looks: Vec<Look>,
}

/// Validity of one rule.
type Validity = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Indicators as a detection source (see the module docs).
pub struct IntelMatcher {
    first: RuleId,
    index: IntelIndex,
    /// Indicator position → its rule, relative to `first` (`u32::MAX`: refused).
    rule_of: Vec<u32>,
    /// Per rule.
    validity: Vec<Validity>,
    /// Indicators evaluated as patterns: (rule, pattern).
    patterns: Vec<(u32, Pattern)>,
    fields: FxHashMap<Arc<str>, FieldLook>,
    /// Bit `n` set when some typed field name is `n` bytes long (63: 63 or longer): most
    /// event field names are rejected without hashing.
    name_lengths: u64,
    warnings: Option<WarningLists>,
    indicators: u64,
    counters: Counters,
}

impl std::fmt::Debug for IntelMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelMatcher")
            .field("first", &self.first)
            .field("indicators", &self.indicators)
            .field("rules", &self.validity.len())
            .field("patterns", &self.patterns.len())
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

/// Per-thread buffers of the walk.
#[derive(Default)]
struct Bufs {
    /// Index answers for one value.
    found: Vec<u32>,
    /// Folded text (lower-cased domains).
    text: String,
    /// (rule, index in `out`) of the matches of the current event.
    seen: Vec<(u32, usize)>,
}

thread_local! {
    static BUFS: RefCell<Bufs> = RefCell::new(Bufs::default());
}

fn len_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

/// Where one matched value came from.
struct At<'e> {
    field: &'e Arc<str>,
    raw: &'e Value,
    time: Option<DateTime<Utc>>,
}

impl IntelMatcher {
    /// Registers the indicators of `set` in `rules` (module docs) and builds the
    /// matcher; `mapping` says which event fields hold which type (respond's entity
    /// mapping), `warnings` the known-benign values. Pattern indicators whose pattern
    /// does not parse are not registered: the second value lists them
    /// (`source: indicator ID: pattern: error`).
    pub fn new(
        set: &IndicatorSet,
        mapping: &EntityMapping,
        warnings: Option<WarningLists>,
        rules: &mut RuleSet,
    ) -> (IntelMatcher, Vec<String>) {
        let mut refused = Vec::new();
        let mut parsed: FxHashMap<u32, Pattern> = FxHashMap::default();
        for (i, ind, body) in set.patterns() {
            match Pattern::parse(&body.text) {
                Ok(p) => {
                    parsed.insert(i, p);
                }
                Err(e) => refused.push(format!(
                    "{}: indicator {}: pattern: {e}",
                    ind.source(),
                    ind.id
                )),
            }
        }
        // How many indicators share each metadata: a group of more than one (a list's
        // entries) is one rule.
        let meta_ptr = |ind: &Indicator| Arc::as_ptr(&ind.meta) as usize;
        let mut sharing: FxHashMap<usize, u32> = FxHashMap::default();
        for ind in &set.indicators {
            *sharing.entry(meta_ptr(ind)).or_insert(0) += 1;
        }
        let mut by_key: FxHashMap<Arc<str>, u32> = FxHashMap::default();
        let mut paths: FxHashMap<&str, Arc<str>> = FxHashMap::default();
        let mut metas: Vec<RuleMeta> = Vec::new();
        let mut validity: Vec<Validity> = Vec::new();
        let mut rule_of: Vec<u32> = Vec::with_capacity(set.indicators.len());
        let mut group_rule: FxHashMap<usize, u32> = FxHashMap::default();
        for (i, ind) in set.indicators.iter().enumerate() {
            if matches!(ind.what, IndicatorBody::Pattern(_)) && !parsed.contains_key(&(i as u32)) {
                rule_of.push(u32::MAX);
                continue;
            }
            let ptr = meta_ptr(ind);
            if let Some(&r) = group_rule.get(&ptr) {
                rule_of.push(r);
                continue;
            }
            let shared = sharing.get(&ptr).copied().unwrap_or(1) > 1;
            let key: Arc<str> = if shared {
                Arc::from(list_rule_key(ind.source(), ind.name()))
            } else {
                Arc::from(&*ind.id)
            };
            let r = match by_key.get(&key) {
                Some(&r) => r,
                None => {
                    let r = metas.len() as u32;
                    let path = paths
                        .entry(ind.source())
                        .or_insert_with(|| Arc::from(ind.source()))
                        .clone();
                    metas.push(rule_meta(ind, &key, path));
                    validity.push((ind.valid_from(), ind.valid_until()));
                    by_key.insert(key, r);
                    r
                }
            };
            if shared {
                group_rule.insert(ptr, r);
            }
            rule_of.push(r);
        }
        let first = rules.add_external(metas);
        let index = IntelIndex::build(set);
        let mut patterns: Vec<(u32, Pattern)> = parsed
            .into_iter()
            .filter_map(|(i, p)| {
                let r = *rule_of.get(i as usize)?;
                (r != u32::MAX).then_some((r, p))
            })
            .collect();
        patterns.sort_by_key(|(r, _)| *r);
        let mut fields: FxHashMap<Arc<str>, FieldLook> = FxHashMap::default();
        let mut name_lengths = 0u64;
        for (name, kind, hash_type) in mapping.typed_fields() {
            let Some(look) = Look::of(kind, hash_type.as_deref()) else {
                continue;
            };
            name_lengths |= len_bit(name.len());
            let e = fields.entry(name.clone()).or_insert_with(|| FieldLook {
                name: name.clone(),
                looks: Vec::new(),
            });
            if !e.looks.contains(&look) {
                e.looks.push(look);
            }
        }
        let m = IntelMatcher {
            first,
            index,
            rule_of,
            validity,
            patterns,
            fields,
            name_lengths,
            warnings,
            indicators: set.indicators.len() as u64 - refused.len() as u64,
            counters: Counters::default(),
        };
        (m, refused)
    }

    /// The first indicator rule (the others follow).
    pub fn first_rule(&self) -> RuleId {
        self.first
    }

    /// The rule of the indicator at `position` of the set it was built from.
    pub fn rule_of(&self, position: u32) -> Option<RuleId> {
        let r = *self.rule_of.get(position as usize)?;
        (r != u32::MAX).then_some(RuleId(self.first.0 + r))
    }

    /// Counts since the matcher was built.
    pub fn stats(&self) -> IntelStats {
        IntelStats {
            indicators: self.indicators,
            rules: self.validity.len() as u64,
            patterns: self.patterns.len() as u64,
            hits: self.counters.hits.load(Ordering::Relaxed),
            outside_validity: self.counters.outside_validity.load(Ordering::Relaxed),
            suppressed: self
                .counters
                .suppressed
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether rule `r` is valid at `t` (no time: valid).
    fn valid_at(&self, r: u32, t: Option<DateTime<Utc>>) -> bool {
        let Some(t) = t else { return true };
        let Some((from, until)) = self.validity.get(r as usize) else {
            return false;
        };
        from.is_none_or(|f| t >= f) && until.is_none_or(|u| t < u)
    }

    fn suppressed(&self, ty: IocType, value: &str) -> bool {
        let Some(list) = self.warnings.as_ref().and_then(|w| w.hits(ty, value)) else {
            return false;
        };
        if let Ok(mut m) = self.counters.suppressed.lock() {
            match m.get_mut(list) {
                Some(n) => *n += 1,
                None => {
                    m.insert(list.to_string(), 1);
                }
            }
        }
        true
    }

    /// Records what `b.found` holds (indicator positions matching `value` of type `ty`).
    fn found(&self, ty: IocType, value: &str, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) {
        if b.found.is_empty() || self.suppressed(ty, value) {
            return;
        }
        for k in 0..b.found.len() {
            let Some(&r) = self.rule_of.get(b.found[k] as usize) else {
                continue;
            };
            if r != u32::MAX {
                self.record(r, at, b, out);
            }
        }
    }

    fn record(&self, r: u32, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) {
        if let Some(&(_, i)) = b.seen.iter().find(|(s, _)| *s == r) {
            if let Some(m) = out.get_mut(i) {
                if !m.fields.iter().any(|(n, _)| Arc::ptr_eq(n, at.field)) {
                    m.fields.push((at.field.clone(), at.raw.clone()));
                }
            }
            return;
        }
        if !self.valid_at(r, at.time) {
            self.counters
                .outside_validity
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        b.seen.push((r, out.len()));
        self.counters.hits.fetch_add(1, Ordering::Relaxed);
        out.push(Match {
            rule: RuleId(self.first.0 + r),
            fields: vec![(at.field.clone(), at.raw.clone())],
        });
    }

    /// Looks an address up; false when `text` is none.
    fn lookup_ip(&self, text: &str, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) -> bool {
        let Some(ip) = address(text) else {
            return false;
        };
        b.found.clear();
        self.index.lookup_ip(ip, &mut b.found);
        if !b.found.is_empty() {
            let ty = if ip.is_ipv4() {
                IocType::Ipv4
            } else {
                IocType::Ipv6
            };
            self.found(ty, &ip.to_string(), at, b, out);
        }
        true
    }

    fn lookup_domain(&self, text: &str, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) {
        let t = text.trim();
        let t = t.strip_prefix("\\\\").unwrap_or(t);
        let t = t.strip_suffix('.').unwrap_or(t);
        if t.is_empty() || t.len() > 253 || !t.contains('.') {
            // A bare label (a NetBIOS name) is no domain of an indicator list.
            return;
        }
        let mut text = std::mem::take(&mut b.text);
        let v = fold(t, &mut text);
        b.found.clear();
        self.index.lookup_domain(v, &mut b.found);
        self.found(IocType::Domain, v, at, b, out);
        b.text = text;
    }

    fn lookup_hash(&self, ty: IocType, hex: &str, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) {
        let hex = hex.trim();
        let want = match ty {
            IocType::Md5 => 32,
            IocType::Sha1 => 40,
            _ => 64,
        };
        if hex.len() != want {
            return;
        }
        b.found.clear();
        self.index.lookup_hash(hex, &mut b.found);
        if !b.found.is_empty() {
            self.found(ty, &hex.to_ascii_lowercase(), at, b, out);
        }
    }

    fn value(&self, look: Look, s: &str, at: &At<'_>, b: &mut Bufs, out: &mut Vec<Match>) {
        if s.is_empty() || s.len() > 4096 {
            return;
        }
        match look {
            Look::Ip => {
                self.lookup_ip(s, at, b, out);
            }
            Look::Host | Look::Domain => {
                if !self.lookup_ip(s, at, b, out) {
                    self.lookup_domain(s, at, b, out);
                }
            }
            Look::Url => {
                let t = s.trim();
                b.found.clear();
                self.index.lookup(IocType::Url, t, &mut b.found);
                self.found(IocType::Url, t, at, b, out);
                if let Some(host) = url_host(t) {
                    if !self.lookup_ip(host, at, b, out) {
                        self.lookup_domain(host, at, b, out);
                    }
                }
            }
            Look::Hash(ty) => self.lookup_hash(ty, s, at, b, out),
            Look::Hashes => {
                for part in s.split([',', ';']) {
                    if let Some((t, hex)) = part.split_once('=') {
                        if let Some(ty) = hash_type_of(t) {
                            self.lookup_hash(ty, hex, at, b, out);
                        }
                    }
                }
            }
            Look::FileName => {
                let name = file_name(s);
                if !name.is_empty() {
                    b.found.clear();
                    self.index.lookup_file_name(name, &mut b.found);
                    if !b.found.is_empty() {
                        self.found(IocType::FileName, &name.to_lowercase(), at, b, out);
                    }
                }
            }
        }
    }

    /// The synthetic observed-data of `ev` that pattern indicators are evaluated on
    /// (module docs); `None` when the event has no typed value.
    pub fn observed(&self, ev: &Event) -> Option<ObservedData> {
        let mut objects: Vec<(String, Value)> = Vec::new();
        let mut hashes = serde_json::Map::new();
        let mut image: Option<String> = None;
        let mut scratch = String::new();
        fn push(objects: &mut Vec<(String, Value)>, ty: &str, prop: &str, v: &str) {
            let obj = serde_json::json!({ "type": ty, prop: v });
            if !objects.iter().any(|(_, o)| *o == obj) {
                objects.push((objects.len().to_string(), obj));
            }
        }
        ev.visit_fields(&mut scratch, &mut |name, v| {
            if self.name_lengths & len_bit(name.len()) == 0 {
                return;
            }
            let Some(fl) = self.fields.get(name) else {
                return;
            };
            let texts: Vec<&str> = match v {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for s in texts {
                let s = s.trim();
                if s.is_empty() || s.len() > 4096 {
                    continue;
                }
                for &look in &fl.looks {
                    match look {
                        Look::Ip | Look::Host | Look::Domain | Look::Url => {
                            let host = match look {
                                Look::Url => {
                                    push(&mut objects, "url", "value", s);
                                    url_host(s)
                                }
                                _ => Some(s),
                            };
                            let Some(h) = host else { continue };
                            match address(h) {
                                Some(IpAddr::V4(a)) => {
                                    push(&mut objects, "ipv4-addr", "value", &a.to_string())
                                }
                                Some(IpAddr::V6(a)) => {
                                    push(&mut objects, "ipv6-addr", "value", &a.to_string())
                                }
                                None if look != Look::Ip => {
                                    let d = h.trim_start_matches("\\\\").trim_end_matches('.');
                                    if d.contains('.') {
                                        push(
                                            &mut objects,
                                            "domain-name",
                                            "value",
                                            &d.to_lowercase(),
                                        );
                                    }
                                }
                                None => {}
                            }
                        }
                        Look::Hash(ty) => {
                            hashes.insert(stix_hash_name(ty).into(), Value::from(s));
                        }
                        Look::Hashes => {
                            for part in s.split([',', ';']) {
                                if let Some((t, hex)) = part.split_once('=') {
                                    if let Some(ty) = hash_type_of(t) {
                                        hashes.insert(
                                            stix_hash_name(ty).into(),
                                            Value::from(hex.trim()),
                                        );
                                    }
                                }
                            }
                        }
                        Look::FileName => {
                            let n = file_name(s);
                            if !n.is_empty() {
                                if &*fl.name == "Image" {
                                    image = Some(n.to_string());
                                }
                                push(&mut objects, "file", "name", n);
                            }
                        }
                    }
                }
            }
        });
        if !hashes.is_empty() {
            let mut file = serde_json::Map::new();
            file.insert("type".into(), Value::from("file"));
            if let Some(n) = image {
                file.insert("name".into(), Value::from(n));
            }
            file.insert("hashes".into(), Value::Object(hashes));
            objects.push((objects.len().to_string(), Value::Object(file)));
        }
        if objects.is_empty() {
            return None;
        }
        let t = ev.timestamp.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        Some(ObservedData::new(t, t, 1, objects))
    }
}

/// An address, or `None`: `::ffff:a.b.c.d` is the IPv4 address, brackets and an IPv6
/// zone are dropped.
fn address(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    let t = t.split_once('%').map_or(t, |(a, _)| a);
    if t.len() < 2
        || t.len() > 45
        || !t
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':')
    {
        return None;
    }
    let ip: IpAddr = t.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// The file name of a path (after the last `\` or `/`), quotes and blanks trimmed.
fn file_name(s: &str) -> &str {
    let t = s.trim().trim_matches('"');
    t.rsplit(['\\', '/']).next().unwrap_or(t)
}

fn stix_hash_name(ty: IocType) -> &'static str {
    match ty {
        IocType::Md5 => "MD5",
        IocType::Sha1 => "SHA-1",
        _ => "SHA-256",
    }
}

/// `s` lower-cased: borrowed when already lower-case, else folded into `buf`.
fn fold<'a>(s: &'a str, buf: &'a mut String) -> &'a str {
    if !s.bytes().any(|c| c.is_ascii_uppercase() || c >= 0x80) {
        return s;
    }
    buf.clear();
    buf.extend(s.chars().flat_map(char::to_lowercase));
    buf.as_str()
}

/// The host of `scheme://[user@]host[:port]/...` (an IPv6 host without its brackets).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split(['/', '?', '#']).next()?;
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split_once(']').map_or(v6, |(h, _)| h)
    } else {
        host.split_once(':').map_or(host, |(h, _)| h)
    };
    (!host.is_empty()).then_some(host)
}

impl vigie_hunt::ExtraMatcher for IntelMatcher {
    fn scan(&self, ev: &Event, scratch: &mut String, out: &mut Vec<Match>) {
        let start = out.len();
        BUFS.with_borrow_mut(|b| {
            b.seen.clear();
            let mut any_typed = false;
            ev.visit_fields(scratch, &mut |name, v| {
                if self.name_lengths & len_bit(name.len()) == 0 {
                    return;
                }
                let Some(fl) = self.fields.get(name) else {
                    return;
                };
                any_typed = true;
                let at = At {
                    field: &fl.name,
                    raw: v,
                    time: ev.timestamp,
                };
                for &look in &fl.looks {
                    match v {
                        Value::String(s) => self.value(look, s, &at, b, out),
                        Value::Array(items) => {
                            for it in items {
                                if let Value::String(s) = it {
                                    self.value(look, s, &at, b, out);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            });
            if any_typed && !self.patterns.is_empty() {
                if let Some(obs) = self.observed(ev) {
                    let obs = [obs];
                    let field: Arc<str> = Arc::from(PATTERN_FIELD);
                    for (r, p) in &self.patterns {
                        if p.evaluate(&obs).matched {
                            let at = At {
                                field: &field,
                                raw: &Value::Null,
                                time: ev.timestamp,
                            };
                            self.record(*r, &at, b, out);
                        }
                    }
                }
            }
        });
        // Matches in rule order, as the Sigma matcher gives them.
        if let Some(tail) = out.get_mut(start..) {
            tail.sort_by_key(|m| m.rule);
        }
    }
}

/// The field name under which a pattern indicator's match is reported (a `|` cannot
/// start an event field name).
pub const PATTERN_FIELD: &str = "|pattern";
