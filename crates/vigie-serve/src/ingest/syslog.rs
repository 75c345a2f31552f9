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
//! the epoch, bumped past the last one given), also written into the document as
//! `received_at`. Syslog batches carry no position (nothing can be replayed), so the
//! processor keys their events by content; `received_at` makes two identical lines two
//! events, while a batch retried after a failed commit is still the same events.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Offset, SecondsFormat, Utc};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
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
    /// Aborting it stops the listener (and, for TCP, its connections) at once.
    pub handle: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Listener {
    /// Stops taking messages: what was received is submitted (TCP: waiting for the
    /// commits), then the task ends; after `grace` it is aborted.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let abort = self.handle.abort_handle();
        if tokio::time::timeout(grace, self.handle).await.is_err() {
            tracing::warn!(
                "syslog listener {}: not done after {grace:?}, aborted",
                self.addr
            );
            abort.abort();
        }
    }
}

/// Resolves once `true` has been sent (never, if the sender is gone without sending it:
/// dropping a [`Listener`] leaves it running, as dropping a task's handle does).
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The listeners the configuration names.
#[derive(Debug, Default)]
pub struct Listeners {
    pub udp: Option<Listener>,
    pub tcp: Option<Listener>,
}

impl Listeners {
    /// [`Listener::shutdown`] of each.
    pub async fn shutdown(self, grace: Duration) {
        for l in [self.udp, self.tcp].into_iter().flatten() {
            l.shutdown(grace).await;
        }
    }
}

