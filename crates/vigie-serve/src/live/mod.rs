//! Live incidents: respond's grouping over the live detections, updated as detections
//! arrive; decisions recomputed when an incident's compromised set changes (the
//! [`decider`] thread).
//!
//! [`Live`] holds every live detection (restored at start from
//! `Store::live_detections`, whose documents carry the captured event fields under
//! `context`, so each is observed again exactly as it was: [`observed_from_row`]). After
//! new detections it regroups them all with `vigie_incident::group` (respond's code; the
//! same detections give respond's incidents) and diffs with the previous incidents:
//! - an incident keeps the id of the earliest previous incident it contains, so a late
//!   earlier detection never renames a stored incident; the other previous incidents it
//!   contains are `merged_from` it;
//! - only incidents whose detections changed are upserted (all of them on reload);
//! - an upserted incident whose compromised set differs from the last one decided goes
//!   to the decider.
//!
//! Detections of incidents closed while the service runs stay grouped until the next
//! start (the store reopens an incident that gets new detections).

pub mod decider;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigie_incident::respond::Decided;
use vigie_incident::{GroupOptions, Incident, ObservedDetection};
use vigie_store::{DetectionRow, IncidentUpsert};

use crate::pipeline::Engines;

/// An incident whose decision is due: what the decider needs.
pub struct DecideJob {
    pub incident_id: String,
    pub compromised: Vec<String>,
    /// The incident's detections.
    pub detections: Vec<ObservedDetection>,
}

/// The live detections and their incidents.
pub struct Live {
    opts: GroupOptions,
    dets: Vec<ObservedDetection>,
    /// Detection id of each of `dets`.
    ids: Vec<String>,
    known: HashMap<String, usize>,
    /// Detection id → incident id (after the last regroup).
    assigned: HashMap<String, String>,
    /// Incident id → its detection ids, sorted.
    members: HashMap<String, Vec<String>>,
    /// Incident id → the compromised set last sent to the decider (or stored).
    decided: HashMap<String, Vec<String>>,
}

/// What one regroup changed.
#[derive(Default)]
pub struct Regrouped {
    pub upserts: Vec<IncidentUpsert>,
    pub decide: Vec<DecideJob>,
}

impl Live {
    pub fn new(opts: GroupOptions) -> Live {
        Live {
            opts,
            dets: Vec::new(),
            ids: Vec::new(),
            known: HashMap::new(),
            assigned: HashMap::new(),
            members: HashMap::new(),
            decided: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.dets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dets.is_empty()
    }

    /// A stored detection and the incident it is in (restoring at start).
    pub fn restore(&mut self, id: String, d: ObservedDetection, incident: Option<String>) {
        if let Some(inc) = incident {
            self.assigned.insert(id.clone(), inc.clone());
            self.members.entry(inc).or_default().push(id.clone());
        }
        self.add(id, d);
    }

    /// The decided set of a stored incident (restoring at start).
    pub fn restore_decided(&mut self, incident: String, compromised: Vec<String>) {
        self.decided.insert(incident, compromised);
    }

    /// Incident ids known now.
    pub fn incident_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.members.keys().cloned().collect();
        v.sort();
        v
    }

    /// Adds a new detection (a known id is ignored: replays never duplicate).
    pub fn add(&mut self, id: String, d: ObservedDetection) -> bool {
        if self.known.contains_key(&id) {
            return false;
        }
        self.known.insert(id.clone(), self.dets.len());
        self.ids.push(id);
        self.dets.push(d);
        true
    }

