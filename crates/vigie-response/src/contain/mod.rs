//! `contain`: the cheapest complete containment plan, alternatives, and the naive plans.

pub mod problem;
pub mod search;

use std::time::Instant;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::Error;
use crate::graph::{Graph, NodeId, NodeKind};
use crate::impact;
use crate::report::{summarize, tidy, tidy_ms, SegmentImpact, ServiceImpact};
pub use problem::Action;
use problem::{outage_of, reach, Cut, Problem};
use search::PathFinder;
pub use search::{SearchConfig, SearchStats};

/// What to contain.
#[derive(Debug, Clone, Default)]
pub struct ContainRequest {
    pub compromised: Vec<NodeId>,
    /// Assets to protect; None = crown jewels not themselves compromised.
    pub protect: Option<Vec<NodeId>>,
    pub config: SearchConfig,
}

/// One action, named for people.
#[derive(Debug, Clone)]
pub struct ActionReport {
    /// isolate | disable_identity | block_flow | take_offline
    pub action: &'static str,
    pub target: String,
    pub name: String,
}

/// A plan and what it costs.
#[derive(Debug, Clone)]
pub struct PlanReport {
    pub label: String,
    pub actions: Vec<ActionReport>,
    /// No attack path left from the compromised assets to a protected one.
    pub complete: bool,
    pub customer_hours: f64,
    pub services: Vec<ServiceImpact>,
    pub segments: Vec<SegmentImpact>,
    /// Customers who lose some service they use (down or degraded), over all segments.
    pub customers_affected: u64,
    /// Customers × the fraction of their service lost, over all segments: what separates a
    /// plan that costs everyone a minor service from one that cuts their main one
    /// (see [`crate::report::service_lost`]).
    pub customer_equivalents: f64,
    /// Assets (beyond the compromised ones) the attacker can still reach.
    pub residual_reach: usize,
    /// Protected assets still reachable (0 for a complete plan).
    pub protected_reached: usize,
    pub raw: Vec<Action>,
}

/// Optimality certificate of the cheapest plan.
#[derive(Debug, Clone)]
pub struct Optimality {
    /// The plan is proven cheapest (within --max-actions when given).
    pub optimal: bool,
    /// Proven lower bound on the cheapest complete plan (customer-hours).
    pub lower_bound: f64,
    /// plan cost - lower bound (0 when optimal).
    pub gap: f64,
}

/// The `contain` answer.
#[derive(Debug, Clone)]
pub struct ContainReport {
    pub compromised: Vec<String>,
    pub protected: Vec<String>,
    /// Requested protected assets dropped because they are already compromised.
    pub protected_already_compromised: Vec<String>,
    pub max_actions: Option<usize>,
    pub containment_hours: f64,
    /// None when no complete plan exists within --max-actions.
    pub plan: Option<PlanReport>,
    pub optimality: Optimality,
    pub alternatives: Vec<PlanReport>,
    pub isolate_everything: PlanReport,
    pub choke_points: PlanReport,
    pub search: SearchStats,
    pub elapsed_ms: f64,
}

