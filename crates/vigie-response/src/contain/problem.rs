//! The containment problem restricted to what matters: the nodes and edges on some path
//! from a compromised asset to a protected one, and the actions that can cut them.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::graph::{Graph, NodeId, NodeKind, NONE};
use crate::impact::Outage;

/// A containment action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "action", content = "target", rename_all = "snake_case")]
pub enum Action {
    /// Cut an asset off the network: nothing reaches it, nothing leaves it; it is down.
    Isolate(NodeId),
    /// Disable an identity (account or group).
    Disable(NodeId),
    /// Block a zone-to-zone flow; the services crossing it are down.
    Block(u32),
    /// Take a service offline; the assets that exist only for it leave the attack graph.
    Offline(u32),
}

impl Action {
    /// The action on node `n`: disable for identities, isolate otherwise.
    pub fn on_node(g: &Graph, n: NodeId) -> Action {
        if g.kinds[n as usize].is_identity() {
            Action::Disable(n)
        } else {
            Action::Isolate(n)
        }
    }

    /// Does this action never change the cost, whatever else is done? (It touches nothing
    /// any service depends on.)
    pub fn is_free(self, g: &Graph) -> bool {
        match self {
            Action::Isolate(n) | Action::Disable(n) => !g.referenced[n as usize],
            Action::Block(f) => g.flows[f as usize].services.is_empty(),
            Action::Offline(_) => false,
        }
    }
}

/// The outage a set of actions causes.
pub fn outage_of(actions: &[Action]) -> Outage {
    let mut o = Outage::default();
    for a in actions {
        match *a {
            Action::Isolate(n) | Action::Disable(n) => o.nodes.push(n),
            Action::Block(f) => o.flows.push(f),
            Action::Offline(s) => o.services.push(s),
        }
    }
    o
}

/// Removed nodes and blocked flows of a plan, over the full graph.
pub struct Cut {
    pub removed: Vec<bool>,
    pub blocked: Vec<bool>,
}

impl Cut {
    pub fn new(g: &Graph, actions: &[Action]) -> Cut {
        let mut removed = vec![false; g.node_count()];
        let mut blocked = vec![false; g.flows.len()];
        for a in actions {
            match *a {
                Action::Isolate(n) | Action::Disable(n) => removed[n as usize] = true,
                Action::Block(f) => blocked[f as usize] = true,
                Action::Offline(s) => {
                    for &n in &g.services[s as usize].exclusive_nodes {
                        removed[n as usize] = true;
                    }
                }
            }
        }
        Cut { removed, blocked }
    }

    /// Is edge `e` still usable by the attacker?
    #[inline]
    pub fn edge_open(&self, g: &Graph, e: usize) -> bool {
        if self.removed[g.edge_to[e] as usize] {
            return false;
        }
        let fl = g.edge_flows(e);
        fl.is_empty() || fl.iter().any(|&f| !self.blocked[f as usize])
    }
}

/// Nodes reachable from `sources` (excluding removed sources) under a cut; the sources
/// themselves are included.
pub fn reach(g: &Graph, sources: &[NodeId], cut: Option<&Cut>) -> Vec<bool> {
    let mut seen = vec![false; g.node_count()];
    let mut stack: Vec<NodeId> = Vec::new();
    for &s in sources {
        if cut.is_some_and(|c| c.removed[s as usize]) || seen[s as usize] {
            continue;
        }
        seen[s as usize] = true;
        stack.push(s);
    }
    while let Some(u) = stack.pop() {
        for e in g.out_edges(u) {
            let v = g.edge_to[e] as usize;
            if seen[v] || cut.is_some_and(|c| !c.edge_open(g, e)) {
                continue;
            }
            seen[v] = true;
            stack.push(v as NodeId);
        }
    }
    seen
}

/// Nodes from which some target is reachable (backward search), targets included.
pub fn coreach(g: &Graph, targets: &[NodeId], cut: Option<&Cut>) -> Vec<bool> {
    let mut seen = vec![false; g.node_count()];
    let mut stack: Vec<NodeId> = Vec::new();
    for &t in targets {
        if cut.is_some_and(|c| c.removed[t as usize]) || seen[t as usize] {
            continue;
        }
        seen[t as usize] = true;
        stack.push(t);
    }
    while let Some(v) = stack.pop() {
        for &e in g.in_edges(v) {
            let e = e as usize;
            let u = g.edge_from[e] as usize;
            if seen[u] || cut.is_some_and(|c| c.removed[u] || !c.edge_open(g, e)) {
                continue;
            }
            seen[u] = true;
            stack.push(u as NodeId);
        }
    }
    seen
}

/// The relevant subgraph with locally numbered nodes and the candidate actions.
pub struct Problem<'g> {
    pub g: &'g Graph,
    /// Local node -> global node.
    pub nodes: Vec<NodeId>,
    pub out_start: Vec<u32>,
    pub edge_to: Vec<u32>,
    /// Local edge -> global edge (for its flows).
    pub edge_global: Vec<u32>,
    pub is_source: Vec<bool>,
    pub is_target: Vec<bool>,
    pub sources: Vec<u32>,
    /// Candidate actions (indices are the search's action ids).
    pub actions: Vec<Action>,
    /// Per local node: action ids that remove it (CSR).
    pub node_act_start: Vec<u32>,
    pub node_act: Vec<u32>,
    /// Global flow -> action id, for blockable flows on relevant edges.
    pub flow_action: FxHashMap<u32, u32>,
    /// Free actions applied up front (empty unless requested).
    pub preapplied: Vec<Action>,
}

