//! Aggregation of samples into the report, in sample order.
//!
//! A chunk keeps its samples' floats in sample order and counts the rest; chunks are merged
//! in order, so every sum runs over the same numbers in the same order whatever the thread
//! count (integer counts commute anyway).

use rustc_hash::FxHashMap;

use super::compile::{Compiled, NONE};
use super::sample::Scratch;
use super::{
    Ci95, CostReport, EdgeReport, ExerciseReport, FirstDetection, JewelReport, PathReport,
    SimConfig, TimeStats, TtdReport, TOP_EDGES, TOP_PATHS,
};
use crate::dist::{wilson95, Z95};

/// What a run of consecutive samples contributes.
pub(crate) struct Chunk {
    reached: Vec<u64>,
    before: Vec<u64>,
    /// Per crown jewel, its compromise times, in sample order.
    times: Vec<Vec<f64>>,
    ttd: Vec<f64>,
    cost: Vec<f64>,
    contain: Vec<f64>,
    restore: Vec<f64>,
    paths: FxHashMap<Vec<u32>, u64>,
    edges: FxHashMap<u32, u64>,
    detectors: FxHashMap<u32, u64>,
    path_buf: Vec<u32>,
}

impl Chunk {
    pub fn new(c: &Compiled, samples: u64) -> Chunk {
        let j = c.jewels.len();
        Chunk {
            reached: vec![0; j],
            before: vec![0; j],
            times: vec![Vec::new(); j],
            ttd: Vec::new(),
            cost: Vec::with_capacity(samples as usize),
            contain: Vec::with_capacity(samples as usize),
            restore: Vec::with_capacity(samples as usize),
            paths: FxHashMap::default(),
            edges: FxHashMap::default(),
            detectors: FxHashMap::default(),
            path_buf: Vec::new(),
        }
    }

    /// Add the sample just simulated in `s`, priced (ch, rh) when containment is on.
    pub fn add(&mut self, c: &Compiled, s: &Scratch, ch: f64, rh: f64) {
        for &v in &s.settled {
            let t = s.time[v as usize];
            let pred = s.pred[v as usize];
            if pred != NONE && t <= s.stop {
                *self.edges.entry(pred).or_insert(0) += 1;
            }
            let k = c.jewel_of[v as usize];
            if k == NONE {
                continue;
            }
            let k = k as usize;
            self.reached[k] += 1;
            self.times[k].push(t);
            if s.detected_at.is_none_or(|d| t < d) {
                self.before[k] += 1;
            }
            self.path_buf.clear();
            let mut n = v;
            self.path_buf.push(n);
            // Predecessor chains end at a start; the bound guards a malformed tree.
            while s.pred[n as usize] != NONE && self.path_buf.len() <= c.nodes {
                n = c.edge_from[s.pred[n as usize] as usize];
                self.path_buf.push(n);
            }
            self.path_buf.reverse();
            match self.paths.get_mut(self.path_buf.as_slice()) {
                Some(count) => *count += 1,
                None => {
                    self.paths.insert(self.path_buf.clone(), 1);
                }
            }
        }
        if let Some(d) = s.detected_at {
            self.ttd.push(d);
        }
        if let Some(det) = s.first_detector {
            *self.detectors.entry(det).or_insert(0) += 1;
        }
        self.cost.push(ch + rh);
        self.contain.push(ch);
        self.restore.push(rh);
    }
}

fn ci(p: (f64, f64)) -> Ci95 {
    Ci95 {
        low: p.0,
        high: p.1,
    }
}

/// Nearest-rank p-quantile of sorted values (non-empty).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = (p * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Mean ± 1.96 s/√n (the mean itself below two values).
fn mean_ci(v: &[f64], m: f64) -> Ci95 {
    if v.len() < 2 {
        return Ci95 { low: m, high: m };
    }
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
    let half = Z95 * (var / v.len() as f64).sqrt();
    Ci95 {
        low: m - half,
        high: m + half,
    }
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

fn time_stats(v: &[f64]) -> Option<TimeStats> {
    if v.is_empty() {
        return None;
    }
    let s = sorted(v);
    Some(TimeStats {
        mean: mean(v),
        p5: quantile(&s, 0.05),
        p50: quantile(&s, 0.50),
        p95: quantile(&s, 0.95),
    })
}

fn concat(parts: &[Chunk], f: impl Fn(&Chunk) -> &Vec<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| f(p).len()).sum());
    for p in parts {
        out.extend_from_slice(f(p));
    }
    out
}

