//! Compilation of a model into the sampling graph (once per exercise).

use rustc_hash::FxHashMap;
use vigie_model::{Model, Rule};

use super::{EdgeInfo, SimConfig};
use crate::detection::DetectionModel;
use crate::dist::{step_key, TtcSampler};
use crate::error::SimError;

/// "No such index".
pub(crate) const NONE: u32 = u32::MAX;

/// One attack edge in the CSR (sources in `Compiled::out_start`): 16 bytes, what the
/// relaxation loop reads (its detection is in `Compiled::edge_det`, read for tree edges
/// only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CEdge {
    /// Stable key of the step's random streams.
    pub key: u64,
    pub to: u32,
    /// Index into `Compiled::samplers`, with [`CEdge::NEVER`] and [`CEdge::RELEVANT`]
    /// above it (so the loop reads neither the sampler nor `Compiled::relevant` to skip).
    pub ttc: u32,
}

impl CEdge {
    /// The edge can never succeed (its sampler's `never()`).
    pub const NEVER: u32 = 1 << 31;
    /// Its target is `relevant` (some path leads from it to a crown jewel).
    pub const RELEVANT: u32 = 1 << 30;

    #[inline]
    pub fn sampler(&self) -> usize {
        (self.ttc & !(Self::NEVER | Self::RELEVANT)) as usize
    }

    #[inline]
    pub fn never(&self) -> bool {
        self.ttc & Self::NEVER != 0
    }

    #[inline]
    pub fn relevant(&self) -> bool {
        self.ttc & Self::RELEVANT != 0
    }
}

/// A step's detection, compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CDet {
    /// Probability the step is detected.
    pub p: f64,
    /// Delay from the compromise to the detection.
    pub delay: TtcSampler,
    /// Range of `Compiled::detectors`.
    pub lo: u32,
    pub hi: u32,
}

/// The sampling graph and what reports need to name things.
pub(crate) struct Compiled {
    /// Nodes: assets then the Internet node.
    pub nodes: usize,
    pub internet: u32,
    pub out_start: Vec<u32>,
    pub edges: Vec<CEdge>,
    /// Per edge, index into `dets`.
    pub edge_det: Vec<u32>,
    pub edge_from: Vec<u32>,
    pub edge_tech: Vec<u16>,
    pub edge_rule: Vec<Rule>,
    pub techniques: Vec<String>,
    pub samplers: Vec<TtcSampler>,
    pub dets: Vec<CDet>,
    /// (detector index, its own probability), grouped by `CDet::lo..hi`.
    pub detectors: Vec<(u32, f64)>,
    /// Where the attacker is at t = 0 (the Internet node, or the entry assets).
    pub starts: Vec<u32>,
    /// Crown jewels, in model order; `jewel_of[n]` is n's position there, or NONE.
    pub jewels: Vec<u32>,
    pub jewel_of: Vec<u32>,
    /// Crown jewels some path of possible edges leads to from the starts: a sample cannot
    /// reach the others, so it need not wait for them.
    pub reachable_jewels: usize,
    /// Nodes from which some path of possible edges leads to a crown jewel. Edges leave
    /// the others only towards others, so they are on no path to a jewel.
    pub relevant: Vec<bool>,
    pub graph: vigie_response::Graph,
}

