//! Pricing a sample: containment of the compromised set (`vigie contain`) and restore of
//! the destroyed crown jewels (`vigie restore`), cached by set.
//!
//! Both engines are deterministic for a given set (budgets only, no wall-clock limit), so
//! a cached price is exactly the price recomputed: the caches only save time. Each thread
//! keeps its own map in front of the shared one, so the hot path reads no shared state.

use std::sync::RwLock;

use rustc_hash::FxHashMap;
use vigie_response::contain::{contain, ContainRequest, SearchConfig};
use vigie_response::graph::Target;
use vigie_response::{Error, Graph};

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

    /// Customer-hours of the plan `vigie contain` recommends for `compromised`.
    pub fn contain_uncached(&self, g: &Graph, compromised: &[u32]) -> f64 {
        if compromised.is_empty() {
            return 0.0;
        }
        match contain(g, &containment_request(compromised)) {
            // No complete plan cannot happen without an action limit; should it, isolating
            // everything compromised and reachable is what is left to do.
            Ok(r) => r
                .plan
                .map_or(r.isolate_everything.customer_hours, |p| p.customer_hours),
            Err(Error::NothingToProtect | Error::NoCompromised) => 0.0,
            Err(e) => {
                // The graph was built by from_model and the set holds its own node ids:
                // no other error is reachable.
                tracing::error!(error = %e, "containment could not be priced");
                0.0
            }
        }
    }

    /// Customer-hours of `vigie restore --down <destroyed>` (unbounded crews).
    pub fn restore_uncached(&self, g: &Graph, destroyed: &[u32]) -> f64 {
        if destroyed.is_empty() {
            return 0.0;
        }
        let down: Vec<Target> = destroyed.iter().map(|&n| Target::Node(n)).collect();
        match vigie_response::restore::restore(g, &down, None) {
            Ok(r) => r.customer_hours,
            Err(e) => {
                tracing::error!(error = %e, "restore could not be priced");
                0.0
            }
        }
    }
}
