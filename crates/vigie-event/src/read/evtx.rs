//! EVTX through the `evtx` crate: one [`crate::Event`] per record, one error per chunk or
//! record that cannot be read, and the rest of the file still read.
//!
//! Nothing is lost without a word: before parsing, the file's chunk slots are surveyed
//! (`evtx_ledger.rs`), each record is put to its chunk as it comes out, and at the end
//! every chunk the file header counts but the file lacks is reported
//! (`evtx_chunk_missing`), every chunk that is there but unreadable too
//! (`evtx_chunk_damaged`), and every record of a readable chunk's range that did not come
//! out (`evtx_record_damaged`). A chunk the file ends inside (a file cut short, `head -c`)
//! is read by this module up to the cut, since the parser skips an incomplete chunk.
//!
//! The parser's own log messages (`Read incorrect amount of data, ...`) are emitted
//! inside a span naming the file (`evtx{file=...}`) and, when the parser runs on the
//! reading thread, the chunk (`chunk{n=.. offset=..}`); their offsets are within that
//! chunk. With the parser's own threads (one file read with `--threads` > 1) they run on
//! a pool made for the file whose threads carry the file's span; the chunk is not known
//! there.

use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, EvtxRecord, ParserSettings};

use super::evtx_ledger::{ChunkKey, Ledger, CHUNK_SIZE, FILE_HEADER_SIZE};
use super::sink::Sink;
use super::{Position, ReadError, ReadErrorKind};
/// The parser settings the reader (and the `evtx_floor` example) use.
///
/// `evtx_threads` follows [`super::ReadOptions::evtx_threads`]. The JSON layout stays the
/// crate default (`#attributes` / `#text`), which the field walk expects; indentation is
/// off because the rendered text is only parsed back, never shown.
///
/// With `0` ("let it choose"), a call from inside a rayon worker (files read in parallel
/// on a pool) parses single-threaded, and any other call uses as many threads as the
/// global pool has. The reason: the multi-threaded parser spawns its chunk jobs onto the
/// pool of the thread driving it and blocks that thread until they are done, so a pool
/// whose workers all wait that way never runs them. The reader itself drives a
/// multi-threaded parser on a pool of its own (see `read_evtx`), so an explicit `n > 1`
/// is safe there from anywhere; a caller driving the parser itself from inside a pool
/// (the `evtx_floor` example does not) must keep fewer files than threads in flight.
pub fn parser_settings(evtx_threads: usize) -> ParserSettings {
    let threads = if evtx_threads == 0 && rayon::current_thread_index().is_some() {
        1
    } else {
        evtx_threads
    };
    ParserSettings::new().num_threads(threads).indent(false)
}

/// One record as the parser's worker renders it: which chunk it came from (by header),
/// its id, and its JSON text or why there is none.
struct Rendered {
    chunk: ChunkKey,
    id: u64,
    json: Result<String, EvtxError>,
}

/// Runs on the parser's workers, for each record of each chunk.
fn render(record: evtx::err::Result<EvtxRecord<'_>>) -> evtx::err::Result<Rendered> {
    let record = record?;
    Ok(Rendered {
        chunk: ChunkKey::of(record.chunk.header),
        id: record.event_record_id,
        json: record.into_json().map(|r| r.data),
    })
}

/// Reads every record of an EVTX stream; `ledger` is the [`survey`] of the same bytes
/// (see the module docs; `None` when the survey could not read the file header).
///
/// Returns `Err` only when the file header cannot be read (nothing at all can come out).
///
/// [`survey`]: super::evtx_ledger::survey
pub(crate) fn read_evtx<R: Read + Seek + Send>(
    sink: &mut Sink<'_>,
    data: R,
    ledger: Option<Ledger>,
    evtx_threads: usize,
) -> Result<(), ReadError> {
    let span = tracing::error_span!("evtx", file = %sink.name);
    let _file = span.enter();
    let threads = effective_threads(evtx_threads);
    let pool = if threads > 1 {
        evtx_pool(&span, threads)
    } else {
        None
    };
    let mut ledger = ledger.unwrap_or_else(Ledger::empty);
    let failed = match pool {
        Some(pool) => {
            let mut parser = open(sink, data, parser_settings(threads))?;
            drive_on(&pool, sink, &mut parser, &mut ledger)
        }
        None => {
            let data = ChunkSpans::new(data, &span);
            let mut parser = open(sink, data, parser_settings(1))?;
            drive(sink, &mut parser, &mut ledger)
            // The parser, and the span of the last chunk it read, end here.
        }
    };
    for (slot, bytes) in ledger.take_cut_chunks() {
        let _chunk = chunk_span(&span, slot as u64).entered();
        read_cut_chunk(sink, &mut ledger, slot, bytes);
    }
    ledger.finish(sink, failed);
    Ok(())
}

/// The parser's thread count [`parser_settings`] settles on.
fn effective_threads(evtx_threads: usize) -> usize {
    match evtx_threads {
        0 if rayon::current_thread_index().is_some() => 1,
        0 => rayon::current_num_threads(),
        n => n,
    }
}

