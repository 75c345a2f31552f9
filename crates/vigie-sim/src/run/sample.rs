//! One sample: Dijkstra over sampled times up to the horizon, then the detection race.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;

use super::compile::{Compiled, NONE};
use super::price::Local;
use super::{SampleOutcome, SimConfig, StepOutcome};
use crate::dist::{sample_base, step_rng, DETECTION_SALT};

/// Per-thread buffers, reused from sample to sample (nothing shared is written in the hot
/// loop).
pub(crate) struct Scratch {
    /// Compromise time per node (INFINITY: not reached).
    pub time: Vec<f64>,
    /// Tree edge reaching each node (NONE: a start or unreached).
    pub pred: Vec<u32>,
    /// Per node, its trie node in the current chunk's path counts (NONE: not walked this
    /// sample; see [`super::paths`]).
    pub path_memo: Vec<u32>,
    /// Nodes whose `time`/`pred`/`path_memo` were set, to reset only those.
    touched: Vec<u32>,
    /// Dijkstra's queue of [`entry`] keys.
    heap: BinaryHeap<Reverse<u128>>,
    /// Nodes reached within the horizon, in settle (time) order, starts included.
    pub settled: Vec<u32>,
    /// Parallel to `settled` in a `full` run (empty otherwise): detection time of the step
    /// reaching it (INFINITY: none).
    pub step_det: Vec<f64>,
    pub detected_at: Option<f64>,
    pub first_detector: Option<u32>,
    pub detecting_edge: Option<u32>,
    /// Detection time, else the horizon.
    pub stop: f64,
    /// Assets compromised at `stop`, sorted.
    pub compromised: Vec<u32>,
    /// Crown jewels destroyed, sorted.
    pub destroyed: Vec<u32>,
    /// This thread's price cache.
    pub local: Local,
}

/// A queue entry: a time's bit pattern above a node index, so one integer comparison
/// orders entries by time then node, exactly as the `(u64, u32)` tuples it replaces (same
/// settle order, same results) with fewer instructions than comparing the tuple field by
/// field (6 % of a demo sample). Times are >= 0, so their bit patterns order as the
/// numbers do. (A radix heap and a 4-ary heap were both slower here: ~170 pops a sample.)
fn entry(time_bits: u64, node: u32) -> u128 {
    (u128::from(time_bits) << 32) | u128::from(node)
}

impl Scratch {
    pub fn new(c: &Compiled) -> Scratch {
        Scratch {
            time: vec![f64::INFINITY; c.nodes],
            pred: vec![NONE; c.nodes],
            path_memo: vec![NONE; c.nodes],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            settled: Vec::new(),
            step_det: Vec::new(),
            detected_at: None,
            first_detector: None,
            detecting_edge: None,
            stop: 0.0,
            compromised: Vec::new(),
            destroyed: Vec::new(),
            local: Local::default(),
        }
    }

    fn reset(&mut self) {
        for &v in &self.touched {
            self.time[v as usize] = f64::INFINITY;
            self.pred[v as usize] = NONE;
            self.path_memo[v as usize] = NONE;
        }
        self.touched.clear();
        self.heap.clear();
        self.settled.clear();
        self.step_det.clear();
        self.detected_at = None;
        self.first_detector = None;
        self.detecting_edge = None;
        self.compromised.clear();
        self.destroyed.clear();
    }

    /// The public form of the sample just simulated.
    pub fn outcome(&self, c: &Compiled, index: u64, ch: f64, rh: f64) -> SampleOutcome {
        let mut reached = Vec::new();
        let mut steps = Vec::new();
        for (k, &v) in self.settled.iter().enumerate() {
            if v == c.internet {
                continue;
            }
            let at = self.time[v as usize];
            reached.push((v, at));
            let e = self.pred[v as usize];
            if e != NONE {
                let d = self.step_det[k];
                steps.push(StepOutcome {
                    edge: e,
                    from: c.edge_from[e as usize],
                    to: v,
                    at,
                    detected_at: d.is_finite().then_some(d),
                });
            }
        }
        SampleOutcome {
            index,
            detected_at: self.detected_at,
            first_detector: self.first_detector,
            detecting_edge: self.detecting_edge,
            stopped_at: self.stop,
            reached,
            steps,
            compromised: self.compromised.clone(),
            destroyed: self.destroyed.clone(),
            containment_hours: ch,
            restore_hours: rh,
            customer_hours: ch + rh,
        }
    }
}

impl Compiled {
    /// Simulate sample `i` into `s` (prices are the caller's). With `full`, the attack runs
    /// to the horizon (every reached asset and step, for [`super::Exercise::sample`]);
    /// without, it stops once every crown jewel is settled and no later step can be
    /// detected first: what the report needs, and the same numbers for it (Dijkstra
    /// settles in time order, so the nodes settled are a prefix of the full run's).
    pub fn simulate(&self, cfg: &SimConfig, i: u64, s: &mut Scratch, full: bool, sets: bool) {
        s.reset();
        let base = sample_base(cfg.seed, i);
        self.race(cfg.horizon_hours, base, s, full);
        if sets {
            self.sets(s);
        }
    }

