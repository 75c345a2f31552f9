//! JSON lines and JSON arrays, streamed: memory follows the largest record, not the file.

use std::io::{self, BufRead};

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
pub(crate) fn read_lines<R: BufRead>(sink: &mut Sink<'_>, mut r: R, io_kind: IoKind) {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
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
        let mut text = line.as_slice();
        if number == 1 {
            text = text.strip_prefix(BOM).unwrap_or(text);
        }
        if text.iter().all(|b| is_json_ws(*b)) {
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(v @ Value::Object(_)) => sink.event(number, v),
            Ok(other) => sink.error(
                Position::Line(number),
                ReadErrorKind::NotAnObject,
                not_an_object(&other),
            ),
            Err(e) => sink.error(
                Position::Line(number),
                ReadErrorKind::BadJson,
                serde_message(&e),
            ),
        }
    }
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
                ArrayState::InArray => match scan.step(b) {
                    Step::Byte => elem.push(b),
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
                },
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
    match serde_json::from_slice::<Value>(text) {
        Ok(v @ Value::Object(_)) => sink.event(index, v),
        Ok(other) => sink.error(pos, ReadErrorKind::NotAnObject, not_an_object(&other)),
        Err(e) => {
            let mut msg = serde_message(&e);
            if !delimited {
                msg.push_str(" (input ends inside this element)");
            }
            sink.error(pos, ReadErrorKind::BadJson, msg)
        }
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
        fn lines_arbitrary_bytes_add_up(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (events, errors, ne, ns) = run(&bytes, false);
            prop_assert_eq!(events.len() as u64, ne);
            prop_assert_eq!(errors.len() as u64, ns);
            prop_assert_eq!(events.len() + errors.len(), non_blank_lines(&bytes));
        }

        #[test]
        fn lines_structured_add_up(lines in proptest::collection::vec(line(), 0..30)) {
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
