//! `vigie exercise rank`: which single change cuts expected customer-hours most.
//!
//! Candidates ([`candidates`]) are single changes to the operator model or the detection
//! model ([`Change`]): EDR or MFA on an asset, one more log source shipped by an asset, a
//! rule for a technique no loaded rule covers, a patched vulnerability, a removed flow.
//! The baseline runs once; the candidates it reaches are screened
//! ([`candidates`]'s docs), each is checked not to be a no-op (same attack edges and
//! same detection on every step into an asset the baseline reaches), then each variant
//! is re-derived and simulated with the same [`SimConfig`] (same seed): common random
//! numbers make the per-sample difference to the baseline small in variance
//! ([`eval`]'s docs). Variants run in parallel; the result does not depend on the
//! thread count.

pub mod candidates;
mod change;
mod eval;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use vigie_model::{derive_attack_edges, AttackGraph, Model};
use vigie_sigma::RuleSet;

use crate::detection::{DetectionModel, DetectionTable};
use crate::run::SimConfig;
use crate::SimError;

pub use change::{Change, ChangeKind};
pub use eval::Paired;

/// What is ranked and how many are simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct RankOptions {
    /// Kinds of change tried (default: all).
    pub kinds: Vec<ChangeKind>,
    /// How many of the best changes the report keeps (default 10).
    pub top: usize,
    /// At most this many candidates are simulated, after screening (default 40).
    pub max_candidates: usize,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            kinds: ChangeKind::ALL.to_vec(),
            top: 10,
            max_candidates: 40,
        }
    }
}

/// What the ranking runs on: the baseline model and how its detection model is built
/// (variants that edit the model rebuild theirs the same way).
pub struct RankInput<'a> {
    pub model: &'a Model,
    pub rules: Option<&'a RuleSet>,
    pub table: &'a DetectionTable,
    pub config: &'a SimConfig,
}

/// A crown jewel's chance of being reached before detection, before and after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct JewelShift {
    pub id: String,
    /// Display name.
    pub name: String,
    pub before: f64,
    pub after: f64,
}

/// One simulated change.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub change: Change,
    /// Its screening score (see [`candidates`]).
    pub score: f64,
    /// Paired figures against the baseline.
    pub paired: Paired,
    /// Crown jewels whose p_reached_before_detection changes, largest drop first.
    pub crown_jewels: Vec<JewelShift>,
}

/// The ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankReport {
    pub seed: u64,
    pub samples: u64,
    pub horizon_hours: f64,
    /// Mean customer-hours of the baseline and its normal 95 % interval.
    pub baseline_customer_hours: f64,
    pub baseline_ci95: [f64; 2],
    /// Candidates of the requested kinds, before screening.
    pub enumerated: usize,
    /// Candidates touching only assets no baseline sample reaches.
    pub screened_out: usize,
    /// Candidates found to change nothing (same edges, same detection).
    pub no_ops: usize,
    /// Candidates left out by `max_candidates`.
    pub capped: usize,
    /// Candidates simulated.
    pub evaluated: usize,
    /// Of those, the ones no sample's customer-hours moved for (left out of `ranked`).
    pub no_effect: usize,
    /// The best `top` of them, largest reduction first.
    pub ranked: Vec<Ranked>,
}

/// A change applied: the variant's model and detection model.
pub struct Variant {
    pub model: Model,
    pub detection: DetectionModel,
}

/// Applies a change to the baseline: `None` when it does not apply (unknown id, nothing
/// to change).
pub fn variant_of(input: &RankInput<'_>, base: &DetectionModel, c: &Change) -> Option<Variant> {
    let model = c.apply(input.model)?;
    let detection = match c {
        Change::Rule { technique } => base.with_rule_for(technique),
        _ => DetectionModel::build(&model, input.rules, input.table),
    };
    Some(Variant { model, detection })
}

