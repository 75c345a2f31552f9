//! Syslog listeners: UDP (one message a datagram) and TCP (octet counting, RFC 6587
//! §3.4.1, or newline framing, §3.4.2, decided per connection by
//! [`vigie_event::syslog::Framer`]), parsed with [`vigie_event::syslog::parse`] into
//! event documents (`docs/syslog.md`).
//!
//! Backpressure differs by transport, and neither loses a message silently:
//! - UDP cannot be slowed down. Datagrams are batched (up to [`SyslogOptions::batch_events`]
//!   or [`SyslogOptions::linger`]) and offered with [`Ingest::try_submit`]; when the
//!   queue is full the batch is dropped, counted in
//!   `vigie_events_rejected_total{source="syslog-udp",reason="queue_full"}` and logged at
//!   warn (at most once per [`WARN_EVERY`], with the count since the last warning).
//! - TCP waits for room: each connection submits its batches with [`Ingest::submit`],
//!   which returns once they are durable, and reads no more meanwhile, so a full queue
//!   fills the socket buffers and the sender blocks. A failed commit is retried (the
//!   events keep their keys, so a retry cannot duplicate).
//!
//! A message that does not parse goes into the batch's `rejected` with the reason (peer
//! and byte offset); a frame over [`SyslogOptions::max_message`] likewise.
//!
//! Each event's `source` is `syslog:<peer address>`; its `record` is a number unique in
//! the process and increasing across restarts (the receive time in nanoseconds since
//! the epoch, bumped past the last one given), so the event key `(source, record)` never
//! repeats: syslog cannot be replayed, and two identical lines are two events.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, Offset, Utc};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use vigie_event::syslog::{parse, Framer, ParseOptions};

use super::{Ingest, IngestBatch, RawEvent, Rejected, SubmitError};
use crate::config::SyslogConfig;
use crate::metrics::{Metrics, ReasonLabel};
use crate::ServeError;

/// The `input` of UDP batches (and the `source` label of their metrics).
pub const UDP_INPUT: &str = "syslog-udp";
/// The `input` of TCP batches.
pub const TCP_INPUT: &str = "syslog-tcp";

/// How often, at most, a drop is logged at warn (the count in between is summed).
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Settings of the listeners.
#[derive(Debug, Clone, Copy)]
pub struct SyslogOptions {
    /// Largest message (datagram, frame) taken; larger ones are rejected.
    pub max_message: usize,
    /// Most events in one batch (also bounded by the queue's capacity).
    pub batch_events: usize,
    /// How long a batch waits for more messages before it is submitted.
    pub linger: Duration,
    /// Offset of timestamps without a zone (RFC 3164); UTC by default.
    pub offset: FixedOffset,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        SyslogOptions {
            max_message: vigie_event::syslog::DEFAULT_MAX_MESSAGE,
            batch_events: 1000,
            linger: Duration::from_millis(5),
            offset: Utc.fix(),
        }
    }
}

/// A running listener.
#[derive(Debug)]
pub struct Listener {
    /// The address bound (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// Aborting it stops the listener (and, for TCP, its connections).
    pub handle: JoinHandle<()>,
}

/// Starts the listeners the configuration names (UDP first, then TCP).
pub async fn spawn(
    config: &SyslogConfig,
    ingest: Ingest,
    metrics: Arc<Metrics>,
) -> Result<Vec<Listener>, ServeError> {
    let opts = SyslogOptions::default();
    let mut out = Vec::new();
    if let Some(addr) = config.udp {
        out.push(spawn_udp(addr, ingest.clone(), metrics.clone(), opts).await?);
    }
    if let Some(addr) = config.tcp {
        out.push(spawn_tcp(addr, ingest, metrics, opts).await?);
    }
    Ok(out)
}

/// A record number for one message: see the module docs.
fn next_record() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = Utc::now().timestamp_nanos_opt().unwrap_or(0).max(0) as u64;
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// A batch being filled by one listener or connection.
struct Pending {
    batch: IngestBatch,
    source: Arc<str>,
    opts: SyslogOptions,
    /// When it must be submitted (set by its first message).
    due: Option<Instant>,
}

impl Pending {
    fn new(input: &str, source: Arc<str>, opts: SyslogOptions) -> Pending {
        Pending {
            batch: IngestBatch {
                input: input.to_owned(),
                ..IngestBatch::default()
            },
            source,
            opts,
            due: None,
        }
    }

    fn len(&self) -> usize {
        self.batch.events.len() + self.batch.rejected.len()
    }