    /// The compromised set and the destroyed crown jewels at the stop time.
    fn sets(&self, s: &mut Scratch) {
        let stop = s.stop;
        let det = s.detected_at;
        for &v in &s.settled {
            if v == self.internet {
                continue;
            }
            let t = s.time[v as usize];
            if t <= stop {
                s.compromised.push(v);
                let before = match det {
                    Some(d) => t < d,
                    None => true,
                };
                if before && self.jewel_of[v as usize] != NONE {
                    s.destroyed.push(v);
                }
            }
        }
        s.compromised.sort_unstable();
        s.destroyed.sort_unstable();
    }

    /// Dijkstra from the starts over lazily sampled edge times, up to the horizon, with
    /// each tree step's detection drawn as its target settles.
    fn race(&self, horizon: f64, base: u64, s: &mut Scratch, full: bool) {
        for &st in &self.starts {
            s.time[st as usize] = 0.0;
            s.touched.push(st);
            s.heap.push(Reverse(entry(0f64.to_bits(), st)));
        }
        let mut jewels_left = self.reachable_jewels;
        let mut best = f64::INFINITY;
        while let Some(Reverse(k)) = s.heap.pop() {
            let (tb, u) = ((k >> 32) as u64, k as u32);
            // An entry whose time is no longer the node's is stale.
            if tb != s.time[u as usize].to_bits() {
                continue;
            }
            let t = f64::from_bits(tb);
            // A step settled later is detected no earlier than its target's time.
            if !full && t > best {
                if jewels_left == 0 {
                    break;
                }
                // Past the detection only the paths to crown jewels still matter, and no
                // such path crosses a node that reaches no jewel.
                if !self.relevant[u as usize] {
                    continue;
                }
            }
            s.settled.push(u);
            if self.jewel_of[u as usize] != NONE {
                jewels_left = jewels_left.saturating_sub(1);
            }
            let e = s.pred[u as usize];
            // Without `full`, a step whose target falls at or after the earliest detection
            // so far is detected no earlier than it (ties go to the step settled first):
            // its draws could change nothing the report holds, so they are not made.
            let at = if e != NONE && (full || t < best) {
                self.detect_step(e, t, horizon, base, &mut best, s)
            } else {
                f64::INFINITY
            };
            if full {
                s.step_det.push(at);
            }
            self.relax(u, t, horizon, base, best, full, s);
        }
        if best.is_finite() {
            s.detected_at = Some(best);
            s.stop = best;
        } else {
            s.stop = horizon;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn relax(
        &self,
        u: u32,
        t: f64,
        horizon: f64,
        base: u64,
        best: f64,
        full: bool,
        s: &mut Scratch,
    ) {
        // Targets that reach no crown jewel, compromised after the earliest detection so
        // far (which only comes earlier), count for nothing the report holds.
        let bound = if full { horizon } else { horizon.min(best) };
        let (lo, hi) = (
            self.out_start[u as usize] as usize,
            self.out_start[u as usize + 1] as usize,
        );
        for (off, ce) in self.edges[lo..hi].iter().enumerate() {
            let to = ce.to as usize;
            let cur = s.time[to];
            // No edge time is negative: a target already at t or earlier cannot improve,
            // and skipping its draw changes nothing (numbers are keyed, not sequential).
            if cur <= t {
                continue;
            }
            let relevant = ce.relevant();
            // Its time would be past `bound` whatever the draw.
            if (t > bound && !relevant) || ce.never() {
                continue;
            }
            let Some(w) = self.samplers[ce.sampler()].sample(&mut step_rng(base, ce.key)) else {
                continue;
            };
            let nt = t + w;
            if nt > bound && (nt > horizon || !relevant) {
                continue;
            }
            if nt < cur {
                if cur == f64::INFINITY {
                    s.touched.push(ce.to);
                }
                s.time[to] = nt;
                s.pred[to] = (lo + off) as u32;
                s.heap.push(Reverse(entry(nt.to_bits(), ce.to)));
            }
        }
    }

    /// The detection time of tree step `e` whose target fell at `t` (INFINITY: undetected
    /// or after the horizon); the earliest so far (`best`) and its detector are updated.
    #[inline(always)]
    fn detect_step(
        &self,
        e: u32,
        t: f64,
        horizon: f64,
        base: u64,
        best: &mut f64,
        s: &mut Scratch,
    ) -> f64 {
        let ce = &self.edges[e as usize];
        let d = &self.dets[self.edge_det[e as usize] as usize];
        if d.p <= 0.0 {
            return f64::INFINITY;
        }
        let mut rng = step_rng(base, ce.key ^ DETECTION_SALT);
        if rng.gen::<f64>() >= d.p {
            return f64::INFINITY;
        }
        let Some(delay) = d.delay.sample(&mut rng) else {
            return f64::INFINITY;
        };
        let td = t + delay;
        if td > horizon {
            return f64::INFINITY;
        }
        let pick = self.pick_detector(d.lo, d.hi, rng.gen::<f64>());
        // Ties go to the step settled first.
        if td < *best {
            *best = td;
            s.first_detector = pick;
            s.detecting_edge = Some(e);
        }
        td
    }

    /// A detector among `lo..hi`, in proportion to their own probabilities (`u` uniform).
    fn pick_detector(&self, lo: u32, hi: u32, u: f64) -> Option<u32> {
        let ds = &self.detectors[lo as usize..hi as usize];
        let total: f64 = ds.iter().map(|d| d.1).sum();
        let mut x = u * total;
        for &(idx, q) in ds {
            if x < q {
                return Some(idx);
            }
            x -= q;
        }
        ds.last().map(|d| d.0)
    }
}
