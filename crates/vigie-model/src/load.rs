//! Loading a model from YAML or JSON with every problem reported at once, each with
//! `file:line:column`.
//!
//! A file over [`LoadOptions::max_bytes`] (2 GiB by default) is refused before it is read;
//! nesting depth and alias expansion are bounded by the reader ([`vigie_yaml::Limits`]).
//!
//! YAML always goes through the positioned tree ([`crate::tree`]): each entity is
//! deserialized on its own so one bad asset does not hide the next. JSON first takes the
//! fast path (serde_json straight into the types, which a million-asset file needs); only
//! when something is wrong is the positioned tree built, to report every error with its
//! place.

use std::io::Read;
use std::path::Path;

use rustc_hash::FxHashSet;
use serde::de::DeserializeOwned;

use crate::de::from_node;
use crate::diag::{Diagnostic, Severity};
use crate::tree::{
    locate, parse_json, parse_yaml, parse_yaml_with, Limits, Node, Pos, Step, TreeError, Value,
};
use crate::types::Model;
use crate::validate::{check, path_string, Issue};

/// Syntax of a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// From the file name (`.json` is JSON, `.yaml`/`.yml` YAML), else from the first
    /// non-blank character (`{` means JSON).
    pub fn detect(path: Option<&Path>, text: &str) -> Format {
        let ext = path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            _ => {
                if text
                    .trim_start_matches('\u{feff}')
                    .trim_start()
                    .starts_with('{')
                {
                    Format::Json
                } else {
                    Format::Yaml
                }
            }
        }
    }
}

/// A model that loaded, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model (valid: no error-level diagnostic).
    pub model: Model,
    /// Warning-level diagnostics.
    pub warnings: Vec<Diagnostic>,
}

/// The top-level sections of a model, in file order of the documentation.
pub const SECTIONS: [&str; 8] = [
    "operator",
    "settings",
    "zones",
    "flows",
    "assets",
    "attack_edges",
    "services",
    "segments",
];

/// The sections that are lists of entities.
const LIST_SECTIONS: [&str; 6] = [
    "zones",
    "flows",
    "assets",
    "attack_edges",
    "services",
    "segments",
];

/// Load a model file; on failure, every error (warnings are logged).
pub fn load(path: impl AsRef<Path>) -> Result<Model, Vec<Diagnostic>> {
    let loaded = load_report(path)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    Ok(loaded.model)
}

/// How to load a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Largest file accepted, in bytes; a bigger one is refused before it is read.
    pub max_bytes: u64,
}

/// Default [`LoadOptions::max_bytes`]: 2 GiB, ten times the biggest generated model
/// vigie is benchmarked on, and still within what a machine can hold as text and tree.
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 2 << 30;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_bytes: DEFAULT_MAX_MODEL_BYTES,
        }
    }
}

/// Load a model file, returning its warnings too.
pub fn load_report(path: impl AsRef<Path>) -> Result<Loaded, Vec<Diagnostic>> {
    load_report_with(path, &LoadOptions::default())
}

fn file_error(file: &str, message: String) -> Vec<Diagnostic> {
    vec![Diagnostic {
        file: file.to_string(),
        line: 0,
        column: 0,
        severity: Severity::Error,
        path: String::new(),
        message,
    }]
}

/// Load a model file with options, returning its warnings too.
pub fn load_report_with(
    path: impl AsRef<Path>,
    opts: &LoadOptions,
) -> Result<Loaded, Vec<Diagnostic>> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let too_big = |size: u64| {
        file_error(
            &file,
            format!(
                "the model is {size} bytes, over the limit of {} bytes (raise it with \
                 --max-model-bytes)",
                opts.max_bytes
            ),
        )
    };
    let cannot_read = |e: std::io::Error| file_error(&file, format!("cannot read the model: {e}"));
    let f = std::fs::File::open(path).map_err(cannot_read)?;
    let size = f.metadata().map_err(cannot_read)?.len();
    if size > opts.max_bytes {
        return Err(too_big(size));
    }
    // A pipe or device has no size up front: the read itself stops past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    f.take(opts.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > opts.max_bytes {
        return Err(too_big(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        vec![Diagnostic {
            file: file.clone(),
            line,
            column: 0,
            severity: Severity::Error,
            path: String::new(),
            message: "the file is not UTF-8 text".into(),
        }]
    })?;
    load_str(&text, &file, Format::detect(Some(path), &text))
}

