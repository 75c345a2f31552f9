//! Commit throughput: one transaction of 1,000 events (half with documents) and 50
//! detections in one incident, on SQLite in a temporary directory (WAL,
//! `synchronous=FULL`: each commit is on disk), and on PostgreSQL when
//! `VIGIE_BENCH_POSTGRES_URL` names an empty database.
//!
//! `cargo bench -p vigie-store --bench commit`

use std::cell::Cell;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use vigie_store::*;

const EVENTS: usize = 1_000;
const DETECTIONS: usize = 50;

fn batch(n: u64) -> CommitBatch {
    let mut b = CommitBatch::default();
    let now = Utc::now();
    for i in 0..EVENTS {
        let key = format!("rec:host{}/Security/{n}-{i}", i % 7);
        let detected = i % (EVENTS / DETECTIONS) == 0;
        b.events.push(NewEvent {
            key: key.clone(),
            input: "http".into(),
            source: "bench".into(),
            record: i as u64,
            time: Some(now),
            received_at: now,
            document: (detected || i % 2 == 0).then(|| {
                json!({"EventID": 4625, "Computer": format!("host{}", i % 7),
                       "TargetUserName": "admin", "IpAddress": "10.0.0.5", "n": i})
            }),
            feeds_correlation: i % 2 == 0,
        });
        if detected {
            let dkey = format!("rule-{}|{key}", i % 5);
            b.detections.push(NewDetection {
                id: format!("det-{n:08x}{i:08x}"),
                key: dkey,
                rule_id: format!("rule-{}", i % 5),
                rule_title: "Brute force".into(),
                level: "high".into(),
                time: Some(now),
                event_key: Some(key),
                assets: vec![format!("host{}", i % 7)],
                incident_id: None,
                document: json!({"rule": {"id": format!("rule-{}", i % 5)}, "fields": {"n": i}}),
            });
        }
    }
    b.incidents.push(IncidentUpsert {
        id: format!("inc-{n:016x}"),
        first_seen: Some(now),
        last_seen: Some(now),
        severity: "high".into(),
        risk: 5.0,
        assets: vec!["host1".into()],
        compromised: vec![],
        detection_ids: b.detections.iter().map(|d| d.id.clone()).collect(),
        merged_from: vec![],
        document: json!({"tactics": ["credential-access"]}),
    });
    b.positions.push(InputPosition {
        input: "http".into(),
        position: n.to_string(),
    });
    b
}

fn bench_store(c: &mut Criterion, name: &str, store: &Store) {
    let mut g = c.benchmark_group("commit");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(20);
    let n = Cell::new(0u64);
    g.bench_function(name, |b| {
        b.iter_batched(
            || {
                n.set(n.get() + 1);
                batch(n.get())
            },
            |batch| store.commit(&batch).expect("commit"),
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = Store::open(&StoreSpec::Sqlite(dir.path().join("bench.db"))).expect("sqlite");
    bench_store(c, "sqlite_1000_events_50_detections", &sqlite);
    if let Ok(url) = std::env::var("VIGIE_BENCH_POSTGRES_URL") {
        let pg = Store::open(&StoreSpec::Postgres(url)).expect("postgres");
        bench_store(c, "postgres_1000_events_50_detections", &pg);
    }
}

criterion_group!(benches, commit);
criterion_main!(benches);
