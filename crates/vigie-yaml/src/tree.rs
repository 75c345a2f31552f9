//! A document tree that remembers where every node was written (line and column), built from
//! YAML (plain block documents through the line-based reader of `block.rs`, which gives
//! exactly yaml-rust2's tree; anything else, errors included, through yaml-rust2's event
//! parser) or JSON (a small scanner of our own), within
//! [`Limits`] on size, nesting depth and alias expansion. It is what lets type errors and
//! semantic errors point at `file:line:column`, and lets a loader deserialize each entity
//! separately so that every error is reported, not just the first.
//!
//! A limit exceeded stops the parse at once with one [`ErrorKind::Limit`] error: the rest
//! of a hostile document is not worth reading, and reading it is what costs (the YAML
//! scanner's work per token grows with the nesting depth).

use std::fmt;

use rustc_hash::{FxHashMap, FxHashSet};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::block::Step as BlockStep;

/// A position in a source text, 1-based.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1 (0 when unknown).
    pub line: u32,
    /// Column in characters, from 1 (0 when unknown).
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A node of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// Its content.
    pub value: Value,
}

/// Content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar; `plain` is false when quoted or tagged `!!str` (then it is always a string).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, duplicate keys removed (and reported).
    Map(Vec<(Node, Node)>),
}

/// What kind of problem a [`TreeError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not YAML (or JSON).
    Syntax,
    /// A [`Limits`] bound was exceeded; the parse stopped there.
    Limit,
    /// Well-formed, but not one tree: duplicate key, alias to an unknown anchor, more than
    /// one document, key without a value.
    Structure,
    /// No document at all (empty text, or only comments).
    Empty,
}

/// A problem found while building the tree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct TreeError {
    /// Where.
    pub pos: Pos,
    /// Which kind of problem.
    pub kind: ErrorKind,
    /// What.
    pub message: String,
}

/// Bounds on what a document may cost to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings accepted.
    pub max_depth: usize,
    /// Largest text accepted, in bytes.
    pub max_bytes: usize,
    /// Most nodes aliases may copy in total (a bound against "billion laughs" documents).
    pub max_alias_nodes: usize,
}

/// Deepest nesting accepted by default: models need about 6 levels, Sigma rules about 5;
/// a bound keeps recursion (deserialization, drop) safe and parsing linear on hostile input.
pub const MAX_DEPTH: usize = 64;
/// Default bound on the nodes aliases may copy.
pub const MAX_ALIAS_NODES: usize = 100_000;

impl Default for Limits {
    /// Depth [`MAX_DEPTH`], alias copies [`MAX_ALIAS_NODES`], no size bound beyond what
    /// the caller already read (callers bound sizes before reading files).
    fn default() -> Self {
        Limits {
            max_depth: MAX_DEPTH,
            max_bytes: usize::MAX,
            max_alias_nodes: MAX_ALIAS_NODES,
        }
    }
}

impl Node {
    /// A scalar's text if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Value of `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` if this is a mapping that has it.
    pub fn get_key(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    /// Item `i` if this is a sequence.
    pub fn item(&self, i: usize) -> Option<&Node> {
        match &self.value {
            Value::Seq(items) => items.get(i),
            _ => None,
        }
    }

    /// Short description of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }

    /// Nodes in this subtree; iterative, so a deep tree costs no recursion.
    fn count(&self) -> usize {
        let mut n = 0;
        let mut todo = vec![self];
        while let Some(node) = todo.pop() {
            n += 1;
            match &node.value {
                Value::Scalar { .. } => {}
                Value::Seq(items) => todo.extend(items),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        todo.push(k);
                        todo.push(v);
                    }
                }
            }
        }
        n
    }
}

/// Mappings with more keys than this check duplicates through a hash set, so a mapping
/// of many keys costs linear time, not quadratic.
const HASHED_KEYS: usize = 16;

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Scalar keys, once the mapping has more than [`HASHED_KEYS`].
        seen: Option<FxHashSet<String>>,
    },
}

