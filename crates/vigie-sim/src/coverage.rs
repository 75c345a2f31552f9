//! The ATT&CK coverage of a rule set (`vigie rules coverage`), and with a model, how
//! often simulated attacks use each technique and which techniques on their paths no
//! counted rule detects (docs/detection-model.md, "Coverage").
//!
//! Counts follow `sigma analyze attack count` of sigma-cli 3.1.0 (pySigma's
//! `calculate_attack_scores` with its defaults) exactly, so that a layer of vigie's and
//! one of sigma-cli's agree technique by technique:
//!
//! - every loaded rule counts, detection and correlation alike, whatever its level and
//!   status (deprecated and unsupported included: sigma-cli's default minimum status is
//!   `unsupported`);
//! - every tag `attack.<x>` (namespace `attack` exactly, lowercase) whose `<x>`
//!   uppercased is a technique or sub-technique id counts once for that id, so a tag
//!   repeated in one rule counts twice, as sigma-cli counts it;
//! - a sub-technique counts for itself only (sigma-cli's default `--subtechniques`);
//! - tactic, group and software tags (`attack.execution`, `attack.g0016`) are not
//!   techniques: sigma-cli counts them under their own name but drops them from its
//!   layer, vigie skips them.
//!
//! Where they differ, on purpose: sigma-cli's layer keeps only the ids its ATT&CK data
//! knows (not revoked, not deprecated) and repeats a technique once per tactic; vigie's
//! layer lists every tagged id once, each with its ATT&CK name when known.

use std::collections::BTreeMap;

use rayon::prelude::*;
use vigie_sigma::RuleSet;

use crate::detection::{is_technique_id, DetectionModel, Detector};
use crate::run::Exercise;

/// Rules per technique id, counted as `sigma analyze attack count` counts them.
pub fn attack_counts(rules: &RuleSet) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for id in rules.rule_ids() {
        for tag in &rules.meta(id).tags {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            let t = name.to_uppercase();
            if is_technique_id(&t) {
                *out.entry(t).or_insert(0) += 1;
            }
        }
    }
    out
}

/// Rules of each technique id, in rule-set order (keys and titles; a rule tagging the
/// technique twice is listed once).
pub fn attack_rules(rules: &RuleSet) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for id in rules.rule_ids() {
        let m = rules.meta(id);
        let mut seen: Vec<String> = Vec::new();
        for tag in &m.tags {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            let t = name.to_uppercase();
            if is_technique_id(&t) && !seen.contains(&t) {
                out.entry(t.clone())
                    .or_default()
                    .push((m.key.to_string(), m.title.clone()));
                seen.push(t);
            }
        }
    }
    out
}

/// How the simulated attacks of a model use techniques.
#[derive(Debug, Clone, PartialEq)]
pub struct AttackUse {
    /// Samples run.
    pub samples: u64,
    /// Per edge of the exercise (its index), the samples that attempt it.
    pub edge_samples: Vec<u64>,
    /// Distinct edge techniques (uppercase), sorted.
    pub techniques: Vec<String>,
    /// Per set of edge techniques (indexes into `techniques`, sorted) attempted together
    /// in a sample, how many samples attempted exactly that set.
    sets: BTreeMap<Vec<u32>, u64>,
}

