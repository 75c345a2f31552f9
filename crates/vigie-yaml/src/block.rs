//! A line-based reader for the plain block style that rule and model files are written in:
//! block mappings and sequences, one-line plain and quoted scalars, `|` and `>` block
//! scalars, comments. It is the fast path of [`crate::tree::parse_yaml`]: loading SigmaHQ's
//! rules spent about half its time in yaml-rust2's character-at-a-time scanner, and this
//! reader takes all but 9 of its 3,141 rule files.
//!
//! Contract: [`steps`] either returns exactly the steps (kind, text, position) that
//! yaml-rust2's events give for the text, or `None`; it never reports errors. Anything it
//! is not sure of (flow collections, anchors, tags, multi-line plain or quoted scalars,
//! tabs, control characters, document markers, anything malformed) makes it decline, and
//! the caller reads the text with yaml-rust2, which also words the errors. The
//! differential tests in `tests/it/block.rs` compare the two readers on every YAML file
//! of `../shared` and on generated and mutated documents; the fuzz target `yaml_block`
//! does the same on arbitrary text.

use crate::tree::Pos;

/// One parse step, as the tree assembler takes them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Map(Pos),
    Seq(Pos),
    End,
    Scalar { pos: Pos, text: String, plain: bool },
}

/// Longest simple key yaml-rust2 accepts, in characters.
const MAX_KEY_CHARS: usize = 1024;

/// The steps of `text`, or `None` when this reader declines it. `max_depth` is the
/// assembler's nesting limit: a document that reaches it is declined, so the limit error
/// comes from the full reader, positioned as it positions it.
pub(crate) fn steps(text: &str, max_depth: usize) -> Option<Vec<Step>> {
    let lines = split_lines(text)?;
    let mut r = Reader {
        text,
        lines,
        out: Vec::with_capacity(text.len() / 16),
        depth: 0,
        max_depth,
    };
    let first = r.next_content(0);
    let at = r.lines.get(first)?.indent;
    let next = r.node(first, at, -1)?;
    // One root node: anything after it is for the full reader to judge.
    (next == r.lines.len()).then_some(r.out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Empty or spaces only.
    Blank,
    /// Spaces, then a comment.
    Comment,
    /// Anything else.
    Content,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    /// Byte offsets of the line in the text, without its line break.
    start: usize,
    end: usize,
    /// Leading spaces.
    indent: usize,
    kind: Kind,
    /// Whether the line is all ASCII (byte offsets are then columns).
    ascii: bool,
}

/// Lines of `text`, or `None` when it has a character this reader leaves to yaml-rust2:
/// tabs, carriage returns, other control characters, byte order marks, non-characters, a
/// directive or document marker at the start of a line.
fn split_lines(text: &str) -> Option<Vec<Line>> {
    let bytes = text.as_bytes();
    // Chunks folded without branches: the compiler vectorizes the test.
    let control = |chunk: &[u8]| {
        chunk.iter().fold(false, |bad, &b| {
            bad | ((b < 0x20) & (b != b'\n')) | (b == 0x7f)
        })
    };
    if bytes.chunks(64).any(control) {
        return None;
    }
    let all_ascii = text.is_ascii();
    if !all_ascii
        && text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
    {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 24 + 1);
    let mut start = 0usize;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for end in ends {
        let line = &bytes[start..end];
        if line.first() == Some(&b'%')
            || ((line.starts_with(b"---") || line.starts_with(b"..."))
                && line.get(3).is_none_or(|&c| c == b' '))
        {
            return None;
        }
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let kind = match line.get(indent) {
            None => Kind::Blank,
            Some(b'#') => Kind::Comment,
            Some(_) => Kind::Content,
        };
        lines.push(Line {
            start,
            end,
            indent,
            kind,
            ascii: all_ascii || line.is_ascii(),
        });
        start = end + 1;
    }
    Some(lines)
}

struct Reader<'a> {
    text: &'a str,
    lines: Vec<Line>,
    out: Vec<Step>,
    depth: usize,
    max_depth: usize,
}