fn open<T: Read + Seek>(
    sink: &Sink<'_>,
    data: T,
    settings: ParserSettings,
) -> Result<EvtxParser<T>, ReadError> {
    let parser = catch_unwind(AssertUnwindSafe(|| EvtxParser::from_read_seek(data)));
    match parser {
        Ok(Ok(p)) => Ok(p.with_configuration(settings)),
        Ok(Err(e)) => Err(sink.make_error(
            Position::File,
            ReadErrorKind::CorruptEvtx,
            format!("unreadable EVTX file header: {}", chain(&e)),
        )),
        Err(_) => Err(sink.make_error(
            Position::File,
            ReadErrorKind::CorruptEvtx,
            "the EVTX parser failed on the file header",
        )),
    }
}

/// A pool for the parser's workers whose threads carry the file's span, so that the
/// parser's log messages name the file. `None` if it cannot be built.
fn evtx_pool(span: &tracing::Span, threads: usize) -> Option<rayon::ThreadPool> {
    let span = span.clone();
    rayon::ThreadPoolBuilder::new()
        // One more: the job driving the parser waits on the others.
        .num_threads(threads + 1)
        .spawn_handler(move |thread| {
            let span = span.clone();
            std::thread::Builder::new()
                .name("vigie-evtx".into())
                .spawn(move || {
                    let _g = span.enter();
                    thread.run()
                })?;
            Ok(())
        })
        .build()
        .map_err(|e| tracing::debug!("no EVTX pool, parsing on one thread: {e}"))
        .ok()
}

/// What the parser yields, or that it failed (a contained panic).
type Next = Option<evtx::err::Result<Rendered>>;

/// The parser's next record; `Err` if it panicked. The parser is a dependency; a panic in
/// it on hostile bytes must not take the whole hunt down, so it is contained here and
/// reported as damage. The caller's callbacks run outside this guard.
fn next_record(
    records: &mut impl Iterator<Item = evtx::err::Result<Rendered>>,
) -> Result<Next, ()> {
    catch_unwind(AssertUnwindSafe(|| records.next())).map_err(|_| ())
}

/// Runs the parser on this thread over the file, passing each record on and putting it
/// to its chunk. Returns whether the parser failed before the end.
fn drive<R: Read + Seek>(
    sink: &mut Sink<'_>,
    parser: &mut EvtxParser<ChunkSpans<R>>,
    ledger: &mut Ledger,
) -> bool {
    // JSON text parsed here rather than the crate's `records_json_value`, which parses
    // the same text into `serde_json::Value`s: records become `Node` trees (member lists,
    // no hash tables; see tree.rs), and the few that do not fit one (arrays) `Value`s.
    let mut records = parser.serialized_records(render);
    loop {
        match next_record(&mut records) {
            Err(()) => return true,
            Ok(None) => return false,
            Ok(Some(item)) => handle(sink, ledger, item),
        }
    }
}

/// As [`drive`], with the parser driven by a job on `pool` (its chunk jobs go to the
/// pool of the thread that drives it) and the records passed on here, in batches.
fn drive_on<R: Read + Seek + Send>(
    pool: &rayon::ThreadPool,
    sink: &mut Sink<'_>,
    parser: &mut EvtxParser<R>,
    ledger: &mut Ledger,
) -> bool {
    const BATCH: usize = 256;
    let mut failed = false;
    pool.in_place_scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<_, ()>>>(4);
        s.spawn(move |_| {
            let mut records = parser.serialized_records(render);
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                match next_record(&mut records) {
                    Ok(Some(item)) => batch.push(Ok(item)),
                    Ok(None) => break,
                    Err(()) => {
                        batch.push(Err(()));
                        break;
                    }
                }
                if batch.len() == BATCH
                    && tx
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(batch);
        });
        for item in rx.iter().flatten() {
            match item {
                Ok(item) => handle(sink, ledger, item),
                Err(()) => failed = true,
            }
        }
    });
    failed
}

/// One item from the parser: a record put to its chunk and passed on, or its error.
fn handle(sink: &mut Sink<'_>, ledger: &mut Ledger, item: evtx::err::Result<Rendered>) {
    match item {
        Ok(rec) => {
            let slot = ledger.locate(rec.chunk);
            ledger.seen(slot, rec.id);
            emit(sink, slot, rec.id, rec.json);
        }
        Err(e) => crate_error(sink, ledger, e),
    }
}

/// Passes one rendered record on: an event, or an error naming it and its chunk.
fn emit(sink: &mut Sink<'_>, slot: Option<usize>, id: u64, json: Result<String, EvtxError>) {
    let text = match json {
        Ok(text) => text,
        Err(e) => {
            let msg = format!("{}{}", in_chunk(slot), chain(&e));
            sink.error(Position::Record(id), ReadErrorKind::EvtxRecordDamaged, msg);
            return;
        }
    };
    match super::flat_json::parse_tree(&text) {
        Some(node) => sink.event_node(id, node),
        None => match super::parse::parse_value(text.as_bytes()) {
            Ok(doc) => sink.event(id, doc),
            // The crate's own rendering: cannot be bad JSON short of a bug there.
            Err(e) => sink.error(
                Position::Record(id),
                ReadErrorKind::EvtxRecordDamaged,
                format!(
                    "{}the EVTX parser rendered invalid JSON: {e}",
                    in_chunk(slot)
                ),
            ),
        },
    }
}