impl Compiled {
    pub fn new(
        model: &Model,
        detection: &DetectionModel,
        cfg: &SimConfig,
    ) -> Result<Compiled, SimError> {
        let graph = vigie_response::from_model(model)?;
        let ix = model.index();
        let ag = vigie_model::derive_attack_edges(&ix);
        let n_assets = model.assets.len();
        let nodes = n_assets + 1;
        let internet = ag.internet;
        if graph.node_count() != nodes
            || graph.internet != Some(internet)
            || model
                .assets
                .iter()
                .zip(&graph.node_ids)
                .any(|(a, id)| a.id != *id)
        {
            // from_model numbers node i as asset i; anything else would misprice samples.
            return Err(SimError::Invalid(
                "the response graph does not number nodes as the model's assets".into(),
            ));
        }
        let mut starts = Vec::new();
        for id in &cfg.entry {
            let i = ix.asset(id).ok_or_else(|| SimError::UnknownId {
                what: "entry asset",
                id: id.clone(),
            })?;
            if !starts.contains(&i) {
                starts.push(i);
            }
        }
        if starts.is_empty() {
            starts.push(internet);
        }
        let samplers = ag
            .ttc_dists
            .iter()
            .map(TtcSampler::new)
            .collect::<Result<Vec<_>, _>>()?;

        // CSR by source, stable within a source (derivation order).
        let mut order: Vec<u32> = (0..ag.edges.len() as u32).collect();
        order.sort_by_key(|&e| ag.edges[e as usize].from);
        let mut out_start = vec![0u32; nodes + 1];
        for e in &ag.edges {
            out_start[e.from as usize + 1] += 1;
        }
        for v in 0..nodes {
            out_start[v + 1] += out_start[v];
        }
        let mut occurrences: FxHashMap<(u32, u32, u16, Rule), u32> = FxHashMap::default();
        let mut occurrence = vec![0u32; ag.edges.len()];
        for (i, e) in ag.edges.iter().enumerate() {
            let k = occurrences
                .entry((e.from, e.to, e.technique, e.rule))
                .or_insert(0);
            occurrence[i] = *k;
            *k += 1;
        }
        drop(occurrences);
        let id = |n: u32| graph.node_ids[n as usize].as_str();
        let mut dm = DetBuilder::default();
        let mut edges = Vec::with_capacity(ag.edges.len());
        let mut edge_det = Vec::with_capacity(ag.edges.len());
        let mut edge_from = Vec::with_capacity(ag.edges.len());
        let mut edge_tech = Vec::with_capacity(ag.edges.len());
        let mut edge_rule = Vec::with_capacity(ag.edges.len());
        for &oi in &order {
            let e = &ag.edges[oi as usize];
            let tech = ag.technique(e);
            let key = step_key(
                id(e.from),
                id(e.to),
                tech,
                e.rule.as_str(),
                occurrence[oi as usize],
            );
            let det = dm.get(detection, e.to, e.technique, tech)?;
            edges.push(CEdge {
                key,
                to: e.to,
                ttc: e.ttc,
            });
            edge_det.push(det);
            edge_from.push(e.from);
            edge_tech.push(e.technique);
            edge_rule.push(e.rule);
        }
        let jewels: Vec<u32> = (0..n_assets as u32)
            .filter(|&i| model.assets[i as usize].crown_jewel)
            .collect();
        let mut jewel_of = vec![NONE; nodes];
        for (k, &j) in jewels.iter().enumerate() {
            jewel_of[j as usize] = k as u32;
        }
        if samplers.len() >= CEdge::RELEVANT as usize {
            return Err(SimError::Invalid(format!(
                "{} distinct time-to-compromise distributions: at most {} are supported",
                samplers.len(),
                CEdge::RELEVANT - 1
            )));
        }
        for ce in &mut edges {
            if samplers[ce.sampler()].never() {
                ce.ttc |= CEdge::NEVER;
            }
        }
        let possible = |ce: &CEdge| !ce.never();
        let (reachable_jewels, relevant) =
            reachability(&out_start, &edges, &edge_from, &starts, &jewels, possible);
        for ce in &mut edges {
            if relevant[ce.to as usize] {
                ce.ttc |= CEdge::RELEVANT;
            }
        }
        Ok(Compiled {
            nodes,
            internet,
            out_start,
            edges,
            edge_det,
            edge_from,
            edge_tech,
            edge_rule,
            techniques: ag.techniques,
            samplers,
            dets: dm.dets,
            detectors: dm.detectors,
            starts,
            jewels,
            jewel_of,
            reachable_jewels,
            relevant,
            graph,
        })
    }

