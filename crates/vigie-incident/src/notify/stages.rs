//! The content of each NIS2 Art. 23(4) stage, with what vigie knows filled in.

use super::{deadlines, Facts, Item, Stage, StageKind};
use crate::notify::input::FiguresSource;

pub(super) fn stages(f: &Facts<'_>) -> Vec<Stage> {
    let [early, notification, final_report] = match f.aware_at {
        Some(t) => deadlines(t),
        None => [None; 3],
    };
    vec![
        Stage {
            kind: StageKind::EarlyWarning,
            article: "NIS2 Art. 23(4)(a)",
            due: "without undue delay, within 24 hours of becoming aware",
            deadline: early,
            items: early_warning(f),
        },
        Stage {
            kind: StageKind::IncidentNotification,
            article: "NIS2 Art. 23(4)(b)",
            due: "without undue delay, within 72 hours of becoming aware",
            deadline: notification,
            items: incident_notification(f),
        },
        Stage {
            kind: StageKind::FinalReport,
            article: "NIS2 Art. 23(4)(d)",
            due: "not later than one month after the incident notification (from its deadline)",
            deadline: final_report,
            items: final_items(f),
        },
    ]
}

fn known(key: &'static str, label: &'static str, value: String) -> Item {
    Item {
        key,
        label,
        value: Some(value),
        hint: None,
    }
}