/// `"(chunk 3, offset 200704) "`, or nothing when the chunk is not known.
fn in_chunk(slot: Option<usize>) -> String {
    match slot {
        Some(s) => format!("(chunk {s}, offset {}) ", Ledger::offset(s as u64)),
        None => String::new(),
    }
}

/// An error the parser yields in place of a record or a chunk: reported where it is, or
/// kept by the ledger to explain the records it cost.
fn crate_error(sink: &mut Sink<'_>, ledger: &mut Ledger, e: EvtxError) {
    match &e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => {
            let msg = format!("offset {}: {}", Ledger::offset(*chunk_id), chain(&e));
            if let Some(slot) = ledger.moved_to(*chunk_id) {
                ledger.chunk_reported(slot);
            }
            sink.error(
                Position::Chunk(*chunk_id),
                ReadErrorKind::EvtxChunkDamaged,
                msg,
            );
        }
        EvtxError::FailedToReadRecordAt {
            chunk: Some(c),
            offset,
            source,
        } if ledger.moved_to(*c).is_some() => {
            let at = Ledger::offset(*c) + offset;
            let msg = format!("the record at byte {at} is damaged: {}", chain(source));
            ledger.damage(*c as usize, msg);
        }
        EvtxError::FailedToParseRecord { record_id, .. } => {
            let slot = ledger.locate_id(*record_id);
            ledger.seen(slot, *record_id);
            let msg = format!("{}{}", in_chunk(slot), chain(&e));
            sink.error(
                Position::Record(*record_id),
                ReadErrorKind::EvtxRecordDamaged,
                msg,
            );
        }
        _ => sink.error(Position::File, ReadErrorKind::CorruptEvtx, chain(&e)),
    }
}

/// Reads the records of a chunk the file ends inside, up to the cut (the parser skips
/// such a chunk). Records cut through fail the parser's bounds checks and are reported
/// by the ledger with the others after the cut.
fn read_cut_chunk(sink: &mut Sink<'_>, ledger: &mut Ledger, slot: usize, mut bytes: Vec<u8>) {
    // The header's string table (64 offsets at byte 128) links names anywhere in the
    // chunk, past the cut too, and the parser refuses a chunk whose table it cannot
    // follow. Without it, the parser reads each name where the record points, and the
    // records before the cut only point before it.
    if let Some(table) = bytes.get_mut(128..384) {
        table.fill(0);
    }
    let settings = Arc::new(parser_settings(1));
    let parsed = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<_>, String> {
        let mut data = EvtxChunkData::new(bytes, false).map_err(|e| e.to_string())?;
        data.number = Some(slot as u64);
        let mut chunk = data.parse(settings).map_err(|e| e.to_string())?;
        Ok(chunk.iter().map(render).collect())
    }));
    let offset = Ledger::offset(slot as u64);
    let why = |what: String| format!("cut (offset {offset}): {what}");
    let records = match parsed {
        Ok(Ok(records)) => records,
        Ok(Err(e)) => {
            ledger.chunk_reported(slot);
            return sink.error(
                Position::Chunk(slot as u64),
                ReadErrorKind::EvtxChunkDamaged,
                why(e),
            );
        }
        Err(_) => {
            ledger.chunk_reported(slot);
            return sink.error(
                Position::Chunk(slot as u64),
                ReadErrorKind::EvtxChunkDamaged,
                why("the EVTX parser failed on it".into()),
            );
        }
    };
    for rec in records {
        match rec {
            Ok(rec) => {
                ledger.seen(Some(slot), rec.id);
                emit(sink, Some(slot), rec.id, rec.json);
            }
            Err(e) => crate_error(sink, ledger, e),
        }
    }
}

fn chunk_span(file: &tracing::Span, n: u64) -> tracing::Span {
    tracing::error_span!(parent: file, "chunk", n, offset = FILE_HEADER_SIZE + n * CHUNK_SIZE)
}

/// The file under a parser that runs on the reading thread: it reads a chunk right
/// before parsing it, so its seek to a chunk's offset enters a span naming that chunk,
/// for the parser's own log messages.
struct ChunkSpans<R> {
    inner: R,
    file: tracing::Span,
    chunk: Option<tracing::span::EnteredSpan>,
}

impl<R> ChunkSpans<R> {
    fn new(inner: R, file: &tracing::Span) -> Self {
        ChunkSpans {
            inner,
            file: file.clone(),
            chunk: None,
        }
    }
}

impl<R: Read> Read for ChunkSpans<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for ChunkSpans<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let at = self.inner.seek(pos)?;
        if at >= FILE_HEADER_SIZE && (at - FILE_HEADER_SIZE).is_multiple_of(CHUNK_SIZE) {
            // The previous chunk's span is left before the next one is entered.
            self.chunk = None;
            let n = (at - FILE_HEADER_SIZE) / CHUNK_SIZE;
            self.chunk = Some(chunk_span(&self.file, n).entered());
        }
        Ok(at)
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
