//! The processor: takes queued batches, computes event keys, drops duplicates, runs the
//! one detection session (correlation in event time behind a watermark), updates live
//! incidents, and commits everything of a group of batches in one store transaction
//! before answering each batch.
//!
//! One std thread ([`spawn`]) owns the [`DetectionSession`] and the [`Live`] incidents.
//! Each turn takes every queued batch up to `ingest.max_batch_events` events (group
//! commit: one transaction, one fsync, for all of them), and for each event:
//! 1. its key ([`keys`]: computed by the source when it can, as HTTP does on its
//!    decoding thread); a key seen earlier in the group, in a group still being
//!    committed, or already stored (`Store::known_events`) is a duplicate: counted,
//!    not processed again;
//! 2. `Event::new` and the session (capture on, as `vigie respond`); the event's
//!    detections become `NewDetection`s (keys and ids in [`keys`]) observed on the model
//!    (entities, assets) and grouped live;
//! 3. the event is kept per `events` (`matched`: when a detection matched it or it feeds
//!    a correlation; `all`), flagged `feeds_correlation` when its inputs were fed or wait
//!    behind the watermark; events that left every correlation window (older than the
//!    watermark by more than the rules' correlation horizon) are listed expired.
//!
//! The group's events, detections, incident changes, input positions and the
//! watermark's newest time (position `vigie:watermark`) go in one `Store::commit`, run
//! by the committer thread ([`commit`]) while this thread detects the next group;
//! only then is each batch answered. On a commit error every batch of the group, and
//! of any group detected after it, is answered `SubmitError::Commit`, and once the
//! committer is drained the in-memory state is rebuilt from the store (what the store
//! holds is the truth). The same rebuild runs at start and on reload: replay
//! `Store::correlation_events` (time order) into a fresh session, restore the newest
//! time, regroup `Store::live_detections`; hits the replay yields were committed with
//! their events and are dropped.

mod commit;
pub mod failpoints;
pub mod keys;
mod load;

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use vigie_event::Event;
use vigie_hunt::{CorrelationOrder, DetectionSession, SessionOptions};
use vigie_store::{CommitBatch, InputPosition, NewDetection, NewEvent, Store};

pub use load::{Defaults, Engines};

use crate::config::KeepEvents;
use crate::ingest::Job;
use crate::live::{decider, Live, Regrouped};
use crate::state::{AdminRequest, AppState};
use crate::ServeError;

/// The input position that carries the watermark's newest event time.
pub const WATERMARK_INPUT: &str = "vigie:watermark";

/// What the processor receives.
pub enum Msg {
    Job(Job),
    Admin(AdminRequest),
    /// Stop taking input: drain what is queued, commit, checkpoint, end.
    Shutdown,
}

/// How a serving turn ended.
enum Exit {
    Shutdown,
    /// Reload: new engines loaded (or the reason they could not be), reply owed.
    Reload(
        tokio::sync::oneshot::Sender<Result<Value, String>>,
        Box<Engines>,
    ),
    /// The store and memory disagree (a failed commit): rebuild from the store.
    Rebuild,
}

/// Starts the processor thread (it restores state from the store first, then sets
/// `state.ready`). It returns after a `Shutdown` once drained and checkpointed.
pub fn spawn(
    state: AppState,
    engines: Engines,
    defaults: Defaults,
    rx: mpsc::Receiver<Msg>,
) -> Result<JoinHandle<Result<(), ServeError>>, ServeError> {
    let config = state.config.clone();
    let (decide_tx, decider) = decider::spawn(
        state.store.clone(),
        state.changes.clone(),
        config.incident_window()?,
        config.incidents.max_assets_per_entity,
    )?;
    let (commit_tx, commit_shared, committer) = commit::spawn(state.clone(), decide_tx.clone())?;
    let p = Processor {
        commit_tx,
        commit_shared,
        group_no: 0,
        inflight: VecDeque::new(),
        inflight_keys: HashSet::new(),
        lateness: config.allowed_lateness()?,
        group: vigie_incident::GroupOptions {
            window: config.incident_window()?,
            max_assets_per_entity: config.incidents.max_assets_per_entity,
            ..Default::default()
        },
        state,
        rx,
        decide_tx,
        defaults,
        pending: VecDeque::new(),
        paused: false,
        shutting_down: false,
        tracked: BTreeSet::new(),
    };
    let h = std::thread::Builder::new()
        .name("vigie-processor".into())
        .spawn(move || {
            let r = p.run(engines);
            // The committer ends once the processor's sender is gone (dropped by run),
            // after what it holds; the decider once both its senders are.
            let _ = committer.join();
            let _ = decider.join();
            r
        })?;
    Ok(h)
}

