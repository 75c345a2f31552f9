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
//! UTF-16 text with a BOM (what Windows PowerShell 5.1 writes) is transcoded to UTF-8.
//! EVTX damage is accounted per chunk and record against what the file's headers claim,
//! so a file cut short or with unreadable chunks says what it lost (see `evtx.rs`).
//! A text input whose first line reads as syslog (a `<PRI>`, or a timestamp at its start)
//! is read as one syslog message a line ([`syslog`]); the year of an RFC 3164 timestamp
//! is inferred from the file's modification time (the time of reading for streams).
//! A text input whose first line is an audit record (`type=... msg=audit(...)`) is read as
//! a Linux auditd log, its records joined into events by serial ([`auditd`]). A Zeek log
//! is recognised by its `#separator` header (TSV) or by its first JSON line's fields
//! ([`zeek`]). A JSON record of a known shape (journald export, ECS, OCSF) is completed
//! with Sigma's field names and a `_source` before it becomes an event (`shape/`,
//! docs/json-shapes.md).
//! ([`zeek`]). A first line `CEF:...` or `LEEF:...` is read as CEF ([`cef`]) or LEEF
//! ([`leef`]) lines; a first line of NCSA common/combined or Squid access log shape as an
//! access log, each line a web server or proxy request ([`weblog`]). CEF and LEEF after
//! a syslog header are read as syslog, with their fields added ([`cef::merge_into_syslog`]).
//! Layout: `discover.rs`, `sniff.rs`, `evtx.rs`, `evtx_ledger.rs` (what an EVTX file
//! should hold and what came out), `json.rs`, `syslog.rs` (the parser, framing, syslog
//! files; `syslog/sysmon.rs`: Sysmon for Linux XML inside syslog), `netdev.rs` (Cisco,
//! Huawei, Juniper, FortiGate messages inside syslog), `utf16.rs`, `sink.rs` (callbacks,
//! counts), `shape/` (JSON records recognised by shape and given a routing `_source`:
//! cloud audit logs, docs/cloud-logs.md).

pub mod auditd;
pub mod cef;
mod discover;
pub mod evtx;
mod evtx_ledger;
mod flat_json;
mod json;
pub mod leef;
pub mod netdev;
mod parse;
mod shape;
mod sink;
mod sniff;
pub mod syslog;
mod utf16;
pub mod weblog;
pub mod zeek;

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;

use crate::Event;
pub use discover::discover;
pub use parse::{parse_doc, Parsed};
use sink::{Counting, Sink};
use sniff::Sniffed;
use utf16::Utf16Reader;

/// What an input holds, as sniffed from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Windows event log file (`ElfFile\0`).
    Evtx,
    /// One JSON object per line (also pretty-printed objects one after another).
    JsonLines,
    /// One top-level JSON array of objects.
    JsonArray,
    /// One syslog message (RFC 5424 or RFC 3164) per line.
    Syslog,
    /// Linux auditd raw log: one record a line, joined into events by serial.
    Auditd,
    /// Zeek TSV log (`#separator`, `#fields`... header).
    ZeekTsv,
    /// Zeek JSON log (one object a line).
    ZeekJson,
    /// ArcSight CEF, one record a line.
    Cef,
    /// IBM QRadar LEEF 1.0/2.0, one record a line.
    Leef,
    /// Web server (NCSA common/combined) or proxy (Squid) access log.
    AccessLog,
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
    /// 0-based `index` of a record inside a container object (CloudTrail's
    /// `{"Records":[...]}`) that starts on `line` (docs/cloud-logs.md).
    Contained { line: u64, index: u64 },
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::File => Ok(()),
            Position::Record(r) => write!(f, "record {r}"),
            Position::Chunk(c) => write!(f, "chunk {c}"),
            Position::Line(l) => write!(f, "line {l}"),
            Position::Element(e) => write!(f, "element {e}"),
            Position::Contained { line, index } => write!(f, "line {line}, record {index}"),
        }
    }
}

