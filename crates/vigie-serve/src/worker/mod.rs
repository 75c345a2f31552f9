//! `vigie serve --worker`: several processes consume ONE JetStream stream and together
//! give the detections and incidents a single node gives. The scheme (`docs/scale-out.md`
//! has it with diagrams and the failure cases):
//!
//! - **Detection is stateless per event.** Every worker pulls batches from the one
//!   durable consumer of the events stream (JetStream hands each message to one of
//!   them) and matches them with the session's matching half
//!   ([`vigie_hunt::SessionWorker`]) — [`events`].
//! - **Correlation is partitioned.** A correlation input goes to partition subject
//!   `<base>.corr.<p>`, `p` = a stable hash of `RuleSet::correlation_partition` (the
//!   correlation and its group-by values; a family of correlations sharing inputs or
//!   chained together stays whole) modulo `partitions`, with `Nats-Msg-Id` = rule key +
//!   event key. Each worker also sends every partition a tick with its batch's newest
//!   time, so a partition's watermark follows the stream's as a single node's does.
//!   One worker at a time owns a partition (a lease, [`lease`]) and feeds it, in stream
//!   order, to the session's correlating half in `Watermark` order — [`partition`].
//! - **Incident grouping runs on one elected worker** (the `incidents` lease): it
//!   consumes every detection (`<base>.det`, keyed) and hands the new ones to the
//!   [`leader::IncidentSink`]: live incidents and the store — [`leader`].
//! - **Failure**: every publish is keyed and every write idempotent, and a message is
//!   acked (or a partition position saved) only after what it caused is durable. A
//!   worker killed anywhere leaves unacked messages (redelivered to the others after
//!   `ack_wait`) and leases that expire after `lease_ttl`; a new partition owner
//!   rebuilds the state by replaying the partition's retained messages up to the saved
//!   position, a new leader starts from what the sink holds.

pub mod events;
pub mod leader;
pub mod lease;
pub mod partition;
pub mod sink;
pub mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vigie_hunt::{Found, SessionOptions};
use vigie_sigma::RuleSet;

use crate::config::NatsConfig;
use crate::ingest::nats::{self as input, DUPLICATE_WINDOW};
use crate::ingest::RawEvent;
use crate::ServeError;
use leader::IncidentSink;
use lease::Lease;
use wire::{det_key, DetMessage, RuleIndex};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The events stream, its subject and the shared durable consumer.
    pub nats: NatsConfig,
    /// Correlation partitions (all workers must agree; 16 by default).
    pub partitions: u32,
    /// A lease lasts this long without renewal (10 s): how soon a dead worker's
    /// partitions and leadership are taken over.
    pub lease_ttl: Duration,
    /// Most events per fetched batch.
    pub batch: usize,
    /// The allowed lateness of the correlation watermark (as a single node's).
    pub lateness: TimeDelta,
    /// How long partition messages are kept (replayed by a new owner): at least the
    /// correlation horizon plus the lateness (`RuleSet::correlation_horizon`).
    pub corr_max_age: Duration,
    /// This worker's name in leases and logs (default: host, process id, random).
    pub id: Option<String>,
}

impl WorkerOptions {
    pub fn new(nats: NatsConfig) -> WorkerOptions {
        WorkerOptions {
            nats,
            partitions: 16,
            lease_ttl: Duration::from_secs(10),
            batch: 200,
            lateness: TimeDelta::seconds(30),
            corr_max_age: Duration::from_secs(7 * 86_400),
            id: None,
        }
    }
}

/// Names derived from the events stream (so two deployments on one server differ).
#[derive(Debug, Clone)]
pub struct Names {
    pub corr_stream: String,
    base: String,
    pub det_stream: String,
    pub det_subject: String,
    pub leader_consumer: String,
    pub leases: String,
    pub state: String,
}

impl Names {
    pub fn new(stream: &str) -> Names {
        let base = stream.to_ascii_lowercase();
        Names {
            corr_stream: format!("{stream}_CORR"),
            det_stream: format!("{stream}_DET"),
            det_subject: format!("{base}.det"),
            leader_consumer: format!("{stream}_incidents"),
            leases: format!("{stream}_leases"),
            state: format!("{stream}_state"),
            base,
        }
    }

    pub fn corr_subject(&self, p: u32) -> String {
        format!("{}.corr.{p}", self.base)
    }
}

/// What a worker did (for logs, `/metrics` and the tests' split).
#[derive(Debug, Default)]
pub struct Counts {
    /// Events matched and acked by this worker (a redelivered event counts again).
    pub events: AtomicU64,
    pub rejected: AtomicU64,
    pub outside_window: AtomicU64,
    /// Partitions owned now.
    pub partitions: AtomicU64,
    pub leader: AtomicBool,
}

