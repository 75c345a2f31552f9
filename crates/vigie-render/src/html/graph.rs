//! Which part of the attack graph an incident's page shows, and in which state each
//! asset and edge is under the plan.
//!
//! A page must stay small whatever the model's size, so at most `cap` assets are drawn,
//! chosen in this order: the compromised assets, the plan's isolated or disabled assets,
//! the edges the plan cuts next to the attacker (a third of the budget, nearest first),
//! a fewest-steps path to each of the soonest-reached crown jewels (the fastest paths
//! are listed in the jewels' table; fewest steps keep the drawing narrow), the rest of
//! those cut edges, then the remaining reach, nearest in attack steps first, then in
//! attack time. Every drawn pair of assets joined by attack edges gets one drawn edge
//! (parallel edges merged, techniques listed; a pair joined both ways is one edge with
//! two arrows). The layout is in [`super::layout`].

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};
use vigie_response::contain::problem::{reach, Cut};
use vigie_response::contain::Action;
use vigie_response::graph::{Graph, NodeId, NodeKind};
use vigie_wire::v1::respond::Incident;
use vigie_wire::v1::response::Plan;

/// How far the crown-jewel paths go: the soonest this many jewels.
const JEWEL_PATHS: usize = 6;

/// What the plan leaves of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Judged compromised by the incident.
    Compromised,
    /// Reachable by the attacker before the plan and still after it.
    Exposed,
    /// Reachable before the plan, out of reach after it.
    Protected,
    /// Not reachable from the compromised assets (or unknown to the model).
    Unreached,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Compromised => "compromised",
            State::Exposed => "exposed",
            State::Protected => "protected",
            State::Unreached => "unreached",
        }
    }
}

/// One asset to draw.
#[derive(Debug, Clone)]
pub struct VNode {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub state: State,
    pub crown: bool,
    /// Isolated or disabled by the plan, or taken offline with its service.
    pub cut: bool,
    /// Attack hops from the compromised set (None: not reachable, or not in the model).
    pub hops: Option<u32>,
    /// Hours for the attacker to reach it (assess), when known.
    pub hours: Option<f64>,
}

/// One drawn edge between two drawn assets (indices into `View::nodes`).
#[derive(Debug, Clone)]
pub struct VEdge {
    pub from: usize,
    pub to: usize,
    pub techniques: Vec<String>,
    pub hours: f64,
    /// Every attack edge it stands for is cut by the plan.
    pub cut: bool,
    /// Still usable by the attacker after the plan.
    pub live: bool,
    /// Attack edges go both ways.
    pub both: bool,
}

/// The drawn part of an incident's attack graph.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub nodes: Vec<VNode>,
    pub edges: Vec<VEdge>,
    /// Assets that could have been drawn (compromised, plan targets, reach).
    pub eligible: usize,
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Internet => "internet",
        NodeKind::Host => "host",
        NodeKind::Application => "application",
        NodeKind::Database => "database",
        NodeKind::NetworkDevice => "network device",
        NodeKind::Account => "account",
        NodeKind::Group => "group",
    }
}

/// The engine's actions for a wire plan (actions naming nothing in this graph are left
/// out: the report may come from another model version).
pub fn plan_actions(g: &Graph, plan: &Plan) -> Vec<Action> {
    plan.actions
        .iter()
        .filter_map(|a| match a.action.as_str() {
            "isolate" => g.node(&a.target).map(Action::Isolate),
            "disable_identity" | "disable" => g.node(&a.target).map(Action::Disable),
            "block_flow" | "block" => g.flow(&a.target).map(Action::Block),
            "take_offline" | "offline" => g.service(&a.target).map(Action::Offline),
            _ => None,
        })
        .collect()
}

