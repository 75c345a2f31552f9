//! Loading: files → YAML documents → rules, filters and correlations; refusals collected
//! with file, line (column when known) and reason; everything compiled into a [`RuleSet`].
//!
//! Each document goes through the bounded reader ([`crate::yaml`]): a file over
//! [`LoadOptions::limits`]`.max_bytes` is refused before it is read, and one nested too
//! deep or with an alias bomb is refused as [`RefusalKind::Limit`] in milliseconds, with
//! its position; the other files load.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::cache::{self, CacheStatus, Corr, Key, Loaded, Stage};
use crate::correlation;
use crate::detect::{Expr, FieldId};
use crate::mapping::{Mapping, Routing};
use crate::placeholders::Placeholders;
use crate::rule::{self, DocKind, FilterDef, Logsource, RuleDef};
use crate::ruleset::{CRule, Group, LsCond, RuleSet, Target};
use crate::types::{
    LoadError, LoadReport, LogsourceRouting, Refusal, RefusalKind, RoutingEntry, RuleId, RuleKind,
    RuleMeta,
};

/// A rule logsource's keys, lowercased.
type LsKey = (Option<String>, Option<String>, Option<String>);
use crate::values::{Env, Fail};
use crate::yaml::{self, Y};

/// How to load rules.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Logsource routing and field aliases (default: the embedded mapping).
    pub mapping: Mapping,
    /// Values for `|expand` placeholders; rules using a placeholder without a value are
    /// refused.
    pub placeholders: Option<Placeholders>,
    /// Refuse rules whose logsource the mapping cannot route (default: load them and
    /// apply their detection to every event; they are listed in the report).
    pub strict_logsource: bool,
    /// Bounds on reading one rule file: size (checked before reading), nesting depth,
    /// alias expansion. Default: [`yaml::default_limits`].
    pub limits: vigie_yaml::Limits,
    /// Directory of the compiled-rule cache ([`crate::cache`]); `None` (the default):
    /// no cache, every load reads and compiles every file.
    pub cache: Option<PathBuf>,
    /// Threads that read rule files, their YAML and compile their documents (0, the
    /// default: every core; 1: this thread only). Field ids are assigned and the rule set
    /// built on one thread, in document order, so the result is the same whatever the
    /// count.
    pub threads: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            mapping: Mapping::default(),
            placeholders: None,
            strict_logsource: false,
            limits: yaml::default_limits(),
            cache: None,
            threads: 0,
        }
    }
}

/// Why a rule file's text is not available.
enum SourceError {
    Io(std::io::Error),
    /// Bigger than the limit (its size in bytes): not read.
    TooBig(u64),
}

/// Reads a rule file, refusing it before reading when it is over `max` bytes.
/// One open and one `fstat` per file: over thousands of rule files the path lookups of
/// a separate `metadata` call were a few percent of the load.
fn read_source(p: &std::path::Path, max: usize) -> Result<String, SourceError> {
    use std::io::Read;
    let file = std::fs::File::open(p).map_err(SourceError::Io)?;
    let size = file.metadata().map_err(SourceError::Io)?.len();
    if size > max as u64 {
        return Err(SourceError::TooBig(size));
    }
    let mut text = String::with_capacity(size as usize);
    file.take(max as u64 + 1)
        .read_to_string(&mut text)
        .map_err(SourceError::Io)?;
    // The file may have grown since its size was read.
    if text.len() > max {
        return Err(SourceError::TooBig(text.len() as u64));
    }
    Ok(text)
}

/// One YAML document of a file.
struct Doc<'t> {
    text: &'t str,
    /// 1-based line of the document's first line.
    line: usize,
}

/// Splits a multi-document YAML file on `---` lines.
fn split_docs(text: &str) -> Vec<Doc<'_>> {
    // Most rule files are one document: no line-by-line walk for them.
    if memchr::memmem::find(text.as_bytes(), b"---").is_none() {
        return vec![Doc { text, line: 1 }];
    }
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut pos = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let t = l.trim_end();
        if t == "---" || t.starts_with("--- ") {
            docs.push(Doc {
                text: &text[start..pos],
                line: start_line,
            });
            start = pos + l.len();
            start_line = i + 2;
        }
        pos += l.len();
    }
    docs.push(Doc {
        text: &text[start..],
        line: start_line,
    });
    docs
}

/// Line of the first occurrence of `needle` in a document.
fn find_line(doc: &Doc, needle: &str) -> Option<usize> {
    doc.text
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| doc.line + i)
}

fn rule_label(y: &Y) -> Option<String> {
    let m = y.as_mapping()?;
    m.get("id")
        .and_then(Y::as_str)
        .or_else(|| m.get("title").and_then(Y::as_str))
        .map(str::to_string)
}

/// Rule files under the given paths. A given path that cannot be read is fatal; a
/// problem deeper in a directory (unreadable subdirectory, symlink loop) is a refusal.
fn collect_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Refusal>), LoadError> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        let md = std::fs::metadata(p).map_err(|e| LoadError::Io {
            path: p.clone(),
            source: e,
        })?;
        if md.is_dir() {
            let mut v = Vec::new();
            // Entries sorted per directory: the walk comes out in path order (what
            // sorting the whole list by `Path` gave, without comparing components).
            for e in walkdir::WalkDir::new(p)
                .follow_links(true)
                .sort_by_file_name()
            {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        let at = err.path().unwrap_or(p).display().to_string();
                        // The OS error alone: walkdir's own text repeats the path.
                        let reason = match err.io_error() {
                            Some(io) if err.loop_ancestor().is_none() => {
                                format!("cannot read: {io}")
                            }
                            _ => format!("cannot read: {err}"),
                        };
                        problems.push(Refusal {
                            file: Arc::from(at),
                            line: None,
                            column: None,
                            rule: None,
                            kind: RefusalKind::Unreadable,
                            reason,
                        });
                        continue;
                    }
                };
                let ext = e.path().extension().and_then(|x| x.to_str());
                if e.file_type().is_file() && matches!(ext, Some("yml" | "yaml")) {
                    v.push(e.into_path());
                }
            }
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    Ok((files, problems))
}

