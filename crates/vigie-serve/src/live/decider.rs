//! The decider thread: an incident whose compromised set changed gets its decision
//! (assess, contain, restore, notification draft) computed with respond's own code
//! (`vigie_incident::respond::respond_observed` over the incident's detections: the
//! same grouping gives the same incident, decided and drafted as `vigie respond` does),
//! then stored (`Store::save_decision`) and announced on `AppState.changes`. Decisions
//! take from milliseconds to seconds, so they run beside the processor and never delay
//! a commit; they are derived data, recomputed at start for any incident whose stored
//! decision is for another set.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::Utc;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use vigie_incident::respond::{Context, RespondOptions};
use vigie_store::{DecisionRecord, Store};

use super::DecideJob;
use crate::pipeline::Engines;
use crate::state::LiveChange;

/// A job for the decider, with the engines it was grouped on.
pub struct Request {
    pub job: DecideJob,
    pub engines: Arc<Engines>,
}

/// Starts the decider; it ends when every sender is dropped, after the queued jobs.
pub fn spawn(
    store: Store,
    changes: broadcast::Sender<LiveChange>,
    window: chrono::TimeDelta,
    max_assets_per_entity: usize,
) -> std::io::Result<(mpsc::Sender<Request>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Request>();
    let handle = std::thread::Builder::new()
        .name("vigie-decider".into())
        .spawn(move || {
            let opts = RespondOptions {
                group: vigie_incident::GroupOptions {
                    window,
                    max_assets_per_entity,
                    ..Default::default()
                },
                decide: vigie_incident::decide::DecideOptions {
                    threads: 1,
                    ..Default::default()
                },
                aware_at: None,
            };
            let thresholds = vigie_incident::notify::Thresholds::default();
            for req in rx {
                let id = req.job.incident_id.clone();
                match decide(&req, &opts, &thresholds) {
                    Ok(Some(d)) => match store.save_decision(&d) {
                        Ok(()) => {
                            let _ = changes.send(LiveChange {
                                kind: "incident.changed".into(),
                                id: id.clone(),
                                detail: json!({"id": id, "decided": d.compromised}),
                            });
                        }
                        Err(e) => tracing::warn!(incident = %id, "decision not stored: {e}"),
                    },
                    Ok(None) => {}
                    Err(e) => tracing::warn!(incident = %id, "decision failed: {e}"),
                }
            }
        })?;
    Ok((tx, handle))
}

/// The decision document of one incident.
pub fn decide(
    req: &Request,
    opts: &RespondOptions,
    thresholds: &vigie_incident::notify::Thresholds,
) -> Result<Option<DecisionRecord>, vigie_incident::decide::DecideError> {
    let e = &req.engines;
    let cx = Context {
        model: &e.model,
        graph: &e.graph,
        attack: &e.attack,
        thresholds,
    };
    let r = vigie_incident::respond::respond_observed(&cx, req.job.detections.clone(), opts)?;
    // The incident's own detections group into that incident again; the one holding
    // the set asked for is it.
    let Some(d) = r.incidents.iter().find(|d| {
        d.incident
            .compromised
            .iter()
            .map(|c| c.asset.as_str())
            .eq(req.job.compromised.iter().map(String::as_str))
    }) else {
        return Ok(None);
    };
    let w = vigie_wire::v1::respond::Incident::from_engine(d, &r.detections, &e.rules);
    let document = json!({
        "compromised": w.compromised,
        "computed_at": vigie_wire::rfc3339(&Utc::now()),
        "assess": w.assess,
        "contain": w.contain,
        "restore": w.restore,
        "notification": w.notification,
        "decision_skipped": w.decision_skipped,
    });
    Ok(Some(DecisionRecord {
        incident_id: req.job.incident_id.clone(),
        compromised: req.job.compromised.clone(),
        computed_at: Utc::now(),
        document: if document.is_object() {
            document
        } else {
            Value::Null
        },
    }))
}
