//! Respond: detections in, incidents with their decisions out. Pure orchestration of the
//! phases of this crate (observe → group → decide → notify) over detections a
//! [`vigie_hunt::DetectionSession`] produced; the binary drives the hunt and prints.
//!
//! Order: incidents come out by first time seen then id, their detections by time, then
//! source, record and rule, unresolved entities by kind then value, so the result does
//! not depend on the order inputs were given or on the thread count.

use std::time::Instant;

use chrono::{DateTime, Utc};
use vigie_model::Model;
use vigie_response::Graph;

use crate::decide::{DecideError, DecideOptions, Decision};
use crate::group::{GroupOptions, GroupStats, GuardedEntity};
use crate::notify::{DecisionReports, NotificationInput, Thresholds};
use crate::{EntityKind, Incident, ObservedDetection};

/// What respond works on, built once per run.
pub struct Context<'a> {
    pub model: &'a Model,
    /// The response graph of `model` (`vigie_response::from_model`).
    pub graph: &'a Graph,
    /// The model's attack edges (`vigie_model::derive_attack_edges`).
    pub attack: &'a vigie_model::AttackGraph,
    pub thresholds: &'a Thresholds,
}

/// How respond groups and decides.
#[derive(Debug, Clone, Default)]
pub struct RespondOptions {
    pub group: GroupOptions,
    pub decide: DecideOptions,
    /// The time of awareness for the notification (default: per incident, its first high
    /// or critical detection).
    pub aware_at: Option<DateTime<Utc>>,
}

/// Groups observed detections into incidents, decides on each and drafts its
/// notification.
pub fn respond_observed(
    cx: &Context<'_>,
    detections: Vec<ObservedDetection>,
    opts: &RespondOptions,
) -> Result<Respond, DecideError> {
    let mut timing = RespondTiming::default();
    let t = Instant::now();
    let grouping = crate::group::group(&detections, cx.model, cx.attack, &opts.group);
    timing.group_ms = ms_since(t);
    let t = Instant::now();
    let mut incidents = decide_all(cx.graph, grouping.incidents, &opts.decide)?;
    timing.decide_ms = ms_since(t);
    let t = Instant::now();
    for d in &mut incidents {
        let reports = DecisionReports {
            assess: d.decision.as_ref().map(|x| &x.assess),
            contain: d.decision.as_ref().and_then(|x| x.contain.as_ref()),
            restore: d.decision.as_ref().and_then(|x| x.restore.as_ref()),
        };
        let input = NotificationInput::from_reports(
            &d.incident,
            &detections,
            cx.model,
            reports,
            opts.aware_at,
        );
        d.notification = Some(crate::notify::notify(&input, cx.thresholds));
    }
    timing.notify_ms = ms_since(t);
    Ok(Respond {
        unresolved: unresolved_totals(&detections),
        detections,
        incidents,
        guarded: grouping.guarded,
        group_stats: grouping.stats,
        timing,
    })
}

/// One incident and what was decided on it.
#[derive(Debug, Clone)]
pub struct Decided {
    pub incident: Incident,
    /// None when no asset is judged compromised (nothing to decide on).
    pub decision: Option<Decision>,
    /// The regulator notification draft (NIS2 / GDPR).
    pub notification: Option<crate::notify::Notification>,
}

/// Wall-clock times of the phases after the hunt (reported under `summary.timing`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RespondTiming {
    pub observe_ms: f64,
    pub group_ms: f64,
    pub decide_ms: f64,
    pub notify_ms: f64,
}

/// What respond found.
#[derive(Debug, Clone, Default)]
pub struct Respond {
    /// Every detection with its entities; incidents refer to them by index.
    pub detections: Vec<ObservedDetection>,
    pub incidents: Vec<Decided>,
    /// Entities no asset holds, over all detections: (kind, value, count), by kind then
    /// value.
    pub unresolved: Vec<(EntityKind, String, u64)>,
    /// Entities the grouping guard stopped from linking.
    pub guarded: Vec<GuardedEntity>,
    pub group_stats: GroupStats,
    pub timing: RespondTiming,
}