    pub fn edge_info(&self, e: u32) -> Option<EdgeInfo<'_>> {
        let ce = self.edges.get(e as usize)?;
        let from = self.edge_from[e as usize];
        Some(EdgeInfo {
            from,
            to: ce.to,
            from_id: &self.graph.node_ids[from as usize],
            to_id: &self.graph.node_ids[ce.to as usize],
            technique: self
                .techniques
                .get(self.edge_tech[e as usize] as usize)
                .map_or("", String::as_str),
            rule: self.edge_rule[e as usize],
            key: ce.key,
        })
    }
}

/// Detections interned by (target asset, technique): one `DetectionModel::step` call each.
#[derive(Default)]
struct DetBuilder {
    memo: FxHashMap<(u32, u16), u32>,
    dets: Vec<CDet>,
    detectors: Vec<(u32, f64)>,
}

impl DetBuilder {
    fn get(
        &mut self,
        dm: &DetectionModel,
        to: u32,
        tech_ix: u16,
        tech: &str,
    ) -> Result<u32, SimError> {
        if let Some(&d) = self.memo.get(&(to, tech_ix)) {
            return Ok(d);
        }
        let sd = dm.step(to as usize, tech);
        let p = sd.p;
        if !(0.0..=1.0).contains(&p) {
            return Err(SimError::Invalid(format!(
                "detection probability {p} of {tech} on asset {to} is not a probability"
            )));
        }
        let delay = TtcSampler::new(&sd.delay)?;
        let lo = self.detectors.len() as u32;
        self.detectors
            .extend(sd.detectors.iter().filter(|d| d.1 > 0.0).copied());
        let hi = self.detectors.len() as u32;
        let d = self.dets.len() as u32;
        self.dets.push(CDet { p, delay, lo, hi });
        self.memo.insert((to, tech_ix), d);
        Ok(d)
    }
}

/// (crown jewels reachable from the starts, nodes that reach a crown jewel), over the
/// edges `possible` keeps: graph searches forward from the starts and backward from the
/// jewels. Both over-approximate what a sample can do (any possible edge may be drawn
/// within the horizon), which is all early stopping needs.
fn reachability(
    out_start: &[u32],
    edges: &[CEdge],
    edge_from: &[u32],
    starts: &[u32],
    jewels: &[u32],
    possible: impl Fn(&CEdge) -> bool,
) -> (usize, Vec<bool>) {
    let nodes = out_start.len() - 1;
    let mut seen = vec![false; nodes];
    let mut stack: Vec<u32> = Vec::new();
    for &st in starts {
        if !seen[st as usize] {
            seen[st as usize] = true;
            stack.push(st);
        }
    }
    while let Some(u) = stack.pop() {
        let (lo, hi) = (
            out_start[u as usize] as usize,
            out_start[u as usize + 1] as usize,
        );
        for ce in &edges[lo..hi] {
            if possible(ce) && !seen[ce.to as usize] {
                seen[ce.to as usize] = true;
                stack.push(ce.to);
            }
        }
    }
    let reachable = jewels.iter().filter(|&&j| seen[j as usize]).count();
    // Reverse CSR by target.
    let mut in_start = vec![0u32; nodes + 1];
    for ce in edges.iter().filter(|ce| possible(ce)) {
        in_start[ce.to as usize + 1] += 1;
    }
    for v in 0..nodes {
        in_start[v + 1] += in_start[v];
    }
    let mut fill = in_start.clone();
    let mut in_from = vec![0u32; in_start[nodes] as usize];
    for (e, ce) in edges.iter().enumerate() {
        if possible(ce) {
            let slot = &mut fill[ce.to as usize];
            in_from[*slot as usize] = edge_from[e];
            *slot += 1;
        }
    }
    let mut relevant = vec![false; nodes];
    for &j in jewels {
        if !relevant[j as usize] {
            relevant[j as usize] = true;
            stack.push(j);
        }
    }
    while let Some(v) = stack.pop() {
        let (lo, hi) = (
            in_start[v as usize] as usize,
            in_start[v as usize + 1] as usize,
        );
        for &u in &in_from[lo..hi] {
            if !relevant[u as usize] {
                relevant[u as usize] = true;
                stack.push(u);
            }
        }
    }
    (reachable, relevant)
}