/// Compute the containment report.
pub fn contain(g: &Graph, req: &ContainRequest) -> Result<ContainReport, Error> {
    let t0 = Instant::now();
    let sources: Vec<NodeId> = dedup(&req.compromised);
    if sources.is_empty() {
        return Err(Error::NoCompromised);
    }
    let src_set: FxHashSet<NodeId> = sources.iter().copied().collect();
    let wanted = match &req.protect {
        Some(p) => dedup(p),
        None => g.crown_jewels(),
    };
    let (targets, dropped): (Vec<NodeId>, Vec<NodeId>) =
        wanted.into_iter().partition(|n| !src_set.contains(n));
    if targets.is_empty() {
        return Err(Error::NothingToProtect);
    }
    let full = Problem::new(g, &sources, &targets, false);
    tracing::debug!(ms = t0.elapsed().as_secs_f64() * 1e3, "full problem built");
    let full_ids: FxHashMap<Action, u32> = full
        .actions
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, i as u32))
        .collect();
    let result = if req.config.max_actions.is_some() {
        search::search(&full, &req.config)
    } else {
        let reduced = Problem::new(g, &sources, &targets, true);
        tracing::debug!(
            ms = t0.elapsed().as_secs_f64() * 1e3,
            "reduced problem built"
        );
        let mut r = search::search(&reduced, &req.config);
        let free: FxHashSet<Action> = reduced.preapplied.iter().copied().collect();
        for f in &mut r.plans {
            f.actions = finish(&full, &full_ids, &f.actions, &free);
        }
        r.stats.free_actions_preapplied = reduced.preapplied.len();
        r
    };
    tracing::debug!(ms = t0.elapsed().as_secs_f64() * 1e3, ?result.stats, "containment search done");
    let mut plans: Vec<PlanReport> = Vec::new();
    let mut seen: FxHashSet<Vec<Action>> = FxHashSet::default();
    for (i, f) in result.plans.iter().enumerate() {
        let mut key = f.actions.clone();
        key.sort_unstable();
        if !seen.insert(key) {
            continue;
        }
        let label = if i == 0 {
            if result.optimal {
                "optimal"
            } else {
                "best found"
            }
        } else {
            "alternative"
        };
        plans.push(plan_report(g, &sources, &targets, label, f.actions.clone()));
    }
    let plan = if plans.is_empty() {
        None
    } else {
        Some(plans.remove(0))
    };
    let cost = plan.as_ref().map_or(f64::INFINITY, |p| p.customer_hours);
    let optimality = Optimality {
        optimal: result.optimal,
        lower_bound: tidy(result.lower_bound),
        gap: if result.optimal {
            0.0
        } else {
            tidy((cost - result.lower_bound).max(0.0))
        },
    };
    tracing::debug!(ms = t0.elapsed().as_secs_f64() * 1e3, "plans reported");
    let everything = isolate_everything(g, &sources);
    let chokes = choke_points(g, &full, &targets);
    tracing::debug!(ms = t0.elapsed().as_secs_f64() * 1e3, "naive plans built");
    let names = |v: &[NodeId]| {
        v.iter()
            .map(|&n| g.node_ids[n as usize].clone())
            .collect::<Vec<_>>()
    };
    Ok(ContainReport {
        compromised: names(&sources),
        protected: names(&targets),
        protected_already_compromised: names(&dropped),
        max_actions: req.config.max_actions,
        containment_hours: g.containment_hours,
        plan,
        optimality,
        alternatives: plans,
        isolate_everything: plan_report(
            g,
            &sources,
            &targets,
            "isolate every compromised and reachable asset",
            everything,
        ),
        choke_points: plan_report(
            g,
            &sources,
            &targets,
            "cut the choke points nearest the protected assets",
            chokes,
        ),
        search: result.stats,
        elapsed_ms: tidy_ms(t0.elapsed().as_secs_f64() * 1e3),
    })
}

