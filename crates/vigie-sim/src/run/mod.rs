//! The Monte Carlo race between an attacker and detection (`vigie exercise`).
//!
//! # Compilation (once, [`Exercise::new`])
//!
//! The model's attack edges (`vigie_model::derive_attack_edges`, derived and explicit, the
//! same ones `vigie model check`, `assess` and `contain` use) become a compact sampling
//! graph (CSR by source): per edge its time-to-compromise sampler ([`crate::dist`]), its
//! stable key ([`crate::dist::step_key`]) and its detection
//! (`DetectionModel::step(target asset, technique)`). Nodes are the model's assets
//! (node `i` = asset `i`) plus the Internet pseudo-node last. The
//! `vigie_response::Graph` of the model is built beside it for containment and restore
//! (same node numbering).
//!
//! # One sample ([`Exercise::sample`])
//!
//! - **Start.** The attacker holds the `entry` assets at t = 0, else the Internet node
//!   (every attack edge from it is open).
//! - **Attack.** Every edge gets a sampled time (its distribution; with probability
//!   1 − p_success it is impossible in this sample). An asset's compromise time is its
//!   shortest-path distance from the start over these times (Dijkstra, as mal-simulator's
//!   `PRE_SAMPLE` mode), if within the horizon; it is reached through its predecessor edge
//!   on that shortest-path tree. Edges are sampled lazily when relaxed: their numbers are
//!   keyed, so this changes nothing.
//! - **Detection.** Every tree edge whose target is reached by the horizon is an attempted
//!   step. It is detected with its probability `p`, at its target's compromise time plus a
//!   sampled delay; the detector credited is drawn among the step's detectors in
//!   proportion to their own probabilities. The detection time is the earliest step
//!   detection at or before the horizon (ties: the step whose target was compromised
//!   first); later ones do not count.
//! - **Containment** happens at the detection time, else at the horizon (the *stop time*).
//!   The compromised set is every asset compromised at or before the stop time. Its cost is
//!   the customer-hours of the plan `vigie contain` recommends for it
//!   ([`containment_request`]: protect the crown jewels not compromised, exact search with
//!   the default expansion budget, no alternatives, no wall-clock limit, so it is
//!   deterministic). Nothing to protect (every crown jewel compromised) or nothing
//!   compromised costs 0.
//! - **Destruction.** A crown jewel compromised strictly before the detection (or by the
//!   horizon when nothing detects the attack) is destroyed: the customer-hours of
//!   `vigie_response::restore` bringing those jewels back (`vigie restore --down <jewels>`,
//!   unbounded crews) are added. `customer_hours` = containment + restore.
//! - `containment: false` skips both prices (samples are then faster; customer-hours are
//!   not reported).
//!
//! Both prices are cached by set (a map per worker thread, kept from run to run); the cache
//! only saves time, it never changes a result.
//!
//! # The report ([`Exercise::run`])
//!
//! Samples `0..samples` run on a rayon pool of `threads` (None: every core); the
//! per-sample figures are gathered in sample order, and every float is summed in that
//! order, so the report is byte-identical whatever the thread count.
//!
//! - per crown jewel: `p_reached` (reached within the horizon, the attack never stopped:
//!   securiCAD's figure), `p_reached_before_detection` (reached strictly before the
//!   detection, or within the horizon when undetected: the attacker's chance against
//!   vigie's defence), both with Wilson 95 % intervals; `ttc_hours` mean and percentiles
//!   over the samples that reach it within the horizon (None when none does);
//! - `ttd_hours`: the detected fraction (Wilson 95 %) and, over detected samples, the mean
//!   (normal 95 % interval) and percentiles of the detection time;
//! - `customer_hours`: mean (normal 95 % interval) and percentiles over all samples, with
//!   the containment and restore parts' means;
//! - `paths`: an attack path is the chain of predecessor edges from the start (the Internet
//!   node or an entry asset) to a crown jewel on one sample's shortest-path tree, written as
//!   the node ids along it; each sample contributes one path per crown jewel it reaches
//!   within the horizon. The [`TOP_PATHS`] most frequent, with count and share of samples;
//! - `edges`: per attack edge, the share of samples whose tree uses it by the stop time
//!   (its target compromised through it at or before containment); the [`TOP_EDGES`] most
//!   used;
//! - `first_detecting_rules`: per detector (an index of the detection model), how many
//!   samples it detected first, and the share of samples;
//! - `seed`, `samples`, `horizon_hours`, `containment`.
//!
//! Percentiles are nearest-rank: the p-quantile of n sorted values is the value of rank
//! ⌈p·n⌉ (the smallest for p = 0). Means' 95 % intervals are mean ± 1.96·s/√n (s the
//! sample standard deviation; the mean itself when n < 2).