/// Interns field names into ids.
#[derive(Default)]
struct Fields {
    ids: FxHashMap<String, FieldId>,
    names: Vec<Arc<str>>,
}

impl Fields {
    fn from_names(names: Vec<Arc<str>>) -> Fields {
        let ids = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i as FieldId))
            .collect();
        Fields { ids, names }
    }

    fn intern(&mut self, n: &str) -> FieldId {
        if let Some(&i) = self.ids.get(n) {
            return i;
        }
        let i = self.names.len() as FieldId;
        self.ids.insert(n.to_string(), i);
        self.names.push(Arc::from(n));
        i
    }
}

/// One document, parsed.
enum Parsed {
    Rule(RuleDef),
    Filter(FilterDef),
    Correlation(Box<correlation::CorrelationDef>),
}

/// One document of a file read as YAML and compiled (the part of loading that runs in
/// parallel): its place in the file, its digest, and what it compiled to (with field
/// ids of its own, see [`Compiled`]) or why it is refused.
struct PreDoc {
    /// 1-based line of the document's first line.
    line: usize,
    digest: Arc<str>,
    compiled: Result<Compiled, Refusal>,
}

/// A document compiled on a worker thread. Its field ids index `names`, the fields it
/// interned in first-use order; [`parse_stage`] interns those names into the load's one
/// table in document order and renumbers the document, so the ids are exactly those a
/// one-thread compile gives (the compiled-rule cache and its tests rely on it).
struct Compiled {
    names: Vec<Arc<str>>,
    parsed: Result<Parsed, Refusal>,
}

/// A rule file split into documents, read as YAML and compiled, or why it is refused
/// as a whole.
struct Prepared {
    file: Arc<str>,
    body: Result<Vec<PreDoc>, Refusal>,
}

/// Reads one source as YAML and compiles its documents: documents that hold nothing
/// (empty, or `null`) are left out; the others keep what they compiled to or their
/// refusal.
fn prepare(file: Arc<str>, text: Result<String, SourceError>, opts: &LoadOptions) -> Prepared {
    let limits = &opts.limits;
    let refuse_file = |kind, reason: String| Refusal {
        file: file.clone(),
        line: None,
        column: None,
        rule: None,
        kind,
        reason,
    };
    let text = match text {
        Ok(t) if t.len() > limits.max_bytes => Err(SourceError::TooBig(t.len() as u64)),
        other => other,
    };
    let text = match text {
        Ok(t) => t,
        Err(SourceError::Io(e)) => {
            let body = Err(refuse_file(
                RefusalKind::Unreadable,
                format!("cannot read: {e}"),
            ));
            return Prepared { file, body };
        }
        Err(SourceError::TooBig(size)) => {
            let reason = format!(
                "the file is {size} bytes, over the limit of {} bytes; not read",
                limits.max_bytes
            );
            let body = Err(refuse_file(RefusalKind::Limit, reason));
            return Prepared { file, body };
        }
    };
    let mut docs = Vec::new();
    for doc in split_docs(&text) {
        if doc.text.trim().is_empty() {
            continue;
        }
        let compiled = match yaml::parse(doc.text, limits) {
            Ok(None) | Ok(Some(Y::Null)) => continue,
            Ok(Some(y)) => Ok(compile_alone(&y, &doc, &file, opts)),
            Err(e) => {
                let (kind, reason) = if e.limit {
                    (RefusalKind::Limit, e.message)
                } else {
                    (RefusalKind::Syntax, format!("invalid YAML: {}", e.message))
                };
                Err(Refusal {
                    line: Some(doc.line + e.line.max(1) - 1),
                    column: Some(e.column),
                    ..refuse_file(kind, reason)
                })
            }
        };
        docs.push(PreDoc {
            line: doc.line,
            digest: document_digest(doc.text),
            compiled,
        });
    }
    Prepared {
        file,
        body: Ok(docs),
    }
}

/// Compiles one document with a field table of its own (see [`Compiled`]).
fn compile_alone(y: &Y, doc: &Doc, file: &Arc<str>, opts: &LoadOptions) -> Compiled {
    let mut fields = Fields::default();
    let mut intern = |n: &str| fields.intern(n);
    let mut env = Env {
        intern: &mut intern,
        placeholders: opts.placeholders.as_ref(),
    };
    let parsed = compile_doc(y, doc, file, &mut env);
    Compiled {
        names: fields.names,
        parsed,
    }
}

/// Compiles one document read as YAML into a rule, filter or correlation, or why it is
/// refused.
fn compile_doc(y: &Y, doc: &Doc, file: &Arc<str>, env: &mut Env) -> Result<Parsed, Refusal> {
    let label = rule_label(y);
    let to_refusal = |f: Fail| {
        let line =
            f.at.as_deref()
                .and_then(|n| find_line(doc, n))
                .or(Some(doc.line));
        Refusal {
            file: file.clone(),
            line,
            column: None,
            rule: label.clone(),
            kind: f.kind,
            reason: f.reason,
        }
    };
    let parsed = match rule::kind_of(y) {
        Err(f) => Err(f),
        Ok(DocKind::Rule) => rule::parse_rule(y, env).map(Parsed::Rule),
        Ok(DocKind::Filter) => rule::parse_filter(y, env).map(Parsed::Filter),
        Ok(DocKind::Correlation) => correlation::parse(y)
            .map(|d| Parsed::Correlation(Box::new(d)))
            .map_err(|(kind, reason)| Fail {
                kind,
                reason,
                at: Some("correlation:".into()),
            }),
    };
    parsed.map_err(to_refusal)
}