/// Receives the items of top-level sections as they complete: (section key, index of the
/// item in its section, the item). It gives the item back (`Some`) to keep it in the tree.
pub type ItemSink<'a> = &'a mut dyn FnMut(&str, usize, Node) -> Option<Node>;

/// Assembles nodes from a stream of "start / scalar / end" steps; shared by YAML and JSON.
struct Assembler<'a> {
    limits: Limits,
    stack: Vec<Frame>,
    root: Option<Node>,
    errors: Vec<TreeError>,
    anchors: FxHashMap<usize, Node>,
    alias_nodes: usize,
    /// Set when a limit was exceeded: the parse stops.
    stopped: bool,
    /// When set, items of top-level sequences are handed over instead of kept, so a big
    /// document never sits in memory as a tree; their sequences stay empty in the tree.
    detach: Option<ItemSink<'a>>,
    /// Items handed over from the sequence being built at depth 1.
    detached: usize,
}

impl<'a> Assembler<'a> {
    fn new(limits: &Limits, detach: Option<ItemSink<'a>>) -> Self {
        Assembler {
            limits: *limits,
            stack: Vec::new(),
            root: None,
            errors: Vec::new(),
            anchors: FxHashMap::default(),
            alias_nodes: 0,
            stopped: false,
            detach,
            detached: 0,
        }
    }

    fn error(&mut self, pos: Pos, kind: ErrorKind, message: impl Into<String>) {
        if kind == ErrorKind::Limit {
            self.stopped = true;
        }
        self.errors.push(TreeError {
            pos,
            kind,
            message: message.into(),
        });
    }

    fn depth_ok(&mut self, pos: Pos) -> bool {
        if self.stack.len() >= self.limits.max_depth {
            let max = self.limits.max_depth;
            self.error(
                pos,
                ErrorKind::Limit,
                format!("nesting deeper than {max} levels"),
            );
            return false;
        }
        true
    }

    fn start_seq(&mut self, pos: Pos, anchor: usize) -> bool {
        if !self.depth_ok(pos) {
            return false;
        }
        self.stack.push(Frame::Seq {
            pos,
            anchor,
            items: Vec::new(),
        });
        true
    }

    fn start_map(&mut self, pos: Pos, anchor: usize) -> bool {
        if !self.depth_ok(pos) {
            return false;
        }
        self.stack.push(Frame::Map {
            pos,
            anchor,
            entries: Vec::new(),
            key: None,
            seen: None,
        });
        true
    }

    fn end(&mut self) {
        match self.stack.pop() {
            Some(Frame::Seq { pos, anchor, items }) => self.complete(
                Node {
                    pos,
                    value: Value::Seq(items),
                },
                anchor,
            ),
            Some(Frame::Map {
                pos,
                anchor,
                entries,
                key,
                ..
            }) => {
                if let Some(k) = key {
                    self.error(k.pos, ErrorKind::Structure, "mapping key without a value");
                }
                self.complete(
                    Node {
                        pos,
                        value: Value::Map(entries),
                    },
                    anchor,
                )
            }
            None => {}
        }
    }

