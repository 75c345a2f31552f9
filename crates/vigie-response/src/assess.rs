//! `assess`: the attacker's reach from the compromised assets (multi-source Dijkstra on
//! time-to-compromise), the fastest path to each crown jewel, and who depends on what the
//! attacker holds or can reach.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::Error;
use crate::graph::{Graph, NodeId, NodeKind, NONE};
use crate::impact::{self, Outage};
use crate::report::{summarize, tidy, tidy_ms, SegmentImpact, ServiceImpact};

/// Shortest times from the sources.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Hours to compromise each node (infinite: unreachable; 0: a source).
    pub hours: Vec<f64>,
    /// Edge used to reach each node ([`NONE`] for sources and unreached nodes).
    pub pred_edge: Vec<u32>,
}

#[derive(PartialEq)]
struct Item(f64, NodeId);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
    }
}

/// Multi-source Dijkstra over attack edges weighted by ttc_hours.
pub fn dijkstra(g: &Graph, sources: &[NodeId]) -> Reach {
    let n = g.node_count();
    let mut hours = vec![f64::INFINITY; n];
    let mut pred_edge = vec![NONE; n];
    let mut heap = BinaryHeap::new();
    for &s in sources {
        hours[s as usize] = 0.0;
        heap.push(Item(0.0, s));
    }
    while let Some(Item(d, u)) = heap.pop() {
        if d > hours[u as usize] {
            continue;
        }
        for e in g.out_edges(u) {
            let v = g.edge_to[e] as usize;
            let nd = d + g.ttc(e).max(0.0);
            if nd < hours[v] {
                hours[v] = nd;
                pred_edge[v] = e as u32;
                heap.push(Item(nd, v as NodeId));
            }
        }
    }
    Reach { hours, pred_edge }
}

/// One step of an attack path.
#[derive(Debug, Clone)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub technique: String,
    pub hours: f64,
}

/// A crown jewel and the fastest way to it.
#[derive(Debug, Clone)]
pub struct JewelPath {
    pub id: String,
    pub name: String,
    pub compromised: bool,
    pub reachable: bool,
    /// Total estimated hours along the fastest path (null when unreachable).
    pub hours: Option<f64>,
    pub path: Vec<Step>,
}

/// A reachable asset.
#[derive(Debug, Clone)]
pub struct Reached {
    pub id: String,
    pub kind: NodeKind,
    pub hours: f64,
    pub crown_jewel: bool,
}

/// The `assess` answer.
#[derive(Debug, Clone)]
pub struct AssessReport {
    pub compromised: Vec<String>,
    /// Assets reachable beyond the compromised ones.
    pub reachable_count: usize,
    /// The reachable assets, fastest first (truncated to the requested limit).
    pub reachable: Vec<Reached>,
    pub reachable_truncated: bool,
    /// Every crown jewel, soonest reached first (compromised ones first, unreachable last).
    pub crown_jewels: Vec<JewelPath>,
    /// Services that fail (or degrade) if every compromised and reachable asset is lost.
    pub services_at_risk: Vec<ServiceImpact>,
    /// Segments depending on them, with the customer-hours at risk over the containment
    /// duration plus recovery.
    pub segments_at_risk: Vec<SegmentImpact>,
    /// Customers who would lose some service they use.
    pub customers_at_risk: u64,
    /// Customers × the fraction of their service that would be lost
    /// (see [`crate::report::service_lost`]).
    pub customer_equivalents_at_risk: f64,
    pub customer_hours_at_risk: f64,
    pub elapsed_ms: f64,
}

