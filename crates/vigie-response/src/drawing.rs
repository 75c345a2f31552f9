//! What to draw of the attack graph around an incident: the assets reachable from the
//! compromised ones (all of them when few, else only those that also reach a crown
//! jewel), their attack edges, and what a plan cuts. Data only: `vigie-render` turns a
//! [`Drawing`] into Graphviz DOT and SVG.

use rustc_hash::FxHashSet;

use crate::contain::problem::{coreach, reach, Action, Cut};
use crate::graph::{Graph, NodeId, NodeKind};

/// Graphs bigger than this are cut down to the nodes on compromised → crown jewel paths.
pub const MAX_NODES: usize = 3000;

/// One asset to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawNode {
    /// The node's number in the graph (stable within one graph: DOT names it `n<node>`).
    pub node: NodeId,
    /// The asset id of the model.
    pub id: String,
    pub kind: NodeKind,
    pub compromised: bool,
    /// Taken away by the plan (isolated, disabled, or offline with its service).
    pub removed: bool,
    pub crown_jewel: bool,
    /// Isolated or disabled by the plan itself.
    pub isolated: bool,
}

/// One attack edge to draw, between two drawn nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawEdge {
    pub from: NodeId,
    pub to: NodeId,
    pub technique: String,
    pub hours: f64,
    /// Cut by the plan (an end removed or every flow carrying it blocked).
    pub cut: bool,
}

/// The part of the attack graph worth drawing, with a plan's cut.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawing {
    pub nodes: Vec<DrawNode>,
    pub edges: Vec<DrawEdge>,
}

/// What to draw for `compromised` under `plan` (empty: no plan).
pub fn drawing(g: &Graph, compromised: &[NodeId], plan: &[Action]) -> Drawing {
    let fwd = reach(g, compromised, None);
    let mut keep: Vec<bool> = fwd.clone();
    if fwd.iter().filter(|&&b| b).count() > MAX_NODES {
        let bwd = coreach(g, &g.crown_jewels(), None);
        for (k, b) in keep.iter_mut().zip(bwd) {
            *k = *k && b;
        }
    }
    let cut = Cut::new(g, plan);
    let isolated: FxHashSet<NodeId> = plan
        .iter()
        .filter_map(|a| match *a {
            Action::Isolate(n) | Action::Disable(n) => Some(n),
            _ => None,
        })
        .collect();
    let src: FxHashSet<NodeId> = compromised.iter().copied().collect();
    let nodes = keep
        .iter()
        .enumerate()
        .filter(|x| *x.1)
        .map(|(n, _)| DrawNode {
            node: n as NodeId,
            id: g.node_ids[n].to_string(),
            kind: g.kinds[n],
            compromised: src.contains(&(n as NodeId)),
            removed: cut.removed[n],
            crown_jewel: g.crown[n],
            isolated: isolated.contains(&(n as NodeId)),
        })
        .collect();
    let edges = (0..g.edge_count())
        .filter_map(|e| {
            let (u, v) = (g.edge_from[e] as usize, g.edge_to[e] as usize);
            if !(keep[u] && keep[v]) {
                return None;
            }
            Some(DrawEdge {
                from: u as NodeId,
                to: v as NodeId,
                technique: g.technique(e).to_string(),
                hours: g.ttc(e),
                cut: cut.removed[u] || !cut.edge_open(g, e),
            })
        })
        .collect();
    Drawing { nodes, edges }
}