    fn alias(&mut self, pos: Pos, id: usize) {
        match self.anchors.get(&id) {
            Some(node) => {
                self.alias_nodes = self.alias_nodes.saturating_add(node.count());
                if self.alias_nodes > self.limits.max_alias_nodes {
                    let max = self.limits.max_alias_nodes;
                    self.error(
                        pos,
                        ErrorKind::Limit,
                        format!("aliases expand to more than {max} nodes"),
                    );
                    return;
                }
                let mut copy = node.clone();
                copy.pos = pos;
                self.complete(copy, 0);
            }
            None => self.error(pos, ErrorKind::Structure, "alias to an unknown anchor"),
        }
    }

    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let mut node = node;
        if self.stack.len() == 2 {
            // An anchored sequence keeps its items: an alias may copy it later.
            if let (Some(sink), [Frame::Map { key: Some(k), .. }, Frame::Seq { anchor: 0, .. }]) =
                (self.detach.as_mut(), self.stack.as_slice())
            {
                let section = k.as_scalar().unwrap_or("");
                let i = self.detached;
                self.detached += 1;
                match sink(section, i, node) {
                    None => return,
                    Some(back) => node = back,
                }
            }
        }
        if self.stack.len() == 1 {
            // A new top-level value starts or ends: item numbering restarts.
            self.detached = 0;
        }
        let duplicate = match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
                None
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                None
            }
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                None => {
                    *key = Some(node);
                    None
                }
                Some(k) => {
                    if is_duplicate(entries, seen, &k) {
                        Some(k)
                    } else {
                        entries.push((k, node));
                        None
                    }
                }
            },
        };
        if let Some(k) = duplicate {
            let message = format!(
                "duplicate key `{}` (the first one is kept)",
                k.as_scalar().unwrap_or_default()
            );
            self.error(k.pos, ErrorKind::Structure, message);
        }
    }
}

/// Whether scalar key `k` is already among `entries`; records it when not.
fn is_duplicate(entries: &[(Node, Node)], seen: &mut Option<FxHashSet<String>>, k: &Node) -> bool {
    let Some(text) = k.as_scalar() else {
        return false;
    };
    if seen.is_none() && entries.len() >= HASHED_KEYS {
        *seen = Some(
            entries
                .iter()
                .filter_map(|(e, _)| e.as_scalar().map(str::to_string))
                .collect(),
        );
    }
    match seen {
        Some(set) => !set.insert(text.to_string()),
        None => entries.iter().any(|(e, _)| e.as_scalar() == Some(text)),
    }
}

fn too_big(text: &str, limits: &Limits) -> Option<TreeError> {
    (text.len() > limits.max_bytes).then(|| TreeError {
        pos: Pos { line: 1, column: 1 },
        kind: ErrorKind::Limit,
        message: format!(
            "the text is {} bytes, over the limit of {} bytes",
            text.len(),
            limits.max_bytes
        ),
    })
}

/// Parse YAML text into a tree. Syntax errors and exceeded limits stop the parse (the rest
/// of a broken YAML text cannot be trusted); structural problems (duplicate keys...) are
/// all collected.
pub fn parse_yaml(text: &str, limits: &Limits) -> Result<Node, Vec<TreeError>> {
    parse_yaml_with(text, limits, None)
}

/// Like [`parse_yaml`], handing the items of top-level sequences to `detach` as they
/// complete (they are left out of the returned tree).
pub fn parse_yaml_with(
    text: &str,
    limits: &Limits,
    detach: Option<ItemSink<'_>>,
) -> Result<Node, Vec<TreeError>> {
    if let Some(e) = too_big(text, limits) {
        return Err(vec![e]);
    }
    let mut asm = Assembler::new(limits, detach);
    if block_reader(text, &mut asm) {
        return finish(asm);
    }
    parse_yaml_events(text, asm)
}

/// The fast reader alone: `None` when it declines `text` (then [`parse_yaml`] uses
/// [`parse_yaml_full`]). For the tests and fuzz target that compare the two readers.
pub fn parse_yaml_fast(text: &str, limits: &Limits) -> Option<Result<Node, Vec<TreeError>>> {
    if let Some(e) = too_big(text, limits) {
        return Some(Err(vec![e]));
    }
    let mut asm = Assembler::new(limits, None);
    block_reader(text, &mut asm).then(|| finish(asm))
}

/// yaml-rust2's reader alone, whatever the text: what [`parse_yaml`] falls back to.
pub fn parse_yaml_full(text: &str, limits: &Limits) -> Result<Node, Vec<TreeError>> {
    if let Some(e) = too_big(text, limits) {
        return Err(vec![e]);
    }
    parse_yaml_events(text, Assembler::new(limits, None))
}

