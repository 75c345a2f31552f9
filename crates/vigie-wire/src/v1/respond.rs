//! `vigie respond --format json` (and `vigie demo --format json`): incidents, each with
//! its decision. Documented field by field in `docs/respond.md`.
//!
//! Nothing here depends on the machine's speed except `summary.timing` (the embedded
//! assess/contain/restore documents leave their `elapsed_ms` out; their times are in
//! `summary.timing.incidents`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigie_incident as inc;
use vigie_sigma::{Level, RuleSet};

use super::response::{AssessReport, ContainReport, RestoreReport};
use super::{Detection, FileCounts, HuntSummary, RuleCounts};
use crate::rfc3339;

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
    /// Engines not run on this incident and why (e.g. contain when every crown jewel is
    /// already compromised).
    #[serde(default)]
    pub decision_skipped: Vec<SkippedDecision>,
    /// Processes, file hashes and files its detections name (no asset is named by
    /// these: they are indicators, not unresolved names), `{kind, value, count}`.
    #[serde(default)]
    pub indicators: Vec<Unresolved>,
}

/// An engine not run on an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedDecision {
    /// `contain` or `restore`.
    pub engine: String,
    pub reason: String,
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RespondSummary {
    pub events: u64,
    pub detections: u64,
    pub incidents: usize,
    pub compromised_assets: usize,
    pub unresolved_entities: usize,
    /// Distinct unresolved entities by kind.
    #[serde(default)]
    pub unresolved_by_kind: BTreeMap<String, u64>,
    /// Incidents by severity (every level present).
    #[serde(default)]
    pub incidents_by_severity: BTreeMap<String, u64>,
    /// Reported detections by level (every level present).
    #[serde(default)]
    pub detections_by_level: BTreeMap<String, u64>,
    /// Files read and skipped by reason.
    #[serde(default)]
    pub files: FileCounts,
    /// Damaged records skipped, by reason.
    #[serde(default)]
    pub records_skipped: BTreeMap<String, u64>,
    /// Events left out by the time window.
    #[serde(default)]
    pub events_outside_window: u64,
    /// The rules: digest, counts, refused by reason.
    #[serde(default)]
    pub rule_counts: RuleCounts,
    /// Entities the grouping guard stopped from linking (seen with more distinct hosts
    /// than `--max-assets-per-entity` within one window).
    #[serde(default)]
    pub guarded_entities: Vec<GuardedEntity>,
    /// Threat-intelligence indicators (`--intel`): loaded, refused, hits, suppressions;
    /// absent when none were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel: Option<super::hunt::IntelCounts>,
    /// Wall-clock figures: the only part that depends on the machine (see
    /// [`Timing`]).
    pub timing: serde_json::Value,
}

/// An entity that links nothing (the grouping guard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardedEntity {
    /// `asset` (a model asset, `value` its id) or the kind of an unresolved entity
    /// (`host`, `ip`, `account`, `sid`).
    pub kind: String,
    pub value: String,
    /// Most distinct hosts seen with it within one window.
    pub hosts_in_window: usize,
    /// Detections carrying it.
    pub detections: usize,
}

/// What `summary.timing` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub threads: usize,
    pub rules_load_s: f64,
    /// The hunt: reading and matching every input.
    pub hunt_s: f64,
    pub events_per_s: f64,
    pub observe_ms: f64,
    pub group_ms: f64,
    pub decide_ms: f64,
    pub notify_ms: f64,
    /// Per incident, the engines' times.
    pub incidents: Vec<IncidentTiming>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentTiming {
    pub id: String,
    pub assess_ms: f64,
    pub contain_ms: f64,
    pub restore_ms: f64,
    /// The decision of an earlier incident with the same compromised set was reused
    /// (times 0).
    #[serde(default)]
    pub reused: bool,
}