/// Everything a worker's tasks share.
pub struct Shared {
    pub id: String,
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub nats: NatsConfig,
    pub names: Names,
    pub rules: Arc<RuleSet>,
    pub options: Arc<SessionOptions>,
    pub index: RuleIndex,
    pub partitions: u32,
    pub lease_ttl: Duration,
    pub batch: usize,
    pub lateness: TimeDelta,
    pub leases: kv::Store,
    pub state: kv::Store,
    pub sink: OffRuntime<Arc<dyn IncidentSink>>,
    pub store: OffRuntime<Option<vigie_store::Store>>,
    /// The shared events consumer (partitions read its ack floor).
    pub events_consumer: jetstream::consumer::PullConsumer,
    pub counts: Counts,
    /// Every task of this worker, so [`Worker::kill`] can drop them all at once.
    tasks: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Shared {
    fn spawn(
        self: &Arc<Self>,
        f: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> JoinHandle<()> {
        let t = tokio::spawn(f);
        if let Ok(mut v) = self.tasks.lock() {
            v.retain(|h| !h.is_finished());
            v.push(t.abort_handle());
        }
        t
    }
}

/// Holds a value whose drop may block (the PostgreSQL client's does) and drops it on a
/// plain thread when dropped inside the async runtime, where blocking panics.
pub struct OffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffRuntime<T> {
    pub fn new(v: T) -> Self {
        OffRuntime(Some(v))
    }
}

impl<T: Send + 'static> std::ops::Deref for OffRuntime<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            Some(v) => v,
            // Only `drop` takes the value out.
            None => unreachable!("OffRuntime used after drop"),
        }
    }
}

impl<T: Send + 'static> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new()
                    .name("vigie-drop".into())
                    .spawn(move || drop(v));
            }
        }
    }
}

