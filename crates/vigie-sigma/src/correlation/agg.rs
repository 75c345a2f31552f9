//! Per-group aggregate state: sliding windows (eager firing) and fixed windows (decided
//! when they close). Every structure is capped; what a cap drops is counted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::def::CorrelationType;

/// The value an input carries into a correlation.
#[derive(Debug, Clone)]
pub(crate) enum ItemValue {
    None,
    /// Distinct-value key (`value_count`, `value_percentile`) and, for percentile, the
    /// original value to report.
    Key(String, Value),
    /// Numeric value (`value_sum`, `value_avg`).
    Num(f64),
}

/// One input to a correlation group.
#[derive(Debug)]
pub(crate) struct Item<'x> {
    /// Event time (microseconds), or the time an upstream correlation fired.
    pub ts: i64,
    /// Earliest event behind the input (an upstream hit's `first`).
    pub first: i64,
    /// Position in the correlation's `rules`.
    pub pos: usize,
    pub value: ItemValue,
    pub evidence: &'x [(Arc<str>, u64)],
}

/// Per-value state of `value_percentile`.
#[derive(Debug)]
pub(crate) struct PctValue {
    pub original: Value,
    pub count: u64,
    pub first: i64,
    pub last: i64,
    pub evidence: Vec<(Arc<str>, u64)>,
}

#[derive(Debug)]
pub(crate) enum Agg {
    // Sliding windows. Entries carry (ts, first).
    Count(VecDeque<(i64, i64)>),
    Distinct {
        /// key → (latest ts, its first).
        latest: HashMap<String, (i64, i64)>,
        /// (ts, key) in arrival order; may hold stale pairs, compacted when it doubles.
        order: VecDeque<(i64, String)>,
    },
    Sum {
        q: VecDeque<(i64, i64, f64)>,
        sum: f64,
    },
    /// Per rule position: latest (ts, first).
    Temporal(Vec<Option<(i64, i64)>>),
    /// `chain[k]`: (start ts, first) of the latest-starting in-order sequence of
    /// `rules[0..=k]`.
    Ordered(Vec<Option<(i64, i64)>>),
    // Fixed windows.
    FixedCount(u64),
    FixedDistinct(HashSet<String>),
    FixedSum {
        sum: f64,
        n: u64,
    },
    FixedPercentile {
        values: Vec<PctValue>,
        index: HashMap<String, usize>,
        total: u64,
    },
    FixedTemporal(Vec<bool>),
    /// Length of the in-order prefix of `rules` seen so far.
    FixedOrdered(usize),
}

/// Caps hit while adding (each unit is one entry or value dropped).
pub(crate) type Evicted = u64;

impl Agg {
    pub fn new(kind: CorrelationType, eager: bool, n_rules: usize) -> Agg {
        use CorrelationType as T;
        match (kind, eager) {
            (T::EventCount, true) => Agg::Count(VecDeque::new()),
            (T::ValueCount, true) => Agg::Distinct {
                latest: HashMap::new(),
                order: VecDeque::new(),
            },
            (T::ValueSum, true) => Agg::Sum {
                q: VecDeque::new(),
                sum: 0.0,
            },
            (T::Temporal, true) => Agg::Temporal(vec![None; n_rules]),
            (T::TemporalOrdered, true) => Agg::Ordered(vec![None; n_rules]),
            (T::EventCount, false) => Agg::FixedCount(0),
            (T::ValueCount, false) => Agg::FixedDistinct(HashSet::new()),
            (T::ValueSum | T::ValueAvg, _) => Agg::FixedSum { sum: 0.0, n: 0 },
            (T::ValuePercentile, _) => Agg::FixedPercentile {
                values: Vec::new(),
                index: HashMap::new(),
                total: 0,
            },
            (T::Temporal, false) => Agg::FixedTemporal(vec![false; n_rules]),
            (T::TemporalOrdered, false) => Agg::FixedOrdered(0),
        }
    }

