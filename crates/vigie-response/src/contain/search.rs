//! Exact cheapest containment: best-first branch and bound over action sets.
//!
//! A state is a set of candidate actions. Its priority is its own cost, which is a lower
//! bound for every superset because cost is monotone (more actions never bring anything
//! back sooner). Expanding a state finds one remaining attack path (fewest hops) and
//! branches on every action that touches it: any complete plan containing the state must
//! contain one of them. So the first complete state popped is a cheapest complete plan, and
//! the following *minimal* complete states come out in increasing cost order (the
//! alternatives). Duplicate sets reached in different orders are dropped by a memo.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rustc_hash::FxHashSet;

use super::problem::{outage_of, Action, Problem};
use crate::impact;

/// Search limits.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// Plans have at most this many actions (free actions applied up front count too, so
    /// with a limit they are not pre-applied).
    pub max_actions: Option<usize>,
    /// How many alternative plans to look for after the optimum.
    pub alternatives: usize,
    /// Expansion budget; when exhausted the best plan found is returned as not proven optimal.
    pub max_expansions: usize,
    /// Wall-clock budget for the search, same treatment (None: unlimited).
    pub time_limit: Option<std::time::Duration>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            max_actions: None,
            alternatives: 3,
            max_expansions: 20_000,
            time_limit: None,
        }
    }
}

/// Counters describing the search effort.
#[derive(Debug, Clone, Default)]
pub struct SearchStats {
    /// Candidate actions the search branched over.
    pub candidate_actions: usize,
    /// Free actions applied up front (they never cost anything).
    pub free_actions_preapplied: usize,
    /// Relevant nodes / edges (on some compromised -> protected path).
    pub relevant_nodes: usize,
    pub relevant_edges: usize,
    pub states_expanded: usize,
    pub states_generated: usize,
    pub budget_exhausted: bool,
}

/// One complete plan found by the search (actions excluding the pre-applied free ones).
#[derive(Debug, Clone)]
pub struct Found {
    pub actions: Vec<Action>,
    pub cost: f64,
}

/// Search outcome.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Best first. Empty only when no complete plan exists within `max_actions`.
    pub plans: Vec<Found>,
    /// The first plan is proven cheapest.
    pub optimal: bool,
    /// Proven lower bound on the cheapest complete plan's cost.
    pub lower_bound: f64,
    pub stats: SearchStats,
}

struct Entry {
    cost: f64,
    len: usize,
    id: usize,
}
impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap and we want the cheapest, then shortest, then oldest.
    fn cmp(&self, o: &Self) -> Ordering {
        o.cost
            .total_cmp(&self.cost)
            .then_with(|| o.len.cmp(&self.len))
            .then_with(|| o.id.cmp(&self.id))
    }
}

/// Reusable buffers for path finding under a set of actions.
pub struct PathFinder<'p, 'g> {
    p: &'p Problem<'g>,
    local: Vec<u32>,
    epoch: u32,
    removed: Vec<u32>,
    blocked: Vec<u32>,
    /// Flows blocked by the pre-applied free actions (permanently).
    pre_blocked: Vec<bool>,
    seen: Vec<u32>,
    pred: Vec<u32>,
    queue: Vec<u32>,
}

impl<'p, 'g> PathFinder<'p, 'g> {
    pub fn new(p: &'p Problem<'g>) -> Self {
        let mut local = vec![crate::graph::NONE; p.g.node_count()];
        for (i, &n) in p.nodes.iter().enumerate() {
            local[n as usize] = i as u32;
        }
        let mut pre_blocked = vec![false; p.g.flows.len()];
        for a in &p.preapplied {
            if let Action::Block(f) = *a {
                pre_blocked[f as usize] = true;
            }
        }
        PathFinder {
            p,
            pre_blocked,
            local,
            epoch: 0,
            removed: vec![0; p.nodes.len()],
            blocked: vec![0; p.g.flows.len()],
            seen: vec![0; p.nodes.len()],
            pred: vec![0; p.nodes.len()],
            queue: Vec::new(),
        }
    }