/// Assess the reach of `compromised`. `limit`: at most that many reachable assets listed
/// (0 = all).
pub fn assess(g: &Graph, compromised: &[NodeId], limit: usize) -> Result<AssessReport, Error> {
    let t0 = std::time::Instant::now();
    if compromised.is_empty() {
        return Err(Error::NoCompromised);
    }
    let r = dijkstra(g, compromised);
    let is_src = {
        let mut v = vec![false; g.node_count()];
        for &s in compromised {
            v[s as usize] = true;
        }
        v
    };
    let mut reach: Vec<(f64, NodeId)> = (0..g.node_count())
        .filter(|&n| r.hours[n].is_finite() && !is_src[n] && g.kinds[n] != NodeKind::Internet)
        .map(|n| (r.hours[n], n as NodeId))
        .collect();
    let reachable_count = reach.len();
    let truncated = limit > 0 && reach.len() > limit;
    if truncated {
        reach.select_nth_unstable_by(limit, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        reach.truncate(limit);
    }
    reach.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let reachable = reach
        .iter()
        .map(|&(h, n)| Reached {
            id: g.node_ids[n as usize].clone(),
            kind: g.kinds[n as usize],
            hours: tidy(h),
            crown_jewel: g.crown[n as usize],
        })
        .collect();
    let mut crown_jewels: Vec<JewelPath> = g
        .crown_jewels()
        .into_iter()
        .map(|j| jewel_path(g, &r, j, is_src[j as usize]))
        .collect();
    // Soonest first: the compromised ones (0 h), then by time, the unreachable last.
    crown_jewels.sort_by(|a, b| {
        let key = |j: &JewelPath| if j.compromised { Some(0.0) } else { j.hours };
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(|| a.id.cmp(&b.id))
    });
    // Customers at risk: everything held or reachable lost for the containment duration.
    let mut lost: Vec<NodeId> = compromised.to_vec();
    lost.extend(reach_all(&r, g, &is_src));
    let imp = impact::evaluate(
        g,
        &Outage {
            nodes: lost,
            ..Default::default()
        },
        g.containment_hours,
        None,
    );
    let (services_at_risk, segments_at_risk) = summarize(g, &imp);
    Ok(AssessReport {
        compromised: compromised
            .iter()
            .map(|&n| g.node_ids[n as usize].clone())
            .collect(),
        reachable_count,
        reachable,
        reachable_truncated: truncated,
        crown_jewels,
        customers_at_risk: segments_at_risk.iter().map(|s| s.customers_affected).sum(),
        customer_equivalents_at_risk: tidy(
            segments_at_risk
                .iter()
                .map(|s| s.customer_equivalents)
                .sum(),
        ),
        customer_hours_at_risk: tidy(imp.total),
        services_at_risk,
        segments_at_risk,
        elapsed_ms: tidy_ms(t0.elapsed().as_secs_f64() * 1e3),
    })
}

fn reach_all(r: &Reach, g: &Graph, is_src: &[bool]) -> Vec<NodeId> {
    (0..g.node_count())
        .filter(|&n| r.hours[n].is_finite() && !is_src[n])
        .map(|n| n as NodeId)
        .collect()
}

/// Fastest path to `j` as steps (empty when `j` is a source or unreachable).
pub fn path_edges(r: &Reach, g: &Graph, j: NodeId) -> Vec<usize> {
    let mut edges = Vec::new();
    let mut v = j;
    // Bounded: every predecessor edge strictly decreases the Dijkstra label (or ties on
    // zero-weight edges, which still form a tree), so the walk ends at a source.
    let mut guard = g.node_count();
    while r.pred_edge[v as usize] != NONE && guard > 0 {
        let e = r.pred_edge[v as usize] as usize;
        edges.push(e);
        v = g.edge_from[e];
        guard -= 1;
    }
    edges.reverse();
    edges
}

fn jewel_path(g: &Graph, r: &Reach, j: NodeId, compromised: bool) -> JewelPath {
    let reachable = r.hours[j as usize].is_finite();
    let path = if reachable {
        path_edges(r, g, j)
    } else {
        Vec::new()
    };
    JewelPath {
        id: g.node_ids[j as usize].clone(),
        name: g.node_names[j as usize].clone(),
        compromised,
        reachable,
        hours: reachable.then_some(tidy(r.hours[j as usize])),
        path: path
            .into_iter()
            .map(|e| Step {
                from: g.node_ids[g.edge_from[e] as usize].clone(),
                to: g.node_ids[g.edge_to[e] as usize].clone(),
                technique: g.technique(e).to_string(),
                hours: g.ttc(e),
            })
            .collect(),
    }
}