/// Load a model from text; `origin` names it in diagnostics.
pub fn load_str(text: &str, origin: &str, format: Format) -> Result<Loaded, Vec<Diagnostic>> {
    // Editors on Windows may start files with a byte order mark; it is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Yaml => from_yaml(text, origin),
        Format::Json => match serde_json::from_str::<Model>(text) {
            Ok(model) => {
                let issues = check(&model, &FxHashSet::default());
                // Whether a rule's hours were written beside its distribution only the
                // text tells: look when a distribution is there.
                let settings_ttc = model.settings.rule_ttcs().iter().any(|r| r.2.is_some());
                if issues.is_empty() && !settings_ttc {
                    return Ok(Loaded {
                        model,
                        warnings: Vec::new(),
                    });
                }
                // Positions are only needed now: build the tree for them.
                let root = parse_json(text, &Limits::default()).ok();
                let twice = root
                    .as_ref()
                    .and_then(|r| r.get("settings"))
                    .map(settings_given_twice)
                    .unwrap_or_default();
                let typed = type_diagnostics(twice, origin);
                let map = IndexMap::identity();
                finish(model, issues, typed, root.as_ref(), &map, origin)
            }
            Err(serde_err) => {
                let root = match parse_json(text, &Limits::default()) {
                    Ok(root) => root,
                    Err(errors) => return Err(tree_errors(origin, errors)),
                };
                match from_tree(&root, origin) {
                    // The two parsers disagree (e.g. on a number's range): serde_json's
                    // verdict stands, with its own position.
                    Ok(_) => Err(vec![Diagnostic {
                        file: origin.to_string(),
                        line: serde_err.line() as u32,
                        column: serde_err.column() as u32,
                        severity: Severity::Error,
                        path: String::new(),
                        message: serde_err.to_string(),
                    }]),
                    Err(d) => Err(d),
                }
            }
        },
    }
}

fn tree_errors(origin: &str, errors: Vec<TreeError>) -> Vec<Diagnostic> {
    errors
        .into_iter()
        .map(|e| Diagnostic {
            file: origin.to_string(),
            line: e.pos.line,
            column: e.pos.column,
            severity: Severity::Error,
            path: String::new(),
            message: e.message,
        })
        .collect()
}

/// For each list section, the file position (item index) of each loaded entity: entities
/// that failed to deserialize are skipped, so model indexes and file indexes differ.
struct IndexMap {
    sections: Vec<(&'static str, Vec<usize>)>,
}

impl IndexMap {
    fn identity() -> Self {
        IndexMap {
            sections: Vec::new(),
        }
    }

    fn section(&mut self, section: &'static str) -> &mut Vec<usize> {
        let i = match self.sections.iter().position(|(s, _)| *s == section) {
            Some(i) => i,
            None => {
                self.sections.push((section, Vec::new()));
                self.sections.len() - 1
            }
        };
        &mut self.sections[i].1
    }

    fn to_file(&self, path: &[Step]) -> Vec<Step> {
        let mut out = path.to_vec();
        if let (Some(Step::Key(section)), Some(Step::Index(i))) = (path.first(), path.get(1)) {
            if let Some((_, map)) = self.sections.iter().find(|(s, _)| s == section) {
                if let Some(&f) = map.get(*i) {
                    out[1] = Step::Index(f);
                }
            }
        }
        out
    }
}

/// A type error: where in the model, what, and the position.
type TypeError = (Vec<Step>, String, Pos);

/// What deserialization gathers: the model, where each entity came from, type errors, and
/// the ids of entities that failed (references to them are not reported again).
struct Collector {
    model: Model,
    map: IndexMap,
    errors: Vec<TypeError>,
    broken: FxHashSet<String>,
}

impl Collector {
    fn new() -> Self {
        Collector {
            model: Model::default(),
            map: IndexMap::identity(),
            errors: Vec::new(),
            broken: FxHashSet::default(),
        }
    }