mod aggregate;
mod compile;
mod paths;
mod price;
mod sample;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use serde::Serialize;
use vigie_model::{Model, Rule};

use crate::detection::DetectionModel;
use crate::error::SimError;
pub use price::containment_request;

use compile::Compiled;
use price::Prices;
use sample::Scratch;

/// Paths kept in [`ExerciseReport::paths`].
pub const TOP_PATHS: usize = 25;
/// Edges kept in [`ExerciseReport::edges`].
pub const TOP_EDGES: usize = 50;

/// How to run an exercise.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of samples (at least 1).
    pub samples: u64,
    /// Seed: sample `i` uses the random stream (seed, i).
    pub seed: u64,
    /// Nothing happens after this many hours (finite, > 0).
    pub horizon_hours: f64,
    /// Worker threads (None: every core). Never changes the report.
    pub threads: Option<usize>,
    /// Asset ids the attacker holds at t = 0 (empty: the attacker starts on the Internet).
    pub entry: Vec<String>,
    /// Price containment and restore (false: faster, no customer-hours).
    pub containment: bool,
}

impl Default for SimConfig {
    /// The command's defaults: 10,000 samples, seed 0, 720 h, every core, from the
    /// Internet, with containment.
    fn default() -> Self {
        SimConfig {
            samples: 10_000,
            seed: 0,
            horizon_hours: 720.0,
            threads: None,
            entry: Vec::new(),
            containment: true,
        }
    }
}

/// One attempted step of a sample: a shortest-path tree edge whose target was reached by
/// the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepOutcome {
    /// Edge index (see [`Exercise::edge`]).
    pub edge: u32,
    /// Source node (asset index, or the Internet node).
    pub from: u32,
    /// Target asset index.
    pub to: u32,
    /// Compromise time of the target, in hours.
    pub at: f64,
    /// When this step was detected (None: not detected, or after the horizon).
    pub detected_at: Option<f64>,
}

/// What happened in one sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleOutcome {
    /// Sample index.
    pub index: u64,
    /// Detection time in hours (None: undetected by the horizon).
    pub detected_at: Option<f64>,
    /// Detector credited with the first detection (an index of the detection model).
    pub first_detector: Option<u32>,
    /// Edge whose detection came first.
    pub detecting_edge: Option<u32>,
    /// Detection time, else the horizon: when containment happens.
    pub stopped_at: f64,
    /// Every asset compromised within the horizon, with its time, in compromise order
    /// (entry assets first, at 0).
    pub reached: Vec<(u32, f64)>,
    /// The attempted steps (tree edges), in the order their targets were compromised.
    pub steps: Vec<StepOutcome>,
    /// Assets compromised at the stop time (sorted by index): what containment is priced on.
    pub compromised: Vec<u32>,
    /// Crown jewels destroyed (compromised before detection), sorted by index.
    pub destroyed: Vec<u32>,
    /// Customer-hours of the containment plan (0 without containment).
    pub containment_hours: f64,
    /// Customer-hours of restoring the destroyed crown jewels (0 without containment).
    pub restore_hours: f64,
    /// `containment_hours + restore_hours`.
    pub customer_hours: f64,
}

/// A 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ci95 {
    pub low: f64,
    pub high: f64,
}

/// Mean and percentiles of a time, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeStats {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// One crown jewel's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JewelReport {
    /// Asset id.
    pub id: String,
    /// Asset index.
    pub asset: u32,
    /// Samples reaching it within the horizon.
    pub reached: u64,
    /// Share of samples reaching it within the horizon (no defence).
    pub p_reached: f64,
    pub p_reached_ci95: Ci95,
    /// Samples reaching it strictly before the detection (or undetected, by the horizon).
    pub reached_before_detection: u64,
    pub p_reached_before_detection: f64,
    pub p_reached_before_detection_ci95: Ci95,
    /// Time to compromise over the samples that reach it (None when none does).
    pub ttc_hours: Option<TimeStats>,
}

/// The time-to-detect distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtdReport {
    /// Samples detected by the horizon.
    pub detected: u64,
    /// Their share.
    pub p_detected: f64,
    pub p_detected_ci95: Ci95,
    /// Over detected samples (None when none is).
    pub hours: Option<TimeStats>,
    pub mean_ci95: Option<Ci95>,
}

