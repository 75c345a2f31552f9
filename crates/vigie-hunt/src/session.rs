//! The streaming detection session: push events, receive detections and correlation
//! hits, finish. It is the one place where matches become [`Detection`]s, where
//! `--level` and the time window apply, and where correlation inputs are fed; the file
//! pipeline of `vigie hunt` is built on it, and so are the coming `respond` and `serve`.
//!
//! A session has two halves, because matching is parallel and correlating is not:
//! - [`SessionWorker`]: one per thread, owns a [`Matcher`]; turns an event into a
//!   [`Found`] (detections to report, correlation inputs, counts). Pure per event.
//! - [`DetectionSession`]: single-threaded; takes what workers found, in input order
//!   ([`DetectionSession::absorb`]), feeds the correlator and hands detections and
//!   correlation hits out. [`DetectionSession::push`] does both halves for one event,
//!   for callers with one stream.
//!
//! Correlation order ([`CorrelationOrder`]): a live stream correlates on arrival (hits
//! come out as soon as they fire); a hunt over files holds correlation inputs until
//! [`DetectionSession::finish`] and feeds them in event-time order, ties broken by the
//! order they were absorbed, so the result depends on neither thread timing nor the
//! order in which files were given.
//!
//! Capture ([`SessionOptions::capture`]): consumers that need more of an event than the
//! fields a rule matched (entity extraction for `respond`) name the fields they want; a
//! worker then walks each event that yields a detection once ([`Event::visit_fields`])
//! and gives every detection of that event the values found
//! ([`Detection::context`]). Off by default, so `hunt` does no extra work.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashSet;
use serde_json::Value;
use vigie_event::Event;
use vigie_sigma::correlation::CorrelatorStats;
use vigie_sigma::{CorrelationHit, Level, Match, Matcher, Observation, RuleSet};

use crate::Detection;

/// When correlation inputs are fed to the correlator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CorrelationOrder {
    /// As they are absorbed: hits come out live (streams). Inputs older than one already
    /// fed are counted `out_of_order` by the correlator.
    #[default]
    Arrival,
    /// Held until [`DetectionSession::finish`], then fed sorted by event time (hunts
    /// over files, whose inputs are not in one time order).
    EventTime,
}

/// What a session reports and how it correlates.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Report only detections of this level or above (lower rules still feed
    /// correlations).
    pub min_level: Option<Level>,
    /// Only events at or after this time (events without a time are left out when a
    /// window is set).
    pub from: Option<DateTime<Utc>>,
    /// Only events at or before this time.
    pub to: Option<DateTime<Utc>>,
    pub correlation_order: CorrelationOrder,
    /// Event fields copied into each reported detection's [`Detection::context`]
    /// (`None`: nothing captured, no extra work per event).
    pub capture: Option<Arc<Capture>>,
}

/// A set of event field names to capture, by the names [`Event::visit_fields`] gives.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    names: FxHashSet<Arc<str>>,
}

impl Capture {
    pub fn new<I, S>(names: I) -> Capture
    where
        I: IntoIterator<Item = S>,
        S: Into<Arc<str>>,
    {
        Capture {
            names: names.into_iter().map(Into::into).collect(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<Arc<str>> {
        let mut v: Vec<Arc<str>> = self.names.iter().cloned().collect();
        v.sort();
        v
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The captured fields of `ev`, in walk order, the first value of each name only (a
    /// name given twice, e.g. by a System and an EventData child, keeps the first).
    pub fn collect(&self, ev: &Event, scratch: &mut String) -> Vec<(Arc<str>, Value)> {
        let mut out: Vec<(Arc<str>, Value)> = Vec::new();
        if self.names.is_empty() {
            return out;
        }
        ev.visit_fields(scratch, &mut |name, v| {
            if let Some(n) = self.names.get(name) {
                // A handful of names per event: a linear check beats a second set.
                if !out.iter().any(|(k, _)| Arc::ptr_eq(k, n)) {
                    out.push((n.clone(), v.clone()));
                }
            }
        });
        out
    }
}

impl SessionOptions {
    /// Whether an event with this time is inside the `from`/`to` window.
    pub fn in_window(&self, t: Option<DateTime<Utc>>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(t) = t else { return false };
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to)
    }

    fn reported(&self, level: Level) -> bool {
        self.min_level.is_none_or(|l| level >= l)
    }
}

/// What matching some events produced, in event order.
#[derive(Debug, Default)]
pub struct Found {
    /// Detections to report (reported rules at or above the level).
    pub detections: Vec<Detection>,
    /// Correlation inputs, in event order.
    pub observations: Vec<Observation>,
    /// Matches not reported because their rule is below the level.
    pub below_level: u64,
    /// Matches that feed a correlation but whose event has no time (not fed).
    pub untimed: u64,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.detections.is_empty()
            && self.observations.is_empty()
            && self.below_level == 0
            && self.untimed == 0
    }
}

/// The matching half of a session, one per thread.
pub struct SessionWorker<'r> {
    rules: &'r RuleSet,
    options: &'r SessionOptions,
    matcher: Matcher<'r>,
    buf: Vec<Match>,
    /// Path buffer of the capture walk.
    scratch: String,
}

impl<'r> SessionWorker<'r> {
    /// A worker over `rules`, reporting as `options` says.
    pub fn new(rules: &'r RuleSet, options: &'r SessionOptions) -> Self {
        SessionWorker {
            rules,
            options,
            matcher: rules.matcher(),
            buf: Vec::new(),
            scratch: String::new(),
        }
    }

    /// Matches one event (already inside the window: see [`SessionOptions::in_window`])
    /// and appends what it yields to `found`.
    pub fn match_event(&mut self, ev: &Event, found: &mut Found) {
        self.buf.clear();
        self.matcher.scan(ev, &mut self.buf);
        let first = found.detections.len();
        for m in self.buf.drain(..) {
            match self.rules.observe(&m, ev) {
                Some(o) => found.observations.push(o),
                None if ev.timestamp.is_none() && self.rules.feeds_correlation(m.rule) => {
                    found.untimed += 1
                }
                None => {}
            }
            let meta = self.rules.meta(m.rule);
            if !meta.report {
                continue;
            }
            if !self.options.reported(meta.level) {
                found.below_level += 1;
                continue;
            }
            found.detections.push(Detection::from_match(m, ev));
        }
        if let Some(capture) = &self.options.capture {
            if let Some((last, rest)) = found.detections[first..].split_last_mut() {
                let context = capture.collect(ev, &mut self.scratch);
                for d in rest {
                    d.context = context.clone();
                }
                last.context = context;
            }
        }
    }
}

/// Counts of a session: what it reported and what it left out, by reason.
#[derive(Debug, Clone, Default)]
pub struct SessionCounts {
    /// Events pushed (inside the window or not).
    pub events: u64,
    /// Events outside the window, or without a time when a window is set.
    pub outside_window: u64,
    /// Matches and correlation hits not reported because below the level.
    pub below_level: u64,
    /// Correlation inputs whose event had no time.
    pub untimed_matches: u64,
    /// Correlation hits reported.
    pub correlation_hits: u64,
}

/// The correlating half of a session (see the module docs).
pub struct DetectionSession<'r> {
    rules: &'r RuleSet,
    options: &'r SessionOptions,
    correlator: vigie_sigma::Correlator<'r>,
    /// `EventTime` order: inputs held until `finish`, with their absorb sequence.
    held: Vec<(u64, Observation)>,
    seq: u64,
    hits: Vec<CorrelationHit>,
    counts: SessionCounts,
    /// For `push`: the session's own matching half, made on first use.
    worker: Option<SessionWorker<'r>>,
    found: Found,
}

impl<'r> DetectionSession<'r> {
    pub fn new(rules: &'r RuleSet, options: &'r SessionOptions) -> Self {
        DetectionSession {
            rules,
            options,
            correlator: rules.correlator(),
            held: Vec::new(),
            seq: 0,
            hits: Vec::new(),
            counts: SessionCounts::default(),
            worker: None,
            found: Found::default(),
        }
    }

