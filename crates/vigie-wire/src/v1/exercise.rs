//! `vigie exercise --format json`: the Monte Carlo race of an attacker against
//! detection, as a program reads it. Documented field by field in `docs/exercise.md`.
//!
//! Everything here is a function of the model, the rules, the detection table and the
//! options (seed, samples, horizon, entry): no wall-clock time, no thread count, so two
//! runs with the same inputs give the same bytes. Quantities are hours, customer-hours
//! and probabilities (0 to 1) as plain numbers, rounded to 12 significant digits as the
//! other reports are (`vigie_response::report::tidy`). Assets are named by their model
//! ids, with their names next to them for the reader.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vigie_response::report::tidy as q;
use vigie_sim::detection::{DetectionModel, Detector};
use vigie_sim::run as sim;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseReport {
    /// `vigie/v1`.
    pub schema: String,
    /// The model's digest (`vigie_model::digest`).
    pub model: String,
    /// The rule set's digest (`RuleSet::digest`).
    pub rules: String,
    /// The seed of the random streams (sample i uses stream (seed, i)).
    pub seed: u64,
    /// Number of Monte Carlo samples.
    pub samples: u64,
    /// Simulated time of each sample, in hours.
    pub horizon_hours: f64,
    /// Where the attacker starts: the `--entry` asset ids, or empty for the Internet.
    pub entry: Vec<String>,
    /// Whether detection triggers the containment `vigie contain` recommends (and
    /// customer-hours are priced).
    pub containment: bool,
    /// Every crown jewel of the model, in the model's order.
    pub crown_jewels: Vec<CrownJewel>,
    /// Samples with a detection by the horizon.
    pub detected: u64,
    /// Their share of the samples.
    pub p_detected: f64,
    /// Wilson 95 % interval of `p_detected`.
    pub p_detected_ci95: [f64; 2],
    /// Time to detect, over the detected samples; null when none is detected.
    pub ttd_hours: Option<TimeToDetect>,
    /// Customer-hours of the incident over every sample; null without containment.
    pub customer_hours: Option<CustomerHours>,
    /// The most frequent attack paths to a crown jewel, most frequent first.
    pub paths: Vec<AttackPath>,
    /// The attack edges used most (securiCAD's frequency), most used first.
    pub edges: Vec<EdgeUse>,
    /// What detects first, most often first.
    pub first_detecting_rules: Vec<FirstDetector>,
    /// Per ATT&CK technique of the model's attack edges: how it is detected and the
    /// rules counted.
    pub detection: Vec<TechniqueDetection>,
    /// Techniques of the most used edges that no loaded rule detects, most used first.
    pub uncovered_techniques: Vec<UncoveredTechnique>,
}

/// A time's mean and percentiles (nearest rank) over samples, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// The time-to-detect distribution over the detected samples, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeToDetect {
    pub mean: f64,
    /// Normal 95 % interval of the mean.
    pub mean_ci95: [f64; 2],
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// One crown jewel's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrownJewel {
    pub id: String,
    pub name: String,
    /// Samples reaching it within the horizon.
    pub reached: u64,
    /// Probability of reaching it within the horizon if the attacker were never
    /// stopped (securiCAD's figure).
    pub p_reached: f64,
    /// Wilson 95 % interval of `p_reached`.
    pub p_reached_ci95: [f64; 2],
    /// Samples reaching it strictly before the detection (by the horizon when
    /// undetected).
    pub reached_before_detection: u64,
    /// Probability of reaching it before being detected (vigie's defence in the loop).
    pub p_reached_before_detection: f64,
    pub p_reached_before_detection_ci95: [f64; 2],
    /// Time to compromise, over the samples that reach it; null when none does.
    pub ttc_hours: Option<Percentiles>,
}

/// Customer-hours over the samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerHours {
    pub mean: f64,
    /// Normal 95 % interval of the mean.
    pub mean_ci95: [f64; 2],
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// Mean of the containment plans' part.
    pub containment_mean: f64,
    /// Mean of the restoration of destroyed crown jewels.
    pub restore_mean: f64,
}

/// One attack path: the chain of nodes from the attacker's start to a crown jewel on a
/// sample's shortest-path tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackPath {
    /// The crown jewel it ends on.
    pub to: String,
    /// From the start (the Internet node, or an entry asset) to the crown jewel.
    pub nodes: Vec<Node>,
    /// Samples that reached the jewel by exactly this path.
    pub count: u64,
    /// `count` over the samples.
    pub frequency: f64,
}

/// A node of the attack graph: an asset, or the Internet node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub name: String,
}

/// An attack edge and how often the attacker used it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeUse {
    /// Source id (an asset, or the Internet node).
    pub from: String,
    pub from_name: String,
    pub to: String,
    pub to_name: String,
    pub technique: String,
    /// The derivation rule (`exploit`, `credential_theft`, ...; `explicit` for an edge
    /// stated in the model).
    pub rule: String,
    /// Samples in which it compromised its target by the containment.
    pub count: u64,
    /// `count` over the samples.
    pub frequency: f64,
}