struct Processor {
    state: AppState,
    /// The committer (see [`commit`]): detected groups go there to be written.
    commit_tx: mpsc::SyncSender<commit::Msg>,
    commit_shared: Arc<commit::Shared>,
    /// The last group number sent to the committer.
    group_no: u64,
    /// Keys of the groups sent and not yet finished (by group number): known events.
    inflight: VecDeque<(u64, Vec<String>)>,
    inflight_keys: HashSet<String>,
    rx: mpsc::Receiver<Msg>,
    decide_tx: mpsc::Sender<decider::Request>,
    defaults: Defaults,
    lateness: TimeDelta,
    group: vigie_incident::GroupOptions,
    /// Jobs taken while the committer is paused (they keep their queue room).
    pending: VecDeque<Job>,
    paused: bool,
    shutting_down: bool,
    /// (time, key) of stored events that feed correlations, until they expire.
    tracked: BTreeSet<(DateTime<Utc>, String)>,
}

/// One event of a group, once keyed.
struct Keyed {
    job: usize,
    key: String,
    duplicate: bool,
}

impl Processor {
    fn run(mut self, engines: Engines) -> Result<(), ServeError> {
        let mut engines = Arc::new(engines);
        let mut reply: Option<tokio::sync::oneshot::Sender<Result<Value, String>>> = None;
        loop {
            let rules = engines.rules.clone();
            let opts = SessionOptions {
                correlation_order: CorrelationOrder::Watermark {
                    lateness: self.lateness,
                },
                capture: Some(engines.mapping.capture()),
                extra: engines.extra(),
                ..SessionOptions::default()
            };
            let mut session = DetectionSession::new(&rules, &opts);
            let mut live = Live::new(self.group.clone());
            let restored = self.restore(&engines, &mut session, &mut live, reply.is_some());
            if let Some(r) = reply.take() {
                let _ = r.send(match &restored {
                    Ok(()) => Ok(json!({
                        "rules": engines.rules.digest(),
                        "model": engines.model_digest,
                        "intel": engines.intel_summary,
                        "live_detections": live.len(),
                    })),
                    Err(e) => Err(e.to_string()),
                });
            }
            restored?;
            // The TAXII incidents feed observes stored detections on these engines.
            self.state.taxii.set_engines(engines.clone());
            self.state.ready.store(true, Ordering::SeqCst);
            match self.serve(&engines, &mut session, &mut live) {
                Exit::Shutdown => {
                    self.state.store.checkpoint()?;
                    tracing::info!("processor: drained and checkpointed");
                    return Ok(());
                }
                Exit::Reload(r, new) => {
                    let loaded = new.loaded(0.0);
                    match self.state.loaded.write() {
                        Ok(mut g) => *g = Arc::new(loaded),
                        Err(p) => *p.into_inner() = Arc::new(loaded),
                    }
                    engines = Arc::new(*new);
                    reply = Some(r);
                }
                Exit::Rebuild => {}
            }
        }
    }