/// Why something was skipped; the summary counts skips by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadErrorKind {
    /// Cannot open or read the file at all.
    Io,
    /// Not EVTX, gzip, JSON, syslog, auditd, Zeek, CEF, LEEF or an access log.
    UnsupportedFormat,
    /// An EVTX file whose file header cannot be read, or damage the parser reports
    /// without saying in which chunk.
    CorruptEvtx,
    /// An EVTX chunk the file header counts but the file ends before (one per chunk: its
    /// record range, in its own header, is unknown).
    EvtxChunkMissing,
    /// An EVTX chunk that is there but cannot be read (bad header, all zeros although
    /// counted in use, cut before the end of its header); one per chunk.
    EvtxChunkDamaged,
    /// A record of a readable EVTX chunk's range that cannot be read (damaged, or past
    /// where the file ends inside the chunk); one per record.
    EvtxRecordDamaged,
    /// Malformed JSON (line or element).
    BadJson,
    /// Valid JSON that is not an object.
    NotAnObject,
    /// A line of a syslog input that is not a syslog message.
    BadSyslog,
    /// A line of an auditd input that is not an audit record.
    BadAuditd,
    /// A line of a Zeek TSV log that does not fit its header.
    BadZeek,
    /// A line of a CEF input that is not a CEF record.
    BadCef,
    /// A line of a LEEF input that is not a LEEF record.
    BadLeef,
    /// A line of an access log that is neither a web server nor a proxy access line.
    BadAccessLog,
    /// Damaged gzip stream.
    BadGzip,
}

impl ReadErrorKind {
    /// Whether one error of this kind stands for an EVTX chunk (whose records are not
    /// known) rather than for one record, line or element.
    pub fn counts_chunks(self) -> bool {
        matches!(
            self,
            ReadErrorKind::EvtxChunkMissing | ReadErrorKind::EvtxChunkDamaged
        )
    }
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
    /// Zone of syslog timestamps written without one (RFC 3164 `Mmm dd hh:mm:ss`);
    /// UTC by default (`vigie hunt --timezone`).
    pub syslog_zone: syslog::Zone,
}

/// Counts for one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadStats {
    /// Calls of `on_event`.
    pub events: u64,
    /// Calls of `on_error`: damaged records, chunks, lines or elements.
    pub skipped: u64,
    /// How far into the input reading got, in bytes on disk (compressed for gzip).
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
        read_stream(&mut sink, counted, opts, Layers::default())?;
    } else {
        let file = File::open(&input.path).map_err(|e| {
            sink.make_error(
                Position::File,
                ReadErrorKind::Io,
                format!("cannot open: {e}"),
            )
        })?;
        // Pipes and devices cannot seek back after sniffing.
        let meta = file.metadata().ok();
        let regular = meta.as_ref().is_some_and(|m| m.is_file());
        if regular {
            // RFC 3164 years: no message in a file is newer than its last write.
            let layers = Layers {
                syslog_reference: meta.and_then(|m| m.modified().ok()).map(DateTime::from),
                ..Layers::default()
            };
            read_seekable(&mut sink, file, opts, layers)?;
        } else {
            let counted = Counting::new(file, sink.bytes.clone(), opts.bytes_read.clone());
            read_stream(&mut sink, counted, opts, Layers::default())?;
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
    read_seekable(&mut sink, Cursor::new(bytes), opts, Layers::default())?;
    Ok(sink.stats())
}

const BUF_SIZE: usize = 256 * 1024;

/// A file or buffer: sniff, rewind, dispatch. EVTX is parsed in place (it needs `Seek`).
fn read_seekable<R: Read + Seek + Send>(
    sink: &mut Sink<'_>,
    mut r: R,
    opts: &ReadOptions,
    plain: Layers,
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
    let sniffed = sniff::sniff(&prefix);
    // Surveyed before the byte counter is put on: the survey reads every chunk header,
    // which is no progress through the file.
    let ledger = match sniffed {
        Sniffed::Evtx => evtx_ledger::survey(&mut r),
        _ => None,
    };
    let counted = Counting::new(r, sink.bytes.clone(), opts.bytes_read.clone());
    match sniffed {
        Sniffed::Evtx => evtx::read_evtx(sink, counted, ledger, opts.evtx_threads),
        Sniffed::Gzip => read_gzip(sink, counted, opts, plain),
        Sniffed::Utf16 { big_endian } => read_utf16(sink, counted, opts, plain, big_endian),
        Sniffed::JsonLines => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            json::read_lines(sink, r, plain.json_opts());
            Ok(())
        }
        Sniffed::JsonArray => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            json::read_array(sink, r, plain.json_opts());
            Ok(())
        }
        Sniffed::Syslog => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            syslog::read_lines(sink, r, &plain.syslog_opts(opts), plain.io_kind());
            Ok(())
        }
        Sniffed::Auditd => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            auditd::read_lines(sink, r, plain.io_kind());
            Ok(())
        }
        Sniffed::ZeekTsv => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            zeek::read_tsv(sink, r, plain.io_kind());
            Ok(())
        }
        Sniffed::ZeekJson => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            zeek::read_json(sink, r, plain.io_kind());
            Ok(())
        }
        Sniffed::Cef | Sniffed::Leef | Sniffed::AccessLog => {
            let r = BufReader::with_capacity(BUF_SIZE, counted);
            read_textfmt(sink, sniffed, r, plain, opts);
            Ok(())
        }
        s @ (Sniffed::Empty | Sniffed::Unknown) => Err(unsupported(sink, s, &prefix, plain)),
    }
}