/// Where the YAML of rule files is read: on this thread, rayon's global pool (every
/// core) or a pool of the asked size.
enum Par {
    Seq,
    Global,
    Pool(rayon::ThreadPool),
}

impl Par {
    fn new(threads: usize) -> Par {
        match threads {
            1 => Par::Seq,
            0 => Par::Global,
            n => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("vigie-load-{i}"))
                .build()
                .map_or(Par::Seq, Par::Pool),
        }
    }

    /// `f` over `items`, results in order.
    fn map<T: Send, R: Send>(&self, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
        use rayon::prelude::*;
        match self {
            _ if items.len() < 2 => items.into_iter().map(f).collect(),
            Par::Seq => items.into_iter().map(f).collect(),
            Par::Global => items.into_par_iter().map(f).collect(),
            Par::Pool(p) => p.install(|| items.into_par_iter().map(f).collect()),
        }
    }
}

/// Files read as YAML at a time: the trees of one batch only are alive at once.
const BATCH: usize = 128;

/// Reads and compiles every document of every source, in order: the [`Stage`] (what
/// the compiled-rule cache stores).
fn parse_stage(
    sources: Vec<(Arc<str>, Result<String, SourceError>)>,
    opts: &LoadOptions,
    par: &Par,
) -> Stage {
    let mut fields = Fields::default();
    let mut st = Stage::default();
    let mut it = sources.into_iter();
    loop {
        let batch: Vec<_> = it.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        let prepared = par.map(batch, |(f, t)| prepare(f, t, opts));
        for Prepared { file, body } in prepared {
            let docs = match body {
                Ok(b) => b,
                Err(refusal) => {
                    st.refused.push(refusal);
                    continue;
                }
            };
            if docs.is_empty() {
                // Neither loaded nor refused would be a silent drop: count it.
                st.refused.push(Refusal {
                    file: file.clone(),
                    line: None,
                    column: None,
                    rule: None,
                    kind: RefusalKind::Empty,
                    reason: "the file holds no YAML document (empty or only comments)".into(),
                });
                continue;
            }
            for d in docs {
                st.doc_digests.push(d.digest.clone());
                let Compiled { names, parsed } = match d.compiled {
                    Ok(c) => c,
                    Err(refusal) => {
                        st.refused.push(refusal);
                        continue;
                    }
                };
                // Interned even for a refused document: a one-thread compile interns
                // the fields it met before the refusal.
                let ids: Vec<FieldId> = names.iter().map(|n| fields.intern(n)).collect();
                match parsed {
                    Err(refusal) => st.refused.push(refusal),
                    Ok(Parsed::Rule(mut def)) => {
                        def.detection.renumber_fields(&ids);
                        st.rules.push(Loaded {
                            def,
                            path: file.clone(),
                            line: d.line,
                            digest: d.digest,
                        })
                    }
                    Ok(Parsed::Filter(mut def)) => {
                        def.detection.renumber_fields(&ids);
                        st.filters.push((def, file.clone(), d.line))
                    }
                    Ok(Parsed::Correlation(def)) => {
                        st.corrs.push((*def, file.clone(), d.line, d.digest))
                    }
                }
            }
        }
    }
    st.field_names = fields.names;
    st
}

/// The cache key of a load (see [`crate::cache`]).
fn cache_key(sources: &[(Arc<str>, Result<String, SourceError>)], opts: &LoadOptions) -> [u8; 32] {
    let mut k = Key::new(&format!(
        "{:?}\n{:?}\n{}\n{:?}",
        opts.limits, opts.placeholders, opts.strict_logsource, opts.mapping
    ));
    for (name, text) in sources {
        let bytes = match text {
            Ok(t) => Ok(t.as_bytes()),
            Err(SourceError::Io(e)) => Err(format!("io: {e}")),
            Err(SourceError::TooBig(n)) => Err(format!("too big: {n}")),
        };
        k.source(name, bytes);
    }
    k.finish()
}

/// `sha256:<hex>` of a rule's YAML document: the stable key of a rule without `id`
/// (same text, same key, wherever the file lives).
pub(crate) fn document_digest(text: &str) -> Arc<str> {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.trim().as_bytes());
    Arc::from(format!("sha256:{}", hex(&d)))
}

