//! The compiled-rule cache: what loading makes of the rule files (every rule, filter and
//! correlation parsed and compiled, every refusal), stored in one file so that the next
//! load of the same rules skips reading YAML and compiling detections.
//!
//! CONTRACT:
//! - Keyed by a SHA-256 over everything the stored form depends on: the cache format,
//!   the vigie version, the reading limits, the placeholders, the mapping and, in load
//!   order, every rule file's name and bytes (or why it could not be read). Any change to
//!   any of them is another key, so another file: a stale entry is never used.
//! - The cache is input, never trusted: the file carries a magic, the format version,
//!   its key and a SHA-256 of its payload; a file that fails any check, does not decode,
//!   or whose content breaks an invariant of the rule set (a field or selection index out
//!   of range, a condition nested deeper than [`MAX_EXPR_DEPTH`]) is ignored with the
//!   reason ([`CacheStatus::Rejected`]), the rules are loaded from their files and the
//!   entry is written again.
//! - What is stored is data only (no automaton, no regex): regexes are rebuilt lazily
//!   ([`crate::pattern::LazyRegex`]), literal indexes and routing are rebuilt from it at
//!   every load, as from freshly parsed rules.
//! - Writing is atomic (temporary file, then rename); a failure to write is a warning
//!   ([`LoadReport::cache_write_error`](crate::LoadReport)), never an error of the load.
//!   Only the [`KEEP`] most recent entries are kept in the directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::correlation::CorrelationDef;
use crate::detect::{ContainsSet, Detection, Expr, Pat, Test};
use crate::pattern::{GTok, LazyRegex, StrPat};
use crate::rule::{FilterDef, RuleDef};
use crate::types::{Refusal, RefusalKind};

/// Version of the stored form: bump it whenever a cached type or what loading makes of
/// a rule changes (the vigie version is part of the key too).
pub const FORMAT: u32 = 1;

const MAGIC: &[u8; 8] = b"VIGIERC\0";

/// Entries kept in a cache directory (the most recently written).
pub const KEEP: usize = 8;

/// Deepest condition accepted from a cache file (the condition parser's own bound on
/// rules is far below).
pub const MAX_EXPR_DEPTH: usize = 512;

/// What the cache did for one load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache directory given.
    #[default]
    Disabled,
    /// The rules came from the cache.
    Hit,
    /// No entry for these rules: loaded from the files (and stored).
    Miss,
    /// An entry existed but was not used (corrupt, truncated, another format...): the
    /// reason. Loaded from the files (and stored again).
    Rejected(String),
}

/// One refusal as stored.
type StoredRefusal = (
    Arc<str>,
    Option<usize>,
    Option<usize>,
    Option<String>,
    RefusalKind,
    String,
);

/// A loaded detection rule before routing and indexing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Loaded {
    pub def: RuleDef,
    pub path: Arc<str>,
    pub line: usize,
    /// `sha256:` digest of the YAML document (the key of a rule without `id`).
    pub digest: Arc<str>,
}

/// A correlation document: definition, file, line, document digest.
pub(crate) type Corr = (CorrelationDef, Arc<str>, usize, Arc<str>);

/// Everything loading makes of the files before routing and indexing: what is cached.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Stage {
    /// Field names in id order (the detections' `FieldId`s index it).
    pub field_names: Vec<Arc<str>>,
    pub rules: Vec<Loaded>,
    pub filters: Vec<(FilterDef, Arc<str>, usize)>,
    pub corrs: Vec<Corr>,
    /// Digest of every document read (rules, filters, correlations, refused ones).
    pub doc_digests: Vec<Arc<str>>,
    #[serde(with = "refusals")]
    pub refused: Vec<Refusal>,
}

mod refusals {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[Refusal], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|r| (&r.file, r.line, r.column, &r.rule, r.kind, &r.reason)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Refusal>, D::Error> {
        let v: Vec<StoredRefusal> = Vec::deserialize(d)?;
        Ok(v.into_iter()
            .map(|(file, line, column, rule, kind, reason)| Refusal {
                file,
                line,
                column,
                rule,
                kind,
                reason,
            })
            .collect())
    }
}

/// `IpNet` as its text (`10.0.0.0/8`).
pub(crate) mod ipnet_text {
    use super::*;
    use ipnet::IpNet;