/// Decides every incident and returns them by first time seen, then id. Each distinct
/// compromised set is decided once (the same input gives the same documents: incidents
/// with the same set share them, the later ones marked `reused` in their timing), the
/// sets side by side on `opts.threads` threads; what comes out depends on neither.
pub fn decide_all(
    g: &Graph,
    incidents: Vec<Incident>,
    opts: &DecideOptions,
) -> Result<Vec<Decided>, DecideError> {
    let mut out: Vec<Decided> = incidents
        .into_iter()
        .map(|incident| Decided {
            incident,
            decision: None,
            notification: None,
        })
        .collect();
    sort_incidents(&mut out);
    let mut sets: Vec<Vec<String>> = Vec::new();
    let mut index: rustc_hash::FxHashMap<Vec<String>, usize> = Default::default();
    let set_of: Vec<Option<usize>> = out
        .iter()
        .map(|d| {
            let set: Vec<String> = d
                .incident
                .compromised
                .iter()
                .map(|c| c.asset.clone())
                .collect();
            if set.is_empty() {
                return None;
            }
            Some(*index.entry(set.clone()).or_insert_with(|| {
                sets.push(set);
                sets.len() - 1
            }))
        })
        .collect();
    let decided = par_map(sets.len(), opts.threads, |k| {
        crate::decide::decide(g, &sets[k], opts)
    });
    let mut decisions: Vec<Decision> = Vec::with_capacity(decided.len());
    for d in decided {
        decisions.push(d?);
    }
    let mut used = vec![false; decisions.len()];
    for (d, k) in out.iter_mut().zip(set_of) {
        let Some(k) = k else { continue };
        let mut decision = decisions[k].clone();
        if used[k] {
            decision.timing = crate::decide::DecisionTiming {
                reused: true,
                ..Default::default()
            };
        }
        used[k] = true;
        let t = decision.timing;
        tracing::info!(
            id = %d.incident.id,
            reused = t.reused,
            assess_ms = t.assess_ms,
            contain_ms = t.contain_ms,
            restore_ms = t.restore_ms,
            total_ms = t.assess_ms + t.contain_ms + t.restore_ms,
            "incident decided"
        );
        d.decision = Some(decision);
    }
    Ok(out)
}

/// `f(0..n)` on up to `threads` threads (0: one per core), results in index order.
fn par_map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |t| t.get()),
        t => t,
    }
    .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= n {
                    return mine;
                }
                mine.push((k, f(k)));
            }
        };
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        for h in handles {
            // A worker that panicked leaves its slots empty: they are computed below.
            if let Ok(done) = h.join() {
                for (k, t) in done {
                    slots[k] = Some(t);
                }
            }
        }
    });
    slots
        .into_iter()
        .enumerate()
        .map(|(k, t)| t.unwrap_or_else(|| f(k)))
        .collect()
}

/// Incidents by first time seen (untimed last), then id.
pub fn sort_incidents(v: &mut [Decided]) {
    v.sort_by(|a, b| {
        let key = |d: &Decided| (d.incident.first_seen.is_none(), d.incident.first_seen);
        key(a)
            .cmp(&key(b))
            .then_with(|| a.incident.id.cmp(&b.incident.id))
    });
}

/// Every unresolved entity of `detections` (of the kinds that name assets) with how
/// many detections named it, by kind then value.
pub fn unresolved_totals(detections: &[ObservedDetection]) -> Vec<(EntityKind, String, u64)> {
    let mut counts = crate::UnresolvedCounts::new();
    for d in detections {
        counts.add(&d.entities);
    }
    counts.sorted()
}

/// Entities and rule facts of each detection, in the order given (see
/// [`crate::observe`]).
pub fn observe_all(
    rules: &vigie_sigma::RuleSet,
    mapping: &crate::EntityMapping,
    index: &vigie_model::IdentityIndex,
    detections: Vec<vigie_hunt::Detection>,
) -> Vec<ObservedDetection> {
    detections
        .into_iter()
        .map(|d| {
            let meta = rules.meta(d.rule);
            crate::observe(d, meta, mapping, index)
        })
        .collect()
}

/// The whole of respond after the hunt: observe, then [`respond_observed`].
pub fn respond(
    cx: &Context<'_>,
    rules: &vigie_sigma::RuleSet,
    mapping: &crate::EntityMapping,
    index: &vigie_model::IdentityIndex,
    detections: Vec<vigie_hunt::Detection>,
    opts: &RespondOptions,
) -> Result<Respond, DecideError> {
    let t = Instant::now();
    let observed = observe_all(rules, mapping, index, detections);
    let observe_ms = ms_since(t);
    let mut r = respond_observed(cx, observed, opts)?;
    r.timing.observe_ms = observe_ms;
    Ok(r)
}

/// Milliseconds since `t` (for [`RespondTiming`]).
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
