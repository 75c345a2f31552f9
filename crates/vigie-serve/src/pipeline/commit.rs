//! The committer thread: the second stage of the processor. The processor keys,
//! deduplicates and detects a group, then hands it here ([`Group`]) and goes on with the
//! next group while this one is written and fsynced; so detection and the commit run at
//! the same time, on two threads, instead of one after the other.
//!
//! What stays exact:
//! - groups are committed one at a time, in the order the processor made them (one
//!   FIFO channel; the one detection session produced them in that order);
//! - a batch is answered only after its group's transaction committed (or failed);
//! - a failed commit *breaks* the line: the committer fails that group and every group
//!   after it, without writing them (they were detected on state that included the
//!   failed one), until the processor, having seen [`Shared::broken`], sends a
//!   [`Msg::Drain`] and rebuilds its state from the store;
//! - the processor treats the keys of groups sent but not yet committed as known (it
//!   asks [`Shared::done`] which groups are finished), so a replay arriving meanwhile is
//!   a duplicate, never a second event in the session.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::{json, Value};
use vigie_store::{CommitBatch, CommitOutcome};

use super::{decider, Engines, Keyed};
use crate::ingest::{IngestOutcome, Job, SubmitError};
use crate::live::Regrouped;
use crate::metrics::{LevelLabel, SourceLabel};
use crate::state::{AppState, LiveChange};

/// One detected group, ready to commit.
pub(super) struct Group {
    /// Sequence number (1, 2, ...), in the order the processor made the groups.
    pub no: u64,
    pub jobs: Vec<Job>,
    pub keyed: Vec<Keyed>,
    pub batch: CommitBatch,
    pub regrouped: Regrouped,
    pub engines: Arc<Engines>,
    /// Correlation inputs counted late while detecting this group.
    pub late: u64,
}

pub(super) enum Msg {
    Group(Box<Group>),
    /// Everything sent before is finished: reply whether the line was broken, and
    /// clear the break.
    Drain(mpsc::Sender<bool>),
}

/// What the processor and the committer share.
#[derive(Default)]
pub(super) struct Shared {
    /// A commit failed: every group is failed until the next drain.
    pub broken: AtomicBool,
    /// The highest group number finished (committed or failed).
    pub done: AtomicU64,
}

/// Starts the committer; it ends when the sender is dropped, after the queued groups.
pub(super) fn spawn(
    state: AppState,
    decide_tx: mpsc::Sender<decider::Request>,
) -> std::io::Result<(mpsc::SyncSender<Msg>, Arc<Shared>, JoinHandle<()>)> {
    // One group waiting while one commits: the processor is at most two groups ahead,
    // and waits (its queue then fills the next group) when the disk is slower.
    let (tx, rx) = mpsc::sync_channel::<Msg>(1);
    let shared = Arc::new(Shared::default());
    let sh = shared.clone();
    let h = std::thread::Builder::new()
        .name("vigie-committer".into())
        .spawn(move || {
            for msg in rx {
                match msg {
                    Msg::Group(g) => {
                        let no = g.no;
                        if sh.broken.load(Ordering::SeqCst) {
                            fail(
                                g.jobs,
                                "an earlier commit failed; nothing of this batch was kept",
                            );
                        } else if commit(&state, &decide_tx, *g).is_err() {
                            sh.broken.store(true, Ordering::SeqCst);
                        }
                        sh.done.store(no, Ordering::SeqCst);
                    }
                    Msg::Drain(reply) => {
                        let _ = reply.send(sh.broken.swap(false, Ordering::SeqCst));
                    }
                }
            }
        })?;
    Ok((tx, shared, h))
}

/// Commits one group and answers its jobs. Err: the commit failed (jobs answered).
fn commit(
    state: &AppState,
    decide_tx: &mpsc::Sender<decider::Request>,
    g: Group,
) -> Result<(), ()> {
    let t = Instant::now();
    let out = match state.store.commit(&g.batch) {
        Ok(o) => o,
        Err(err) => {
            tracing::error!("commit failed ({} events): {err}", g.batch.events.len());
            fail(g.jobs, &err.to_string());
            return Err(());
        }
    };
    let m = &state.metrics;
    m.commit_seconds.observe(t.elapsed().as_secs_f64());
    m.correlation_late.inc_by(g.late);
    for d in &g.batch.detections {
        m.detections
            .get_or_create(&LevelLabel {
                level: d.level.clone(),
            })
            .inc();
    }
    let store_dups: HashSet<usize> = out.duplicate_events.iter().copied().collect();
    answer(state, g.jobs, &g.keyed, &store_dups);
    announce(state, &g.regrouped, &out, g.batch.detections.len());
    send_decisions(decide_tx, &g.engines, g.regrouped);
    Ok(())
}

/// Answers each job once its group is durable, and counts.
fn answer(state: &AppState, jobs: Vec<Job>, keyed: &[Keyed], store_dups: &HashSet<usize>) {
    // Index in `batch.events` of each non-duplicate keyed event, in order.
    let mut next_stored = 0usize;
    let mut per_job: Vec<(u64, u64)> = vec![(0, 0); jobs.len()];
    for kd in keyed {
        let slot = &mut per_job[kd.job];
        if kd.duplicate {
            slot.1 += 1;
        } else {
            if store_dups.contains(&next_stored) {
                slot.1 += 1;
            } else {
                slot.0 += 1;
            }
            next_stored += 1;
        }
    }
    let m = &state.metrics;
    for (job, (accepted, duplicates)) in jobs.into_iter().zip(per_job) {
        let label = SourceLabel {
            source: job.batch.input.clone(),
        };
        m.events_in.get_or_create(&label).inc_by(accepted);
        m.events_duplicate.get_or_create(&label).inc_by(duplicates);
        let _ = job.done.send(Ok(IngestOutcome {
            accepted,
            duplicates,
            rejected: job.batch.rejected.clone(),
        }));
        drop(job.permit);
    }
    m.queue_depth.set(state.ingest.depth() as i64);
}

/// Live changes for the dashboard and webhooks, and the open-incidents gauge.
pub(super) fn announce(state: &AppState, r: &Regrouped, out: &CommitOutcome, detections: usize) {
    let changes = &state.changes;
    if detections > 0 {
        let _ = changes.send(LiveChange {
            kind: "detections".into(),
            id: String::new(),
            detail: json!({"count": detections}),
        });
    }
    for u in &r.upserts {
        let kind = if out.incidents_opened.contains(&u.id) {
            "incident.opened"
        } else {
            "incident.changed"
        };
        let detail = match state.store.incident(&u.id) {
            Ok(Some(row)) => serde_json::to_value(row).unwrap_or(Value::Null),
            _ => json!({"id": u.id}),
        };
        let _ = changes.send(LiveChange {
            kind: kind.into(),
            id: u.id.clone(),
            detail,
        });
    }
    if !r.upserts.is_empty() {
        if let Ok(c) = state.store.counts() {
            state.metrics.incidents_open.set(c.incidents_open as i64);
        }
    }
}

pub(super) fn send_decisions(
    decide_tx: &mpsc::Sender<decider::Request>,
    e: &Arc<Engines>,
    r: Regrouped,
) {
    for job in r.decide {
        let _ = decide_tx.send(decider::Request {
            job,
            engines: e.clone(),
        });
    }
}

pub(super) fn fail(jobs: Vec<Job>, why: &str) {
    for j in jobs {
        let _ = j.done.send(Err(SubmitError::Commit(why.to_string())));
    }
}
