//! Compilation of a model into the sampling graph (once per exercise).

use rustc_hash::FxHashMap;
use vigie_model::{Model, Rule};

use super::{EdgeInfo, SimConfig};
use crate::detection::DetectionModel;
use crate::dist::{step_key, TtcSampler};
use crate::error::SimError;

/// "No such index".
pub(crate) const NONE: u32 = u32::MAX;

/// One attack edge in the CSR (sources in `Compiled::out_start`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CEdge {
    pub to: u32,
    /// Index into `Compiled::samplers`.
    pub ttc: u32,
    /// Index into `Compiled::dets`.
    pub det: u32,
    /// Stable key of the step's random streams.
    pub key: u64,
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
                to: e.to,
                ttc: e.ttc,
                det,
                key,
            });
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
        Ok(Compiled {
            nodes,
            internet,
            out_start,
            edges,
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
