//! NATS JetStream input and publisher.
//!
//! **Input** ([`run`]): makes sure the stream exists (`Config.nats.stream` over
//! `Config.nats.subject`, file storage, a duplicate window for `Nats-Msg-Id`), binds a
//! durable pull consumer (`Config.nats.consumer`, explicit ack), fetches batches (at most
//! what the ingest queue can hold), submits each through [`Ingest::submit`] and acks its
//! messages only once the batch's outcome is durable. A payload that is not a JSON
//! object is reported in the batch's `rejected`, logged with its stream sequence and
//! terminated (it would fail the same way forever). JetStream itself holds the input's
//! position (the consumer's ack floor), so no position goes into the store: after a
//! crash the unacked messages come again and the store's event keys drop what was
//! already committed.
//!
//! **What is acked when, and in which order events reach the processor.** Correlation
//! runs in event time behind a watermark (newest event time minus the allowed
//! lateness); an input older than the watermark is late and never correlated. JetStream
//! redelivers an unacked message only after `ack_wait`, *after* newer messages, so an
//! event the input let go of unprocessed would come back hours behind the watermark and
//! its correlation would be lost (a brute force straddling a restart would not fire).
//! The input therefore hands events to the processor in stream order, always:
//! - a message is acked only once the batch holding it is committed (its event key,
//!   detections, incident changes and its place in the correlation state, all in one
//!   store transaction); one batch is in flight at a time;
//! - a fetch is never abandoned half-way: a shutdown is looked at between batches only,
//!   so what was fetched is committed and acked before the input stops;
//! - a failed commit is retried in place (the batch is not nak'ed and overtaken by
//!   newer messages; `AckKind::Progress` keeps JetStream from redelivering it meanwhile)
//!   until it commits or the service closes;
//! - at start, and after a fetch that ended on an error (deliveries may be lost in
//!   it), the deliveries nobody acked (the consumer's ack floor + 1 through its last
//!   delivered sequence: what a killed process had fetched and not committed) are read
//!   again from the stream in order ([`replay_unacked`]) and committed before anything
//!   newer is fetched. Their redeliveries come later and are acked as duplicates.
//!
//! **Identity**: an event published by [`Publisher`] carries headers `Vigie-Source` and
//! `Vigie-Record` (the file and line, or EVTX record, it was read from) and `Nats-Msg-Id`
//! = its event key. The input gives those back as [`RawEvent::source`] and
//! [`RawEvent::record`], so an event has the same key, and its detections the same
//! detection keys, as when `vigie hunt` reads the file; JetStream drops a republished
//! event within the duplicate window, the store's keys after it. Messages without the
//! headers are `nats:<subject>`, record = stream sequence.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use futures_util::StreamExt;

use super::{Ingest, IngestBatch, RawEvent, Rejected, SubmitError};
use crate::config::NatsConfig;
use crate::ServeError;

/// Header naming the source an event was read from (a file path).
pub const SOURCE_HEADER: &str = "Vigie-Source";
/// Header with the event's line or record number within its source.
pub const RECORD_HEADER: &str = "Vigie-Record";

/// How long JetStream remembers `Nats-Msg-Id`s (a republished event within it is not
/// even stored; after it, the store's keys drop it).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

/// Connects to `cfg.url` (named in the error).
pub async fn connect(
    cfg: &NatsConfig,
) -> Result<(async_nats::Client, jetstream::Context), ServeError> {
    let client = async_nats::connect(&cfg.url)
        .await
        .map_err(|e| ServeError::Nats(format!("connect {}: {e}", cfg.url)))?;
    let js = jetstream::new(client.clone());
    Ok((client, js))
}

/// The events stream, created when missing (limits retention: several consumers, e.g.
/// a single node and a bench, may read it).
pub async fn ensure_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: Vec<String>,
) -> Result<stream::Stream, ServeError> {
    js.get_or_create_stream(stream::Config {
        name: name.to_string(),
        subjects,
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    })
    .await
    .map_err(|e| ServeError::Nats(format!("stream {name}: {e}")))
}

