//! Incidents and detections as a STIX 2.1 bundle, to share with peers (`vigie intel
//! export`, and `vigie serve`'s TAXII `incidents` collection).
//!
//! Contract (documented for users in `docs/intel-export.md`):
//! - **Input**: [`ExportInput`], what `respond` and `serve` both hold: the operator model
//!   (its name, asset roles, what is internal) and each incident with its own detections
//!   and, when one was made, its decision ([`DecisionFacts`], from the engine's
//!   [`vigie_incident::decide::Decision`] or from the JSON decision document serve
//!   stores).
//! - **Objects**: the operator's `identity`; one `incident` per incident, its severity,
//!   risk, customer-hours and containment plan in a property extension defined by a
//!   bundled `extension-definition`; `attack-pattern`s with their ATT&CK references;
//!   `indicator`s for the external values seen (file hashes, public addresses, domains,
//!   URLs) with valid STIX patterns; `observed-data` (one per detection that names a
//!   shareable observable) and the cyber-observables they refer to; `sighting`s of the
//!   indicators and of the attack-patterns (a detection by a STIX indicator, whose rule
//!   key is the indicator's id, is a sighting of that id, not of a new indicator); `relationship`s (`indicates`, `based-on`,
//!   `related-to`); the TLP 2.0 `marking-definition` chosen, referenced by every other
//!   object.
//! - **Determinism**: ids are UUIDv5 of stable keys (incident id, rule key, detection
//!   key, technique, observed value) under [`VIGIE_NAMESPACE`]; cyber-observable ids
//!   follow the STIX 2.1 deterministic-identifier rule ([`ids::sco_id`]); timestamps come
//!   from the detections, never from the clock; objects are sorted by type then id. The
//!   same input gives the same bytes.
//! - **Redaction** (default; [`ExportOptions::include_internal`] lifts it): no model
//!   asset id or identifier, no host name, account, SID or internal address
//!   ([`redact::Redactor`]: RFC 1918, loopback, link-local, ULA, shared address space
//!   and every address the model names), no file path, no customer count; assets are
//!   named by their role in the model and customer-hours are rounded to two significant
//!   digits. Free text is scrubbed of every sensitive string as a last guard, and
//!   [`ExportReport::redacted`] counts what was left out, by reason.
//!
//! Pure: no I/O, no clock.

pub mod ids;
pub mod redact;
pub mod tlp;

mod build;
mod observe;

use std::collections::BTreeMap;

use serde_json::Value;
use vigie_incident::{Incident, ObservedDetection};

pub use tlp::Tlp;

/// The namespace of every SDO and SRO id vigie exports (`uuid5(NAMESPACE_URL,
/// "urn:vigie:stix")` = `17781958-60cd-560e-8d84-d480d6513f39`): `<type>--uuid5(VIGIE_NAMESPACE, "<type>:<stable key>")`.
pub const VIGIE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x1778_1958_60cd_560e_8d84_d480_d651_3f39);

/// What an export is made of.
#[derive(Debug, Clone)]
pub struct ExportInput<'a> {
    /// The operator model: its name (the identity), asset roles, what is internal.
    pub model: &'a vigie_model::Model,
    pub incidents: Vec<ExportIncident>,
}

/// One incident with its own detections.
#[derive(Debug, Clone)]
pub struct ExportIncident {
    /// The incident as grouping made it (its `detections` indices are not used: the
    /// detections are given below).
    pub incident: Incident,
    /// The incident's detections, in any order (the export sorts them).
    pub detections: Vec<ObservedDetection>,
    /// Its decision, when one was made (none: no asset judged compromised, or not
    /// decided yet).
    pub decision: Option<DecisionFacts>,
}

/// What is shared of an incident's decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecisionFacts {
    /// Assess: customer-hours at risk if nothing is done.
    pub customer_hours_at_risk: Option<f64>,
    /// Assess: customers who would lose some service (shared with `--include-internal`
    /// only).
    pub customers_at_risk: Option<u64>,
    /// Contain: the cheapest complete plan found.
    pub plan: Option<PlanFacts>,
    /// Contain: the "isolate every compromised asset" baseline.
    pub isolate_everything: Option<PlanFacts>,
    /// Contain: whether the plan is proven cheapest.
    pub plan_optimal: Option<bool>,
    /// Restore: hours until everything is back, and customer-hours lost over the outage.
    pub restore_total_hours: Option<f64>,
    pub restore_customer_hours: Option<f64>,
}

/// A containment plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanFacts {
    pub label: String,
    pub actions: Vec<ActionFacts>,
    /// No attack path left to a protected asset.
    pub complete: bool,
    pub customer_hours: f64,
    pub customers_affected: u64,
}

/// One containment action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFacts {
    /// `isolate`, `disable_identity`, `block_flow`, `take_offline`.
    pub action: String,
    /// Model id of its target (asset, flow or service).
    pub target: String,
    /// Display name of its target.
    pub name: String,
}

/// How to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// The TLP 2.0 marking on every object.
    pub tlp: Tlp,
    /// Keep internal details (asset ids, host names, accounts, internal addresses, file
    /// paths, customer counts, exact customer-hours): for a trusted party only.
    pub include_internal: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            tlp: Tlp::Amber,
            include_internal: false,
        }
    }
}

/// A STIX 2.1 bundle and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// `bundle--<uuid5 of the object ids and versions>`.
    pub id: String,
    /// The objects, sorted by type then id.
    pub objects: Vec<Value>,
    pub report: ExportReport,
}

/// Counts of an export (for the summary; not part of the bundle).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Objects by STIX type.
    pub by_type: BTreeMap<String, u64>,
    /// Values left out or replaced, by reason (`internal_address`, `host`, `account`,
    /// `sid`, `file_path`, `asset`, `text_scrubbed`, ...).
    pub redacted: BTreeMap<String, u64>,
    /// Detections with no shareable observable (no observed-data for them) or no time.
    pub detections_without_observables: u64,
    pub detections_without_time: u64,
}

