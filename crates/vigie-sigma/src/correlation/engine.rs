//! The streaming correlator: groups, windows, firing, chaining, memory caps.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::agg::{Agg, Item, ItemValue};
use super::compile::{Compiled, Corr};
use super::def::CorrelationType;
use super::key::{number, push_key_part};
use crate::{CorrelationHit, Observation};

/// Memory bounds of a [`Correlator`]. Whatever they drop is counted in
/// [`CorrelatorStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Live groups per correlation; beyond it the least recently active eighth is
    /// dropped (`evicted_groups`).
    pub max_groups: usize,
    /// Window entries (sliding windows) or distinct values (per group); beyond it the
    /// oldest entry is dropped, or a new distinct value ignored (`evicted`).
    pub max_entries: usize,
    /// `(source, record)` pairs kept per group and reported per hit.
    pub max_evidence: usize,
    /// Window entries and distinct values over all groups of all correlations; beyond
    /// it, the least recently active groups of the correlation being fed are dropped
    /// (`evicted_groups`). With the other limits this bounds memory to roughly
    /// `max_entries_total × (16 to ~150 bytes: timestamps cost least, distinct values
    /// most) + live groups × (max_evidence × 32 bytes + key)`.
    pub max_entries_total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_groups: 100_000,
            max_entries: 10_000,
            max_evidence: 32,
            max_entries_total: 4_000_000,
        }
    }
}

/// What the correlator did and what it had to leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CorrelatorStats {
    /// Observations pushed.
    pub observations: u64,
    /// Observations older than one already pushed; they were processed as if they
    /// happened at the latest time seen.
    pub out_of_order: u64,
    /// Inputs skipped because a group-by field was missing or null.
    pub missing_group_field: u64,
    /// Inputs skipped because the aggregated field was missing or null.
    pub missing_value_field: u64,
    /// `value_sum` / `value_avg` inputs skipped because the field was not a number.
    pub non_numeric_value: u64,
    /// Window entries or distinct values dropped by [`Limits::max_entries`].
    pub evicted: u64,
    /// Groups (with their windows, undecided) dropped by [`Limits::max_groups`].
    pub evicted_groups: u64,
    /// Hits reported (pushed to the output).
    pub hits: u64,
    /// Hits of correlations used only inside chains (not reported, fed downstream).
    pub intermediate_hits: u64,
    /// Most live groups seen at once, all correlations together.
    pub peak_groups: u64,
    /// Most window entries held at once (see [`Limits::max_entries_total`]).
    pub peak_entries: u64,
}

/// A fixed window to decide: (end, correlation, window seq, group key).
type Closing = (i64, usize, u64, Box<str>);

struct Group {
    /// Group-by values, for the hit.
    values: Vec<Value>,
    agg: Agg,
    /// (ts, source, record), most recent last.
    evidence: VecDeque<(i64, Arc<str>, u64)>,
    first: i64,
    last: i64,
    /// Fixed window identity, to skip stale closing entries.
    seq: u64,
}

#[derive(Default)]
struct CorrState {
    /// By group key: the group-by values as text (see `key::push_key_part`).
    groups: HashMap<Box<str>, Group>,
    /// Latest input time; inputs are clamped to it so windows only move forward.
    latest: i64,
    last_sweep: i64,
}

/// Runs compiled correlations over observations in event-time order.
///
/// Firing policy (see also ARCHITECTURE.md, correlation section):
/// - A condition made only of `gt`/`gte`, on a type whose aggregate grows with its window
///   (`event_count`, `value_count`, `value_sum`, `temporal`, `temporal_ordered`), is
///   tested on a *sliding* window (the group's inputs at most `timespan` older than the
///   newest one) each time an input arrives; when it holds, one hit is emitted and the
///   group's window is reset, so the same events never fire twice.
/// - Any other condition (with `lt`, `lte`, `eq`, `neq`), and every `value_avg` /
///   `value_percentile`, needs the whole window: a *fixed* window opens at the group's
///   first input, spans `timespan` (inclusive), and is decided when an input later than
///   its end arrives, or at [`Correlator::finish`].
pub struct Correlator<'a> {
    c: &'a Compiled,
    limits: Limits,
    states: Vec<CorrState>,
    /// Fixed windows by end time: (end, correlation, window seq, group key).
    closing: BinaryHeap<Reverse<Closing>>,
    next_seq: u64,
    now: i64,
    live_groups: u64,
    live_entries: usize,
    /// Reused group-key buffer.
    key_buf: String,
    stats: CorrelatorStats,
}