/// Feeds the line-based reader's steps to `asm`; false (and `asm` untouched) when that
/// reader declines the text.
fn block_reader(text: &str, asm: &mut Assembler<'_>) -> bool {
    let Some(steps) = crate::block::steps(text, asm.limits.max_depth) else {
        return false;
    };
    for step in steps {
        match step {
            BlockStep::Map(pos) => {
                asm.start_map(pos, 0);
            }
            BlockStep::Seq(pos) => {
                asm.start_seq(pos, 0);
            }
            BlockStep::End => asm.end(),
            BlockStep::Scalar { pos, text, plain } => asm.complete(
                Node {
                    pos,
                    value: Value::Scalar { text, plain },
                },
                0,
            ),
        }
    }
    true
}

/// [`parse_yaml_with`] through yaml-rust2's event parser: every YAML document, and the
/// errors worded.
fn parse_yaml_events(text: &str, mut asm: Assembler<'_>) -> Result<Node, Vec<TreeError>> {
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    while !asm.stopped {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                let pos = Pos {
                    line: m.line() as u32,
                    column: m.col() as u32 + 1,
                };
                if e.info() == "recursion limit exceeded" {
                    // yaml-rust2's scanner reads ahead and has its own bound on flow
                    // nesting (255): the same limit, met a few tokens earlier.
                    let max = asm.limits.max_depth.min(255);
                    asm.error(
                        pos,
                        ErrorKind::Limit,
                        format!("nesting deeper than {max} levels"),
                    );
                    return finish(asm);
                }
                asm.error(pos, ErrorKind::Syntax, format!("YAML syntax: {}", e.info()));
                return Err(asm.errors);
            }
        };
        let pos = Pos {
            line: mark.line() as u32,
            column: mark.col() as u32 + 1,
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    asm.error(
                        pos,
                        ErrorKind::Structure,
                        "more than one YAML document where one is expected",
                    );
                    break;
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let quoted_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let plain = style == TScalarStyle::Plain && !quoted_tag;
                asm.complete(
                    Node {
                        pos,
                        value: Value::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => {
                asm.start_seq(pos, anchor);
            }
            Event::MappingStart(anchor, _) => {
                asm.start_map(pos, anchor);
            }
            Event::SequenceEnd | Event::MappingEnd => asm.end(),
            Event::Alias(id) => asm.alias(pos, id),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    finish(asm)
}

fn finish(asm: Assembler<'_>) -> Result<Node, Vec<TreeError>> {
    if asm.stopped {
        // Only the limit: errors found before it may be artefacts of the cut.
        let limit = asm
            .errors
            .into_iter()
            .filter(|e| e.kind == ErrorKind::Limit)
            .take(1)
            .collect();
        return Err(limit);
    }
    match asm.root {
        Some(root) if asm.errors.is_empty() => Ok(root),
        Some(_) => Err(asm.errors),
        None => {
            let mut errors = asm.errors;
            if errors.is_empty() {
                errors.push(TreeError {
                    pos: Pos { line: 1, column: 1 },
                    kind: ErrorKind::Empty,
                    message: "the document is empty".into(),
                });
            }
            Err(errors)
        }
    }
}

/// Parse JSON text into a tree (strict JSON: no comments, no trailing commas).
pub fn parse_json(text: &str, limits: &Limits) -> Result<Node, Vec<TreeError>> {
    if let Some(e) = too_big(text, limits) {
        return Err(vec![e]);
    }
    let mut s = JsonScanner {
        text: text.as_bytes(),
        src: text,
        i: 0,
        line: 1,
        line_start: 0,
    };
    let mut asm = Assembler::new(limits, None);
    match s.document(&mut asm) {
        Ok(()) => finish(asm),
        Err(e) => {
            asm.errors.push(e);
            Err(asm.errors)
        }
    }
}

struct JsonScanner<'a> {
    text: &'a [u8],
    src: &'a str,
    i: usize,
    line: u32,
    line_start: usize,
}

impl JsonScanner<'_> {
    fn pos(&self) -> Pos {
        // Columns count characters, not bytes.
        let col = self
            .src
            .get(self.line_start..self.i)
            .map(|s| s.chars().count())
            .unwrap_or(self.i - self.line_start);
        Pos {
            line: self.line,
            column: col as u32 + 1,
        }
    }

    fn err(&self, message: impl Into<String>) -> TreeError {
        TreeError {
            pos: self.pos(),
            kind: ErrorKind::Syntax,
            message: format!("JSON syntax: {}", message.into()),
        }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.text.get(self.i) {
            match c {
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.i).copied()
    }

    fn document(&mut self, asm: &mut Assembler) -> Result<(), TreeError> {
        // A UTF-8 byte order mark is tolerated.
        if self.src.starts_with('\u{feff}') {
            self.i = 3;
            self.line_start = 3;
        }
        self.ws();
        if self.peek().is_none() {
            return Ok(());
        }
        self.value(asm)?;
        if asm.stopped {
            return Ok(());
        }
        self.ws();
        if self.peek().is_some() {
            return Err(self.err("unexpected text after the document"));
        }
        Ok(())
    }

    /// Iterative: containers are tracked by the assembler's stack, so nesting costs no
    /// recursion here.
    fn value(&mut self, asm: &mut Assembler) -> Result<(), TreeError> {
        // `expect_value` is true when a value must come next (start, after ':' or ',').
        loop {
            self.ws();
            let pos = self.pos();
            let in_map_key = matches!(asm.stack.last(), Some(Frame::Map { key: None, .. }));
            match self.peek() {
                None => return Err(self.err("unexpected end of text")),
                Some(b'{') => {
                    self.i += 1;
                    if !asm.start_map(pos, 0) {
                        return Ok(());
                    }
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        asm.end();
                    } else {
                        continue;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    if !asm.start_seq(pos, 0) {
                        return Ok(());
                    }
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        asm.end();
                    } else {
                        continue;
                    }
                }
                Some(b'"') => {
                    let text = self.string()?;
                    asm.complete(
                        Node {
                            pos,
                            value: Value::Scalar { text, plain: false },
                        },
                        0,
                    );
                    if in_map_key {
                        self.ws();
                        if self.peek() != Some(b':') {
                            return Err(self.err("expected `:` after an object key"));
                        }
                        self.i += 1;
                        continue;
                    }
                }
                Some(_) if in_map_key => return Err(self.err("expected a string object key")),
                Some(_) => {
                    let text = self.literal()?;
                    asm.complete(
                        Node {
                            pos,
                            value: Value::Scalar { text, plain: true },
                        },
                        0,
                    );
                }
            }
            // After a complete value: close containers or move to the next element.
            loop {
                self.ws();
                match asm.stack.last() {
                    None => return Ok(()),
                    Some(Frame::Seq { .. }) => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            break;
                        }
                        Some(b']') => {
                            self.i += 1;
                            asm.end();
                        }
                        _ => return Err(self.err("expected `,` or `]`")),
                    },
                    Some(Frame::Map { .. }) => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            asm.end();
                        }
                        _ => return Err(self.err("expected `,` or `}`")),
                    },
                }
            }
        }
    }

    fn literal(&mut self) -> Result<String, TreeError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.') {
                self.i += 1;
            } else {
                break;
            }
        }
        let word = self.src.get(start..self.i).unwrap_or("");
        let number = !word.is_empty()
            && word.parse::<f64>().is_ok()
            && word
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'));
        if matches!(word, "true" | "false" | "null") || number {
            Ok(word.to_string())
        } else {
            self.i = start;
            Err(self.err("expected a value (string, number, true, false, null, object, array)"))
        }
    }

    fn string(&mut self) -> Result<String, TreeError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(self.src.get(start..self.i).unwrap_or(""));
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi) {
                                if self.text.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("bad surrogate pair in \\u escape"));
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.ok_or_else(|| self.err("invalid \\u escape"))?);
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, TreeError> {
        let digits = self
            .src
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.err("invalid \\u escape"))?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        self.i += 4;
        Ok(v)
    }
}

