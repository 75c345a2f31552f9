//! What a notification is drawn from, and how to gather it from an incident and the
//! `vigie_response` reports of its decision.

use chrono::{DateTime, Utc};
use vigie_model::Model;
use vigie_response::assess::AssessReport;
use vigie_response::contain::ContainReport;
use vigie_response::restore::RestoreReport;
use vigie_sigma::Level;

use crate::{Incident, ObservedDetection};

/// Everything [`super::notify`] needs. Fill it with [`NotificationInput::from_reports`], or
/// by hand (tests, other callers).
#[derive(Debug, Clone)]
pub struct NotificationInput<'m> {
    /// The operator model (customers, SLA weights, countries, personal-data assets).
    pub model: &'m Model,
    pub incident_id: String,
    pub severity: Level,
    /// Risk score, 0-100.
    pub risk: f64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// The incident's detections (time, level, techniques), any order.
    pub detections: Vec<DetectionFacts>,
    /// ATT&CK techniques and tactics of the incident, kill-chain order.
    pub techniques: Vec<String>,
    pub tactics: Vec<String>,
    /// Model asset ids named by its detections (compromised ones included).
    pub assets: Vec<String>,
    pub accounts: Vec<String>,
    pub ips: Vec<String>,
    /// Asset ids judged compromised.
    pub compromised: Vec<String>,
    /// Assets the attacker can reach from the compromised ones (assess), with the hours
    /// to reach them.
    pub reachable: Vec<(String, f64)>,
    /// The reachable list was cut by assess's limit (personal-data assets beyond it are
    /// not seen).
    pub reachable_truncated: bool,
    /// The outage the decision causes: from the restore timeline when there is one (it
    /// covers the containment actions and the rebuild), else from the containment plan.
    pub outage: Outage,
    /// The containment plan's actions, in words (`isolate web-01 (Web front)`).
    pub mitigation: Vec<String>,
    /// When everything is back, hours from the start of the outage (restore).
    pub restore_hours: Option<f64>,
    /// The time of awareness when given (`--aware-at`); else the first high or critical
    /// detection's time, else the first detection's.
    pub aware_at: Option<DateTime<Utc>>,
}

/// One detection, as far as a notification is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionFacts {
    pub timestamp: Option<DateTime<Utc>>,
    pub level: Level,
    pub rule_title: String,
    /// ATT&CK technique ids of its rule.
    pub techniques: Vec<String>,
}

/// Where the outage figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiguresSource {
    /// The restore timeline (containment actions and rebuild of the compromised assets).
    Restore,
    /// The containment plan's impact (no restore timeline given).
    ContainmentPlan,
    /// No decision: nothing known about the outage.
    #[default]
    None,
}

/// The services and segments the decision takes down, and for how long.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outage {
    pub source: FiguresSource,
    pub services: Vec<ServiceOutage>,
    pub segments: Vec<SegmentOutage>,
}

/// A service down or degraded.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceOutage {
    pub id: String,
    pub name: String,
    /// `down` or `degraded`.
    pub state: String,
    /// Hours from the start of the outage until it is fully back.
    pub hours: f64,
}

/// A customer segment losing service.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOutage {
    pub id: String,
    pub name: String,
    pub customers_affected: u64,
    /// Hours until every service it uses is fully back.
    pub hours: f64,
    /// Customer-hours lost, with the segment's SLA weight (as the reports give them).
    pub customer_hours: f64,
    /// Customers x fraction of their service lost at the height of the outage (used to
    /// estimate user-hours when the SLA weight is 0 and cannot be divided out).
    pub customer_equivalents: f64,
}

/// The reports of an incident's decision, each optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecisionReports<'r> {
    pub assess: Option<&'r AssessReport>,
    pub contain: Option<&'r ContainReport>,
    pub restore: Option<&'r RestoreReport>,
}

impl<'m> NotificationInput<'m> {
    /// Gather the input from an incident, the detection list it indexes into (the list
    /// given to grouping), the model and its decision's reports.
    pub fn from_reports(
        incident: &Incident,
        detections: &[ObservedDetection],
        model: &'m Model,
        reports: DecisionReports<'_>,
        aware_at: Option<DateTime<Utc>>,
    ) -> NotificationInput<'m> {
        let facts = incident
            .detections
            .iter()
            .filter_map(|&i| detections.get(i))
            .map(|d| DetectionFacts {
                timestamp: d.detection.timestamp,
                level: d.level,
                rule_title: d.rule_title.clone(),
                techniques: d.techniques.clone(),
            })
            .collect();
        let plan = reports.contain.and_then(|c| c.plan.as_ref());
        NotificationInput {
            model,
            incident_id: incident.id.clone(),
            severity: incident.severity,
            risk: incident.risk,
            first_seen: incident.first_seen,
            last_seen: incident.last_seen,
            detections: facts,
            techniques: incident.techniques.iter().map(|t| t.id.clone()).collect(),
            tactics: incident.tactics.clone(),
            assets: incident.assets.clone(),
            accounts: incident.accounts.clone(),
            ips: incident.ips.clone(),
            compromised: incident
                .compromised
                .iter()
                .map(|c| c.asset.clone())
                .collect(),
            reachable: reports
                .assess
                .map(|a| {
                    a.reachable
                        .iter()
                        .map(|r| (r.id.clone(), r.hours))
                        .collect()
                })
                .unwrap_or_default(),
            reachable_truncated: reports.assess.is_some_and(|a| a.reachable_truncated),
            outage: outage(reports.restore, plan),
            mitigation: plan
                .map(|p| {
                    p.actions
                        .iter()
                        .map(|a| action_words(a.action, &a.target, &a.name))
                        .collect()
                })
                .unwrap_or_default(),
            restore_hours: reports.restore.map(|r| r.total_hours),
            aware_at,
        }
    }
}

fn action_words(action: &str, target: &str, name: &str) -> String {
    let verb = action.replace('_', " ");
    if name.is_empty() || name == target {
        format!("{verb} {target}")
    } else {
        format!("{verb} {target} ({name})")
    }
}

/// The outage from the restore timeline when there is one, else from the plan.
fn outage(
    restore: Option<&RestoreReport>,
    plan: Option<&vigie_response::contain::PlanReport>,
) -> Outage {
    let segment = |s: &vigie_response::report::SegmentImpact| SegmentOutage {
        id: s.id.clone(),
        name: s.name.clone(),
        customers_affected: s.customers_affected,
        hours: s.back_after_hours,
        customer_hours: s.customer_hours,
        customer_equivalents: s.customer_equivalents,
    };
    if let Some(r) = restore {
        return Outage {
            source: FiguresSource::Restore,
            services: r
                .services
                .iter()
                .map(|s| ServiceOutage {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: s.state.to_string(),
                    hours: s.up_hours,
                })
                .collect(),
            segments: r.segments.iter().map(segment).collect(),
        };
    }
    if let Some(p) = plan {
        return Outage {
            source: FiguresSource::ContainmentPlan,
            services: p
                .services
                .iter()
                .map(|s| ServiceOutage {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: s.state.to_string(),
                    hours: s.back_after_hours,
                })
                .collect(),
            segments: p.segments.iter().map(segment).collect(),
        };
    }
    Outage::default()
}