/// A detector and how often it was the first to see the attacker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstDetector {
    /// `rule`, `edr` or `baseline`.
    pub kind: String,
    /// The Sigma rule's stable key (`rule`), `edr`, or `baseline:` and the technique.
    pub key: String,
    pub title: String,
    /// Sigma level for `rule`; null otherwise.
    pub level: Option<String>,
    /// Samples whose first detection it made.
    pub count: u64,
    /// `count` over the samples (the shares add up to `p_detected`).
    pub frequency: f64,
}

/// A technique and what detects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueDetection {
    pub technique: String,
    /// Its ATT&CK name, when known.
    pub name: Option<String>,
    /// Probability of detecting a step without any rule (users, IDS, provider).
    pub baseline_p: f64,
    /// Probability an EDR agent on the target detects a step.
    pub edr_p: f64,
    /// Mean delay from a step to its detection, in hours.
    pub delay_mean_hours: f64,
    /// The rules counted for it, in rule-set order.
    pub rules: Vec<CountedRule>,
}

/// A rule counted for a technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountedRule {
    pub key: String,
    pub title: String,
    pub level: String,
    pub status: Option<String>,
    /// Its own probability of detecting a step on an asset that ships its telemetry.
    pub q: f64,
    /// Telemetry names any one of which lets it see an asset (empty: any telemetry).
    pub telemetry: Vec<String>,
}

/// A technique the attacker used that no loaded rule detects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncoveredTechnique {
    pub technique: String,
    pub name: Option<String>,
    /// The share of samples using its most used edge among `edges` (a lower bound of
    /// the share of samples using the technique).
    pub frequency: f64,
}

/// What the report is made from.
pub struct ExerciseSource<'a> {
    /// `vigie_model::digest` of the model.
    pub model_digest: &'a str,
    /// `RuleSet::digest` of the rules.
    pub rules_digest: &'a str,
    /// The compiled exercise (names, attack edges).
    pub exercise: &'a sim::Exercise,
    pub detection: &'a DetectionModel,
    pub report: &'a sim::ExerciseReport,
}

fn ci(c: sim::Ci95) -> [f64; 2] {
    [q(c.low), q(c.high)]
}

/// A proportion's interval, held around the proportion and within [0, 1]: the Wilson
/// bounds computed in floating point can miss 0 by 1e-19 for a proportion of 0.
fn ci_of(p: f64, c: sim::Ci95) -> [f64; 2] {
    [
        q(c.low.min(p).clamp(0.0, 1.0)),
        q(c.high.max(p).clamp(0.0, 1.0)),
    ]
}

fn share(count: u64, samples: u64) -> f64 {
    q(count as f64 / samples.max(1) as f64)
}

impl ExerciseReport {
    pub fn from_engine(s: &ExerciseSource) -> ExerciseReport {
        let r = s.report;
        let names = Names::new(s.exercise);
        let ttd = &r.ttd_hours;
        let detection = techniques(s);
        let edges: Vec<EdgeUse> = r.edges.iter().map(|e| edge(e, &names)).collect();
        let uncovered = uncovered(&detection, &edges);
        ExerciseReport {
            schema: crate::SCHEMA_VERSION.to_string(),
            model: s.model_digest.to_string(),
            rules: s.rules_digest.to_string(),
            seed: r.seed,
            samples: r.samples,
            horizon_hours: q(r.horizon_hours),
            entry: r.entry.clone(),
            containment: r.containment,
            crown_jewels: r.crown_jewels.iter().map(|j| jewel(j, &names)).collect(),
            detected: ttd.detected,
            p_detected: q(ttd.p_detected),
            p_detected_ci95: ci_of(ttd.p_detected, ttd.p_detected_ci95),
            ttd_hours: ttd.hours.map(|t| TimeToDetect {
                mean: q(t.mean),
                mean_ci95: ttd.mean_ci95.map_or([q(t.mean); 2], ci),
                p5: q(t.p5),
                p50: q(t.p50),
                p95: q(t.p95),
            }),
            customer_hours: r.customer_hours.as_ref().map(|c| CustomerHours {
                mean: q(c.mean),
                mean_ci95: ci(c.mean_ci95),
                p5: q(c.p5),
                p50: q(c.p50),
                p95: q(c.p95),
                p99: q(c.p99),
                containment_mean: q(c.containment_mean),
                restore_mean: q(c.restore_mean),
            }),
            paths: r.paths.iter().map(|p| path(p, r.samples, &names)).collect(),
            edges,
            first_detecting_rules: r
                .first_detecting_rules
                .iter()
                .map(|f| first(f, r.samples, s.detection))
                .collect(),
            detection,
            uncovered_techniques: uncovered,
        }
    }
}

/// Node names by id: the model's asset names, `Internet` for the Internet node.
struct Names<'a> {
    by_id: BTreeMap<&'a str, &'a str>,
    internet: &'a str,
}

