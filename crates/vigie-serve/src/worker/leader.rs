//! Incident grouping on one elected worker: the holder of the `incidents` lease consumes
//! `<prefix>.det` (every detection, from every worker and partition) with a durable
//! consumer, drops detections it already has (by id), hands the new ones to the
//! [`IncidentSink`] (live incidents and the store) and acks them once the sink says they
//! are durable. A new leader first asks the sink what it already holds, then takes the
//! consumer's unacked messages: nothing lost, nothing twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::AckKind;

use super::lease::Lease;
use super::wire::{det_key, DetMessage};
use super::Shared;
use crate::ingest::nats as input;
use crate::ServeError;

/// One detection for the incident stage: the engine detection (rule resolved in this
/// process), its key, and the key of the event it matched (None for a correlation hit).
#[derive(Debug, Clone)]
pub struct LeaderDetection {
    /// `det-` + 16 hex of the key's SHA-256 (the store's detection id).
    pub id: String,
    pub key: String,
    pub event_key: Option<String>,
    pub detection: vigie_hunt::Detection,
}

/// Where the leader's detections go: live incident grouping and the store. Blocking
/// calls (run on a blocking thread).
pub trait IncidentSink: Send + Sync {
    /// Ids of the detections already durable (a new leader's starting point).
    fn known(&self) -> Result<Vec<String>, ServeError>;
    /// Groups and stores `new` (all unknown until now); returns once durable.
    fn commit(&self, new: Vec<LeaderDetection>) -> Result<(), ServeError>;
}

/// Leads while `lease` holds and `stop` is unset.
pub async fn run(
    sh: &Arc<Shared>,
    lease: &mut Lease,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let stream = sh
        .js
        .get_stream(&sh.names.det_stream)
        .await
        .map_err(|e| ServeError::Nats(format!("stream {}: {e}", sh.names.det_stream)))?;
    let consumer = input::ensure_consumer(
        &stream,
        &sh.names.leader_consumer,
        &sh.names.det_subject,
        (8 * sh.batch) as i64,
        Duration::from_secs(sh.nats.ack_wait_secs.max(1)),
    )
    .await?;
    let sink = sh.sink.clone();
    let mut known: HashSet<String> = tokio::task::spawn_blocking(move || sink.known())
        .await
        .map_err(|e| ServeError::Nats(format!("leader: {e}")))??
        .into_iter()
        .collect();
    tracing::info!(worker = %sh.id, known = known.len(), "incident leader");
    let mut renew_at = Instant::now() + sh.lease_ttl / 3;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if Instant::now() >= renew_at {
            if !lease.renew(&sh.leases).await {
                tracing::warn!(worker = %sh.id, "incident lease lost");
                return Ok(());
            }
            renew_at = Instant::now() + sh.lease_ttl / 3;
        }
        let msgs = input::fetch(&consumer, sh.batch, Duration::from_millis(200)).await?;
        if msgs.is_empty() {
            continue;
        }
        let mut new = Vec::new();
        for m in &msgs {
            let d: DetMessage = match serde_json::from_slice(&m.payload) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "detection message unreadable");
                    continue;
                }
            };
            let key = det_key(&d);
            let id = crate::pipeline::keys::detection_id(&key);
            if known.contains(&id) {
                continue;
            }
            match sh.index.detection(&d) {
                Ok(detection) => {
                    known.insert(id.clone());
                    new.push(LeaderDetection {
                        id,
                        key,
                        event_key: d.event_key.clone(),
                        detection,
                    });
                }
                Err(e) => tracing::error!(error = %e, "detection refused"),
            }
        }
        if !lease.valid() {
            return Ok(());
        }
        let ids: Vec<String> = new.iter().map(|d| d.id.clone()).collect();
        let sink = sh.sink.clone();
        let r = tokio::task::spawn_blocking(move || sink.commit(new))
            .await
            .map_err(|e| ServeError::Nats(format!("leader: {e}")))?;
        match r {
            Ok(()) => input::ack_all(&sh.client, &msgs, AckKind::Ack).await,
            Err(e) => {
                tracing::warn!(error = %e, "incident commit failed; redelivery");
                for k in ids {
                    known.remove(&k);
                }
                input::ack_all(
                    &sh.client,
                    &msgs,
                    AckKind::Nak(Some(Duration::from_secs(1))),
                )
                .await;
            }
        }
    }
}