fn to_complete(key: &'static str, label: &'static str, hint: Option<String>) -> Item {
    Item {
        key,
        label,
        value: None,
        hint,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn malicious_value(f: &Facts<'_>) -> String {
    let m = f.malicious;
    if m.value {
        format!("yes, suspected: {}", m.reasons.join("; "))
    } else {
        "not indicated by the detections (no attack technique, no high-severity detection)"
            .to_string()
    }
}

fn cross_border_value(f: &Facts<'_>) -> String {
    let c = f.cross_border;
    let mut s = if c.countries.is_empty() {
        "unknown: the affected segments list no country".to_string()
    } else {
        format!(
            "{} (affected segments in: {})",
            yes_no(c.value),
            c.countries.join(", ")
        )
    };
    if !c.segments_without_country.is_empty() && !c.countries.is_empty() {
        s.push_str(&format!(
            "; country unknown for segment(s) {}",
            c.segments_without_country.join(", ")
        ));
    }
    s
}

fn services_value(f: &Facts<'_>) -> Option<String> {
    let fig = f.figures;
    if fig.source == FiguresSource::None {
        return None;
    }
    if fig.services.is_empty() {
        return Some("none".to_string());
    }
    Some(
        fig.services
            .iter()
            .map(|s| {
                let name = if s.name.is_empty() { &s.id } else { &s.name };
                format!("{} ({name}, {}, {} h)", s.id, s.state, fmt_num(s.hours))
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

fn early_warning(f: &Facts<'_>) -> Vec<Item> {
    let i = f.input;
    vec![
        known("incident", "Incident reference", i.incident_id.clone()),
        known(
            "awareness",
            "Time of awareness",
            match f.aware_at {
                Some(t) => format!("{} ({})", rfc3339(t), f.aware_basis.describe()),
                None => f.aware_basis.describe().to_string(),
            },
        ),
        known(
            "suspected_malicious",
            "Suspected unlawful or malicious act",
            malicious_value(f),
        ),
        known(
            "cross_border",
            "Could have a cross-border impact",
            cross_border_value(f),
        ),
        match services_value(f) {
            Some(v) => known("services_affected", "Services affected (initial)", v),
            None => to_complete(
                "services_affected",
                "Services affected (initial)",
                Some("no decision was computed (no asset judged compromised)".into()),
            ),
        },
        to_complete(
            "contact",
            "Operator's point of contact (name, phone, e-mail)",
            None,
        ),
    ]
}

fn incident_notification(f: &Facts<'_>) -> Vec<Item> {
    let i = f.input;
    let fig = f.figures;
    let mut items = vec![to_complete(
        "update",
        "Update of the early warning",
        Some("what changed since the early warning".into()),
    )];
    items.push(known(
        "severity",
        "Severity",
        format!(
            "{} (highest detection level), risk {}/100",
            i.severity.as_str(),
            fmt_num(i.risk)
        ),
    ));
    if fig.source == FiguresSource::None {
        items.push(to_complete(
            "impact",
            "Impact (services, users, duration)",
            Some("no decision was computed: no outage figures".into()),
        ));
    } else {
        items.push(known(
            "impact",
            "Impact (services, users, duration)",
            impact_value(f),
        ));
    }
    items.push(known(
        "thresholds",
        "Reporting thresholds crossed",
        thresholds_value(f),
    ));
    items.push(to_complete(
        "initial_assessment",
        "Initial assessment",
        Some(format!(
            "kill chain so far: {}",
            if i.tactics.is_empty() {
                "no ATT&CK tactic tagged".to_string()
            } else {
                i.tactics.join(" > ")
            }
        )),
    ));
    let iocs = iocs(f);
    items.push(if iocs.is_empty() {
        to_complete("indicators_of_compromise", "Indicators of compromise", None)
    } else {
        known("indicators_of_compromise", "Indicators of compromise", iocs)
    });
    items
}

fn final_items(f: &Facts<'_>) -> Vec<Item> {
    let i = f.input;
    let seen = match (i.first_seen, i.last_seen) {
        (Some(a), Some(b)) => format!("activity seen from {} to {}", rfc3339(a), rfc3339(b)),
        _ => "activity times unknown".to_string(),
    };
    let mut mitigation = if i.mitigation.is_empty() {
        "no containment plan computed".to_string()
    } else {
        format!("containment plan: {}", i.mitigation.join("; "))
    };
    if let Some(h) = i.restore_hours {
        mitigation.push_str(&format!(
            "; everything restored {} h after the start",
            fmt_num(h)
        ));
    }
    vec![
        to_complete(
            "detailed_description",
            "Detailed description, including severity and impact",
            Some(format!(
                "{seen}; {} detection(s); compromised: {}",
                i.detections.len(),
                list_or_none(&i.compromised)
            )),
        ),
        to_complete(
            "root_cause",
            "Type of threat or root cause likely to have triggered the incident",
            Some(format!(
                "techniques observed: {}",
                list_or_none(&i.techniques)
            )),
        ),
        to_complete(
            "mitigation",
            "Applied and ongoing mitigation measures",
            Some(mitigation),
        ),
        known("cross_border", "Cross-border impact", cross_border_value(f)),
    ]
}

fn impact_value(f: &Facts<'_>) -> String {
    let fig = f.figures;
    let share = fig
        .users_share
        .map(|s| {
            format!(
                " ({} % of {} customers)",
                fmt_num(s * 100.0),
                fig.customers_total
            )
        })
        .unwrap_or_default();
    let services = services_value(f).unwrap_or_else(|| "none".into());
    format!(
        "services: {services}; users affected: {}{share}; duration: {} h; user-hours: {}{}; customer-hours (SLA-weighted): {}",
        fig.users_affected,
        fmt_num(fig.duration_hours),
        fmt_num(fig.user_hours),
        if fig.user_hours_estimated { " (estimated)" } else { "" },
        fmt_num(fig.customer_hours),
    )
}

fn thresholds_value(f: &Facts<'_>) -> String {
    let t = f.thresholds;
    if t.crossed.is_empty() {
        return format!("none of {} (source: {})", t.rows, t.source);
    }
    format!(
        "{} (source: {})",
        t.crossed
            .iter()
            .map(|c| format!("{}: {}", c.id, c.label))
            .collect::<Vec<_>>()
            .join("; "),
        t.source
    )
}

fn iocs(f: &Facts<'_>) -> String {
    let i = f.input;
    let mut parts = Vec::new();
    for (what, list) in [
        ("hosts/assets", &i.assets),
        ("accounts", &i.accounts),
        ("IP addresses", &i.ips),
        ("ATT&CK techniques", &i.techniques),
    ] {
        if !list.is_empty() {
            parts.push(format!("{what}: {}", list.join(", ")));
        }
    }
    parts.join("; ")
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A figure in words: integers without decimals, others to two places at most.
pub(crate) fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