impl<'a> Names<'a> {
    fn new(ex: &'a sim::Exercise) -> Names<'a> {
        let g = ex.graph();
        let by_id = g
            .node_ids
            .iter()
            .zip(&g.node_names)
            .map(|(id, n)| (id.as_str(), n.as_str()))
            .collect();
        Names {
            by_id,
            internet: ex.node_id(ex.internet()),
        }
    }

    fn name(&self, id: &str) -> String {
        if id == self.internet {
            return "Internet".to_string();
        }
        match self.by_id.get(id) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => id.to_string(),
        }
    }

    fn node(&self, id: &str) -> Node {
        Node {
            id: id.to_string(),
            name: self.name(id),
        }
    }
}

fn jewel(j: &sim::JewelReport, names: &Names) -> CrownJewel {
    CrownJewel {
        id: j.id.clone(),
        name: names.name(&j.id),
        reached: j.reached,
        p_reached: q(j.p_reached),
        p_reached_ci95: ci_of(j.p_reached, j.p_reached_ci95),
        reached_before_detection: j.reached_before_detection,
        p_reached_before_detection: q(j.p_reached_before_detection),
        p_reached_before_detection_ci95: ci_of(
            j.p_reached_before_detection,
            j.p_reached_before_detection_ci95,
        ),
        ttc_hours: j.ttc_hours.map(|t| Percentiles {
            mean: q(t.mean),
            p5: q(t.p5),
            p50: q(t.p50),
            p95: q(t.p95),
        }),
    }
}

fn path(p: &sim::PathReport, samples: u64, names: &Names) -> AttackPath {
    AttackPath {
        to: p.nodes.last().cloned().unwrap_or_default(),
        nodes: p.nodes.iter().map(|id| names.node(id)).collect(),
        count: p.count,
        frequency: share(p.count, samples),
    }
}

fn edge(e: &sim::EdgeReport, names: &Names) -> EdgeUse {
    EdgeUse {
        from: e.from.clone(),
        from_name: names.name(&e.from),
        to: e.to.clone(),
        to_name: names.name(&e.to),
        technique: e.technique.clone(),
        rule: crate::snake_name(&e.rule),
        count: e.count,
        frequency: q(e.share),
    }
}

fn first(f: &sim::FirstDetection, samples: u64, dm: &DetectionModel) -> FirstDetector {
    let (kind, key, title, level) = match dm.detector(f.detector) {
        Detector::Rule { key, title, level } => {
            ("rule", key.clone(), title.clone(), Some(level.to_string()))
        }
        Detector::Edr => ("edr", "edr".into(), "EDR agent on the target".into(), None),
        Detector::Baseline { technique } => (
            "baseline",
            format!("baseline:{technique}"),
            format!("{technique} seen without a rule (users, IDS, provider)"),
            None,
        ),
    };
    FirstDetector {
        kind: kind.to_string(),
        key,
        title,
        level,
        count: f.count,
        frequency: share(f.count, samples),
    }
}

/// The detection model's figures for the techniques of the exercise's attack edges (the
/// only ones the race uses), sorted by technique.
fn techniques(s: &ExerciseSource) -> Vec<TechniqueDetection> {
    let ex = s.exercise;
    let used: BTreeSet<String> = (0..ex.edge_count() as u32)
        .filter_map(|e| ex.edge(e))
        .map(|e| e.technique.trim().to_ascii_uppercase())
        .collect();
    s.detection
        .techniques()
        .into_iter()
        .filter(|t| used.contains(&t.technique))
        .map(|t| TechniqueDetection {
            technique: t.technique,
            name: t.name,
            baseline_p: q(t.entry.baseline_p),
            edr_p: q(t.entry.edr_p),
            delay_mean_hours: q(t.entry.delay.mean_hours),
            rules: t
                .rules
                .into_iter()
                .map(|r| CountedRule {
                    key: r.key,
                    title: r.title,
                    level: r.level.to_string(),
                    status: r.status,
                    q: q(r.q),
                    telemetry: r.telemetry,
                })
                .collect(),
        })
        .collect()
}

/// Techniques of the listed edges with no rule able to detect them (none counted with a
/// probability above 0), by the share of their most used edge, then by id.
fn uncovered(detection: &[TechniqueDetection], edges: &[EdgeUse]) -> Vec<UncoveredTechnique> {
    let mut best: BTreeMap<String, f64> = BTreeMap::new();
    for e in edges {
        let t = e.technique.trim().to_ascii_uppercase();
        let f = best.entry(t).or_insert(0.0);
        *f = f.max(e.frequency);
    }
    let mut out: Vec<UncoveredTechnique> = best
        .into_iter()
        .filter_map(|(t, f)| {
            let d = detection.iter().find(|d| d.technique == t);
            let covered = d.is_some_and(|d| d.rules.iter().any(|r| r.q > 0.0));
            (!covered).then(|| UncoveredTechnique {
                name: d.and_then(|d| d.name.clone()),
                technique: t,
                frequency: f,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.frequency
            .total_cmp(&a.frequency)
            .then_with(|| a.technique.cmp(&b.technique))
    });
    out
}