/// Characters that may not start a plain scalar here (or that this reader leaves to the
/// full one when they do): flow collections, anchors, aliases, tags, directives, reserved
/// indicators, block scalar headers, quotes, comments, and `-`, `?`, `:`.
fn starts_plain(b: u8) -> bool {
    !matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl<'a> Reader<'a> {
    /// Line `i`'s text from byte `c`.
    fn rest(&self, i: usize, c: usize) -> &'a str {
        let l = self.lines[i];
        self.text.get(l.start + c..l.end).unwrap_or("")
    }

    /// The first content line at or after `from`; `lines.len()` at the end.
    fn next_content(&self, from: usize) -> usize {
        (from..self.lines.len())
            .find(|&i| self.lines[i].kind == Kind::Content)
            .unwrap_or(self.lines.len())
    }

    /// The first line at or after `from` that is not blank; `lines.len()` at the end.
    fn next_nonblank(&self, from: usize) -> usize {
        (from..self.lines.len())
            .find(|&i| self.lines[i].kind != Kind::Blank)
            .unwrap_or(self.lines.len())
    }

    fn pos(&self, i: usize, c: usize) -> Pos {
        let l = self.lines[i];
        let column = if l.ascii {
            c
        } else {
            self.text
                .get(l.start..l.start + c)
                .map_or(c, |s| s.chars().count())
        };
        Pos {
            line: i as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// Where yaml-rust2 puts the token that starts line `j` (the end of the text when
    /// `j` is past the last line): the mark of an empty value is that of the next token.
    fn token_pos(&self, j: usize) -> Pos {
        match self.lines.get(j) {
            Some(l) => self.pos(j, l.indent),
            None => {
                // The end of the stream: the line after the last one, column 1.
                let breaks = self.lines.len() - 1;
                let last_empty = self.lines.last().is_none_or(|l| l.start == l.end);
                Pos {
                    line: (breaks + 1 + usize::from(!last_empty)) as u32,
                    column: 1,
                }
            }
        }
    }

    /// An empty value, marked where the token of line `j` is.
    fn empty(&mut self, j: usize) {
        self.empty_at(self.token_pos(j));
    }

    fn empty_at(&mut self, pos: Pos) {
        self.out.push(Step::Scalar {
            pos,
            text: String::new(),
            plain: true,
        });
    }

    fn open(&mut self, step: Step) -> Option<()> {
        self.depth += 1;
        if self.depth >= self.max_depth {
            return None;
        }
        self.out.push(step);
        Some(())
    }

    fn close(&mut self) {
        self.depth -= 1;
        self.out.push(Step::End);
    }

    /// Whether line `j` holds a sequence entry (`-` then a space or the end) at byte `c`.
    fn is_entry(&self, j: usize, c: usize) -> bool {
        let r = self.rest(j, c).as_bytes();
        r.first() == Some(&b'-') && r.get(1).is_none_or(|&b| b == b' ')
    }

    /// A node starting at line `i`, byte `c` (not a space), inside a collection indented
    /// `parent` (-1 for the root). Returns the next content line after it.
    fn node(&mut self, i: usize, c: usize, parent: isize) -> Option<usize> {
        if self.is_entry(i, c) {
            self.seq(i, c, false)
        } else if let Some(first) = self.key(i, c) {
            self.map(i, c, first)
        } else {
            self.scalar(i, c, parent)
        }
    }

    /// Where yaml-rust2 marks the entry at line `j`, byte `c` (its `-`): after the `-`,
    /// its spaces and any comment.
    fn entry_pos(&self, j: usize, c: usize) -> Pos {
        let after = self.rest(j, c + 1);
        let item = after.trim_start_matches(' ');
        let skipped = if item.starts_with('#') {
            after.len()
        } else {
            after.len() - item.len()
        };
        self.pos(j, c + 1 + skipped)
    }

    /// A block sequence whose first `-` is at line `i`, byte `c`. `indentless` when it is
    /// a mapping value at the mapping's own indentation: yaml-rust2 then marks it where
    /// its first entry's content starts, not at the `-`.
    fn seq(&mut self, mut i: usize, c: usize, indentless: bool) -> Option<usize> {
        let pos = if indentless {
            self.entry_pos(i, c)
        } else {
            self.pos(i, c)
        };
        self.open(Step::Seq(pos))?;
        loop {
            let after = self.rest(i, c + 1);
            let c2 = c + 1 + spaces(after);
            let item = self.rest(i, c2);
            let next = if item.is_empty() || item.starts_with('#') {
                let j = self.next_content(i + 1);
                match self.lines.get(j) {
                    Some(l) if l.indent > c => self.node(j, l.indent, c as isize)?,
                    // An empty entry, then the next: marked at that entry's content.
                    Some(l) if l.indent == c && self.is_entry(j, c) => {
                        self.empty_at(self.entry_pos(j, c));
                        j
                    }
                    _ => {
                        self.empty(j);
                        j
                    }
                }
            } else if self.is_entry(i, c2) {
                return None;
            } else {
                self.node(i, c2, c as isize)?
            };
            match self.lines.get(next) {
                Some(l) if l.indent == c && self.is_entry(next, c) => i = next,
                Some(l) if l.indent >= c => return None,
                _ => {
                    self.close();
                    return Some(next);
                }
            }
        }
    }

    /// A block mapping at line `i`, byte `c`, whose first key is `first` (its step and
    /// the byte after its `:`).
    fn map(&mut self, mut i: usize, c: usize, first: (Step, usize)) -> Option<usize> {
        // yaml-rust2 marks a block mapping where its first key's `:` is.
        self.open(Step::Map(self.pos(i, first.1 - 1)))?;
        let mut pending = Some(first);
        loop {
            let (key, after) = match pending.take() {
                Some(k) => k,
                None => self.key(i, c)?,
            };
            self.out.push(key);
            let value = self.rest(i, after);
            let c2 = after + spaces(value);
            let value = self.rest(i, c2);
            let next = if value.is_empty() || value.starts_with('#') {
                let j = self.next_content(i + 1);
                match self.lines.get(j) {
                    Some(l) if l.indent > c => self.node(j, l.indent, c as isize)?,
                    Some(l) if l.indent == c && self.is_entry(j, c) => self.seq(j, c, true)?,
                    _ => {
                        self.empty(j);
                        j
                    }
                }
            } else {
                self.scalar(i, c2, c as isize)?
            };
            match self.lines.get(next) {
                Some(l) if l.indent == c && !self.is_entry(next, c) => i = next,
                Some(l) if l.indent >= c => return None,
                _ => {
                    self.close();
                    return Some(next);
                }
            }
        }
    }

    /// A mapping key at line `i`, byte `c`: the key's step and the byte after its `:`.
    fn key(&self, i: usize, c: usize) -> Option<(Step, usize)> {
        let rest = self.rest(i, c);
        let b = rest.as_bytes();
        let pos = self.pos(i, c);
        let (step, end) = match *b.first()? {
            q @ (b'\'' | b'"') => {
                let (text, len) = quoted(rest, q)?;
                let spaces = spaces(&rest[len..]);
                let step = Step::Scalar {
                    pos,
                    text,
                    plain: false,
                };
                (step, len + spaces)
            }
            first if starts_plain(first) => {
                let colon = plain_key_end(b)?;
                let text = rest[..colon].trim_end_matches(' ');
                if text.chars().count() > MAX_KEY_CHARS {
                    return None;
                }
                let step = Step::Scalar {
                    pos,
                    text: text.to_string(),
                    plain: true,
                };
                (step, colon)
            }
            _ => return None,
        };
        (b.get(end) == Some(&b':') && b.get(end + 1).is_none_or(|&x| x == b' '))
            .then_some((step, c + end + 1))
    }

    /// A scalar at line `i`, byte `c`, in a collection indented `parent`.
    fn scalar(&mut self, i: usize, c: usize, parent: isize) -> Option<usize> {
        let rest = self.rest(i, c);
        let pos = self.pos(i, c);
        let b = rest.as_bytes();
        match *b.first()? {
            q @ (b'\'' | b'"') => {
                let (text, len) = quoted(rest, q)?;
                if !only_comment(&rest[len..]) {
                    return None;
                }
                self.out.push(Step::Scalar {
                    pos,
                    text,
                    plain: false,
                });
                Some(self.next_content(i + 1))
            }
            b'|' | b'>' => self.block_scalar(i, c, parent),
            first if starts_plain(first) => {
                let text = plain_value(rest)?;
                // A more indented line after it (even a comment) would continue it.
                let k = self.next_nonblank(i + 1);
                if self
                    .lines
                    .get(k)
                    .is_some_and(|l| l.indent as isize > parent)
                {
                    return None;
                }
                self.out.push(Step::Scalar {
                    pos,
                    text: text.to_string(),
                    plain: true,
                });
                Some(self.next_content(i + 1))
            }
            _ => None,
        }
    }

    /// `|` or `>` at line `i`, byte `c`, then its lines, indented more than `parent`.
    fn block_scalar(&mut self, i: usize, c: usize, parent: isize) -> Option<usize> {
        let header = self.rest(i, c).as_bytes();
        let literal = header[0] == b'|';
        let (keep, strip, h) = match header.get(1) {
            Some(b'-') => (false, true, 2),
            Some(b'+') => (true, false, 2),
            _ => (false, false, 1),
        };
        // Keeping trailing breaks, and explicit indentation, are left to the full reader.
        if keep || header.get(h).is_some_and(|&b| b != b' ') {
            return None;
        }
        if !only_comment(self.rest(i, c + h)) {
            return None;
        }
        let first = (i + 1..self.lines.len()).find(|&k| self.lines[k].kind != Kind::Blank)?;
        let indent = self.lines[first].indent;
        // Leading empty lines (kept as line breaks) are left to the full reader.
        if first != i + 1 || indent as isize <= parent || indent == 0 {
            return None;
        }
        let mut end = first;
        let mut last = first;
        for k in i + 1..self.lines.len() {
            let l = self.lines[k];
            if l.kind == Kind::Blank {
                if l.end - l.start > indent {
                    return None;
                }
            } else if l.indent < indent {
                break;
            } else {
                last = k;
            }
            end = k + 1;
        }
        // A last line without a line break changes the clipped value: leave it.
        if self.lines[last].end == self.text.len() {
            return None;
        }
        let mut text = String::new();
        let mut blanks = 0usize;
        let mut started = false;
        for k in first..=last {
            let l = self.lines[k];
            if l.kind == Kind::Blank {
                blanks += 1;
                continue;
            }
            let body = self.rest(k, indent);
            if started {
                if literal {
                    text.extend(std::iter::repeat_n('\n', blanks + 1));
                } else if body.starts_with(' ') {
                    return None;
                } else if blanks == 0 {
                    text.push(' ');
                } else {
                    text.extend(std::iter::repeat_n('\n', blanks));
                }
            } else if !literal && body.starts_with(' ') {
                return None;
            }
            text.push_str(body);
            started = true;
            blanks = 0;
        }
        if !strip {
            text.push('\n');
        }
        // yaml-rust2 marks a block scalar where its first line's text starts.
        self.out.push(Step::Scalar {
            pos: self.pos(first, indent),
            text,
            plain: false,
        });
        Some(self.next_content(end))
    }
}

/// Whether `rest` is spaces, then the end or a comment.
fn only_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// Leading spaces of `s`.
fn spaces(s: &str) -> usize {
    s.len() - s.trim_start_matches(' ').len()
}

/// What first ends a one-line plain scalar: a `:` then a space or the end (a key
/// indicator), a ` #` (a comment), or the end of the line.
enum PlainEnd {
    Colon(usize),
    Comment(usize),
    Line,
}

fn plain_end(b: &[u8]) -> PlainEnd {
    for k in memchr::memchr2_iter(b':', b'#', b) {
        match b[k] {
            b':' if b.get(k + 1).is_none_or(|&x| x == b' ') => return PlainEnd::Colon(k),
            b'#' if k > 0 && b[k - 1] == b' ' => return PlainEnd::Comment(k),
            _ => {}
        }
    }
    PlainEnd::Line
}

/// The byte of the `:` that ends a plain key in `b`, or `None` when a comment or the
/// end of the line comes first.
fn plain_key_end(b: &[u8]) -> Option<usize> {
    match plain_end(b) {
        PlainEnd::Colon(k) => Some(k),
        PlainEnd::Comment(_) | PlainEnd::Line => None,
    }
}

/// A one-line plain scalar in value position: the text up to a comment or the end,
/// trailing spaces removed; `None` if it has `: ` or ends with `:` (an error there).
fn plain_value(rest: &str) -> Option<&str> {
    let end = match plain_end(rest.as_bytes()) {
        PlainEnd::Colon(_) => return None,
        PlainEnd::Comment(k) => k,
        PlainEnd::Line => rest.len(),
    };
    Some(rest[..end].trim_end_matches(' '))
}

/// A quoted scalar closed on the same line, at the start of `rest` (quote `q`): its
/// value and its length in bytes, quotes included.
fn quoted(rest: &str, q: u8) -> Option<(String, usize)> {
    let b = rest.as_bytes();
    let mut out = String::new();
    let mut run = 1;
    loop {
        // The next quote, or backslash in double quotes (none: not closed on this line,
        // a multi-line scalar for the full reader).
        let k = run
            + if q == b'"' {
                memchr::memchr2(b'"', b'\\', &b[run..])?
            } else {
                memchr::memchr(b'\'', &b[run..])?
            };
        out.push_str(&rest[run..k]);
        if b[k] == b'\\' {
            let (ch, len) = escape(&b[k + 1..])?;
            out.push(ch);
            run = k + 1 + len;
        } else if q == b'\'' && b.get(k + 1) == Some(&b'\'') {
            out.push('\'');
            run = k + 2;
        } else {
            return Some((out, k + 1));
        }
    }
}

/// A double-quoted escape after its backslash: the character and the bytes it took.
/// A backslash at the end of the line (an escaped line break) declines.
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let ch = match *b.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        x @ (b'x' | b'u' | b'U') => {
            let n = match x {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = b.get(1..1 + n)?;
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let v = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
            return Some((char::from_u32(v)?, 1 + n));
        }
        _ => return None,
    };
    Some((ch, 1))
}
