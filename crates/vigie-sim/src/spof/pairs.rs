//! N-2: the joint failure of two elements, and which pairs are evaluated.
//!
//! **Exhaustive** evaluates all n(n−1)/2 pairs. **Screened** evaluates three sets, in
//! this order, within a budget ([`super::PAIR_BUDGET`]):
//!
//! 1. *group pairs*: every pair of elements that both take down (in their N-1 failure) a
//!    member of one redundancy group: a dependency `any_of` of n members needing k < n
//!    (hard or soft; a member is an asset down or a service down);
//! 2. *top pairs*: every pair among the `screen` costliest single failures;
//! 3. *bound pairs*: with θ the `top`-th highest joint cost found so far (0 if fewer pairs
//!    cost anything), every other pair whose N-1 costs sum to at least θ (above 0 when
//!    θ = 0).
//!
//! **Guarantee** (with unbounded crews). With everything restarting as soon as it can, an
//! asset's return time under a pair failure is the later of its return times under each
//! failure alone (its chain of down hosts is the longer of the two), and so is a
//! service's — its hard-ready time is a max over dependencies, each the k-th earliest
//! return of its members — *unless* some k-of-n group with k < n has members taken down
//! by both failures: the k-th order statistic of a componentwise max can exceed both
//! order statistics only then (for k = n it is the max itself). A segment's loss,
//! `(1 − w)·up + w·max(up, soft-ready)`, is then at most the sum of the two losses. Hence
//! a pair that is not a group pair costs at most the sum of its N-1 costs: every
//! *interaction* (joint cost above that sum) is a group pair, all evaluated by step 1,
//! and no pair left out can cost more than θ after step 3, so the `top` pairs listed are
//! the costliest of all pairs (`exact_top`, checked against exhaustive by a proptest).
//! With `--crews`, failures compete for crews and the bound does not hold: the screened
//! pairs are a heuristic there and the report says so (`exact_top`, `all_interactions`
//! false). Hitting the budget is reported the same way, with the highest N-1 sum of a
//! pair left out (`unevaluated_bound`).

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use vigie_response::graph::{Graph, Member, Target};
use vigie_response::impact::{self, Outage};

use super::{fail, Element, ElementRef, Failure, SpofConfig};
use crate::SimError;

/// How pairs are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMode {
    /// Exhaustive up to `exhaustive_max` elements, screened beyond.
    Auto,
    Exhaustive,
    Screened,
    None,
}

/// A pair failing together.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The costlier of the two alone (ties: as the N-1 ranking).
    pub a: ElementRef,
    pub b: ElementRef,
    pub a_customer_hours: f64,
    pub b_customer_hours: f64,
    /// Joint cost minus the sum of the two N-1 costs (> 0: an interaction).
    pub excess: f64,
    pub failure: Failure,
}

/// How many pairs each screening step added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screening {
    pub group_pairs: usize,
    pub top_pairs: usize,
    pub bound_pairs: usize,
    /// The budget stopped a step.
    pub budget_hit: bool,
    /// Step 1 ran whole (the budget did not cut it): every interaction was evaluated.
    pub groups_complete: bool,
}

/// The N-2 answer.
#[derive(Debug, Clone)]
pub struct PairsReport {
    /// `exhaustive`, `screened` or `none`.
    pub mode: &'static str,
    /// All pairs of elements, n(n−1)/2.
    pub total: u64,
    pub evaluated: usize,
    /// Screened mode: what each step added.
    pub screening: Option<Screening>,
    /// The listed top pairs are the costliest of all pairs.
    pub exact_top: bool,
    /// Every interacting pair was evaluated.
    pub all_interactions: bool,
    /// The highest sum of N-1 costs over the pairs not evaluated (None: none left out).
    pub unevaluated_bound: Option<f64>,
    /// Interacting pairs among those evaluated.
    pub interacting: usize,
    /// Costliest pairs (cost > 0), at most `top`.
    pub top: Vec<Pair>,
    /// Largest interactions first, at most `top`.
    pub interactions: Vec<Pair>,
}