impl<'a> Correlator<'a> {
    /// A correlator with default [`Limits`].
    pub fn new(c: &'a Compiled) -> Self {
        Self::with_limits(c, Limits::default())
    }

    /// A correlator with explicit memory bounds (each at least 1).
    pub fn with_limits(c: &'a Compiled, limits: Limits) -> Self {
        let limits = Limits {
            max_groups: limits.max_groups.max(1),
            max_entries: limits.max_entries.max(1),
            max_evidence: limits.max_evidence,
            max_entries_total: limits.max_entries_total.max(1),
        };
        Correlator {
            c,
            limits,
            states: c
                .corrs
                .iter()
                .map(|_| CorrState {
                    latest: i64::MIN,
                    last_sweep: i64::MIN,
                    ..CorrState::default()
                })
                .collect(),
            closing: BinaryHeap::new(),
            next_seq: 0,
            now: i64::MIN,
            live_groups: 0,
            live_entries: 0,
            key_buf: String::new(),
            stats: CorrelatorStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &CorrelatorStats {
        &self.stats
    }

    /// Feeds one observation (timestamps must not decrease; an older one is counted in
    /// `out_of_order` and treated as happening now). Reported hits are appended to
    /// `out`, upstream hits of a chain before the hits they cause.
    pub fn push(&mut self, obs: Observation, out: &mut Vec<CorrelationHit>) {
        self.stats.observations += 1;
        let mut ts = obs.timestamp.timestamp_micros();
        if ts < self.now {
            self.stats.out_of_order += 1;
            ts = self.now;
        }
        self.now = ts;
        self.close_due(ts, out);
        let c = self.c;
        let Some(input) = c.inputs.get(&obs.rule) else {
            return;
        };
        let evidence = [(obs.source.clone(), obs.record)];
        let get = |i: usize| obs.values.get(i).and_then(Option::as_ref);
        for t in &input.targets {
            let corr = &c.corrs[t.corr];
            let mut key = std::mem::take(&mut self.key_buf);
            if self.group_key(&t.group, get, &mut key) {
                if let Some(value) = self.value_of(corr.kind, &t.value, get) {
                    let item = Item {
                        ts,
                        first: ts,
                        pos: t.pos,
                        value,
                        evidence: &evidence,
                    };
                    self.feed(t.corr, &key, &t.group, &get, item, out);
                }
            }
            self.key_buf = key;
        }
    }

    /// Decides every open fixed window (the data ends here) and emits their hits.
    /// Sliding windows hold nothing undecided: they fired as soon as they could.
    pub fn finish(&mut self, out: &mut Vec<CorrelationHit>) {
        while let Some(Reverse((_, ci, seq, key))) = self.closing.pop() {
            self.close(ci, seq, key, out);
        }
    }

    /// Writes the group key into `buf` (reused, so known groups cost no allocation);
    /// false (counted) when a group-by value is missing or null.
    fn group_key<'v>(
        &mut self,
        slots: &[usize],
        get: impl Fn(usize) -> Option<&'v Value>,
        buf: &mut String,
    ) -> bool {
        buf.clear();
        for &s in slots {
            if !get(s).is_some_and(|v| push_key_part(v, slots.len(), buf)) {
                self.stats.missing_group_field += 1;
                return false;
            }
        }
        true
    }

    fn value_of<'v>(
        &mut self,
        kind: CorrelationType,
        slots: &[usize],
        get: impl Fn(usize) -> Option<&'v Value>,
    ) -> Option<ItemValue> {
        if !kind.needs_field() {
            return Some(ItemValue::None);
        }
        let mut key = String::new();
        let mut original = None;
        for &s in slots {
            let Some(v) = get(s).filter(|v| !v.is_null()) else {
                self.stats.missing_value_field += 1;
                return None;
            };
            if matches!(kind, CorrelationType::ValueSum | CorrelationType::ValueAvg) {
                return match number(v) {
                    Some(n) => Some(ItemValue::Num(n)),
                    None => {
                        self.stats.non_numeric_value += 1;
                        None
                    }
                };
            }
            push_key_part(v, slots.len(), &mut key);
            if kind == CorrelationType::ValuePercentile && original.is_none() {
                original = Some(v.clone());
            }
        }
        Some(ItemValue::Key(key, original.unwrap_or(Value::Null)))
    }