/// What [`RespondReport::from_engine`] is built from.
pub struct RespondSource<'a> {
    /// `vigie_model::digest` of the model.
    pub model_digest: &'a str,
    pub rules: &'a RuleSet,
    pub respond: &'a inc::respond::Respond,
    /// The hunt that produced the detections.
    pub hunt: &'a vigie_hunt::Summary,
}

impl RespondReport {
    /// The wire form of a respond run.
    pub fn from_engine(src: &RespondSource<'_>) -> RespondReport {
        let r = src.respond;
        let incidents: Vec<Incident> = r
            .incidents
            .iter()
            .map(|d| Incident::from_engine(d, &r.detections, src.rules))
            .collect();
        let unresolved: Vec<Unresolved> = r.unresolved.iter().map(unresolved).collect();
        let summary = summary(src, &incidents, &unresolved);
        RespondReport {
            schema: crate::SCHEMA_VERSION.to_string(),
            model: src.model_digest.to_string(),
            rules: src.rules.digest().to_string(),
            incidents,
            unresolved,
            summary,
        }
    }
}

fn unresolved((kind, value, count): &(inc::EntityKind, String, u64)) -> Unresolved {
    Unresolved {
        kind: crate::snake_name(kind),
        value: value.clone(),
        count: *count,
    }
}

fn levels() -> BTreeMap<String, u64> {
    Level::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), 0))
        .collect()
}

fn summary(
    src: &RespondSource<'_>,
    incidents: &[Incident],
    unresolved: &[Unresolved],
) -> RespondSummary {
    let hunt = HuntSummary::from_engine(src.hunt);
    let mut compromised: Vec<&str> = incidents
        .iter()
        .flat_map(|i| i.compromised.iter().map(String::as_str))
        .collect();
    compromised.sort_unstable();
    compromised.dedup();
    let mut by_kind = BTreeMap::new();
    for u in unresolved {
        *by_kind.entry(u.kind.clone()).or_insert(0) += 1;
    }
    let mut by_severity = levels();
    for i in incidents {
        *by_severity.entry(i.severity.clone()).or_insert(0) += 1;
    }
    let t = &src.respond.timing;
    let timing = Timing {
        threads: hunt.threads,
        rules_load_s: hunt.rules_load_s,
        hunt_s: hunt.scan_s,
        events_per_s: hunt.events_per_s,
        observe_ms: r_ms(t.observe_ms),
        group_ms: r_ms(t.group_ms),
        decide_ms: r_ms(t.decide_ms),
        notify_ms: r_ms(t.notify_ms),
        incidents: src
            .respond
            .incidents
            .iter()
            .filter_map(|d| {
                let t = d.decision.as_ref()?.timing;
                Some(IncidentTiming {
                    id: d.incident.id.clone(),
                    assess_ms: r_ms(t.assess_ms),
                    contain_ms: r_ms(t.contain_ms),
                    restore_ms: r_ms(t.restore_ms),
                    reused: t.reused,
                })
            })
            .collect(),
    };
    RespondSummary {
        events: hunt.events,
        detections: src.respond.detections.len() as u64,
        incidents: incidents.len(),
        compromised_assets: compromised.len(),
        unresolved_entities: unresolved.len(),
        unresolved_by_kind: by_kind,
        incidents_by_severity: by_severity,
        detections_by_level: hunt.detections,
        files: hunt.files,
        records_skipped: hunt.records_skipped,
        events_outside_window: hunt.events_outside_window,
        rule_counts: hunt.rules,
        intel: hunt.intel,
        guarded_entities: src
            .respond
            .guarded
            .iter()
            .map(|g| {
                let (kind, value) = match &g.entity {
                    inc::LinkKey::Asset { id } => ("asset".to_string(), id.clone()),
                    inc::LinkKey::Unresolved { kind, value } => {
                        (crate::snake_name(kind), value.clone())
                    }
                };
                GuardedEntity {
                    kind,
                    value,
                    hosts_in_window: g.hosts_in_window,
                    detections: g.detections,
                }
            })
            .collect(),
        timing: serde_json::to_value(timing).unwrap_or_default(),
    }
}