impl AttackUse {
    /// Runs every sample of `ex` (in parallel; the result does not depend on the thread
    /// count: counts are sums) and records which edges and techniques each attempts.
    pub fn measure(ex: &Exercise) -> AttackUse {
        let n_edges = ex.edge_count();
        let tech_of: Vec<String> = (0..n_edges as u32)
            .map(|e| {
                ex.edge(e)
                    .map(|i| i.technique.trim().to_ascii_uppercase())
                    .unwrap_or_default()
            })
            .collect();
        let mut techniques: Vec<String> = tech_of.clone();
        techniques.sort();
        techniques.dedup();
        let tix: Vec<u32> = tech_of
            .iter()
            .map(|t| techniques.binary_search(t).unwrap_or(0) as u32)
            .collect();
        let samples = ex.config().samples;
        type Acc = (Vec<u64>, BTreeMap<Vec<u32>, u64>);
        let zero = || -> Acc { (vec![0u64; n_edges], BTreeMap::new()) };
        // On the exercise's own pool: `--threads 1` means one thread here too.
        let pass = || {
            (0..samples)
                .into_par_iter()
                .fold(zero, |mut acc, i| {
                    let out = ex.sample(i);
                    let mut set: Vec<u32> = Vec::new();
                    let mut edges: Vec<u32> = out.steps.iter().map(|s| s.edge).collect();
                    edges.sort_unstable();
                    edges.dedup();
                    for e in edges {
                        if let Some(c) = acc.0.get_mut(e as usize) {
                            *c += 1;
                            set.push(tix[e as usize]);
                        }
                    }
                    set.sort_unstable();
                    set.dedup();
                    *acc.1.entry(set).or_insert(0) += 1;
                    acc
                })
                .reduce(zero, |mut a, b| {
                    for (x, y) in a.0.iter_mut().zip(b.0) {
                        *x += y;
                    }
                    for (k, v) in b.1 {
                        *a.1.entry(k).or_insert(0) += v;
                    }
                    a
                })
        };
        let (edge_samples, sets) = crate::run::in_pool(ex.config().threads, pass);
        AttackUse {
            samples,
            edge_samples,
            techniques,
            sets,
        }
    }

    /// Share of samples that attempt a step whose technique matches `technique` (the
    /// same id, or one is the other's parent: `vigie_incident::attack::technique_matches`).
    pub fn share(&self, technique: &str) -> f64 {
        let matching: Vec<u32> = self
            .techniques
            .iter()
            .enumerate()
            .filter(|(_, t)| vigie_incident::attack::technique_matches(technique, t))
            .map(|(i, _)| i as u32)
            .collect();
        if matching.is_empty() || self.samples == 0 {
            return 0.0;
        }
        let hit: u64 = self
            .sets
            .iter()
            .filter(|(set, _)| set.iter().any(|t| matching.binary_search(t).is_ok()))
            .map(|(_, n)| n)
            .sum();
        hit as f64 / self.samples as f64
    }
}

/// A technique used on the model's attack paths that some attempted edge carries with no
/// counted rule able to detect it there.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncovered {
    /// Technique id (uppercase).
    pub technique: String,
    /// Its ATT&CK name when known.
    pub name: Option<String>,
    /// Share of samples that attempt a step of it.
    pub share: f64,
    /// Attempted edges carrying it (attempted in at least one sample).
    pub edges: u32,
    /// Of those, the edges no counted rule detects (telemetry, tags).
    pub uncovered_edges: u32,
    /// The ids of the most used of those edges (`from -> to`), most used first, at most 5.
    pub examples: Vec<String>,
}

/// Techniques on attempted edges that no counted rule detects, by share of samples
/// (highest first, then id).
pub fn uncovered(ex: &Exercise, dm: &DetectionModel, usage: &AttackUse) -> Vec<Uncovered> {
    // technique → (attempted edges, [(samples, edge label)] of the uncovered ones)
    let mut by_t: BTreeMap<String, (u32, Vec<(u64, String)>)> = BTreeMap::new();
    for (e, &n) in usage.edge_samples.iter().enumerate() {
        let Some(info) = ex.edge(e as u32).filter(|_| n > 0) else {
            continue;
        };
        let t = info.technique.trim().to_ascii_uppercase();
        let step = dm.step(info.to as usize, &t);
        let by_rule = step
            .detectors
            .iter()
            .any(|(d, _)| matches!(dm.detector(*d), Detector::Rule { .. }));
        let slot = by_t.entry(t).or_default();
        slot.0 += 1;
        if !by_rule {
            slot.1
                .push((n, format!("{} -> {}", info.from_id, info.to_id)));
        }
    }
    let mut out: Vec<Uncovered> = by_t
        .into_iter()
        .filter(|(_, (_, unc))| !unc.is_empty())
        .map(|(t, (edges, mut unc))| {
            unc.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            Uncovered {
                name: vigie_incident::attack::technique(&t).map(|i| i.name.to_string()),
                share: usage.share(&t),
                edges,
                uncovered_edges: unc.len() as u32,
                examples: unc.into_iter().take(5).map(|(_, l)| l).collect(),
                technique: t,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then_with(|| a.technique.cmp(&b.technique))
    });
    out
}
