//! `vigie exercise --format json`: the Monte Carlo race of an attacker against
//! detection, as a program reads it. Documented field by field in `docs/exercise.md`.
//!
//! Everything here is a function of the model, the rules, the detection table and the
//! options (seed, samples, horizon, entry): no wall-clock time, no thread count, so two
//! runs with the same inputs give the same bytes. Quantities are hours, customer-hours
//! and probabilities (0 to 1) as plain numbers, rounded to 12 significant digits as the
//! other reports are (`vigie_response::report::tidy`). Assets are named by their model
//! ids, with their names next to them for the reader.

use serde::{Deserialize, Serialize};

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
    /// Whether detection triggers the containment `vigie contain` recommends.
    pub containment: bool,
    /// Every crown jewel of the model, in the model's order.
    pub crown_jewels: Vec<CrownJewel>,
    /// The share of samples with a detection before the horizon.
    pub p_detected: f64,
    pub p_detected_ci95: [f64; 2],
    /// Time to detect, over the samples with a detection; null when none detects.
    pub ttd_hours: Option<Percentiles>,
    /// Customer-hours of the incident, over every sample (0 for a sample where the
    /// attacker reaches nothing that costs anything).
    pub customer_hours: CustomerHours,
    /// The most frequent attack paths to a crown jewel, most frequent first.
    pub paths: Vec<AttackPath>,
    /// The attack edges used most (securiCAD's frequency), most used first.
    pub edges: Vec<EdgeUse>,
    /// What detects first, most often first.
    pub first_detecting_rules: Vec<FirstDetector>,
    /// Per ATT&CK technique of the model's attack graph: the rules counted.
    pub detection: Vec<TechniqueDetection>,
    /// Techniques used on the simulated attack paths that no loaded rule detects, most
    /// used first.
    pub uncovered_techniques: Vec<UncoveredTechnique>,
}

/// A distribution over samples: its mean and percentiles (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// One crown jewel's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrownJewel {
    pub id: String,
    pub name: String,
    /// Probability of reaching it within the horizon if the attacker were never
    /// stopped (securiCAD's figure).
    pub p_reached: f64,
    /// Wilson 95 % interval of `p_reached`.
    pub p_reached_ci95: [f64; 2],
    /// Probability of reaching it strictly before the first detection (vigie's
    /// defence in the loop).
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
}

/// One attack path: the chain of assets the attacker took to a crown jewel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackPath {
    /// The crown jewel it ends on.
    pub to: String,
    /// The assets in order, from the first one held (an entry asset, or the first
    /// reached from the Internet) to the crown jewel.
    pub steps: Vec<PathStep>,
    /// Samples that took exactly this path to this crown jewel.
    pub count: u64,
    /// `count` over the samples.
    pub frequency: f64,
}

/// One asset of a path and the technique that took the attacker there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    pub id: String,
    pub name: String,
    /// ATT&CK technique of the edge into it; null on the first asset.
    pub technique: Option<String>,
}

/// An attack edge and how often the attacker used it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeUse {
    /// Source asset id (`internet` for the Internet node).
    pub from: String,
    pub from_name: String,
    pub to: String,
    pub to_name: String,
    pub technique: String,
    /// The derivation rule (`exploit`, `credential_theft`, ...) or `explicit`.
    pub rule: String,
    /// Samples in which it was a step of the attack (it compromised its target).
    pub count: u64,
    /// `count` over the samples.
    pub frequency: f64,
}

/// A detector and how often it was the first to see the attacker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstDetector {
    /// `rule`, `edr` or `baseline`.
    pub kind: String,
    /// The Sigma rule's stable key for `rule`; the technique for `baseline`; `edr`.
    pub key: String,
    pub title: String,
    /// Sigma level for `rule`; null otherwise.
    pub level: Option<String>,
    /// Samples whose first detection it made.
    pub count: u64,
    /// `count` over the detected samples.
    pub share: f64,
}

/// A technique and the rules that detect it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueDetection {
    pub technique: String,
    /// Stable keys of the loaded rules tagged with it (or a sub-technique of it).
    pub rules: Vec<String>,
}

/// A technique the attacker used that no loaded rule detects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncoveredTechnique {
    pub technique: String,
    /// Samples in which an edge of this technique was a step of the attack.
    pub count: u64,
    pub frequency: f64,
}