/// A running worker.
pub struct Worker {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Connects, creates what is missing (streams, buckets), and starts the event
    /// stage and the lease manager. `options` must be the processor's (its
    /// `correlation_order` is `Watermark`); `store` records the events (their keys, and
    /// documents that matched or feed a correlation).
    pub async fn start(
        opts: WorkerOptions,
        rules: Arc<RuleSet>,
        options: Arc<SessionOptions>,
        sink: Arc<dyn IncidentSink>,
        store: Option<vigie_store::Store>,
    ) -> Result<Worker, ServeError> {
        let (client, js) = input::connect(&opts.nats).await?;
        let names = Names::new(&opts.nats.stream);
        let events_stream =
            input::ensure_stream(&js, &opts.nats.stream, vec![opts.nats.subject.clone()]).await?;
        let events_consumer = input::ensure_consumer(
            &events_stream,
            &opts.nats.consumer,
            &opts.nats.subject,
            (8 * opts.batch.max(1)) as i64,
            Duration::from_secs(opts.nats.ack_wait_secs.max(1)),
        )
        .await?;
        create_stream(
            &js,
            &names.corr_stream,
            format!("{}.corr.*", names.base),
            opts.corr_max_age,
        )
        .await?;
        create_stream(
            &js,
            &names.det_stream,
            names.det_subject.clone(),
            Duration::ZERO,
        )
        .await?;
        let leases = lease::bucket(&js, &names.leases, opts.lease_ttl).await?;
        let state = lease::kv_bucket(&js, &names.state, Duration::ZERO).await?;
        let id = opts.id.clone().unwrap_or_else(default_id);
        let shared = Arc::new(Shared {
            id,
            client,
            js,
            index: RuleIndex::new(&rules),
            names,
            nats: opts.nats.clone(),
            rules,
            options,
            partitions: opts.partitions.max(1),
            lease_ttl: opts.lease_ttl,
            batch: opts.batch.max(1),
            lateness: opts.lateness,
            leases,
            state,
            sink: OffRuntime::new(sink),
            store: OffRuntime::new(store),
            events_consumer,
            counts: Counts::default(),
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let (sh, rx) = (shared.clone(), stop_rx.clone());
        tasks.push(shared.spawn(async move {
            if let Err(e) = events::run(sh, rx).await {
                tracing::error!(error = %e, "event stage stopped");
            }
        }));
        let sh = shared.clone();
        tasks.push(shared.spawn(async move { manage(sh, stop_rx).await }));
        tracing::info!(worker = %shared.id, partitions = shared.partitions, "worker started");
        Ok(Worker {
            shared,
            stop,
            tasks,
        })
    }

    pub fn id(&self) -> &str {
        &self.shared.id
    }

    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    /// Clean stop: the batch in flight finishes, leases are given up; whatever is still
    /// running after 10 s (NATS unreachable: its requests time out) is dropped, which
    /// is safe for the same reasons a kill is.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .is_err()
        {
            tracing::warn!(worker = %self.shared.id, "worker stop timed out; dropping its tasks");
            if let Ok(v) = self.shared.tasks.lock() {
                for t in v.iter() {
                    t.abort();
                }
            }
        }
    }

    /// Like a crash: every task dropped where it stands, leases left to expire, the
    /// connection closed with messages unacked.
    pub fn kill(self) {
        if let Ok(v) = self.shared.tasks.lock() {
            for t in v.iter() {
                t.abort();
            }
        }
        // The connection closes when the last task holding `shared` is gone.
    }
}

/// The worker of `vigie serve --worker`: options from the config (`[nats]`, the
/// correlation lateness), the processor's session options, the store as the shared
/// state, [`sink::StoreSink`] as the leader's end.
pub async fn start_for_server(
    state: &crate::state::AppState,
    engines: crate::pipeline::Engines,
) -> Result<Worker, ServeError> {
    start_with(
        &state.config,
        engines,
        state.store.clone(),
        state.changes.clone(),
        None,
    )
    .await
}

/// [`start_for_server`] from its parts (tests run several workers in one process);
/// `id` names the worker (default: host, process id, random).
pub async fn start_with(
    config: &crate::config::Config,
    engines: crate::pipeline::Engines,
    store: vigie_store::Store,
    changes: tokio::sync::broadcast::Sender<crate::state::LiveChange>,
    id: Option<String>,
) -> Result<Worker, ServeError> {
    let nats = config.nats.clone().ok_or_else(|| {
        ServeError::Option("--worker needs a NATS JetStream stream: set [nats] url".into())
    })?;
    let mut opts = WorkerOptions::new(nats);
    opts.id = id;
    opts.lease_ttl = Duration::from_millis(opts.nats.lease_ms.max(300));
    opts.partitions = opts.nats.partitions.max(1);
    opts.lateness = config.allowed_lateness()?;
    opts.batch = (config.ingest.max_batch_events as usize).clamp(1, 1000);
    let horizon = engines.rules.correlation_horizon() + opts.lateness;
    let horizon = horizon.to_std().unwrap_or_default();
    // Partition messages are replayed by a new owner: keep them well past any window.
    opts.corr_max_age = (horizon * 4).max(Duration::from_secs(86_400));
    let engines = Arc::new(engines);
    let options = Arc::new(SessionOptions {
        correlation_order: vigie_hunt::CorrelationOrder::Watermark {
            lateness: opts.lateness,
        },
        capture: Some(engines.mapping.capture()),
        extra: engines.extra(),
        ..SessionOptions::default()
    });
    let group = vigie_incident::GroupOptions {
        window: config.incident_window()?,
        max_assets_per_entity: config.incidents.max_assets_per_entity,
        ..Default::default()
    };
    let sink = {
        let (e, store, changes) = (engines.clone(), store.clone(), changes);
        tokio::task::spawn_blocking(move || sink::StoreSink::new(e, store, group, changes))
            .await
            .map_err(|e| ServeError::Option(format!("worker: {e}")))??
    };
    Worker::start(
        opts,
        engines.rules.clone(),
        options,
        Arc::new(sink),
        Some(store),
    )
    .await
}

fn default_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

async fn create_stream(
    js: &jetstream::Context,
    name: &str,
    subject: String,
    max_age: Duration,
) -> Result<(), ServeError> {
    js.get_or_create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![subject],
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW.min(if max_age.is_zero() {
            DUPLICATE_WINDOW
        } else {
            max_age
        }),
        max_age,
        ..Default::default()
    })
    .await
    .map_err(|e| ServeError::Nats(format!("stream {name}: {e}")))?;
    Ok(())
}

/// Publishes detections to the leader, keyed; returns once JetStream has them.
pub async fn publish_detections(sh: &Shared, dets: &[DetMessage]) -> Result<(), ServeError> {
    let mut acks = Vec::with_capacity(dets.len());
    for d in dets {
        let payload = serde_json::to_vec(d).map_err(|e| ServeError::Nats(e.to_string()))?;
        let p = jetstream::context::Publish::build()
            .payload(payload.into())
            .message_id(det_key(d));
        acks.push(
            sh.js
                .send_publish(sh.names.det_subject.clone(), p)
                .await
                .map_err(|e| ServeError::Nats(format!("publish detection: {e}")))?,
        );
    }
    for a in acks {
        a.await
            .map_err(|e| ServeError::Nats(format!("detection ack: {e}")))?;
    }
    Ok(())
}