    /// A matching half for another thread; what it finds comes back through
    /// [`absorb`](Self::absorb).
    pub fn worker(&self) -> SessionWorker<'r> {
        SessionWorker::new(self.rules, self.options)
    }

    pub fn rules(&self) -> &'r RuleSet {
        self.rules
    }

    pub fn options(&self) -> &'r SessionOptions {
        self.options
    }

    /// Matches and correlates one event; its detections, then any correlation hits it
    /// completes (in `Arrival` order), are appended to `out`.
    pub fn push(&mut self, ev: &Event, out: &mut Vec<Detection>) {
        self.counts.events += 1;
        if !self.options.in_window(ev.timestamp) {
            self.counts.outside_window += 1;
            return;
        }
        let worker = self
            .worker
            .get_or_insert_with(|| SessionWorker::new(self.rules, self.options));
        worker.match_event(ev, &mut self.found);
        let found = std::mem::take(&mut self.found);
        self.absorb(found, out);
    }

    /// Counts events a caller read and filtered itself (the file pipeline counts per
    /// file, on the reading threads).
    pub fn count_events(&mut self, events: u64, outside_window: u64) {
        self.counts.events += events;
        self.counts.outside_window += outside_window;
    }

    /// Takes what a worker found, in input order: its detections go to `out`, its
    /// correlation inputs to the correlator (any hits follow in `out`) or, in
    /// `EventTime` order, are held until [`finish`](Self::finish).
    pub fn absorb(&mut self, found: Found, out: &mut Vec<Detection>) {
        self.counts.below_level += found.below_level;
        self.counts.untimed_matches += found.untimed;
        out.extend(found.detections);
        match self.options.correlation_order {
            CorrelationOrder::EventTime => {
                for o in found.observations {
                    self.held.push((self.seq, o));
                    self.seq += 1;
                }
            }
            CorrelationOrder::Arrival => {
                for o in found.observations {
                    self.correlator.push(o, &mut self.hits);
                }
                self.report_hits(out);
            }
        }
    }

    /// Feeds what is held, closes every open window, and appends the last hits to
    /// `out`; returns the session's counts and the correlator's.
    pub fn finish(mut self, out: &mut Vec<Detection>) -> (SessionCounts, CorrelatorStats) {
        let mut held = std::mem::take(&mut self.held);
        // Ties keep absorb order (input, then record), so the result does not depend on
        // thread timing.
        held.sort_by_key(|(seq, o)| (o.timestamp, *seq));
        for (_, o) in held {
            self.correlator.push(o, &mut self.hits);
            self.report_hits(out);
        }
        self.correlator.finish(&mut self.hits);
        self.report_hits(out);
        (self.counts, self.correlator.stats().clone())
    }

    fn report_hits(&mut self, out: &mut Vec<Detection>) {
        for h in self.hits.drain(..) {
            let meta = self.rules.meta(h.rule);
            if !meta.report {
                continue;
            }
            if !self.options.reported(meta.level) {
                self.counts.below_level += 1;
                continue;
            }
            self.counts.correlation_hits += 1;
            out.push(Detection::from_hit(h));
        }
    }
}
