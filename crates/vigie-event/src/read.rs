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

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::Event;

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

/// Expands paths into inputs. See the module contract.
pub fn discover(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<ReadError>) {
    let _ = paths;
    todo!("vigie-event: discover (being written)")
}

/// Streams one input. See the module contract.
pub fn read_input(
    input: &InputFile,
    opts: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> Result<ReadStats, ReadError> {
    let _ = (input, opts, on_event, on_error);
    todo!("vigie-event: read_input (being written)")
}
