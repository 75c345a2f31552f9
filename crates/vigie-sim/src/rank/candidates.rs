//! Enumerating the single changes worth simulating, and the screening that keeps their
//! number bounded (`docs/exercise.md`, "rank").
//!
//! Screening: a change is scored by how often the baseline's samples take, before their
//! stop time (the detection, else the horizon: when containment happens), a step the
//! change acts on:
//!
//! - EDR on A: the fraction of samples with A compromised at the stop time (the EDR
//!   watches every step into A and slows credential theft from it);
//! - MFA on A: of samples taking a valid-account step into A;
//! - telemetry `s` on A: of steps into A whose technique has a rule reading `s`;
//! - a patch on A: of exploit steps into A;
//! - a rule for T: of steps with technique T (summed over the edges);
//! - a removed flow: of steps over the edges it alone carries (summed).
//!
//! Every change only slows, removes or watches steps, so one acting on no step any
//! baseline sample takes before its stop changes neither what is compromised then nor
//! when detection comes: its score is 0 and it is screened out. (A patch or a removed
//! flow also removes edges the containment plan would otherwise cut; that effect is not
//! scored.) The rest are sorted by score within each kind and taken kind by kind in
//! turn, so that no family crowds out the others, until `max_candidates` have passed
//! the no-op check.

use rustc_hash::{FxHashMap, FxHashSet};
use vigie_model::{AttackGraph, Model, Rule};

use super::change::{Change, ChangeKind};

/// What the enumeration needs from the baseline.
pub struct Baseline<'a> {
    pub model: &'a Model,
    pub graph: &'a AttackGraph,
    /// Per asset index: fraction of baseline samples in which it is compromised at the
    /// stop time.
    pub reach: &'a [f64],
    /// Techniques no loaded rule covers.
    pub uncovered: &'a [String],
    /// The attack edges the baseline's samples take before their stop time, with the
    /// fraction of samples that do.
    pub used: &'a [UsedEdge],
    /// Per technique: the telemetry names the loaded rules counted for it read
    /// (lowercased, sorted; `DetectionModel::techniques`).
    pub sources: &'a FxHashMap<String, Vec<String>>,
}

/// An attack edge some baseline sample takes before containment.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedEdge {
    pub from: u32,
    pub to: u32,
    pub technique: String,
    pub rule: Rule,
    /// The flows whose removal cuts it: its sole carrier, when every model edge with
    /// this from, to, technique and rule is carried by that one flow alone (removing one
    /// of several alternative carriers leaves the edge open).
    pub cut_by: Option<u32>,
    /// Fraction of baseline samples whose tree takes it at or before the stop time.
    pub freq: f64,
}

/// Every candidate of the requested kinds with its screening score (> 0), ordered as the
/// screening takes them; and how many were screened out (score 0).
pub fn enumerate(b: &Baseline<'_>, kinds: &[ChangeKind]) -> (Vec<(Change, f64)>, usize) {
    let mut per_kind: Vec<Vec<(Change, f64)>> = Vec::new();
    let mut screened = 0;
    for &k in ChangeKind::ALL.iter().filter(|k| kinds.contains(k)) {
        let mut list: Vec<(Change, f64)> = Vec::new();
        for c in of_kind(b, k) {
            let s = score(b, &c);
            if s > 0.0 {
                list.push((c, s));
            } else {
                screened += 1;
            }
        }
        list.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        per_kind.push(list);
    }
    let mut out = Vec::new();
    let longest = per_kind.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in &per_kind {
            if let Some(c) = list.get(i) {
                out.push(c.clone());
            }
        }
    }
    (out, screened)
}

