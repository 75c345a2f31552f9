//! Decoding of `POST /api/v1/events` bodies: JSON lines or one JSON array, optionally
//! gzip (`Content-Encoding: gzip`), into an [`IngestBatch`].
//!
//! - The size limit (`ingest.max_body_bytes`) holds for the decoded body too: gzip is
//!   inflated through a bounded reader, so a small bomb is refused before it fills
//!   memory ([`BodyError::TooLarge`], HTTP 413).
//! - Only a body that cannot be decoded at all (bad gzip) is an error (HTTP 400); a
//!   line (or array element) that is not a JSON object is listed in
//!   [`IngestBatch::rejected`] with its 1-based line (element index + 1) and why, and the
//!   rest goes on.
//! - A body that starts with `[` is one JSON array; anything else is JSON lines (blank
//!   lines skipped, `\r\n` accepted), except that a single pretty-printed object (the
//!   whole body one JSON object) is one event.
//! - Each event's `record` is its line (element index + 1), `source` the `?source=`
//!   name (default `http`); its event key is computed here too (`IngestBatch::keys`).

use std::io::Read;
use std::sync::Arc;

use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;

use super::{parse_document, Document, IngestBatch, RawEvent, Rejected};

/// Why a body was refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body larger than {limit} bytes (after decoding)")]
    TooLarge { limit: u64 },
    #[error("body is not valid gzip: {0}")]
    BadGzip(String),
}

/// The input name of HTTP batches (`IngestBatch::input`).
pub const INPUT: &str = "http";

/// Decodes a body (gzip when `gzip`) into a batch from `source`.
pub fn decode(
    body: &[u8],
    gzip: bool,
    max_bytes: u64,
    source: &Arc<str>,
) -> Result<IngestBatch, BodyError> {
    if body.len() as u64 > max_bytes {
        return Err(BodyError::TooLarge { limit: max_bytes });
    }
    let inflated;
    let text: &[u8] = if gzip {
        inflated = gunzip_limited(body, max_bytes)?;
        &inflated
    } else {
        body
    };
    let (events, rejected) = parse_events(text, source);
    // Keyed here, on the decoding thread, not in the one processor thread. HTTP has no
    // stable positions: a document without a record identity is keyed by its content.
    let keys = events
        .iter()
        .map(|e| crate::pipeline::keys::event_key(&e.document, &e.source, e.record, false))
        .collect();
    Ok(IngestBatch {
        input: INPUT.to_string(),
        events,
        rejected,
        position: None,
        keys,
    })
}

/// Inflates gzip (several members allowed) up to `max_bytes` of output.
pub fn gunzip_limited(body: &[u8], max_bytes: u64) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut r = flate2::read::MultiGzDecoder::new(body).take(max_bytes.saturating_add(1));
    r.read_to_end(&mut out)
        .map_err(|e| BodyError::BadGzip(e.to_string()))?;
    if out.len() as u64 > max_bytes {
        return Err(BodyError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// Events and rejects of a decoded body (module docs for the rules).
pub fn parse_events(text: &[u8], source: &Arc<str>) -> (Vec<RawEvent>, Vec<Rejected>) {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => (Vec::new(), Vec::new()),
        Some(b'[') => parse_array(text, source),
        Some(b'{') => match serde_json::from_slice::<Value>(text) {
            // One (possibly pretty-printed) object.
            Ok(v @ Value::Object(_)) => (vec![event(v.into(), source, 1)], Vec::new()),
            _ => parse_lines(text, source),
        },
        Some(_) => parse_lines(text, source),
    }
}

fn event(document: Document, source: &Arc<str>, record: u64) -> RawEvent {
    RawEvent {
        document,
        source: source.clone(),
        record,
    }
}

fn not_object(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("not a JSON object (found {kind})")
}

fn parse_lines(text: &[u8], source: &Arc<str>) -> (Vec<RawEvent>, Vec<Rejected>) {
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        match parse_document(line) {
            Ok(Document::Tree(v)) if !v.is_object() => rejected.push(Rejected {
                line: n,
                reason: not_object(&v),
            }),
            Ok(doc) => events.push(event(doc, source, n)),
            Err(e) => rejected.push(Rejected {
                line: n,
                reason: format!("invalid JSON: {}", without_position(&e)),
            }),
        }
    }
    (events, rejected)
}

