//! An incident's regulator notification draft on the wire (`incidents[].notification` of
//! `vigie respond --format json`), converted from `vigie_incident::notify::Notification`.
//! Documented field by field in `docs/notification.md`.

use serde::{Deserialize, Serialize};
use vigie_incident::notify as n;

fn q(x: f64) -> f64 {
    vigie_response::report::tidy(x)
}

fn time(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.as_ref().map(crate::rfc3339)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub incident: String,
    pub operator: String,
    /// RFC 3339; null when no detection has a time and none was given.
    pub aware_at: Option<String>,
    /// `given`, `first_high_or_critical_detection`, `first_detection` or `unknown`.
    pub aware_at_basis: String,
    /// `early_warning`, `incident_notification`, `final_report`, in that order.
    pub stages: Vec<Stage>,
    pub figures: Figures,
    pub thresholds: ThresholdCheck,
    pub suspected_malicious: Flag,
    pub cross_border: CrossBorder,
    pub gdpr: Gdpr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: String,
    pub article: String,
    pub due: String,
    pub deadline: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: String,
    pub label: String,
    /// What vigie knows; null when `to_complete`.
    pub value: Option<String>,
    pub to_complete: bool,
    /// For an item to complete: what vigie offers to start from.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// `restore`, `containment_plan` or `none`.
    pub source: String,
    pub services: Vec<ServiceOutage>,
    pub segments: Vec<SegmentFigures>,
    pub users_affected: u64,
    pub customers_total: u64,
    pub users_share: Option<f64>,
    pub duration_hours: f64,
    /// Customer-hours without SLA weights.
    pub user_hours: f64,
    /// Customer-hours with SLA weights.
    pub customer_hours: f64,
    pub user_hours_estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOutage {
    pub id: String,
    pub name: String,
    pub state: String,
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentFigures {
    pub id: String,
    pub name: String,
    pub customers_affected: u64,
    pub hours: f64,
    pub customer_hours: f64,
    pub user_hours: f64,
    pub sla_weight: f64,
    pub countries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    pub source: String,
    pub user_base: u64,
    /// `configured` or `operator_customers`.
    pub user_base_basis: String,
    pub rows: usize,
    pub crossed: Vec<Crossed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crossed {
    pub id: String,
    pub label: String,
    pub users: u64,
    pub share: Option<f64>,
    /// The row's duration; null when the row sets none.
    pub hours: Option<f64>,
    /// User-hours lost; null unless the row sets a user-hours figure.
    pub user_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub value: bool,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossBorder {
    pub value: bool,
    pub countries: Vec<String>,
    pub segments_without_country: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gdpr {
    pub value: bool,
    pub deadline: Option<String>,
    pub assets: Vec<PersonalDataAsset>,
    pub reach_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataAsset {
    pub id: String,
    pub name: String,
    /// `compromised`, `in_detections` or `reachable`.
    pub reason: String,
    /// Hours for the attacker to reach it (`reachable` only).
    pub hours: Option<f64>,
}

impl From<&n::Notification> for Notification {
    fn from(x: &n::Notification) -> Self {
        Notification {
            incident: x.incident.clone(),
            operator: x.operator.clone(),
            aware_at: time(&x.aware_at),
            aware_at_basis: x.aware_basis.as_str().to_string(),
            stages: x.stages.iter().map(Stage::from).collect(),
            figures: Figures::from(&x.figures),
            thresholds: ThresholdCheck::from(&x.thresholds),
            suspected_malicious: Flag {
                value: x.suspected_malicious.value,
                reasons: x.suspected_malicious.reasons.clone(),
            },
            cross_border: CrossBorder {
                value: x.cross_border.value,
                countries: x.cross_border.countries.clone(),
                segments_without_country: x.cross_border.segments_without_country.clone(),
            },
            gdpr: Gdpr {
                value: x.gdpr.value,
                deadline: time(&x.gdpr.deadline),
                assets: x
                    .gdpr
                    .assets
                    .iter()
                    .map(|a| PersonalDataAsset {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        reason: a.reason.as_str().to_string(),
                        hours: match a.reason {
                            n::PersonalDataReason::Reachable(h) => Some(q(h)),
                            _ => None,
                        },
                    })
                    .collect(),
                reach_truncated: x.gdpr.reach_truncated,
            },
        }
    }
}

impl From<&n::Stage> for Stage {
    fn from(s: &n::Stage) -> Self {
        Stage {
            stage: s.kind.as_str().to_string(),
            article: s.article.to_string(),
            due: s.due.to_string(),
            deadline: time(&s.deadline),
            items: s
                .items
                .iter()
                .map(|i| Item {
                    key: i.key.to_string(),
                    label: i.label.to_string(),
                    value: i.value.clone(),
                    to_complete: i.value.is_none(),
                    hint: i.hint.clone(),
                })
                .collect(),
        }
    }
}

impl From<&n::Figures> for Figures {
    fn from(f: &n::Figures) -> Self {
        Figures {
            source: crate::snake_name(&f.source),
            services: f
                .services
                .iter()
                .map(|s| ServiceOutage {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: s.state.clone(),
                    hours: q(s.hours),
                })
                .collect(),
            segments: f
                .segments
                .iter()
                .map(|s| SegmentFigures {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    customers_affected: s.customers_affected,
                    hours: q(s.hours),
                    customer_hours: q(s.customer_hours),
                    user_hours: q(s.user_hours),
                    sla_weight: q(s.sla_weight),
                    countries: s.countries.clone(),
                })
                .collect(),
            users_affected: f.users_affected,
            customers_total: f.customers_total,
            users_share: f.users_share.map(q),
            duration_hours: q(f.duration_hours),
            user_hours: q(f.user_hours),
            customer_hours: q(f.customer_hours),
            user_hours_estimated: f.user_hours_estimated,
        }
    }
}

impl From<&n::ThresholdCheck> for ThresholdCheck {
    fn from(t: &n::ThresholdCheck) -> Self {
        ThresholdCheck {
            source: t.source.clone(),
            user_base: t.user_base,
            user_base_basis: t.user_base_basis.to_string(),
            rows: t.rows,
            crossed: t
                .crossed
                .iter()
                .map(|c| Crossed {
                    id: c.id.clone(),
                    label: c.label.clone(),
                    users: c.users,
                    share: c.share.map(q),
                    hours: c.hours.map(q),
                    user_hours: c.user_hours.map(q),
                })
                .collect(),
        }
    }
}