    /// Drops sliding-window state older than `cutoff` (entries at `cutoff` stay: the
    /// window is inclusive). Returns whether nothing is left. Fixed windows ignore it.
    pub fn expire(&mut self, cutoff: i64) -> bool {
        match self {
            Agg::Count(q) => {
                while q.front().is_some_and(|e| e.0 < cutoff) {
                    q.pop_front();
                }
                q.is_empty()
            }
            Agg::Distinct { latest, order } => {
                while let Some((ts, _)) = order.front() {
                    if *ts >= cutoff {
                        break;
                    }
                    if let Some((ts, key)) = order.pop_front() {
                        if latest.get(&key).is_some_and(|(l, _)| *l == ts) {
                            latest.remove(&key);
                        }
                    }
                }
                latest.is_empty()
            }
            Agg::Sum { q, sum } => {
                while let Some(&(ts, _, v)) = q.front() {
                    if ts >= cutoff {
                        break;
                    }
                    *sum -= v;
                    q.pop_front();
                }
                if q.is_empty() {
                    // Clears rounding drift accumulated by subtraction.
                    *sum = 0.0;
                }
                q.is_empty()
            }
            Agg::Temporal(seen) | Agg::Ordered(seen) => {
                for s in seen.iter_mut() {
                    if s.is_some_and(|(ts, _)| ts < cutoff) {
                        *s = None;
                    }
                }
                seen.iter().all(Option::is_none)
            }
            _ => false,
        }
    }

    /// Adds one input. `cap` bounds entries / distinct values per group, `evidence_cap`
    /// the events remembered per percentile value.
    pub fn add(&mut self, it: &Item<'_>, cap: usize, evidence_cap: usize) -> Evicted {
        let mut evicted = 0;
        match self {
            Agg::Count(q) => {
                q.push_back((it.ts, it.first));
                while q.len() > cap {
                    q.pop_front();
                    evicted += 1;
                }
            }
            Agg::Distinct { latest, order } => {
                if let ItemValue::Key(k, _) = &it.value {
                    match latest.get_mut(k) {
                        Some(e) => *e = (it.ts, it.first),
                        None => {
                            latest.insert(k.clone(), (it.ts, it.first));
                        }
                    }
                    order.push_back((it.ts, k.clone()));
                    while latest.len() > cap {
                        // Forget the value seen longest ago.
                        let Some((ts, key)) = order.pop_front() else {
                            break;
                        };
                        if latest.get(&key).is_some_and(|(l, _)| *l == ts) {
                            latest.remove(&key);
                            evicted += 1;
                        }
                    }
                    if order.len() > 2 * latest.len() + 64 {
                        compact(latest, order);
                    }
                }
            }
            Agg::Sum { q, sum } => {
                if let ItemValue::Num(v) = it.value {
                    q.push_back((it.ts, it.first, v));
                    *sum += v;
                    while q.len() > cap {
                        if let Some((_, _, old)) = q.pop_front() {
                            *sum -= old;
                        }
                        evicted += 1;
                    }
                }
            }
            Agg::Temporal(seen) => {
                if let Some(s) = seen.get_mut(it.pos) {
                    *s = Some((it.ts, it.first));
                }
            }
            Agg::Ordered(chain) => {
                if it.pos == 0 {
                    if let Some(c) = chain.get_mut(0) {
                        *c = Some((it.ts, it.first));
                    }
                } else if let Some(Some(prev)) = chain.get(it.pos - 1).copied() {
                    if let Some(c) = chain.get_mut(it.pos) {
                        // Keep the sequence that started last: it stays in the window longest.
                        if c.is_none_or(|cur| prev.0 >= cur.0) {
                            *c = Some(prev);
                        }
                    }
                }
            }
            Agg::FixedCount(n) => *n += 1,
            Agg::FixedDistinct(set) => {
                if let ItemValue::Key(k, _) = &it.value {
                    if set.len() < cap || set.contains(k) {
                        set.insert(k.clone());
                    } else {
                        evicted += 1;
                    }
                }
            }
            Agg::FixedSum { sum, n } => {
                if let ItemValue::Num(v) = it.value {
                    *sum += v;
                    *n += 1;
                }
            }
            Agg::FixedPercentile {
                values,
                index,
                total,
            } => {
                if let ItemValue::Key(k, original) = &it.value {
                    *total += 1;
                    match index.get(k) {
                        Some(&i) => {
                            let v = &mut values[i];
                            v.count += 1;
                            v.last = it.ts;
                            v.first = v.first.min(it.first);
                            push_evidence(&mut v.evidence, it.evidence, evidence_cap);
                        }
                        None if values.len() < cap => {
                            index.insert(k.clone(), values.len());
                            let mut evidence = Vec::new();
                            push_evidence(&mut evidence, it.evidence, evidence_cap);
                            values.push(PctValue {
                                original: original.clone(),
                                count: 1,
                                first: it.first,
                                last: it.ts,
                                evidence,
                            });
                        }
                        // Still counted in `total`, so the shares of known values stay right.
                        None => evicted += 1,
                    }
                }
            }
            Agg::FixedTemporal(seen) => {
                if let Some(s) = seen.get_mut(it.pos) {
                    *s = true;
                }
            }
            Agg::FixedOrdered(progress) => {
                if it.pos == *progress {
                    *progress += 1;
                }
            }
        }
        evicted
    }

