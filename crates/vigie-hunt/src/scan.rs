//! Matching the events of one input: sequentially, or in batches spread over the pool so
//! one big file (a large Security.evtx, stdin) uses every thread too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vigie_event::{read_input, Event, InputFile, ReadError, ReadErrorKind, ReadOptions};
use vigie_sigma::RuleSet;

use crate::session::{Found, SessionOptions, SessionWorker};
use crate::HuntOptions;

/// Events per batch handed to another thread: large enough that spawning is noise,
/// small enough that a few batches in flight stay a few MB.
const BATCH: usize = 256;
/// Batches in flight per input and thread before the reading thread matches a batch
/// itself: the back-pressure that keeps memory flat when reading outruns matching.
const IN_FLIGHT_PER_THREAD: usize = 4;

/// Session workers shared by the pool's threads; a thread takes one for a file or a
/// batch and gives it back.
pub(crate) struct Workers<'r> {
    rules: &'r RuleSet,
    options: &'r SessionOptions,
    free: Mutex<Vec<SessionWorker<'r>>>,
}

impl<'r> Workers<'r> {
    pub(crate) fn new(rules: &'r RuleSet, options: &'r SessionOptions) -> Self {
        Workers {
            rules,
            options,
            free: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> SessionWorker<'r> {
        // A poisoned lock only means another thread panicked while pushing/popping; the
        // vector itself is still valid.
        let popped = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        popped.unwrap_or_else(|| SessionWorker::new(self.rules, self.options))
    }

    fn give(&self, w: SessionWorker<'r>) {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }
}

/// A piece of one input's results, sent to the emitting thread as soon as it is ready so
/// that output streams and detections are not all held until the input ends. Parts of
/// one input are numbered 0, 1, ...; the last one carries the input's counts.
pub(crate) struct Part {
    /// Input index (discovery order).
    pub index: usize,
    /// Part number within the input.
    pub seq: usize,
    pub found: Found,
    /// Set on the input's last part.
    pub tail: Option<FileTail>,
}

/// An input's counts, known once it is read.
#[derive(Default)]
pub(crate) struct FileTail {
    pub events: u64,
    pub outside_window: u64,
    pub bytes: u64,
    /// Damaged records by reason.
    pub record_errors: BTreeMap<ReadErrorKind, u64>,
    /// The first few damaged records, to list.
    pub listed: Vec<ReadError>,
    /// The input could not be read at all.
    pub failed: Option<ReadError>,
}

/// Numbers and sends the parts of one input.
struct Parts<'s> {
    index: usize,
    seq: usize,
    send: &'s (dyn Fn(Part) + Sync),
}

impl Parts<'_> {
    fn part(&mut self, found: Found) {
        if found.is_empty() {
            return;
        }
        self.push(found, None);
    }

    fn push(&mut self, found: Found, tail: Option<FileTail>) {
        (self.send)(Part {
            index: self.index,
            seq: self.seq,
            found,
            tail,
        });
        self.seq += 1;
    }
}

fn match_batch(workers: &Workers<'_>, events: &[Event]) -> Found {
    let mut w = workers.take();
    let mut found = Found::default();
    for ev in events {
        w.match_event(ev, &mut found);
    }
    workers.give(w);
    found
}

/// Reads one input and matches its events, sending results as [`Part`]s through `send`.
/// With `threads > 1`, events go in batches to the current rayon pool; parts are sent in
/// event order either way.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_file(
    workers: &Workers<'_>,
    input: &InputFile,
    index: usize,
    opts: &HuntOptions,
    read_opts: &ReadOptions,
    threads: usize,
    send: &(dyn Fn(Part) + Sync),
) {
    let mut parts = Parts {
        index,
        seq: 0,
        send,
    };
    let mut tail = FileTail::default();
    let FileTail {
        events,
        outside_window,
        record_errors,
        listed,
        ..
    } = &mut tail;
    let mut on_error = |err: ReadError| {
        *record_errors.entry(err.kind).or_insert(0) += 1;
        if listed.len() < opts.max_listed_errors {
            listed.push(err);
        }
    };
    let res = if threads <= 1 {
        let mut w = workers.take();
        // From stdin or a pipe, output follows the input live: one part per event that
        // yields something. From a file, parts of up to BATCH results: a part per
        // matching event costs a channel send and, on one core, two context switches.
        let live = input.path.as_os_str() == "-"
            || !std::fs::metadata(&input.path).is_ok_and(|md| md.is_file());
        let mut found = Found::default();
        let res = read_input(
            input,
            read_opts,
            &mut |ev| {
                *events += 1;
                if !workers.options.in_window(ev.timestamp) {
                    *outside_window += 1;
                    return;
                }
                w.match_event(&ev, &mut found);
                if live || found.detections.len() + found.observations.len() >= BATCH {
                    parts.part(std::mem::take(&mut found));
                }
            },
            &mut on_error,
        );
        parts.part(found);
        workers.give(w);
        res
    } else {
        let results: Mutex<BTreeMap<usize, Found>> = Mutex::new(BTreeMap::new());
        let in_flight = AtomicUsize::new(0);
        let limit = IN_FLIGHT_PER_THREAD * threads;
        let results_ref = &results;
        let in_flight_ref = &in_flight;
        let mut next_batch = 0usize;
        // Sends the batches that are done and next in order.
        let mut drain = |parts: &mut Parts<'_>| {
            let ready: Vec<Found> = {
                let mut map = results_ref.lock().unwrap_or_else(|e| e.into_inner());
                let mut ready = Vec::new();
                while let Some(f) = map.remove(&next_batch) {
                    next_batch += 1;
                    ready.push(f);
                }
                ready
            };
            for f in ready {
                parts.part(f);
            }
        };
        let res = rayon::in_place_scope(|s| {
            let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
            let mut n_batches = 0usize;
            let mut dispatch = |batch: Vec<Event>| {
                let idx = n_batches;
                n_batches += 1;
                if in_flight_ref.load(Ordering::Acquire) >= limit {
                    // Matching is behind: this thread matches instead of reading on.
                    let f = match_batch(workers, &batch);
                    results_ref
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(idx, f);
                    return;
                }
                in_flight_ref.fetch_add(1, Ordering::AcqRel);
                s.spawn(move |_| {
                    let f = match_batch(workers, &batch);
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
                    if !workers.options.in_window(ev.timestamp) {
                        *outside_window += 1;
                        return;
                    }
                    batch.push(ev);
                    if batch.len() == BATCH {
                        dispatch(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                        drain(&mut parts);
                    }
                },
                &mut on_error,
            );
            if !batch.is_empty() {
                dispatch(batch);
            }
            res
        });
        // The scope has joined every batch: all are in `results` now.
        drain(&mut parts);
        res
    };
    match res {
        Ok(stats) => tail.bytes = stats.bytes,
        Err(e) => tail.failed = Some(e),
    }
    parts.push(Found::default(), Some(tail));
}