    /// Rebuilds correlation state and live incidents from the store.
    fn restore(
        &mut self,
        e: &Arc<Engines>,
        session: &mut DetectionSession<'_>,
        live: &mut Live,
        reloading: bool,
    ) -> Result<(), ServeError> {
        let t = Instant::now();
        let store = &self.state.store;
        let mut events = store.correlation_events()?;
        events.sort_by_key(|ev| ev.time);
        let mut dropped = Vec::new();
        self.tracked.clear();
        self.inflight.clear();
        self.inflight_keys.clear();
        for ev in events {
            let (Some(time), Some(doc)) = (ev.time, ev.document) else {
                continue;
            };
            let event = Event::new(Arc::from(ev.source.as_str()), ev.record, doc);
            session.push_counted(&event, &mut dropped);
            self.tracked.insert((time, ev.key));
        }
        let newest = store
            .positions()?
            .into_iter()
            .find(|p| p.input == WATERMARK_INPUT)
            .and_then(|p| DateTime::parse_from_rfc3339(&p.position).ok())
            .map(|t| t.with_timezone(&Utc));
        session.advance_to(newest, &mut dropped);
        let replayed = self.tracked.len();
        let mut skipped = 0u64;
        for row in store.live_detections()? {
            match crate::live::observed_from_row(&row, e) {
                Some(o) => live.restore(row.id, o, row.incident_id),
                None => skipped += 1,
            }
        }
        for id in live.incident_ids() {
            if let Some(d) = store.incident(&id)?.and_then(|r| r.decision) {
                live.restore_decided(id, d.compromised);
            }
        }
        let r = live.regroup(e, reloading);
        tracing::info!(
            correlation_events = replayed,
            live_detections = live.len(),
            skipped_rule_gone = skipped,
            incidents_changed = r.upserts.len(),
            seconds = t.elapsed().as_secs_f64(),
            "state restored from the store"
        );
        if !r.upserts.is_empty() {
            let batch = CommitBatch {
                incidents: r.upserts.clone(),
                ..CommitBatch::default()
            };
            let out = store.commit(&batch)?;
            commit::announce(&self.state, &r, &out, 0);
        }
        commit::send_decisions(&self.decide_tx, e, r);
        let c = store.counts()?;
        self.state
            .metrics
            .incidents_open
            .set(c.incidents_open as i64);
        Ok(())
    }