    /// The aggregate the condition is tested against (`value_avg` divides `FixedSum`).
    pub fn value(&self, kind: CorrelationType) -> f64 {
        match self {
            Agg::Count(q) => q.len() as f64,
            Agg::Distinct { latest, .. } => latest.len() as f64,
            Agg::Sum { sum, .. } => *sum,
            Agg::Temporal(seen) => seen.iter().filter(|s| s.is_some()).count() as f64,
            Agg::Ordered(chain) => chain
                .iter()
                .rposition(Option::is_some)
                .map_or(0.0, |k| (k + 1) as f64),
            Agg::FixedCount(n) => *n as f64,
            Agg::FixedDistinct(set) => set.len() as f64,
            Agg::FixedSum { sum, n } => {
                if kind == CorrelationType::ValueAvg {
                    if *n == 0 {
                        0.0
                    } else {
                        *sum / *n as f64
                    }
                } else {
                    *sum
                }
            }
            // Per value; see `Correlator`.
            Agg::FixedPercentile { .. } => f64::NAN,
            Agg::FixedTemporal(seen) => seen.iter().filter(|s| **s).count() as f64,
            Agg::FixedOrdered(p) => *p as f64,
        }
    }

    /// Earliest `first` among the sliding-window entries that make the aggregate.
    pub fn first(&self) -> Option<i64> {
        match self {
            Agg::Count(q) => q.iter().map(|e| e.1).min(),
            Agg::Distinct { latest, .. } => latest.values().map(|e| e.1).min(),
            Agg::Sum { q, .. } => q.iter().map(|e| e.1).min(),
            Agg::Temporal(seen) => seen.iter().flatten().map(|e| e.1).min(),
            Agg::Ordered(chain) => chain.iter().rev().flatten().map(|e| e.1).next(),
            _ => None,
        }
    }

    /// Entries held (the unit of [`super::Limits::max_entries_total`]); the small fixed
    /// per-group state of the temporal and numeric types counts as nothing.
    pub fn len(&self) -> usize {
        match self {
            Agg::Count(q) => q.len(),
            Agg::Distinct { order, .. } => order.len(),
            Agg::Sum { q, .. } => q.len(),
            Agg::FixedDistinct(s) => s.len(),
            Agg::FixedPercentile { values, .. } => values.len(),
            Agg::Temporal(_)
            | Agg::Ordered(_)
            | Agg::FixedCount(_)
            | Agg::FixedSum { .. }
            | Agg::FixedTemporal(_)
            | Agg::FixedOrdered(_) => 0,
        }
    }

    /// Whether the group holds no input (a fixed group that only saw inputs without a
    /// usable value).
    pub fn is_empty(&self) -> bool {
        match self {
            Agg::FixedCount(n) => *n == 0,
            Agg::FixedDistinct(s) => s.is_empty(),
            Agg::FixedSum { n, .. } => *n == 0,
            Agg::FixedPercentile { total, .. } => *total == 0,
            Agg::FixedTemporal(s) => s.iter().all(|x| !x),
            Agg::FixedOrdered(p) => *p == 0,
            _ => false,
        }
    }
}

/// Rebuilds the arrival queue from the live keys (one pair per key, oldest first).
fn compact(latest: &HashMap<String, (i64, i64)>, order: &mut VecDeque<(i64, String)>) {
    let mut live: Vec<(i64, String)> = latest.iter().map(|(k, (ts, _))| (*ts, k.clone())).collect();
    live.sort_unstable();
    order.clear();
    order.extend(live);
}

/// Appends evidence up to `cap` items, keeping the earliest.
pub(crate) fn push_evidence(dst: &mut Vec<(Arc<str>, u64)>, src: &[(Arc<str>, u64)], cap: usize) {
    let room = cap.saturating_sub(dst.len());
    dst.extend(src.iter().take(room).cloned());
}