/// serde_json's message without its "at line 1 column N" (the line is ours).
fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &s[..i], e.column()),
        None => s,
    }
}

/// Elements of a top-level array, kept up to the first that does not parse.
struct Elements<'a> {
    out: &'a mut Vec<Value>,
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.out.push(v);
        }
        Ok(())
    }
}

fn parse_array(text: &[u8], source: &Arc<str>) -> (Vec<RawEvent>, Vec<Rejected>) {
    let mut values = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(text);
    let result = (&mut de)
        .deserialize_seq(Elements { out: &mut values })
        .and_then(|()| de.end());
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    let parsed = values.len() as u64;
    for (i, v) in values.into_iter().enumerate() {
        let n = i as u64 + 1;
        if v.is_object() {
            events.push(event(v.into(), source, n));
        } else {
            rejected.push(Rejected {
                line: n,
                reason: not_object(&v),
            });
        }
    }
    if let Err(e) = result {
        // The element being read when the array broke, and everything after it.
        rejected.push(Rejected {
            line: parsed + 1,
            reason: format!(
                "invalid JSON array at line {} column {}: {}; the rest of the body is unreadable",
                e.line(),
                e.column(),
                without_position(&e)
            ),
        });
    }
    (events, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn src() -> Arc<str> {
        Arc::from("http")
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    #[test]
    fn json_lines_with_rejects_by_line() {
        let body = b"{\"a\":1}\n\n[1]\r\n{bad\n{\"b\":2}\r\n\"s\"";
        let b = decode(body, false, 1 << 20, &src()).map_err(|e| e.to_string());
        let b = b.as_ref().map_err(String::clone);
        let Ok(b) = b else { panic!("{b:?}") };
        let recs: Vec<u64> = b.events.iter().map(|e| e.record).collect();
        assert_eq!(recs, vec![1, 5]);
        let lines: Vec<u64> = b.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 6]);
        assert!(
            b.rejected[0].reason.contains("an array"),
            "{:?}",
            b.rejected
        );
        assert!(
            b.rejected[1].reason.starts_with("invalid JSON"),
            "{:?}",
            b.rejected
        );
        assert!(
            !b.rejected[1].reason.contains("at line"),
            "{:?}",
            b.rejected
        );
        assert_eq!(b.input, "http");
    }

    #[test]
    fn array_elements_and_a_broken_tail() {
        let (ev, rej) = parse_events(b" [{\"a\":1}, 2, {\"b\":3}]", &src());
        assert_eq!(ev.iter().map(|e| e.record).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(
            rej,
            vec![Rejected {
                line: 2,
                reason: "not a JSON object (found a number)".into()
            }]
        );
        let (ev, rej) = parse_events(b"[{\"a\":1}, {\"b\":", &src());
        assert_eq!(ev.len(), 1);
        assert_eq!(rej.len(), 1);
        assert_eq!(rej[0].line, 2);
        let (ev, rej) = parse_events(b"[{\"a\":1}] x", &src());
        assert_eq!((ev.len(), rej.len()), (1, 1));
    }

    #[test]
    fn pretty_object_and_empty_body() {
        let (ev, rej) = parse_events(b"{\n  \"a\": 1\n}\n", &src());
        assert_eq!((ev.len(), rej.len()), (1, 0));
        let (ev, rej) = parse_events(b"  \n", &src());
        assert_eq!((ev.len(), rej.len()), (0, 0));
    }

    #[test]
    fn gzip_decoded_and_bombs_refused() {
        let body = gz(b"{\"a\":1}\n{\"a\":2}\n");
        let b = decode(&body, true, 1 << 20, &src());
        assert_eq!(b.map(|b| b.events.len()), Ok(2));
        // 8 MiB of zeros inflate from a few KiB: refused at 1 MiB without inflating it all.
        let bomb = gz(&vec![b' '; 8 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert_eq!(
            decode(&bomb, true, 1 << 20, &src()).map(|_| ()),
            Err(BodyError::TooLarge { limit: 1 << 20 })
        );
        assert!(matches!(
            decode(b"not gzip", true, 1 << 20, &src()),
            Err(BodyError::BadGzip(_))
        ));
        assert_eq!(
            decode(&[b' '; 11], false, 10, &src()).map(|_| ()),
            Err(BodyError::TooLarge { limit: 10 })
        );
    }
}