/// An evaluated pair: element indexes (a before b in the N-1 ranking) and joint cost.
#[derive(Debug, Clone, Copy)]
struct Eval {
    a: u32,
    b: u32,
    cost: f64,
}

fn tol(x: f64) -> f64 {
    1e-9 * x.abs().max(1.0)
}

/// Is `joint` above `sum` by more than rounding?
pub fn interacts(joint: f64, sum: f64) -> bool {
    joint > sum + tol(sum)
}

/// N-2 over `elems`, whose N-1 failures are `singles` (same order).
pub(super) fn pairs(
    g: &Graph,
    elems: &[Element],
    singles: &[Failure],
    cfg: &SpofConfig,
) -> Result<PairsReport, SimError> {
    let n = elems.len();
    let total = (n as u64) * (n as u64).saturating_sub(1) / 2;
    let exhaustive = match cfg.pairs {
        PairMode::None => {
            return Ok(PairsReport {
                mode: "none",
                total,
                evaluated: 0,
                screening: None,
                exact_top: false,
                all_interactions: false,
                unevaluated_bound: None,
                interacting: 0,
                top: Vec::new(),
                interactions: Vec::new(),
            })
        }
        PairMode::Exhaustive => true,
        PairMode::Screened => false,
        PairMode::Auto => n <= cfg.exhaustive_max,
    };
    let cost: Vec<f64> = singles.iter().map(|f| f.customer_hours).collect();
    // rank[i]: element i's place in the N-1 ranking (the order pairs are oriented and
    // ties broken by).
    let order = ranking(g, elems, singles);
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let key = |i: u32, j: u32| {
        if rank[i as usize] < rank[j as usize] {
            (i, j)
        } else {
            (j, i)
        }
    };
    let eval = |ps: &[(u32, u32)]| -> Result<Vec<Eval>, SimError> {
        ps.par_iter()
            .map(|&(a, b)| {
                let (a, b) = key(a, b);
                let down = [elems[a as usize].target(), elems[b as usize].target()];
                let r = vigie_response::restore::restore(g, &down, cfg.crews)?;
                Ok(Eval {
                    a,
                    b,
                    cost: r.customer_hours,
                })
            })
            .collect()
    };
    let (evals, screening, bound) = if exhaustive {
        let all: Vec<(u32, u32)> = (0..n as u32)
            .flat_map(|i| (i + 1..n as u32).map(move |j| (i, j)))
            .collect();
        (eval(&all)?, None, None)
    } else {
        screened(g, elems, &cost, &order, cfg, &key, &eval)?
    };
    let mut ranked: Vec<Eval> = evals.iter().copied().filter(|e| e.cost > 0.0).collect();
    ranked.sort_by(|x, y| {
        y.cost
            .total_cmp(&x.cost)
            .then_with(|| rank[x.a as usize].cmp(&rank[y.a as usize]))
            .then_with(|| rank[x.b as usize].cmp(&rank[y.b as usize]))
    });
    let excess = |e: &Eval| e.cost - (cost[e.a as usize] + cost[e.b as usize]);
    let mut inter: Vec<Eval> = evals
        .iter()
        .copied()
        .filter(|e| interacts(e.cost, cost[e.a as usize] + cost[e.b as usize]))
        .collect();
    inter.sort_by(|x, y| {
        excess(y)
            .total_cmp(&excess(x))
            .then_with(|| y.cost.total_cmp(&x.cost))
            .then_with(|| rank[x.a as usize].cmp(&rank[y.a as usize]))
            .then_with(|| rank[x.b as usize].cmp(&rank[y.b as usize]))
    });
    let interacting = inter.len();
    let theta = (cfg.top > 0)
        .then(|| ranked.get(cfg.top - 1).map(|e| e.cost))
        .flatten();
    let guaranteed = exhaustive || cfg.crews.is_none();
    let exact_top = exhaustive
        || cfg.top == 0
        || (guaranteed && bound.is_none_or(|b| b <= 0.0 || theta.is_some_and(|t| b < t - tol(t))));
    let all_interactions =
        exhaustive || (guaranteed && screening.as_ref().is_some_and(|s| s.groups_complete));
    ranked.truncate(cfg.top);
    inter.truncate(cfg.top);
    let detail = |v: &[Eval]| -> Result<Vec<Pair>, SimError> {
        v.par_iter()
            .map(|e| {
                let (a, b) = (elems[e.a as usize], elems[e.b as usize]);
                let failure = fail(g, &[a, b], cfg.crews)?;
                Ok(Pair {
                    a: ElementRef::of(g, a),
                    b: ElementRef::of(g, b),
                    a_customer_hours: cost[e.a as usize],
                    b_customer_hours: cost[e.b as usize],
                    excess: excess(e),
                    failure,
                })
            })
            .collect()
    };
    Ok(PairsReport {
        mode: if exhaustive { "exhaustive" } else { "screened" },
        total,
        evaluated: evals.len(),
        screening,
        exact_top,
        all_interactions,
        unevaluated_bound: bound,
        interacting,
        top: detail(&ranked)?,
        interactions: detail(&inter)?,
    })
}

