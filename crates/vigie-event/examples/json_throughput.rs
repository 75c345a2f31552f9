//! JSON reading throughput on one core: `read_input` over one file, events/s.
//!
//! `cargo run --release -p vigie-event --example json_throughput -- FILE [RUNS]`
//!
//! Uses mimalloc like the `vigie` binary, since allocation is a large share of building
//! `serde_json::Value`s and the system allocator would mislead. Prints every run and the
//! best, plus two floors for the same bytes: splitting lines alone, and
//! `serde_json::from_slice` per line without `Event::new`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use vigie_event::read::{read_input, Format, InputFile, ReadOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: json_throughput FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let input = InputFile {
        name: Arc::from(path.display().to_string()),
        path: path.clone(),
        format: Format::JsonLines,
        gzip: false,
        size,
    };
    let opts = ReadOptions::default();
    let mut best = f64::MAX;
    let mut events = 0u64;
    for run in 0..runs {
        let start = Instant::now();
        let mut n = 0u64;
        let mut errors = 0u64;
        let stats = read_input(
            &input,
            &opts,
            &mut |e| {
                n += 1;
                std::hint::black_box(e);
            },
            &mut |_| errors += 1,
        );
        let secs = start.elapsed().as_secs_f64();
        if let Err(e) = stats {
            eprintln!("{e}");
            std::process::exit(1);
        }
        events = n;
        best = best.min(secs);
        println!(
            "run {run}: {n} events, {errors} errors, {secs:.3} s, {:.0} events/s, {:.0} MB/s",
            n as f64 / secs,
            size as f64 / secs / 1e6
        );
    }
    println!("best: {:.3} s, {:.0} events/s", best, events as f64 / best);
    if std::env::var_os("FLOORS").is_some() {
        floors(&path);
    }
}

/// Costs of the pieces, on the file in memory.
fn floors(path: &PathBuf) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let start = Instant::now();
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    println!(
        "split lines: {:.3} s ({lines})",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let mut ok = 0;
    for l in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(l) {
            ok += 1;
            std::hint::black_box(v);
        }
    }
    println!(
        "from_slice to Value: {:.3} s ({ok})",
        start.elapsed().as_secs_f64()
    );
}
