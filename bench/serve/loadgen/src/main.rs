//! `loadgen`: the client side of `bench/serve-vs-rsigma.sh`.
//!
//! - `convert --out F INPUT...`: EVTX files / JSON lines (files or directories) to the
//!   flat corpus (see `corpus`).
//! - `emit --corpus F --t0 T --events N [--batch B]`: the first N events of the stream, on stdout.
//! - `throughput --addr H:P --ingest PATH --corpus F --t0 T --seconds S --batch B
//!   --conns C [--seq-start N] [--drain-metric NAME]`: closed loop for S seconds; with
//!   `--drain-metric` it then waits until that Prometheus counter reaches the accepted
//!   count (a server that acknowledges before processing).
//! - `paced ... --rate R --poll PATH [--rss-pid PID --rss-every S] [--grace S]`: open
//!   loop at R events/s, detection visibility probe, RSS samples.
//!
//! Prints one JSON object on stdout.

mod corpus;
mod http;
mod run;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main(args: &[String]) -> Result<(), String> {
    let (cmd, rest) = args
        .split_first()
        .ok_or("usage: loadgen convert|emit|throughput|paced ...")?;
    let (opts, free) = parse(rest)?;
    let get = |k: &str| opts.get(k).cloned().ok_or(format!("--{k} is required"));
    let num = |k: &str, d: f64| -> Result<f64, String> {
        opts.get(k).map_or(Ok(d), |v| {
            v.parse().map_err(|_| format!("--{k}: not a number: {v}"))
        })
    };
    if cmd == "convert" {
        let inputs: Vec<PathBuf> = free.iter().map(PathBuf::from).collect();
        let s = corpus::convert(&PathBuf::from(get("out")?), &inputs).map_err(|e| e.to_string())?;
        eprintln!(
            "loadgen convert: {} records from {} files ({} damaged records and {} unreadable files skipped, {} untimed)",
            s.records, s.files, s.bad_records, s.unreadable_files, s.untimed
        );
        return Ok(());
    }
    let corpus =
        Arc::new(corpus::Corpus::load(&PathBuf::from(get("corpus")?)).map_err(|e| e.to_string())?);
    let t0 = num("t0", 0.0)? as i64;
    if cmd == "emit" {
        let mut out = String::new();
        let per_second = num("batch", 500.0)? as u64;
        corpus.emit(
            t0,
            per_second,
            0,
            num("events", corpus.records.len() as f64)? as u64,
            &mut out,
        );
        print!("{out}");
        return Ok(());
    }
    let common = Arc::new(run::Common {
        addr: get("addr")?,
        ingest: opts
            .get("ingest")
            .cloned()
            .unwrap_or("/api/v1/events".into()),
        corpus,
        t0,
        seconds: num("seconds", 60.0)?,
        batch: num("batch", 500.0)? as u64,
        conns: num("conns", 4.0)?.max(1.0) as u64,
        backoff_ms: num("backoff-ms", 100.0)? as u64,
    });
    let out = match cmd.as_str() {
        "throughput" => run::throughput(
            common,
            num("seq-start", 0.0)? as u64,
            opts.get("drain-metric").cloned(),
        ),
        "paced" => run::paced(
            common,
            run::Paced {
                rate: num("rate", 1000.0)?,
                poll: opts
                    .get("poll")
                    .cloned()
                    .unwrap_or("/api/v1/detections?limit=1000".into()),
                rss_pid: opts.get("rss-pid").and_then(|p| p.parse().ok()),
                rss_every: num("rss-every", 5.0)?,
                grace: num("grace", 5.0)?,
            },
        ),
        other => return Err(format!("unknown command {other}")),
    };
    println!("{out}");
    Ok(())
}

type Parsed = (HashMap<String, String>, Vec<String>);

fn parse(args: &[String]) -> Result<Parsed, String> {
    let (mut opts, mut free) = (HashMap::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(k) = a.strip_prefix("--") {
            let v = it.next().ok_or(format!("--{k} needs a value"))?;
            opts.insert(k.to_string(), v.clone());
        } else {
            free.push(a.clone());
        }
    }
    Ok((opts, free))
}