/// Records a batch's events in the store (keys always; documents of those that matched
/// or feed a correlation), in one transaction.
pub async fn record_events<'a>(
    sh: &Shared,
    events: impl Iterator<Item = (&'a RawEvent, &'a String, Option<DateTime<Utc>>, &'a Found)>,
) -> Result<(), ServeError> {
    let Some(store) = (*sh.store).clone() else {
        return Ok(());
    };
    let input = format!("nats:{}", sh.nats.subject);
    let now = Utc::now();
    let batch = vigie_store::CommitBatch {
        events: events
            .map(|(r, key, time, found)| {
                let keep = !found.detections.is_empty() || !found.observations.is_empty();
                vigie_store::NewEvent {
                    key: key.clone(),
                    input: input.clone(),
                    source: r.source.to_string(),
                    record: r.record,
                    time,
                    received_at: now,
                    document: keep.then(|| r.document.to_value().into_owned()),
                    feeds_correlation: !found.observations.is_empty(),
                }
            })
            .collect(),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || store.commit(&batch))
        .await
        .map_err(|e| ServeError::Nats(format!("commit: {e}")))??;
    Ok(())
}

/// A partition or leader task this worker runs, and how to stop it.
struct Held {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Takes and gives up leases: this worker's fair share of partitions (by the workers
/// registered now), and leadership when nobody holds it.
async fn manage(sh: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let me = format!("worker.{}", sh.id.replace(['.', ' ', '*', '>'], "_"));
    let mut registration: Option<Lease> = None;
    let mut held: HashMap<u32, Held> = HashMap::new();
    let mut leading: Option<Held> = None;
    // Start the scan at a worker-dependent partition, so workers starting together do
    // not all race for partition 0 first.
    let offset = wire::partition_of(&sh.id, sh.partitions);
    let tick = sh.lease_ttl / 3;
    loop {
        held.retain(|_, h| !h.task.is_finished());
        if leading.as_ref().is_some_and(|h| h.task.is_finished()) {
            leading = None;
            sh.counts.leader.store(false, Ordering::Relaxed);
        }
        match registration.as_mut() {
            Some(l) => {
                if !l.renew(&sh.leases).await {
                    registration = None;
                }
            }
            None => {
                registration = Lease::try_take(&sh.leases, &me, &sh.id, sh.lease_ttl)
                    .await
                    .ok()
                    .flatten()
            }
        }
        let workers = live_workers(&sh.leases).await.max(1);
        let share = sh.partitions.div_ceil(workers) as usize;
        for i in 0..sh.partitions {
            if held.len() >= share {
                break;
            }
            let p = (offset + i) % sh.partitions;
            if held.contains_key(&p) {
                continue;
            }
            if let Ok(Some(lease)) =
                Lease::try_take(&sh.leases, &format!("corr.{p}"), &sh.id, sh.lease_ttl).await
            {
                held.insert(p, spawn_partition(sh.clone(), p, lease));
            }
        }
        // More than our share (a worker joined): give one back per round.
        if held.len() > share {
            if let Some(p) = held.keys().copied().max() {
                if let Some(h) = held.remove(&p) {
                    let _ = h.stop.send(true);
                    let _ = h.task.await;
                }
            }
        }
        sh.counts
            .partitions
            .store(held.len() as u64, Ordering::Relaxed);
        if leading.is_none() {
            if let Ok(Some(lease)) =
                Lease::try_take(&sh.leases, "incidents", &sh.id, sh.lease_ttl).await
            {
                sh.counts.leader.store(true, Ordering::Relaxed);
                leading = Some(spawn_leader(sh.clone(), lease));
            }
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(tick) => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    // Every task told first, then awaited: they give their leases up side by side.
    let mut tasks: Vec<Held> = held.into_values().collect();
    tasks.extend(leading);
    for h in &tasks {
        let _ = h.stop.send(true);
    }
    for h in tasks {
        let _ = h.task.await;
    }
    if let Some(l) = registration {
        l.release(&sh.leases).await;
    }
}

async fn live_workers(leases: &kv::Store) -> u32 {
    let Ok(mut keys) = leases.keys().await else {
        return 1;
    };
    let mut n = 0;
    while let Some(k) = keys.next().await {
        if k.is_ok_and(|k| k.starts_with("worker.")) {
            n += 1;
        }
    }
    n
}

fn spawn_partition(sh: Arc<Shared>, p: u32, mut lease: Lease) -> Held {
    let (stop, rx) = watch::channel(false);
    let task = sh.clone().spawn(async move {
        if let Err(e) = partition::run(&sh, p, &mut lease, &rx).await {
            tracing::warn!(partition = p, error = %e, "partition stopped");
        }
        lease.release(&sh.leases).await;
    });
    Held { stop, task }
}

fn spawn_leader(sh: Arc<Shared>, mut lease: Lease) -> Held {
    let (stop, rx) = watch::channel(false);
    let task = sh.clone().spawn(async move {
        if let Err(e) = leader::run(&sh, &mut lease, &rx).await {
            tracing::warn!(error = %e, "incident leader stopped");
        }
        lease.release(&sh.leases).await;
    });
    Held { stop, task }
}