    /// Parses one message into the batch.
    fn add(&mut self, bytes: &[u8]) {
        let popts = ParseOptions {
            reference: Utc::now(),
            stamp_missing: true,
            offset: self.opts.offset,
        };
        let record = next_record();
        match parse(bytes, &popts) {
            Ok(m) => self.batch.events.push(RawEvent {
                document: m.to_document(),
                source: self.source.clone(),
                record,
            }),
            Err(e) => self.reject(record, e.to_string()),
        }
        self.touch();
    }

    fn reject(&mut self, record: u64, why: String) {
        tracing::debug!("{}: rejected: {why}", self.source);
        self.batch.rejected.push(Rejected {
            line: record,
            reason: format!("{}: {why}", self.source),
        });
        self.touch();
    }

    fn touch(&mut self) {
        if self.due.is_none() {
            self.due = Some(Instant::now() + self.opts.linger);
        }
    }

    /// The batch so far, leaving an empty one.
    fn take(&mut self) -> IngestBatch {
        self.due = None;
        let input = self.batch.input.clone();
        std::mem::replace(
            &mut self.batch,
            IngestBatch {
                input,
                ..IngestBatch::default()
            },
        )
    }
}

/// Logs a recurring warning at most once per [`WARN_EVERY`], with the count since.
struct RateLimited {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    fn new() -> Self {
        RateLimited {
            last: None,
            suppressed: 0,
        }
    }

