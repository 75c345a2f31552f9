//! Running the baseline and each variant on the same random numbers, and the paired
//! statistics that rank them.
//!
//! Sample `i` of a variant uses stream `(seed, i)` as the baseline does, and the engine
//! draws each step's numbers from a generator keyed by the step itself, so a step both
//! models share gets the same time and the same detection draw in both: the paired
//! difference `baseline_i − variant_i` only carries the change's effect (common random
//! numbers). Its mean is the reduction; its 95 % interval is normal
//! (mean ± 1.96·sd/√n over the paired differences).

use rayon::prelude::*;
use vigie_model::Model;

use crate::detection::DetectionModel;
use crate::run::{Exercise, SimConfig};
use crate::SimError;

/// Samples per parallel chunk: fixed (not per thread), so sums add up in one order
/// whatever the thread count and the output is byte-identical.
const CHUNK: u64 = 256;

/// 97.5 % quantile of the standard normal.
const Z95: f64 = 1.959_963_984_540_054;

/// What the baseline keeps of each sample.
pub(crate) struct BaselineRun {
    /// Customer-hours of sample i.
    pub cost: Vec<f64>,
    /// Crown-jewel slots (into `jewels`) reached strictly before detection, per sample.
    pub before: Vec<Vec<u32>>,
    /// Per asset index: samples in which it is compromised at the stop time (when
    /// containment happens).
    pub reached: Vec<u64>,
    /// Sample variance of `cost`.
    pub var: f64,
    /// Per engine edge that some sample takes at or before its stop time: (from, to,
    /// technique, rule) and how many samples do, in edge order.
    pub used: Vec<(u32, u32, String, vigie_model::Rule, u64)>,
}

/// Sample variance from Σx and Σx² over n values (0 below two values).
fn sample_var(s1: f64, s2: f64, n: f64) -> f64 {
    if n < 2.0 {
        return 0.0;
    }
    let mean = s1 / n;
    ((s2 - n * mean * mean) / (n - 1.0)).max(0.0)
}

/// Asset indexes of the crown jewels, in model order.
pub(crate) fn jewels(m: &Model) -> Vec<u32> {
    m.assets
        .iter()
        .enumerate()
        .filter(|(_, a)| a.crown_jewel)
        .map(|(i, _)| i as u32)
        .collect()
}

/// The crown-jewel slots a sample reaches strictly before its first detection (within
/// the horizon when nothing detects it): the engine's destroyed jewels.
fn before_detection(out: &crate::run::SampleOutcome, slot: &[u32], _horizon: f64) -> Vec<u32> {
    out.destroyed
        .iter()
        .filter_map(|&a| slot.get(a as usize).copied().filter(|&s| s != u32::MAX))
        .collect()
}

/// Asset index → crown-jewel slot (`u32::MAX` for the others).
fn slots(m: &Model, jewels: &[u32]) -> Vec<u32> {
    let mut s = vec![u32::MAX; m.assets.len()];
    for (k, &j) in jewels.iter().enumerate() {
        s[j as usize] = k as u32;
    }
    s
}

fn chunks(samples: u64) -> Vec<(u64, u64)> {
    (0..samples.div_ceil(CHUNK))
        .map(|c| (c * CHUNK, ((c + 1) * CHUNK).min(samples)))
        .collect()
}

/// One chunk of the baseline: costs, jewels before detection, reach and edge counts.
type ChunkRun = (Vec<f64>, Vec<Vec<u32>>, Vec<u64>, Vec<u64>);