/// The cost distribution, in customer-hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub mean: f64,
    pub mean_ci95: Ci95,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// Mean of the containment part.
    pub containment_mean: f64,
    /// Mean of the restore part (destroyed crown jewels).
    pub restore_mean: f64,
}

/// A frequent attack path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathReport {
    /// Node ids from the start (Internet node id or an entry asset) to the crown jewel.
    pub nodes: Vec<String>,
    /// Samples with this path on their tree.
    pub count: u64,
    /// count / samples.
    pub share: f64,
}

/// An attack edge and how often the attack used it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeReport {
    pub from: String,
    pub to: String,
    pub technique: String,
    pub rule: Rule,
    /// Samples whose tree uses it by the stop time.
    pub count: u64,
    pub share: f64,
}

/// A detector and how often it detected first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstDetection {
    /// Detector index (`DetectionModel::detector`).
    pub detector: u32,
    pub count: u64,
    /// count / samples.
    pub share: f64,
}

/// Every figure of an exercise (see the module docs for their definitions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExerciseReport {
    pub seed: u64,
    pub samples: u64,
    pub horizon_hours: f64,
    /// Entry asset ids (empty: from the Internet).
    pub entry: Vec<String>,
    pub containment: bool,
    /// In model order.
    pub crown_jewels: Vec<JewelReport>,
    pub ttd_hours: TtdReport,
    /// None without containment.
    pub customer_hours: Option<CostReport>,
    /// Most frequent first (ties: by nodes).
    pub paths: Vec<PathReport>,
    /// Most used first (ties: by edge order).
    pub edges: Vec<EdgeReport>,
    /// Most frequent first (ties: by detector index).
    pub first_detecting_rules: Vec<FirstDetection>,
}

/// An attack edge of the compiled exercise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeInfo<'a> {
    pub from: u32,
    pub to: u32,
    pub from_id: &'a str,
    pub to_id: &'a str,
    pub technique: &'a str,
    pub rule: Rule,
    /// Stable key of its random stream.
    pub key: u64,
}

/// A compiled exercise: the sampling graph, the response graph and the price caches.
pub struct Exercise {
    cfg: SimConfig,
    c: Compiled,
    prices: Prices,
    /// The worker threads' buffers and price maps between runs (one per thread of the
    /// last run).
    scratch: Mutex<Vec<Scratch>>,
}

