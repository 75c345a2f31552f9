//! Stress tests on the operator model: failures (outages, not attacks) of single elements
//! (N-1) and of pairs (N-2), and each service's single points of failure.
//!
//! **Elements** are every asset (every node of the [`Graph`] but the Internet) and every
//! flow. An element *failing* is exactly `vigie restore --down <id>`: the
//! [`vigie_response::restore::restore`] of that one target at t = 0, with the same crews.
//! Its cost is that report's `customer_hours`, its recovery time the report's
//! `total_hours` (when everything is back). For an asset, the asset and everything
//! running on it go down and come back their `recovery_hours` after their host
//! (`docs/response.md`, timing rule). A failing **flow** is a blocked flow in the impact
//! engine (`Outage.flows`): the flow itself reopens at t = 0 (restore starts at 0), but
//! every service listed on it is taken down and restarts its own `recovery_hours` later
//! (after its hard dependencies, none of which failed), so a flow costs its services'
//! recovery times.
//!
//! **N-2** ([`pairs`]): the joint failure of two elements, priced the same way (one
//! `restore` of both targets). Pairs whose joint cost exceeds the sum of their two N-1
//! costs are *interactions* (typically two members of one redundancy group: each costs 0
//! alone). Which pairs are evaluated, and what that guarantees, is in [`pairs`].
//!
//! **Single points of failure** of a service: the elements whose N-1 failure takes it
//! down (hard: `state == "down"` in the restore report, not merely degraded by a soft
//! dependency), with how long it stays down.
//!
//! Every evaluation is independent: they run on rayon and are collected in element
//! order, then ranked with total orders (ties broken by ids), so the report is the same
//! whatever the thread count.

pub mod pairs;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use vigie_response::graph::{Graph, NodeKind, Target};
use vigie_response::report::SegmentImpact;
use vigie_response::restore::{self, ServiceStep};

use crate::SimError;

pub use pairs::{Pair, PairMode, PairsReport};

/// Models with at most this many elements get every pair in `auto` mode. All 34,716
/// pairs of the demo operator (235 assets + 29 flows) take 0.30 s on one core, 0.15 s on
/// two, in a release build (about 9 µs a pair, `--crews 2` alike): 1,000 elements are
/// 499,500 pairs, a few seconds (`docs/exercise.md`).
pub const EXHAUSTIVE_MAX: usize = 1000;

/// At most this many pairs are evaluated in screened mode (a budget, so that a model with
/// a huge redundancy group cannot run away; hitting it is reported).
pub const PAIR_BUDGET: usize = 2_000_000;

/// What `spof` computes.
#[derive(Debug, Clone)]
pub struct SpofConfig {
    /// Pairs listed (top pairs and top interactions); the screening proves the top `top`
    /// pairs exact. 0 lists none.
    pub top: usize,
    /// How pairs are chosen.
    pub pairs: PairMode,
    /// Screened mode: every pair among the `screen` costliest single failures is evaluated
    /// (on top of the pairs the guarantee needs).
    pub screen: usize,
    /// Restoration crews, as `vigie restore --crews` (None: unbounded).
    pub crews: Option<usize>,
    /// Worker threads (None: rayon's default). The report does not depend on it.
    pub threads: Option<usize>,
    /// `auto` is exhaustive up to this many elements.
    pub exhaustive_max: usize,
    /// Screened mode evaluates at most this many pairs.
    pub pair_budget: usize,
}

impl Default for SpofConfig {
    fn default() -> Self {
        SpofConfig {
            top: 10,
            pairs: PairMode::Auto,
            screen: 30,
            crews: None,
            threads: None,
            exhaustive_max: EXHAUSTIVE_MAX,
            pair_budget: PAIR_BUDGET,
        }
    }
}

/// One element that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Element {
    /// An asset (graph node).
    Asset(u32),
    /// A flow.
    Flow(u32),
}

impl Element {
    /// The restore target it is.
    pub fn target(self) -> Target {
        match self {
            Element::Asset(n) => Target::Node(n),
            Element::Flow(f) => Target::Flow(f),
        }
    }
    /// `asset` or `flow`.
    pub fn kind(self) -> &'static str {
        match self {
            Element::Asset(_) => "asset",
            Element::Flow(_) => "flow",
        }
    }
    /// Its id in the model.
    pub fn id(self, g: &Graph) -> &str {
        match self {
            Element::Asset(n) => &g.node_ids[n as usize],
            Element::Flow(f) => &g.flows[f as usize].id,
        }
    }
    /// Its display name (a flow's is its id).
    pub fn name(self, g: &Graph) -> &str {
        match self {
            Element::Asset(n) => &g.node_names[n as usize],
            Element::Flow(f) => &g.flows[f as usize].id,
        }
    }
}

/// Every element of the graph: assets in node order (the Internet pseudo-node excluded),
/// then flows in model order.
pub fn elements(g: &Graph) -> Vec<Element> {
    let assets = (0..g.node_count() as u32)
        .filter(|&n| g.kinds[n as usize] != NodeKind::Internet)
        .map(Element::Asset);
    assets
        .chain((0..g.flows.len() as u32).map(Element::Flow))
        .collect()
}

/// An element as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementRef {
    /// `asset` or `flow`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