/// Attack hops from `src` over the whole graph (`u32::MAX`: unreachable), and each
/// reached node's predecessor on a fewest-hops path (`u32::MAX` for the sources).
fn hops_from(g: &Graph, src: &[NodeId]) -> (Vec<u32>, Vec<NodeId>) {
    let mut d = vec![u32::MAX; g.node_count()];
    let mut parent = vec![u32::MAX; g.node_count()];
    let mut queue = std::collections::VecDeque::new();
    for &s in src {
        if d[s as usize] == u32::MAX {
            d[s as usize] = 0;
            queue.push_back(s);
        }
    }
    while let Some(u) = queue.pop_front() {
        let next = d[u as usize].saturating_add(1);
        for e in g.out_edges(u) {
            let v = g.edge_to[e] as usize;
            if d[v] == u32::MAX && g.kinds[v] != NodeKind::Internet {
                d[v] = next;
                parent[v] = u;
                queue.push_back(v as NodeId);
            }
        }
    }
    (d, parent)
}

/// Everything the selection and the states need, computed once per incident.
struct Facts<'a> {
    g: &'a Graph,
    src: Vec<NodeId>,
    hops: Vec<u32>,
    parent: Vec<NodeId>,
    cut: Cut,
    /// Reach after the plan.
    post: Vec<bool>,
    hours: FxHashMap<&'a str, f64>,
}

impl<'a> Facts<'a> {
    fn new(g: &'a Graph, inc: &'a Incident, actions: &[Action]) -> Facts<'a> {
        let src: Vec<NodeId> = inc.compromised.iter().filter_map(|id| g.node(id)).collect();
        let cut = Cut::new(g, actions);
        let post = reach(g, &src, Some(&cut));
        let mut hours: FxHashMap<&str, f64> = FxHashMap::default();
        if let Some(a) = &inc.assess {
            for r in &a.reachable {
                hours.insert(r.id.as_str(), r.hours);
            }
        }
        for id in &inc.compromised {
            hours.insert(id.as_str(), 0.0);
        }
        let (hops, parent) = hops_from(g, &src);
        Facts {
            g,
            hops,
            parent,
            src,
            cut,
            post,
            hours,
        }
    }

    /// Edge `e` is cut by the plan: its tail is taken away, or it is no longer open.
    fn edge_cut(&self, e: usize) -> bool {
        self.cut.removed[self.g.edge_from[e] as usize] || !self.cut.edge_open(self.g, e)
    }

    /// A fewest-hops path from the compromised set to `n`, source first (so drawn, it
    /// runs left to right one column a step).
    fn path_to(&self, n: NodeId) -> Vec<NodeId> {
        let mut path = vec![n];
        let mut at = n;
        while let Some(&p) = self.parent.get(at as usize) {
            if p == u32::MAX || path.len() > self.hops.len() {
                break;
            }
            path.push(p);
            at = p;
        }
        path.reverse();
        path
    }

    fn hours_of(&self, n: NodeId) -> f64 {
        self.hours
            .get(self.g.node_ids[n as usize].as_str())
            .copied()
            .unwrap_or(f64::INFINITY)
    }

    /// Cut edges leaving the attacker's ground (compromised or still reachable), as
    /// (tail, head) pairs, nearest head first.
    fn frontier(&self) -> Vec<(NodeId, NodeId)> {
        let g = self.g;
        let is_src: FxHashSet<NodeId> = self.src.iter().copied().collect();
        let mut out: Vec<(f64, NodeId, NodeId)> = Vec::new();
        for u in 0..g.node_count() as NodeId {
            if self.hops[u as usize] == u32::MAX || !(self.post[u as usize] || is_src.contains(&u))
            {
                continue;
            }
            for e in g.out_edges(u) {
                let v = g.edge_to[e];
                if self.edge_cut(e)
                    && !is_src.contains(&v)
                    && g.kinds[v as usize] != NodeKind::Internet
                {
                    out.push((self.hours_of(v), u, v));
                }
            }
        }
        out.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| g.node_ids[a.2 as usize].cmp(&g.node_ids[b.2 as usize]))
                .then_with(|| g.node_ids[a.1 as usize].cmp(&g.node_ids[b.1 as usize]))
        });
        out.dedup_by_key(|x| (x.1, x.2));
        out.into_iter().map(|(_, u, v)| (u, v)).collect()
    }
}