/// Element indexes in the N-1 ranking (costliest first; ties: longest recovery, assets
/// before flows, id), the same order as [`super::SpofReport::singles`].
pub(super) fn ranking(g: &Graph, elems: &[Element], singles: &[Failure]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..elems.len() as u32).collect();
    order.sort_by(|&x, &y| {
        let (a, b) = (&singles[x as usize], &singles[y as usize]);
        let (ea, eb) = (elems[x as usize], elems[y as usize]);
        b.customer_hours
            .total_cmp(&a.customer_hours)
            .then_with(|| b.total_hours.total_cmp(&a.total_hours))
            .then_with(|| ea.kind().cmp(eb.kind()))
            .then_with(|| ea.id(g).cmp(eb.id(g)))
    });
    order
}

type Screened = (Vec<Eval>, Option<Screening>, Option<f64>);
/// Evaluates a batch of pairs (element indexes).
type EvalFn<'a> = dyn Fn(&[(u32, u32)]) -> Result<Vec<Eval>, SimError> + 'a;

/// The three screening steps (module doc); returns the evaluations, what each step
/// added, and the highest N-1 sum of a pair left out.
fn screened(
    g: &Graph,
    elems: &[Element],
    cost: &[f64],
    order: &[u32],
    cfg: &SpofConfig,
    key: &(dyn Fn(u32, u32) -> (u32, u32) + Sync),
    eval: &EvalFn,
) -> Result<Screened, SimError> {
    let mut st = Screening::default();
    let mut seen: FxHashSet<(u32, u32)> = FxHashSet::default();
    let budget = cfg.pair_budget;
    let mut take = |ps: &mut Vec<(u32, u32)>, p: (u32, u32), hit: &mut bool| {
        if seen.len() >= budget {
            *hit = true;
        } else if seen.insert(key(p.0, p.1)) {
            ps.push(key(p.0, p.1));
        }
    };
    let mut first: Vec<(u32, u32)> = Vec::new();
    let mut hit = false;
    'groups: for members in group_touchers(g, elems) {
        for (x, &i) in members.iter().enumerate() {
            if hit {
                break 'groups;
            }
            for &j in &members[x + 1..] {
                take(&mut first, (i, j), &mut hit);
            }
        }
    }
    st.group_pairs = first.len();
    let group_hit = hit;
    let k = cfg.screen.min(order.len());
    for x in 0..k {
        for y in x + 1..k {
            take(&mut first, (order[x], order[y]), &mut hit);
        }
    }
    st.top_pairs = first.len() - st.group_pairs;
    let mut evals = eval(&first)?;
    if cfg.top > 0 {
        let mut costs: Vec<f64> = evals.iter().map(|e| e.cost).filter(|&c| c > 0.0).collect();
        costs.sort_by(|a, b| b.total_cmp(a));
        let theta = costs.get(cfg.top - 1).copied().unwrap_or(0.0);
        let wanted = |s: f64| {
            if theta > 0.0 {
                s >= theta - tol(theta)
            } else {
                s > 0.0
            }
        };
        let mut more: Vec<(u32, u32)> = Vec::new();
        'rows: for x in 0..order.len() {
            let ci = cost[order[x] as usize];
            for &j in &order[x + 1..] {
                if !wanted(ci + cost[j as usize]) {
                    if j == order.get(x + 1).copied().unwrap_or(u32::MAX) {
                        break 'rows;
                    }
                    break;
                }
                take(&mut more, (order[x], j), &mut hit);
                if hit {
                    break 'rows;
                }
            }
        }
        st.bound_pairs = more.len();
        evals.extend(eval(&more)?);
    }
    st.budget_hit = hit;
    st.groups_complete = !group_hit;
    let bound = left_out_bound(cost, order, &seen);
    Ok((evals, Some(st), bound))
}