    fn apply(&mut self, state: &[u32]) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Stamps wrapped: clear so stale marks cannot alias.
            self.removed.fill(0);
            self.blocked.fill(0);
            self.seen.fill(0);
            self.epoch = 1;
        }
        let g = self.p.g;
        for &a in state {
            match self.p.actions[a as usize] {
                Action::Isolate(n) | Action::Disable(n) => {
                    let l = self.local[n as usize];
                    if l != crate::graph::NONE {
                        self.removed[l as usize] = self.epoch;
                    }
                }
                Action::Block(f) => self.blocked[f as usize] = self.epoch,
                Action::Offline(s) => {
                    for &n in &g.services[s as usize].exclusive_nodes {
                        let l = self.local[n as usize];
                        if l != crate::graph::NONE {
                            self.removed[l as usize] = self.epoch;
                        }
                    }
                }
            }
        }
    }

    #[inline]
    fn edge_open(&self, le: usize) -> bool {
        let p = self.p;
        if self.removed[p.edge_to[le] as usize] == self.epoch {
            return false;
        }
        let fl = p.g.edge_flows(p.edge_global[le] as usize);
        fl.is_empty()
            || fl
                .iter()
                .any(|&f| self.blocked[f as usize] != self.epoch && !self.pre_blocked[f as usize])
    }

    /// A fewest-hops attack path remaining under `state`, as local edges (None: complete).
    pub fn path(&mut self, state: &[u32]) -> Option<Vec<u32>> {
        self.apply(state);
        let p = self.p;
        self.queue.clear();
        for &s in &p.sources {
            if self.removed[s as usize] != self.epoch && self.seen[s as usize] != self.epoch {
                self.seen[s as usize] = self.epoch;
                self.pred[s as usize] = crate::graph::NONE;
                self.queue.push(s);
            }
        }
        let mut head = 0;
        while head < self.queue.len() {
            let u = self.queue[head];
            head += 1;
            for le in p.out_start[u as usize] as usize..p.out_start[u as usize + 1] as usize {
                let v = p.edge_to[le];
                if self.seen[v as usize] == self.epoch || !self.edge_open(le) {
                    continue;
                }
                self.seen[v as usize] = self.epoch;
                self.pred[v as usize] = le as u32;
                if p.is_target[v as usize] {
                    return Some(self.trace(v));
                }
                self.queue.push(v);
            }
        }
        None
    }

    fn trace(&self, mut v: u32) -> Vec<u32> {
        let mut edges = Vec::new();
        loop {
            let le = self.pred[v as usize];
            if le == crate::graph::NONE {
                break;
            }
            edges.push(le);
            // The edge's source: the local node whose out range contains le.
            let u = self.p.out_start.partition_point(|&s| s <= le) - 1;
            v = u as u32;
        }
        edges.reverse();
        edges
    }

    /// Actions (not in `state`) that cut `path`: remove one of its nodes or block a flow
    /// one of its edges needs.
    pub fn branches(&self, path: &[u32], state: &[u32]) -> Vec<u32> {
        let p = self.p;
        let mut out: Vec<u32> = Vec::new();
        let push = |a: u32, out: &mut Vec<u32>| {
            if !state.contains(&a) && !out.contains(&a) {
                out.push(a);
            }
        };
        if let Some(&first) = path.first() {
            let u = p.out_start.partition_point(|&s| s <= first) - 1;
            for &a in p.node_actions(u as u32) {
                push(a, &mut out);
            }
        }
        for &le in path {
            for &a in p.node_actions(p.edge_to[le as usize]) {
                push(a, &mut out);
            }
            for &f in p.g.edge_flows(p.edge_global[le as usize] as usize) {
                if let Some(&a) = p.flow_action.get(&f) {
                    push(a, &mut out);
                }
            }
        }
        out
    }
}

/// Cost of a state (candidate action ids) in customer-hours.
pub fn state_cost(p: &Problem<'_>, state: &[u32]) -> f64 {
    let acts: Vec<Action> = state.iter().map(|&a| p.actions[a as usize]).collect();
    impact::cost(p.g, &outage_of(&acts))
}

