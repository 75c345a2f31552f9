//! The regulator notification draft of an incident: NIS2 (Directive (EU) 2022/2555)
//! Art. 23 stages with their deadlines from the time of awareness, the content each stage
//! asks for (Art. 23(4)) with what vigie knows filled in and the rest marked to complete,
//! the figures (services, users, duration, user-hours), the thresholds of a configurable
//! table they cross, and three flags: suspected malicious, cross-border, GDPR Art. 33.
//!
//! Pure: [`notify`] reads its input and returns data; `vigie-render` writes it as
//! Markdown or text, `vigie-wire` as JSON. The rules are documented in
//! `docs/notification.md`.

mod input;
mod thresholds;

use chrono::{DateTime, Duration, Months, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use vigie_response::report::tidy;
use vigie_sigma::Level;

pub use input::{
    DecisionReports, DetectionFacts, FiguresSource, NotificationInput, Outage, SegmentOutage,
    ServiceOutage,
};
pub use thresholds::{
    Problem, Threshold, Thresholds, ThresholdsError, DEFAULT_THRESHOLDS_ORIGIN,
    DEFAULT_THRESHOLDS_YAML,
};

/// Early warning deadline after awareness (Art. 23(4)(a)).
pub const EARLY_WARNING_HOURS: i64 = 24;
/// Incident notification deadline after awareness (Art. 23(4)(b)).
pub const NOTIFICATION_HOURS: i64 = 72;
/// GDPR Art. 33(1): notification to the supervisory authority after awareness.
pub const GDPR_HOURS: i64 = 72;

/// The draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub incident: String,
    /// Operator name from the model.
    pub operator: String,
    pub aware_at: Option<DateTime<Utc>>,
    pub aware_basis: AwareBasis,
    /// Early warning, incident notification, final report.
    pub stages: Vec<Stage>,
    pub figures: Figures,
    pub thresholds: ThresholdCheck,
    pub suspected_malicious: Malicious,
    pub cross_border: CrossBorder,
    pub gdpr: Gdpr,
}

/// How the time of awareness was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwareBasis {
    /// Given (`--aware-at`).
    Given,
    /// The first high or critical detection's time.
    FirstHighOrCritical,
    /// No high or critical detection has a time: the first detection's.
    FirstDetection,
    /// No detection has a time: no deadline can be computed.
    Unknown,
}

impl AwareBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            AwareBasis::Given => "given",
            AwareBasis::FirstHighOrCritical => "first_high_or_critical_detection",
            AwareBasis::FirstDetection => "first_detection",
            AwareBasis::Unknown => "unknown",
        }
    }

    /// In words, for the drafts.
    pub fn describe(self) -> &'static str {
        match self {
            AwareBasis::Given => "given by the operator",
            AwareBasis::FirstHighOrCritical => "time of the first high or critical detection",
            AwareBasis::FirstDetection => {
                "time of the first detection (no high or critical detection has a time)"
            }
            AwareBasis::Unknown => "unknown (no detection has a time): give it with --aware-at",
        }
    }
}

/// The three NIS2 stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    EarlyWarning,
    IncidentNotification,
    FinalReport,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::EarlyWarning => "early_warning",
            StageKind::IncidentNotification => "incident_notification",
            StageKind::FinalReport => "final_report",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            StageKind::EarlyWarning => "Early warning",
            StageKind::IncidentNotification => "Incident notification",
            StageKind::FinalReport => "Final report",
        }
    }
}

/// One stage: its deadline and what it must contain.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub kind: StageKind,
    /// `NIS2 Art. 23(4)(a)`.
    pub article: &'static str,
    /// The rule in words (`within 24 hours of becoming aware`).
    pub due: &'static str,
    /// None when the time of awareness is unknown.
    pub deadline: Option<DateTime<Utc>>,
    pub items: Vec<Item>,
}

/// One piece of content a stage asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable key (`suspected_malicious`, `indicators_of_compromise`, ...).
    pub key: &'static str,
    pub label: &'static str,
    /// What vigie knows; None: to complete by a person.
    pub value: Option<String>,
    /// For an item to complete: what vigie can offer to start from.
    pub hint: Option<String>,
}

