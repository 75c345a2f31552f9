//! JSON lines and JSON arrays, streamed: memory follows the largest record, not the file.

use std::io::{self, BufRead, Read};

use serde_json::Value;

use super::parse::{parse_doc, parse_leading, Parsed};
use super::sink::Sink;
use super::sniff::is_json_ws;
use super::{Position, ReadErrorKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Largest record (line, element, multi-line value) kept for parsing. Past it the bytes
/// are dropped and the record reported, so one runaway record (a file without newlines,
/// an unclosed string) cannot take memory in proportion to the file.
pub(crate) const MAX_RECORD: usize = 64 << 20;

/// Settings of the JSON readers.
#[derive(Clone, Copy)]
pub(crate) struct JsonOpts {
    /// How an I/O error in the middle of a stream is classified: a failing gzip layer is
    /// damage to the gzip stream, anything else a read error.
    pub io: ReadErrorKind,
    /// See [`MAX_RECORD`].
    pub max_record: usize,
}

/// One record's bytes, bounded by [`JsonOpts::max_record`] (syslog lines share it).
pub(crate) struct RecordBuf {
    pub bytes: Vec<u8>,
    max: usize,
    /// The record outgrew `max`; its bytes are being dropped.
    pub over: bool,
}

impl RecordBuf {
    pub fn new(max: usize) -> Self {
        RecordBuf {
            bytes: Vec::with_capacity(4096.min(max)),
            max,
            over: false,
        }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.over = false;
        // One big record should not pin its buffer for the rest of the file.
        if self.bytes.capacity() > 1 << 20 {
            self.bytes.shrink_to(1 << 20);
        }
    }

    fn extend(&mut self, more: &[u8]) {
        if self.over {
            return;
        }
        if self.bytes.len() + more.len() > self.max {
            self.over = true;
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(more);
        }
    }

    fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }

    fn is_blank(&self) -> bool {
        !self.over && self.bytes.iter().all(|b| is_json_ws(*b))
    }
}

/// The reader's buffer, refilled when empty; an interrupted read is retried, as
/// `BufRead::read_until` does.
fn fill<R: BufRead>(r: &mut R) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            _ => break,
        }
    }
    // Asked again rather than kept from the loop: the borrow checker cannot see that a
    // retried error no longer borrows `r`; a second call on a filled buffer is a no-op.
    r.fill_buf()
}

/// Reads through the next `\n` (included) into `line`, keeping at most `line.max` bytes.
/// Returns the bytes consumed (0 at end of input).
pub(crate) fn read_line<R: BufRead>(r: &mut R, line: &mut RecordBuf) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = fill(r)?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (n, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend(&buf[..n]);
        r.consume(n);
        total += n;
        if done {
            return Ok(total);
        }
    }
}

/// `b` without its line end (`\n`, `\r\n`, or stray `\r`s before it).
pub(crate) fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// The line loop of the line-oriented readers (syslog, auditd, Zeek): reads lines of at
/// most `max` bytes, hands each non-blank one (1-based number, without its line end) to
/// `f`; a read failure is reported as `io` and ends the input, a line over `max` bytes is
/// reported as `bad` and skipped.
pub(crate) fn each_line<R: BufRead>(
    sink: &mut Sink<'_>,
    mut r: R,
    max: usize,
    io: ReadErrorKind,
    bad: ReadErrorKind,
    f: &mut dyn FnMut(&mut Sink<'_>, u64, &[u8]),
) {
    let mut line = RecordBuf::new(max);
    let mut number = 0u64;
    loop {
        line.clear();
        match read_line(&mut r, &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                sink.error(Position::Line(number + 1), io, format!("read failed: {e}"));
                break;
            }
        }
        number += 1;
        if line.over {
            let why = format!("line longer than {max} bytes: skipped");
            sink.error(Position::Line(number), bad, why);
            continue;
        }
        let text = trim_eol(&line.bytes);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        f(sink, number, text);
    }
}

