//! The pipeline: parallel per-file scan, in-order emission, then correlations.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use std::path::Path;
use vigie_event::{discover, InputFile, ReadError, ReadOptions};

use vigie_sigma::{LoadError, LoadOptions, LoadReport, Mapping, Placeholders, RuleSet};

use crate::progress::Progress;
use crate::scan::{scan_file, Part, Workers};
use crate::session::{CorrelationOrder, DetectionSession, Found, SessionOptions};
use crate::sink::Sink;
use crate::summary::RuleCounts;
use crate::{Detection, HuntError, HuntOptions, Summary};

/// Loads the rules, discovers the inputs and hunts them: what `vigie hunt` does.
/// Fatal: a rules / mapping / placeholders path that cannot be read, an input path that
/// does not exist, output that cannot be written. Everything else is counted in the
/// returned [`Summary`].
pub fn run(
    opts: &HuntOptions,
    inputs: &[std::path::PathBuf],
    sink: &mut dyn Sink,
) -> Result<Summary, HuntError> {
    for p in inputs {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            return Err(HuntError::MissingInput(p.clone()));
        }
    }
    let (files, errors) = discover(inputs);
    run_discovered(opts, &files, errors, sink)
}

/// [`run`] on inputs already discovered (e.g. with their display names changed).
/// Rules come from `opts.rules`, or from `opts.embedded_rules` when no path is given.
pub fn run_discovered(
    opts: &HuntOptions,
    files: &[InputFile],
    discover_errors: Vec<ReadError>,
    sink: &mut dyn Sink,
) -> Result<Summary, HuntError> {
    let (rules, report, load_s) = load_rules(opts)?;
    let mut summary = hunt(&rules, &report, files, discover_errors, opts, sink)?;
    summary.rules_load_s = load_s;
    Ok(summary)
}

/// The rules a hunt with `opts` uses (`opts.rules`, else `opts.embedded_rules`), their
/// load report (logged) and the seconds loading took: what [`run_discovered`] starts
/// with, for callers that add rules (indicators, [`RuleSet::add_external`]) before
/// calling [`hunt`].
pub fn load_rules(opts: &HuntOptions) -> Result<(RuleSet, LoadReport, f64), HuntError> {
    let t0 = Instant::now();
    let mut load = load_options(opts.mapping.as_deref(), opts.placeholders.as_deref())?;
    load.threads = opts.threads;
    let (rules, report) = if opts.rules.is_empty() {
        RuleSet::load_files(opts.embedded_rules, &load)
    } else {
        load.cache = opts.rules_cache.clone();
        RuleSet::load(&opts.rules, &load)?
    };
    let load_s = t0.elapsed().as_secs_f64();
    tracing::info!(
        "loaded {} rules in {load_s:.2} s ({} refused; compiled-rule cache: {:?})",
        rules.len(),
        report.refused.len(),
        report.cache
    );
    log_load_report(&report);
    Ok((rules, report, load_s))
}

/// Logs each rule warning and refusal at info (`file:line: kind: reason`); the summary
/// counts them, this says which.
pub fn log_load_report(report: &LoadReport) {
    for (what, list) in [("warning", &report.warnings), ("refused", &report.refused)] {
        for r in list {
            tracing::info!(
                "rule {what}: {}{}: {:?}: {}",
                r.file,
                r.line.map(|l| format!(":{l}")).unwrap_or_default(),
                r.kind,
                r.reason
            );
        }
    }
}

/// The rule-loading options a hunt implies: reads `--mapping` (default: the shipped
/// mapping) and `--placeholders`; either unreadable is fatal.
pub fn load_options(
    mapping: Option<&Path>,
    placeholders: Option<&Path>,
) -> Result<LoadOptions, LoadError> {
    Ok(LoadOptions {
        mapping: match mapping {
            Some(p) => Mapping::from_file(p)?,
            None => Mapping::default(),
        },
        placeholders: placeholders.map(Placeholders::from_file).transpose()?,
        ..LoadOptions::default()
    })
}

/// Result of scanning already-discovered inputs (the summary without rule load time).
pub type ScanResult = Result<Summary, HuntError>;

