//! Backpressure of `vigie serve` (issue 9, points 2 and 8): with the committer paused
//! (`POST /api/v1/admin/committer {"paused": true}`) and a small queue
//! (`ingest.queue_events` = 200), HTTP answers 429 with `Retry-After` and the
//! `queue_full` error once the queue is full, no POST is answered 202 while nothing is
//! durable, and after resuming every batch goes through: each event accepted exactly
//! once (no duplicates, none lost), stored once, and the single-event detections are
//! those `vigie hunt` finds in the same events (the senders run concurrently, so event
//! time arrives out of order and correlation inputs may be late by design: correlations
//! are the durability test's). On SQLite and on PostgreSQL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use vigie_test_support::corpus::Corpus;
use vigie_test_support::serve::{Http, ServeCommand};

use super::serve_durability::{check_store, prepared, temp_postgres, write_config};

const EVENTS: usize = 2_000;
const BATCH: usize = 50;
const QUEUE: usize = 200;
/// Senders at once: more batches in flight than the queue holds.
const SENDERS: usize = 8;

/// Both backends at once, each on its own thread.
#[test]
fn serve_backpressure_sqlite_and_postgres() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("data/vigie.db").display());
            run("sqlite", dir.path(), &url);
        });
        s.spawn(|| {
            let Some(pg) = temp_postgres() else { return };
            let dir = tempfile::tempdir().unwrap();
            run("postgres", dir.path(), &pg.url());
        });
    });
}

/// Counts shared by the senders.
#[derive(Default)]
struct Counts {
    acked_batches: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    too_many: AtomicU64,
}

fn run(backend: &str, dir: &std::path::Path, url: &str) {
    let started = Instant::now();
    let prepared = prepared(EVENTS, EVENTS / 2);
    let corpus = prepared.corpus.clone();
    let config = write_config(dir, &format!("[ingest]\nqueue_events = {QUEUE}\n"));
    let cmd = ServeCommand::new(env!("CARGO_BIN_EXE_vigie"), &dir.join("data"))
        .store(url)
        .config(&config);
    let mut server = cmd.spawn();
    let http = server.http();
    let pause = |paused: bool| {
        let r = http
            .post_json("/api/v1/admin/committer", &json!({ "paused": paused }))
            .unwrap();
        assert!(
            r.is_success(),
            "committer paused={paused}: HTTP {} {}",
            r.status,
            r.text()
        );
    };
    pause(true);

    let counts = Arc::new(Counts::default());
    let senders: Vec<_> = (0..SENDERS)
        .map(|t| {
            let (corpus, counts, http) = (corpus.clone(), counts.clone(), http.clone());
            std::thread::spawn(move || send(t, &corpus, &counts, &http))
        })
        .collect();
    // The queue holds QUEUE / BATCH batches; the other senders must be turned away.
    let want = (SENDERS - QUEUE / BATCH) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while counts.too_many.load(Ordering::SeqCst) < want {
        if Instant::now() > deadline {
            server.fail(&format!(
                "with the committer paused and a queue of {QUEUE}, {} x 429 in 30 s (want {want})",
                counts.too_many.load(Ordering::SeqCst)
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        counts.acked_batches.load(Ordering::SeqCst),
        0,
        "a batch was answered 2xx while the committer was paused (not durable yet)"
    );
    let paused_429 = counts.too_many.load(Ordering::SeqCst);
    pause(false);
    for s in senders {
        s.join().unwrap();
    }
    let api = http.get_all("/api/v1/detections?limit=500", "detections");
    let status = server.terminate(Duration::from_secs(60));
    if !status.success() {
        server.fail(&format!("clean shutdown after SIGTERM: {status}"));
    }

    let accepted = counts.accepted.load(Ordering::SeqCst);
    let duplicates = counts.duplicates.load(Ordering::SeqCst);
    assert_eq!(accepted, EVENTS as u64, "every event accepted exactly once");
    assert_eq!(duplicates, 0, "no retry of a 429 was taken twice");
    let expected = prepared.expected();
    let stored = check_store(url, &corpus, expected, api.len(), false);
    println!(
        "backpressure[{backend}]: queue {QUEUE} events, {SENDERS} senders of {BATCH}-event \
         batches; {paused_429} x 429 while paused, {} in all; accepted {accepted}, \
         duplicates {duplicates}; stored {} events, {} detections (hunt {}); {:.1} s",
        counts.too_many.load(Ordering::SeqCst),
        stored.events,
        stored.detections,
        expected.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Sender `t` posts batches t, t + SENDERS, ... each until it is answered 2xx, waiting
/// `Retry-After` after a 429 (which must carry it and the `queue_full` error).
fn send(t: usize, corpus: &Corpus, counts: &Counts, http: &Http) {
    let batches = corpus.len().div_ceil(BATCH);
    for b in (t..batches).step_by(SENDERS) {
        let range = b * BATCH..((b + 1) * BATCH).min(corpus.len());
        let body = corpus.jsonl(range);
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "batch {b} never taken"
            );
            let r = http
                .post_events(body.clone())
                .unwrap_or_else(|e| panic!("batch {b}: {e}"));
            if r.is_success() {
                let v = r.json();
                let n = |k: &str| v[k].as_u64().unwrap_or(0);
                counts.accepted.fetch_add(n("accepted"), Ordering::SeqCst);
                counts
                    .duplicates
                    .fetch_add(n("duplicates"), Ordering::SeqCst);
                counts.acked_batches.fetch_add(1, Ordering::SeqCst);
                break;
            }
            assert_eq!(r.status, 429, "batch {b}: HTTP {} {}", r.status, r.text());
            assert_eq!(
                r.json()["error"]["code"],
                "queue_full",
                "429 body: {}",
                r.text()
            );
            let Some(wait) = r.retry_after else {
                panic!(
                    "429 without a numeric Retry-After (present: {})",
                    r.has_retry_after
                );
            };
            assert!(wait >= 1, "Retry-After: {wait}");
            counts.too_many.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(wait));
        }
    }
}
