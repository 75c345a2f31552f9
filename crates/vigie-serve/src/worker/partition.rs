//! One correlation partition, run by the worker holding its lease.
//!
//! The partition's state is a function of the prefix of its subject in the
//! `<STREAM>_CORR` stream: the owner feeds the messages, in stream order, to one
//! [`DetectionSession`] in `Watermark` order (the single node's correlating half), so
//! the same prefix always gives the same correlator state and the same hits. The owner
//! publishes the hits of a batch to the incident leader (keyed: a republished hit is
//! dropped), then records the stream sequence it has consumed through in the state
//! bucket. A new owner (the old one died, or gave the partition up) replays the
//! partition from the stream's first retained message up to that sequence with its hits
//! discarded (they were published), and goes on from there: nothing lost, nothing twice.
//!
//! What is fed when: an input is fed once the events consumer's ack floor reaches its
//! event (then every input up to the floor is in the partition stream), in (events
//! sequence, rule key) order; the position saved after the batch's hits are published
//! is that floor. A tick sorts after the inputs of its sequence and is fed even when it
//! arrives at a sequence already fed through (an idle-flush tick carries the ack floor,
//! which the owner has usually saved by then): see `fed_live`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use async_nats::jetstream::{self, consumer, kv};
use futures_util::StreamExt;
use tokio::sync::oneshot;
use vigie_hunt::{DetectionSession, Found, SessionOptions};
use vigie_sigma::RuleSet;

use super::lease::Lease;
use super::wire::{CorrMessage, DetMessage, RuleIndex};
use super::Shared;
use crate::ServeError;

type Feed = (
    Vec<CorrMessage>,
    oneshot::Sender<Vec<vigie_hunt::Detection>>,
);

/// The correlating half of a session on its own thread (it borrows the rule set, which
/// an async task cannot hold across awaits), fed batches of partition messages.
struct Engine {
    tx: std::sync::mpsc::Sender<Feed>,
}

impl Engine {
    fn spawn(rules: Arc<RuleSet>, options: Arc<SessionOptions>, name: String) -> Engine {
        let (tx, rx) = std::sync::mpsc::channel::<Feed>();
        let spawned = std::thread::Builder::new().name(name.clone()).spawn(move || {
            let index = RuleIndex::new(&rules);
            let mut session = DetectionSession::new(&rules, &options);
            for (msgs, done) in rx {
                let mut out = Vec::new();
                for m in msgs {
                    match m {
                        CorrMessage::Tick { time, .. } => {
                            session.note_time(Some(time));
                            session.absorb(Found::default(), &mut out);
                        }
                        obs => match index.observation(obs) {
                            Ok(Some(o)) => {
                                let found = Found {
                                    observations: vec![o],
                                    ..Found::default()
                                };
                                session.absorb(found, &mut out);
                            }
                            Ok(None) => {}
                            Err(e) => tracing::error!(partition = %name, error = %e, "correlation input refused"),
                        },
                    }
                }
                let _ = done.send(out);
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a correlation thread");
        }
        Engine { tx }
    }

    async fn feed(&self, msgs: Vec<CorrMessage>) -> Result<Vec<vigie_hunt::Detection>, ServeError> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send((msgs, done))
            .map_err(|_| ServeError::Nats("correlation thread gone".into()))?;
        rx.await
            .map_err(|_| ServeError::Nats("correlation thread gone".into()))
    }
}

/// The state-bucket key of a partition's consumed-through sequence.
pub fn position_key(p: u32) -> String {
    format!("corr-{p}")
}

async fn read_position(state: &kv::Store, p: u32) -> Result<u64, ServeError> {
    match state.get(position_key(p)).await {
        Ok(Some(b)) => Ok(std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)),
        Ok(None) => Ok(0),
        Err(e) => Err(ServeError::Nats(format!(
            "read position of partition {p}: {e}"
        ))),
    }
}

