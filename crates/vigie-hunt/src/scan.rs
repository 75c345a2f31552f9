//! Matching the events of one input: sequentially, or in batches spread over the pool so
//! one big file (a large Security.evtx, stdin) uses every thread too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vigie_event::{read_input, Event, InputFile, ReadError, ReadErrorKind, ReadOptions};
use vigie_sigma::{Match, Matcher, Observation, RuleId, RuleSet};

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
    /// `feeds[rule]`: matches of this rule feed a correlation.
    feeds: Vec<bool>,
}

impl<'r> Matchers<'r> {
    pub(crate) fn new(rules: &'r RuleSet) -> Self {
        Matchers {
            rules,
            free: Mutex::new(Vec::new()),
            feeds: feeding_rules(rules),
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

/// Which rules feed a correlation, indexed by rule id: `RuleSet::observe` answers `None`
/// both for a rule that feeds nothing and for an event without a time, and only the
/// second must be counted as an input left out.
fn feeding_rules(rules: &RuleSet) -> Vec<bool> {
    let mut feeds = vec![false; rules.len()];
    for id in rules.rule_ids() {
        if let Some(f) = feeds.get_mut(id.0 as usize) {
            *f = rules.feeds_correlation(id);
        }
    }
    feeds
}

fn feeds(feeds: &[bool], rule: RuleId) -> bool {
    feeds.get(rule.0 as usize).copied().unwrap_or(false)
}

/// What matching some events produced, in event order.
#[derive(Default)]
pub(crate) struct Found {
    pub detections: Vec<Detection>,
    /// Correlation inputs, in event order.
    pub observations: Vec<Observation>,
    /// Matches not reported because their rule is below `--level`.
    pub below_level: u64,
    /// Matches that feed a correlation but whose event has no time (not fed).
    pub untimed: u64,
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
        if found.detections.is_empty()
            && found.observations.is_empty()
            && found.below_level == 0
            && found.untimed == 0
        {
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

fn match_event(
    rules: &RuleSet,
    feeding: &[bool],
    (matcher, buf): &mut (Matcher<'_>, Vec<Match>),
    ev: &Event,
    opts: &HuntOptions,
    found: &mut Found,
) {
    buf.clear();
    matcher.scan(ev, buf);
    for m in buf.drain(..) {
        match rules.observe(&m, ev) {
            Some(o) => found.observations.push(o),
            None if ev.timestamp.is_none() && feeds(feeding, m.rule) => found.untimed += 1,
            None => {}
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
        match_event(rules, &matchers.feeds, &mut m, ev, opts, &mut found);
    }
    matchers.give(m);
    found
}

/// Reads one input and matches its events, sending results as [`Part`]s through `send`.
/// With `threads > 1`, events go in batches to the current rayon pool; parts are sent in
/// event order either way.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_file(
    rules: &RuleSet,
    matchers: &Matchers<'_>,
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
        let mut m = matchers.take();
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
                if !opts.in_window(ev.timestamp) {
                    *outside_window += 1;
                    return;
                }
                match_event(rules, &matchers.feeds, &mut m, &ev, opts, &mut found);
                if live || found.detections.len() + found.observations.len() >= BATCH {
                    parts.part(std::mem::take(&mut found));
                }
            },
            &mut on_error,
        );
        parts.part(found);
        matchers.give(m);
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