/// Ranks the candidates. `progress` is called with the number of variants simulated so
/// far (in no particular order of variants).
pub fn rank(
    input: &RankInput<'_>,
    opts: &RankOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RankReport, SimError> {
    let cfg = input.config;
    let pool = pool(cfg.threads)?;
    pool.install(|| rank_in_pool(input, opts, progress))
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, SimError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build()
        .map_err(|e| SimError::Invalid(format!("cannot start the worker threads: {e}")))
}

fn rank_in_pool(
    input: &RankInput<'_>,
    opts: &RankOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RankReport, SimError> {
    let cfg = input.config;
    let m = input.model;
    let dm = DetectionModel::build(m, input.rules, input.table);
    let graph = derive_attack_edges(&m.index());
    let base = eval::baseline(m, &dm, cfg)?;
    let n = cfg.samples.max(1) as f64;
    let reach: Vec<f64> = base.reached.iter().map(|&c| c as f64 / n).collect();
    let (uncovered, sources) = coverage(&dm, &graph);
    let used = used_edges(&graph, &base, n);
    let b = candidates::Baseline {
        model: m,
        graph: &graph,
        reach: &reach,
        uncovered: &uncovered,
        used: &used,
        sources: &sources,
    };
    let (cands, screened_out) = candidates::enumerate(&b, &opts.kinds);
    let enumerated = cands.len() + screened_out;
    let reached: FxHashSet<u32> = (0..m.assets.len() as u32)
        .filter(|&i| reach[i as usize] > 0.0)
        .collect();
    let mut chosen: Vec<(Change, f64, Variant)> = Vec::new();
    let mut no_ops = 0;
    let mut looked = 0;
    for (c, score) in cands.iter() {
        if chosen.len() >= opts.max_candidates {
            break;
        }
        looked += 1;
        match variant_of(input, &dm, c) {
            Some(v) if changes_something(m, &graph, &dm, &v, &reached) => {
                chosen.push((c.clone(), *score, v))
            }
            _ => no_ops += 1,
        }
    }
    let capped = cands.len() - looked;
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<(Change, f64, Paired), SimError>> = chosen
        .into_par_iter()
        .map(|(c, s, v)| {
            let p = eval::variant(&v.model, &v.detection, cfg, &base)?;
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            Ok((c, s, p))
        })
        .collect();
    let mut results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let evaluated = results.len();
    // Exactly the baseline in every sample: nothing to rank.
    results.retain(|r| !(r.2.reduction == 0.0 && r.2.sd == 0.0));
    let no_effect = evaluated - results.len();
    results.sort_by(|a, b| {
        b.2.reduction
            .total_cmp(&a.2.reduction)
            .then_with(|| a.0.cmp(&b.0))
    });
    let base_p = base_p_before(&base, eval::jewels(m).len(), n);
    let jewel_ids: Vec<(String, String)> = eval::jewels(m)
        .iter()
        .map(|&j| {
            let a = &m.assets[j as usize];
            (a.id.clone(), a.display_name().to_string())
        })
        .collect();
    let ranked = results
        .into_iter()
        .take(opts.top)
        .map(|(change, score, paired)| Ranked {
            crown_jewels: shifts(&jewel_ids, &base_p, &paired.p_before),
            change,
            score,
            paired,
        })
        .collect();
    let (mean, ci) = mean_ci(&base.cost);
    Ok(RankReport {
        seed: cfg.seed,
        samples: cfg.samples,
        horizon_hours: cfg.horizon_hours,
        baseline_customer_hours: mean,
        baseline_ci95: ci,
        enumerated,
        screened_out,
        no_ops,
        capped,
        evaluated,
        no_effect,
        ranked,
    })
}

/// Simulates one change against the baseline with `input.config` (the measured claim:
/// the top change rerun with another seed).
pub fn evaluate(input: &RankInput<'_>, change: &Change) -> Result<Paired, SimError> {
    let pool = pool(input.config.threads)?;
    pool.install(|| {
        let dm = DetectionModel::build(input.model, input.rules, input.table);
        let base = eval::baseline(input.model, &dm, input.config)?;
        let v = variant_of(input, &dm, change).ok_or_else(|| SimError::UnknownId {
            what: "change target",
            id: change.describe(),
        })?;
        eval::variant(&v.model, &v.detection, input.config, &base)
    })
}

/// The baseline's used edges with their frequencies and the flow that alone carries
/// each (see [`candidates::UsedEdge::cut_by`]).
fn used_edges(g: &AttackGraph, base: &eval::BaselineRun, n: f64) -> Vec<candidates::UsedEdge> {
    // Per (from, to, technique, rule): Some(flow) while every edge seen so far is carried
    // by that flow alone, None otherwise.
    let mut sole: FxHashMap<(u32, u32, &str, vigie_model::Rule), Option<u32>> =
        FxHashMap::default();
    for e in &g.edges {
        let this = match g.flows(e) {
            [f] => Some(*f),
            _ => None,
        };
        sole.entry((e.from, e.to, g.technique(e), e.rule))
            .and_modify(|s| {
                if *s != this {
                    *s = None;
                }
            })
            .or_insert(this);
    }
    base.used
        .iter()
        .map(|(from, to, technique, rule, count)| candidates::UsedEdge {
            from: *from,
            to: *to,
            technique: technique.clone(),
            rule: *rule,
            cut_by: sole
                .get(&(*from, *to, technique.as_str(), *rule))
                .copied()
                .flatten(),
            freq: *count as f64 / n,
        })
        .collect()
}

/// Techniques on the graph's edges that no loaded rule covers; and per technique the
/// telemetry names its counted rules read (a hypothetical `*` left out).
fn coverage(dm: &DetectionModel, g: &AttackGraph) -> (Vec<String>, FxHashMap<String, Vec<String>>) {
    let mut covered: FxHashSet<String> = FxHashSet::default();
    let mut sources: FxHashMap<String, Vec<String>> = FxHashMap::default();
    for t in dm.techniques() {
        if t.rules.is_empty() {
            continue;
        }
        let mut s: Vec<String> = t
            .rules
            .iter()
            .flat_map(|r| r.telemetry.iter())
            .filter(|s| s.as_str() != "*")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        s.sort();
        s.dedup();
        sources.insert(t.technique.clone(), s);
        covered.insert(t.technique);
    }
    let mut out: Vec<String> = g
        .techniques
        .iter()
        .filter(|t| !covered.contains(*t))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    (out, sources)
}

/// Whether a variant differs from the baseline in anything a sample can see: an attack
/// edge (added, removed, another distribution or flows), or the detection of a step
/// into an asset the baseline reaches.
fn changes_something(
    m: &Model,
    g: &AttackGraph,
    dm: &DetectionModel,
    v: &Variant,
    reached: &FxHashSet<u32>,
) -> bool {
    let g2 = derive_attack_edges(&v.model.index());
    if !candidates::same_edges(m, g, &v.model, &g2) {
        return true;
    }
    let mut seen: FxHashSet<(u32, u16)> = FxHashSet::default();
    g.edges.iter().any(|e| {
        if !reached.contains(&e.to) || !seen.insert((e.to, e.technique)) {
            return false;
        }
        let t = g.technique(e);
        let (a, b) = (
            dm.step(e.to as usize, t),
            v.detection.step(e.to as usize, t),
        );
        a.p.to_bits() != b.p.to_bits() || a.delay != b.delay || a.detectors != b.detectors
    })
}

fn base_p_before(base: &eval::BaselineRun, jewels: usize, n: f64) -> Vec<f64> {
    let mut c = vec![0u64; jewels];
    for s in &base.before {
        for &j in s {
            c[j as usize] += 1;
        }
    }
    c.iter().map(|&x| x as f64 / n).collect()
}

fn shifts(ids: &[(String, String)], before: &[f64], after: &[f64]) -> Vec<JewelShift> {
    let mut v: Vec<JewelShift> = ids
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|((id, name), (&before, &after))| JewelShift {
            id: id.clone(),
            name: name.clone(),
            before,
            after,
        })
        .collect();
    v.sort_by(|x, y| {
        (y.before - y.after)
            .total_cmp(&(x.before - x.after))
            .then_with(|| x.id.cmp(&y.id))
    });
    v
}

/// Mean and normal 95 % interval, summed in sample order.
fn mean_ci(x: &[f64]) -> (f64, [f64; 2]) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let half = 1.959_963_984_540_054 * var.sqrt() / n.sqrt();
    (mean, [mean - half, mean + half])
}