/// A durable pull consumer with explicit acks on `stream`, created when missing.
pub async fn ensure_consumer(
    stream: &stream::Stream,
    durable: &str,
    filter_subject: &str,
    max_ack_pending: i64,
    ack_wait: Duration,
) -> Result<consumer::PullConsumer, ServeError> {
    stream
        .get_or_create_consumer(
            durable,
            consumer::pull::Config {
                durable_name: Some(durable.to_string()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                filter_subject: filter_subject.to_string(),
                max_ack_pending,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| ServeError::Nats(format!("consumer {durable}: {e}")))
}

/// Fetches up to `max` messages, waiting at most `wait` for the first.
pub async fn fetch(
    consumer: &consumer::PullConsumer,
    max: usize,
    wait: Duration,
) -> Result<Vec<jetstream::Message>, ServeError> {
    fetch_checked(consumer, max, wait).await.map(|(m, _)| m)
}

/// [`fetch`], and whether the fetch ended cleanly (false: it ended on an error status,
/// so messages delivered to it after that may never have been read).
async fn fetch_checked(
    consumer: &consumer::PullConsumer,
    max: usize,
    wait: Duration,
) -> Result<(Vec<jetstream::Message>, bool), ServeError> {
    let mut batch = consumer
        .fetch()
        .max_messages(max)
        .expires(wait)
        .messages()
        .await
        .map_err(|e| ServeError::Nats(format!("fetch: {e}")))?;
    let mut out = Vec::with_capacity(max);
    while let Some(m) = batch.next().await {
        match m {
            Ok(m) => out.push(m),
            // What came is kept; the caller looks for lost deliveries.
            Err(e) => {
                tracing::debug!(error = %e, "fetch ended on an error");
                return Ok((out, false));
            }
        }
    }
    Ok((out, true))
}

/// Reads again, in stream order, the deliveries of `consumer` nobody acked (its ack
/// floor + 1 through its last delivered stream sequence) and submits them in batches of
/// at most `max`, each retried until committed (see the module docs: they must reach
/// the processor before anything newer). What of them was committed already is
/// dropped by the store's event keys. Ok(false): the service closed meanwhile.
pub async fn replay_unacked(
    stream: &stream::Stream,
    consumer: &mut consumer::PullConsumer,
    subject: &str,
    ingest: &Ingest,
    input: &str,
    subject_source: &Arc<str>,
    max: usize,
) -> Result<bool, ServeError> {
    let info = consumer
        .info()
        .await
        .map_err(|e| ServeError::Nats(format!("consumer info: {e}")))?;
    let floor = info.ack_floor.stream_sequence;
    let delivered = info.delivered.stream_sequence;
    if info.num_ack_pending == 0 || delivered <= floor {
        return Ok(true);
    }
    tracing::info!(
        input,
        from = floor + 1,
        through = delivered,
        unacked = info.num_ack_pending,
        "nats: replaying unacknowledged deliveries in stream order"
    );
    let ordered = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subject.to_string(),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: floor + 1,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| ServeError::Nats(format!("replay consumer: {e}")))?;
    let mut msgs = ordered
        .messages()
        .await
        .map_err(|e| ServeError::Nats(format!("replay messages: {e}")))?;
    let mut chunk = Vec::with_capacity(max.min(4096));
    let mut replayed = 0u64;
    let mut done = false;
    while !done {
        match tokio::time::timeout(Duration::from_secs(2), msgs.next()).await {
            Ok(Some(Ok(m))) => {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(u64::MAX);
                if seq <= delivered {
                    chunk.push(m);
                }
                done = seq >= delivered;
            }
            Ok(Some(Err(e))) => return Err(ServeError::Nats(format!("replay: {e}"))),
            // The rest is gone from the stream (retention) or nothing more came.
            Ok(None) | Err(_) => done = true,
        }
        if chunk.len() >= max || (done && !chunk.is_empty()) {
            replayed += chunk.len() as u64;
            let batch = std::mem::take(&mut chunk);
            if !submit_batch(None, ingest, input, subject_source, batch).await {
                return Ok(false);
            }
        }
    }
    tracing::info!(input, replayed, "nats: unacknowledged deliveries committed");
    Ok(true)
}

/// Decodes one message: its event, or why it is not one.
pub fn decode(m: &jetstream::Message, subject_source: &Arc<str>) -> Result<RawEvent, String> {
    let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
    let document = super::parse_document(&m.payload).map_err(|e| format!("not JSON: {e}"))?;
    if matches!(&document, super::Document::Tree(v) if !v.is_object()) {
        return Err("not a JSON object".into());
    }
    let header = |name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    let source = header(SOURCE_HEADER).map(Arc::<str>::from);
    let record = header(RECORD_HEADER).and_then(|r| r.parse::<u64>().ok());
    Ok(match (source, record) {
        (Some(source), Some(record)) => RawEvent {
            document,
            source,
            record,
        },
        _ => RawEvent {
            document,
            source: subject_source.clone(),
            record: seq,
        },
    })
}

/// Runs the input until `shutdown` completes (the batch in flight is finished and
/// acked first). Errors only when the stream or consumer cannot be set up; a lost
/// connection is retried by the client.
pub async fn run(
    cfg: NatsConfig,
    ingest: Ingest,
    max_batch: usize,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (client, js) = connect(&cfg).await?;
    let stream = ensure_stream(&js, &cfg.stream, vec![cfg.subject.clone()]).await?;
    let max = max_batch.clamp(1, ingest.capacity().max(1) as usize);
    let consumer = ensure_consumer(
        &stream,
        &cfg.consumer,
        &cfg.subject,
        (4 * max) as i64,
        Duration::from_secs(cfg.ack_wait_secs.max(1)),
    )
    .await?;
    let mut consumer = consumer;
    let input = format!("nats:{}", cfg.subject);
    let subject_source: Arc<str> = Arc::from(input.as_str());
    tracing::info!(url = %cfg.url, stream = %cfg.stream, consumer = %cfg.consumer, "nats input");
    tokio::pin!(shutdown);
    // What an earlier run (or a lost fetch) left unacked goes first, in stream order.
    let mut resync = true;
    loop {
        // Looked at between batches only: a fetch is never dropped half-read (its
        // messages would come again after `ack_wait`, behind newer ones).
        if futures_util::FutureExt::now_or_never(&mut shutdown).is_some() {
            return Ok(());
        }
        if resync {
            let replayed = replay_unacked(
                &stream,
                &mut consumer,
                &cfg.subject,
                &ingest,
                &input,
                &subject_source,
                max,
            )
            .await;
            match replayed {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "nats replay of unacked deliveries failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let (msgs, clean) = match fetch_checked(&consumer, max, Duration::from_secs(1)).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "nats fetch failed; retrying");
                resync = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Deliveries after the error may be lost: replayed before the next fetch (after
        // this batch, which comes before them in the stream).
        resync = !clean;
        if msgs.is_empty() {
            continue;
        }
        if !submit_batch(Some(&client), &ingest, &input, &subject_source, msgs).await {
            return Ok(());
        }
    }
}

/// [`run`] until the service closes its ingest handle (shutdown).
pub async fn run_until_closed(
    cfg: NatsConfig,
    ingest: Ingest,
    max: usize,
) -> Result<(), ServeError> {
    let closing = ingest.clone();
    run(cfg, ingest, max, async move {
        while !closing.is_closed() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// Submits one fetched batch until it is committed, then acks it (`client`: the
/// durable consumer's messages; `None`: messages read again by [`replay_unacked`],
/// which have no ack). A failed commit is retried in place, after a second, never
/// overtaken by newer messages; false once the service closes (nothing acked: the
/// messages come again to the next run).
async fn submit_batch(
    client: Option<&async_nats::Client>,
    ingest: &Ingest,
    input: &str,
    subject_source: &Arc<str>,
    msgs: Vec<jetstream::Message>,
) -> bool {
    let (batch, good, bad) = decode_batch(input, subject_source, msgs);
    let (rejected, position) = (batch.rejected.clone(), batch.position.clone());
    let mut first = Some(batch);
    loop {
        // A retry decodes its messages again (the first attempt takes the batch).
        let attempt = first.take().unwrap_or_else(|| IngestBatch {
            input: input.to_string(),
            events: good
                .iter()
                .filter_map(|m| decode(m, subject_source).ok())
                .collect(),
            rejected: rejected.clone(),
            position: position.clone(),
            keys: Vec::new(),
        });
        let outcome = ingest.submit(attempt).await;
        match outcome {
            Ok(o) => {
                tracing::debug!(
                    input,
                    accepted = o.accepted,
                    duplicates = o.duplicates,
                    "nats batch durable"
                );
                if let Some(client) = client {
                    ack_all(client, &good, AckKind::Ack).await;
                    // The rejected were reported with their batch; terminated only once
                    // that report is durable, so a crash before it shows them again.
                    ack_all(client, &bad, AckKind::Term).await;
                }
                return true;
            }
            Err(SubmitError::Closed) => return false,
            Err(e) => {
                tracing::warn!(input, error = %e, "nats batch not committed; retrying it in place");
                if let Some(client) = client {
                    ack_all(client, &good, AckKind::Progress).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                if ingest.is_closed() {
                    return false;
                }
            }
        }
    }
}

/// The batch of `msgs` (events and rejected) with the messages behind each.
fn decode_batch(
    input: &str,
    subject_source: &Arc<str>,
    msgs: Vec<jetstream::Message>,
) -> (
    IngestBatch,
    Vec<jetstream::Message>,
    Vec<jetstream::Message>,
) {
    let mut batch = IngestBatch {
        input: input.to_string(),
        ..Default::default()
    };
    let mut good = Vec::with_capacity(msgs.len());
    let mut bad = Vec::new();
    let last = msgs
        .iter()
        .filter_map(|m| m.info().ok().map(|i| i.stream_sequence))
        .max();
    // Informational (JetStream's ack floor is the real position); its presence tells
    // the processor this input's positions are stable, so keys match `message_id`.
    batch.position = last.map(|seq| vigie_store::InputPosition {
        input: input.to_string(),
        position: seq.to_string(),
    });
    for (i, m) in msgs.into_iter().enumerate() {
        match decode(&m, subject_source) {
            Ok(ev) => {
                batch.events.push(ev);
                good.push(m);
            }
            Err(reason) => {
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                tracing::warn!(input, seq, %reason, "nats message rejected");
                batch.rejected.push(Rejected {
                    line: i as u64 + 1,
                    reason: format!("stream sequence {seq}: {reason}"),
                });
                bad.push(m);
            }
        }
    }
    (batch, good, bad)
}

/// Acks every message; a failed ack only means a redelivery, which keys make harmless.
pub async fn ack_all(client: &async_nats::Client, msgs: &[jetstream::Message], kind: AckKind) {
    for m in msgs {
        if let Err(e) = m.ack_with(kind).await {
            tracing::debug!(error = %e, "ack failed; the message will be redelivered");
        }
    }
    if !msgs.is_empty() {
        // Acks are fire-and-forget publishes: send them before reporting done.
        let _ = client.flush().await;
    }
}

/// What a publish run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PublishSummary {
    pub published: u64,
    /// Dropped by JetStream as already in the stream (same `Nats-Msg-Id`).
    pub duplicates: u64,
}

/// Publishes events to the input subject with `Nats-Msg-Id` = the event key.
pub struct Publisher {
    js: jetstream::Context,
    subject: String,
}

/// Publishes awaiting their acks at once (pipelining; bounds memory).
const IN_FLIGHT: usize = 512;

impl Publisher {
    /// Connects and makes sure the stream exists.
    pub async fn connect(cfg: &NatsConfig) -> Result<Publisher, ServeError> {
        let (_, js) = connect(cfg).await?;
        ensure_stream(&js, &cfg.stream, vec![cfg.subject.clone()]).await?;
        Ok(Publisher {
            js,
            subject: cfg.subject.clone(),
        })
    }

    /// Publishes `events` in order, each with its key as `Nats-Msg-Id`; returns once
    /// JetStream has stored (or deduplicated) every one.
    pub async fn publish(&self, events: &[RawEvent]) -> Result<PublishSummary, ServeError> {
        let mut sum = PublishSummary::default();
        let mut pending = std::collections::VecDeque::with_capacity(IN_FLIGHT);
        for ev in events {
            if pending.len() == IN_FLIGHT {
                if let Some(f) = pending.pop_front() {
                    count(&mut sum, f).await?;
                }
            }
            let payload = serde_json::to_vec(&ev.document).map_err(|e| {
                ServeError::Nats(format!("encode {}:{}: {e}", ev.source, ev.record))
            })?;
            let p = jetstream::context::Publish::build()
                .payload(payload.into())
                .message_id(message_id(ev))
                .header(SOURCE_HEADER, &*ev.source)
                .header(RECORD_HEADER, ev.record.to_string().as_str());
            let f = self
                .js
                .send_publish(self.subject.clone(), p)
                .await
                .map_err(|e| {
                    ServeError::Nats(format!("publish {}:{}: {e}", ev.source, ev.record))
                })?;
            pending.push_back(f);
        }
        for f in pending {
            count(&mut sum, f).await?;
        }
        Ok(sum)
    }
}

async fn count(
    sum: &mut PublishSummary,
    f: jetstream::context::PublishAckFuture,
) -> Result<(), ServeError> {
    let ack = f
        .await
        .map_err(|e| ServeError::Nats(format!("publish ack: {e}")))?;
    sum.published += 1;
    if ack.duplicate {
        sum.duplicates += 1;
    }
    Ok(())
}

/// Reads `paths` as `vigie hunt` does (any supported format) into events with the
/// source and record hunt gives them; unreadable records are returned as messages
/// (file and position), never dropped silently.
pub fn read_events(paths: &[PathBuf]) -> (Vec<RawEvent>, Vec<String>) {
    let (inputs, errors) = vigie_event::discover(paths);
    let mut problems: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let mut events = Vec::new();
    let opts = vigie_event::ReadOptions::default();
    for input in &inputs {
        let r = vigie_event::read_input(
            input,
            &opts,
            &mut |ev| {
                events.push(RawEvent {
                    document: match ev.flat() {
                        Some(f) => super::Document::Flat(f.clone()),
                        None => ev.doc().into_owned().into(),
                    },
                    source: ev.source.clone(),
                    record: ev.record,
                })
            },
            &mut |e| problems.push(e.to_string()),
        );
        if let Err(e) = r {
            problems.push(e.to_string());
        }
    }
    (events, problems)
}

/// The event key of a published event (`pipeline::keys::event_key`, positions stable:
/// a source and record name one event), so JetStream's dedupe and the store's agree.
pub fn message_id(ev: &RawEvent) -> String {
    crate::pipeline::keys::event_key(&ev.document, &ev.source, ev.record, true)
}