/// The rule set digest: over the sorted document digests (order of files is not part
/// of a rule set's identity).
fn set_digest(docs: &mut [Arc<str>]) -> Arc<str> {
    use sha2::{Digest, Sha256};
    docs.sort_unstable();
    let mut h = Sha256::new();
    for d in docs.iter() {
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    Arc::from(format!("sha256:{}", hex(&h.finalize())))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl RuleSet {
    /// Loads rules from files and directories (recursively, `.yml`/`.yaml`). Fails only
    /// when a given path cannot be read; every bad document is a [`Refusal`].
    pub fn load(paths: &[PathBuf], opts: &LoadOptions) -> Result<(RuleSet, LoadReport), LoadError> {
        let (files, problems) = collect_files(paths)?;
        let par = Par::new(opts.threads);
        let sources: Vec<(Arc<str>, Result<String, SourceError>)> = par.map(files, |p| {
            let text = read_source(&p, opts.limits.max_bytes);
            (Arc::from(p.display().to_string()), text)
        });
        let (rs, mut report) = RuleSet::load_sources_with(sources, opts, &par);
        report.refused.extend(problems);
        Ok((rs, report))
    }

    /// Loads rules from YAML text (one or more `---`-separated documents); `name` is
    /// the file name reported in refusals and metadata.
    pub fn load_str(name: &str, yaml: &str, opts: &LoadOptions) -> (RuleSet, LoadReport) {
        RuleSet::load_sources(vec![(Arc::from(name), Ok(yaml.to_string()))], opts)
    }

    /// Loads rules from several in-memory files, `(name, yaml)`: an embedded rule pack.
    /// Each keeps its own name in refusals and metadata, as files on disk would.
    pub fn load_files(files: &[(&str, &str)], opts: &LoadOptions) -> (RuleSet, LoadReport) {
        let sources = files
            .iter()
            .map(|(name, yaml)| (Arc::from(*name), Ok(yaml.to_string())))
            .collect();
        RuleSet::load_sources(sources, opts)
    }

    fn load_sources(
        sources: Vec<(Arc<str>, Result<String, SourceError>)>,
        opts: &LoadOptions,
    ) -> (RuleSet, LoadReport) {
        RuleSet::load_sources_with(sources, opts, &Par::new(opts.threads))
    }

    fn load_sources_with(
        sources: Vec<(Arc<str>, Result<String, SourceError>)>,
        opts: &LoadOptions,
        par: &Par,
    ) -> (RuleSet, LoadReport) {
        let n_files = sources.len();
        let mut cache_write_error = None;
        let (stage, cache_status) = match &opts.cache {
            None => (parse_stage(sources, opts, par), CacheStatus::Disabled),
            Some(dir) => {
                let key = cache_key(&sources, opts);
                match cache::read(dir, &key) {
                    Ok(Some(st)) => (st, CacheStatus::Hit),
                    other => {
                        let status = match other {
                            Err(why) => {
                                tracing::warn!("compiled-rule cache ignored: {why}");
                                CacheStatus::Rejected(why)
                            }
                            _ => CacheStatus::Miss,
                        };
                        let st = parse_stage(sources, opts, par);
                        match cache::write(dir, &key, &st) {
                            Ok(p) => tracing::debug!("compiled rules cached in {}", p.display()),
                            Err(e) => {
                                tracing::warn!("compiled rules not cached: {e}");
                                cache_write_error = Some(e);
                            }
                        }
                        (st, status)
                    }
                }
            }
        };
        let (rs, mut report) = RuleSet::build(stage, opts);
        report.files = n_files;
        report.cache = cache_status;
        report.cache_write_error = cache_write_error;
        (rs, report)
    }

    /// Routing, filters, correlations and indexes over what [`parse_stage`] made (or
    /// the cache kept).
    fn build(stage: Stage, opts: &LoadOptions) -> (RuleSet, LoadReport) {
        let Stage {
            field_names,
            mut rules,
            filters,
            corrs,
            mut doc_digests,
            refused,
        } = stage;
        let mut report = LoadReport {
            refused,
            ..LoadReport::default()
        };
        let mut fields = Fields::from_names(field_names);

        // Filters: AND NOT into the rules they name (by id or name) with a compatible
        // logsource.
        let mut by_ref: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        for (i, r) in rules.iter().enumerate() {
            for k in [r.def.head.id.as_deref(), r.def.head.name.as_deref()]
                .into_iter()
                .flatten()
            {
                let e = by_ref.entry(k).or_default();
                if let Some(&first) = e.first() {
                    // Ids and names must be unique: references to them are ambiguous.
                    report.warnings.push(Refusal {
                        file: r.path.clone(),
                        line: Some(r.line),
                        column: None,
                        rule: Some(k.to_string()),
                        kind: RefusalKind::Reference,
                        reason: format!(
                            "id or name `{k}` already used by {} (line {}); both loaded",
                            rules[first].path, rules[first].line
                        ),
                    });
                }
                e.push(i);
            }
        }
        let mut patches: Vec<(usize, usize)> = Vec::new();
        for (fi, (f, file, line)) in filters.iter().enumerate() {
            let mut applied = 0;
            let mut missing = Vec::new();
            for r in &f.rules {
                match by_ref.get(r.as_str()) {
                    Some(ix) => {
                        for &i in ix {
                            if logsource_compatible(&f.logsource, &rules[i].def.logsource) {
                                patches.push((i, fi));
                                applied += 1;
                            } else {
                                report.warnings.push(Refusal {
                                    file: file.clone(),
                                    line: Some(*line),
                                    column: None,
                                    rule: f.head.id.clone().or(Some(f.head.title.clone())),
                                    kind: RefusalKind::Logsource,
                                    reason: format!(
                                        "filter not applied to rule {r}: its logsource differs"
                                    ),
                                });
                            }
                        }
                    }
                    None => missing.push(r.clone()),
                }
            }
            if applied == 0 {
                report.refused.push(Refusal {
                    file: file.clone(),
                    line: Some(*line),
                    column: None,
                    rule: f.head.id.clone().or(Some(f.head.title.clone())),
                    kind: RefusalKind::Reference,
                    reason: format!(
                        "filter applies to no loaded rule (unknown: {})",
                        if missing.is_empty() {
                            "none".to_string()
                        } else {
                            missing.join(", ")
                        }
                    ),
                });
            } else {
                report.filters += 1;
                if !missing.is_empty() {
                    report.warnings.push(Refusal {
                        file: file.clone(),
                        line: Some(*line),
                        column: None,
                        rule: f.head.id.clone().or(Some(f.head.title.clone())),
                        kind: RefusalKind::Reference,
                        reason: format!(
                            "filter names rules that are not loaded: {}",
                            missing.join(", ")
                        ),
                    });
                }
            }
        }
        drop(by_ref);
        for (ri, fi) in patches {
            let det = &mut rules[ri].def.detection;
            let mut fexpr = filters[fi].0.detection.expr.clone();
            fexpr.offset(det.sels.len());
            det.sels
                .extend(filters[fi].0.detection.sels.iter().cloned());
            let orig = std::mem::replace(&mut det.expr, Expr::Or(Vec::new()));
            det.expr = Expr::And(vec![orig, Expr::Not(Box::new(fexpr))]);
        }

        // Logsource routing.
        let mut ls_ids: FxHashMap<usize, u32> = FxHashMap::default();
        let mut logsources: Vec<LsCond> = Vec::new();
        let mut unrouted: BTreeMap<String, usize> = BTreeMap::new();
        let mut partial: BTreeMap<String, usize> = BTreeMap::new();
        let mut compiled: Vec<CRule> = Vec::new();
        let mut metas: Vec<RuleMeta> = Vec::new();
        // Routed once per distinct logsource (SigmaHQ: ~3,100 rules, ~150 logsources),
        // explained once per lowercased one for `routing[]`.
        let mut routed: FxHashMap<Logsource, Routing> = FxHashMap::default();
        let mut why: BTreeMap<LsKey, LogsourceRouting> = BTreeMap::new();
        for r in rules {
            let ls = &r.def.logsource;
            let (p, c, s) = (
                ls.product.as_deref(),
                ls.category.as_deref(),
                ls.service.as_deref(),
            );
            let key: LsKey = (
                p.map(crate::sstr::lower),
                c.map(crate::sstr::lower),
                s.map(crate::sstr::lower),
            );
            let row = why.entry(key).or_insert_with_key(|k| {
                let x = opts.mapping.explain(p, c, s);
                let entry = match x.routing {
                    Routing::Full(e) | Routing::Partial(e) => Some(RoutingEntry {
                        index: x.entry_index.unwrap_or(0),
                        line: e.line,
                        label: e.label((p, c, s)),
                        product: e.product.clone(),
                        category: e.category.clone(),
                        service: e.service.clone(),
                        alternatives: e.when.len(),
                    }),
                    Routing::None => None,
                };
                LogsourceRouting {
                    product: k.0.clone(),
                    category: k.1.clone(),
                    service: k.2.clone(),
                    entry,
                    reason: x.reason,
                    ..LogsourceRouting::default()
                }
            });
            row.rules += 1;
            let routing = *routed
                .entry(ls.clone())
                .or_insert_with(|| opts.mapping.route(p, c, s));
            match routing {
                Routing::Full(_) => row.fully += 1,
                Routing::Partial(_) => row.partly += 1,
                Routing::None => row.unrouted += 1,
            }
            let entry = match routing {
                Routing::Full(e) => Some(e),
                Routing::Partial(e) => {
                    *partial.entry(ls_label(ls)).or_default() += 1;
                    Some(e)
                }
                Routing::None => {
                    if opts.strict_logsource {
                        report.refused.push(Refusal {
                            file: r.path.clone(),
                            line: Some(r.line),
                            column: None,
                            rule: r.def.head.id.clone().or(Some(r.def.head.title.clone())),
                            kind: RefusalKind::Logsource,
                            reason: format!(
                                "logsource {} has no entry in the mapping",
                                ls_label(ls)
                            ),
                        });
                        continue;
                    }
                    *unrouted.entry(ls_label(ls)).or_default() += 1;
                    None
                }
            };
            let ls_id = entry.map(|e| {
                let key = e as *const _ as usize;
                *ls_ids.entry(key).or_insert_with(|| {
                    logsources.push(LsCond {
                        alts: e
                            .when
                            .iter()
                            .map(|alt| {
                                alt.iter()
                                    .map(|(n, c)| (fields.intern(n), c.clone()))
                                    .collect()
                            })
                            .collect(),
                    });
                    (logsources.len() - 1) as u32
                })
            });
            metas.push(RuleMeta {
                key: r.def.head.id.as_deref().map_or(r.digest.clone(), Arc::from),
                id: r.def.head.id.clone(),
                name: r.def.head.name.clone(),
                title: r.def.head.title.clone(),
                level: r.def.head.level,
                tags: r.def.head.tags.clone(),
                kind: RuleKind::Detection,
                path: r.path.clone(),
                report: true,
                status: r.def.head.status.clone(),
                logsource: Some(r.def.logsource.clone()),
            });
            compiled.push(CRule::new(r.def.detection, ls_id));
        }
        report.detection_rules = compiled.len();
        report.unrouted_logsources = unrouted.into_iter().collect();
        report.partially_routed_logsources = partial.into_iter().collect();
        report.routing = why.into_values().collect();

        // Correlations: ids after the detection rules; refused ones are dropped and the
        // rest rebuilt so ids stay dense.
        let (corr, corr_metas) = build_correlations(corrs, &metas, &mut report);
        if let Some(c) = &corr {
            for (i, m) in metas.iter_mut().enumerate() {
                m.report = c.reported(RuleId(i as u32));
            }
        }
        let n_det = metas.len();
        metas.extend(corr_metas);
        if let Some(c) = &corr {
            for (i, m) in metas.iter_mut().enumerate().skip(n_det) {
                m.report = c.reported(RuleId(i as u32));
            }
        }

        // Field lookup: rule names first (priority 0), then aliases in order.
        let mut lookup: FxHashMap<Box<str>, Vec<Target>> = FxHashMap::default();
        let n_names = fields.names.len();
        for (i, n) in fields.names.iter().enumerate() {
            lookup
                .entry(Box::from(&**n))
                .or_default()
                .push((i as FieldId, 0));
        }
        for (canon, alts) in &opts.mapping.aliases {
            if let Some(&fid) = fields.ids.get(canon.as_str()) {
                for (k, a) in alts.iter().enumerate() {
                    let p = (k + 1).min(250) as u8;
                    let e = lookup.entry(Box::from(a.as_str())).or_default();
                    if !e.iter().any(|(f, _)| *f == fid) {
                        e.push((fid, p));
                    }
                }
            }
        }
        debug_assert_eq!(n_names, fields.names.len());

        // Rules by logsource; each group's literal index is built on first use.
        let mut by_ls: BTreeMap<Option<u32>, Vec<u32>> = BTreeMap::new();
        for (i, r) in compiled.iter().enumerate() {
            by_ls.entry(r.ls).or_default().push(i as u32);
        }
        let groups: Vec<Group> = by_ls
            .into_iter()
            .map(|(ls, rules)| Group::new(ls, rules))
            .collect();
        let channel = fields.ids.get("Channel").copied();
        let event_id = fields.ids.get("EventID").copied();
        let (groups_by_channel, unkeyed_groups) =
            crate::ruleset::route_groups(&groups, &logsources, channel, event_id);
        let has_keywords = compiled.iter().any(|r| r.keywords);
        tracing::debug!(
            rules = compiled.len(),
            fields = fields.names.len(),
            groups = groups.len(),
            "rule set compiled"
        );
        (
            RuleSet {
                digest: set_digest(&mut doc_digests),
                metas,
                rules: compiled,
                field_names: fields.names,
                name_bits: crate::ruleset::name_bits(lookup.keys().map(|k| &**k)),
                lookup,
                logsources,
                has_keywords,
                groups,
                channel,
                event_id,
                groups_by_channel,
                unkeyed_groups,
                correlations: corr,
            },
            report,
        )
    }
}

fn ls_label(ls: &Logsource) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}:{v}"));
        }
    }
    if parts.is_empty() {
        "(empty)".into()
    } else {
        parts.join(" ")
    }
}