    /// Deserialize item `i` of list section `section` (unknown sections are reported from
    /// the root, not here).
    fn item(&mut self, section: &str, i: usize, node: &Node) {
        match section {
            "zones" => self.one(node, "zones", i, |m| &mut m.zones),
            "flows" => self.one(node, "flows", i, |m| &mut m.flows),
            "assets" => self.one(node, "assets", i, |m| &mut m.assets),
            "attack_edges" => self.one(node, "attack_edges", i, |m| &mut m.attack_edges),
            "services" => self.one(node, "services", i, |m| &mut m.services),
            "segments" => self.one(node, "segments", i, |m| &mut m.segments),
            _ => {}
        }
    }

    fn one<T: DeserializeOwned>(
        &mut self,
        item: &Node,
        section: &'static str,
        i: usize,
        out: impl Fn(&mut Model) -> &mut Vec<T>,
    ) {
        match from_node::<T>(item) {
            Ok(v) => {
                out(&mut self.model).push(v);
                self.map.section(section).push(i);
            }
            Err(e) => {
                let id = item.get("id").and_then(Node::as_scalar);
                if let Some(id) = id {
                    self.broken.insert(id.to_string());
                } else if let (Some(f), Some(t)) = (
                    item.get("from").and_then(Node::as_scalar),
                    item.get("to").and_then(Node::as_scalar),
                ) {
                    self.broken.insert(format!("{f}->{t}"));
                }
                let what = id
                    .map(|id| format!("{section} `{id}`: "))
                    .unwrap_or_else(|| format!("{section}[{i}]: "));
                self.errors.push((
                    vec![Step::Key(section.into()), Step::Index(i)],
                    format!("{what}{}", e.message),
                    e.pos.unwrap_or(item.pos),
                ));
            }
        }
    }

    /// The root mapping: single sections, list sections (whose items, when they were
    /// handed over while parsing, are already in), unknown sections.
    fn root(&mut self, root: &Node, origin: &str) -> Result<(), Vec<Diagnostic>> {
        let entries = match &root.value {
            Value::Map(entries) => entries,
            _ => {
                return Err(vec![Diagnostic {
                    file: origin.to_string(),
                    line: root.pos.line,
                    column: root.pos.column,
                    severity: Severity::Error,
                    path: String::new(),
                    message: format!(
                        "a model is a mapping with the sections {}; found {}",
                        SECTIONS.join(", "),
                        root.type_name()
                    ),
                }])
            }
        };
        for (k, v) in entries {
            let name = k.as_scalar().unwrap_or("");
            let single = |r: Result<(), crate::de::DeError>, errors: &mut Vec<TypeError>| {
                if let Err(e) = r {
                    errors.push((
                        vec![Step::Key(name.to_string())],
                        format!("{name}: {}", e.message),
                        e.pos.unwrap_or(v.pos),
                    ));
                }
            };
            match name {
                "operator" => single(
                    from_node(v).map(|o| self.model.operator = o),
                    &mut self.errors,
                ),
                "settings" => {
                    single(
                        from_node(v).map(|s| self.model.settings = s),
                        &mut self.errors,
                    );
                    self.errors.extend(settings_given_twice(v));
                }
                _ if SECTIONS.contains(&name) => match &v.value {
                    Value::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.item(name, i, item);
                        }
                    }
                    Value::Scalar { text, plain: true }
                        if matches!(text.as_str(), "" | "~" | "null") => {}
                    _ => self.errors.push((
                        vec![Step::Key(name.into())],
                        format!("`{name}` must be a list, found {}", v.type_name()),
                        v.pos,
                    )),
                },
                other => self.errors.push((
                    vec![],
                    format!(
                        "unknown section `{other}`, expected one of {}",
                        SECTIONS.join(", ")
                    ),
                    k.pos,
                )),
            }
        }
        Ok(())
    }

    fn typed(&mut self, origin: &str) -> Vec<Diagnostic> {
        type_diagnostics(std::mem::take(&mut self.errors), origin)
    }
}

fn type_diagnostics(errors: Vec<TypeError>, origin: &str) -> Vec<Diagnostic> {
    errors
        .into_iter()
        .map(|(path, message, pos)| Diagnostic {
            file: origin.to_string(),
            line: pos.line,
            column: pos.column,
            severity: Severity::Error,
            path: path_string(&path),
            message,
        })
        .collect()
}

