//! `vigie respond --format json` (and `vigie demo --format json`): incidents, each with
//! its decision. Documented field by field in `docs/respond.md`.
//!
//! Nothing here depends on the machine's speed except `summary.timing` (the embedded
//! assess/contain/restore documents leave their `elapsed_ms` out; their times are in
//! `summary.timing.incidents`).

use serde::{Deserialize, Serialize};

use super::response::{AssessReport, ContainReport, RestoreReport};
use super::Detection;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RespondReport {
    /// `vigie/v1`.
    pub schema: String,
    /// The model's digest (`vigie_model::digest`).
    pub model: String,
    /// The rule set's digest (`RuleSet::digest`).
    pub rules: String,
    pub incidents: Vec<Incident>,
    /// Entities that resolved to no model asset, over all detections.
    pub unresolved: Vec<Unresolved>,
    pub summary: RespondSummary,
}

/// One incident and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `inc-` + 16 hex digits.
    pub id: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Highest level of its detections.
    pub severity: String,
    /// Risk score, 0-100.
    pub risk: f64,
    pub risk_factors: RiskFactors,
    /// Model asset ids involved.
    pub assets: Vec<String>,
    /// Asset ids judged compromised.
    pub compromised: Vec<String>,
    /// Why each is judged compromised.
    pub evidence: Vec<Compromise>,
    pub accounts: Vec<String>,
    pub ips: Vec<String>,
    /// ATT&CK technique ids, kill-chain order of first use.
    pub techniques: Vec<String>,
    /// ATT&CK tactics, kill-chain order.
    pub tactics: Vec<String>,
    /// The kill-chain timeline: each technique with its name, tactics, first time.
    pub timeline: Vec<TimelineStep>,
    pub detections: Vec<Detection>,
    /// Absent when no asset is compromised (nothing to decide on).
    pub assess: Option<AssessReport>,
    pub contain: Option<ContainReport>,
    pub restore: Option<RestoreReport>,
    pub notification: Option<super::notification::Notification>,
    pub unresolved: Vec<Unresolved>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFactors {
    pub severity: f64,
    pub tactics: f64,
    pub crown_jewel_proximity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compromise {
    pub asset: String,
    pub evidence: Vec<EvidenceItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub rule_id: String,
    /// Index into the incident's `detections`.
    pub detection: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineStep {
    pub technique: String,
    pub name: Option<String>,
    pub tactics: Vec<String>,
    pub first_seen: Option<String>,
    pub detections: usize,
}

/// An entity no asset holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unresolved {
    /// `host`, `ip`, `account`, `sid`.
    pub kind: String,
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RespondSummary {
    pub events: u64,
    pub detections: u64,
    pub incidents: usize,
    pub compromised_assets: usize,
    pub unresolved_entities: usize,
    /// Wall-clock figures: the only part that depends on the machine.
    pub timing: serde_json::Value,
}