    /// Regroups every live detection; upserts the incidents that changed (every one
    /// when `all`).
    pub fn regroup(&mut self, e: &Engines, all: bool) -> Regrouped {
        for m in self.members.values_mut() {
            m.sort();
        }
        let g = vigie_incident::group(&self.dets, &e.model, &e.attack, &self.opts);
        // The previous incidents each new one contains, in the order of its detections
        // (by time): the first not kept by an earlier new incident gives the id.
        let prev: Vec<Vec<String>> = g
            .incidents
            .iter()
            .map(|inc| {
                let mut seen: Vec<String> = Vec::new();
                for &i in &inc.detections {
                    if let Some(p) = self.ids.get(i).and_then(|id| self.assigned.get(id)) {
                        if !seen.contains(p) {
                            seen.push(p.clone());
                        }
                    }
                }
                seen
            })
            .collect();
        let mut kept: BTreeSet<String> = BTreeSet::new();
        let ids: Vec<String> = g
            .incidents
            .iter()
            .zip(&prev)
            .map(
                |(inc, prev)| match prev.iter().find(|p| !kept.contains(*p)) {
                    Some(p) => {
                        kept.insert(p.clone());
                        p.clone()
                    }
                    None => inc.id.clone(),
                },
            )
            .collect();
        let mut out = Regrouped::default();
        let mut assigned = HashMap::new();
        let mut members = HashMap::new();
        for ((mut inc, prev), id) in g.incidents.into_iter().zip(prev).zip(ids) {
            inc.id = id.clone();
            let mut mine: Vec<String> = inc
                .detections
                .iter()
                .filter_map(|&i| self.ids.get(i).cloned())
                .collect();
            mine.sort();
            for d in &mine {
                assigned.insert(d.clone(), id.clone());
            }
            let changed = all || self.members.get(&id) != Some(&mine);
            if changed {
                let merged_from: Vec<String> = prev
                    .into_iter()
                    .filter(|p| *p != id && !kept.contains(p))
                    .collect();
                out.upserts
                    .push(self.upsert(e, &inc, mine.clone(), merged_from));
                let compromised: Vec<String> =
                    inc.compromised.iter().map(|c| c.asset.clone()).collect();
                if !compromised.is_empty() && self.decided.get(&id) != Some(&compromised) {
                    self.decided.insert(id.clone(), compromised.clone());
                    out.decide.push(DecideJob {
                        incident_id: id.clone(),
                        compromised,
                        detections: inc
                            .detections
                            .iter()
                            .map(|&i| self.dets[i].clone())
                            .collect(),
                    });
                }
            }
            members.insert(id, mine);
        }
        self.assigned = assigned;
        self.members = members;
        out
    }

    /// The incident id a detection is in now.
    pub fn incident_of(&self, detection_id: &str) -> Option<&str> {
        self.assigned.get(detection_id).map(String::as_str)
    }

    fn upsert(
        &self,
        e: &Engines,
        inc: &Incident,
        detection_ids: Vec<String>,
        merged_from: Vec<String>,
    ) -> IncidentUpsert {
        let decided = Decided {
            incident: inc.clone(),
            decision: None,
            notification: None,
        };
        let mut wire =
            vigie_wire::v1::respond::Incident::from_engine(&decided, &self.dets, &e.rules);
        // Detections are stored once, as detections.
        wire.detections.clear();
        IncidentUpsert {
            id: inc.id.clone(),
            first_seen: inc.first_seen,
            last_seen: inc.last_seen,
            severity: inc.severity.as_str().to_string(),
            risk: inc.risk,
            assets: inc.assets.clone(),
            compromised: inc.compromised.iter().map(|c| c.asset.clone()).collect(),
            detection_ids,
            merged_from,
            document: serde_json::to_value(wire).unwrap_or(Value::Null),
        }
    }
}

/// A stored detection observed again on the loaded rules, model and mapping: `None`
/// when its rule is no longer loaded (a reload removed it) or its document does not
/// decode.
pub fn observed_from_row(row: &DetectionRow, e: &Engines) -> Option<ObservedDetection> {
    let d = detection_from_doc(&row.document, e)?;
    let meta = e.rules.meta(d.rule);
    Some(vigie_incident::observe(d, meta, &e.mapping, &e.identities))
}

/// Rebuilds the engine detection from its stored document (the wire detection plus
/// `context`).
pub fn detection_from_doc(doc: &Value, e: &Engines) -> Option<vigie_hunt::Detection> {
    let w: vigie_wire::v1::Detection = serde_json::from_value(doc.clone()).ok()?;
    let rule = e.rules.by_key(&w.rule_id)?;
    let time = |s: &str| -> Option<DateTime<Utc>> { vigie_event::event::parse_time_str(s) };
    let mut fields: Vec<(Arc<str>, Value)> = w
        .fields
        .0
        .into_iter()
        .map(|(k, v)| (Arc::from(k), v))
        .collect();
    for k in w.keywords {
        fields.push((Arc::from(vigie_sigma::KEYWORD_FIELD), Value::String(k)));
    }
    let context = doc
        .get("context")
        .and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| {
                    let name = p.get(0)?.as_str()?;
                    Some((Arc::from(name), p.get(1)?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let correlation = match w.hit {
        Some(h) => Some(vigie_hunt::CorrelationInfo {
            first: time(&h.first)?,
            last: time(&h.last)?,
            group: h.group.0,
            value: h.value,
            events: h
                .events
                .into_iter()
                .map(|r| (Arc::from(r.source), r.record))
                .collect(),
        }),
        None => None,
    };
    Some(vigie_hunt::Detection {
        rule,
        timestamp: w.timestamp.as_deref().and_then(time),
        source: w.source.map(Arc::from),
        record: w.record,
        fields,
        context,
        correlation,
    })
}

/// The captured fields as stored (`[[name, value]...]`, walk order kept).
pub fn context_json(d: &vigie_hunt::Detection) -> Value {
    Value::Array(
        d.context
            .iter()
            .map(|(k, v)| Value::Array(vec![Value::String(k.to_string()), v.clone()]))
            .collect(),
    )
}