impl<'g> Problem<'g> {
    /// Build the problem. With `preapply_free`, every free candidate action (one that can
    /// never change the cost) is applied first and the relevant subgraph recomputed; the
    /// optimum is unchanged because adding free actions never raises cost nor breaks
    /// completeness.
    pub fn new(g: &'g Graph, sources: &[NodeId], targets: &[NodeId], preapply_free: bool) -> Self {
        let fwd = reach(g, sources, None);
        let bwd = coreach(g, targets, None);
        let mut preapplied = Vec::new();
        let (fwd, bwd, cut) = if preapply_free {
            let cands = candidates(g, &fwd, &bwd, None);
            preapplied = cands.into_iter().filter(|a| a.is_free(g)).collect();
            let cut = Cut::new(g, &preapplied);
            let f = reach(g, sources, Some(&cut));
            let b = coreach(g, targets, Some(&cut));
            (f, b, Some(cut))
        } else {
            (fwd, bwd, None)
        };
        let mut local = vec![NONE; g.node_count()];
        let mut nodes = Vec::new();
        for n in 0..g.node_count() {
            if fwd[n] && bwd[n] {
                local[n] = nodes.len() as u32;
                nodes.push(n as NodeId);
            }
        }
        let mut out_start = vec![0u32];
        let mut edge_to = Vec::new();
        let mut edge_global = Vec::new();
        for &u in &nodes {
            for e in g.out_edges(u) {
                let v = g.edge_to[e];
                if local[v as usize] == NONE || cut.as_ref().is_some_and(|c| !c.edge_open(g, e)) {
                    continue;
                }
                edge_to.push(local[v as usize]);
                edge_global.push(e as u32);
            }
            out_start.push(edge_to.len() as u32);
        }
        let tset: FxHashSet<NodeId> = targets.iter().copied().collect();
        let is_target: Vec<bool> = nodes.iter().map(|n| tset.contains(n)).collect();
        let sset: FxHashSet<NodeId> = sources.iter().copied().collect();
        let is_source: Vec<bool> = nodes.iter().map(|n| sset.contains(n)).collect();
        let src_local: Vec<u32> = (0..nodes.len() as u32)
            .filter(|&i| is_source[i as usize])
            .collect();
        let actions = candidates(g, &fwd, &bwd, cut.as_ref());
        let mut per_node: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
        let mut flow_action = FxHashMap::default();
        for (ai, a) in actions.iter().enumerate() {
            match *a {
                Action::Isolate(n) | Action::Disable(n) => {
                    per_node[local[n as usize] as usize].push(ai as u32)
                }
                Action::Offline(s) => {
                    for &n in &g.services[s as usize].exclusive_nodes {
                        if local[n as usize] != NONE {
                            per_node[local[n as usize] as usize].push(ai as u32);
                        }
                    }
                }
                Action::Block(f) => {
                    flow_action.insert(f, ai as u32);
                }
            }
        }
        let mut node_act_start = vec![0u32];
        let mut node_act = Vec::new();
        for v in per_node {
            node_act.extend(v);
            node_act_start.push(node_act.len() as u32);
        }
        Problem {
            g,
            nodes,
            out_start,
            edge_to,
            edge_global,
            is_source,
            is_target,
            sources: src_local,
            actions,
            node_act_start,
            node_act,
            flow_action,
            preapplied,
        }
    }

    pub fn node_actions(&self, l: u32) -> &[u32] {
        &self.node_act
            [self.node_act_start[l as usize] as usize..self.node_act_start[l as usize + 1] as usize]
    }
}

/// Candidate actions on the nodes/edges that lie on some source->target path (`fwd` and
/// `bwd` both set), skipping what `cut` already removed. Sorted, deduplicated.
pub fn candidates(g: &Graph, fwd: &[bool], bwd: &[bool], cut: Option<&Cut>) -> Vec<Action> {
    let mut out: FxHashSet<Action> = FxHashSet::default();
    for n in 0..g.node_count() {
        if !(fwd[n] && bwd[n]) || cut.is_some_and(|c| c.removed[n]) {
            continue;
        }
        if g.kinds[n] != NodeKind::Internet {
            out.insert(Action::on_node(g, n as NodeId));
        }
        for e in g.out_edges(n as NodeId) {
            let v = g.edge_to[e] as usize;
            if !(fwd[v] && bwd[v]) || cut.is_some_and(|c| !c.edge_open(g, e)) {
                continue;
            }
            for &f in g.edge_flows(e) {
                if cut.is_none_or(|c| !c.blocked[f as usize]) {
                    out.insert(Action::Block(f));
                }
            }
        }
    }
    // Offline services whose exclusive assets lie on a path.
    for (s, svc) in g.services.iter().enumerate() {
        if svc.exclusive_nodes.iter().any(|&n| {
            fwd[n as usize] && bwd[n as usize] && cut.is_none_or(|c| !c.removed[n as usize])
        }) {
            out.insert(Action::Offline(s as u32));
        }
    }
    let mut v: Vec<Action> = out.into_iter().collect();
    v.sort_unstable();
    v
}