fn r_ms(x: f64) -> f64 {
    vigie_response::report::tidy_ms(x)
}

fn time(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.as_ref().map(rfc3339)
}

/// Detections of an incident in an order that does not depend on input order: time
/// (untimed last), source, record, rule. Returns indices into `all`.
fn detection_order(ix: &[usize], all: &[inc::ObservedDetection]) -> Vec<usize> {
    let mut v: Vec<usize> = ix.iter().copied().filter(|&i| i < all.len()).collect();
    v.sort_by(|&a, &b| {
        let key = |i: usize| {
            let d = &all[i].detection;
            (
                d.timestamp.is_none(),
                d.timestamp,
                d.source.clone(),
                d.record,
                all[i].rule_key.as_str(),
            )
        };
        key(a).cmp(&key(b)).then(a.cmp(&b))
    });
    v.dedup();
    v
}

impl Incident {
    /// The wire form of a decided incident; `all` is the list its detection indices point
    /// into.
    pub fn from_engine(
        d: &inc::respond::Decided,
        all: &[inc::ObservedDetection],
        rules: &RuleSet,
    ) -> Incident {
        let i = &d.incident;
        let order = detection_order(&i.detections, all);
        let local = |global: usize| order.iter().position(|&g| g == global);
        let detections = order
            .iter()
            .map(|&g| {
                let o = &all[g];
                Detection::from_engine(&o.detection, rules.meta(o.detection.rule))
            })
            .collect();
        let evidence = i
            .compromised
            .iter()
            .map(|c| Compromise {
                asset: c.asset.clone(),
                evidence: c
                    .evidence
                    .iter()
                    .filter_map(|e| {
                        Some(EvidenceItem {
                            rule_id: e.rule_key.clone(),
                            detection: local(e.detection)?,
                            reason: e.reason.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        let dec = d.decision.as_ref();
        Incident {
            id: i.id.clone(),
            first_seen: time(&i.first_seen),
            last_seen: time(&i.last_seen),
            severity: i.severity.as_str().to_string(),
            risk: vigie_response::report::tidy(i.risk),
            risk_factors: RiskFactors {
                severity: i.risk_factors.severity,
                tactics: i.risk_factors.tactics,
                crown_jewel_proximity: i.risk_factors.crown_jewel_proximity,
            },
            assets: i.assets.clone(),
            compromised: i.compromised.iter().map(|c| c.asset.clone()).collect(),
            evidence,
            accounts: i.accounts.clone(),
            ips: i.ips.clone(),
            techniques: i.techniques.iter().map(|t| t.id.clone()).collect(),
            tactics: i.tactics.clone(),
            timeline: i
                .techniques
                .iter()
                .map(|t| TimelineStep {
                    technique: t.id.clone(),
                    name: t.name.clone(),
                    tactics: t.tactics.clone(),
                    first_seen: time(&t.first_seen),
                    detections: t.detections,
                })
                .collect(),
            detections,
            assess: dec.map(|x| AssessReport::from(&x.assess).without_time()),
            contain: dec
                .and_then(|x| x.contain.as_ref())
                .map(|c| ContainReport::from(c).without_time()),
            restore: dec
                .and_then(|x| x.restore.as_ref())
                .map(|r| RestoreReport::from(r).without_time()),
            notification: d
                .notification
                .as_ref()
                .map(super::notification::Notification::from),
            unresolved: i
                .unresolved
                .iter()
                .filter(|u| u.0.resolves_to_assets())
                .map(unresolved)
                .collect(),
            indicators: i
                .unresolved
                .iter()
                .filter(|u| !u.0.resolves_to_assets())
                .map(unresolved)
                .collect(),
            decision_skipped: dec
                .map(|x| {
                    x.skipped
                        .iter()
                        .map(|s| SkippedDecision {
                            engine: s.engine.to_string(),
                            reason: s.reason.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}
