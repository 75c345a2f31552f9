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
//! order in which files were given. A live service that must correlate in event time
//! without holding everything uses `Watermark`: inputs are buffered and fed in event
//! time order once the newest event time seen, minus an allowed lateness, has passed
//! them; an input older than that watermark arrives too late to be fed in order and is
//! counted ([`SessionCounts::late`]) instead of fed.
//!
//! Capture ([`SessionOptions::capture`]): consumers that need more of an event than the
//! fields a rule matched (entity extraction for `respond`) name the fields they want; a
//! worker then walks each event that yields a detection once ([`Event::visit_fields`])
//! and gives every detection of that event the values found
//! ([`Detection::context`]). Off by default, so `hunt` does no extra work.

use std::sync::Arc;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
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
    /// Buffered and fed in event-time order once the watermark (the newest event time
    /// seen minus `lateness`) reaches them; inputs older than the watermark are late:
    /// counted in [`SessionCounts::late`], not fed. What is still buffered is fed by
    /// [`DetectionSession::finish`]. With inputs in time order this gives the hits of
    /// `EventTime`, sooner.
    Watermark { lateness: TimeDelta },
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
    /// Matchers run on every event after the Sigma matcher (threat-intelligence
    /// indicators, `vigie-intel`); their matches name rules registered with
    /// [`RuleSet::add_external`] and are reported, levelled and captured like Sigma
    /// matches. Empty by default: no extra work per event.
    pub extra: Vec<Arc<dyn ExtraMatcher>>,
}

/// A matcher of events that is not the Sigma matcher: what it reports are
/// [`Match`]es of rules it registered in the session's [`RuleSet`] with
/// [`RuleSet::add_external`]. Shared by every worker thread, so `scan` takes `&self`
/// and whatever per-thread buffer it needs through `scratch`.
pub trait ExtraMatcher: Send + Sync + std::fmt::Debug {
    /// Appends the matches of `ev` to `out`. `scratch` is a per-worker buffer the
    /// matcher may use for field paths; it is not cleared between calls.
    fn scan(&self, ev: &Event, scratch: &mut String, out: &mut Vec<Match>);
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
        for extra in &self.options.extra {
            extra.scan(ev, &mut self.scratch, &mut self.buf);
        }
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
    /// Correlation inputs older than the watermark when they arrived (`Watermark`
    /// order): not fed.
    pub late: u64,
}

/// What one [`DetectionSession::push_counted`] did with the event's correlation inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Inputs fed or buffered to be fed (the event takes part in correlation).
    pub correlation_inputs: u32,
    /// Inputs behind the watermark, counted late and not fed.
    pub late: u32,
}