/// `settings.<rule>_hours` written beside `settings.<rule>_ttc`: an error at the
/// distribution's key. Only the text can tell (a missing hours figure takes its default,
/// or the distribution's mean), so this is checked on the tree, not on [`Settings`].
///
/// [`Settings`]: crate::types::Settings
fn settings_given_twice(settings: &Node) -> Vec<TypeError> {
    crate::types::Settings::default()
        .rule_ttcs()
        .iter()
        .filter_map(|&(hours, ttc, _)| {
            let at = settings.get_key(ttc)?;
            settings.get_key(hours)?;
            Some((
                vec![Step::Key("settings".into()), Step::Key(ttc.into())],
                format!(
                    "both `{hours}` and `{ttc}` are given: `{hours}` is the mean of an \
                     exponential, `{ttc}` a whole distribution (its mean_hours is the mean); \
                     keep one"
                ),
                at.pos,
            ))
        })
        .collect()
}

/// Deserialize a whole tree section by section, item by item, then check the semantics.
fn from_tree(root: &Node, origin: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let mut c = Collector::new();
    c.root(root, origin)?;
    let issues = check(&c.model, &c.broken);
    let typed = c.typed(origin);
    finish(c.model, issues, typed, Some(root), &c.map, origin)
}

/// YAML: items are deserialized as the parser completes them (the document never sits in
/// memory as a tree); only when a semantic problem needs a position is the text parsed
/// again into a full tree.
fn from_yaml(text: &str, origin: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let mut c = Collector::new();
    let root = {
        let mut sink = |section: &str, i: usize, node: Node| {
            if LIST_SECTIONS.contains(&section) {
                c.item(section, i, &node);
                None
            } else {
                // Unknown sections stay in the tree, to be reported (and bounded) there.
                Some(node)
            }
        };
        parse_yaml_with(text, &Limits::default(), Some(&mut sink))
            .map_err(|e| tree_errors(origin, e))?
    };
    c.root(&root, origin)?;
    let issues = check(&c.model, &c.broken);
    let typed = c.typed(origin);
    if issues.is_empty() {
        return finish(c.model, issues, typed, None, &c.map, origin);
    }
    let full = parse_yaml(text, &Limits::default()).ok();
    finish(c.model, issues, typed, full.as_ref(), &c.map, origin)
}

fn finish(
    model: Model,
    issues: Vec<Issue>,
    mut diags: Vec<Diagnostic>,
    root: Option<&Node>,
    map: &IndexMap,
    origin: &str,
) -> Result<Loaded, Vec<Diagnostic>> {
    for issue in issues {
        let path = map.to_file(&issue.path);
        let pos = root.map(|r| locate(r, &path)).unwrap_or_default();
        let mut message = issue.message;
        if let Some(related) = &issue.related {
            let related = map.to_file(related);
            match root.map(|r| locate(r, &related)) {
                Some(first) if first.line > 0 => {
                    message = format!("{message} (first defined at line {})", first.line)
                }
                _ => message = format!("{message} (first defined at {})", path_string(&related)),
            }
        }
        diags.push(Diagnostic {
            file: origin.to_string(),
            line: pos.line,
            column: pos.column,
            severity: issue.severity,
            path: path_string(&path),
            message,
        });
    }
    diags.sort_by_key(|d| (d.line, d.column));
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(Loaded {
            model,
            warnings: diags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_yaml_reads_back_to_the_same_model() {
        let demo = crate::demo();
        let text = crate::to_yaml(&demo).unwrap();
        let back = load_str(&text, "<to_yaml>", Format::Yaml).unwrap();
        assert_eq!(back.model, demo);
        // Written once more, the same text: nothing drifts through a round trip.
        assert_eq!(crate::to_yaml(&back.model).unwrap(), text);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, crate::DEMO_YAML).unwrap();
        let opts = LoadOptions { max_bytes: 100 };
        let d = load_report_with(&path, &opts).unwrap_err();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("over the limit of 100 bytes"),
            "{d:?}"
        );
        let roomy = LoadOptions {
            max_bytes: crate::DEMO_YAML.len() as u64,
        };
        assert!(load_report_with(&path, &roomy).is_ok());
    }

    #[test]
    fn an_alias_bomb_is_one_error() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = if i == 1 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("b{i}: &b{i} [{refs}]\n"));
        }
        let d = load_str(&text, "bomb.yaml", Format::Yaml).unwrap_err();
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].message.contains("aliases expand"), "{d:?}");
        assert!(d[0].line > 0 && d[0].column > 0);
    }
}