/// The outage in figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub source: FiguresSource,
    /// Services down or degraded, longest outage first.
    pub services: Vec<ServiceOutage>,
    /// Segments losing service, longest outage first.
    pub segments: Vec<SegmentFigures>,
    /// Customers who lose some service (sum over affected segments).
    pub users_affected: u64,
    /// The operator's customers (sum over all segments of the model).
    pub customers_total: u64,
    /// users_affected / customers_total (None when the model has no customers).
    pub users_share: Option<f64>,
    /// The longest outage of a segment (or of a service, when no segment is affected),
    /// hours.
    pub duration_hours: f64,
    /// Customer-hours without SLA weights: customers x fraction of service lost x hours.
    pub user_hours: f64,
    /// Customer-hours with SLA weights (what the decision engines minimise).
    pub customer_hours: f64,
    /// Some segment has an SLA weight of 0: its user-hours are estimated as customer
    /// equivalents x hours (an upper bound).
    pub user_hours_estimated: bool,
}

/// One segment's loss.
#[derive(Debug, Clone, PartialEq)]
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

/// The thresholds table applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdCheck {
    pub source: String,
    /// The user base shares are taken of.
    pub user_base: u64,
    /// `configured` (the table's `user_base`) or `operator_customers`.
    pub user_base_basis: &'static str,
    /// Rows in the table.
    pub rows: usize,
    pub crossed: Vec<Crossed>,
}

/// A row crossed, with the figures that crossed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossed {
    pub id: String,
    pub label: String,
    /// Users affected for at least the row's hours (all affected users without `hours`).
    pub users: u64,
    /// Those users' share of the user base.
    pub share: Option<f64>,
    /// The row's duration (None: the row sets none).
    pub hours: Option<f64>,
    /// The user-hours lost, when the row sets a user-hours figure.
    pub user_hours: Option<f64>,
}

/// Suspected unlawful or malicious act.
#[derive(Debug, Clone, PartialEq)]
pub struct Malicious {
    pub value: bool,
    pub reasons: Vec<String>,
}

/// Impact in more than one country.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossBorder {
    pub value: bool,
    /// Countries of the affected segments, sorted.
    pub countries: Vec<String>,
    /// Affected segments whose countries the model does not give.
    pub segments_without_country: Vec<String>,
}

/// GDPR Art. 33: a personal data breach to notify to the supervisory authority.
#[derive(Debug, Clone, PartialEq)]
pub struct Gdpr {
    pub value: bool,
    /// Awareness + 72 h, when flagged and awareness is known.
    pub deadline: Option<DateTime<Utc>>,
    pub assets: Vec<PersonalDataAsset>,
    /// assess's reachable list was truncated: personal-data assets beyond it are unseen.
    pub reach_truncated: bool,
}

/// An asset holding personal data that the incident touches.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalDataAsset {
    pub id: String,
    pub name: String,
    pub reason: PersonalDataReason,
}

/// How the incident touches it (strongest first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PersonalDataReason {
    /// Judged compromised.
    Compromised,
    /// Named by the incident's detections (the attacker acted on or from it).
    InDetections,
    /// Reachable by the attacker in the model, in this many hours.
    Reachable(f64),
}

impl PersonalDataReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalDataReason::Compromised => "compromised",
            PersonalDataReason::InDetections => "in_detections",
            PersonalDataReason::Reachable(_) => "reachable",
        }
    }
}

/// Draw up the notification of one incident.
pub fn notify(input: &NotificationInput<'_>, thresholds: &Thresholds) -> Notification {
    let (aware_at, aware_basis) = awareness(input);
    let figures = figures(input);
    let thresholds = check(&figures, thresholds);
    let suspected_malicious = malicious(input);
    let cross_border = cross_border(&figures);
    let gdpr = gdpr(input, aware_at);
    let facts = Facts {
        input,
        aware_at,
        aware_basis,
        figures: &figures,
        thresholds: &thresholds,
        malicious: &suspected_malicious,
        cross_border: &cross_border,
    };
    let stages = stages(&facts);
    Notification {
        incident: input.incident_id.clone(),
        operator: input.model.operator.name.clone(),
        aware_at,
        aware_basis,
        stages,
        figures,
        thresholds,
        suspected_malicious,
        cross_border,
        gdpr,
    }
}