/// The decoding layers a stream has been through, outermost first.
#[derive(Debug, Clone, Copy, Default)]
struct Layers {
    gzip: bool,
    utf16: bool,
    /// The reference time of RFC 3164 timestamps (the file's modification time; `None`:
    /// the time of reading).
    syslog_reference: Option<DateTime<Utc>>,
}

impl Layers {
    /// How a read failure is classified: under gzip it is damage to the gzip stream.
    fn io_kind(self) -> ReadErrorKind {
        if self.gzip {
            ReadErrorKind::BadGzip
        } else {
            ReadErrorKind::Io
        }
    }

    fn json_opts(self) -> json::JsonOpts {
        json::JsonOpts {
            io: self.io_kind(),
            max_record: json::MAX_RECORD,
        }
    }

    fn syslog_opts(self, opts: &ReadOptions) -> syslog::ParseOptions {
        syslog::ParseOptions {
            zone: opts.syslog_zone.clone(),
            ..syslog::ParseOptions::at(self.syslog_reference.unwrap_or_else(Utc::now))
        }
    }

    fn io_what(self) -> &'static str {
        if self.gzip {
            "damaged gzip stream"
        } else {
            "cannot read"
        }
    }

    fn describe(self) -> &'static str {
        match (self.gzip, self.utf16) {
            (false, false) => "",
            (true, false) => "gzip content ",
            (false, true) => "UTF-16 content ",
            (true, true) => "gzip UTF-16 content ",
        }
    }
}