/// Starts the listeners the configuration names (none when it names none).
pub async fn spawn(
    config: &SyslogConfig,
    ingest: Ingest,
    metrics: Arc<Metrics>,
) -> Result<Listeners, ServeError> {
    let opts = SyslogOptions::default();
    let mut out = Listeners::default();
    if let Some(addr) = config.udp {
        out.udp = Some(spawn_udp(addr, ingest.clone(), metrics.clone(), opts).await?);
    }
    if let Some(addr) = config.tcp {
        match spawn_tcp(addr, ingest, metrics, opts).await {
            Ok(l) => out.tcp = Some(l),
            Err(e) => {
                // Not left running behind a failed start.
                if let Some(udp) = out.udp {
                    udp.handle.abort();
                }
                return Err(e);
            }
        }
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

/// `received_at`: the record number as the RFC 3339 time it is (nanoseconds). It makes
/// each received message's document unique, so two identical messages (a repeated
/// RFC 3164 line within one second) are two events, not one and a duplicate.
fn received_at(record: u64) -> String {
    DateTime::from_timestamp_nanos(record as i64).to_rfc3339_opts(SecondsFormat::Nanos, true)
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
            zone: self.opts.offset.into(),
        };
        let record = next_record();
        match parse(bytes, &popts) {
            Ok(m) => {
                let mut document = m.to_document();
                if let Value::Object(o) = &mut document {
                    o.insert("received_at".into(), received_at(record).into());
                }
                self.batch.events.push(RawEvent {
                    document: document.into(),
                    source: self.source.clone(),
                    record,
                });
            }
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

/// Counts what a durable batch rejected (`vigie_events_rejected_total{source=<input>,
/// reason="unreadable"}`) and says so at warn, rate-limited by `warn`.
pub(crate) fn count_rejected(
    metrics: &Metrics,
    input: &str,
    outcome: &super::IngestOutcome,
    warn: &mut RateLimited,
) {
    let n = outcome.rejected.len() as u64;
    if n == 0 {
        return;
    }
    metrics
        .events_rejected
        .get_or_create(&ReasonLabel {
            source: input.to_owned(),
            reason: "unreadable".into(),
        })
        .inc_by(n);
    if let (Some(total), Some(first)) = (warn.hit(n), outcome.rejected.first()) {
        tracing::warn!(
            "{input}: {total} messages rejected since last said (e.g. {} {}: {})",
            if input.starts_with("file:") {
                "line"
            } else {
                "record"
            },
            first.line,
            first.reason
        );
    }
}

/// Logs a recurring warning at most once per [`WARN_EVERY`], with the count since.
pub(crate) struct RateLimited {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    pub(crate) fn new() -> Self {
        RateLimited {
            last: None,
            suppressed: 0,
        }
    }

    /// Counts `n` and returns the total to report now, if a warning is due.
    pub(crate) fn hit(&mut self, n: u64) -> Option<u64> {
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
    let sock = bound_or(UdpSocket::bind(addr).await, "udp", addr)?;
    let bound = bound_or(sock.local_addr(), "udp", addr)?;
    listener(bound, "udp", |stop| {
        udp_loop(sock, ingest, metrics, opts, stop)
    })
}

async fn udp_loop(
    sock: UdpSocket,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
    mut stop: watch::Receiver<bool>,
) {
    // The largest UDP payload: a datagram is never cut by the buffer.
    let mut buf = vec![0u8; 65_536];
    let mut pending = Pending::new(UDP_INPUT, Arc::from("syslog"), opts);
    let mut drops = RateLimited::new();
    let rejects = Arc::new(std::sync::Mutex::new(RateLimited::new()));
    let mut recv_errors = RateLimited::new();
    let batch_max = opts
        .batch_events
        .clamp(1, ingest.capacity().max(1) as usize);
    loop {
        let got = tokio::select! {
            biased;
            _ = stopped(&mut stop) => {
                if pending.len() > 0 {
                    offer_udp(pending.take(), &ingest, &metrics, &mut drops, &rejects);
                }
                tracing::info!("syslog udp: stopped");
                return;
            }
            got = recv_until(&sock, &mut buf, pending.due) => got,
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
        if !offer_udp(pending.take(), &ingest, &metrics, &mut drops, &rejects) {
            tracing::info!("syslog udp: ingest closed, listener stops");
            return;
        }
    }
}

/// The next datagram, or `Err` at `due`.
async fn recv_until(
    sock: &UdpSocket,
    buf: &mut [u8],
    due: Option<Instant>,
) -> Result<std::io::Result<(usize, SocketAddr)>, tokio::time::error::Elapsed> {
    match due {
        Some(due) => tokio::time::timeout_at(due, sock.recv_from(buf)).await,
        None => Ok(sock.recv_from(buf).await),
    }
}

/// Offers a UDP batch without waiting; false when the ingest is closed.
fn offer_udp(
    batch: IngestBatch,
    ingest: &Ingest,
    metrics: &Arc<Metrics>,
    drops: &mut RateLimited,
    rejects: &Arc<std::sync::Mutex<RateLimited>>,
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
            let rejects = rejects.clone();
            tokio::spawn(async move {
                match done.await {
                    Ok(Ok(outcome)) => {
                        let mut w = rejects.lock().unwrap_or_else(|p| p.into_inner());
                        count_rejected(&metrics, UDP_INPUT, &outcome, &mut w);
                    }
                    Ok(Err(e)) => {
                        metrics
                            .events_rejected
                            .get_or_create(&ReasonLabel {
                                source: UDP_INPUT.into(),
                                reason: "commit_failed".into(),
                            })
                            .inc_by(n);
                        tracing::warn!("syslog udp: {n} messages lost: {e}");
                    }
                    // Shutting down: the processor ended with what it held.
                    Err(_) => {}
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
    let sock = bound_or(TcpListener::bind(addr).await, "tcp", addr)?;
    let bound = bound_or(sock.local_addr(), "tcp", addr)?;
    listener(bound, "tcp", |stop| {
        accept_loop(sock, ingest, metrics, opts, stop)
    })
}

/// A bind step's result, its error naming the listener.
fn bound_or<T>(r: std::io::Result<T>, proto: &str, addr: SocketAddr) -> Result<T, ServeError> {
    r.map_err(|source| ServeError::Listen {
        addr: format!("syslog {proto} {addr}"),
        source,
    })
}

/// Starts the receive loop `run` (given its stop signal) for a listener bound at `bound`.
fn listener<F>(
    bound: SocketAddr,
    proto: &str,
    run: impl FnOnce(watch::Receiver<bool>) -> F,
) -> Result<Listener, ServeError>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    tracing::info!("syslog: listening on {proto} {bound}");
    let (stop, stop_rx) = watch::channel(false);
    Ok(Listener {
        addr: bound,
        handle: tokio::spawn(run(stop_rx)),
        stop,
    })
}

async fn accept_loop(
    listener: TcpListener,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
    mut stop: watch::Receiver<bool>,
) {
    // Owned here so aborting the listener ends its connections too.
    let mut conns = JoinSet::new();
    let mut errors = RateLimited::new();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => {
                // Each connection submits what it holds and ends.
                while conns.join_next().await.is_some() {}
                tracing::info!("syslog tcp: stopped");
                return;
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!("syslog tcp: connection from {peer}");
                    let conn = connection(stream, peer, ingest.clone(), metrics.clone(), opts);
                    conns.spawn(conn(stop.clone()));
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

/// One connection's task, waiting for its stop signal.
fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
) -> impl FnOnce(watch::Receiver<bool>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
{
    move |stop| Box::pin(read_connection(stream, peer, ingest, metrics, opts, stop))
}

async fn read_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: SyslogOptions,
    mut stop: watch::Receiver<bool>,
) {
    let source: Arc<str> = Arc::from(format!("syslog:{peer}"));
    let mut pending = Pending::new(TCP_INPUT, source.clone(), opts);
    let mut framer = Framer::new(opts.max_message);
    let mut buf = vec![0u8; 64 << 10];
    let batch_max = opts
        .batch_events
        .clamp(1, ingest.capacity().max(1) as usize);
    let mut rejects = RateLimited::new();
    let mut stopping = false;
    loop {
        let got = tokio::select! {
            biased;
            _ = stopped(&mut stop), if !stopping => {
                // What arrived is submitted; an unfinished frame is not a message.
                stopping = true;
                Err(None)
            }
            got = read_until(&mut stream, &mut buf, pending.due) => got.map_err(Some),
        };
        let end = match got {
            Err(None) => true,
            Err(Some(_elapsed)) => false,
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
        if end && !stopping {
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
            if !submit_tcp(batch, &ingest, &metrics, &source, &mut rejects).await {
                return;
            }
        }
        if end {
            tracing::debug!("{source}: connection closed");
            return;
        }
    }
}

/// The next read, or `Err` at `due`.
async fn read_until(
    stream: &mut TcpStream,
    buf: &mut [u8],
    due: Option<Instant>,
) -> Result<std::io::Result<usize>, tokio::time::error::Elapsed> {
    match due {
        Some(due) => tokio::time::timeout_at(due, stream.read(buf)).await,
        None => Ok(stream.read(buf).await),
    }
}

/// Submits a TCP batch, waiting for room and for the commit; retries a failed commit.
/// False when the ingest is closed.
async fn submit_tcp(
    batch: IngestBatch,
    ingest: &Ingest,
    metrics: &Arc<Metrics>,
    source: &str,
    rejects: &mut RateLimited,
) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        match ingest.submit(batch.clone()).await {
            Ok(outcome) => {
                count_rejected(metrics, TCP_INPUT, &outcome, rejects);
                return true;
            }
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