/// An ordered set of asset ids with a size cap.
struct Picks {
    ids: Vec<String>,
    seen: BTreeSet<String>,
    cap: usize,
}

impl Picks {
    fn full(&self) -> bool {
        self.ids.len() >= self.cap
    }
    fn add(&mut self, id: &str) {
        if !self.full() && self.seen.insert(id.to_string()) {
            self.ids.push(id.to_string());
        }
    }
}

/// The node ids of a plan's isolate / disable actions.
fn plan_nodes(inc: &Incident) -> Vec<&str> {
    let Some(plan) = inc.contain.as_ref().and_then(|c| c.plan.as_ref()) else {
        return Vec::new();
    };
    plan.actions
        .iter()
        .filter(|a| {
            matches!(
                a.action.as_str(),
                "isolate" | "disable_identity" | "disable"
            )
        })
        .map(|a| a.target.as_str())
        .collect()
}

/// The ids to draw, in priority order, and how many were eligible.
fn select(f: &Facts<'_>, inc: &Incident, cap: usize) -> (Vec<String>, usize) {
    let g = f.g;
    let mut p = Picks {
        ids: Vec::new(),
        seen: BTreeSet::new(),
        cap,
    };
    let name = |n: NodeId| g.node_ids[n as usize].as_str();
    inc.compromised.iter().for_each(|id| p.add(id));
    plan_nodes(inc).into_iter().for_each(|id| p.add(id));
    let frontier = f.frontier();
    let third = p.ids.len() + cap / 3;
    for &(u, v) in &frontier {
        if p.ids.len() >= third {
            break;
        }
        p.add(name(u));
        p.add(name(v));
    }
    if let Some(a) = &inc.assess {
        let jewels = a
            .crown_jewels
            .iter()
            .filter(|j| j.reachable && !j.compromised)
            .filter_map(|j| g.node(&j.id))
            .take(JEWEL_PATHS);
        for j in jewels {
            for n in f.path_to(j) {
                p.add(name(n));
            }
        }
    }
    for &(u, v) in &frontier {
        p.add(name(u));
        p.add(name(v));
    }
    let eligible = reach_order(f, inc, &mut p);
    (p.ids, eligible)
}

/// Adds the reach by attack time (assess's list; a hop-order walk of the graph when the
/// incident has no assessment) and returns how many assets were eligible in all.
fn reach_order(f: &Facts<'_>, inc: &Incident, p: &mut Picks) -> usize {
    let mut all: BTreeSet<&str> = inc.compromised.iter().map(String::as_str).collect();
    all.extend(plan_nodes(inc));
    let g = f.g;
    match &inc.assess {
        Some(a) => {
            // Nearest in steps first, then in time: the drawing grows in height before
            // it grows in width.
            let step = |id: &str| g.node(id).map_or(u32::MAX, |n| f.hops[n as usize]);
            let mut near: Vec<(u32, f64, &str)> = a
                .reachable
                .iter()
                .map(|r| (step(&r.id), r.hours, r.id.as_str()))
                .collect();
            near.sort_by(|x, y| {
                x.0.cmp(&y.0)
                    .then_with(|| x.1.total_cmp(&y.1))
                    .then_with(|| x.2.cmp(y.2))
            });
            for (_, _, id) in near {
                p.add(id);
                all.insert(id);
            }
        }
        None => {
            let mut by_hops: Vec<(u32, &str)> = (0..g.node_count())
                .filter(|&n| f.hops[n] != u32::MAX)
                .map(|n| (f.hops[n], g.node_ids[n].as_str()))
                .collect();
            by_hops.sort();
            for (_, id) in by_hops {
                p.add(id);
                all.insert(id);
            }
        }
    }
    // Assets picked on the way (path steps, cut edges) are reachable too; count them.
    all.extend(p.ids.iter().map(String::as_str));
    all.len()
}