/// For each redundancy group (k < n members needed), the elements whose N-1 failure
/// takes down at least one of its members, in element order.
fn group_touchers(g: &Graph, elems: &[Element]) -> Vec<Vec<u32>> {
    // Group ids by member.
    let mut node_groups: Vec<Vec<u32>> = vec![Vec::new(); g.node_count()];
    let mut svc_groups: Vec<Vec<u32>> = vec![Vec::new(); g.services.len()];
    let mut groups = 0u32;
    for svc in &g.services {
        for d in &svc.deps {
            if (d.k.max(1) as usize) >= d.members.len() {
                continue;
            }
            for &m in &d.members {
                match m {
                    Member::Node(x) => node_groups[x as usize].push(groups),
                    Member::Service(x) => svc_groups[x as usize].push(groups),
                }
            }
            groups += 1;
        }
    }
    let touched: Vec<Vec<u32>> = elems
        .par_iter()
        .map(|&e| {
            let mut o = Outage::default();
            match e.target() {
                Target::Node(x) => o.nodes.push(x),
                Target::Flow(f) => o.flows.push(f),
                Target::Service(s) => o.services.push(s),
            }
            let imp = impact::evaluate(g, &o, 0.0, None);
            let mut t: Vec<u32> = Vec::new();
            for &x in imp.nodes.times.keys() {
                t.extend(&node_groups[x as usize]);
            }
            for (s, &up) in imp.service_up.iter().enumerate() {
                if up > 0.0 {
                    t.extend(&svc_groups[s]);
                }
            }
            t.sort_unstable();
            t.dedup();
            t
        })
        .collect();
    let mut by_group: Vec<Vec<u32>> = vec![Vec::new(); groups as usize];
    for (i, t) in touched.iter().enumerate() {
        for &d in t {
            by_group[d as usize].push(i as u32);
        }
    }
    by_group
}

/// The highest `cost[a] + cost[b]` over pairs not in `seen` (None when every pair is).
fn left_out_bound(cost: &[f64], order: &[u32], seen: &FxHashSet<(u32, u32)>) -> Option<f64> {
    let has = |i: u32, j: u32| seen.contains(&(i, j)) || seen.contains(&(j, i));
    let mut best: Option<f64> = None;
    for x in 0..order.len() {
        let ci = cost[order[x] as usize];
        if let (Some(b), Some(&next)) = (best, order.get(x + 1)) {
            // Rows are sorted: nothing further down can beat `best`.
            if ci + cost[next as usize] <= b {
                break;
            }
        }
        if let Some(&j) = order[x + 1..].iter().find(|&&j| !has(order[x], j)) {
            let s = ci + cost[j as usize];
            if best.is_none_or(|b| s > b) {
                best = Some(s);
            }
        }
    }
    best
}
