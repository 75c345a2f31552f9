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

use crate::correlation;
use crate::detect::{Expr, FieldId};
use crate::index::{requirement, Prefilter};
use crate::mapping::{Mapping, Routing};
use crate::placeholders::Placeholders;
use crate::rule::{self, DocKind, FilterDef, Logsource, RuleDef};
use crate::ruleset::{CRule, LsCond, RuleSet, Target};
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
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            mapping: Mapping::default(),
            placeholders: None,
            strict_logsource: false,
            limits: yaml::default_limits(),
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
fn read_source(p: &std::path::Path, max: usize) -> Result<String, SourceError> {
    let size = std::fs::metadata(p).map_err(SourceError::Io)?.len();
    if size > max as u64 {
        return Err(SourceError::TooBig(size));
    }
    let text = std::fs::read_to_string(p).map_err(SourceError::Io)?;
    // The file may have grown between the two calls.
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
            for e in walkdir::WalkDir::new(p).follow_links(true) {
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
            v.sort();
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

/// Reads and parses one document of `file`: `None` when it holds nothing (empty, or
/// `null`), else the rule, filter or correlation, or why it is refused.
fn parse_doc(
    doc: &Doc,
    file: &Arc<str>,
    limits: &vigie_yaml::Limits,
    env: &mut Env,
) -> Option<Result<Parsed, Refusal>> {
    let refuse = |kind, reason: String, line: Option<usize>, rule: Option<String>| Refusal {
        file: file.clone(),
        line,
        column: None,
        rule,
        kind,
        reason,
    };
    if doc.text.trim().is_empty() {
        return None;
    }
    let y = match yaml::parse(doc.text, limits) {
        Ok(None) | Ok(Some(Y::Null)) => return None,
        Ok(Some(y)) => y,
        Err(e) => {
            let (kind, reason) = if e.limit {
                (RefusalKind::Limit, e.message)
            } else {
                (RefusalKind::Syntax, format!("invalid YAML: {}", e.message))
            };
            return Some(Err(Refusal {
                line: Some(doc.line + e.line.max(1) - 1),
                column: Some(e.column),
                ..refuse(kind, reason, None, None)
            }));
        }
    };
    let label = rule_label(&y);
    let to_refusal = |f: Fail| {
        let line =
            f.at.as_deref()
                .and_then(|n| find_line(doc, n))
                .or(Some(doc.line));
        refuse(f.kind, f.reason, line, label.clone())
    };
    let parsed = match rule::kind_of(&y) {
        Err(f) => Err(f),
        Ok(DocKind::Rule) => rule::parse_rule(&y, env).map(Parsed::Rule),
        Ok(DocKind::Filter) => rule::parse_filter(&y, env).map(Parsed::Filter),
        Ok(DocKind::Correlation) => correlation::parse(&y)
            .map(|d| Parsed::Correlation(Box::new(d)))
            .map_err(|(kind, reason)| Fail {
                kind,
                reason,
                at: Some("correlation:".into()),
            }),
    };
    Some(parsed.map_err(to_refusal))
}

struct Loaded {
    def: RuleDef,
    path: Arc<str>,
    line: usize,
    /// `sha256:` digest of the YAML document (the key of a rule without `id`).
    digest: Arc<str>,
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
        let sources: Vec<(Arc<str>, Result<String, SourceError>)> = files
            .iter()
            .map(|p| {
                (
                    Arc::from(p.display().to_string()),
                    read_source(p, opts.limits.max_bytes),
                )
            })
            .collect();
        let (rs, mut report) = RuleSet::load_sources(sources, opts);
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
        let mut report = LoadReport {
            files: sources.len(),
            ..LoadReport::default()
        };
        let mut fields = Fields::default();
        let mut rules: Vec<Loaded> = Vec::new();
        let mut filters: Vec<(FilterDef, Arc<str>, usize)> = Vec::new();
        let mut corrs: Vec<Corr> = Vec::new();
        let mut doc_digests: Vec<Arc<str>> = Vec::new();

        for (file, text) in sources {
            let refuse_file = |kind, reason: String| Refusal {
                file: file.clone(),
                line: None,
                column: None,
                rule: None,
                kind,
                reason,
            };
            let text = match text {
                Ok(t) if t.len() > opts.limits.max_bytes => {
                    Err(SourceError::TooBig(t.len() as u64))
                }
                other => other,
            };
            let text = match text {
                Ok(t) => t,
                Err(SourceError::Io(e)) => {
                    let reason = format!("cannot read: {e}");
                    report
                        .refused
                        .push(refuse_file(RefusalKind::Unreadable, reason));
                    continue;
                }
                Err(SourceError::TooBig(size)) => {
                    let reason = format!(
                        "the file is {size} bytes, over the limit of {} bytes; not read",
                        opts.limits.max_bytes
                    );
                    report.refused.push(refuse_file(RefusalKind::Limit, reason));
                    continue;
                }
            };
            let mut documents = 0usize;
            for doc in split_docs(&text) {
                let mut intern = |n: &str| fields.intern(n);
                let mut env = Env {
                    intern: &mut intern,
                    placeholders: opts.placeholders.as_ref(),
                };
                let parsed = match parse_doc(&doc, &file, &opts.limits, &mut env) {
                    None => continue,
                    Some(r) => {
                        doc_digests.push(document_digest(doc.text));
                        r
                    }
                };
                let parsed = match parsed {
                    Err(refusal) => {
                        documents += 1;
                        report.refused.push(refusal);
                        continue;
                    }
                    Ok(p) => p,
                };
                documents += 1;
                match parsed {
                    Parsed::Rule(def) => rules.push(Loaded {
                        def,
                        path: file.clone(),
                        line: doc.line,
                        digest: document_digest(doc.text),
                    }),
                    Parsed::Filter(def) => filters.push((def, file.clone(), doc.line)),
                    Parsed::Correlation(def) => {
                        corrs.push((*def, file.clone(), doc.line, document_digest(doc.text)))
                    }
                }
            }
            if documents == 0 {
                // Neither loaded nor refused would be a silent drop: count it.
                let reason = "the file holds no YAML document (empty or only comments)".into();
                report.refused.push(refuse_file(RefusalKind::Empty, reason));
            }
        }

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
            let routing = opts.mapping.route(p, c, s);
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

        let mut by_ls: BTreeMap<Option<u32>, Vec<(u32, crate::index::Conj)>> = BTreeMap::new();
        for (i, r) in compiled.iter().enumerate() {
            by_ls
                .entry(r.ls)
                .or_default()
                .push((i as u32, requirement(&r.det)));
        }
        let mut need = vec![0u8; compiled.len()];
        let groups: Vec<(Option<u32>, Prefilter)> = by_ls
            .into_iter()
            .map(|(ls, reqs)| (ls, Prefilter::build(&reqs, &mut need)))
            .collect();
        let mut index_base = Vec::with_capacity(groups.len());
        let mut index_count = 0usize;
        for (_, pf) in &groups {
            index_base.push(index_count as u32);
            index_count += pf.fields.len();
        }
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
                index_base,
                index_count,
                channel,
                event_id,
                groups_by_channel,
                unkeyed_groups,
                need,
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

/// A correlation document: definition, file, line, document digest.
type Corr = (correlation::CorrelationDef, Arc<str>, usize, Arc<str>);

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

    #[test]
    fn split_docs_tracks_lines() {
        let t = "a: 1\n---\nb: 2\nc: 3\n--- \nd: 4";
        let d = split_docs(t);
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].line, d[1].line, d[2].line), (1, 3, 6));
        assert_eq!(d[1].text, "b: 2\nc: 3\n");
    }
}
