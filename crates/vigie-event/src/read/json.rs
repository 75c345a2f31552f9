//! JSON lines and JSON arrays, streamed: memory follows the largest record, not the file.

use std::io::{self, BufRead, Read};

use serde_json::Value;

use super::sink::Sink;
use super::sniff::is_json_ws;
use super::{Position, ReadErrorKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How an I/O error in the middle of a stream is classified: a failing gzip layer is
/// damage to the gzip stream, anything else a read error.
#[derive(Clone, Copy)]
pub(crate) struct IoKind(pub ReadErrorKind);

/// One JSON object per line; blank lines skipped; `Event::record` is the 1-based line.
///
/// A file whose first record does not end on its line (pretty-printed objects, one after
/// another) is read as a sequence of multi-line values instead: see [`read_multiline`].
pub(crate) fn read_lines<R: BufRead>(sink: &mut Sink<'_>, mut r: R, io_kind: IoKind) {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    // Bytes up to and including the first record, kept to replay them if that record
    // turns out to span lines. Only blank lines precede it, so this stays small.
    let mut head: Option<Vec<u8>> = Some(Vec::new());
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                sink.error(
                    Position::Line(number + 1),
                    io_kind.0,
                    format!("read failed: {e}"),
                );
                break;
            }
        }
        number += 1;
        if let Some(h) = head.as_mut() {
            h.extend_from_slice(&line);
        }
        let mut text = line.as_slice();
        if number == 1 {
            text = text.strip_prefix(BOM).unwrap_or(text);
        }
        if text.iter().all(|b| is_json_ws(*b)) {
            continue;
        }
        let parsed = serde_json::from_slice::<Value>(text);
        if let Some(h) = head.take() {
            if parsed.as_ref().is_err_and(|e| e.is_eof()) && breaks_like_pretty(text) {
                read_multiline(sink, io::Cursor::new(h).chain(r), io_kind);
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
pub(crate) fn read_multiline<R: BufRead>(sink: &mut Sink<'_>, mut r: R, io_kind: IoKind) {
    let mut scan = Scanner::default();
    let mut text: Vec<u8> = Vec::with_capacity(4096);
    let mut line = 1u64;
    let mut start = 0u64;
    let mut state = MultiState::Between;
    let mut first = true;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                sink.error(Position::Line(line), io_kind.0, format!("read failed: {e}"));
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
pub(crate) fn read_array<R: BufRead>(sink: &mut Sink<'_>, mut r: R, io_kind: IoKind) {
    let mut scan = Scanner::default();
    let mut elem: Vec<u8> = Vec::with_capacity(4096);
    let mut index = 0u64;
    let mut state = ArrayState::BeforeOpen;
    let mut first = true;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                sink.error(
                    Position::Element(index),
                    io_kind.0,
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
        let mut i = 0;
        while i < bytes.len() {
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
                        elem.extend_from_slice(&bytes[from..]);
                        i = bytes.len();
                        continue;
                    };
                    elem.extend_from_slice(&bytes[from..from + at]);
                    i = from + at + 1;
                    match step {
                        Step::Comma => {
                            element(sink, &elem, index, true);
                            elem.clear();
                            index += 1;
                        }
                        Step::Close => {
                            let blank = elem.iter().all(|b| is_json_ws(*b));
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
            if !elem.iter().all(|b| is_json_ws(*b)) {
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

fn element(sink: &mut Sink<'_>, text: &[u8], index: u64, delimited: bool) {
    let pos = Position::Element(index);
    if text.iter().all(|b| is_json_ws(*b)) {
        sink.error(pos, ReadErrorKind::BadJson, "empty array element");
        return;
    }
    parse_record(sink, text, pos, index, delimited);
}

/// Parses one delimited record; `complete` is false when the input ended inside it.
fn parse_record(sink: &mut Sink<'_>, text: &[u8], pos: Position, number: u64, complete: bool) {
    match serde_json::from_slice::<Value>(text) {
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

/// An object becomes an event; anything else is reported.
fn record(sink: &mut Sink<'_>, pos: Position, number: u64, v: Value) {
    match v {
        Value::Object(_) => sink.event(number, v),
        other => sink.error(pos, ReadErrorKind::NotAnObject, not_an_object(&other)),
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
        let mut events = Vec::new();
        let mut errors = Vec::new();
        let mut on_event = |e| events.push(e);
        let mut on_error = |e| errors.push(e);
        let mut sink = Sink::new("t".into(), &mut on_event, &mut on_error);
        let io = IoKind(ReadErrorKind::Io);
        if array {
            read_array(&mut sink, bytes, io);
        } else {
            read_lines(&mut sink, bytes, io);
        }
        let (e, s) = (sink.events, sink.skipped);
        (events, errors, e, s)
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
            // Garbage without structure: always one (bad or non-object) element.
            "[^\\[\\]{},\"]{1,12}".prop_map(|s| (s, false)),
        ]
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
                prop_assert!(e.doc.is_object());
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
