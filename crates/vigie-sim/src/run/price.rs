//! Pricing a sample: containment of the compromised set (`vigie contain`) and restore of
//! the destroyed crown jewels (`vigie restore`), cached by set.
//!
//! Both engines are deterministic for a given set (budgets only, no wall-clock limit), so
//! a cached price is exactly the price recomputed: the caches only save time. Each worker
//! thread keeps its own maps (kept by the exercise from run to run) and nothing else: most
//! sets are new (the demo prices ~88,000 distinct compromised sets in 100,000 samples), so
//! a shared map cost a lock, a second hash and a second copy of each key per sample for
//! few hits, and its write lock serialised the threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxHashMap;
use vigie_response::contain::problem::Problem;
use vigie_response::contain::{contain, search, ContainRequest, SearchConfig};
use vigie_response::impact::{self, Outage};
use vigie_response::report::tidy;
use vigie_response::Graph;

type Cache = FxHashMap<Box<[u32]>, f64>;

/// The request `vigie exercise` prices a compromised set with: protect the crown jewels not
/// compromised; the exact search with the default expansion budget, no alternatives (the
/// cheapest plan does not depend on them) and no wall-clock limit.
pub fn containment_request(compromised: &[u32]) -> ContainRequest {
    ContainRequest {
        compromised: compromised.to_vec(),
        protect: None,
        config: SearchConfig {
            alternatives: 0,
            time_limit: None,
            ..SearchConfig::default()
        },
    }
}

/// A thread's own price maps.
#[derive(Default)]
pub(crate) struct Local {
    contain: Cache,
    restore: Cache,
    /// Sets priced since the last [`Prices::flush`].
    new_contain: usize,
    new_restore: usize,
}

/// Counts of the sets priced (the maps themselves are per thread).
#[derive(Default)]
pub(crate) struct Prices {
    contain_sets: AtomicUsize,
    restore_sets: AtomicUsize,
}

fn cached(local: &mut Cache, fresh: &mut usize, key: &[u32], compute: impl FnOnce() -> f64) -> f64 {
    if let Some(&v) = local.get(key) {
        return v;
    }
    let v = compute();
    local.insert(key.into(), v);
    *fresh += 1;
    v
}

impl Prices {
    /// Sets priced so far, summed over the threads' maps: (compromised sets, destroyed
    /// sets). A set priced on two threads counts twice.
    pub fn sizes(&self) -> (usize, usize) {
        (
            self.contain_sets.load(Ordering::Relaxed),
            self.restore_sets.load(Ordering::Relaxed),
        )
    }

    /// Add what `local` priced since its last flush to the counts (once per run and
    /// thread, not per sample).
    pub fn flush(&self, local: &mut Local) {
        let c = std::mem::take(&mut local.new_contain);
        let r = std::mem::take(&mut local.new_restore);
        self.contain_sets.fetch_add(c, Ordering::Relaxed);
        self.restore_sets.fetch_add(r, Ordering::Relaxed);
    }

    pub fn contain(&self, g: &Graph, local: &mut Local, compromised: &[u32]) -> f64 {
        cached(
            &mut local.contain,
            &mut local.new_contain,
            compromised,
            || self.contain_uncached(g, compromised),
        )
    }

    pub fn restore(&self, g: &Graph, local: &mut Local, destroyed: &[u32]) -> f64 {
        if destroyed.is_empty() {
            return 0.0;
        }
        cached(
            &mut local.restore,
            &mut local.new_restore,
            destroyed,
            || self.restore_uncached(g, destroyed),
        )
    }

    /// Customer-hours of the plan `vigie contain` recommends for `compromised` (sorted,
    /// distinct asset indexes).
    ///
    /// The number `contain` reports, computed by the same steps without the parts of its
    /// report that do not change it: `contain` (without an action limit) builds the
    /// problem with the free actions pre-applied, searches it, adds back the free actions
    /// the plan needs and prices the result; free actions touch nothing any service
    /// depends on, so the price is the searched plan's own cost, rounded by `tidy` as
    /// `contain` rounds it. The alternatives and the two naive plans are skipped.
    pub fn contain_uncached(&self, g: &Graph, compromised: &[u32]) -> f64 {
        if compromised.is_empty() {
            return 0.0;
        }
        let targets: Vec<u32> = g
            .crown_jewels()
            .into_iter()
            .filter(|j| compromised.binary_search(j).is_err())
            .collect();
        if targets.is_empty() {
            return 0.0;
        }
        let req = containment_request(compromised);
        let reduced = Problem::new(g, compromised, &targets, true);
        let result = search::search(&reduced, &req.config);
        match result.plans.first() {
            Some(plan) => tidy(plan.cost),
            // No complete plan: cannot happen without an action limit (isolating every
            // target is one); should it, `contain` itself says what is left to do.
            None => match contain(g, &req) {
                Ok(r) => r
                    .plan
                    .map_or(r.isolate_everything.customer_hours, |p| p.customer_hours),
                Err(e) => {
                    tracing::error!(error = %e, "containment could not be priced");
                    0.0
                }
            },
        }
    }

    /// Customer-hours of `vigie restore --down <destroyed>` (unbounded crews): with
    /// unbounded crews `restore` prices the outage of the downed assets from t = 0, every
    /// asset starting when its host is back; the same evaluation, without the timeline.
    pub fn restore_uncached(&self, g: &Graph, destroyed: &[u32]) -> f64 {
        if destroyed.is_empty() {
            return 0.0;
        }
        let outage = Outage {
            nodes: destroyed.to_vec(),
            ..Outage::default()
        };
        tidy(impact::evaluate(g, &outage, 0.0, None).total)
    }
}