/// The correlating half of a session (see the module docs).
pub struct DetectionSession<'r> {
    rules: &'r RuleSet,
    options: &'r SessionOptions,
    correlator: vigie_sigma::Correlator<'r>,
    /// `EventTime` order: inputs held until `finish`, with their absorb sequence.
    held: Vec<(u64, Observation)>,
    seq: u64,
    /// `Watermark` order: inputs waiting for the watermark, by (event time, sequence).
    buffered: BTreeMap<(DateTime<Utc>, u64), Observation>,
    /// `Watermark` order: the newest event time seen.
    newest: Option<DateTime<Utc>>,
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
            buffered: BTreeMap::new(),
            newest: None,
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
        self.push_counted(ev, out);
    }

    /// [`push`](Self::push), telling what became of the event's correlation inputs (a
    /// service keeps the events that feed correlations, to rebuild the state later).
    /// In `Watermark` order the event's time moves the watermark, whether or not it
    /// matched anything.
    pub fn push_counted(&mut self, ev: &Event, out: &mut Vec<Detection>) -> Pushed {
        self.counts.events += 1;
        if !self.options.in_window(ev.timestamp) {
            self.counts.outside_window += 1;
            return Pushed::default();
        }
        let worker = self
            .worker
            .get_or_insert_with(|| SessionWorker::new(self.rules, self.options));
        worker.match_event(ev, &mut self.found);
        let found = std::mem::take(&mut self.found);
        let late = self.counts.late;
        let inputs = found.observations.len() as u32;
        // The event's own time counts before its inputs are judged, so an input is
        // never late against itself.
        self.note_time(ev.timestamp);
        self.absorb(found, out);
        let late = (self.counts.late - late) as u32;
        Pushed {
            correlation_inputs: inputs - late,
            late,
        }
    }

    /// Moves the watermark to an event time seen (`Watermark` order; nothing
    /// otherwise). Inputs the new watermark passes are fed on the next
    /// [`absorb`](Self::absorb) or [`push`](Self::push).
    pub fn note_time(&mut self, t: Option<DateTime<Utc>>) {
        if let (CorrelationOrder::Watermark { .. }, Some(t)) = (self.options.correlation_order, t) {
            if self.newest.is_none_or(|n| t > n) {
                self.newest = Some(t);
            }
        }
    }

    /// [`note_time`](Self::note_time), then feeds what the watermark now passes (hits
    /// to `out`): a service restoring its saved newest time after replaying its inputs.
    pub fn advance_to(&mut self, t: Option<DateTime<Utc>>, out: &mut Vec<Detection>) {
        self.note_time(t);
        self.release(out);
    }

    /// The watermark: the newest event time seen minus the allowed lateness (`None`
    /// before any time, or outside `Watermark` order). Inputs at or before it have been
    /// fed; inputs older than it are late.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        match self.options.correlation_order {
            CorrelationOrder::Watermark { lateness } => self
                .newest
                .map(|n| n.checked_sub_signed(lateness).unwrap_or(n)),
            _ => None,
        }
    }

    /// The newest event time seen (`Watermark` order), to save and restore with
    /// [`note_time`](Self::note_time) across restarts.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        self.newest
    }

    /// The session's counts so far.
    pub fn counts(&self) -> &SessionCounts {
        &self.counts
    }

    /// The correlator's counters so far.
    pub fn correlator_stats(&self) -> &CorrelatorStats {
        self.correlator.stats()
    }

    /// Correlation inputs buffered behind the watermark.
    pub fn buffered(&self) -> usize {
        self.buffered.len()
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
            CorrelationOrder::Watermark { .. } => {
                for o in found.observations {
                    // An input newer than every event noted moves the watermark too
                    // (callers of `absorb` need not call `note_time`).
                    self.note_time(Some(o.timestamp));
                    if self.watermark().is_some_and(|w| o.timestamp < w) {
                        self.counts.late += 1;
                        continue;
                    }
                    self.buffered.insert((o.timestamp, self.seq), o);
                    self.seq += 1;
                }
                self.release(out);
            }
        }
    }

    /// Feeds the buffered inputs the watermark has passed, in event-time order (ties in
    /// absorb order).
    fn release(&mut self, out: &mut Vec<Detection>) {
        let Some(w) = self.watermark() else { return };
        while let Some(entry) = self.buffered.first_entry() {
            if entry.key().0 > w {
                break;
            }
            let o = entry.remove();
            self.correlator.push(o, &mut self.hits);
            self.report_hits(out);
        }
    }

    /// Feeds what is held, closes every open window, and appends the last hits to
    /// `out`; returns the session's counts and the correlator's.
    pub fn finish(mut self, out: &mut Vec<Detection>) -> (SessionCounts, CorrelatorStats) {
        self.newest = None;
        for (_, o) in std::mem::take(&mut self.buffered) {
            self.correlator.push(o, &mut self.hits);
            self.report_hits(out);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use vigie_sigma::LoadOptions;

    const FAILED: &str = "title: Failed logon
id: 00000000-0000-0000-0000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection:
    sel: {EventID: 4625}
    condition: sel
level: low
";
    const MANY: &str = "title: Many failed logons
id: 00000000-0000-0000-0000-000000000002
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 10m
    condition: {gte: 3}
level: high
";

    fn rules() -> RuleSet {
        let (rules, report) = RuleSet::load_files(
            &[("failed.yml", FAILED), ("many.yml", MANY)],
            &LoadOptions::default(),
        );
        assert!(report.refused.is_empty(), "{:?}", report.refused);
        rules
    }

    fn event(n: u64, secs: i64, user: &str) -> Event {
        let t = DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time");
        Event::new(
            Arc::from("test"),
            n,
            json!({"Event": {"System": {"EventID": 4625, "Channel": "Security",
                "Computer": "h", "EventRecordID": n,
                "TimeCreated": {"#attributes": {"SystemTime": t.to_rfc3339()}}},
                "EventData": {"TargetUserName": user}}}),
        )
    }

    /// (first, last, group, value) of every correlation hit, in order.
    fn hits(rules: &RuleSet, order: CorrelationOrder, events: &[Event]) -> Vec<String> {
        let opts = SessionOptions {
            correlation_order: order,
            ..SessionOptions::default()
        };
        let mut s = DetectionSession::new(rules, &opts);
        let mut out = Vec::new();
        for e in events {
            s.push(e, &mut out);
        }
        let (counts, _) = s.finish(&mut out);
        assert_eq!(counts.late, 0);
        out.iter()
            .filter_map(|d| d.correlation.as_ref())
            .map(|c| format!("{} {} {:?} {}", c.first, c.last, c.group, c.value))
            .collect()
    }

    #[test]
    fn watermark_feeds_behind_and_counts_late() {
        let rules = rules();
        let opts = SessionOptions {
            correlation_order: CorrelationOrder::Watermark {
                lateness: TimeDelta::seconds(30),
            },
            ..SessionOptions::default()
        };
        let mut s = DetectionSession::new(&rules, &opts);
        let mut out = Vec::new();
        // Three failures within 10 minutes; the third only fires once time has moved
        // 30 s past it.
        for (n, t) in [(1, 0), (2, 60), (3, 120)] {
            let p = s.push_counted(&event(n, t, "bob"), &mut out);
            assert_eq!(
                p,
                Pushed {
                    correlation_inputs: 1,
                    late: 0
                }
            );
        }
        assert!(!out.iter().any(|d| d.is_correlation()), "not yet: {out:?}");
        assert_eq!(s.buffered(), 1, "the third waits for the watermark");
        assert_eq!(
            s.watermark(),
            DateTime::from_timestamp(1_800_000_090, 0),
            "newest (120 s) minus 30 s"
        );
        // Another account's event 40 s later moves the watermark past the third.
        s.push_counted(&event(4, 160, "eve"), &mut out);
        assert_eq!(out.iter().filter(|d| d.is_correlation()).count(), 1);
        // 125 s is 5 s behind the watermark (130 s): late, counted, not fed.
        let p = s.push_counted(&event(5, 125, "eve"), &mut out);
        assert_eq!(
            p,
            Pushed {
                correlation_inputs: 0,
                late: 1
            }
        );
        // 135 s is behind the newest time but inside the allowed lateness: fed.
        let p = s.push_counted(&event(6, 135, "eve"), &mut out);
        assert_eq!(
            p,
            Pushed {
                correlation_inputs: 1,
                late: 0
            }
        );
        assert_eq!(s.counts().late, 1);
        assert_eq!(s.newest(), DateTime::from_timestamp(1_800_000_160, 0));
        let (counts, stats) = s.finish(&mut out);
        assert_eq!(counts.late, 1);
        assert_eq!(stats.out_of_order, 0, "the correlator saw time order only");
    }

    #[test]
    fn restoring_the_newest_time_restores_the_watermark() {
        let rules = rules();
        let opts = SessionOptions {
            correlation_order: CorrelationOrder::Watermark {
                lateness: TimeDelta::seconds(30),
            },
            ..SessionOptions::default()
        };
        let mut s = DetectionSession::new(&rules, &opts);
        s.note_time(DateTime::from_timestamp(1_800_000_100, 0));
        let mut out = Vec::new();
        let p = s.push_counted(&event(1, 60, "bob"), &mut out);
        assert_eq!(p.late, 1, "60 s is behind the restored watermark (70 s)");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// In time order, buffering behind a watermark changes when hits come out,
        /// never which.
        #[test]
        fn in_order_watermark_equals_event_time(
            steps in proptest::collection::vec((0i64..400, 0usize..3), 0..60),
            lateness in 0i64..900,
        ) {
            let rules = rules();
            let users = ["ann", "bob", "eve"];
            let mut t = 0;
            let events: Vec<Event> = steps
                .iter()
                .enumerate()
                .map(|(i, (gap, u))| {
                    t += gap;
                    event(i as u64 + 1, t, users[*u])
                })
                .collect();
            let a = hits(&rules, CorrelationOrder::EventTime, &events);
            let b = hits(
                &rules,
                CorrelationOrder::Watermark { lateness: TimeDelta::seconds(lateness) },
                &events,
            );
            prop_assert_eq!(a, b);
        }
    }
}
