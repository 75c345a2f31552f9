//! The ingest handle every source submits through, and the sources.
//!
//! A source turns what it receives into an [`IngestBatch`] (events as JSON documents,
//! with what could not be read listed in `rejected`) and submits it. The handle is a
//! bounded queue measured in events: [`Ingest::try_submit`] fails fast when it is full
//! (HTTP answers 429 with `Retry-After`), [`Ingest::submit`] waits for room (followed
//! files, NATS, syslog over TCP: backpressure reaches the sender). A batch's outcome is
//! sent back only once the batch is durable (committed with its detections, incident
//! changes, correlation state and input position): only then may a source acknowledge.
//!
//! Sources: `http` (body decoding: JSON lines or array, gzip), `syslog` (UDP, TCP with
//! octet counting or newlines; the parser is `vigie_event::syslog`), `file` (followed
//! files, `tail -F` semantics, position persisted through the commit), `nats`
//! (JetStream durable pull consumer, ack after commit).

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Semaphore};

pub mod file;
pub mod http;
pub mod nats;
pub mod syslog;

/// One event as received.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// The event document (a JSON object; syslog lines are parsed into one).
    pub document: Document,
    /// The source name detections carry (`http`, a file path, `syslog:<peer>`...).
    pub source: Arc<str>,
    /// Line, offset or sequence number within `source` (1-based lines).
    pub record: u64,
}

/// An event document as decoded. A flat object (every member a scalar: most posted
/// events, Sigma-named records) is kept as the engine's member list, which the HTTP
/// decoder reads about three times faster than a `serde_json` map (no hash table per
/// event, no hash per key) and the detection walks without a conversion; anything else
/// is a JSON tree. Both give the same event, key and stored document.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Flat(vigie_event::FlatDoc),
    Tree(Value),
}

impl From<Value> for Document {
    fn from(v: Value) -> Document {
        Document::Tree(v)
    }
}

impl Document {
    /// The event the detection session reads.
    pub fn into_event(self, source: Arc<str>, record: u64) -> vigie_event::Event {
        match self {
            Document::Flat(f) => vigie_event::Event::from_flat(source, record, f),
            Document::Tree(v) => vigie_event::Event::new(source, record, v),
        }
    }

    /// The whole document as JSON (built for a flat one).
    pub fn to_value(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Document::Flat(f) => std::borrow::Cow::Owned(f.to_value()),
            Document::Tree(v) => std::borrow::Cow::Borrowed(v),
        }
    }

    /// A top-level member.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Document::Flat(f) => f.get(key),
            Document::Tree(v) => v.get(key),
        }
    }
}

/// `doc["member"]`, `Value::Null` when absent (as for a `Value`).
impl std::ops::Index<&str> for Document {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

/// The document as compact JSON.
impl std::fmt::Display for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&*self.to_value(), f)
    }
}

/// Reads one JSON text as a document, as hunt's JSON reader does
/// ([`vigie_event::read::parse_doc`]): a flat object through the fast reader, anything
/// else (a non-object too, for the caller to refuse) as a tree, errors as serde_json's.
pub fn parse_document(bytes: &[u8]) -> Result<Document, serde_json::Error> {
    Ok(match vigie_event::read::parse_doc(bytes)? {
        vigie_event::read::Parsed::Flat(f) => Document::Flat(f),
        vigie_event::read::Parsed::Tree(v) => Document::Tree(v),
    })
}

impl serde::Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Document::Flat(f) => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(f.len()))?;
                for (k, v) in f.iter() {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Document::Tree(v) => v.serialize(s),
        }
    }
}

/// Something of a batch that could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    /// 1-based line (JSON lines) or element index + 1 (JSON array).
    pub line: u64,
    pub reason: String,
}

