//! A document tree that remembers where every node was written (line and column), built from
//! YAML (through yaml-rust2's event parser) or JSON (a small scanner of our own). It is what
//! lets type errors and semantic errors point at `file:line:column`, and lets the loader
//! deserialize each entity separately so that every error is reported, not just the first.

use std::fmt;

use rustc_hash::FxHashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

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
    /// A scalar; `plain` is false when quoted (then it is always a string).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, duplicate keys removed (and reported).
    Map(Vec<(Node, Node)>),
}

/// A problem found while building the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

/// Deepest nesting accepted: the model needs about 6 levels, and a bound keeps recursion
/// (deserialization, drop) safe on hostile input.
pub const MAX_DEPTH: usize = 64;
/// Most nodes an alias may copy in total (a bound against "billion laughs" documents).
const MAX_ALIAS_NODES: usize = 100_000;

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

    fn count(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

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
    },
}

/// Receives the items of top-level sections as they complete: (section key, index of the
/// item in its section, the item). It gives the item back (`Some`) to keep it in the tree.
pub type ItemSink<'a> = &'a mut dyn FnMut(&str, usize, Node) -> Option<Node>;

/// Assembles nodes from a stream of "start / scalar / end" steps; shared by YAML and JSON.
#[derive(Default)]
struct Assembler<'a> {
    stack: Vec<Frame>,
    root: Option<Node>,
    errors: Vec<TreeError>,
    anchors: FxHashMap<usize, Node>,
    alias_nodes: usize,
    /// When set, items of top-level sequences are handed over instead of kept, so a big
    /// document never sits in memory as a tree; their sequences stay empty in the tree.
    detach: Option<ItemSink<'a>>,
    /// Items handed over from the sequence being built at depth 1.
    detached: usize,
}

impl Assembler<'_> {
    fn depth_ok(&mut self, pos: Pos) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.errors.push(TreeError {
                pos,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
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
            }) => {
                if let Some(k) = key {
                    self.errors.push(TreeError {
                        pos: k.pos,
                        message: "mapping key without a value".into(),
                    });
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
                let n = node.count();
                self.alias_nodes += n;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    self.errors.push(TreeError {
                        pos,
                        message: format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    });
                    return;
                }
                let mut copy = node.clone();
                copy.pos = pos;
                self.complete(copy, 0);
            }
            None => self.errors.push(TreeError {
                pos,
                message: "alias to an unknown anchor".into(),
            }),
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
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let dup = k.as_scalar().is_some()
                        && entries.iter().any(|(e, _)| e.as_scalar() == k.as_scalar());
                    if dup {
                        self.errors.push(TreeError {
                            pos: k.pos,
                            message: format!(
                                "duplicate key `{}` (the first one is kept)",
                                k.as_scalar().unwrap_or_default()
                            ),
                        });
                    } else {
                        entries.push((k, node));
                    }
                }
            },
        }
    }
}

/// Parse YAML text into a tree. Syntax errors stop the parse (the rest of a broken YAML text
/// cannot be trusted); structural problems (duplicate keys...) are all collected.
pub fn parse_yaml(text: &str) -> Result<Node, Vec<TreeError>> {
    parse_yaml_with(text, None)
}

/// Like [`parse_yaml`], handing the items of top-level sequences to `detach` as they
/// complete (they are left out of the returned tree).
pub fn parse_yaml_with(text: &str, detach: Option<ItemSink<'_>>) -> Result<Node, Vec<TreeError>> {
    let mut parser = Parser::new_from_str(text);
    let mut asm = Assembler {
        detach,
        ..Default::default()
    };
    let mut documents = 0usize;
    // Inside a subtree refused for depth, events are skipped until it closes.
    let mut skip = 0usize;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                asm.errors.push(TreeError {
                    pos: Pos {
                        line: m.line() as u32,
                        column: m.col() as u32 + 1,
                    },
                    message: format!("YAML syntax: {}", e.info()),
                });
                return Err(asm.errors);
            }
        };
        let pos = Pos {
            line: mark.line() as u32,
            column: mark.col() as u32 + 1,
        };
        if skip > 0 {
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) => skip += 1,
                Event::SequenceEnd | Event::MappingEnd => skip -= 1,
                _ => {}
            }
            continue;
        }
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    asm.errors.push(TreeError {
                        pos,
                        message: "more than one YAML document; a model is one document".into(),
                    });
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
                if !asm.start_seq(pos, anchor) {
                    skip = 1;
                }
            }
            Event::MappingStart(anchor, _) => {
                if !asm.start_map(pos, anchor) {
                    skip = 1;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => asm.end(),
            Event::Alias(id) => asm.alias(pos, id),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    finish(asm)
}

fn finish(asm: Assembler<'_>) -> Result<Node, Vec<TreeError>> {
    match asm.root {
        Some(root) if asm.errors.is_empty() => Ok(root),
        Some(_) => Err(asm.errors),
        None => {
            let mut errors = asm.errors;
            if errors.is_empty() {
                errors.push(TreeError {
                    pos: Pos { line: 1, column: 1 },
                    message: "the document is empty".into(),
                });
            }
            Err(errors)
        }
    }
}

/// Parse JSON text into a tree (strict JSON: no comments, no trailing commas).
pub fn parse_json(text: &str) -> Result<Node, Vec<TreeError>> {
    let mut s = JsonScanner {
        text: text.as_bytes(),
        src: text,
        i: 0,
        line: 1,
        line_start: 0,
    };
    let mut asm = Assembler::default();
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
                        return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
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
                        return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
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
