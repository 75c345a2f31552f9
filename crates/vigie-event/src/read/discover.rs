//! Expanding the user's paths into inputs with a sniffed format.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::sniff::{describe_start, read_prefix, sniff, Sniffed};
use super::utf16::Utf16Reader;
use super::{Format, InputFile, Layers, Position, ReadError, ReadErrorKind};

/// See the module contract in [`super`].
pub fn discover(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<ReadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(stdin_input());
            continue;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                errors.push(file_error(
                    path,
                    ReadErrorKind::Io,
                    format!("cannot open: {e}"),
                ));
                continue;
            }
        };
        if meta.is_file() {
            push_probe(path, &mut files, &mut errors);
            continue;
        }
        if !meta.is_dir() {
            // A pipe or device (`<(zcat x.gz)`, /dev/stdin): sniffing would eat bytes
            // that cannot be read again, so like stdin it is sniffed when read.
            files.push(stream_input(path));
            continue;
        }
        // Symlinks are followed so linked log folders are read; walkdir reports a link
        // that loops back to an ancestor as an error instead of recursing forever.
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_file() => push_probe(e.path(), &mut files, &mut errors),
                Ok(_) => {}
                Err(e) => {
                    let at = e.path().unwrap_or(path);
                    errors.push(file_error(
                        at,
                        ReadErrorKind::Io,
                        format!("cannot read: {e}"),
                    ));
                }
            }
        }
    }
    (files, errors)
}

/// Standard input. Its format cannot be sniffed without consuming it, so it is decided
/// when it is read; `format` here is a placeholder.
fn stdin_input() -> InputFile {
    stream_input(Path::new("-"))
}

/// An input read as a stream: format decided when read, `format` a placeholder.
fn stream_input(path: &Path) -> InputFile {
    InputFile {
        path: path.to_path_buf(),
        name: name_of(path),
        format: Format::JsonLines,
        gzip: false,
        size: 0,
    }
}

fn push_probe(path: &Path, files: &mut Vec<InputFile>, errors: &mut Vec<ReadError>) {
    match probe(path) {
        Ok(f) => files.push(f),
        Err(e) => errors.push(e),
    }
}

/// Opens a file and sniffs its format (through gzip when compressed).
pub(crate) fn probe(path: &Path) -> Result<InputFile, ReadError> {
    let io_err = |what: &str, e: std::io::Error| {
        file_error(path, ReadErrorKind::Io, format!("cannot {what}: {e}"))
    };
    let f = File::open(path).map_err(|e| io_err("open", e))?;
    let size = f.metadata().map_err(|e| io_err("stat", e))?.len();
    // Peel decoding layers (gzip, UTF-16) until the content shows, as `read_input` will.
    let mut layers = Layers::default();
    let mut reader: Box<dyn Read> = Box::new(f);
    loop {
        let head = read_prefix(&mut reader).map_err(|e| {
            let what = layers.io_what();
            file_error(path, layers.io_kind(), format!("{what}: {e}"))
        })?;
        let sniffed = sniff(&head);
        let mut rest = Cursor::new(head.clone()).chain(reader);
        match sniffed {
            Sniffed::Gzip if !layers.gzip && !layers.utf16 => {
                layers.gzip = true;
                reader = Box::new(MultiGzDecoder::new(BufReader::new(rest)));
            }
            Sniffed::Utf16 { big_endian } if !layers.utf16 => {
                layers.utf16 = true;
                let mut bom = [0u8; 2];
                rest.read_exact(&mut bom).map_err(|e| io_err("read", e))?;
                reader = Box::new(Utf16Reader::new(rest, big_endian));
            }
            s => {
                let found = match s {
                    Sniffed::Evtx | Sniffed::Gzip if layers.utf16 => {
                        Err("binary data in UTF-16 text")
                    }
                    s => format_of(s),
                };
                return found
                    .map(|format| input(path, format, layers, size))
                    .map_err(|why| {
                        file_error(
                            path,
                            ReadErrorKind::UnsupportedFormat,
                            format!("{}{why} ({})", layers.describe(), describe_start(&head)),
                        )
                    });
            }
        }
    }
}

fn input(path: &Path, format: Format, layers: Layers, size: u64) -> InputFile {
    InputFile {
        path: path.to_path_buf(),
        name: name_of(path),
        format,
        gzip: layers.gzip,
        size,
    }
}

/// The format for a sniff result, or why it is not readable.
pub(crate) fn format_of(s: Sniffed) -> Result<Format, &'static str> {
    match s {
        Sniffed::Evtx => Ok(Format::Evtx),
        Sniffed::JsonArray => Ok(Format::JsonArray),
        Sniffed::JsonLines => Ok(Format::JsonLines),
        Sniffed::Syslog => Ok(Format::Syslog),
        Sniffed::Auditd => Ok(Format::Auditd),
        Sniffed::ZeekTsv => Ok(Format::ZeekTsv),
        Sniffed::ZeekJson => Ok(Format::ZeekJson),
        Sniffed::Cef => Ok(Format::Cef),
        Sniffed::Leef => Ok(Format::Leef),
        Sniffed::AccessLog => Ok(Format::AccessLog),
        Sniffed::Gzip => Err("gzip inside gzip is not supported"),
        Sniffed::Utf16 { .. } => Err("UTF-16 inside UTF-16 is not supported"),
        Sniffed::Empty => Err("empty input"),
        Sniffed::Unknown => {
            Err("not EVTX, gzip, JSON, syslog, auditd, Zeek, CEF, LEEF or an access log")
        }
    }
}

pub(crate) fn name_of(path: &Path) -> Arc<str> {
    Arc::from(path.to_string_lossy().as_ref())
}

fn file_error(path: &Path, kind: ReadErrorKind, message: String) -> ReadError {
    ReadError {
        source_name: name_of(path),
        position: Position::File,
        kind,
        message,
    }
}
