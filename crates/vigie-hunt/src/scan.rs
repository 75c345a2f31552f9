//! Matching the events of one input: sequentially, or in batches spread over the pool so
//! one big file (a large Security.evtx, stdin) uses every thread too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vigie_event::{read_input, Event, InputFile, ReadError, ReadErrorKind, ReadOptions};
use vigie_sigma::{Match, Matcher, Observation, RuleSet};

use crate::{Detection, HuntOptions};

/// Events per batch handed to another thread: large enough that spawning is noise,
/// small enough that a few batches in flight stay a few MB.
const BATCH: usize = 256;
/// Batches in flight per input and thread before the reading thread matches a batch
/// itself: the back-pressure that keeps memory flat when reading outruns matching.
const IN_FLIGHT_PER_THREAD: usize = 4;

/// Matchers (with their match buffers) shared by the pool's threads; a thread takes one
/// for a file or a batch and gives it back.
pub(crate) struct Matchers<'r> {
    rules: &'r RuleSet,
    free: Mutex<Vec<(Matcher<'r>, Vec<Match>)>>,
}

impl<'r> Matchers<'r> {
    pub(crate) fn new(rules: &'r RuleSet) -> Self {
        Matchers {
            rules,
            free: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> (Matcher<'r>, Vec<Match>) {
        // A poisoned lock only means another thread panicked while pushing/popping; the
        // vector itself is still valid.
        let popped = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        popped.unwrap_or_else(|| (self.rules.matcher(), Vec::new()))
    }

    fn give(&self, m: (Matcher<'r>, Vec<Match>)) {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).push(m);
    }
}

/// What matching some events produced, in event order.
#[derive(Default)]
pub(crate) struct Found {
    pub detections: Vec<Detection>,
    /// Correlation inputs, in event order.
    pub observations: Vec<Observation>,
    /// Matches not reported because their rule is below `--level`.
    pub below_level: u64,
}

impl Found {
    fn append(&mut self, mut other: Found) {
        self.detections.append(&mut other.detections);
        self.observations.append(&mut other.observations);
        self.below_level += other.below_level;
    }
}

/// Everything one input yields.
#[derive(Default)]
pub(crate) struct FileOutcome {
    pub index: usize,
    pub events: u64,
    pub outside_window: u64,
    pub bytes: u64,
    pub found: Found,
    /// Damaged records by reason.
    pub record_errors: BTreeMap<ReadErrorKind, u64>,
    /// The first few damaged records, to list.
    pub listed: Vec<ReadError>,
    /// The input could not be read at all.
    pub failed: Option<ReadError>,
}

fn match_event(
    rules: &RuleSet,
    (matcher, buf): &mut (Matcher<'_>, Vec<Match>),
    ev: &Event,
    opts: &HuntOptions,
    found: &mut Found,
) {
    buf.clear();
    matcher.scan(ev, buf);
    for m in buf.drain(..) {
        if let Some(o) = rules.observe(&m, ev) {
            found.observations.push(o);
        }
        let meta = rules.meta(m.rule);
        if !meta.report {
            continue;
        }
        if opts.min_level.is_some_and(|l| meta.level < l) {
            found.below_level += 1;
            continue;
        }
        found.detections.push(Detection::from_match(m, ev));
    }
}

fn match_batch(
    rules: &RuleSet,
    matchers: &Matchers<'_>,
    events: &[Event],
    opts: &HuntOptions,
) -> Found {
    let mut m = matchers.take();
    let mut found = Found::default();
    for ev in events {
        match_event(rules, &mut m, ev, opts, &mut found);
    }
    matchers.give(m);
    found
}

/// Reads one input and matches its events. With `threads > 1`, events go in batches to
/// the current rayon pool and results are put back in event order.
pub(crate) fn scan_file(
    rules: &RuleSet,
    matchers: &Matchers<'_>,
    input: &InputFile,
    opts: &HuntOptions,
    read_opts: &ReadOptions,
    threads: usize,
    out: &mut FileOutcome,
) {
    let FileOutcome {
        events,
        outside_window,
        found,
        record_errors,
        listed,
        ..
    } = out;
    let mut on_error = |err: ReadError| {
        *record_errors.entry(err.kind).or_insert(0) += 1;
        if listed.len() < opts.max_listed_errors {
            listed.push(err);
        }
    };
    let res = if threads <= 1 {
        let mut m = matchers.take();
        let res = read_input(
            input,
            read_opts,
            &mut |ev| {
                *events += 1;
                if !opts.in_window(ev.timestamp) {
                    *outside_window += 1;
                    return;
                }
                match_event(rules, &mut m, &ev, opts, found);
            },
            &mut on_error,
        );
        matchers.give(m);
        res
    } else {
        let results: Mutex<BTreeMap<usize, Found>> = Mutex::new(BTreeMap::new());
        let in_flight = AtomicUsize::new(0);
        let limit = IN_FLIGHT_PER_THREAD * threads;
        let results_ref = &results;
        let in_flight_ref = &in_flight;
        let res = rayon::in_place_scope(|s| {
            let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
            let mut n_batches = 0usize;
            let mut dispatch = |batch: Vec<Event>| {
                let idx = n_batches;
                n_batches += 1;
                if in_flight_ref.load(Ordering::Acquire) >= limit {
                    // Matching is behind: this thread matches instead of reading on.
                    let f = match_batch(rules, matchers, &batch, opts);
                    results_ref
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(idx, f);
                    return;
                }
                in_flight_ref.fetch_add(1, Ordering::AcqRel);
                s.spawn(move |_| {
                    let f = match_batch(rules, matchers, &batch, opts);
                    results_ref
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(idx, f);
                    in_flight_ref.fetch_sub(1, Ordering::AcqRel);
                });
            };
            let res = read_input(
                input,
                read_opts,
                &mut |ev| {
                    *events += 1;
                    if !opts.in_window(ev.timestamp) {
                        *outside_window += 1;
                        return;
                    }
                    batch.push(ev);
                    if batch.len() == BATCH {
                        dispatch(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                    }
                },
                &mut on_error,
            );
            if !batch.is_empty() {
                dispatch(batch);
            }
            res
        });
        // The scope has joined every batch: results hold them all, keyed by batch order.
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        for (_, f) in results {
            found.append(f);
        }
        res
    };
    match res {
        Ok(stats) => out.bytes = stats.bytes,
        Err(e) => out.failed = Some(e),
    }
}