    /// Serves until shutdown, reload or a failed commit.
    fn serve(
        &mut self,
        e: &Arc<Engines>,
        session: &mut DetectionSession<'_>,
        live: &mut Live,
    ) -> Exit {
        let max = self.state.config.ingest.max_batch_events.max(1) as usize;
        loop {
            let mut group: Vec<Job> = Vec::new();
            let mut events = 0usize;
            if !self.paused {
                while let Some(j) = self.pending.pop_front() {
                    events += j.batch.events.len();
                    group.push(j);
                    if events >= max {
                        break;
                    }
                }
            }
            // Wait for the first message only when there is nothing to do.
            let mut wait = group.is_empty();
            while events < max {
                let msg = if wait {
                    wait = false;
                    let timeout = if self.shutting_down {
                        Duration::from_millis(20)
                    } else {
                        Duration::from_millis(500)
                    };
                    match self.rx.recv_timeout(timeout) {
                        Ok(m) => m,
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            self.shutting_down = true;
                            break;
                        }
                    }
                } else {
                    match self.rx.try_recv() {
                        Ok(m) => m,
                        Err(_) => break,
                    }
                };
                match msg {
                    Msg::Job(j) if self.paused => self.pending.push_back(j),
                    Msg::Job(j) => {
                        events += j.batch.events.len();
                        group.push(j);
                    }
                    Msg::Shutdown => {
                        // Draining includes what a paused committer holds.
                        self.shutting_down = true;
                        self.paused = false;
                    }
                    Msg::Admin(AdminRequest::PauseCommitter(p)) => {
                        tracing::info!(paused = p, "committer");
                        self.paused = p;
                    }
                    Msg::Admin(AdminRequest::Reload(reply)) => {
                        // What was taken is committed on the old rules first.
                        let sent =
                            group.is_empty() || self.process(e, session, live, group).is_ok();
                        if self.drain() || !sent {
                            let _ = reply.send(Err("commit failed before reload".into()));
                            return Exit::Rebuild;
                        }
                        // The TAXII `shared` collection's indicators as stored now.
                        let new = Engines::load_current(
                            &self.state.config,
                            &self.defaults,
                            &self.state.store,
                        );
                        return match new {
                            Ok(new) => Exit::Reload(reply, Box::new(new)),
                            Err(err) => {
                                tracing::warn!("reload refused: {err}");
                                let _ = reply.send(Err(err.to_string()));
                                continue_after_refusal()
                            }
                        };
                    }
                }
            }
            self.state
                .metrics
                .queue_depth
                .set(self.state.ingest.depth() as i64);
            if self.commit_shared.broken.load(Ordering::SeqCst) {
                // A commit failed: what was taken waits (in order) for the rebuilt state.
                for j in group.into_iter().rev() {
                    self.pending.push_front(j);
                }
                self.drain();
                return Exit::Rebuild;
            }
            if !group.is_empty() && self.process(e, session, live, group).is_err() {
                self.drain();
                return Exit::Rebuild;
            }
            if self.shutting_down && self.state.ingest.depth() == 0 && !self.pending_work() {
                self.drain();
                return Exit::Shutdown;
            }
        }
    }

    fn pending_work(&self) -> bool {
        !self.pending.is_empty() && !self.paused
    }

    /// One group: key, dedupe, detect, group, then hand it to the committer (which
    /// commits and answers). Err: keying failed or the committer is gone (every job
    /// answered).
    fn process(
        &mut self,
        e: &Arc<Engines>,
        session: &mut DetectionSession<'_>,
        live: &mut Live,
        mut jobs: Vec<Job>,
    ) -> Result<(), ()> {
        let received_at = Utc::now();
        let store = self.state.store.clone();
        let done = self.commit_shared.done.load(Ordering::SeqCst);
        while self.inflight.front().is_some_and(|(no, _)| *no <= done) {
            if let Some((_, keys)) = self.inflight.pop_front() {
                for k in keys {
                    self.inflight_keys.remove(&k);
                }
            }
        }
        let keyed = match key_group(&store, &mut jobs, &self.inflight_keys) {
            Ok(k) => k,
            Err(err) => {
                commit::fail(jobs, &err.to_string());
                return Err(());
            }
        };
        let keep_all = self.state.config.events == KeepEvents::All;
        let mut batch = CommitBatch::default();
        let mut found = Vec::new();
        let mut new_dets: Vec<usize> = Vec::new();
        let mut det_keys: HashSet<String> = HashSet::new();
        let late_before = session.counts().late;
        let mut k = keyed.iter();
        batch.events.reserve(keyed.len());
        for job in &mut jobs {
            // The documents move into the session's events (no copy per event); the few
            // kept are copied back out.
            for raw in std::mem::take(&mut job.batch.events) {
                let Some(kd) = k.next() else { break };
                if kd.duplicate {
                    continue;
                }
                let ev = raw.document.into_event(raw.source.clone(), raw.record);
                found.clear();
                let pushed = session.push_counted(&ev, &mut found);
                let mut matched = false;
                for d in found.drain(..) {
                    matched |= d.correlation.is_none();
                    let (nd, o) = new_detection(e, d, &kd.key);
                    if !det_keys.insert(nd.key.clone()) {
                        continue;
                    }
                    let id = nd.id.clone();
                    batch.detections.push(nd);
                    if live.add(id, o) {
                        new_dets.push(batch.detections.len() - 1);
                    }
                }
                let feeds = pushed.correlation_inputs > 0;
                if feeds {
                    if let Some(t) = ev.timestamp {
                        self.tracked.insert((t, kd.key.clone()));
                    }
                }
                let keep = keep_all || matched || feeds;
                batch.events.push(NewEvent {
                    key: kd.key.clone(),
                    input: job.batch.input.clone(),
                    source: raw.source.to_string(),
                    record: raw.record,
                    time: ev.timestamp,
                    received_at,
                    document: keep.then(|| ev.doc().into_owned()),
                    feeds_correlation: feeds,
                });
            }
        }
        let regrouped = if new_dets.is_empty() {
            Regrouped::default()
        } else {
            live.regroup(e, false)
        };
        for d in &mut batch.detections {
            d.incident_id = live.incident_of(&d.id).map(str::to_string);
        }
        batch.incidents = regrouped.upserts.clone();
        batch.correlation_expired = self.expired(e, session);
        for job in &jobs {
            if let Some(p) = &job.batch.position {
                batch.positions.push(p.clone());
            }
        }
        if let Some(n) = session.newest() {
            batch.positions.push(InputPosition {
                input: WATERMARK_INPUT.into(),
                position: vigie_wire::rfc3339(&n),
            });
        }
        // Hand the group to the committer and go on: its batches are answered there,
        // once durable. Its new keys count as known until it is finished.
        self.group_no += 1;
        let new_keys: Vec<String> = batch.events.iter().map(|ev| ev.key.clone()).collect();
        self.inflight_keys.extend(new_keys.iter().cloned());
        self.inflight.push_back((self.group_no, new_keys));
        let g = commit::Group {
            no: self.group_no,
            jobs,
            keyed,
            batch,
            regrouped,
            engines: e.clone(),
            late: session.counts().late.saturating_sub(late_before),
        };
        if let Err(mpsc::SendError(commit::Msg::Group(g))) =
            self.commit_tx.send(commit::Msg::Group(Box::new(g)))
        {
            commit::fail(g.jobs, "the committer stopped");
            return Err(());
        }
        Ok(())
    }

    /// Waits until every group sent is finished (committed or failed); true when one
    /// failed (the committer then failed every later one too, and is whole again).
    fn drain(&mut self) -> bool {
        let (tx, rx) = mpsc::channel();
        let failed = match self.commit_tx.send(commit::Msg::Drain(tx)) {
            Ok(()) => rx.recv().unwrap_or(true),
            Err(_) => true,
        };
        self.inflight.clear();
        self.inflight_keys.clear();
        failed
    }

    /// Stored correlation events older than the watermark by more than the rules'
    /// horizon: no window can hold them any more.
    fn expired(&mut self, e: &Engines, session: &DetectionSession<'_>) -> Vec<String> {
        let Some(w) = session.watermark() else {
            return Vec::new();
        };
        let Some(limit) = w.checked_sub_signed(e.rules.correlation_horizon()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(first) = self.tracked.first() {
            if first.0 >= limit {
                break;
            }
            if let Some((_, k)) = self.tracked.pop_first() {
                out.push(k);
            }
        }
        out
    }
}

