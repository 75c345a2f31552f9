//! The stateless stage every worker runs: take a batch from the shared events consumer,
//! match it (the session's matching half, [`vigie_hunt::SessionWorker`]), record the
//! events in the store (keys; documents that matched or feed a correlation), send what
//! it found on (correlation inputs to their partitions with the event's stream
//! sequence, detections to the incident leader), and only then ack the batch. Every
//! step is keyed, so a batch redelivered after a crash anywhere in between is harmless.
//! When the whole stream is drained, an idle flush tick goes to every partition.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use chrono::{DateTime, Utc};
use vigie_hunt::{Found, SessionWorker};

use super::wire::{obs_message_id, partition_of, CorrMessage, DetMessage};
use super::Shared;
use crate::ingest::nats::{self as input, message_id};
use crate::ingest::RawEvent;
use crate::ServeError;

/// What matching one batch gave.
struct Matched {
    /// Per event: its key, time, and what it yielded.
    events: Vec<(RawEvent, String, Option<DateTime<Utc>>, Found)>,
    /// Per event: its sequence in the events stream.
    seqs: Vec<u64>,
    outside_window: u64,
}

fn match_batch(sh: &Shared, raw: Vec<RawEvent>, seqs: Vec<u64>) -> Matched {
    let mut w = SessionWorker::new(&sh.rules, &sh.options);
    let mut out = Matched {
        events: Vec::with_capacity(raw.len()),
        seqs,
        outside_window: 0,
    };
    for r in raw {
        let key = message_id(&r);
        let ev = r.document.clone().into_event(r.source.clone(), r.record);
        let mut found = Found::default();
        if sh.options.in_window(ev.timestamp) {
            w.match_event(&ev, &mut found);
        } else {
            out.outside_window += 1;
        }
        out.events.push((r, key, ev.timestamp, found));
    }
    out
}

/// Runs the stage until `stop`.
pub async fn run(
    sh: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let consumer = sh.events_consumer.clone();
    let subject_source: Arc<str> = Arc::from(format!("nats:{}", sh.nats.subject));
    let mut newest: Option<DateTime<Utc>> = None;
    let mut flushed = true;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let msgs = tokio::select! {
            _ = stop.changed() => return Ok(()),
            r = input::fetch(&consumer, sh.batch, Duration::from_millis(300)) => r?,
        };
        if msgs.is_empty() {
            if !flushed {
                flushed = idle_flush(&sh, &consumer, newest).await?;
            }
            continue;
        }
        flushed = false;
        let t = process(&sh, &subject_source, msgs).await?;
        if t > newest {
            newest = t;
        }
    }
}

/// Once every fetched event of the whole stream is acked (so every correlation input
/// is already in its partition), sends each partition a tick `lateness` past this
/// worker's newest time, at the ack floor: what the watermark still held is fed. True
/// once sent.
async fn idle_flush(
    sh: &Shared,
    consumer: &jetstream::consumer::PullConsumer,
    newest: Option<DateTime<Utc>>,
) -> Result<bool, ServeError> {
    let Some(newest) = newest else {
        return Ok(true);
    };
    let mut c = consumer.clone();
    let info = c
        .info()
        .await
        .map_err(|e| ServeError::Nats(format!("consumer info: {e}")))?;
    if info.num_pending > 0 || info.num_ack_pending > 0 {
        return Ok(false);
    }
    let t = newest.checked_add_signed(sh.lateness).unwrap_or(newest);
    publish_ticks(sh, info.ack_floor.stream_sequence, t).await?;
    tracing::debug!(worker = %sh.id, time = %t, "idle flush");
    Ok(true)
}

async fn publish_ticks(sh: &Shared, seq: u64, t: DateTime<Utc>) -> Result<(), ServeError> {
    let tick = CorrMessage::Tick {
        seq,
        worker: sh.id.clone(),
        time: t,
    };
    let payload = serde_json::to_vec(&tick).map_err(|e| ServeError::Nats(e.to_string()))?;
    let mut acks = Vec::with_capacity(sh.partitions as usize);
    for p in 0..sh.partitions {
        acks.push(
            sh.js
                .publish(sh.names.corr_subject(p), payload.clone().into())
                .await
                .map_err(|e| ServeError::Nats(format!("tick: {e}")))?,
        );
    }
    for a in acks {
        a.await
            .map_err(|e| ServeError::Nats(format!("tick ack: {e}")))?;
    }
    Ok(())
}

