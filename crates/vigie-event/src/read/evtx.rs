//! EVTX through the `evtx` crate: one [`crate::Event`] per record, one error per damaged
//! record or chunk, and the rest of the file still read.

use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};

use super::sink::Sink;
use super::{Position, ReadError, ReadErrorKind};

/// The parser settings the reader (and the `evtx_floor` example) use.
///
/// `evtx_threads` follows [`super::ReadOptions::evtx_threads`]. The JSON layout stays the
/// crate default (`#attributes` / `#text`), which the field walk expects; indentation is
/// off because the rendered text is only parsed back, never shown.
///
/// With `0` ("let it choose"), a call from inside a rayon worker (files read in parallel
/// on a pool) parses single-threaded, and any other call uses every thread of the global
/// pool. The reason: the multi-threaded parser spawns its chunk jobs onto the current pool
/// and blocks the calling thread until they are done, so a pool whose workers all wait
/// that way never runs them. An explicit `n > 1` is honoured as given; from inside a
/// pool it is only safe while fewer files than the pool has threads are read at once
/// (one big file read by one worker, say).
pub fn parser_settings(evtx_threads: usize) -> ParserSettings {
    let threads = if evtx_threads == 0 && rayon::current_thread_index().is_some() {
        1
    } else {
        evtx_threads
    };
    ParserSettings::new().num_threads(threads).indent(false)
}

/// Reads every record of an EVTX stream.
///
/// Returns `Err` only when the file header cannot be read (nothing at all can come out).
pub(crate) fn read_evtx<R: Read + Seek>(
    sink: &mut Sink<'_>,
    data: R,
    evtx_threads: usize,
) -> Result<(), ReadError> {
    let parser = catch_unwind(AssertUnwindSafe(|| EvtxParser::from_read_seek(data)));
    let mut parser = match parser {
        Ok(Ok(p)) => p.with_configuration(parser_settings(evtx_threads)),
        Ok(Err(e)) => {
            return Err(sink.make_error(
                Position::File,
                ReadErrorKind::CorruptEvtx,
                format!("unreadable EVTX file header: {}", chain(&e)),
            ))
        }
        Err(_) => {
            return Err(sink.make_error(
                Position::File,
                ReadErrorKind::CorruptEvtx,
                "the EVTX parser failed on the file header",
            ))
        }
    };
    // JSON text parsed here rather than the crate's `records_json_value`, which parses
    // the same text into `serde_json::Value`s: records become `Node` trees (member lists,
    // no hash tables; see tree.rs), and the few that do not fit one (arrays) `Value`s.
    let mut records = parser.records_json();
    loop {
        // The parser is a dependency; a panic in it on hostile bytes must not take the
        // whole hunt down, so it is contained here and reported as damage. The caller's
        // callbacks run outside this guard.
        let next = match catch_unwind(AssertUnwindSafe(|| records.next())) {
            Ok(next) => next,
            Err(_) => {
                sink.error(
                    Position::File,
                    ReadErrorKind::CorruptEvtx,
                    "the EVTX parser failed; the rest of the file was not read",
                );
                break;
            }
        };
        match next {
            None => break,
            Some(Ok(rec)) => match super::flat_json::parse_tree(&rec.data) {
                Some(node) => sink.event_node(rec.event_record_id, node),
                None => match super::parse::parse_value(rec.data.as_bytes()) {
                    Ok(doc) => sink.event(rec.event_record_id, doc),
                    // The crate's own rendering: cannot be bad JSON short of a bug there.
                    Err(e) => sink.error(
                        Position::Record(rec.event_record_id),
                        ReadErrorKind::CorruptEvtx,
                        format!("the EVTX parser rendered invalid JSON: {e}"),
                    ),
                },
            },
            Some(Err(e)) => {
                let position = position_of(&e);
                sink.error(position, ReadErrorKind::CorruptEvtx, chain(&e));
            }
        }
    }
    Ok(())
}

/// Where an `evtx` error says the damage is.
fn position_of(e: &EvtxError) -> Position {
    match e {
        EvtxError::FailedToParseRecord { record_id, .. } => Position::Record(*record_id),
        EvtxError::FailedToParseChunk { chunk_id, .. } => Position::Chunk(*chunk_id),
        EvtxError::FailedToReadRecordAt { chunk: Some(c), .. } => Position::Chunk(*c),
        _ => Position::File,
    }
}

/// The error and its causes on one line, without the wrappers that only repeat the
/// position ("Failed to parse record number 7") or say nothing ("An error occurred while
/// trying to deserialize evtx stream.").
fn chain(e: &EvtxError) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        let text = text.trim_end_matches('.');
        let filler = text.starts_with("Failed to parse record number")
            || text.starts_with("Failed to parse chunk number")
            || text.starts_with("An error occurred while trying to");
        if !filler && !parts.iter().any(|p| p.ends_with(text)) {
            parts.push(text.to_string());
        }
        cur = err.source();
        if parts.len() > 8 {
            break;
        }
    }
    if parts.is_empty() {
        // Only wrappers: keep the outermost rather than say nothing.
        e.to_string()
    } else {
        parts.join(": ")
    }
}