/// One step of a path from the root to a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// A mapping key's value.
    Key(String),
    /// A mapping key itself (to point at the key rather than its value).
    KeyName(String),
    /// A sequence item.
    Index(usize),
}

/// Position of the node at `path` under `root`; when the path goes further than the
/// document, the deepest node reached.
pub fn locate(root: &Node, path: &[Step]) -> Pos {
    let mut node = root;
    for step in path {
        let next = match step {
            Step::Key(k) => node.get(k),
            Step::KeyName(k) => node.get_key(k),
            Step::Index(i) => node.item(*i),
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn errors(text: &str, limits: &Limits) -> Vec<TreeError> {
        match parse_yaml(text, limits) {
            Ok(n) => panic!("parsed: {n:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn deep_nesting_is_one_fast_limit_error() {
        for depth in [10_000usize, 100_000, 1_000_000] {
            for (open, tail) in [("[", ""), ("{a: ", "")] {
                let text = format!("k: {}{tail}", open.repeat(depth));
                let t = Instant::now();
                let e = errors(&text, &Limits::default());
                let took = t.elapsed();
                assert!(took < Duration::from_secs(2), "depth {depth}: {took:?}");
                assert_eq!(e.len(), 1, "{e:?}");
                assert_eq!(e[0].kind, ErrorKind::Limit, "{open}: {e:?}");
                assert_eq!(e[0].pos.line, 1);
                assert!(e[0].pos.column > MAX_DEPTH as u32, "{:?}", e[0].pos);
            }
        }
    }

    #[test]
    fn alias_bomb_is_one_error() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = "a".to_string();
        for i in 1..12 {
            let name = format!("b{i}");
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            prev = name;
        }
        let e = errors(&text, &Limits::default());
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].kind, ErrorKind::Limit);
        assert!(e[0].message.contains("aliases"), "{}", e[0].message);
    }

    #[test]
    fn size_limit_refuses_before_parsing() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let e = errors("a: 12345678901", &limits);
        assert_eq!((e.len(), e[0].kind), (1, ErrorKind::Limit));
        assert!(parse_yaml("a: 1", &limits).is_ok());
        assert_eq!(
            parse_json("[1, 2, 3, 4, 5, 6]", &limits).unwrap_err()[0].kind,
            ErrorKind::Limit
        );
    }

    #[test]
    fn structure_errors_are_all_collected_and_typed() {
        let e = errors("a: 1\nb: 2\na: 3\nb: 4\n", &Limits::default());
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|e| e.kind == ErrorKind::Structure));
        assert_eq!((e[0].pos.line, e[1].pos.line), (3, 4));
        assert_eq!(
            errors("# nothing\n", &Limits::default())[0].kind,
            ErrorKind::Empty
        );
        assert_eq!(
            errors("a: [", &Limits::default())[0].kind,
            ErrorKind::Syntax
        );
    }

    #[test]
    fn many_keys_cost_linear_time_and_duplicates_are_still_found() {
        let mut text: String = (0..200_000).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k17: again\n");
        let t = Instant::now();
        let e = errors(&text, &Limits::default());
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("`k17`"), "{}", e[0].message);
        assert_eq!(e[0].pos.line, 200_001);
    }

    #[test]
    fn json_depth_is_bounded_too() {
        let text = "[".repeat(1_000_000);
        let t = Instant::now();
        let e = parse_json(&text, &Limits::default()).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!((e.len(), e[0].kind), (1, ErrorKind::Limit));
    }
}