    pub fn serialize<S: Serializer>(n: &IpNet, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(n)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IpNet, D::Error> {
        let t = String::deserialize(d)?;
        t.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for LazyRegex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LazyRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked again: the cache is input.
        LazyRegex::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ContainsSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.needles.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ContainsSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ContainsSet::new(Vec::deserialize(d)?))
    }
}

/// A glob token as stored: classes by number (the one class is `windash`'s dashes).
#[derive(Serialize, Deserialize)]
enum StoredTok {
    Char(char),
    Star,
    One,
    Dashes,
}

#[derive(Serialize, Deserialize)]
enum StoredPat {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Vec<u8>),
    Frags {
        first: String,
        mids: Vec<Vec<u8>>,
        last: String,
    },
    Glob(Vec<StoredTok>),
    Any,
}

impl Serialize for StrPat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = match self {
            StrPat::Exact(t) => StoredPat::Exact(t.clone()),
            StrPat::Prefix(t) => StoredPat::Prefix(t.clone()),
            StrPat::Suffix(t) => StoredPat::Suffix(t.clone()),
            StrPat::Contains(f) => StoredPat::Contains(f.needle().to_vec()),
            StrPat::Frags { first, mids, last } => StoredPat::Frags {
                first: first.clone(),
                mids: mids.iter().map(|m| m.needle().to_vec()).collect(),
                last: last.clone(),
            },
            StrPat::Glob(toks) => StoredPat::Glob(
                toks.iter()
                    .map(|t| match t {
                        GTok::Char(c) => Ok(StoredTok::Char(*c)),
                        GTok::Star => Ok(StoredTok::Star),
                        GTok::One => Ok(StoredTok::One),
                        GTok::Class(c) if *c == crate::sstr::DASHES => Ok(StoredTok::Dashes),
                        GTok::Class(_) => Err(serde::ser::Error::custom(
                            "a character class other than windash's",
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            StrPat::Any => StoredPat::Any,
        };
        p.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StrPat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let finder = crate::pattern::Needle::new;
        Ok(match StoredPat::deserialize(d)? {
            StoredPat::Exact(t) => StrPat::Exact(t),
            StoredPat::Prefix(t) => StrPat::Prefix(t),
            StoredPat::Suffix(t) => StrPat::Suffix(t),
            StoredPat::Contains(b) => StrPat::Contains(Box::new(finder(&b))),
            StoredPat::Frags { first, mids, last } => StrPat::Frags {
                first,
                mids: mids.iter().map(|m| finder(m)).collect(),
                last,
            },
            StoredPat::Glob(toks) => StrPat::Glob(
                toks.into_iter()
                    .map(|t| match t {
                        StoredTok::Char(c) => GTok::Char(c),
                        StoredTok::Star => GTok::Star,
                        StoredTok::One => GTok::One,
                        StoredTok::Dashes => GTok::Class(crate::sstr::DASHES),
                    })
                    .collect(),
            ),
            StoredPat::Any => StrPat::Any,
        })
    }
}

/// A condition as stored: post-order, so that neither writing nor reading recurses.
#[derive(Serialize, Deserialize)]
enum StoredOp {
    Sel(usize),
    Not,
    And(usize),
    Or(usize),
    AtLeast(usize, usize),
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Iterative post-order: (node, children pushed yet).
        let mut out = Vec::new();
        let mut stack: Vec<(&Expr, bool)> = vec![(self, false)];
        while let Some((e, expanded)) = stack.pop() {
            let kids: &[Expr] = match e {
                Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => v,
                Expr::Not(x) => std::slice::from_ref(&**x),
                Expr::Sel(_) => &[],
            };
            if expanded || kids.is_empty() {
                out.push(match e {
                    Expr::Sel(i) => StoredOp::Sel(*i),
                    Expr::Not(_) => StoredOp::Not,
                    Expr::And(v) => StoredOp::And(v.len()),
                    Expr::Or(v) => StoredOp::Or(v.len()),
                    Expr::AtLeast(n, v) => StoredOp::AtLeast(*n, v.len()),
                });
            } else {
                stack.push((e, true));
                for k in kids.iter().rev() {
                    stack.push((k, false));
                }
            }
        }
        out.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let ops: Vec<StoredOp> = Vec::deserialize(d)?;
        // (expression, its depth)
        let mut stack: Vec<(Expr, usize)> = Vec::new();
        let take = |stack: &mut Vec<(Expr, usize)>, n: usize| {
            if n > stack.len() {
                return Err(D::Error::custom("condition: operator without operands"));
            }
            let kids = stack.split_off(stack.len() - n);
            let depth = kids.iter().map(|(_, d)| *d).max().unwrap_or(0) + 1;
            if depth > MAX_EXPR_DEPTH {
                return Err(D::Error::custom("condition nested too deep"));
            }
            Ok((kids.into_iter().map(|(e, _)| e).collect::<Vec<_>>(), depth))
        };
        for op in ops {
            let node = match op {
                StoredOp::Sel(i) => (Expr::Sel(i), 1),
                StoredOp::Not => {
                    let (mut k, d) = take(&mut stack, 1)?;
                    match k.pop() {
                        Some(x) => (Expr::Not(Box::new(x)), d),
                        None => return Err(D::Error::custom("condition: `not` without operand")),
                    }
                }
                StoredOp::And(n) => {
                    let (k, d) = take(&mut stack, n)?;
                    (Expr::And(k), d)
                }
                StoredOp::Or(n) => {
                    let (k, d) = take(&mut stack, n)?;
                    (Expr::Or(k), d)
                }
                StoredOp::AtLeast(m, n) => {
                    let (k, d) = take(&mut stack, n)?;
                    (Expr::AtLeast(m, k), d)
                }
            };
            stack.push(node);
        }
        match (stack.pop(), stack.is_empty()) {
            (Some((e, _)), true) => Ok(e),
            _ => Err(D::Error::custom("condition: not exactly one expression")),
        }
    }
}

/// The invariants matching relies on (indexes in range): a cache entry breaking one is
/// rejected.
fn check_detection(d: &Detection, n_fields: usize) -> Result<(), String> {
    let field_ok = |f: Option<u32>| f.is_none_or(|f| (f as usize) < n_fields);
    for s in &d.sels {
        for t in s.alts.iter().flatten() {
            if !field_ok(t.field) {
                return Err(format!("field id {:?} out of range", t.field));
            }
            if let Test::Match { pats, .. } = &t.test {
                for p in pats {
                    if let Pat::FieldRef { other, .. } = p {
                        if !field_ok(Some(*other)) {
                            return Err(format!("field id {other} out of range"));
                        }
                    }
                }
            }
        }
    }
    let mut stack = vec![&d.expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Sel(i) if *i >= d.sels.len() => {
                return Err(format!("selection {i} out of range"));
            }
            Expr::Sel(_) => {}
            Expr::Not(x) => stack.push(x),
            Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => stack.extend(v.iter()),
        }
    }
    Ok(())
}

impl Stage {
    fn check(&self) -> Result<(), String> {
        let n = self.field_names.len();
        for r in &self.rules {
            check_detection(&r.def.detection, n)?;
        }
        for (f, _, _) in &self.filters {
            check_detection(&f.detection, n)?;
        }
        Ok(())
    }
}

/// Incremental key of one load (see the module contract).
pub(crate) struct Key(Sha256);

impl Key {
    pub fn new(opts_text: &str) -> Key {
        let mut h = Sha256::new();
        h.update(MAGIC);
        h.update(FORMAT.to_le_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(b"\0");
        Key::part(&mut h, opts_text.as_bytes());
        Key(h)
    }

    fn part(h: &mut Sha256, b: &[u8]) {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    }

    /// One source: its name and its bytes (or the text of why it cannot be read).
    pub fn source(&mut self, name: &str, bytes: Result<&[u8], String>) {
        Key::part(&mut self.0, name.as_bytes());
        match bytes {
            Ok(b) => {
                self.0.update([1]);
                Key::part(&mut self.0, b);
            }
            Err(e) => {
                self.0.update([0]);
                Key::part(&mut self.0, e.as_bytes());
            }
        }
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

fn entry_path(dir: &Path, key: &[u8; 32]) -> PathBuf {
    dir.join(format!("rules-{}.bin", crate::load::hex(&key[..16])))
}

const HEADER: usize = 8 + 4 + 32 + 8 + 32;

/// The stage stored under `key`: `Ok(None)` when there is no entry, `Err` (the reason)
/// when there is one that cannot be used.
pub(crate) fn read(dir: &Path, key: &[u8; 32]) -> Result<Option<Stage>, String> {
    let path = entry_path(dir, key);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let bad = |why: &str| Err(format!("{}: {why}", path.display()));
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return bad("not a vigie rule cache (bad magic or truncated header)");
    }
    let format = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if format != FORMAT {
        return bad(&format!("cache format {format}, expected {FORMAT}"));
    }
    if bytes[12..44] != key[..] {
        return bad("stored for other rules (key differs)");
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&bytes[44..52]);
    let len = u64::from_le_bytes(len8);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len {
        return bad(&format!(
            "payload is {} bytes, header says {len} (truncated?)",
            payload.len()
        ));
    }
    let sum: [u8; 32] = Sha256::digest(payload).into();
    if bytes[52..84] != sum[..] {
        return bad("checksum mismatch (corrupt)");
    }
    let stage: Stage = match postcard::from_bytes(payload) {
        Ok(s) => s,
        Err(e) => return bad(&format!("does not decode: {e}")),
    };
    if let Err(e) = stage.check() {
        return bad(&format!("inconsistent content: {e}"));
    }
    Ok(Some(stage))
}

/// Stores `stage` under `key`, atomically; then keeps only the [`KEEP`] newest entries.
pub(crate) fn write(dir: &Path, key: &[u8; 32], stage: &Stage) -> Result<PathBuf, String> {
    let payload = postcard::to_stdvec(stage).map_err(|e| format!("cannot encode: {e}"))?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&payload);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let path = entry_path(dir, key);
    let tmp = dir.join(format!(
        ".rules-{}.{}.tmp",
        crate::load::hex(&key[..8]),
        std::process::id()
    ));
    std::fs::write(&tmp, &out).map_err(|e| format!("{}: cannot write: {e}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: cannot write: {e}", path.display()));
    }
    prune(dir, &path);
    Ok(path)
}

/// Removes all but the [`KEEP`] most recently modified entries (best effort).
fn prune(dir: &Path, keep: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("rules-") && n.ends_with(".bin")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if entries.len() <= KEEP {
        return;
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (_, p) in entries.into_iter().skip(KEEP) {
        if p != keep {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(e: &Expr) -> Expr {
        let b = postcard::to_stdvec(e).unwrap_or_default();
        postcard::from_bytes(&b).unwrap_or(Expr::Sel(usize::MAX))
    }

    #[test]
    fn conditions_roundtrip_without_recursion() {
        let e = Expr::And(vec![
            Expr::Sel(0),
            Expr::Not(Box::new(Expr::Or(vec![Expr::Sel(1), Expr::Sel(2)]))),
            Expr::AtLeast(2, vec![Expr::Sel(3), Expr::Sel(4), Expr::Sel(0)]),
        ]);
        assert_eq!(format!("{:?}", roundtrip(&e)), format!("{e:?}"));
        // Deep nesting is refused on reading, not a stack overflow.
        let mut deep = Expr::Sel(0);
        for _ in 0..(MAX_EXPR_DEPTH + 10) {
            deep = Expr::Not(Box::new(deep));
        }
        let b = postcard::to_stdvec(&deep).unwrap_or_default();
        assert!(postcard::from_bytes::<Expr>(&b).is_err());
        // An operator without operands is refused.
        let b = postcard::to_stdvec(&vec![StoredOp::And(3)]).unwrap_or_default();
        assert!(postcard::from_bytes::<Expr>(&b).is_err());
    }

    #[test]
    fn string_patterns_roundtrip() {
        use crate::sstr::SStr;
        for p in ["abc", "ab*", "*cd", "*bc*", "a*c*e", "prog?.exe", "*", ""] {
            let sp = StrPat::compile(&SStr::parse(p));
            let b = postcard::to_stdvec(&sp).unwrap_or_default();
            let back: StrPat = postcard::from_bytes(&b).unwrap_or(StrPat::Any);
            assert_eq!(back.describe(), sp.describe(), "{p}");
        }
        let w = StrPat::compile(&SStr::parse("* -enc *").windash());
        let b = postcard::to_stdvec(&w).unwrap_or_default();
        let back: StrPat = postcard::from_bytes(&b).unwrap_or(StrPat::Any);
        assert!(back.is_match("powershell \u{2013}enc abc"));
    }
}