/// The time of awareness and how it was chosen.
pub fn awareness(input: &NotificationInput<'_>) -> (Option<DateTime<Utc>>, AwareBasis) {
    if let Some(t) = input.aware_at {
        return (Some(t), AwareBasis::Given);
    }
    let first = |pred: &dyn Fn(&DetectionFacts) -> bool| {
        input
            .detections
            .iter()
            .filter(|d| pred(d))
            .filter_map(|d| d.timestamp)
            .min()
    };
    if let Some(t) = first(&|d| d.level >= Level::High) {
        return (Some(t), AwareBasis::FirstHighOrCritical);
    }
    match first(&|_| true) {
        Some(t) => (Some(t), AwareBasis::FirstDetection),
        None => (None, AwareBasis::Unknown),
    }
}

/// The three deadlines from awareness: early warning, incident notification, final
/// report (one calendar month after the notification's deadline; chrono clamps to the
/// month's end, so a notification due on 31 January gives a final report on 28 or 29
/// February).
pub fn deadlines(aware_at: DateTime<Utc>) -> [Option<DateTime<Utc>>; 3] {
    let early = aware_at.checked_add_signed(Duration::hours(EARLY_WARNING_HOURS));
    let notification = aware_at.checked_add_signed(Duration::hours(NOTIFICATION_HOURS));
    let final_report = notification.and_then(|n| n.checked_add_months(Months::new(1)));
    [early, notification, final_report]
}

fn figures(input: &NotificationInput<'_>) -> Figures {
    let model = input.model;
    let by_id: FxHashMap<&str, &vigie_model::Segment> =
        model.segments.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut estimated = false;
    let mut segments: Vec<SegmentFigures> = input
        .outage
        .segments
        .iter()
        .map(|s| {
            let seg = by_id.get(s.id.as_str());
            let sla = seg.map_or(1.0, |g| g.sla_weight);
            // Customer-hours are customers x SLA weight x fraction lost x hours: dividing
            // the weight out is exact; with a weight of 0 nothing is left to divide, so
            // the height of the loss over the whole outage stands in (an upper bound).
            let user_hours = if sla > 0.0 && sla.is_finite() {
                s.customer_hours / sla
            } else {
                estimated = true;
                s.customer_equivalents * s.hours
            };
            let mut countries: Vec<String> = seg
                .map(|g| {
                    g.countries
                        .iter()
                        .map(|c| c.trim().to_ascii_uppercase())
                        .collect()
                })
                .unwrap_or_default();
            countries.sort();
            countries.dedup();
            SegmentFigures {
                id: s.id.clone(),
                name: s.name.clone(),
                customers_affected: s.customers_affected,
                hours: tidy(s.hours),
                customer_hours: tidy(s.customer_hours),
                user_hours: tidy(user_hours),
                sla_weight: sla,
                countries,
            }
        })
        .collect();
    segments.sort_by(|a, b| b.hours.total_cmp(&a.hours).then_with(|| a.id.cmp(&b.id)));
    let mut services = input.outage.services.clone();
    services.sort_by(|a, b| b.hours.total_cmp(&a.hours).then_with(|| a.id.cmp(&b.id)));
    let users_affected: u64 = segments.iter().map(|s| s.customers_affected).sum();
    let customers_total: u64 = model.segments.iter().map(|s| s.customers).sum();
    let longest = |it: &mut dyn Iterator<Item = f64>| it.fold(0.0f64, f64::max);
    let duration = if segments.is_empty() {
        longest(&mut services.iter().map(|s| s.hours))
    } else {
        longest(&mut segments.iter().map(|s| s.hours))
    };
    Figures {
        source: input.outage.source,
        users_share: (customers_total > 0)
            .then(|| tidy(users_affected as f64 / customers_total as f64)),
        user_hours: tidy(segments.iter().map(|s| s.user_hours).sum()),
        customer_hours: tidy(segments.iter().map(|s| s.customer_hours).sum()),
        duration_hours: tidy(duration),
        services,
        segments,
        users_affected,
        customers_total,
        user_hours_estimated: estimated,
    }
}

