//! Indicator sources: STIX 2.1 bundles, MISP feeds, CSV files and plain lists.
//!
//! A source is given as `[TYPE:]PATH` ([`Source::parse`]). What the path holds is
//! decided by [`Format::detect`]: a directory with a `manifest.json` is a MISP feed, a
//! `.json` file is a STIX bundle (or a single MISP event when it has an `Event` key), a
//! `.csv` file is CSV, anything else a plain list.
//!
//! Contracts:
//! - Nothing is dropped silently: every line, row, object or attribute that does not
//!   become an indicator is a [`Refusal`] naming the file, the position (line and
//!   column, JSON pointer, or the file itself) and the reason; the rest of the source
//!   is still read.
//! - Loading is deterministic: the same files give the same indicators, in the same
//!   order, with the same ids.
//! - A plain list or CSV needs a type: declared by the `TYPE:` prefix of the source or
//!   by a `# type: TYPE` line among the comment lines before the first value (the
//!   prefix wins when both are there); CSV may also name it per column or per row (see
//!   [`csv`]).

pub mod csv;
pub mod list;
pub mod misp;
pub mod stix;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::indicator::{DeclaredType, IndicatorSet, IocType};

/// How a source is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    StixBundle,
    MispFeed,
    /// One MISP event file (`{"Event": {...}}`).
    MispEvent,
    Csv,
    List,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::StixBundle => "stix",
            Format::MispFeed => "misp-feed",
            Format::MispEvent => "misp-event",
            Format::Csv => "csv",
            Format::List => "list",
        }
    }

    /// The format of a path: see the module documentation. A `.json` file is peeked at
    /// (its first 4 KiB) for a top-level `"Event"` key.
    pub fn detect(path: &Path) -> Format {
        if path.is_dir() {
            return Format::MispFeed;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("json") => {
                let head = std::fs::File::open(path)
                    .ok()
                    .and_then(|f| {
                        use std::io::Read;
                        let mut buf = Vec::with_capacity(4096);
                        f.take(4096).read_to_end(&mut buf).ok().map(|_| buf)
                    })
                    .unwrap_or_default();
                let head = String::from_utf8_lossy(&head);
                let t = head.trim_start();
                if t.starts_with('{') && t[1..].trim_start().starts_with("\"Event\"") {
                    Format::MispEvent
                } else {
                    Format::StixBundle
                }
            }
            Some("csv") => Format::Csv,
            _ => Format::List,
        }
    }
}

/// One source to load: a path, with a declared type for lists and CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub declared: Option<DeclaredType>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>) -> Source {
        Source {
            path: path.into(),
            declared: None,
        }
    }

    /// `TYPE:PATH` or `PATH`. The prefix is a type only when it is one of
    /// [`DeclaredType`]'s names (so `C:\feeds\x.txt` and `./a:b.txt` are paths).
    pub fn parse(spec: &str) -> Source {
        if let Some((prefix, rest)) = spec.split_once(':') {
            if !rest.is_empty() {
                if let Ok(t) = prefix.parse::<DeclaredType>() {
                    return Source {
                        path: PathBuf::from(rest),
                        declared: Some(t),
                    };
                }
            }
        }
        Source::new(spec)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.declared {
            Some(t) => write!(f, "{}:{}", t.as_str(), self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// Options of [`load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Also take MISP attributes whose `to_ids` is false (default: refused, counted).
    pub misp_include_non_ids: bool,
}

/// Where in a file a refusal points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Position {
    /// The file as a whole (unreadable, not JSON, no type declared, ...).
    File,
    /// 1-based line and column.
    Line { line: u64, column: u64 },
    /// A JSON pointer (RFC 6901) into the document, e.g. `/objects/3/pattern`.
    Pointer(String),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::File => f.write_str("file"),
            Position::Line { line, column } => write!(f, "line {line}, column {column}"),
            Position::Pointer(p) if p.is_empty() => f.write_str("document root"),
            Position::Pointer(p) => write!(f, "{p}"),
        }
    }
}

/// One thing that did not become an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub file: String,
    pub position: Position,
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.position, self.reason)
    }
}

/// What one source gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// The source as given (`[TYPE:]PATH`).
    pub source: String,
    pub format: Option<Format>,
    /// Indicators loaded.
    pub loaded: usize,
    /// Refusals (their details are in [`LoadReport::refused`]).
    pub refused: usize,
    /// Values loaded by type (an indicator with several values counts each).
    pub by_type: BTreeMap<IocType, usize>,
    /// Indicators kept as STIX patterns (not in the typed indexes).
    pub patterns: usize,
}

/// What [`load`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// One per source, in the order given.
    pub sources: Vec<SourceReport>,
    pub refused: Vec<Refusal>,
}

impl LoadReport {
    pub fn loaded(&self) -> usize {
        self.sources.iter().map(|s| s.loaded).sum()
    }
    pub fn patterns(&self) -> usize {
        self.sources.iter().map(|s| s.patterns).sum()
    }
    pub fn by_type(&self) -> BTreeMap<IocType, usize> {
        let mut m = BTreeMap::new();
        for s in &self.sources {
            for (t, n) in &s.by_type {
                *m.entry(*t).or_insert(0) += n;
            }
        }
        m
    }
    /// Refusals counted by reason class (the reason up to its first `(` or `:`, with
    /// quoted values removed), most frequent first.
    pub fn refused_by_reason(&self) -> Vec<(String, usize)> {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.refused {
            *m.entry(reason_class(&r.reason)).or_insert(0) += 1;
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

fn reason_class(reason: &str) -> String {
    // Drop quoted values ("..." as Debug writes them) so that one class gathers them.
    let mut out = String::new();
    let mut in_quote = false;
    let mut escaped = false;
    for c in reason.chars() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
                out.push('…');
            }
            continue;
        }
        if c == '"' {
            in_quote = true;
            continue;
        }
        out.push(c);
    }
    line_numbers_elided(out.trim())
}