/// A filter applies to a rule when every logsource key the filter sets is the rule's.
fn logsource_compatible(filter: &Logsource, rule: &Logsource) -> bool {
    let ok = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    ok(&filter.product, &rule.product)
        && ok(&filter.category, &rule.category)
        && ok(&filter.service, &rule.service)
}

fn build_correlations(
    mut corrs: Vec<Corr>,
    metas: &[RuleMeta],
    report: &mut LoadReport,
) -> (Option<correlation::Compiled>, Vec<RuleMeta>) {
    if corrs.is_empty() {
        return (None, Vec::new());
    }
    let n_det = metas.len() as u32;
    let mut det_refs: FxHashMap<&str, RuleId> = FxHashMap::default();
    for (i, m) in metas.iter().enumerate() {
        for k in [m.id.as_deref(), m.name.as_deref()].into_iter().flatten() {
            det_refs.entry(k).or_insert(RuleId(i as u32));
        }
    }
    loop {
        let defs: Vec<(RuleId, correlation::CorrelationDef)> = corrs
            .iter()
            .enumerate()
            .map(|(i, (d, _, _, _))| (RuleId(n_det + i as u32), d.clone()))
            .collect();
        let resolve = |r: &str| det_refs.get(r).copied();
        let (compiled, refused) = correlation::Compiled::build(defs, &resolve);
        if refused.is_empty() {
            report.correlation_rules = corrs.len();
            let ms = corrs
                .into_iter()
                .map(|(d, path, _, digest)| RuleMeta {
                    key: d.id.as_deref().map_or(digest, Arc::from),
                    id: d.id.clone(),
                    name: d.name.clone(),
                    title: d.title.clone(),
                    level: d.level,
                    tags: d.tags.clone(),
                    kind: RuleKind::Correlation,
                    path,
                    report: true,
                    status: None,
                    logsource: None,
                })
                .collect();
            return (Some(compiled), ms);
        }
        let mut drop_idx: Vec<usize> = refused
            .iter()
            .map(|(r, _)| (r.0 - n_det) as usize)
            .collect();
        for (r, reason) in &refused {
            let (d, path, line, _) = &corrs[(r.0 - n_det) as usize];
            report.refused.push(Refusal {
                file: path.clone(),
                line: Some(*line),
                column: None,
                rule: d.id.clone().or(Some(d.title.clone())),
                kind: RefusalKind::Reference,
                reason: reason.clone(),
            });
        }
        drop_idx.sort_unstable();
        drop_idx.dedup();
        for i in drop_idx.into_iter().rev() {
            corrs.remove(i);
        }
        if corrs.is_empty() {
            return (None, Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const OK_RULE: &str = "title: ok\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image: a.exe\n  condition: sel\n";

    fn deep_rule(depth: usize) -> String {
        format!(
            "title: deep\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image: {}\n  condition: sel\n",
            "[".repeat(depth)
        )
    }

    #[test]
    fn deep_nesting_is_refused_fast_as_a_limit_and_the_rest_loads() {
        for depth in [10_000usize, 100_000, 1_000_000] {
            let deep = deep_rule(depth);
            let t = Instant::now();
            let (rs, rep) = RuleSet::load_files(
                &[("deep.yml", &deep), ("ok.yml", OK_RULE)],
                &LoadOptions::default(),
            );
            let took = t.elapsed();
            // Measured in debug builds too: the bound is what makes it fast, not -O.
            assert!(took < Duration::from_secs(2), "depth {depth}: {took:?}");
            assert_eq!(rs.len(), 1, "depth {depth}");
            assert_eq!(rep.refused.len(), 1, "{:?}", rep.refused);
            let r = &rep.refused[0];
            assert_eq!(r.kind, RefusalKind::Limit, "{r:?}");
            assert_eq!(&*r.file, "deep.yml");
            assert_eq!(r.line, Some(6), "{r:?}");
            assert!(r.column.is_some_and(|c| c > 10), "{r:?}");
            assert!(r.reason.contains("nesting deeper than"), "{r:?}");
        }
    }

    #[test]
    fn a_two_megabyte_rule_of_hashes_loads() {
        let mut text = String::from(
            "title: hashes\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Hashes|contains:\n",
        );
        for i in 0..30_000u32 {
            text.push_str(&format!("      - {i:064x}\n"));
        }
        text.push_str("  condition: sel\n");
        assert!(text.len() > 2_000_000);
        let (rs, rep) = RuleSet::load_str("hashes.yml", &text, &LoadOptions::default());
        assert!(rep.refused.is_empty(), "{:?}", rep.refused);
        assert_eq!(rs.len(), 1);
    }

    #[test]
    fn size_limit_refuses_the_file_and_keeps_the_others() {
        let small = "title: s\nlogsource: {}\ndetection: {a: {X: 1}, condition: a}\n";
        assert!(OK_RULE.len() > small.len());
        let opts = LoadOptions {
            limits: vigie_yaml::Limits {
                max_bytes: small.len(),
                ..yaml::default_limits()
            },
            ..LoadOptions::default()
        };
        let (rs, rep) = RuleSet::load_files(&[("big.yml", OK_RULE), ("small.yml", small)], &opts);
        assert_eq!(rs.len(), 1);
        assert_eq!(rep.refused.len(), 1);
        assert_eq!(rep.refused[0].kind, RefusalKind::Limit);
        let want = format!("over the limit of {} bytes", small.len());
        assert!(rep.refused[0].reason.contains(&want), "{:?}", rep.refused);
    }

    #[test]
    fn empty_and_unreadable_files_are_counted_under_their_own_kinds() {
        let sources = vec![
            (Arc::from("empty.yml"), Ok(String::new())),
            (
                Arc::from("comments.yml"),
                Ok("# nothing\n---\n".to_string()),
            ),
            (
                Arc::from("locked.yml"),
                Err(SourceError::Io(std::io::Error::from(
                    std::io::ErrorKind::PermissionDenied,
                ))),
            ),
            (Arc::from("ok.yml"), Ok(OK_RULE.to_string())),
        ];
        let (rs, rep) = RuleSet::load_sources(sources, &LoadOptions::default());
        assert_eq!(rs.len(), 1);
        let kinds: Vec<(&str, RefusalKind)> =
            rep.refused.iter().map(|r| (&*r.file, r.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("empty.yml", RefusalKind::Empty),
                ("comments.yml", RefusalKind::Empty),
                ("locked.yml", RefusalKind::Unreadable),
            ]
        );
        // The OS error once.
        let reason = &rep.refused[2].reason;
        assert_eq!(reason.matches("ermission denied").count(), 1, "{reason}");
    }

    #[test]
    fn a_missing_rules_path_names_its_os_error_once() {
        let e = RuleSet::load(
            &[PathBuf::from("/nonexistent/vigie-rules")],
            &LoadOptions::default(),
        )
        .err()
        .map(|e| {
            let mut text = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                text.push_str(&format!(": {s}"));
                src = s.source();
            }
            text
        })
        .unwrap_or_default();
        assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    }

    /// An empty cache directory of this test process (`tag` tells the tests apart).
    fn fresh_dir(tag: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("vigie-cache-unit-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// The path of the one entry a load wrote in `dir` (empty when there is none).
    fn only_entry(dir: &std::path::Path) -> std::path::PathBuf {
        std::fs::read_dir(dir)
            .ok()
            .and_then(|mut rd| rd.next())
            .and_then(Result::ok)
            .map(|e| e.path())
            .unwrap_or_default()
    }

    fn cached(dir: &std::path::Path) -> LoadOptions {
        LoadOptions {
            cache: Some(dir.to_path_buf()),
            ..LoadOptions::default()
        }
    }

    const RE_RULE: &str = "title: re\nid: r1\nlogsource:\n  product: windows\ndetection:\n  sel:\n    CommandLine|re: 'a[0-9]+b'\n    Image|windash: '-x'\n  f:\n    User|cidr: 10.0.0.0/8\n  condition: sel and not f\n";

    /// `(name, yaml)` pairs as [`RuleSet::load_files`] takes them.
    fn as_refs(files: &[(String, String)]) -> Vec<(&str, &str)> {
        files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect()
    }

    /// Same rules, same compiled form: metadata, refusals and what matches.
    fn assert_same(a: &RuleSet, ra: &LoadReport, b: &RuleSet, rb: &LoadReport) {
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.len(), b.len());
        assert_eq!(format!("{:?}", ra.refused), format!("{:?}", rb.refused));
        assert_eq!(a.field_names(), b.field_names());
        for (x, y) in a.rules.iter().zip(&b.rules) {
            assert_eq!(format!("{:?}", x.det), format!("{:?}", y.det));
            assert_eq!(x.ls, y.ls);
        }
    }

    #[test]
    fn the_cache_misses_then_hits_with_the_same_rule_set() {
        let dir = fresh_dir("a");
        let files = [
            ("re.yml", RE_RULE),
            ("ok.yml", OK_RULE),
            ("bad.yml", "title: ["),
        ];
        let (cold, rc) = RuleSet::load_files(&files, &LoadOptions::default());
        assert_eq!(rc.cache, CacheStatus::Disabled);
        let (miss, rm) = RuleSet::load_files(&files, &cached(&dir));
        assert_eq!(rm.cache, CacheStatus::Miss);
        let (hit, rh) = RuleSet::load_files(&files, &cached(&dir));
        assert_eq!(rh.cache, CacheStatus::Hit);
        assert_same(&cold, &rc, &miss, &rm);
        assert_same(&cold, &rc, &hit, &rh);
        assert_eq!(rh.refused.len(), 1);
        // Another text, another key; another file name too.
        let changed = [
            ("re.yml", OK_RULE),
            ("ok.yml", OK_RULE),
            ("bad.yml", "title: ["),
        ];
        assert_eq!(
            RuleSet::load_files(&changed, &cached(&dir)).1.cache,
            CacheStatus::Miss
        );
        let renamed = [
            ("re2.yml", RE_RULE),
            ("ok.yml", OK_RULE),
            ("bad.yml", "title: ["),
        ];
        assert_eq!(
            RuleSet::load_files(&renamed, &cached(&dir)).1.cache,
            CacheStatus::Miss
        );
        let with_ph = LoadOptions {
            placeholders: Some(Placeholders::from_str("x: [y]").unwrap_or_default()),
            ..cached(&dir)
        };
        assert_eq!(
            RuleSet::load_files(&files, &with_ph).1.cache,
            CacheStatus::Miss
        );
        assert_eq!(
            RuleSet::load_files(&files, &cached(&dir)).1.cache,
            CacheStatus::Hit
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_cache_entry_is_rejected_and_rewritten() {
        let dir = fresh_dir("b");
        let files = [("re.yml", RE_RULE), ("ok.yml", OK_RULE)];
        let (cold, rc) = RuleSet::load_files(&files, &cached(&dir));
        let entry = only_entry(&dir);
        let good = std::fs::read(&entry).unwrap_or_default();
        assert!(good.len() > 84);
        let mut flipped = good.clone();
        flipped[100] ^= 1;
        for (why, bytes) in [
            ("checksum", flipped),
            ("truncated", good[..90].to_vec()),
            ("empty", Vec::new()),
        ] {
            let _ = std::fs::write(&entry, &bytes);
            let (rs, rep) = RuleSet::load_files(&files, &cached(&dir));
            assert!(
                matches!(rep.cache, CacheStatus::Rejected(_)),
                "{why}: {:?}",
                rep.cache
            );
            assert_same(&cold, &rc, &rs, &rep);
            assert_eq!(
                RuleSet::load_files(&files, &cached(&dir)).1.cache,
                CacheStatus::Hit
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cache_entry_with_a_valid_checksum_but_bad_indexes_is_rejected() {
        use sha2::{Digest, Sha256};
        let dir = fresh_dir("c");
        let files = [("ok.yml", OK_RULE)];
        let _ = RuleSet::load_files(&files, &cached(&dir));
        let entry = only_entry(&dir);
        let good = std::fs::read(&entry).unwrap_or_default();
        // A well-formed entry whose stage names a field that does not exist: decode it,
        // break it, encode it with a correct checksum.
        let mut stage: Stage = postcard::from_bytes(&good[84..]).unwrap_or_default();
        assert_eq!(stage.rules.len(), 1);
        stage.field_names.clear();
        let payload = postcard::to_stdvec(&stage).unwrap_or_default();
        let mut forged = good[..44].to_vec();
        forged.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        forged.extend_from_slice(&Sha256::digest(&payload));
        forged.extend_from_slice(&payload);
        let _ = std::fs::write(&entry, &forged);
        let (rs, rep) = RuleSet::load_files(&files, &cached(&dir));
        match &rep.cache {
            CacheStatus::Rejected(why) => assert!(why.contains("out of range"), "{why}"),
            other => panic!("forged entry used: {other:?}"),
        }
        assert_eq!(rs.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_thread_and_all_cores_load_the_same() {
        let mut files: Vec<(String, String)> = Vec::new();
        for i in 0..300 {
            files.push((
                format!("r{i:03}.yml"),
                OK_RULE.replace("a.exe", &format!("a{i}.exe")),
            ));
        }
        files.push(("re.yml".into(), RE_RULE.into()));
        files.push(("bad.yml".into(), "title: [".into()));
        let refs = as_refs(&files);
        let one = LoadOptions {
            threads: 1,
            ..LoadOptions::default()
        };
        let (a, ra) = RuleSet::load_files(&refs, &one);
        let (b, rb) = RuleSet::load_files(&refs, &LoadOptions::default());
        assert_same(&a, &ra, &b, &rb);
        assert_eq!(a.len(), 301);
    }

    /// Documents compiled on worker threads keep a one-thread compile's field ids:
    /// interned in first-use order over the documents in order, every test naming the
    /// field it was written with, `fieldref` targets included.
    #[test]
    fn field_ids_are_first_use_order_over_documents_whatever_the_threads() {
        let rule = |i: usize, a: &str, b: &str| {
            format!(
                "title: r{i}\nlogsource:\n  product: windows\ndetection:\n  sel:\n    {a}: x{i}\n    {b}|fieldref: {a}\n  condition: sel\n"
            )
        };
        let fields = ["F0", "F1", "F2", "F3", "F4", "F5", "F6"];
        let mut files: Vec<(String, String)> = Vec::new();
        // The fields each file uses, in the order its compile meets them.
        let mut used: Vec<Vec<&str>> = Vec::new();
        for i in 0..400 {
            let (a, b) = (fields[(i * 3) % 7], fields[(i * 5 + 1) % 7]);
            files.push((format!("r{i:03}.yml"), rule(i, a, b)));
            used.push(vec![a, b, a]);
        }
        // A refused document still interns what it met first, as one thread would.
        files.insert(5, ("bad.yml".into(), "title: bad\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Early: 1\n    Late|cidr: not-a-cidr\n  condition: sel\n".into()));
        used.insert(5, vec!["Early", "Late"]);
        let refs = as_refs(&files);
        let two = LoadOptions {
            threads: 2,
            ..LoadOptions::default()
        };
        let (rs, report) = RuleSet::load_files(&refs, &two);
        assert_eq!(rs.len(), 400);
        assert_eq!(report.refused.len(), 1);
        let mut expected: Vec<&str> = Vec::new();
        for n in used.into_iter().flatten() {
            if !expected.contains(&n) {
                expected.push(n);
            }
        }
        let got: Vec<&str> = rs.field_names().iter().map(|n| &**n).collect();
        assert_eq!(got[..expected.len()], expected[..]);
        for r in &rs.rules {
            for t in r.det.sels.iter().flat_map(|s| s.alts.iter().flatten()) {
                let f = t.field.expect("a field test");
                assert_eq!(&*rs.field_names()[f as usize], &*t.name);
                if let crate::detect::Test::Match { pats, .. } = &t.test {
                    for p in pats {
                        if let crate::detect::Pat::FieldRef { other, .. } = p {
                            assert!(fields.contains(&&*rs.field_names()[*other as usize]));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn split_docs_tracks_lines() {
        let t = "a: 1\n---\nb: 2\nc: 3\n--- \nd: 4";
        let d = split_docs(t);
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].line, d[1].line, d[2].line), (1, 3, 6));
        assert_eq!(d[1].text, "b: 2\nc: 3\n");
    }
}
