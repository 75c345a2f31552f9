//! An incident: detections grouped by shared entities and attack edges.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigie_sigma::Level;

/// One incident. Detections are referred to by their index in the list given to
/// grouping (the list is in input order; ids do not depend on it).
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `inc-` + 16 hex digits of the SHA-256 of its earliest detection's key.
    pub id: String,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Highest level among its detections.
    pub severity: Level,
    /// Risk score in [0, 100] (see `docs/respond.md`).
    pub risk: f64,
    pub risk_factors: RiskFactors,
    /// Model asset ids involved (resolved entities), sorted.
    pub assets: Vec<String>,
    /// Normalised account names involved, sorted.
    pub accounts: Vec<String>,
    /// IP addresses involved, sorted.
    pub ips: Vec<String>,
    /// ATT&CK techniques in order of first use (the kill-chain timeline).
    pub techniques: Vec<TechniqueUse>,
    /// Tactics in kill-chain order.
    pub tactics: Vec<String>,
    /// Indices of its detections in the grouped list, by time then input order.
    pub detections: Vec<usize>,
    /// Assets judged compromised, with the evidence for each, sorted by asset id.
    pub compromised: Vec<Compromise>,
    /// Entities of its detections that resolved to no asset: (kind, value, count).
    pub unresolved: Vec<(crate::EntityKind, String, u64)>,
}

/// What the risk score is made of.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RiskFactors {
    pub severity: f64,
    pub tactics: f64,
    pub crown_jewel_proximity: f64,
}

/// One technique of the kill-chain timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueUse {
    /// `T1078` or `T1059.001`.
    pub id: String,
    /// Its ATT&CK name, when the embedded table knows it.
    pub name: Option<String>,
    /// Its tactics (ATT&CK short names), kill-chain order.
    pub tactics: Vec<String>,
    pub first_seen: Option<DateTime<Utc>>,
    /// Detections that showed it.
    pub detections: usize,
}

/// An asset judged compromised and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compromise {
    pub asset: String,
    pub evidence: Vec<Evidence>,
}

/// One piece of evidence that an asset is compromised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule (stable key) and detection index.
    pub rule_key: String,
    pub detection: usize,
    /// Why this detection counts: `execution`, `credential_access`,
    /// `logon_with_stolen_account`, ...
    pub reason: String,
}
