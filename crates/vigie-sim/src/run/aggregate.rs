//! Aggregation of samples into the report, in sample order.
//!
//! A chunk keeps its samples' floats in sample order and counts the rest; chunks are merged
//! in order, so every sum runs over the same numbers in the same order whatever the thread
//! count (integer counts commute anyway).

use rustc_hash::FxHashMap;

use super::compile::{Compiled, NONE};
use super::paths::PathTrie;
use super::sample::Scratch;
use super::{
    Ci95, CostReport, EdgeReport, ExerciseReport, FirstDetection, JewelReport, PathReport,
    SimConfig, TimeStats, TtdReport, TOP_EDGES, TOP_PATHS,
};
use crate::dist::{wilson95, Z95};

/// How many samples used each edge: a counter per edge on small graphs (no hashing in the
/// hot loop), a map of the edges used on large ones (a chunk uses few of millions).
enum EdgeCounts {
    Dense(Vec<u32>),
    Sparse(FxHashMap<u32, u64>),
}

/// Largest edge count with dense counters (256 KiB per chunk).
const DENSE_EDGES: usize = 1 << 16;

impl EdgeCounts {
    fn new(edges: usize) -> EdgeCounts {
        if edges <= DENSE_EDGES {
            EdgeCounts::Dense(vec![0; edges])
        } else {
            EdgeCounts::Sparse(FxHashMap::default())
        }
    }

    fn add(&mut self, e: u32) {
        match self {
            EdgeCounts::Dense(v) => v[e as usize] += 1,
            EdgeCounts::Sparse(m) => *m.entry(e).or_insert(0) += 1,
        }
    }

    fn merge_into(&self, out: &mut FxHashMap<u32, u64>) {
        match self {
            EdgeCounts::Dense(v) => {
                for (e, &k) in v.iter().enumerate() {
                    if k > 0 {
                        *out.entry(e as u32).or_insert(0) += u64::from(k);
                    }
                }
            }
            EdgeCounts::Sparse(m) => {
                for (&e, &k) in m {
                    *out.entry(e).or_insert(0) += k;
                }
            }
        }
    }
}

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
    paths: PathTrie,
    edges: EdgeCounts,
    detectors: FxHashMap<u32, u64>,
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
            paths: PathTrie::default(),
            edges: EdgeCounts::new(c.edges.len()),
            detectors: FxHashMap::default(),
        }
    }

    /// Add the sample just simulated in `s`, priced (ch, rh) when containment is on.
    pub fn add(&mut self, c: &Compiled, s: &mut Scratch, ch: f64, rh: f64) {
        for i in 0..s.settled.len() {
            let v = s.settled[i];
            let t = s.time[v as usize];
            let pred = s.pred[v as usize];
            if pred != NONE && t <= s.stop {
                self.edges.add(pred);
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
            self.paths.add(c, &s.pred, &mut s.path_memo, v);
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

/// Nearest-rank p-quantiles of `v` (non-empty) for non-decreasing `ps`: the values a full
/// sort would give (under `total_cmp` equal values are equal bits, so which copy lands at a
/// rank does not show), by successive selections instead of a sort: O(n) on the report's
/// serial part rather than O(n log n).
fn quantiles<const N: usize>(mut v: Vec<f64>, ps: [f64; N]) -> [f64; N] {
    let n = v.len();
    let mut out = [0.0; N];
    // `v[..hi]` holds the `hi` smallest values: the ranks still to find are among them.
    let mut hi = n;
    for (k, &p) in ps.iter().enumerate().rev() {
        debug_assert!(
            k == 0 || ps[k - 1] <= p,
            "quantiles asked in increasing order"
        );
        let r = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        let r = r.min(hi - 1);
        let (_, x, _) = v[..hi].select_nth_unstable_by(r, f64::total_cmp);
        out[k] = *x;
        hi = r + 1;
    }
    out
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

fn time_stats(v: Vec<f64>) -> Option<TimeStats> {
    if v.is_empty() {
        return None;
    }
    let mean = mean(&v);
    let [p5, p50, p95] = quantiles(v, [0.05, 0.50, 0.95]);
    Some(TimeStats { mean, p5, p50, p95 })
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
                ttc_hours: time_stats(concat(&parts, |p| &p.times[k])),
            }
        })
        .collect();
    let ttd = concat(&parts, |p| &p.ttd);
    let detected = ttd.len() as u64;
    let ttd_hours = TtdReport {
        detected,
        p_detected: share(detected),
        p_detected_ci95: ci(wilson95(detected, n)),
        mean_ci95: (!ttd.is_empty()).then(|| mean_ci(&ttd, mean(&ttd))),
        hours: time_stats(ttd),
    };
    let customer_hours = cfg.containment.then(|| {
        let cost = concat(&parts, |p| &p.cost);
        let m = mean(&cost);
        let mean_ci95 = mean_ci(&cost, m);
        let [p5, p50, p95, p99] = quantiles(cost, [0.05, 0.50, 0.95, 0.99]);
        CostReport {
            mean: m,
            mean_ci95,
            p5,
            p50,
            p95,
            p99,
            containment_mean: mean(&concat(&parts, |p| &p.contain)),
            restore_mean: mean(&concat(&parts, |p| &p.restore)),
        }
    });
    let mut trie = PathTrie::default();
    for p in &parts {
        trie.merge_from(&p.paths);
    }
    let mut paths: Vec<(Vec<String>, u64)> = trie
        .top(TOP_PATHS)
        .into_iter()
        .map(|(nodes, k)| (nodes.into_iter().map(id).collect(), k))
        .collect();
    paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    paths.truncate(TOP_PATHS);
    let mut edge_map: FxHashMap<u32, u64> = FxHashMap::default();
    for p in &parts {
        p.edges.merge_into(&mut edge_map);
    }
    let mut edges: Vec<(u32, u64)> = edge_map.into_iter().collect();
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

#[cfg(test)]
mod tests {
    use super::quantiles;

    /// The selections give the nearest-rank quantiles of the sorted values, bit for bit,
    /// with ties, signed zeros and every length from 1.
    #[test]
    fn quantiles_equal_sorted_ranks() {
        let ps = [0.0, 0.05, 0.5, 0.5, 0.95, 0.99, 1.0];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for n in 1..300usize {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    x = crate::dist::splitmix64(x);
                    match x % 5 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => (x % 7) as f64,
                        _ => (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0,
                    }
                })
                .collect();
            let mut s = v.clone();
            s.sort_by(f64::total_cmp);
            let want = ps.map(|p| s[((p * n as f64).ceil() as usize).clamp(1, n) - 1].to_bits());
            assert_eq!(quantiles(v, ps).map(f64::to_bits), want, "n {n}");
        }
    }
}