/// The drawn part of `inc`'s attack graph, at most `cap` assets.
pub fn view(g: &Graph, inc: &Incident, cap: usize) -> View {
    let actions = inc
        .contain
        .as_ref()
        .and_then(|c| c.plan.as_ref())
        .map(|p| plan_actions(g, p))
        .unwrap_or_default();
    let f = Facts::new(g, inc, &actions);
    let (ids, eligible) = select(&f, inc, cap.max(1));
    let src: FxHashSet<NodeId> = f.src.iter().copied().collect();
    let targets: BTreeSet<&str> = plan_nodes(inc).into_iter().collect();
    let compromised: BTreeSet<&str> = inc.compromised.iter().map(String::as_str).collect();
    let mut index: FxHashMap<NodeId, usize> = FxHashMap::default();
    let nodes: Vec<VNode> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let n = g.node(id);
            if let Some(n) = n {
                index.insert(n, i);
            }
            vnode(&f, id, n, &src, compromised.contains(id.as_str()), &targets)
        })
        .collect();
    let edges = edges(&f, &index);
    View {
        nodes,
        edges,
        eligible,
    }
}

fn vnode(
    f: &Facts<'_>,
    id: &str,
    n: Option<NodeId>,
    src: &FxHashSet<NodeId>,
    compromised: bool,
    targets: &BTreeSet<&str>,
) -> VNode {
    let hours = f.hours.get(id).copied();
    let Some(n) = n else {
        return VNode {
            id: id.to_string(),
            name: String::new(),
            kind: "unknown",
            state: if compromised {
                State::Compromised
            } else {
                State::Unreached
            },
            crown: false,
            cut: targets.contains(id),
            hops: None,
            hours,
        };
    };
    let u = n as usize;
    let g = f.g;
    let hops = (f.hops[u] != u32::MAX).then_some(f.hops[u]);
    let state = if compromised || src.contains(&n) {
        State::Compromised
    } else if hops.is_none() {
        State::Unreached
    } else if f.post[u] {
        State::Exposed
    } else {
        State::Protected
    };
    VNode {
        id: id.to_string(),
        name: g.node_names[u].clone(),
        kind: kind_name(g.kinds[u]),
        state,
        crown: g.crown[u],
        cut: targets.contains(id) || f.cut.removed[u],
        hops,
        hours,
    }
}

/// Merged attack edges between drawn nodes, in a stable order.
fn edges(f: &Facts<'_>, index: &FxHashMap<NodeId, usize>) -> Vec<VEdge> {
    struct Agg {
        techniques: BTreeSet<String>,
        hours: f64,
        open: bool,
        live: bool,
    }
    let g = f.g;
    let mut pairs: BTreeMap<(usize, usize), Agg> = BTreeMap::new();
    let mut drawn: Vec<(&NodeId, &usize)> = index.iter().collect();
    drawn.sort_by_key(|x| *x.1);
    for (&u, &i) in drawn {
        for e in g.out_edges(u) {
            let Some(&j) = index.get(&g.edge_to[e]) else {
                continue;
            };
            if i == j {
                continue;
            }
            let a = pairs.entry((i, j)).or_insert(Agg {
                techniques: BTreeSet::new(),
                hours: f64::INFINITY,
                open: false,
                live: false,
            });
            a.techniques.insert(g.technique(e).to_string());
            a.hours = a.hours.min(g.ttc(e));
            let open = !f.edge_cut(e);
            a.open |= open;
            a.live |= open && f.post[u as usize];
        }
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (&(i, j), a) in &pairs {
        let back = pairs.get(&(j, i));
        if back.is_some() && j < i {
            continue; // drawn with (j, i)
        }
        let mut techniques = a.techniques.clone();
        let (mut open, mut live, mut hours) = (a.open, a.live, a.hours);
        if let Some(b) = back {
            techniques.extend(b.techniques.iter().cloned());
            open |= b.open;
            live |= b.live;
            hours = hours.min(b.hours);
        }
        out.push(VEdge {
            from: i,
            to: j,
            techniques: techniques.into_iter().collect(),
            hours,
            cut: !open,
            live,
            both: back.is_some(),
        });
    }
    out
}