fn merge<K: Clone + Eq + std::hash::Hash>(
    parts: &[Chunk],
    f: impl Fn(&Chunk) -> &FxHashMap<K, u64>,
) -> Vec<(K, u64)> {
    let mut m: FxHashMap<K, u64> = FxHashMap::default();
    for p in parts {
        for (k, &v) in f(p) {
            *m.entry(k.clone()).or_insert(0) += v;
        }
    }
    m.into_iter().collect()
}

pub(crate) fn report(c: &Compiled, cfg: &SimConfig, parts: Vec<Chunk>) -> ExerciseReport {
    let n = cfg.samples;
    let share = |k: u64| k as f64 / n as f64;
    let id = |v: u32| c.graph.node_ids[v as usize].clone();
    let crown_jewels = c
        .jewels
        .iter()
        .enumerate()
        .map(|(k, &j)| {
            let reached: u64 = parts.iter().map(|p| p.reached[k]).sum();
            let before: u64 = parts.iter().map(|p| p.before[k]).sum();
            JewelReport {
                id: id(j),
                asset: j,
                reached,
                p_reached: share(reached),
                p_reached_ci95: ci(wilson95(reached, n)),
                reached_before_detection: before,
                p_reached_before_detection: share(before),
                p_reached_before_detection_ci95: ci(wilson95(before, n)),
                ttc_hours: time_stats(&concat(&parts, |p| &p.times[k])),
            }
        })
        .collect();
    let ttd = concat(&parts, |p| &p.ttd);
    let detected = ttd.len() as u64;
    let ttd_hours = TtdReport {
        detected,
        p_detected: share(detected),
        p_detected_ci95: ci(wilson95(detected, n)),
        hours: time_stats(&ttd),
        mean_ci95: (!ttd.is_empty()).then(|| mean_ci(&ttd, mean(&ttd))),
    };
    let customer_hours = cfg.containment.then(|| {
        let cost = concat(&parts, |p| &p.cost);
        let m = mean(&cost);
        let s = sorted(&cost);
        CostReport {
            mean: m,
            mean_ci95: mean_ci(&cost, m),
            p5: quantile(&s, 0.05),
            p50: quantile(&s, 0.50),
            p95: quantile(&s, 0.95),
            p99: quantile(&s, 0.99),
            containment_mean: mean(&concat(&parts, |p| &p.contain)),
            restore_mean: mean(&concat(&parts, |p| &p.restore)),
        }
    });
    let mut paths: Vec<(Vec<String>, u64)> = merge(&parts, |p| &p.paths)
        .into_iter()
        .map(|(nodes, k)| (nodes.into_iter().map(id).collect(), k))
        .collect();
    paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    paths.truncate(TOP_PATHS);
    let mut edges = merge(&parts, |p| &p.edges);
    edges.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    edges.truncate(TOP_EDGES);
    let mut dets = merge(&parts, |p| &p.detectors);
    dets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ExerciseReport {
        seed: cfg.seed,
        samples: n,
        horizon_hours: cfg.horizon_hours,
        entry: cfg.entry.clone(),
        containment: cfg.containment,
        crown_jewels,
        ttd_hours,
        customer_hours,
        paths: paths
            .into_iter()
            .map(|(nodes, count)| PathReport {
                nodes,
                count,
                share: share(count),
            })
            .collect(),
        edges: edges
            .into_iter()
            .filter_map(|(e, count)| {
                let info = c.edge_info(e)?;
                Some(EdgeReport {
                    from: info.from_id.to_string(),
                    to: info.to_id.to_string(),
                    technique: info.technique.to_string(),
                    rule: info.rule,
                    count,
                    share: share(count),
                })
            })
            .collect(),
        first_detecting_rules: dets
            .into_iter()
            .map(|(detector, count)| FirstDetection {
                detector,
                count,
                share: share(count),
            })
            .collect(),
    }
}