/// One JSON object per line; blank lines skipped; `Event::record` is the 1-based line.
///
/// A file whose first record does not end on its line (pretty-printed objects, one after
/// another) is read as a sequence of multi-line values instead: see [`read_multiline`].
pub(crate) fn read_lines<R: BufRead>(sink: &mut Sink<'_>, mut r: R, opts: JsonOpts) {
    let mut line = RecordBuf::new(opts.max_record);
    let mut number = 0u64;
    // Bytes up to and including the first record, kept to replay them if that record
    // turns out to span lines. Only blank lines precede it, so this stays small (a
    // first line too long to keep is not replayed).
    let mut head: Option<Vec<u8>> = Some(Vec::new());
    loop {
        line.clear();
        match read_line(&mut r, &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                sink.error(
                    Position::Line(number + 1),
                    opts.io,
                    format!("read failed: {e}"),
                );
                break;
            }
        }
        number += 1;
        if line.over {
            head = None;
            sink.error(
                Position::Line(number),
                ReadErrorKind::BadJson,
                too_long(&line),
            );
            continue;
        }
        if let Some(h) = head.as_mut() {
            h.extend_from_slice(&line.bytes);
        }
        let mut text = line.bytes.as_slice();
        if number == 1 {
            text = text.strip_prefix(BOM).unwrap_or(text);
        }
        if text.iter().all(|b| is_json_ws(*b)) {
            continue;
        }
        let parsed = parse_doc(text);
        if let Some(h) = head.take() {
            if parsed.as_ref().is_err_and(|e| e.is_eof()) && breaks_like_pretty(text) {
                read_multiline(sink, io::Cursor::new(h).chain(r), opts);
                return;
            }
        }
        match parsed {
            Ok(v) => record(sink, Position::Line(number), number, v),
            Err(e) => sink.error(
                Position::Line(number),
                ReadErrorKind::BadJson,
                serde_message(&e),
            ),
        }
    }
}

fn too_long(buf: &RecordBuf) -> String {
    format!("record longer than {} bytes: skipped", buf.max)
}

/// Whether an unfinished first line ends where pretty-printers break lines (after `{`,
/// `[`, `,`), rather than being a record cut short, which must not swallow the lines
/// after it.
fn breaks_like_pretty(line: &[u8]) -> bool {
    let end = line.iter().rposition(|b| !is_json_ws(*b));
    end.is_some_and(|i| matches!(line[i], b'{' | b'[' | b','))
}

