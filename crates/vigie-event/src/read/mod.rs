//! Readers: turn paths into a stream of [`Event`]s, reporting every damaged record.
//!
//! CONTRACT (the hunt pipeline and the benches code against this; keep it):
//! - [`discover`] expands the user's paths (files, directories walked recursively, `-`
//!   for stdin) into [`InputFile`]s in a deterministic order (sorted by path within a
//!   directory), with their [`Format`] sniffed from content (EVTX magic `ElfFile\0`, gzip
//!   magic, JSON array vs JSON lines) rather than trusted from the extension. Paths that
//!   cannot be opened come back as [`ReadError`]s, not as a failure of the whole call.
//! - [`read_input`] streams one input: it calls `on_event` for every good record and
//!   `on_error` for every damaged one (file + record/line + what is wrong), then carries
//!   on. It returns `Err` only when nothing at all can be read from the input (cannot
//!   open, not a supported format); the caller counts that as a skipped file.
//! - Nothing panics on any input bytes.
//!
//! Beyond the contract: stdin, pipes and devices (`<(zcat x.gz)`) cannot be sniffed
//! without losing bytes, so their [`InputFile::format`] is a placeholder and the format is
//! decided when they are read; [`read_input`] always goes by the content it reads. A
//! JSON-lines input whose first record spans lines is read as pretty-printed objects.
//! Layout: `discover.rs`, `sniff.rs`, `evtx.rs`, `json.rs`, `sink.rs` (callbacks, counts).

mod discover;
pub mod evtx;
mod json;
mod sink;
mod sniff;

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::Event;
pub use discover::discover;
use sink::{Counting, Sink};
use sniff::Sniffed;

/// What an input holds, as sniffed from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Evtx,
    JsonLines,
    JsonArray,
}

/// One input to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path as given / found; `-` means stdin.
    pub path: PathBuf,
    /// Name used in events and errors (`Event::source`).
    pub name: Arc<str>,
    pub format: Format,
    /// gzip-compressed (format is that of the decompressed content).
    pub gzip: bool,
    /// Size on disk in bytes (0 for stdin).
    pub size: u64,
}

/// Where in an input a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "at")]
pub enum Position {
    /// The input as a whole.
    File,
    /// EVTX record id.
    Record(u64),
    /// EVTX chunk number (0-based) when a whole chunk is unreadable.
    Chunk(u64),
    /// 1-based line of a JSON-lines input.
    Line(u64),
    /// 0-based element of a JSON array input.
    Element(u64),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::File => Ok(()),
            Position::Record(r) => write!(f, "record {r}"),
            Position::Chunk(c) => write!(f, "chunk {c}"),
            Position::Line(l) => write!(f, "line {l}"),
            Position::Element(e) => write!(f, "element {e}"),
        }
    }
}

/// Why something was skipped; the summary counts skips by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadErrorKind {
    /// Cannot open or read the file at all.
    Io,
    /// Not EVTX, gzip or JSON.
    UnsupportedFormat,
    /// Damaged EVTX structure (bad chunk/record header, checksum, binary XML).
    CorruptEvtx,
    /// Malformed JSON (line or element).
    BadJson,
    /// Valid JSON that is not an object.
    NotAnObject,
    /// Damaged gzip stream.
    BadGzip,
}

/// A skipped file or record: which file, where, and what is wrong.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize)]
#[error("{source_name}{}{position}: {message}", if matches!(.position, Position::File) { "" } else { ": " })]
pub struct ReadError {
    pub source_name: Arc<str>,
    pub position: Position,
    pub kind: ReadErrorKind,
    pub message: String,
}

/// Reader settings.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Threads the EVTX parser may use inside one file (0 = let it choose, 1 = none).
    /// See [`evtx::parser_settings`] for what "choose" means inside a rayon pool.
    pub evtx_threads: usize,
    /// Bytes read so far, across inputs, for a progress bar (compressed bytes for gzip).
    pub bytes_read: Option<Arc<AtomicU64>>,
}

/// Counts for one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadStats {
    pub events: u64,
    pub skipped: u64,
    pub bytes: u64,
}

/// Streams one input. See the module contract.
///
/// The format is sniffed again from the content when the input is read (stdin can only be
/// sniffed then, and the content wins over what [`discover`] saw). An `Err` is not also
/// passed to `on_error`.
pub fn read_input(
    input: &InputFile,
    opts: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> Result<ReadStats, ReadError> {
    let mut sink = Sink::new(input.name.clone(), on_event, on_error);
    if input.path.as_os_str() == "-" {
        let stdin = std::io::stdin().lock();
        let counted = Counting::new(stdin, sink.bytes.clone(), opts.bytes_read.clone());
        read_stream(&mut sink, counted, opts, false)?;
    } else {
        let file = File::open(&input.path).map_err(|e| {
            sink.make_error(
                Position::File,
                ReadErrorKind::Io,
                format!("cannot open: {e}"),
            )
        })?;
        // Pipes and devices cannot seek back after sniffing.
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        if regular {
            read_seekable(&mut sink, file, opts)?;
        } else {
            let counted = Counting::new(file, sink.bytes.clone(), opts.bytes_read.clone());
            read_stream(&mut sink, counted, opts, false)?;
        }
    }
    Ok(sink.stats())
}

/// Reads an input held in memory, as [`read_input`] reads a file (for fuzzing, tests, and
/// callers that already hold the bytes). `name` becomes `Event::source`.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    opts: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> Result<ReadStats, ReadError> {
    let mut sink = Sink::new(Arc::from(name), on_event, on_error);
    read_seekable(&mut sink, Cursor::new(bytes), opts)?;
    Ok(sink.stats())
}

