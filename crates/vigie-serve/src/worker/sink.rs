//! The incident leader's real end: h-core's live incidents ([`crate::live::Live`],
//! respond's grouping) over every live detection, and the shared store. A detection is
//! stored as the single node stores it ([`crate::pipeline::new_detection`]), with its
//! incident, in one transaction per batch; decisions go to the decider thread as on a
//! single node. A new leader rebuilds the live incidents from the store, as a single
//! node does at start.

use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::broadcast;
use vigie_store::{CommitBatch, Store};

use super::leader::{IncidentSink, LeaderDetection};
use crate::live::{decider, Live, Regrouped};
use crate::pipeline::{new_detection, Engines};
use crate::state::LiveChange;
use crate::ServeError;

pub struct StoreSink {
    engines: Arc<Engines>,
    store: Store,
    group: vigie_incident::GroupOptions,
    live: Mutex<Live>,
    decide: Mutex<mpsc::Sender<decider::Request>>,
    changes: broadcast::Sender<LiveChange>,
    _decider: JoinHandle<()>,
}

impl StoreSink {
    pub fn new(
        engines: Arc<Engines>,
        store: Store,
        group: vigie_incident::GroupOptions,
        changes: broadcast::Sender<LiveChange>,
    ) -> Result<StoreSink, ServeError> {
        let (tx, handle) = decider::spawn(
            store.clone(),
            changes.clone(),
            group.window,
            group.max_assets_per_entity,
        )?;
        Ok(StoreSink {
            engines,
            store,
            live: Mutex::new(Live::new(group.clone())),
            group,
            decide: Mutex::new(tx),
            changes,
            _decider: handle,
        })
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, Live> {
        match self.live.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Live incidents from the store (what the single node's restore does); the ids of
    /// the stored live detections.
    fn rebuild(&self) -> Result<Vec<String>, ServeError> {
        let e = &self.engines;
        let mut live = Live::new(self.group.clone());
        let mut ids = Vec::new();
        for row in self.store.live_detections()? {
            ids.push(row.id.clone());
            if let Some(o) = crate::live::observed_from_row(&row, e) {
                live.restore(row.id, o, row.incident_id);
            }
        }
        for id in live.incident_ids() {
            if let Some(d) = self.store.incident(&id)?.and_then(|r| r.decision) {
                live.restore_decided(id, d.compromised);
            }
        }
        let r = live.regroup(e, false);
        if !r.upserts.is_empty() {
            self.store.commit(&CommitBatch {
                incidents: r.upserts.clone(),
                ..CommitBatch::default()
            })?;
        }
        self.after(r, 0);
        *self.lock_live() = live;
        Ok(ids)
    }

    fn after(&self, r: Regrouped, detections: usize) {
        if detections > 0 {
            let _ = self.changes.send(LiveChange {
                kind: "detections".into(),
                id: String::new(),
                detail: serde_json::json!({"count": detections}),
            });
        }
        for u in &r.upserts {
            let _ = self.changes.send(LiveChange {
                kind: "incident.changed".into(),
                id: u.id.clone(),
                detail: serde_json::json!({"id": u.id}),
            });
        }
        if let Ok(tx) = self.decide.lock() {
            for job in r.decide {
                let _ = tx.send(decider::Request {
                    job,
                    engines: self.engines.clone(),
                });
            }
        }
    }
}

impl IncidentSink for StoreSink {
    fn known(&self) -> Result<Vec<String>, ServeError> {
        self.rebuild()
    }

    fn commit(&self, new: Vec<LeaderDetection>) -> Result<(), ServeError> {
        let e = &self.engines;
        let mut batch = CommitBatch::default();
        let regrouped = {
            let mut live = self.lock_live();
            for d in new {
                let (nd, o) = new_detection(e, d.detection, d.event_key.as_deref().unwrap_or(""));
                if live.add(nd.id.clone(), o) {
                    batch.detections.push(nd);
                }
            }
            if batch.detections.is_empty() {
                return Ok(());
            }
            let r = live.regroup(e, false);
            for d in &mut batch.detections {
                d.incident_id = live.incident_of(&d.id).map(str::to_string);
            }
            r
        };
        batch.incidents = regrouped.upserts.clone();
        if let Err(err) = self.store.commit(&batch) {
            // Memory holds what the store refused: rebuild from the store (the truth).
            tracing::error!("incident commit failed: {err}");
            let _ = self.rebuild();
            return Err(err.into());
        }
        self.after(regrouped, batch.detections.len());
        Ok(())
    }
}