fn dedup(v: &[NodeId]) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = Vec::with_capacity(v.len());
    for &n in v {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Add back only the pre-applied free actions the plan needs: while a path remains, take
/// the free action nearest the compromised end of it (smallest residual reach), then drop
/// every action whose removal keeps the plan complete.
fn finish(
    full: &Problem<'_>,
    ids: &FxHashMap<Action, u32>,
    costly: &[Action],
    free: &FxHashSet<Action>,
) -> Vec<Action> {
    let mut pf = PathFinder::new(full);
    let mut state: Vec<u32> = costly.iter().filter_map(|a| ids.get(a).copied()).collect();
    let mut added: Vec<u32> = Vec::new();
    while let Some(path) = pf.path(&state) {
        let pick = pf
            .branches(&path, &state)
            .into_iter()
            .find(|&a| free.contains(&full.actions[a as usize]));
        match pick {
            Some(a) => {
                state.push(a);
                added.push(a);
            }
            None => break, // cannot happen when the costly part is complete with all free actions
        }
    }
    // Minimality: try dropping the free additions (latest first), then the costly ones.
    let order: Vec<u32> = added
        .iter()
        .rev()
        .copied()
        .chain(state.iter().copied().filter(|a| !added.contains(a)))
        .collect();
    for a in order {
        let trial: Vec<u32> = state.iter().copied().filter(|&x| x != a).collect();
        if pf.path(&trial).is_none() {
            state = trial;
        }
    }
    state.iter().map(|&a| full.actions[a as usize]).collect()
}

/// Isolate (or disable) every compromised and reachable asset.
fn isolate_everything(g: &Graph, sources: &[NodeId]) -> Vec<Action> {
    let seen = reach(g, sources, None);
    (0..g.node_count())
        .filter(|&n| seen[n] && g.kinds[n] != NodeKind::Internet)
        .map(|n| Action::on_node(g, n as NodeId))
        .collect()
}

/// Isolate the last hop before each protected asset on every attack path (its in-neighbours
/// on the relevant subgraph); when that hop is the Internet, isolate the asset itself.
fn choke_points(g: &Graph, full: &Problem<'_>, targets: &[NodeId]) -> Vec<Action> {
    let tset: FxHashSet<NodeId> = targets.iter().copied().collect();
    let relevant: FxHashSet<NodeId> = full.nodes.iter().copied().collect();
    let mut out: Vec<Action> = Vec::new();
    let mut seen: FxHashSet<Action> = FxHashSet::default();
    let mut push = |a: Action| {
        if seen.insert(a) {
            out.push(a)
        }
    };
    for &t in targets {
        if !relevant.contains(&t) {
            continue;
        }
        for &e in g.in_edges(t) {
            let u = g.edge_from[e as usize];
            if !relevant.contains(&u) || tset.contains(&u) {
                continue;
            }
            if g.kinds[u as usize] == NodeKind::Internet {
                push(Action::on_node(g, t));
            } else {
                push(Action::on_node(g, u));
            }
        }
    }
    out
}

/// Cost, impact and residual reach of a plan.
pub fn plan_report(
    g: &Graph,
    sources: &[NodeId],
    targets: &[NodeId],
    label: &str,
    actions: Vec<Action>,
) -> PlanReport {
    let imp = impact::evaluate(g, &outage_of(&actions), g.containment_hours, None);
    let (services, segments) = summarize(g, &imp);
    let cut = Cut::new(g, &actions);
    let seen = reach(g, sources, Some(&cut));
    let reached = seen.iter().filter(|&&b| b).count();
    let src_alive = sources.iter().filter(|&&s| seen[s as usize]).count();
    let protected_reached = targets.iter().filter(|&&t| seen[t as usize]).count();
    PlanReport {
        label: label.to_string(),
        actions: actions.iter().map(|&a| action_report(g, a)).collect(),
        complete: protected_reached == 0,
        customer_hours: tidy(imp.total),
        customers_affected: segments.iter().map(|s| s.customers_affected).sum(),
        customer_equivalents: tidy(segments.iter().map(|s| s.customer_equivalents).sum()),
        services,
        segments,
        residual_reach: reached - src_alive,
        protected_reached,
        raw: actions,
    }
}

/// Name an action for people.
pub fn action_report(g: &Graph, a: Action) -> ActionReport {
    let (action, target, name) = match a {
        Action::Isolate(n) => (
            "isolate",
            &g.node_ids[n as usize],
            &g.node_names[n as usize],
        ),
        Action::Disable(n) => (
            "disable_identity",
            &g.node_ids[n as usize],
            &g.node_names[n as usize],
        ),
        Action::Block(f) => (
            "block_flow",
            &g.flows[f as usize].id,
            &g.flows[f as usize].id,
        ),
        Action::Offline(s) => (
            "take_offline",
            &g.services[s as usize].id,
            &g.services[s as usize].name,
        ),
    };
    ActionReport {
        action,
        target: target.clone(),
        name: name.clone(),
    }
}