/// A stream without `Seek` (stdin, a pipe, or what a decoding layer yields): the sniffed
/// prefix is replayed in front of the rest; EVTX is first read into memory.
fn read_stream<R: Read>(
    sink: &mut Sink<'_>,
    mut r: R,
    opts: &ReadOptions,
    layers: Layers,
) -> Result<(), ReadError> {
    let kind = layers.io_kind();
    let what = layers.io_what();
    let prefix = sniff::read_prefix(&mut r)
        .map_err(|e| sink.make_error(Position::File, kind, format!("{what}: {e}")))?;
    let sniffed = sniff::sniff(&prefix);
    let mut whole = Cursor::new(&prefix[..]).chain(r);
    match sniffed {
        // Binary formats do not hide inside UTF-16 text.
        Sniffed::Evtx if !layers.utf16 => {
            let mut buf = Vec::new();
            // Whatever arrived before a read failure is still worth parsing; the failure
            // is reported after its records, or folded into the `Err` if none could be.
            let failed = whole.read_to_end(&mut buf).err();
            let mut data = Cursor::new(buf);
            let ledger = evtx_ledger::survey(&mut data);
            match evtx::read_evtx(sink, data, ledger, opts.evtx_threads) {
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
        Sniffed::Gzip if !layers.gzip && !layers.utf16 => read_gzip(sink, whole, opts, layers),
        Sniffed::Utf16 { big_endian } if !layers.utf16 => {
            read_utf16(sink, whole, opts, layers, big_endian)
        }
        Sniffed::JsonLines => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            json::read_lines(sink, r, layers.json_opts());
            Ok(())
        }
        Sniffed::JsonArray => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            json::read_array(sink, r, layers.json_opts());
            Ok(())
        }
        Sniffed::Syslog => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            syslog::read_lines(sink, r, &layers.syslog_opts(opts), layers.io_kind());
            Ok(())
        }
        Sniffed::Auditd => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            auditd::read_lines(sink, r, layers.io_kind());
            Ok(())
        }
        Sniffed::ZeekTsv => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            zeek::read_tsv(sink, r, layers.io_kind());
            Ok(())
        }
        Sniffed::ZeekJson => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            zeek::read_json(sink, r, layers.io_kind());
            Ok(())
        }
        Sniffed::Cef | Sniffed::Leef | Sniffed::AccessLog => {
            let r = BufReader::with_capacity(BUF_SIZE, whole);
            read_textfmt(sink, sniffed, r, layers, opts);
            Ok(())
        }
        s => Err(unsupported(sink, s, &prefix, layers)),
    }
}

/// CEF, LEEF and access logs ([`cef`], [`leef`], [`weblog`]).
fn read_textfmt<R: std::io::BufRead>(
    sink: &mut Sink<'_>,
    s: Sniffed,
    r: R,
    layers: Layers,
    opts: &ReadOptions,
) {
    let io = layers.io_kind();
    match s {
        Sniffed::Cef => cef::read_lines(sink, r, io, &layers.syslog_opts(opts)),
        Sniffed::Leef => leef::read_lines(sink, r, io, &layers.syslog_opts(opts)),
        _ => weblog::read_lines(sink, r, io),
    }
}

// The layers below are boxed: `read_stream` and they call each other, and generic types
// would nest without end. Cost: one virtual call per buffer fill.

fn read_gzip<R: Read>(
    sink: &mut Sink<'_>,
    r: R,
    opts: &ReadOptions,
    layers: Layers,
) -> Result<(), ReadError> {
    let dec = MultiGzDecoder::new(BufReader::with_capacity(BUF_SIZE, r));
    let dec: Box<dyn Read + '_> = Box::new(dec);
    let layers = Layers {
        gzip: true,
        ..layers
    };
    read_stream(sink, dec, opts, layers)
}

/// `r` starts with the 2-byte BOM.
fn read_utf16<R: Read>(
    sink: &mut Sink<'_>,
    mut r: R,
    opts: &ReadOptions,
    layers: Layers,
    big_endian: bool,
) -> Result<(), ReadError> {
    let mut bom = [0u8; 2];
    r.read_exact(&mut bom).map_err(|e| {
        let what = layers.io_what();
        sink.make_error(Position::File, layers.io_kind(), format!("{what}: {e}"))
    })?;
    let text: Box<dyn Read + '_> = Box::new(Utf16Reader::new(
        BufReader::with_capacity(BUF_SIZE, r),
        big_endian,
    ));
    let layers = Layers {
        utf16: true,
        ..layers
    };
    read_stream(sink, text, opts, layers)
}

fn unsupported(sink: &Sink<'_>, s: Sniffed, prefix: &[u8], layers: Layers) -> ReadError {
    let why = match (s, discover::format_of(s)) {
        (Sniffed::Evtx | Sniffed::Gzip, _) if layers.utf16 => "binary data in UTF-16 text",
        (_, Ok(_)) => "unsupported",
        (_, Err(why)) => why,
    };
    sink.make_error(
        Position::File,
        ReadErrorKind::UnsupportedFormat,
        format!(
            "{}{why} ({})",
            layers.describe(),
            sniff::describe_start(prefix)
        ),
    )
}