impl ElementRef {
    fn of(g: &Graph, e: Element) -> ElementRef {
        ElementRef {
            kind: e.kind(),
            id: e.id(g).to_string(),
            name: e.name(g).to_string(),
        }
    }
}

/// What the failure of a set of elements costs (one `restore` of them).
#[derive(Debug, Clone)]
pub struct Failure {
    /// Customer-hours: `vigie restore --down <them>`'s figure.
    pub customer_hours: f64,
    /// When everything is back (restore's `total_hours`).
    pub total_hours: f64,
    /// Assets down (those failed and everything running on them).
    pub assets_down: usize,
    /// Services down or degraded, in the order they come back.
    pub services: Vec<ServiceStep>,
    /// Segments affected, in the order they come back.
    pub segments: Vec<SegmentImpact>,
}

/// One element's N-1 failure.
#[derive(Debug, Clone)]
pub struct Single {
    pub element: ElementRef,
    pub failure: Failure,
}

/// An element whose single failure takes a service down.
#[derive(Debug, Clone)]
pub struct SpofHit {
    pub element: ElementRef,
    /// Hours the service stays down.
    pub down_hours: f64,
}

/// A service and its single points of failure.
#[derive(Debug, Clone)]
pub struct ServiceSpof {
    pub id: String,
    pub name: String,
    /// Longest outage first, then by kind and id.
    pub spofs: Vec<SpofHit>,
}

/// The `spof` answer.
#[derive(Debug, Clone)]
pub struct SpofReport {
    pub assets: usize,
    pub flows: usize,
    pub crews: Option<usize>,
    /// Every element's N-1 failure, costliest first (ties: longest recovery, assets
    /// before flows, then id).
    pub singles: Vec<Single>,
    pub pairs: PairsReport,
    /// Every service in model order with its single points of failure.
    pub services: Vec<ServiceSpof>,
}

/// Prices the failure of `elems` together: one `restore` call.
pub fn fail(g: &Graph, elems: &[Element], crews: Option<usize>) -> Result<Failure, SimError> {
    let down: Vec<Target> = elems.iter().map(|e| e.target()).collect();
    let r = restore::restore(g, &down, crews)?;
    Ok(Failure {
        customer_hours: r.customer_hours,
        total_hours: r.total_hours,
        assets_down: r.assets.len(),
        services: r.services,
        segments: r.segments,
    })
}

/// Runs the stress test (see the module doc).
pub fn spof(g: &Graph, cfg: &SpofConfig) -> Result<SpofReport, SimError> {
    if cfg.crews == Some(0) {
        return Err(SimError::Invalid("--crews must be at least 1".into()));
    }
    match cfg.threads {
        Some(0) => Err(SimError::Invalid("--threads must be at least 1".into())),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| SimError::Invalid(format!("cannot start {n} threads: {e}")))?
            .install(|| run(g, cfg)),
        None => run(g, cfg),
    }
}

fn run(g: &Graph, cfg: &SpofConfig) -> Result<SpofReport, SimError> {
    let elems = elements(g);
    let failures: Vec<Failure> = elems
        .par_iter()
        .map(|&e| fail(g, &[e], cfg.crews))
        .collect::<Result<_, _>>()?;
    let pairs = pairs::pairs(g, &elems, &failures, cfg)?;
    let services = service_spofs(g, &elems, &failures);
    let mut singles: Vec<(Element, Failure)> = elems.iter().copied().zip(failures).collect();
    singles.sort_by(|(ea, a), (eb, b)| {
        b.customer_hours
            .total_cmp(&a.customer_hours)
            .then_with(|| b.total_hours.total_cmp(&a.total_hours))
            .then_with(|| ea.kind().cmp(eb.kind()))
            .then_with(|| ea.id(g).cmp(eb.id(g)))
    });
    let singles = singles
        .into_iter()
        .map(|(e, failure)| Single {
            element: ElementRef::of(g, e),
            failure,
        })
        .collect();
    let assets = elems
        .iter()
        .filter(|e| matches!(e, Element::Asset(_)))
        .count();
    Ok(SpofReport {
        assets,
        flows: elems.len() - assets,
        crews: cfg.crews,
        singles,
        pairs,
        services,
    })
}

/// Per service, the elements whose single failure takes it down.
fn service_spofs(g: &Graph, elems: &[Element], failures: &[Failure]) -> Vec<ServiceSpof> {
    let index: FxHashMap<&str, usize> = g
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut hits: Vec<Vec<(Element, f64)>> = vec![Vec::new(); g.services.len()];
    for (&e, f) in elems.iter().zip(failures) {
        for s in f.services.iter().filter(|s| s.state == "down") {
            if let Some(&i) = index.get(s.id.as_str()) {
                hits[i].push((e, s.up_hours));
            }
        }
    }
    g.services
        .iter()
        .zip(hits)
        .map(|(svc, mut h)| {
            h.sort_by(|(ea, a), (eb, b)| {
                b.total_cmp(a)
                    .then_with(|| ea.kind().cmp(eb.kind()))
                    .then_with(|| ea.id(g).cmp(eb.id(g)))
            });
            ServiceSpof {
                id: svc.id.clone(),
                name: svc.name.clone(),
                spofs: h
                    .into_iter()
                    .map(|(e, down_hours)| SpofHit {
                        element: ElementRef::of(g, e),
                        down_hours,
                    })
                    .collect(),
            }
        })
        .collect()
}