/// The candidates of one kind, before screening (obvious no-ops are not produced).
fn of_kind(b: &Baseline<'_>, kind: ChangeKind) -> Vec<Change> {
    let m = b.model;
    let in_graph = nodes_in_graph(b.graph);
    let asset = |a: &vigie_model::Asset| a.id.clone();
    match kind {
        // EDR is an agent: not on identities nor network devices.
        ChangeKind::Edr => m
            .assets
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                !a.controls.edr
                    && !a.kind.is_identity()
                    && a.kind != vigie_model::AssetKind::NetworkDevice
                    && in_graph.contains(&(*i as u32))
            })
            .map(|(_, a)| Change::Edr { asset: asset(a) })
            .collect(),
        // MFA only slows valid-account logons: assets with one coming in.
        ChangeKind::Mfa => {
            let targets: FxHashSet<u32> = b
                .graph
                .edges
                .iter()
                .filter(|e| e.rule == Rule::ValidAccount)
                .map(|e| e.to)
                .collect();
            m.assets
                .iter()
                .enumerate()
                .filter(|(i, a)| !a.controls.mfa && targets.contains(&(*i as u32)))
                .map(|(_, a)| Change::Mfa { asset: asset(a) })
                .collect()
        }
        // A log source some rule for a technique entering the asset reads, that the
        // asset does not ship.
        ChangeKind::Telemetry => {
            let mut wanted: Vec<FxHashSet<&str>> = vec![FxHashSet::default(); m.assets.len()];
            for e in &b.graph.edges {
                if let (Some(w), Some(src)) = (
                    wanted.get_mut(e.to as usize),
                    b.sources.get(b.graph.technique(e)),
                ) {
                    w.extend(src.iter().map(String::as_str));
                }
            }
            let mut out = Vec::new();
            for (a, w) in m.assets.iter().zip(&wanted) {
                let Some(list) = &a.telemetry else { continue };
                let mut w: Vec<&str> = w
                    .iter()
                    .copied()
                    .filter(|s| !list.iter().any(|x| x.eq_ignore_ascii_case(s)))
                    .collect();
                w.sort_unstable();
                out.extend(w.into_iter().map(|s| Change::Telemetry {
                    asset: asset(a),
                    source: s.to_string(),
                }));
            }
            out
        }
        ChangeKind::Rule => {
            let used: FxHashSet<&str> =
                b.graph.edges.iter().map(|e| b.graph.technique(e)).collect();
            let mut t: Vec<&String> = b
                .uncovered
                .iter()
                .filter(|t| used.contains(t.as_str()))
                .collect();
            t.sort();
            t.dedup();
            t.into_iter()
                .map(|t| Change::Rule {
                    technique: t.clone(),
                })
                .collect()
        }
        ChangeKind::Patch => m
            .assets
            .iter()
            .flat_map(|a| {
                a.vulnerabilities.iter().map(|v| Change::Patch {
                    asset: a.id.clone(),
                    vulnerability: v.id.clone(),
                })
            })
            .collect(),
        // A flow that services cross is not a candidate: removing it would take them
        // down, a cost the exercise does not price. A flow no edge needs changes nothing.
        ChangeKind::Flow => {
            let carried: FxHashSet<u32> = b
                .graph
                .edges
                .iter()
                .flat_map(|e| b.graph.flows(e).iter().copied())
                .collect();
            m.flows
                .iter()
                .enumerate()
                .filter(|(i, f)| f.services.is_empty() && carried.contains(&(*i as u32)))
                .map(|(_, f)| Change::Flow { flow: f.id() })
                .collect()
        }
    }
}

/// Asset indexes that some edge enters or leaves.
fn nodes_in_graph(g: &AttackGraph) -> FxHashSet<u32> {
    g.edges.iter().flat_map(|e| [e.from, e.to]).collect()
}

/// The screening score of a change (see the module docs).
pub fn score(b: &Baseline<'_>, c: &Change) -> f64 {
    let index = |id: &str| b.model.assets.iter().position(|a| a.id == id);
    let used_sum = |pred: &dyn Fn(&UsedEdge) -> bool| {
        b.used
            .iter()
            .filter(|u| pred(u))
            .map(|u| u.freq)
            .sum::<f64>()
    };
    match c {
        Change::Edr { asset } => index(asset)
            .and_then(|i| b.reach.get(i).copied())
            .unwrap_or(0.0),
        Change::Mfa { asset } => match index(asset) {
            Some(i) => used_sum(&|u| u.to as usize == i && u.rule == Rule::ValidAccount),
            None => 0.0,
        },
        Change::Telemetry { asset, source } => match index(asset) {
            Some(i) => used_sum(&|u| {
                u.to as usize == i
                    && b.sources
                        .get(&u.technique)
                        .is_some_and(|s| s.iter().any(|x| x == source))
            }),
            None => 0.0,
        },
        Change::Patch { asset, .. } => match index(asset) {
            Some(i) => used_sum(&|u| u.to as usize == i && u.rule == Rule::Exploit),
            None => 0.0,
        },
        Change::Rule { technique } => used_sum(&|u| &u.technique == technique),
        Change::Flow { flow } => match b.model.flows.iter().position(|f| &f.id() == flow) {
            Some(fi) => used_sum(&|u| u.cut_by == Some(fi as u32)),
            None => 0.0,
        },
    }
}

/// An edge as a comparable key, independent of the interning of each graph: (from, to,
/// technique, rule) → the distribution's bits and the ids of its flows.
type EdgeKey = (u32, u32, String, Rule);
type EdgeVal = (u8, u64, u64, u64, Vec<String>);

fn edge_map(m: &Model, g: &AttackGraph) -> FxHashMap<EdgeKey, Vec<EdgeVal>> {
    let mut out: FxHashMap<EdgeKey, Vec<EdgeVal>> = FxHashMap::default();
    for e in &g.edges {
        let t = g.ttc_dist(e);
        let flows: Vec<String> = g
            .flows(e)
            .iter()
            .map(|&f| m.flows.get(f as usize).map(|f| f.id()).unwrap_or_default())
            .collect();
        let val = (
            t.dist as u8,
            t.mean_hours.to_bits(),
            t.cv().to_bits(),
            t.p_success().to_bits(),
            flows,
        );
        out.entry((e.from, e.to, g.technique(e).to_string(), e.rule))
            .or_default()
            .push(val);
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Whether two models' attack graphs have the same edges with the same distributions and
/// flows (asset indexes must mean the same assets: changes never add or remove assets).
pub fn same_edges(m1: &Model, g1: &AttackGraph, m2: &Model, g2: &AttackGraph) -> bool {
    g1.edges.len() == g2.edges.len() && edge_map(m1, g1) == edge_map(m2, g2)
}