/// JSON values one after another, each free to span lines (pretty-printed exports);
/// `Event::record` is the line a value starts on. A value that is not an object or array
/// runs to the end of its line. Values are delimited by a structural scan, so a bad one
/// is reported and the next still read, unless it leaves a string or bracket open: then
/// it runs to the end of the input.
pub(crate) fn read_multiline<R: BufRead>(sink: &mut Sink<'_>, mut r: R, opts: JsonOpts) {
    let mut scan = Scanner::default();
    let mut text = RecordBuf::new(opts.max_record);
    let mut line = 1u64;
    let mut start = 0u64;
    let mut state = MultiState::Between;
    let mut first = true;
    loop {
        let buf = match fill(&mut r) {
            Ok(b) => b,
            Err(e) => {
                sink.error(Position::Line(line), opts.io, format!("read failed: {e}"));
                return;
            }
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut bytes = buf;
        if first {
            first = false;
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        for &b in bytes {
            match state {
                MultiState::Between => {
                    if !is_json_ws(b) {
                        start = line;
                        text.clear();
                        text.push(b);
                        state = if b == b'{' || b == b'[' {
                            scan = Scanner::default();
                            scan.step(b);
                            MultiState::Container
                        } else {
                            MultiState::Bare
                        };
                    }
                }
                MultiState::Container => {
                    text.push(b);
                    scan.step(b);
                    if scan.depth == 0 && !scan.in_string {
                        parse_record(sink, &text, Position::Line(start), start, true);
                        state = MultiState::Between;
                    }
                }
                MultiState::Bare => {
                    if b == b'\n' {
                        parse_record(sink, &text, Position::Line(start), start, true);
                        state = MultiState::Between;
                    } else {
                        text.push(b);
                    }
                }
            }
            if b == b'\n' {
                line += 1;
            }
        }
        r.consume(len);
    }
    match state {
        MultiState::Between => {}
        MultiState::Container => parse_record(sink, &text, Position::Line(start), start, false),
        MultiState::Bare => parse_record(sink, &text, Position::Line(start), start, true),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MultiState {
    Between,
    Container,
    Bare,
}

/// A top-level JSON array, element by element; `Event::record` is the 0-based index.
///
/// Elements are delimited by a structural scan (strings, escapes and nesting depth), each
/// parsed on its own, so a malformed element is reported and the next one still read.
pub(crate) fn read_array<R: BufRead>(sink: &mut Sink<'_>, r: R, opts: JsonOpts) {
    read_array_with::<R, true>(sink, r, opts)
}

/// [`read_array`]; `FAST` parses each element in place when it lies whole in the buffer
/// (see [`whole_element`]), which tests compare with the scanner alone (`false`).
fn read_array_with<R: BufRead, const FAST: bool>(sink: &mut Sink<'_>, mut r: R, opts: JsonOpts) {
    let mut scan = Scanner::default();
    let mut elem = RecordBuf::new(opts.max_record);
    let mut index = 0u64;
    let mut state = ArrayState::BeforeOpen;
    let mut first = true;
    loop {
        let buf = match fill(&mut r) {
            Ok(b) => b,
            Err(e) => {
                sink.error(
                    Position::Element(index),
                    opts.io,
                    format!("read failed: {e}"),
                );
                return;
            }
        };
        if buf.is_empty() {
            break;
        }
        let mut bytes = buf;
        if first {
            first = false;
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        let len = buf.len();
        // The buffer's valid UTF-8 prefix, checked once, for parsing elements in place.
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        let mut i = 0;
        while i < bytes.len() {
            if FAST && state == ArrayState::InArray && elem.bytes.is_empty() && !elem.over {
                if let Some((at, close, v)) = whole_element(text, i, opts.max_record) {
                    record(sink, Position::Element(index), index, Parsed::Tree(v));
                    index += 1;
                    i = at + 1;
                    if close {
                        state = ArrayState::AfterClose;
                    }
                    continue;
                }
            }
            let b = bytes[i];
            i += 1;
            match state {
                ArrayState::BeforeOpen => {
                    if is_json_ws(b) {
                        continue;
                    }
                    if b != b'[' {
                        sink.error(
                            Position::Element(0),
                            ReadErrorKind::BadJson,
                            format!("expected `[` to open the array, found {}", show(b)),
                        );
                        return;
                    }
                    state = ArrayState::InArray;
                }
                ArrayState::InArray => {
                    // Most bytes sit inside strings; jump over runs of them and copy the
                    // element in slices rather than byte by byte.
                    let from = i - 1;
                    let found = scan.find_delimiter(&bytes[from..]);
                    let Some((at, step)) = found else {
                        elem.extend(&bytes[from..]);
                        i = bytes.len();
                        continue;
                    };
                    elem.extend(&bytes[from..from + at]);
                    i = from + at + 1;
                    match step {
                        Step::Comma => {
                            element(sink, &elem, index, true);
                            elem.clear();
                            index += 1;
                        }
                        Step::Close => {
                            let blank = elem.is_blank();
                            // `[]` holds no element; `[1,]` holds a missing one.
                            if !(blank && index == 0) {
                                element(sink, &elem, index, true);
                                index += 1;
                            }
                            elem.clear();
                            state = ArrayState::AfterClose;
                        }
                        Step::Byte => {}
                    }
                }
                ArrayState::AfterClose => {
                    if !is_json_ws(b) {
                        sink.error(
                            Position::Element(index),
                            ReadErrorKind::BadJson,
                            format!("unexpected {} after the closing `]`", show(b)),
                        );
                        return;
                    }
                }
            }
        }
        r.consume(len);
    }
    match state {
        ArrayState::BeforeOpen => sink.error(
            Position::Element(0),
            ReadErrorKind::BadJson,
            "empty input: expected a JSON array",
        ),
        ArrayState::InArray => {
            // Truncated array: the last element may be whole (only `]` is missing).
            if !elem.is_blank() {
                element(sink, &elem, index, false);
                index += 1;
            }
            sink.error(
                Position::Element(index),
                ReadErrorKind::BadJson,
                "input ends before the array's closing `]`",
            );
        }
        ArrayState::AfterClose => {}
    }
}

/// An element starting at `from` in the buffer's text, parsed where it lies instead of
/// being delimited and copied out first: `(offset of the `,` or `]` after it, whether
/// it is `]`, value)`. Only a well-formed value followed by its delimiter within the
/// buffer is taken, and nothing longer than `max` (the scanner's cap); then the scanner
/// would have delimited the same bytes and parsed them to the same value. Anything else
/// (errors, cut by the buffer's end) is left to the scanner.
fn whole_element(text: &str, from: usize, max: usize) -> Option<(usize, bool, Value)> {
    let (v, len) = parse_leading(text.get(from..)?)?;
    let after = from + len;
    let gap = text.as_bytes()[after..]
        .iter()
        .position(|b| !is_json_ws(*b))?;
    let at = after + gap;
    if at - from > max {
        return None;
    }
    match text.as_bytes()[at] {
        b',' => Some((at, false, v)),
        b']' => Some((at, true, v)),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    BeforeOpen,
    InArray,
    AfterClose,
}

/// Structural scanner for the inside of a top-level array.
#[derive(Default)]
struct Scanner {
    in_string: bool,
    escape: bool,
    depth: usize,
}

enum Step {
    /// Part of the current element.
    Byte,
    /// Element separator at the top level.
    Comma,
    /// The top-level array's closing bracket.
    Close,
}

impl Scanner {
    /// Scans `bytes` for the next top-level `,` or `]`: its offset and which it is, or
    /// `None` when every byte belongs to the current element.
    fn find_delimiter(&mut self, bytes: &[u8]) -> Option<(usize, Step)> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string && !self.escape {
                // Inside a string only `"` and `\` matter.
                i += memchr::memchr2(b'"', b'\\', &bytes[i..])?;
            }
            match self.step(bytes[i]) {
                Step::Byte => i += 1,
                delimiter => return Some((i, delimiter)),
            }
        }
        None
    }

    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return Step::Byte;
        }
        match b {
            b'"' => self.in_string = true,
            b'[' | b'{' => self.depth += 1,
            b']' if self.depth == 0 => return Step::Close,
            b',' if self.depth == 0 => return Step::Comma,
            // A stray `}` at the top level stays in the element, whose parse reports it.
            b']' | b'}' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Step::Byte
    }
}

fn element(sink: &mut Sink<'_>, text: &RecordBuf, index: u64, delimited: bool) {
    let pos = Position::Element(index);
    if text.is_blank() {
        sink.error(pos, ReadErrorKind::BadJson, "empty array element");
        return;
    }
    parse_record(sink, text, pos, index, delimited);
}

/// Parses one delimited record; `complete` is false when the input ended inside it.
fn parse_record(sink: &mut Sink<'_>, text: &RecordBuf, pos: Position, number: u64, complete: bool) {
    if text.over {
        sink.error(pos, ReadErrorKind::BadJson, too_long(text));
        return;
    }
    match parse_doc(&text.bytes) {
        Ok(v) => record(sink, pos, number, v),
        Err(e) => {
            let mut msg = serde_message(&e);
            if !complete {
                msg.push_str(" (input ends inside this record)");
            }
            sink.error(pos, ReadErrorKind::BadJson, msg)
        }
    }
}

/// An object becomes an event, completed when its shape is recognised
/// ([`super::shape::recognise`]); anything else is reported.
fn record(sink: &mut Sink<'_>, pos: Position, number: u64, mut v: Parsed) {
    super::shape::recognise(&mut v);
    match v {
        Parsed::Flat(flat) => sink.event_flat(number, flat),
        Parsed::Tree(v @ Value::Object(_)) => sink.event(number, v),
        Parsed::Tree(other) => sink.error(pos, ReadErrorKind::NotAnObject, not_an_object(&other)),
    }
}

fn not_an_object(v: &Value) -> String {
    let what = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected a JSON object, found {what}")
}

/// serde's message with its position given as a column: each record is parsed on its own,
/// so serde's "line 1" would mislead, while the column is useful. Records spanning
/// several lines (array elements) keep serde's line, relative to the element.
fn serde_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.line() <= 1 {
        format!("{bare} at column {}", e.column())
    } else {
        format!(
            "{bare} at line {} column {} of the record",
            e.line(),
            e.column()
        )
    }
}

fn show(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::ReadError;
    use crate::Event;
    use proptest::prelude::*;

    /// (events, errors, stats events, stats skipped) from one reader run.
    fn run(bytes: &[u8], array: bool) -> (Vec<Event>, Vec<ReadError>, u64, u64) {
        run_capped(bytes, array, MAX_RECORD)
    }

    fn run_capped(
        bytes: &[u8],
        array: bool,
        max_record: usize,
    ) -> (Vec<Event>, Vec<ReadError>, u64, u64) {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        let mut on_event = |e| events.push(e);
        let mut on_error = |e| errors.push(e);
        let mut sink = Sink::new("t".into(), &mut on_event, &mut on_error);
        let io = JsonOpts {
            io: ReadErrorKind::Io,
            max_record,
        };
        if array {
            read_array(&mut sink, bytes, io);
        } else {
            read_lines(&mut sink, bytes, io);
        }
        let (e, s) = (sink.events, sink.skipped);
        (events, errors, e, s)
    }

    /// What a JSON-lines read reports, comparable across readers.
    type Seen = (Vec<(u64, Value)>, Vec<(Position, String)>);

    /// What one reader reports, with `max_record` as the record limit.
    fn through(max_record: usize, read: impl FnOnce(&mut Sink<'_>, JsonOpts)) -> Seen {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        let mut on_event = |e: Event| events.push((e.record, e.doc().into_owned()));
        let mut on_error = |e: ReadError| errors.push((e.position, e.message));
        let mut sink = Sink::new("t".into(), &mut on_event, &mut on_error);
        let io = JsonOpts {
            io: ReadErrorKind::Io,
            max_record,
        };
        read(&mut sink, io);
        (events, errors)
    }

    fn lines_through<R: BufRead>(r: R, max_record: usize) -> Seen {
        through(max_record, |sink, io| read_lines(sink, r, io))
    }

    fn array_through<R: BufRead, const FAST: bool>(r: R, max_record: usize) -> Seen {
        through(max_record, |sink, io| {
            read_array_with::<R, FAST>(sink, r, io)
        })
    }

    fn non_blank_lines(bytes: &[u8]) -> usize {
        let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
        body.split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(|b| is_json_ws(*b)))
            .count()
    }

    /// A JSON-ish line: mostly valid records, some damage.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            (any::<String>(), any::<i64>())
                .prop_map(|(k, v)| serde_json::json!({ k: v }).to_string()),
            Just("[1,2]".to_string()),
            Just("  ".to_string()),
            "[^\n]{0,20}",
        ]
    }

    /// An array element and whether it is an object.
    fn element_text() -> impl Strategy<Value = (String, bool)> {
        prop_oneof![
            (any::<String>(), any::<String>())
                .prop_map(|(k, v)| (serde_json::json!({ k: [v, {"n": 1}] }).to_string(), true)),
            any::<String>().prop_map(|s| (serde_json::json!(s).to_string(), false)),
            any::<f64>().prop_map(|n| (serde_json::json!(n).to_string(), false)),
            // Garbage without structure: always one (bad or non-object) element. It
            // starts with a non-blank byte: a blank-only "element" is no element at all
            // (`[\t]` is the empty array; see `blank_array_is_empty`).
            "[^\\[\\]{},\"\\s][^\\[\\]{},\"]{0,11}".prop_map(|s| (s, false)),
        ]
    }

    /// Found by CI's proptest run: blanks between the brackets make an empty array,
    /// not one bad element.
    #[test]
    fn blank_array_is_empty() {
        for text in ["[\t]", "[ \n\r ]", "[]"] {
            let (events, errors, ne, ns) = run(text.as_bytes(), true);
            assert_eq!(
                (events.len(), errors.len(), ne, ns),
                (0, 0, 0, 0),
                "{text:?}"
            );
        }
    }

    /// (record numbers of events, positions of errors) with a 24-byte record limit.
    fn capped(bytes: &[u8], array: bool) -> (Vec<u64>, Vec<Position>) {
        let (events, errors, _, _) = run_capped(bytes, array, 24);
        for e in &errors {
            assert!(e.message.contains("longer than 24 bytes"), "{e}");
        }
        (
            events.iter().map(|e| e.record).collect(),
            errors.iter().map(|e| e.position).collect(),
        )
    }

    #[test]
    fn oversized_records_are_reported_and_skipped() {
        let big = format!("\"{}\"", "x".repeat(100));
        let lines = format!("{{\"a\":1}}\n{{\"b\":{big}}}\n{{\"c\":3}}\n");
        assert_eq!(
            capped(lines.as_bytes(), false),
            (vec![1, 3], vec![Position::Line(2)])
        );
        let array = format!("[{{\"a\":1}},{{\"b\":{big}}},{{\"c\":3}}]");
        assert_eq!(
            capped(array.as_bytes(), true),
            (vec![0, 2], vec![Position::Element(1)])
        );
        let pretty = format!("{{\n\"a\": 1\n}}\n{{\n\"b\": {big}\n}}\n{{\n\"c\": 3}}\n");
        assert_eq!(
            capped(pretty.as_bytes(), false),
            (vec![1, 7], vec![Position::Line(4)])
        );
    }

    proptest! {
        #[test]
        fn lines_arbitrary_bytes_add_up(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            // A whole first record keeps the reader line-based (see `read_lines`).
            let mut bytes = b"{\"first\": 1}\n".to_vec();
            bytes.extend_from_slice(&tail);
            let (events, errors, ne, ns) = run(&bytes, false);
            prop_assert_eq!(events.len() as u64, ne);
            prop_assert_eq!(errors.len() as u64, ns);
            prop_assert_eq!(events.len() + errors.len(), non_blank_lines(&bytes));
        }

        #[test]
        fn multiline_arbitrary_bytes_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = b"{\n".to_vec();
            bytes.extend_from_slice(&tail);
            let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            let (events, errors, ne, ns) = run(&bytes, false);
            prop_assert_eq!(events.len() as u64, ne);
            prop_assert_eq!(errors.len() as u64, ns);
            prop_assert!(events.len() + errors.len() >= 1);
            prop_assert!(events.windows(2).all(|w| w[0].record <= w[1].record));
            for e in &errors {
                prop_assert!(matches!(e.position, Position::Line(l) if (1..=lines).contains(&l)));
            }
        }

        #[test]
        fn lines_structured_add_up(mut lines in proptest::collection::vec(line(), 0..30)) {
            lines.insert(0, "{}".to_string());
            let text = lines.join("\n");
            let (events, errors, _, _) = run(text.as_bytes(), false);
            prop_assert_eq!(events.len() + errors.len(), non_blank_lines(text.as_bytes()));
            for e in &errors {
                prop_assert!(matches!(e.position, Position::Line(l) if l >= 1 && l as usize <= lines.len()));
            }
            for e in &events {
                prop_assert!(e.doc().is_object());
            }
        }

        /// Lines cut by the reader's buffer boundaries are read as whole ones, record
        /// cap included.
        #[test]
        fn lines_same_whatever_the_buffer(
            lines in proptest::collection::vec(line(), 0..30),
            cap in 1usize..40,
            max in prop::sample::select(vec![8usize, 30, MAX_RECORD]),
        ) {
            let text = format!("{{}}\n{}", lines.join("\n"));
            let whole = lines_through(text.as_bytes(), max);
            let cut = lines_through(io::BufReader::with_capacity(cap, text.as_bytes()), max);
            prop_assert_eq!(whole, cut);
        }

        /// Elements parsed in place report exactly what the scanner alone reports,
        /// whatever the buffer size and record cap, on good and damaged arrays.
        #[test]
        fn array_in_place_same_as_scanner(
            elems in proptest::collection::vec(element_text(), 0..12),
            seps in proptest::collection::vec(prop::sample::select(vec![",", " ,\n", ",,", " ", "\u{e9},"]), 12),
            end in prop::sample::select(vec!["]", "\n]\n", "", "] x", ", ]"]),
            cap in 1usize..64,
            max in prop::sample::select(vec![8usize, 40, MAX_RECORD]),
            noise in proptest::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut text = b"[".to_vec();
            for (i, (t, _)) in elems.iter().enumerate() {
                if i > 0 {
                    text.extend_from_slice(seps[i].as_bytes());
                }
                text.extend_from_slice(t.as_bytes());
            }
            text.extend_from_slice(end.as_bytes());
            for input in [text.clone(), [text.as_slice(), &noise].concat()] {
                let scanner = array_through::<_, false>(input.as_slice(), max);
                let fast = array_through::<_, true>(input.as_slice(), max);
                prop_assert_eq!(&fast, &scanner);
                let cut = array_through::<_, true>(io::BufReader::with_capacity(cap, input.as_slice()), max);
                prop_assert_eq!(&cut, &scanner);
            }
        }

        #[test]
        fn array_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut with_open = b"[".to_vec();
            with_open.extend_from_slice(&bytes);
            for input in [&bytes[..], &with_open[..]] {
                let (events, errors, ne, ns) = run(input, true);
                prop_assert_eq!(events.len() as u64, ne);
                prop_assert_eq!(errors.len() as u64, ns);
                // Element indices only grow.
                prop_assert!(events.windows(2).all(|w| w[0].record < w[1].record));
            }
        }

        #[test]
        fn array_elements_add_up(elems in proptest::collection::vec(element_text(), 0..20)) {
            let body: Vec<&str> = elems.iter().map(|(t, _)| t.as_str()).collect();
            let text = format!("[{}]", body.join(" ,\n"));
            let (events, errors, _, _) = run(text.as_bytes(), true);
            let objects = elems.iter().filter(|(_, o)| *o).count();
            prop_assert_eq!(events.len(), objects);
            prop_assert_eq!(errors.len(), elems.len() - objects);
            let want: Vec<u64> = elems
                .iter()
                .enumerate()
                .filter(|(_, (_, o))| *o)
                .map(|(i, _)| i as u64)
                .collect();
            let got: Vec<u64> = events.iter().map(|e| e.record).collect();
            prop_assert_eq!(got, want);
        }
    }
}
