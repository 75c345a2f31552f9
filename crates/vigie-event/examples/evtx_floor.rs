//! The EVTX parse floor: the `evtx` crate alone turning every record of the given files
//! into a `serde_json::Value`, in one process on all cores, with the settings the reader
//! uses. The hunt benchmark (bench/evtx-floor.sh) divides vigie's scan time by this.
//!
//! Usage: `evtx_floor [--mode files|chunks] [--render value|json|xml] [--reader] <file-or-dir>...`
//!
//! - `--mode files` (default): files in parallel on the rayon pool, one parser thread each.
//! - `--mode chunks`: one file after another, each parsed by `evtx`'s own chunk threads.
//! - `--render`: what each record becomes: a `serde_json::Value` (default, what the
//!   reader needs), JSON text or XML text (the crate's cheaper renderings, for scale).
//! - `--reader`: the same work through `vigie_event::read_input` (files in parallel), to
//!   check that the reader adds nothing measurable over the bare crate.
//!
//! Prints `records=<n> errors=<n> seconds=<s> records_per_s=<r>`. Non-EVTX files are
//! ignored (sniffed by magic).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use evtx::EvtxParser;
use rayon::prelude::*;
use vigie_event::read::evtx::parser_settings;
use vigie_event::{read_input, Format, InputFile, ReadOptions};

#[derive(Clone, Copy, PartialEq)]
enum Render {
    Value,
    Json,
    Xml,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Files,
    Chunks,
}

fn main() -> ExitCode {
    let mut mode = Mode::Files;
    let mut via_reader = false;
    let mut render = Render::Value;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reader" => via_reader = true,
            "--render" => match args.next().as_deref() {
                Some("value") => render = Render::Value,
                Some("json") => render = Render::Json,
                Some("xml") => render = Render::Xml,
                other => {
                    eprintln!("--render takes value, json or xml, not {other:?}");
                    return ExitCode::FAILURE;
                }
            },
            "--mode" => match args.next().as_deref() {
                Some("files") => mode = Mode::Files,
                Some("chunks") => mode = Mode::Chunks,
                other => {
                    eprintln!("--mode takes files or chunks, not {other:?}");
                    return ExitCode::FAILURE;
                }
            },
            _ => paths.push(PathBuf::from(a)),
        }
    }
    if paths.is_empty() {
        eprintln!(
            "usage: evtx_floor [--mode files|chunks] [--render value|json|xml] [--reader] <file-or-dir>..."
        );
        return ExitCode::FAILURE;
    }

    // Discovery is not timed: it is the same for vigie and is not parsing.
    let mut files = evtx_files(&paths);
    // Largest first, so a big file does not start last and run alone.
    files.sort_by_key(|(_, size)| std::cmp::Reverse(*size));

    let records = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let t0 = Instant::now();
    if via_reader {
        files.par_iter().for_each(|(p, size)| {
            let input = InputFile {
                path: p.clone(),
                name: p.to_string_lossy().as_ref().into(),
                format: Format::Evtx,
                gzip: false,
                size: *size,
            };
            let (mut n, mut e) = (0u64, 0u64);
            let opts = ReadOptions::default();
            if read_input(&input, &opts, &mut |_| n += 1, &mut |_| e += 1).is_err() {
                e += 1;
            }
            records.fetch_add(n, Ordering::Relaxed);
            errors.fetch_add(e, Ordering::Relaxed);
        });
    } else {
        let parse = |p: &PathBuf, threads: usize| {
            let (n, e) = parse_file(p, threads, render);
            records.fetch_add(n, Ordering::Relaxed);
            errors.fetch_add(e, Ordering::Relaxed);
        };
        match mode {
            Mode::Files => files.par_iter().for_each(|(p, _)| parse(p, 1)),
            Mode::Chunks => files.iter().for_each(|(p, _)| parse(p, 0)),
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let n = records.load(Ordering::Relaxed);
    println!(
        "records={n} errors={} seconds={secs:.3} records_per_s={:.0}",
        errors.load(Ordering::Relaxed),
        n as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}

/// Records and errors of one file, each rendered as asked and dropped as a reader would.
fn parse_file(path: &PathBuf, threads: usize, render: Render) -> (u64, u64) {
    let mut parser = match EvtxParser::from_path(path) {
        Ok(p) => p.with_configuration(parser_settings(threads)),
        Err(_) => return (0, 1),
    };
    match render {
        Render::Value => count(parser.records_json_value()),
        Render::Json => count(parser.records_json()),
        Render::Xml => count(parser.records()),
    }
}

/// Records and errors of one rendering, each record kept alive until counted.
fn count<T, E>(
    records: impl Iterator<Item = Result<evtx::SerializedEvtxRecord<T>, E>>,
) -> (u64, u64) {
    let (mut n, mut e) = (0, 0);
    for r in records {
        match r {
            Ok(rec) => {
                std::hint::black_box(&rec.data);
                n += 1
            }
            Err(_) => e += 1,
        }
    }
    (n, e)
}

/// Every file under `paths` that starts with the EVTX magic, with its size.
fn evtx_files(paths: &[PathBuf]) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    for p in paths {
        for entry in walkdir::WalkDir::new(p)
            .follow_links(true)
            .sort_by_file_name()
        {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_file() {
                continue;
            }
            let mut magic = [0u8; 8];
            let is_evtx = std::fs::File::open(entry.path())
                .and_then(|mut f| f.read_exact(&mut magic))
                .is_ok()
                && &magic == b"ElfFile\0";
            if is_evtx {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((entry.into_path(), size));
            }
        }
    }
    out
}