impl Exercise {
    /// Compile `model` once for `cfg`. Errors: an unknown entry id, zero samples, a
    /// horizon that is not finite and positive, a `threads` of 0, a distribution out of
    /// range, or a model the response engine refuses.
    pub fn new(
        model: &Model,
        detection: &DetectionModel,
        cfg: &SimConfig,
    ) -> Result<Exercise, SimError> {
        if cfg.samples == 0 {
            return Err(SimError::Invalid("samples must be at least 1".into()));
        }
        if !(cfg.horizon_hours.is_finite() && cfg.horizon_hours > 0.0) {
            return Err(SimError::Invalid(format!(
                "horizon must be a positive number of hours, got {}",
                cfg.horizon_hours
            )));
        }
        if cfg.threads == Some(0) {
            return Err(SimError::Invalid("threads must be at least 1".into()));
        }
        let c = Compiled::new(model, detection, cfg)?;
        Ok(Exercise {
            cfg: cfg.clone(),
            c,
            prices: Prices::default(),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// The configuration it was compiled for.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The response graph containment and restore are priced on (node `i` = asset `i`).
    pub fn graph(&self) -> &vigie_response::Graph {
        &self.c.graph
    }

    /// Crown jewel asset indexes, in model order.
    pub fn crown_jewels(&self) -> &[u32] {
        &self.c.jewels
    }

    /// The Internet node's index (= number of assets).
    pub fn internet(&self) -> u32 {
        self.c.internet
    }

    /// Id of a node (asset id, or the Internet node's).
    pub fn node_id(&self, n: u32) -> &str {
        self.c
            .graph
            .node_ids
            .get(n as usize)
            .map_or("", String::as_str)
    }

    /// Number of attack edges.
    pub fn edge_count(&self) -> usize {
        self.c.edges.len()
    }

    /// Attack edge `e` (None out of range).
    pub fn edge(&self, e: u32) -> Option<EdgeInfo<'_>> {
        self.c.edge_info(e)
    }

    /// Customer-hours of containing `compromised` (asset indexes), as priced in samples.
    pub fn containment_cost(&self, compromised: &[u32]) -> f64 {
        self.prices.contain_uncached(&self.c.graph, compromised)
    }

    /// Customer-hours of restoring `destroyed` (asset indexes), as priced in samples.
    pub fn restore_cost(&self, destroyed: &[u32]) -> f64 {
        self.prices.restore_uncached(&self.c.graph, destroyed)
    }

    /// Distinct sets priced so far (compromised sets, destroyed sets): how well the
    /// caches work. Depends on what ran before and on the threads, unlike every result.
    pub fn cache_sizes(&self) -> (usize, usize) {
        self.prices.sizes()
    }

    /// Run sample `i` alone (deterministic: the same outcome as inside [`Exercise::run`]).
    pub fn sample(&self, i: u64) -> SampleOutcome {
        let mut s = Scratch::new(&self.c);
        self.c.simulate(&self.cfg, i, &mut s, true, true);
        let (ch, rh) = self.price(&mut s);
        s.outcome(&self.c, i, ch, rh)
    }

    fn price(&self, s: &mut Scratch) -> (f64, f64) {
        if !self.cfg.containment {
            return (0.0, 0.0);
        }
        let ch = self
            .prices
            .contain(&self.c.graph, &mut s.local, &s.compromised);
        let rh = self
            .prices
            .restore(&self.c.graph, &mut s.local, &s.destroyed);
        (ch, rh)
    }

    /// Run every sample and aggregate. `progress` is called from worker threads with the
    /// number of samples done so far (increasing, ends at `samples`).
    pub fn run(&self, progress: &(dyn Fn(u64) + Sync)) -> ExerciseReport {
        let n = self.cfg.samples;
        // Fixed chunking (a function of `samples` only); chunks are merged in order.
        let chunk = (n / 256).clamp(1, 4096);
        let chunks = n.div_ceil(chunk);
        let done = AtomicU64::new(0);
        let kept =
            std::mem::take(&mut *self.scratch.lock().unwrap_or_else(PoisonError::into_inner));
        let slots: Mutex<Vec<Mutex<Scratch>>> = Mutex::new(Vec::new());
        let work = || {
            // One scratch per worker thread for the whole run (its price maps included),
            // each locked only by its own thread, once per chunk: never contended.
            let threads = rayon::current_num_threads();
            let mut kept = kept;
            kept.resize_with(threads.max(kept.len()), || Scratch::new(&self.c));
            let per_thread: Vec<Mutex<Scratch>> = kept.into_iter().map(Mutex::new).collect();
            let parts = (0..chunks)
                .into_par_iter()
                .map(|k| {
                    let lo = k * chunk;
                    let hi = (lo + chunk).min(n);
                    let mut own = None;
                    let mut guard = rayon::current_thread_index()
                        .and_then(|t| per_thread.get(t))
                        .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner));
                    let s: &mut Scratch = match guard.as_deref_mut() {
                        Some(s) => s,
                        None => own.insert(Scratch::new(&self.c)),
                    };
                    let mut agg = aggregate::Chunk::new(&self.c, hi - lo);
                    for i in lo..hi {
                        self.c
                            .simulate(&self.cfg, i, s, false, self.cfg.containment);
                        let (ch, rh) = self.price(s);
                        agg.add(&self.c, s, ch, rh);
                    }
                    progress(done.fetch_add(hi - lo, Ordering::Relaxed) + (hi - lo));
                    agg
                })
                .collect::<Vec<_>>();
            *slots.lock().unwrap_or_else(PoisonError::into_inner) = per_thread;
            parts
        };
        let parts = in_pool(self.cfg.threads, work);
        let mut back: Vec<Scratch> = slots
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect();
        for s in &mut back {
            self.prices.flush(&mut s.local);
        }
        *self.scratch.lock().unwrap_or_else(PoisonError::into_inner) = back;
        aggregate::report(&self.c, &self.cfg, parts)
    }
}

/// Runs `work` on a pool of `threads` threads (`None`: one a core), so that every
/// parallel pass of an exercise honours `--threads`. A pool that cannot be built (no
/// threads left) runs on the global one: results are the same whatever the threads.
pub(crate) fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(e) => {
            tracing::warn!(error = %e, "thread pool not built, using the global pool");
            work()
        }
    }
}