/// Hunts `inputs` with `rules`, writing detections to `sink` in deterministic order
/// (input order, then record order; correlation hits last, in event-time order).
/// `discover_errors` are paths `discover` could not open; they are counted as skipped.
pub fn hunt(
    rules: &RuleSet,
    report: &LoadReport,
    inputs: &[InputFile],
    discover_errors: Vec<ReadError>,
    opts: &HuntOptions,
    sink: &mut dyn Sink,
) -> ScanResult {
    let t0 = Instant::now();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("vigie-hunt-{i}"))
        .build()?;
    let bytes_read = Arc::new(AtomicU64::new(0));
    // One big file: let the EVTX parser use the threads inside it; many files: one
    // thread per file is cheaper than splitting each.
    let evtx_threads = if inputs.len() == 1 { threads } else { 1 };
    let read_opts = ReadOptions {
        evtx_threads,
        bytes_read: Some(bytes_read.clone()),
        syslog_zone: opts.syslog_zone.clone(),
    };
    let total: u64 = inputs.iter().map(|i| i.size).sum();
    let progress: &dyn Progress = opts
        .progress
        .as_deref()
        .unwrap_or(&crate::progress::NoProgress);
    progress.start(total);

    let mut summary = Summary::new(RuleCounts::from_report(report, rules.digest()), threads);
    let mut listed = 0usize;
    for e in discover_errors {
        *summary.files.skipped.entry(e.kind).or_insert(0) += 1;
        note_error(&mut listed, opts.max_listed_errors, &mut summary, &e);
    }

    let session_opts = SessionOptions {
        min_level: opts.min_level,
        from: opts.from,
        to: opts.to,
        correlation_order: CorrelationOrder::EventTime,
        capture: opts.capture.clone(),
        extra: opts.extra.clone(),
    };
    let mut session = DetectionSession::new(rules, &session_opts);
    let workers = Workers::new(rules, &session_opts);
    let mut out: Vec<Detection> = Vec::new();
    let cancel = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Part>();
    let mut write_error: Option<std::io::Error> = None;

    std::thread::scope(|s| {
        let cancel = &cancel;
        let read_opts = &read_opts;
        let workers = &workers;
        s.spawn(move || {
            pool.install(|| {
                inputs
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx.clone(), |tx, (index, input)| {
                        // The receiver only goes away once every sender is dropped, so a
                        // failed send cannot happen; nothing to do about it if it did.
                        let send = |p: Part| {
                            let _ = tx.send(p);
                        };
                        if cancel.load(Ordering::Relaxed) {
                            send(Part {
                                index,
                                seq: 0,
                                found: Found::default(),
                                tail: Some(Default::default()),
                            });
                            return;
                        }
                        // Matching a file's events in batches across the pool only
                        // pays when the file is a large share of the work; otherwise the
                        // other threads are busy with other files and batching is
                        // overhead.
                        let file_threads = if inputs.len() == 1
                            || input.size.saturating_mul(threads as u64) > total
                        {
                            threads
                        } else {
                            1
                        };
                        scan_file(workers, input, index, opts, read_opts, file_threads, &send);
                    })
            });
            drop(tx);
        });

        // Parts arrive in any order; they are written in (input, part) order.
        let mut pending: BTreeMap<(usize, usize), Part> = BTreeMap::new();
        let mut next = (0usize, 0usize);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(p) => {
                    pending.insert((p.index, p.seq), p);
                    while let Some(p) = pending.remove(&next) {
                        next = if p.tail.is_some() {
                            (next.0 + 1, 0)
                        } else {
                            (next.0, next.1 + 1)
                        };
                        if write_error.is_some() {
                            continue;
                        }
                        if let Err(e) = emit_part(
                            p,
                            &mut session,
                            &mut out,
                            sink,
                            &mut listed,
                            opts,
                            &mut summary,
                        ) {
                            cancel.store(true, Ordering::Relaxed);
                            write_error = Some(e);
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if write_error.is_none() {
                        if let Err(e) = sink.flush() {
                            cancel.store(true, Ordering::Relaxed);
                            write_error = Some(e);
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            progress.position(bytes_read.load(Ordering::Relaxed));
        }
    });
    progress.finish();
    if let Some(e) = write_error {
        return Err(HuntError::Output(e));
    }

    // Correlation hits, in event-time order, come last.
    let (counts, stats) = session.finish(&mut out);
    write_detections(&mut out, rules, sink, &mut summary)?;
    summary.below_level = counts.below_level;
    summary.correlations.untimed_matches = counts.untimed_matches;
    summary.correlation_hits = counts.correlation_hits;
    summary.correlations.stats = stats;
    sink.finish()?;

    summary.detections_total = summary.detections.values().sum();
    summary.scan_s = t0.elapsed().as_secs_f64();
    summary.events_per_s = if summary.scan_s > 0.0 {
        summary.events as f64 / summary.scan_s
    } else {
        0.0
    };
    Ok(summary)
}

fn note_error(listed: &mut usize, cap: usize, summary: &mut Summary, e: &ReadError) {
    if *listed < cap {
        *listed += 1;
        tracing::warn!("skipped {e}");
    } else {
        summary.errors_not_listed += 1;
    }
}

/// Writes one part's detections and hands its correlation inputs to the session; on
/// an input's last part, folds the input's counts into the summary. Main thread.
fn emit_part(
    p: Part,
    session: &mut DetectionSession<'_>,
    out: &mut Vec<Detection>,
    sink: &mut dyn Sink,
    listed: &mut usize,
    opts: &HuntOptions,
    summary: &mut Summary,
) -> std::io::Result<()> {
    session.absorb(p.found, out);
    write_detections(out, session.rules(), sink, summary)?;
    let Some(t) = p.tail else {
        return Ok(());
    };
    let cap = opts.max_listed_errors;
    match &t.failed {
        Some(e) => {
            *summary.files.skipped.entry(e.kind).or_insert(0) += 1;
            note_error(listed, cap, summary, e);
        }
        None => summary.files.read += 1,
    }
    session.count_events(t.events, t.outside_window);
    summary.events += t.events;
    summary.events_outside_window += t.outside_window;
    summary.bytes += t.bytes;
    let mut n_errors = 0;
    for (k, n) in &t.record_errors {
        *summary.records_skipped.entry(*k).or_insert(0) += n;
        n_errors += n;
    }
    for e in &t.listed {
        note_error(listed, cap, summary, e);
    }
    summary.errors_not_listed += n_errors - t.listed.len() as u64;
    Ok(())
}

/// Writes (and counts by level) the detections the session handed out.
fn write_detections(
    out: &mut Vec<Detection>,
    rules: &RuleSet,
    sink: &mut dyn Sink,
    summary: &mut Summary,
) -> std::io::Result<()> {
    for d in out.drain(..) {
        let meta = rules.meta(d.rule);
        *summary.detections.entry(meta.level).or_insert(0) += 1;
        sink.write(&d, meta)?;
    }
    Ok(())
}