/// Runs every baseline sample, keeping what the variants are compared to.
pub(crate) fn baseline(
    m: &Model,
    dm: &DetectionModel,
    cfg: &SimConfig,
) -> Result<BaselineRun, SimError> {
    let ex = Exercise::new(m, dm, cfg)?;
    let jw = jewels(m);
    let slot = slots(m, &jw);
    let n = m.assets.len();
    let ne = ex.edge_count();
    let parts: Vec<ChunkRun> = chunks(cfg.samples)
        .into_par_iter()
        .map(|(a, b)| {
            let mut cost = Vec::with_capacity((b - a) as usize);
            let mut before = Vec::with_capacity((b - a) as usize);
            let mut reached = vec![0u64; n];
            let mut used = vec![0u64; ne];
            for i in a..b {
                let o = ex.sample(i);
                cost.push(o.customer_hours);
                before.push(before_detection(&o, &slot, cfg.horizon_hours));
                for &ai in &o.compromised {
                    if let Some(r) = reached.get_mut(ai as usize) {
                        *r += 1;
                    }
                }
                for st in o.steps.iter().filter(|st| st.at <= o.stopped_at) {
                    if let Some(u) = used.get_mut(st.edge as usize) {
                        *u += 1;
                    }
                }
            }
            (cost, before, reached, used)
        })
        .collect();
    let mut run = BaselineRun {
        cost: Vec::with_capacity(cfg.samples as usize),
        before: Vec::with_capacity(cfg.samples as usize),
        reached: vec![0; n],
        var: 0.0,
        used: Vec::new(),
    };
    let mut used = vec![0u64; ne];
    for (c, b, r, u) in parts {
        run.cost.extend(c);
        run.before.extend(b);
        for (x, y) in run.reached.iter_mut().zip(r) {
            *x += y;
        }
        for (x, y) in used.iter_mut().zip(u) {
            *x += y;
        }
    }
    for (e, &count) in used.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if let Some(info) = ex.edge(e as u32) {
            run.used.push((
                info.from,
                info.to,
                info.technique.to_string(),
                info.rule,
                count,
            ));
        }
    }
    let (s1, s2) = run
        .cost
        .iter()
        .fold((0.0, 0.0), |(a, b), &c| (a + c, b + c * c));
    run.var = sample_var(s1, s2, run.cost.len() as f64);
    Ok(run)
}

/// A variant's paired figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// Mean of baseline − variant customer-hours.
    pub reduction: f64,
    /// Normal 95 % interval of `reduction` from the paired differences.
    pub ci95: [f64; 2],
    /// Standard deviation of the paired differences.
    pub sd: f64,
    /// What that standard deviation would be with independent random numbers:
    /// √(var(baseline) + var(variant)); the ratio measures what the pairing buys.
    pub sd_unpaired: f64,
    /// Mean customer-hours of the variant.
    pub customer_hours: f64,
    /// Per crown-jewel slot: the variant's p_reached_before_detection.
    pub p_before: Vec<f64>,
}

/// Runs every sample of a variant against the baseline's.
pub(crate) fn variant(
    m: &Model,
    dm: &DetectionModel,
    cfg: &SimConfig,
    base: &BaselineRun,
) -> Result<Paired, SimError> {
    let ex = Exercise::new(m, dm, cfg)?;
    let jw = jewels(m);
    let slot = slots(m, &jw);
    // (Σd, Σd², Σcost, Σcost², per-jewel counts) per chunk, added in chunk order.
    let parts: Vec<(f64, f64, f64, f64, Vec<u64>)> = chunks(cfg.samples)
        .into_par_iter()
        .map(|(a, b)| {
            let (mut sd, mut sd2, mut sc, mut sc2) = (0.0, 0.0, 0.0, 0.0);
            let mut jc = vec![0u64; jw.len()];
            for i in a..b {
                let o = ex.sample(i);
                let d = base.cost.get(i as usize).copied().unwrap_or(0.0) - o.customer_hours;
                sd += d;
                sd2 += d * d;
                sc += o.customer_hours;
                sc2 += o.customer_hours * o.customer_hours;
                for s in before_detection(&o, &slot, cfg.horizon_hours) {
                    jc[s as usize] += 1;
                }
            }
            (sd, sd2, sc, sc2, jc)
        })
        .collect();
    let (mut s1, mut s2, mut sc, mut sc2) = (0.0, 0.0, 0.0, 0.0);
    let mut jc = vec![0u64; jw.len()];
    for (a, b, c, c2, j) in parts {
        s1 += a;
        s2 += b;
        sc += c;
        sc2 += c2;
        for (x, y) in jc.iter_mut().zip(j) {
            *x += y;
        }
    }
    let n = cfg.samples.max(1) as f64;
    let mean = s1 / n;
    let sd = sample_var(s1, s2, n).sqrt();
    let sd_unpaired = (base.var + sample_var(sc, sc2, n)).sqrt();
    let half = Z95 * sd / n.sqrt();
    Ok(Paired {
        reduction: mean,
        ci95: [mean - half, mean + half],
        sd,
        sd_unpaired,
        customer_hours: sc / n,
        p_before: jc.iter().map(|&c| c as f64 / n).collect(),
    })
}