/// Run the exact search.
pub fn search(p: &Problem<'_>, cfg: &SearchConfig) -> SearchResult {
    let mut pf = PathFinder::new(p);
    let mut stats = SearchStats {
        candidate_actions: p.actions.len(),
        free_actions_preapplied: p.preapplied.len(),
        relevant_nodes: p.nodes.len(),
        relevant_edges: p.edge_to.len(),
        ..Default::default()
    };
    let mut states: Vec<Vec<u32>> = vec![Vec::new()];
    let mut memo: FxHashSet<Vec<u32>> = FxHashSet::default();
    memo.insert(Vec::new());
    let mut heap = BinaryHeap::new();
    heap.push(Entry {
        cost: state_cost(p, &[]),
        len: 0,
        id: 0,
    });
    stats.states_generated = 1;
    let mut plans: Vec<Found> = Vec::new();
    let mut lower_bound = f64::INFINITY;
    let mut budget_state: Option<usize> = None;
    let started = std::time::Instant::now();
    while let Some(Entry { cost, id, .. }) = heap.pop() {
        let state = std::mem::take(&mut states[id]);
        if plans.is_empty() {
            lower_bound = cost;
        }
        match pf.path(&state) {
            None => {
                if is_minimal(&mut pf, &state) {
                    plans.push(found(p, &state, cost));
                    if plans.len() > cfg.alternatives {
                        break;
                    }
                }
                continue;
            }
            Some(path) => {
                if cfg.max_actions.is_some_and(|m| state.len() >= m) {
                    continue;
                }
                if stats.states_expanded >= cfg.max_expansions
                    || cfg.time_limit.is_some_and(|t| started.elapsed() >= t)
                {
                    stats.budget_exhausted = true;
                    budget_state = Some(id);
                    states[id] = state;
                    break;
                }
                stats.states_expanded += 1;
                for a in pf.branches(&path, &state) {
                    let mut next = state.clone();
                    let pos = next.partition_point(|&x| x < a);
                    next.insert(pos, a);
                    if !memo.insert(next.clone()) {
                        continue;
                    }
                    let c = state_cost(p, &next);
                    let nid = states.len();
                    heap.push(Entry {
                        cost: c,
                        len: next.len(),
                        id: nid,
                    });
                    states.push(next);
                    stats.states_generated += 1;
                }
            }
        }
    }
    if plans.is_empty() && heap.is_empty() && budget_state.is_none() {
        // Exhausted: no complete plan within max_actions.
        lower_bound = f64::INFINITY;
    }
    let optimal = !plans.is_empty();
    if let (true, Some(id)) = (plans.is_empty(), budget_state) {
        // Budget hit before any complete plan: complete greedily from the cheapest open
        // states (the bound stays the cheapest open cost).
        let mut tried = vec![id];
        let mut extra = Vec::new();
        while tried.len() + extra.len() < 8 {
            match heap.pop() {
                Some(e) => extra.push(e.id),
                None => break,
            }
        }
        tried.extend(extra);
        let mut best: Option<Found> = None;
        for sid in tried {
            let start = states[sid].clone();
            if let Some(done) = greedy_complete(p, &mut pf, start, cfg.max_actions) {
                let c = state_cost(p, &done);
                if best.as_ref().is_none_or(|b| c < b.cost) {
                    best = Some(found(p, &done, c));
                }
            }
        }
        plans.extend(best);
    }
    SearchResult {
        plans,
        optimal,
        lower_bound,
        stats,
    }
}

fn found(p: &Problem<'_>, state: &[u32], cost: f64) -> Found {
    Found {
        actions: state.iter().map(|&a| p.actions[a as usize]).collect(),
        cost,
    }
}

/// Removing any one action leaves an attack path.
fn is_minimal(pf: &mut PathFinder<'_, '_>, state: &[u32]) -> bool {
    let mut sub = Vec::with_capacity(state.len());
    for i in 0..state.len() {
        sub.clear();
        sub.extend(
            state
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, &a)| a),
        );
        if pf.path(&sub).is_none() {
            return false;
        }
    }
    true
}

/// Add, path after path, the branch action with the smallest resulting cost.
pub fn greedy_complete(
    p: &Problem<'_>,
    pf: &mut PathFinder<'_, '_>,
    mut state: Vec<u32>,
    max_actions: Option<usize>,
) -> Option<Vec<u32>> {
    while let Some(path) = pf.path(&state) {
        if max_actions.is_some_and(|m| state.len() >= m) {
            return None;
        }
        let mut best: Option<(f64, u32)> = None;
        for a in pf.branches(&path, &state) {
            let mut next = state.clone();
            next.push(a);
            next.sort_unstable();
            let c = state_cost(p, &next);
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, a));
            }
        }
        let (_, a) = best?;
        state.push(a);
        state.sort_unstable();
    }
    Some(state)
}
