//! What the HTML report must show of a respond JSON document, computed from the JSON
//! alone (not from the renderer), so the string and browser tests check the page
//! against the document it was made from.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Expected figures of one incident section.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub id: String,
    pub graph_nodes: usize,
    pub plan_bars: usize,
    pub isolate_bars: usize,
    pub gantt_bars: usize,
    /// The plan's customer-hours as printed: whole, grouped by thousands.
    pub plan_customer_hours: Option<String>,
    pub plan_customer_hours_value: Option<f64>,
    pub compromised: Vec<String>,
    pub plan_targets: Vec<String>,
}

fn strs(v: &Value) -> impl Iterator<Item = String> + '_ {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// `111450000` → `111,450,000`, `3.50` → `3.5` (an independent rewrite of the page's
/// rule: whole and grouped by thousands from 100 up, else at most two decimals).
pub fn grouped(x: f64) -> String {
    if x.abs() < 100.0 {
        let s = format!("{x:.2}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let digits = format!("{}", x.round() as i64);
    let n = digits.len();
    digits
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let comma = i > 0 && (n - i) % 3 == 0;
            comma.then_some(',').into_iter().chain([c])
        })
        .collect()
}

/// Bars of the plan and of isolate-everything: one per segment each plan touches, over
/// the 24 segments with the most customer-hours under either plan (ties by id).
fn bars(plan: &Value, all: &Value) -> (usize, usize) {
    let mut worst: BTreeMap<&str, (f64, bool, bool)> = BTreeMap::new();
    for (list, is_plan) in [(plan, true), (all, false)] {
        for s in list.as_array().into_iter().flatten() {
            let Some(id) = s["id"].as_str() else { continue };
            let e = worst.entry(id).or_insert((0.0, false, false));
            e.0 = e.0.max(s["customer_hours"].as_f64().unwrap_or(0.0));
            if is_plan {
                e.1 = true;
            } else {
                e.2 = true;
            }
        }
    }
    let mut v: Vec<(&str, (f64, bool, bool))> = worst.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(b.0)));
    v.truncate(24);
    (
        v.iter().filter(|x| x.1 .1).count(),
        v.iter().filter(|x| x.1 .2).count(),
    )
}

/// The figures of the first `max_incidents` incidents, with `cap` assets per graph and
/// the default limits of segments (24) and Gantt rows (60).
pub fn expect(doc: &Value, max_incidents: usize, cap: usize) -> Vec<Expect> {
    let incidents = doc["incidents"].as_array().cloned().unwrap_or_default();
    incidents
        .iter()
        .take(max_incidents)
        .map(|i| {
            let compromised: Vec<String> = strs(&i["compromised"]).collect();
            let plan = &i["contain"]["plan"];
            let plan_targets: Vec<String> = plan["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| matches!(a["action"].as_str(), Some("isolate" | "disable_identity")))
                .filter_map(|a| a["target"].as_str().map(str::to_string))
                .collect();
            let mut eligible: BTreeSet<String> = compromised.iter().cloned().collect();
            eligible.extend(plan_targets.iter().cloned());
            eligible.extend(
                i["assess"]["reachable"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["id"].as_str().map(str::to_string)),
            );
            let (plan_bars, isolate_bars) = bars(
                &plan["segments"],
                &i["contain"]["isolate_everything"]["segments"],
            );
            let chs = plan["customer_hours"].as_f64();
            Expect {
                id: i["id"].as_str().unwrap_or_default().to_string(),
                graph_nodes: if compromised.is_empty() {
                    0
                } else {
                    eligible.len().min(cap)
                },
                plan_bars,
                isolate_bars,
                gantt_bars: len(&i["restore"]["assets"]).min(60),
                plan_customer_hours: chs.map(grouped),
                plan_customer_hours_value: chs,
                compromised,
                plan_targets,
            }
        })
        .collect()
}

/// One deadline card the notification block must show.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// `early_warning`, `incident_notification`, `final_report` or `gdpr`.
    pub kind: String,
    /// The card's title: never a generic "Deadline".
    pub label: String,
    /// RFC 3339, as in the JSON; `None` when unknown.
    pub deadline: Option<String>,
}

/// The deadline cards of an incident's `notification`: one per NIS2 stage in order, then
/// GDPR Art. 33 when `gdpr.value` is true. Empty when the incident has no draft.
pub fn cards(incident: &Value) -> Vec<Card> {
    let n = &incident["notification"];
    let mut out: Vec<Card> = n["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| {
            let kind = st["stage"].as_str().unwrap_or_default().to_string();
            let label = match kind.as_str() {
                "early_warning" => "NIS2 early warning".to_string(),
                "incident_notification" => "NIS2 incident notification".to_string(),
                "final_report" => "NIS2 final report".to_string(),
                other => format!("NIS2 stage {other}"),
            };
            Card {
                kind,
                label,
                deadline: st["deadline"].as_str().map(str::to_string),
            }
        })
        .collect();
    if n["gdpr"]["value"] == Value::Bool(true) {
        out.push(Card {
            kind: "gdpr".to_string(),
            label: "GDPR Art. 33 · supervisory authority".to_string(),
            deadline: n["gdpr"]["deadline"].as_str().map(str::to_string),
        });
    }
    out
}

/// Items of the draft left to complete, over all its stages.
pub fn to_complete(incident: &Value) -> usize {
    incident["notification"]["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|st| st["items"].as_array().into_iter().flatten())
        .filter(|i| i["to_complete"] == Value::Bool(true))
        .count()
}