/// Which rows of the table the figures cross.
pub fn check(f: &Figures, t: &Thresholds) -> ThresholdCheck {
    let (user_base, basis) = match t.user_base {
        Some(b) => (b, "configured"),
        None => (f.customers_total, "operator_customers"),
    };
    let crossed = t
        .rows
        .iter()
        .filter_map(|row| {
            let hours = row.hours.unwrap_or(0.0);
            // Users affected for at least the row's duration: a segment counts when its
            // service is not fully back before then.
            let users: u64 = f
                .segments
                .iter()
                .filter(|s| s.hours > 0.0 && s.hours >= hours)
                .map(|s| s.customers_affected)
                .sum();
            // A correctly rounded division gives the double nearest the decimal, the same
            // as the table's `0.15`: a boundary case compares equal.
            let share = (user_base > 0).then(|| users as f64 / user_base as f64);
            let ok = users > 0
                && row.share.is_none_or(|s| share.is_some_and(|x| x >= s))
                && row.users.is_none_or(|u| users >= u)
                && row.user_hours.is_none_or(|uh| f.user_hours >= uh);
            ok.then(|| Crossed {
                id: row.id.clone(),
                label: row.label.clone(),
                users,
                share: share.map(tidy),
                hours: row.hours,
                user_hours: row.user_hours.map(|_| f.user_hours),
            })
        })
        .collect();
    ThresholdCheck {
        source: t.source.clone(),
        user_base,
        user_base_basis: basis,
        rows: t.rows.len(),
        crossed,
    }
}

/// Suspected malicious when a detection names an ATT&CK technique (its rule describes an
/// attack technique, not a fault) or is of high or critical level.
fn malicious(input: &NotificationInput<'_>) -> Malicious {
    let mut reasons = Vec::new();
    let mut techniques: Vec<&str> = input
        .detections
        .iter()
        .flat_map(|d| d.techniques.iter().map(String::as_str))
        .chain(input.techniques.iter().map(String::as_str))
        .collect();
    techniques.sort_unstable();
    techniques.dedup();
    if !techniques.is_empty() {
        reasons.push(format!(
            "ATT&CK techniques detected: {}",
            techniques.join(", ")
        ));
    }
    let high = input
        .detections
        .iter()
        .filter(|d| d.level >= Level::High)
        .count();
    if high > 0 {
        reasons.push(format!("{high} high or critical detection(s)"));
    }
    Malicious {
        value: !reasons.is_empty(),
        reasons,
    }
}

fn cross_border(f: &Figures) -> CrossBorder {
    let mut countries: Vec<String> = f
        .segments
        .iter()
        .flat_map(|s| s.countries.iter().cloned())
        .collect();
    countries.sort();
    countries.dedup();
    let mut without: Vec<String> = f
        .segments
        .iter()
        .filter(|s| s.countries.is_empty())
        .map(|s| s.id.clone())
        .collect();
    without.sort();
    CrossBorder {
        value: countries.len() > 1,
        countries,
        segments_without_country: without,
    }
}

fn gdpr(input: &NotificationInput<'_>, aware_at: Option<DateTime<Utc>>) -> Gdpr {
    let compromised: FxHashSet<&str> = input.compromised.iter().map(String::as_str).collect();
    let named: FxHashSet<&str> = input.assets.iter().map(String::as_str).collect();
    let reach: FxHashMap<&str, f64> = input
        .reachable
        .iter()
        .map(|(id, h)| (id.as_str(), *h))
        .collect();
    let mut assets: Vec<PersonalDataAsset> = input
        .model
        .assets
        .iter()
        .filter(|a| a.personal_data)
        .filter_map(|a| {
            let id = a.id.as_str();
            let reason = if compromised.contains(id) {
                PersonalDataReason::Compromised
            } else if named.contains(id) {
                PersonalDataReason::InDetections
            } else {
                PersonalDataReason::Reachable(tidy(*reach.get(id)?))
            };
            Some(PersonalDataAsset {
                id: a.id.clone(),
                name: a.display_name().to_string(),
                reason,
            })
        })
        .collect();
    assets.sort_by(|a, b| a.id.cmp(&b.id));
    let value = !assets.is_empty();
    Gdpr {
        value,
        deadline: aware_at
            .filter(|_| value)
            .and_then(|t| t.checked_add_signed(Duration::hours(GDPR_HOURS))),
        assets,
        reach_truncated: input.reachable_truncated,
    }
}

/// What the stages are written from.
struct Facts<'a> {
    input: &'a NotificationInput<'a>,
    aware_at: Option<DateTime<Utc>>,
    aware_basis: AwareBasis,
    figures: &'a Figures,
    thresholds: &'a ThresholdCheck,
    malicious: &'a Malicious,
    cross_border: &'a CrossBorder,
}

mod stages;
use stages::stages;