/// `line 123` becomes `line N`, so "duplicate of line 12" and "duplicate of line 40"
/// are one class (other numbers, e.g. "64 hex digits", are part of the reason).
fn line_numbers_elided(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + "line ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('N');
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Collects indicators and refusals of one source.
pub(crate) struct Sink<'a> {
    pub set: &'a mut IndicatorSet,
    pub refused: &'a mut Vec<Refusal>,
    pub report: SourceReport,
    pub file: Arc<str>,
}

impl Sink<'_> {
    pub fn refuse(&mut self, position: Position, reason: impl Into<String>) {
        self.report.refused += 1;
        self.refused.push(Refusal {
            file: self.file.to_string(),
            position,
            reason: reason.into(),
        });
    }

    pub fn refuse_in(&mut self, file: &str, position: Position, reason: impl Into<String>) {
        self.report.refused += 1;
        self.refused.push(Refusal {
            file: file.to_string(),
            position,
            reason: reason.into(),
        });
    }

    pub fn push(&mut self, ind: crate::indicator::Indicator) {
        if let crate::indicator::IndicatorBody::Pattern(_) = &ind.what {
            self.report.patterns += 1;
        }
        let by_type = &mut self.report.by_type;
        ind.what
            .for_each_value(|t, _| *by_type.entry(t).or_insert(0) += 1);
        self.report.loaded += 1;
        self.set.indicators.push(ind);
    }
}

/// Load every source, in order, into one set. Never fails as a whole: what cannot be
/// read is in the report's refusals (a source that gives nothing has `loaded == 0`).
pub fn load(sources: &[Source], opts: &LoadOptions) -> (IndicatorSet, LoadReport) {
    let mut set = IndicatorSet::default();
    let mut report = LoadReport::default();
    for src in sources {
        let r = load_one(src, opts, &mut set, &mut report.refused);
        report.sources.push(r);
    }
    (set, report)
}

/// [`load`] of plain paths (no declared types).
pub fn load_paths(paths: &[PathBuf], opts: &LoadOptions) -> (IndicatorSet, LoadReport) {
    let sources: Vec<Source> = paths.iter().map(Source::new).collect();
    load(&sources, opts)
}

fn load_one(
    src: &Source,
    opts: &LoadOptions,
    set: &mut IndicatorSet,
    refused: &mut Vec<Refusal>,
) -> SourceReport {
    let file: Arc<str> = Arc::from(src.path.display().to_string());
    let mut sink = Sink {
        set,
        refused,
        report: SourceReport {
            source: src.to_string(),
            ..SourceReport::default()
        },
        file,
    };
    if !src.path.exists() {
        sink.refuse(Position::File, "no such file or directory");
        return sink.report;
    }
    let format = Format::detect(&src.path);
    sink.report.format = Some(format);
    if src.declared.is_some() && !matches!(format, Format::Csv | Format::List) {
        tracing::warn!(source = %src, "a declared type applies to lists and CSV only: ignored");
    }
    match format {
        Format::StixBundle => stix::load_file(&src.path, &mut sink),
        Format::MispFeed => misp::load_feed(&src.path, opts, &mut sink),
        Format::MispEvent => misp::load_event_file(&src.path, opts, &mut sink),
        Format::Csv => csv::load_file(&src.path, src.declared, &mut sink),
        Format::List => list::load_file(&src.path, src.declared, &mut sink),
    }
    sink.report
}

/// The file name (no directory) used in list entry ids.
pub(crate) fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Read a file as UTF-8 text, or refuse it.
pub(crate) fn read_text(path: &Path, sink: &mut Sink<'_>) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(e) => {
                let off = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let before = &bytes[..off];
                let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let col = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
                sink.refuse(
                    Position::Line { line, column: col },
                    "not UTF-8 text (the whole file is refused)",
                );
                None
            }
        },
        Err(e) => {
            sink.refuse(Position::File, format!("cannot read: {e}"));
            None
        }
    }
}

/// Parse one document held in memory as `format` (not [`Format::MispFeed`], which is a
/// directory): what the property tests and the fuzz target drive. `file` names it in
/// refusals and ids.
pub fn parse_str(
    format: Format,
    text: &str,
    file: &str,
    declared: Option<DeclaredType>,
    opts: &LoadOptions,
) -> (IndicatorSet, LoadReport) {
    let mut set = IndicatorSet::default();
    let mut refused = Vec::new();
    let mut sink = Sink {
        set: &mut set,
        refused: &mut refused,
        report: SourceReport {
            source: file.to_string(),
            format: Some(format),
            ..SourceReport::default()
        },
        file: Arc::from(file),
    };
    match format {
        Format::StixBundle => stix::parse_into(text, &mut sink),
        Format::MispEvent => misp::parse_event_into(text, file, opts, &mut sink),
        Format::MispFeed => sink.refuse(Position::File, "a MISP feed is a directory"),
        Format::Csv => csv::parse_into(text, file, declared, &mut sink),
        Format::List => list::parse_into(text, file, declared, &mut sink),
    }
    let r = sink.report;
    (
        set,
        LoadReport {
            sources: vec![r],
            refused,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_classes_gather_line_numbers_not_other_numbers() {
        assert_eq!(reason_class("duplicate of line 12"), "duplicate of line N");
        assert_eq!(
            reason_class("duplicate of line 4000"),
            "duplicate of line N"
        );
        assert_eq!(
            reason_class("SHA-256 must be 64 hex digits, got \"abc\""),
            "SHA-256 must be 64 hex digits, got …"
        );
        assert_eq!(reason_class("see line x"), "see line x");
    }
}