impl Bundle {
    /// The bundle document.
    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), Value::String("bundle".into()));
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("objects".into(), Value::Array(self.objects.clone()));
        Value::Object(m)
    }

    /// Pretty JSON with a final newline (what `vigie intel export` writes).
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_value()).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The bundle of `input`'s incidents and detections.
pub fn bundle(input: &ExportInput<'_>, opts: &ExportOptions) -> Bundle {
    build::bundle(input, opts)
}

impl<'a> ExportInput<'a> {
    /// A respond run's incidents, each with its detections and decision.
    pub fn from_respond(
        model: &'a vigie_model::Model,
        r: &vigie_incident::respond::Respond,
    ) -> ExportInput<'a> {
        let incidents = r
            .incidents
            .iter()
            .map(|d| ExportIncident {
                incident: d.incident.clone(),
                detections: d
                    .incident
                    .detections
                    .iter()
                    .filter_map(|&i| r.detections.get(i).cloned())
                    .collect(),
                decision: d.decision.as_ref().map(DecisionFacts::from_decision),
            })
            .collect();
        ExportInput { model, incidents }
    }
}

impl DecisionFacts {
    /// From the engine's decision.
    pub fn from_decision(d: &vigie_incident::decide::Decision) -> DecisionFacts {
        let plan = |p: &vigie_response::contain::PlanReport| PlanFacts {
            label: p.label.clone(),
            actions: p
                .actions
                .iter()
                .map(|a| ActionFacts {
                    action: a.action.to_string(),
                    target: a.target.clone(),
                    name: a.name.clone(),
                })
                .collect(),
            complete: p.complete,
            customer_hours: p.customer_hours,
            customers_affected: p.customers_affected,
        };
        DecisionFacts {
            customer_hours_at_risk: Some(d.assess.customer_hours_at_risk),
            customers_at_risk: Some(d.assess.customers_at_risk),
            plan: d.contain.as_ref().and_then(|c| c.plan.as_ref()).map(plan),
            isolate_everything: d.contain.as_ref().map(|c| plan(&c.isolate_everything)),
            plan_optimal: d
                .contain
                .as_ref()
                .filter(|c| c.plan.is_some())
                .map(|c| c.optimality.optimal),
            restore_total_hours: d.restore.as_ref().map(|r| r.total_hours),
            restore_customer_hours: d.restore.as_ref().map(|r| r.customer_hours),
        }
    }

    /// From a JSON document with vigie's wire members `assess`, `contain` and `restore`
    /// (a `vigie respond --format json` incident, or the decision document `vigie
    /// serve` stores). Members absent or of another type are left `None`.
    pub fn from_json(doc: &Value) -> DecisionFacts {
        let f = |p: &str| doc.pointer(p).and_then(Value::as_f64);
        let plan = |p: &str| -> Option<PlanFacts> {
            let v = doc.pointer(p)?.as_object()?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Some(PlanFacts {
                label: s("label"),
                actions: v
                    .get("actions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| {
                                let g = |k: &str| Some(x.get(k)?.as_str()?.to_string());
                                Some(ActionFacts {
                                    action: g("action")?,
                                    target: g("target")?,
                                    name: g("name").unwrap_or_default(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                complete: v.get("complete").and_then(Value::as_bool).unwrap_or(false),
                customer_hours: v
                    .get("customer_hours")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                customers_affected: v
                    .get("customers_affected")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            })
        };
        let plan_found = plan("/contain/plan");
        DecisionFacts {
            customer_hours_at_risk: f("/assess/customer_hours_at_risk"),
            customers_at_risk: doc
                .pointer("/assess/customers_at_risk")
                .and_then(Value::as_u64),
            plan_optimal: plan_found.as_ref().and_then(|_| {
                doc.pointer("/contain/optimality/optimal")
                    .and_then(Value::as_bool)
            }),
            plan: plan_found,
            isolate_everything: plan("/contain/isolate_everything"),
            restore_total_hours: f("/restore/total_hours"),
            restore_customer_hours: f("/restore/customer_hours"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decision_facts_from_a_stored_document() {
        let doc = json!({
            "assess": {"customer_hours_at_risk": 1.5e9, "customers_at_risk": 31},
            "contain": {
                "plan": {"label": "cheapest", "complete": true, "customer_hours": 1.6e8,
                         "customers_affected": 7,
                         "actions": [{"action": "isolate", "target": "a-1", "name": "A"},
                                     {"action": "block_flow"}]},
                "optimality": {"optimal": true},
                "isolate_everything": {"label": "isolate", "complete": true,
                                       "customer_hours": 3.3e9, "actions": []}
            },
            "restore": {"total_hours": 36.0, "customer_hours": 2.0e8}
        });
        let f = DecisionFacts::from_json(&doc);
        assert_eq!(f.customer_hours_at_risk, Some(1.5e9));
        assert_eq!(f.customers_at_risk, Some(31));
        let p = f.plan.as_ref().expect("plan");
        // An action without a target is not made up.
        assert_eq!(p.actions.len(), 1);
        assert_eq!(p.actions[0].target, "a-1");
        assert_eq!(p.customers_affected, 7);
        assert_eq!(f.plan_optimal, Some(true));
        assert_eq!(f.isolate_everything.map(|p| p.customer_hours), Some(3.3e9));
        assert_eq!(f.restore_total_hours, Some(36.0));
        // Nothing there: nothing invented.
        assert_eq!(
            DecisionFacts::from_json(&json!({})),
            DecisionFacts::default()
        );
    }
}