    /// Adds one input to group `key` of correlation `ci` (group-by values read through
    /// `slots`/`get` only when the group is new) and fires if an eager condition holds.
    fn feed<'v>(
        &mut self,
        ci: usize,
        key: &str,
        slots: &[usize],
        get: &dyn Fn(usize) -> Option<&'v Value>,
        mut item: Item<'_>,
        out: &mut Vec<CorrelationHit>,
    ) {
        let c = self.c;
        let corr = &c.corrs[ci];
        let lim = self.limits;
        {
            let st = &mut self.states[ci];
            if item.ts < st.latest {
                item.ts = st.latest;
            }
            st.latest = item.ts;
        }
        item.first = item.first.min(item.ts);
        let cutoff = item.ts.saturating_sub(corr.timespan_us);
        if corr.eager && item.ts.saturating_sub(self.states[ci].last_sweep) >= corr.timespan_us {
            self.sweep(ci, cutoff);
            self.states[ci].last_sweep = item.ts;
        }
        if !self.states[ci].groups.contains_key(key) {
            if self.states[ci].groups.len() >= lim.max_groups {
                self.make_room(ci, cutoff, None);
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            if !corr.eager {
                self.closing.push(Reverse((
                    item.ts.saturating_add(corr.timespan_us),
                    ci,
                    seq,
                    Box::from(key),
                )));
            }
            let group = Group {
                values: slots.iter().filter_map(|&s| get(s).cloned()).collect(),
                agg: Agg::new(corr.kind, corr.eager, corr.n_rules),
                evidence: VecDeque::new(),
                first: item.first,
                last: item.ts,
                seq,
            };
            self.states[ci].groups.insert(Box::from(key), group);
            self.live_groups += 1;
            self.stats.peak_groups = self.stats.peak_groups.max(self.live_groups);
        }
        let st = &mut self.states[ci];
        let Some(group) = st.groups.get_mut(key) else {
            return;
        };
        let held = group.agg.len();
        if corr.eager {
            group.agg.expire(cutoff);
            while group.evidence.front().is_some_and(|e| e.0 < cutoff) {
                group.evidence.pop_front();
            }
        }
        self.stats.evicted += group.agg.add(&item, lim.max_entries, lim.max_evidence);
        self.live_entries = (self.live_entries + group.agg.len()).saturating_sub(held);
        self.stats.peak_entries = self.stats.peak_entries.max(self.live_entries as u64);
        group.first = group.first.min(item.first);
        group.last = group.last.max(item.ts);
        for (src, rec) in item.evidence {
            group.evidence.push_back((item.ts, src.clone(), *rec));
            if group.evidence.len() > lim.max_evidence {
                group.evidence.pop_front();
            }
        }
        if !corr.eager {
            if self.live_entries > lim.max_entries_total {
                self.make_room(ci, cutoff, Some(key));
            }
            return;
        }
        let v = group.agg.value(corr.kind);
        let over_budget = self.live_entries > lim.max_entries_total;
        if !corr.condition.holds(v) {
            if over_budget {
                self.make_room(ci, cutoff, Some(key));
            }
            return;
        }
        let first = group.agg.first().unwrap_or(item.ts);
        let Some(group) = self.remove_group(ci, key) else {
            return;
        };
        let hit = make_hit(
            corr,
            &group.values,
            None,
            v,
            first,
            item.ts,
            group.evidence.into_iter().map(|(_, s, r)| (s, r)).collect(),
        );
        self.emit(ci, hit, out);
    }

    /// Decides one fixed window if it is still the group's current one.
    fn close(&mut self, ci: usize, seq: u64, key: Box<str>, out: &mut Vec<CorrelationHit>) {
        let c = self.c;
        let corr = &c.corrs[ci];
        if self.states[ci]
            .groups
            .get(&*key)
            .is_none_or(|g| g.seq != seq)
        {
            return;
        }
        let Some(group) = self.remove_group(ci, &key) else {
            return;
        };
        if group.agg.is_empty() {
            return;
        }
        let mut hits = Vec::new();
        if let Agg::FixedPercentile { values, total, .. } = group.agg {
            for pv in values {
                let share = 100.0 * pv.count as f64 / total as f64;
                if corr.condition.holds(share) {
                    hits.push(make_hit(
                        corr,
                        &group.values,
                        Some(pv.original),
                        share,
                        pv.first,
                        pv.last,
                        pv.evidence,
                    ));
                }
            }
        } else {
            let v = group.agg.value(corr.kind);
            if corr.condition.holds(v) {
                hits.push(make_hit(
                    corr,
                    &group.values,
                    None,
                    v,
                    group.first,
                    group.last,
                    group.evidence.into_iter().map(|(_, s, r)| (s, r)).collect(),
                ));
            }
        }
        for h in hits {
            self.emit(ci, h, out);
        }
    }

    fn close_due(&mut self, now: i64, out: &mut Vec<CorrelationHit>) {
        while self.closing.peek().is_some_and(|Reverse(e)| e.0 < now) {
            if let Some(Reverse((_, ci, seq, key))) = self.closing.pop() {
                self.close(ci, seq, key, out);
            }
        }
    }

    /// Counts a hit, reports it if the correlation is reported, and feeds it to the
    /// correlations chained on it.
    fn emit(&mut self, ci: usize, hit: CorrelationHit, out: &mut Vec<CorrelationHit>) {
        let c = self.c;
        let corr = &c.corrs[ci];
        if corr.reported {
            self.stats.hits += 1;
            out.push(hit.clone());
        } else {
            self.stats.intermediate_hits += 1;
        }
        let first = hit.first.timestamp_micros();
        let last = hit.last.timestamp_micros();
        let get = |i: usize| hit.group.get(i).map(|(_, v)| v);
        for t in &corr.downstream {
            let dc = &c.corrs[t.corr];
            // A fresh buffer: this runs inside `feed`, whose caller holds `key_buf`.
            let mut key = String::new();
            if !self.group_key(&t.group, get, &mut key) {
                continue;
            }
            let Some(value) = self.value_of(dc.kind, &t.value, get) else {
                continue;
            };
            let item = Item {
                ts: last,
                first,
                pos: t.pos,
                value,
                evidence: &hit.events,
            };
            self.feed(t.corr, &key, &t.group, &get, item, out);
        }
    }

    /// Removes one group, keeping the live counts right.
    fn remove_group(&mut self, ci: usize, key: &str) -> Option<Group> {
        let g = self.states[ci].groups.remove(key)?;
        self.live_groups -= 1;
        self.live_entries = self.live_entries.saturating_sub(g.agg.len());
        Some(g)
    }

    /// Expires sliding windows and drops the groups left empty.
    fn sweep(&mut self, ci: usize, cutoff: i64) {
        let st = &mut self.states[ci];
        let before_groups = st.groups.len();
        let mut before = 0;
        let mut after = 0;
        st.groups.retain(|_, g| {
            before += g.agg.len();
            let empty = g.agg.expire(cutoff);
            after += g.agg.len();
            !empty
        });
        self.live_groups -= (before_groups - st.groups.len()) as u64;
        self.live_entries = (self.live_entries + after).saturating_sub(before);
    }

    /// Makes room (group cap or entry budget): first drops expired groups, then the
    /// least recently active eighth of this correlation's groups, never `keep`.
    fn make_room(&mut self, ci: usize, cutoff: i64, keep: Option<&str>) {
        if self.c.corrs[ci].eager {
            self.sweep(ci, cutoff);
        }
        let lim = self.limits;
        let st = &self.states[ci];
        if st.groups.len() < lim.max_groups && self.live_entries <= lim.max_entries_total {
            return;
        }
        let mut by_age: Vec<(i64, Box<str>)> = st
            .groups
            .iter()
            .filter(|(k, _)| keep.is_none_or(|kk| &***k != kk))
            .map(|(k, g)| (g.last, k.clone()))
            .collect();
        if by_age.is_empty() {
            return;
        }
        let n = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable(n - 1);
        for (_, k) in by_age.into_iter().take(n) {
            self.remove_group(ci, &k);
        }
        self.stats.evicted_groups += n as u64;
        // Dropped fixed windows leave stale closing entries; keep the heap proportional
        // to the live groups.
        if self.closing.len() > 2 * self.live_groups as usize + 1024 {
            let states = &self.states;
            self.closing.retain(|Reverse((_, ci, seq, key))| {
                states[*ci].groups.get(key).is_some_and(|g| g.seq == *seq)
            });
        }
        tracing::debug!(
            rule = ?self.c.corrs[ci].rule,
            dropped = n,
            "correlation memory cap reached; least recently active groups dropped"
        );
    }
}

fn to_time(us: i64) -> DateTime<Utc> {
    // Every microsecond count here comes from a valid DateTime (plus at most a timespan
    // capped at ten years), so the fallback is unreachable in practice.
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn make_hit(
    corr: &Corr,
    values: &[Value],
    extra: Option<Value>,
    value: f64,
    first: i64,
    last: i64,
    events: Vec<(Arc<str>, u64)>,
) -> CorrelationHit {
    let group = corr
        .outputs
        .iter()
        .cloned()
        .zip(values.iter().cloned().chain(extra))
        .collect();
    CorrelationHit {
        rule: corr.rule,
        first: to_time(first),
        last: to_time(last),
        group,
        value,
        events,
    }
}