const BUF_SIZE: usize = 256 * 1024;

/// A file or buffer: sniff, rewind, dispatch. EVTX is parsed in place (it needs `Seek`).
fn read_seekable<R: Read + Seek>(
    sink: &mut Sink<'_>,
    mut r: R,
    opts: &ReadOptions,
) -> Result<(), ReadError> {
    let io = |sink: &Sink<'_>, e: std::io::Error| {
        sink.make_error(
            Position::File,
            ReadErrorKind::Io,
            format!("cannot read: {e}"),
        )
    };
    let prefix = sniff::read_prefix(&mut r).map_err(|e| io(sink, e))?;
    r.seek(SeekFrom::Start(0)).map_err(|e| io(sink, e))?;
    let counted = Counting::new(r, sink.bytes.clone(), opts.bytes_read.clone());
    match sniff::sniff(&prefix) {
        Sniffed::Evtx => evtx::read_evtx(sink, counted, opts.evtx_threads),
        Sniffed::Gzip => read_gzip(sink, counted, opts),
        Sniffed::JsonLines => {
            json::read_lines(sink, BufReader::with_capacity(BUF_SIZE, counted), PLAIN);
            Ok(())
        }
        Sniffed::JsonArray => {
            json::read_array(sink, BufReader::with_capacity(BUF_SIZE, counted), PLAIN);
            Ok(())
        }
        s @ (Sniffed::Empty | Sniffed::Unknown) => Err(unsupported(sink, s, &prefix, false)),
    }
}

const PLAIN: json::IoKind = json::IoKind(ReadErrorKind::Io);

/// A stream without `Seek` (stdin, or the inside of a gzip stream when `gzip`): the
/// sniffed prefix is replayed in front of the rest; EVTX is first read into memory.
fn read_stream<R: Read>(
    sink: &mut Sink<'_>,
    mut r: R,
    opts: &ReadOptions,
    gzip: bool,
) -> Result<(), ReadError> {
    let kind = if gzip {
        ReadErrorKind::BadGzip
    } else {
        ReadErrorKind::Io
    };
    let what = if gzip {
        "damaged gzip stream"
    } else {
        "cannot read"
    };
    let prefix = sniff::read_prefix(&mut r)
        .map_err(|e| sink.make_error(Position::File, kind, format!("{what}: {e}")))?;
    let sniffed = sniff::sniff(&prefix);
    let mut whole = Cursor::new(&prefix[..]).chain(r);
    let io_kind = json::IoKind(kind);
    match sniffed {
        Sniffed::Evtx => {
            let mut buf = Vec::new();
            // Whatever arrived before a read failure is still worth parsing; the failure
            // is reported after its records, or folded into the `Err` if none could be.
            let failed = whole.read_to_end(&mut buf).err();
            match evtx::read_evtx(sink, Cursor::new(buf), opts.evtx_threads) {
                Ok(()) => {
                    if let Some(e) = failed {
                        sink.error(Position::File, kind, format!("{what}: {e}"));
                    }
                    Ok(())
                }
                Err(mut err) => {
                    if let Some(e) = failed {
                        err.kind = kind;
                        err.message = format!("{what}: {e} ({})", err.message);
                    }
                    Err(err)
                }
            }
        }
        Sniffed::Gzip if !gzip => read_gzip(sink, whole, opts),
        Sniffed::JsonLines => {
            json::read_lines(sink, BufReader::with_capacity(BUF_SIZE, whole), io_kind);
            Ok(())
        }
        Sniffed::JsonArray => {
            json::read_array(sink, BufReader::with_capacity(BUF_SIZE, whole), io_kind);
            Ok(())
        }
        s => Err(unsupported(sink, s, &prefix, gzip)),
    }
}

fn read_gzip<R: Read>(sink: &mut Sink<'_>, r: R, opts: &ReadOptions) -> Result<(), ReadError> {
    let dec = MultiGzDecoder::new(BufReader::with_capacity(BUF_SIZE, r));
    // Boxed: `read_stream` and `read_gzip` call each other, and a generic type here
    // would nest without end. Cost is one virtual call per buffer fill.
    let dec: Box<dyn Read + '_> = Box::new(dec);
    read_stream(sink, dec, opts, true)
}

fn unsupported(sink: &Sink<'_>, s: Sniffed, prefix: &[u8], gzip: bool) -> ReadError {
    let why = match discover::format_of(s) {
        Ok(_) => "unsupported",
        Err(why) => why,
    };
    let what = if gzip { "gzip content " } else { "" };
    sink.make_error(
        Position::File,
        ReadErrorKind::UnsupportedFormat,
        format!("{what}{why} ({})", sniff::describe_start(prefix)),
    )
}
