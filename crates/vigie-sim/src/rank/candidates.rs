//! Enumerating the single changes worth simulating, and the screening that keeps their
//! number bounded (`docs/exercise.md`, "rank").
//!
//! Screening: a change is scored by how often the baseline run reaches what it touches
//! (the fraction of samples in which the asset is compromised within the horizon; for a
//! rule, the sum over the assets entered by that technique; for a flow, the sum over the
//! assets entered by the edges it carries). A change touching only assets no baseline
//! sample reaches cannot change the attacker's shortest-path tree (every change only
//! slows, removes or watches steps), so it is screened out. The rest are sorted by score
//! within each kind and taken kind by kind in turn, so that no family crowds out the
//! others, until `max_candidates` have passed the no-op check.

use rustc_hash::{FxHashMap, FxHashSet};
use vigie_model::{AttackGraph, Model, Rule};

use super::change::{Change, ChangeKind};

/// Log sources tried for telemetry changes, besides those the model already names.
pub const DEFAULT_SOURCES: [&str; 5] = ["sysmon", "security", "powershell", "linux", "auditd"];

/// What the enumeration needs from the baseline.
pub struct Baseline<'a> {
    pub model: &'a Model,
    pub graph: &'a AttackGraph,
    /// Per asset index: fraction of baseline samples reaching it within the horizon.
    pub reach: &'a [f64],
    /// Techniques no loaded rule covers.
    pub uncovered: &'a [String],
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
        ChangeKind::Telemetry => {
            let sources = sources(m);
            let mut out = Vec::new();
            for (i, a) in m.assets.iter().enumerate() {
                let Some(list) = &a.telemetry else { continue };
                if !in_graph.contains(&(i as u32)) {
                    continue;
                }
                for s in &sources {
                    if !list.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                        out.push(Change::Telemetry {
                            asset: asset(a),
                            source: s.clone(),
                        });
                    }
                }
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

/// The log sources tried: the defaults and every source the model names, lowercased,
/// sorted.
fn sources(m: &Model) -> Vec<String> {
    let mut s: Vec<String> = DEFAULT_SOURCES.iter().map(|s| s.to_string()).collect();
    for a in &m.assets {
        for t in a.telemetry.iter().flatten() {
            s.push(t.to_ascii_lowercase());
        }
    }
    s.sort();
    s.dedup();
    s
}

/// The screening score of a change (see the module docs).
pub fn score(b: &Baseline<'_>, c: &Change) -> f64 {
    let reach_of = |id: &str| {
        b.model
            .assets
            .iter()
            .position(|a| a.id == id)
            .and_then(|i| b.reach.get(i).copied())
            .unwrap_or(0.0)
    };
    let targets_sum = |pred: &dyn Fn(&vigie_model::AttackEdge) -> bool| {
        let t: FxHashSet<u32> = b
            .graph
            .edges
            .iter()
            .filter(|e| pred(e))
            .map(|e| e.to)
            .collect();
        t.iter()
            .map(|&i| b.reach.get(i as usize).copied().unwrap_or(0.0))
            .sum::<f64>()
    };
    match c {
        Change::Edr { asset }
        | Change::Mfa { asset }
        | Change::Telemetry { asset, .. }
        | Change::Patch { asset, .. } => reach_of(asset),
        Change::Rule { technique } => targets_sum(&|e| b.graph.technique(e) == technique),
        Change::Flow { flow } => match b.model.flows.iter().position(|f| &f.id() == flow) {
            Some(fi) => targets_sum(&|e| b.graph.flows(e).contains(&(fi as u32))),
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