/// A detection as stored and as grouped: its [`NewDetection`] (key and id from
/// [`keys`], the wire detection with the captured fields under `context` and the
/// resolved `entities`, its assets) and its observation on the model. `event_key`: the
/// key of the event it matched (unused for a correlation hit). Shared by the processor
/// and the scale-out incident leader, so both store a detection the same way.
pub fn new_detection(
    e: &Engines,
    d: vigie_hunt::Detection,
    event_key: &str,
) -> (NewDetection, vigie_incident::ObservedDetection) {
    let meta = e.rules.meta(d.rule);
    let key = match &d.correlation {
        Some(c) => keys::correlation_key(&meta.key, &c.group, &c.first),
        None => keys::detection_key(&meta.key, event_key),
    };
    let id = keys::detection_id(&key);
    let mut doc = serde_json::to_value(vigie_wire::v1::Detection::from_engine(&d, meta))
        .unwrap_or(Value::Null);
    let context = crate::live::context_json(&d);
    let o = vigie_incident::observe(d, meta, &e.mapping, &e.identities);
    let mut assets: Vec<String> = o.entities.iter().filter_map(|r| r.asset.clone()).collect();
    assets.sort();
    assets.dedup();
    if let Value::Object(m) = &mut doc {
        m.insert("context".into(), context);
        m.insert(
            "entities".into(),
            serde_json::to_value(&o.entities).unwrap_or(Value::Null),
        );
    }
    let nd = NewDetection {
        id,
        key,
        rule_id: meta.key.to_string(),
        rule_title: meta.title.clone(),
        level: meta.level.as_str().to_string(),
        time: o.detection.timestamp,
        event_key: o.detection.source.as_ref().map(|_| event_key.to_string()),
        assets,
        incident_id: None,
        document: doc,
    };
    (nd, o)
}

/// A refused reload leaves everything as it was: state is rebuilt from the store on
/// the same engines (cheap, and what a reload does anyway).
fn continue_after_refusal() -> Exit {
    Exit::Rebuild
}

/// Keys every event of the group (the keys its source computed, else here) and marks
/// duplicates (within the group or a group still being committed, then stored).
fn key_group(
    store: &Store,
    jobs: &mut [Job],
    inflight: &HashSet<String>,
) -> Result<Vec<Keyed>, vigie_store::StoreError> {
    let mut out = Vec::with_capacity(jobs.iter().map(|j| j.batch.events.len()).sum());
    let mut seen: HashSet<String> = HashSet::with_capacity(out.capacity());
    for (j, job) in jobs.iter_mut().enumerate() {
        let stable = job.batch.position.is_some();
        let given = std::mem::take(&mut job.batch.keys);
        let given = (given.len() == job.batch.events.len()).then_some(given);
        let mut given = given.into_iter().flatten();
        for raw in &job.batch.events {
            let key = given
                .next()
                .unwrap_or_else(|| keys::event_key(&raw.document, &raw.source, raw.record, stable));
            let duplicate = inflight.contains(&key) || !seen.insert(key.clone());
            out.push(Keyed {
                job: j,
                key,
                duplicate,
            });
        }
    }
    let ask: Vec<String> = out
        .iter()
        .filter(|k| !k.duplicate)
        .map(|k| k.key.clone())
        .collect();
    let known = store.known_events(&ask)?;
    let mut it = known.into_iter();
    for k in out.iter_mut().filter(|k| !k.duplicate) {
        k.duplicate = it.next().unwrap_or(false);
    }
    Ok(out)
}