/// Runs partition `p` while `lease` holds and `stop` is not set; returns when either
/// ends (the caller releases the lease).
pub async fn run(
    sh: &Shared,
    p: u32,
    lease: &mut Lease,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let engine = Engine::spawn(sh.rules.clone(), sh.options.clone(), format!("corr-{p}"));
    let subject = sh.names.corr_subject(p);
    // Fed through this events-stream sequence: every input of an event up to it was fed
    // (and its hits published); an input at or below it is a duplicate.
    let mut fed = read_position(&sh.state, p).await?;
    let stream = sh
        .js
        .get_stream(&sh.names.corr_stream)
        .await
        .map_err(|e| ServeError::Nats(format!("stream {}: {e}", sh.names.corr_stream)))?;
    let mut events = sh.events_consumer.clone();
    let ordered = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subject.clone(),
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| ServeError::Nats(format!("partition {p} consumer: {e}")))?;
    let mut msgs = ordered
        .messages()
        .await
        .map_err(|e| ServeError::Nats(format!("partition {p} messages: {e}")))?;
    let mut consumed = 0u64;
    let mut buffer: BTreeMap<(u64, String), CorrMessage> = BTreeMap::new();
    // Replay: what was fed before is fed again, silently, in the same order.
    let end = last_seq(&stream, &subject).await;
    let mut replay: BTreeMap<(u64, String), CorrMessage> = BTreeMap::new();
    while consumed < end {
        for (pseq, m) in next_batch(&mut msgs, sh.batch).await? {
            consumed = consumed.max(pseq);
            let Some(m) = m else { continue };
            let k = m.order();
            if fed_live(&m, fed) {
                buffer.insert(k, m);
            } else {
                replay.insert(k, m);
            }
        }
    }
    let replayed = replay.len();
    engine.feed(replay.into_values().collect()).await?;
    tracing::info!(partition = p, worker = %sh.id, fed, replayed, "partition owned");
    let mut renew_at = Instant::now() + sh.lease_ttl / 3;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if Instant::now() >= renew_at {
            if !lease.renew(&sh.leases).await {
                tracing::warn!(partition = p, worker = %sh.id, "partition lease lost");
                return Ok(());
            }
            renew_at = Instant::now() + sh.lease_ttl / 3;
        }
        // Every input of an event up to the ack floor was published before its event
        // was acked, so it is in the partition stream at or before `end`: once consumed
        // through `end`, the inputs up to the floor are all here.
        let floor = match events.info().await {
            Ok(i) => i.ack_floor.stream_sequence,
            Err(e) => {
                tracing::debug!(error = %e, "events consumer info");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let end = last_seq(&stream, &subject).await;
        let mut wait = true;
        while consumed < end || wait {
            wait = false;
            let batch = next_batch(&mut msgs, sh.batch).await?;
            if batch.is_empty() && consumed >= end {
                break;
            }
            for (pseq, m) in batch {
                consumed = consumed.max(pseq);
                let Some(m) = m else { continue };
                if fed_live(&m, fed) {
                    buffer.insert(m.order(), m);
                }
            }
        }
        let rest = buffer.split_off(&(floor + 1, String::new()));
        let ready = std::mem::replace(&mut buffer, rest);
        if ready.is_empty() && floor <= fed {
            continue;
        }
        let hits = engine.feed(ready.into_values().collect()).await?;
        if !lease.valid() {
            // Someone may own it now: let them publish (they replay to the same hits).
            return Ok(());
        }
        if !hits.is_empty() {
            let dets: Vec<DetMessage> = hits
                .iter()
                .map(|d| DetMessage::new(&sh.rules, d, None))
                .collect();
            super::publish_detections(sh, &dets).await?;
            tracing::debug!(partition = p, hits = dets.len(), "correlation hits");
        }
        if floor > fed {
            sh.state
                .put(position_key(p), floor.to_string().into())
                .await
                .map_err(|e| ServeError::Nats(format!("save position of partition {p}: {e}")))?;
            fed = floor;
        }
    }
}

/// Whether `m` is still to be fed live by an owner that has fed through events
/// sequence `fed` (else it was fed before: a new owner replays it silently). An input
/// at or below `fed` was. A tick at `fed` may not have been: an idle-flush tick carries
/// the events ack floor, which the partition may have reached (and saved) before the
/// tick arrived; dropped, the watermark would never pass the last inputs and their
/// correlation would not fire. So a tick at `fed` is fed live, by the owner and by a
/// new owner after its replay; feeding a tick again only repeats a time already seen,
/// and the hits it gives again are keyed (dropped by the leader).
fn fed_live(m: &CorrMessage, fed: u64) -> bool {
    let seq = m.order().0;
    seq > fed || (seq == fed && matches!(m, CorrMessage::Tick { .. }))
}

/// The stream sequence of the last message on `subject` (0 when none).
async fn last_seq(stream: &jetstream::stream::Stream, subject: &str) -> u64 {
    stream
        .get_last_raw_message_by_subject(subject)
        .await
        .map(|m| m.sequence)
        .unwrap_or(0)
}

/// The next messages that are ready (up to `max`), waiting a little for the first.
async fn next_batch(
    msgs: &mut consumer::pull::Ordered,
    max: usize,
) -> Result<Vec<(u64, Option<CorrMessage>)>, ServeError> {
    let mut out = Vec::new();
    let mut wait = Duration::from_millis(100);
    while out.len() < max {
        let m = match tokio::time::timeout(wait, msgs.next()).await {
            Err(_) => break,
            Ok(None) => return Err(ServeError::Nats("partition stream ended".into())),
            Ok(Some(Err(e))) => return Err(ServeError::Nats(format!("partition stream: {e}"))),
            Ok(Some(Ok(m))) => m,
        };
        // After the first, take only what is already here.
        wait = Duration::from_millis(2);
        let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
        match serde_json::from_slice::<CorrMessage>(&m.payload) {
            Ok(c) => out.push((seq, Some(c))),
            Err(e) => {
                tracing::error!(seq, error = %e, "partition message unreadable");
                out.push((seq, None));
            }
        }
    }
    Ok(out)
}