    /// Counts `n` and returns the total to report now, if a warning is due.
    fn hit(&mut self, n: u64) -> Option<u64> {
        self.suppressed += n;
        let due = self.last.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if !due {
            return None;
        }
        self.last = Some(Instant::now());
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Binds `addr` and receives syslog datagrams into the ingest queue.
pub async fn spawn_udp(
    addr: SocketAddr,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
) -> Result<Listener, ServeError> {
    let listen_err = |source| ServeError::Listen {
        addr: format!("syslog udp {addr}"),
        source,
    };
    let sock = UdpSocket::bind(addr).await.map_err(listen_err)?;
    let bound = sock.local_addr().map_err(listen_err)?;
    tracing::info!("syslog: listening on udp {bound}");
    let handle = tokio::spawn(udp_loop(sock, ingest, metrics, opts));
    Ok(Listener {
        addr: bound,
        handle,
    })
}

async fn udp_loop(sock: UdpSocket, ingest: Ingest, metrics: Arc<Metrics>, opts: SyslogOptions) {
    // The largest UDP payload: a datagram is never cut by the buffer.
    let mut buf = vec![0u8; 65_536];
    let mut pending = Pending::new(UDP_INPUT, Arc::from("syslog"), opts);
    let mut drops = RateLimited::new();
    let mut recv_errors = RateLimited::new();
    let batch_max = opts
        .batch_events
        .clamp(1, ingest.capacity().max(1) as usize);
    loop {
        let got = match pending.due {
            Some(due) => tokio::time::timeout_at(due, sock.recv_from(&mut buf)).await,
            None => Ok(sock.recv_from(&mut buf).await),
        };
        match got {
            Err(_elapsed) => {}
            Ok(Err(e)) => {
                if let Some(n) = recv_errors.hit(1) {
                    tracing::warn!("syslog udp: receive failed ({n} times since last said): {e}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Ok(Ok((n, peer))) => {
                pending.source = Arc::from(format!("syslog:{peer}"));
                let datagram = &buf[..n];
                if n > opts.max_message {
                    let why = format!(
                        "datagram of {n} bytes is over the limit of {} bytes",
                        opts.max_message
                    );
                    pending.reject(next_record(), why);
                } else {
                    pending.add(datagram);
                }
                if pending.len() < batch_max {
                    continue;
                }
            }
        }
        if pending.len() == 0 {
            pending.due = None;
            continue;
        }
        if !offer_udp(pending.take(), &ingest, &metrics, &mut drops) {
            tracing::info!("syslog udp: ingest closed, listener stops");
            return;
        }
    }
}

/// Offers a UDP batch without waiting; false when the ingest is closed.
fn offer_udp(
    batch: IngestBatch,
    ingest: &Ingest,
    metrics: &Arc<Metrics>,
    drops: &mut RateLimited,
) -> bool {
    let n = (batch.events.len() + batch.rejected.len()) as u64;
    let drop = |reason: &str| {
        metrics
            .events_rejected
            .get_or_create(&ReasonLabel {
                source: UDP_INPUT.into(),
                reason: reason.into(),
            })
            .inc_by(n);
    };
    match ingest.try_submit(batch) {
        Ok(done) => {
            // Nobody can be told of a failed commit over UDP: it is counted and logged.
            let metrics = metrics.clone();
            tokio::spawn(async move {
                if let Ok(Err(e)) = done.await {
                    metrics
                        .events_rejected
                        .get_or_create(&ReasonLabel {
                            source: UDP_INPUT.into(),
                            reason: "commit_failed".into(),
                        })
                        .inc_by(n);
                    tracing::warn!("syslog udp: {n} messages lost: {e}");
                }
            });
            true
        }
        Err(SubmitError::Closed) => false,
        Err(SubmitError::Full { .. }) => {
            drop("queue_full");
            if let Some(total) = drops.hit(n) {
                tracing::warn!(
                    "syslog udp: ingest queue full, {total} messages dropped since last said \
                     (UDP cannot wait; counted in vigie_events_rejected_total{{source=\"syslog-udp\",reason=\"queue_full\"}})"
                );
            }
            true
        }
        Err(e) => {
            drop("too_large");
            tracing::warn!("syslog udp: {n} messages dropped: {e}");
            true
        }
    }
}

/// Binds `addr` and takes syslog connections into the ingest queue.
pub async fn spawn_tcp(
    addr: SocketAddr,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
) -> Result<Listener, ServeError> {
    let listen_err = |source| ServeError::Listen {
        addr: format!("syslog tcp {addr}"),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(listen_err)?;
    let bound = listener.local_addr().map_err(listen_err)?;
    tracing::info!("syslog: listening on tcp {bound}");
    let handle = tokio::spawn(accept_loop(listener, ingest, metrics, opts));
    Ok(Listener {
        addr: bound,
        handle,
    })
}

async fn accept_loop(
    listener: TcpListener,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
) {
    // Owned here so aborting the listener ends its connections too.
    let mut conns = JoinSet::new();
    let mut errors = RateLimited::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!("syslog tcp: connection from {peer}");
                    conns.spawn(connection(stream, peer, ingest.clone(), metrics.clone(), opts));
                }
                Err(e) => {
                    // Out of descriptors and the like: wait rather than spin.
                    if let Some(n) = errors.hit(1) {
                        tracing::warn!("syslog tcp: accept failed ({n} times since last said): {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
) {
    let source: Arc<str> = Arc::from(format!("syslog:{peer}"));
    let mut pending = Pending::new(TCP_INPUT, source.clone(), opts);
    let mut framer = Framer::new(opts.max_message);
    let mut buf = vec![0u8; 64 << 10];
    let batch_max = opts
        .batch_events
        .clamp(1, ingest.capacity().max(1) as usize);
    loop {
        let got = match pending.due {
            Some(due) => tokio::time::timeout_at(due, stream.read(&mut buf)).await,
            None => Ok(stream.read(&mut buf).await),
        };
        let end = match got {
            Err(_elapsed) => false,
            Ok(Ok(0)) => true,
            Ok(Ok(n)) => {
                framer.push(&buf[..n], &mut |frame| match frame {
                    Ok(bytes) => pending.add(bytes),
                    Err(e) => pending.reject(next_record(), e.to_string()),
                });
                if pending.len() < batch_max && pending.due.is_some_and(|d| d > Instant::now()) {
                    continue;
                }
                false
            }
            Ok(Err(e)) => {
                tracing::debug!("{source}: read failed: {e}");
                true
            }
        };
        if end {
            framer.finish(&mut |frame| match frame {
                Ok(bytes) => pending.add(bytes),
                Err(e) => pending.reject(next_record(), e.to_string()),
            });
        }
        while pending.len() > 0 {
            let mut batch = pending.take();
            // What one read brought may exceed a batch: the rest goes next.
            if batch.events.len() > batch_max {
                pending.batch.events = batch.events.split_off(batch_max);
            }
            if !submit_tcp(batch, &ingest, &metrics, &source).await {
                return;
            }
        }
        if end {
            tracing::debug!("{source}: connection closed");
            return;
        }
    }
}

/// Submits a TCP batch, waiting for room and for the commit; retries a failed commit.
/// False when the ingest is closed.
async fn submit_tcp(
    batch: IngestBatch,
    ingest: &Ingest,
    metrics: &Arc<Metrics>,
    source: &str,
) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        match ingest.submit(batch.clone()).await {
            Ok(_) => return true,
            Err(SubmitError::Closed) => return false,
            Err(SubmitError::Commit(e)) => {
                tracing::warn!("{source}: commit failed, retrying in {backoff:?}: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            // Not expected (batches are cut to the queue's size); never silent.
            Err(e) => {
                let n = (batch.events.len() + batch.rejected.len()) as u64;
                metrics
                    .events_rejected
                    .get_or_create(&ReasonLabel {
                        source: TCP_INPUT.into(),
                        reason: "too_large".into(),
                    })
                    .inc_by(n);
                tracing::warn!("{source}: {n} messages dropped: {e}");
                return true;
            }
        }
    }
}
