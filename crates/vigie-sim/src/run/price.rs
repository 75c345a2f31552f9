//! Pricing a sample: containment of the compromised set (`vigie contain`) and restore of
//! the destroyed crown jewels (`vigie restore`), cached by set.
//!
//! Both engines are deterministic for a given set (budgets only, no wall-clock limit), so
//! a cached price is exactly the price recomputed: the caches only save time. Each thread
//! keeps its own map in front of the shared one, so the hot path reads no shared state.

use std::sync::RwLock;

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
}

/// The shared price maps.
#[derive(Default)]
pub(crate) struct Prices {
    contain: RwLock<Cache>,
    restore: RwLock<Cache>,
}

fn cached(
    local: &mut Cache,
    shared: &RwLock<Cache>,
    key: &[u32],
    compute: impl FnOnce() -> f64,
) -> f64 {
    if let Some(&v) = local.get(key) {
        return v;
    }
    // A poisoned lock only means another thread panicked mid-insert of a whole value:
    // the map itself is consistent.
    let hit = match shared.read() {
        Ok(m) => m.get(key).copied(),
        Err(p) => p.into_inner().get(key).copied(),
    };
    let v = match hit {
        Some(v) => v,
        None => {
            // Computed outside the lock: two threads may price one set at once, and get
            // the same number.
            let v = compute();
            match shared.write() {
                Ok(mut m) => m.insert(key.into(), v),
                Err(p) => p.into_inner().insert(key.into(), v),
            };
            v
        }
    };
    local.insert(key.into(), v);
    v
}

impl Prices {
    /// Distinct sets priced so far: (compromised sets, destroyed sets).
    pub fn sizes(&self) -> (usize, usize) {
        let len = |c: &RwLock<Cache>| match c.read() {
            Ok(m) => m.len(),
            Err(p) => p.into_inner().len(),
        };
        (len(&self.contain), len(&self.restore))
    }

    pub fn contain(&self, g: &Graph, local: &mut Local, compromised: &[u32]) -> f64 {
        cached(&mut local.contain, &self.contain, compromised, || {
            self.contain_uncached(g, compromised)
        })
    }

    pub fn restore(&self, g: &Graph, local: &mut Local, destroyed: &[u32]) -> f64 {
        if destroyed.is_empty() {
            return 0.0;
        }
        cached(&mut local.restore, &self.restore, destroyed, || {
            self.restore_uncached(g, destroyed)
        })
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