/// One batch: match, publish, record, ack. Returns its newest event time.
async fn process(
    sh: &Arc<Shared>,
    subject_source: &Arc<str>,
    msgs: Vec<jetstream::Message>,
) -> Result<Option<DateTime<Utc>>, ServeError> {
    let mut raw = Vec::with_capacity(msgs.len());
    let mut seqs = Vec::with_capacity(msgs.len());
    let mut good = Vec::with_capacity(msgs.len());
    let mut bad = Vec::new();
    for m in msgs {
        match input::decode(&m, subject_source) {
            Ok(ev) => {
                raw.push(ev);
                seqs.push(m.info().map(|i| i.stream_sequence).unwrap_or(0));
                good.push(m);
            }
            Err(reason) => {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                tracing::warn!(seq, %reason, "nats message rejected");
                sh.counts.rejected.fetch_add(1, Ordering::Relaxed);
                bad.push(m);
            }
        }
    }
    let n = raw.len() as u64;
    let sh2 = sh.clone();
    let matched = tokio::task::spawn_blocking(move || match_batch(&sh2, raw, seqs))
        .await
        .map_err(|e| ServeError::Nats(format!("matching: {e}")))?;
    let result = send_and_record(sh, &matched).await;
    match result {
        Ok(newest) => {
            input::ack_all(&sh.client, &good, AckKind::Ack).await;
            input::ack_all(&sh.client, &bad, AckKind::Term).await;
            sh.counts.events.fetch_add(n, Ordering::Relaxed);
            sh.counts
                .outside_window
                .fetch_add(matched.outside_window, Ordering::Relaxed);
            Ok(newest)
        }
        Err(e) => {
            tracing::warn!(worker = %sh.id, error = %e, "batch not processed; redelivery");
            input::ack_all(
                &sh.client,
                &good,
                AckKind::Nak(Some(Duration::from_secs(1))),
            )
            .await;
            Ok(None)
        }
    }
}

async fn send_and_record(sh: &Shared, m: &Matched) -> Result<Option<DateTime<Utc>>, ServeError> {
    let mut newest: Option<DateTime<Utc>> = None;
    let mut corr = Vec::new();
    let mut dets = Vec::new();
    for ((_, key, time, found), seq) in m.events.iter().zip(&m.seqs) {
        if *time > newest {
            newest = *time;
        }
        for o in &found.observations {
            let Some(pkey) = sh.rules.correlation_partition(o) else {
                continue;
            };
            let p = partition_of(&pkey, sh.partitions);
            let id = obs_message_id(&sh.rules.meta(o.rule).key, key);
            corr.push((p, id, CorrMessage::obs(&sh.rules, o, *seq)));
        }
        for d in &found.detections {
            dets.push(DetMessage::new(&sh.rules, d, Some(key.clone())));
        }
    }
    // The events first, so a detection's evidence is stored before the detection.
    super::record_events(sh, m.events.iter().map(|(r, k, t, f)| (r, k, *t, f))).await?;
    let mut acks = Vec::with_capacity(corr.len());
    for (p, id, msg) in &corr {
        let payload = serde_json::to_vec(msg).map_err(|e| ServeError::Nats(e.to_string()))?;
        let publish = jetstream::context::Publish::build()
            .payload(payload.into())
            .message_id(id);
        acks.push(
            sh.js
                .send_publish(sh.names.corr_subject(*p), publish)
                .await
                .map_err(|e| ServeError::Nats(format!("publish correlation input: {e}")))?,
        );
    }
    for a in acks {
        a.await
            .map_err(|e| ServeError::Nats(format!("correlation input ack: {e}")))?;
    }
    super::publish_detections(sh, &dets).await?;
    Ok(newest)
}
