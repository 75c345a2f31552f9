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