/// A batch from one input.
#[derive(Debug, Clone, Default)]
pub struct IngestBatch {
    /// The input (`http`, `syslog-udp`, `syslog-tcp`, `file:/path`, `nats:<subject>`).
    pub input: String,
    pub events: Vec<RawEvent>,
    /// What could not be read; counted, reported back, never processed.
    pub rejected: Vec<Rejected>,
    /// The input's position after this batch, committed with it.
    pub position: Option<vigie_store::InputPosition>,
    /// The event key of each event (`pipeline::keys::event_key`), when the source
    /// computed them on its own thread (HTTP does, while decoding); empty: the
    /// processor computes them. Same length as `events` when not empty.
    pub keys: Vec<String>,
}

/// What became of a batch once durable.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<Rejected>,
}

/// Why a batch was not taken.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: try again after this many seconds.
    #[error("ingest queue full; retry after {retry_after_s} s")]
    Full { retry_after_s: u64 },
    /// Larger than the whole queue: split it.
    #[error("batch of {events} events is larger than the queue ({capacity}); split it")]
    TooLarge { events: u64, capacity: u64 },
    /// The server is shutting down.
    #[error("shutting down")]
    Closed,
    /// The commit failed: nothing of the batch was kept.
    #[error("commit failed: {0}")]
    Commit(String),
}

/// A batch in the queue with where its outcome goes. The permit holds its room in
/// the queue until the processor has taken it.
pub struct Job {
    pub batch: IngestBatch,
    pub done: oneshot::Sender<Result<IngestOutcome, SubmitError>>,
    pub permit: tokio::sync::OwnedSemaphorePermit,
}

/// The ingest handle (clone freely).
#[derive(Clone)]
pub struct Ingest {
    tx: mpsc::UnboundedSender<Job>,
    room: Arc<Semaphore>,
    capacity: u32,
}

impl Ingest {
    /// A queue of `capacity` events and the receiving end for the processor.
    pub fn new(capacity: u32) -> (Ingest, mpsc::UnboundedReceiver<Job>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(capacity as usize));
        (Ingest { tx, room, capacity }, rx)
    }

    /// Events waiting in the queue (for `/metrics`).
    pub fn depth(&self) -> u64 {
        (self.capacity as usize).saturating_sub(self.room.available_permits()) as u64
    }

    pub fn capacity(&self) -> u64 {
        self.capacity as u64
    }

    fn permits(&self, batch: &IngestBatch) -> Result<u32, SubmitError> {
        let n = batch.events.len().max(1) as u64;
        if n > self.capacity as u64 {
            return Err(SubmitError::TooLarge {
                events: n,
                capacity: self.capacity as u64,
            });
        }
        Ok(n as u32)
    }

    /// Queues `batch` if there is room now; the receiver gets the outcome once durable.
    pub fn try_submit(
        &self,
        batch: IngestBatch,
    ) -> Result<oneshot::Receiver<Result<IngestOutcome, SubmitError>>, SubmitError> {
        let n = self.permits(&batch)?;
        let permit = match self.room.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(SubmitError::Full { retry_after_s: 1 })
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SubmitError::Closed),
        };
        self.send(batch, permit)
    }

    /// Queues `batch`, waiting for room, and waits until it is durable.
    pub async fn submit(&self, batch: IngestBatch) -> Result<IngestOutcome, SubmitError> {
        let n = self.permits(&batch)?;
        let permit = self
            .room
            .clone()
            .acquire_many_owned(n)
            .await
            .map_err(|_| SubmitError::Closed)?;
        let rx = self.send(batch, permit)?;
        rx.await.map_err(|_| SubmitError::Closed)?
    }

    fn send(
        &self,
        batch: IngestBatch,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<oneshot::Receiver<Result<IngestOutcome, SubmitError>>, SubmitError> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Job {
                batch,
                done,
                permit,
            })
            .map_err(|_| SubmitError::Closed)?;
        Ok(rx)
    }

    /// Stops taking batches (shutdown: what is queued is still processed).
    pub fn close(&self) {
        self.room.close();
    }

    /// Whether [`close`](Self::close) was called (sources that pull, like NATS, stop).
    pub fn is_closed(&self) -> bool {
        self.room.is_closed()
    }
}
