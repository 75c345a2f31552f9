//! The commit: deduplication, replays, correlation documents, live detections.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vigie_store::*;

use crate::support::*;

pub fn dedup(b: &Backend) {
    let s = &b.store;
    let d1 = detection("rule-a", "rec:h/Security/1", "high", 0, &["dc01"]);
    let d2 = detection("rule-b", "rec:h/Security/2", "low", 1, &[]);
    let batch = CommitBatch {
        events: vec![
            event("rec:h/Security/1", true),
            event("rec:h/Security/2", true),
            event("rec:h/Security/3", false),
            // The same key twice in one batch: the second is a duplicate.
            event("rec:h/Security/3", false),
        ],
        detections: vec![d1.clone(), d2.clone()],
        incidents: vec![incident("inc-1", &[&d1])],
        positions: vec![InputPosition {
            input: "file:/var/log/a".into(),
            position: r#"{"inode":1,"offset":10}"#.into(),
        }],
        correlation_expired: vec![],
    };
    let first = s.commit(&batch).unwrap();
    assert_eq!(first.events_inserted, 3);
    assert_eq!(first.duplicate_events, vec![3]);
    assert_eq!(first.detections_inserted, 2);
    assert_eq!(first.incidents_opened, vec!["inc-1".to_string()]);
    let once = s.counts().unwrap();
    assert_eq!(
        once,
        Counts {
            events: 3,
            events_with_document: 2,
            detections: 2,
            incidents_open: 1,
            incidents: 1,
        }
    );

    // The replay: every event a duplicate, no detection stored twice.
    let mut replay = batch.clone();
    replay.positions[0].position = r#"{"inode":1,"offset":20}"#.into();
    let second = s.commit(&replay).unwrap();
    assert_eq!(second.events_inserted, 0);
    assert_eq!(second.duplicate_events, vec![0, 1, 2, 3]);
    assert_eq!(second.detections_inserted, 0);
    assert_eq!(second.incidents_opened, Vec::<String>::new());
    assert_eq!(s.counts().unwrap(), once);
    assert_eq!(s.incident("inc-1").unwrap().unwrap().detection_count, 1);

    // A duplicate event's detection is not stored even under a new detection key.
    let late = CommitBatch {
        events: vec![event("rec:h/Security/1", true)],
        detections: vec![detection("rule-new", "rec:h/Security/1", "high", 0, &[])],
        ..Default::default()
    };
    let out = s.commit(&late).unwrap();
    assert_eq!(
        (out.duplicate_events, out.detections_inserted),
        (vec![0], 0)
    );

    let keys: Vec<String> = ["rec:h/Security/2", "nope", "rec:h/Security/3"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(s.known_events(&keys).unwrap(), vec![true, false, true]);
    assert_eq!(
        s.positions().unwrap(),
        vec![InputPosition {
            input: "file:/var/log/a".into(),
            position: r#"{"inode":1,"offset":20}"#.into(),
        }]
    );
    let ev = s.event("rec:h/Security/1").unwrap().unwrap();
    assert_eq!(ev.document.unwrap()["EventID"], 4625);
    // Not kept: its key is known (above), no row holds it as evidence.
    assert_eq!(s.event("rec:h/Security/3").unwrap(), None);
    assert_eq!(s.event("missing").unwrap(), None);
    assert_eq!(s.schema_version().unwrap(), 5);

    // A clean shutdown's checkpoint, then a second open (migrations already applied)
    // sees the same store.
    s.checkpoint().unwrap();
    let again = Store::open(&b.spec).unwrap();
    assert_eq!(again.counts().unwrap(), once);
    assert_eq!(again.schema_version().unwrap(), 5);
    check_totals(s);
    if let StoreSpec::Sqlite(path) = &b.spec {
        let c = rusqlite::Connection::open(path).unwrap();
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}

/// A generated input: events from a small key space (so batches overlap), some with a
/// detection of one of two rules.
fn batches() -> impl Strategy<Value = Vec<Vec<(u8, Option<u8>)>>> {
    prop::collection::vec(
        prop::collection::vec((0u8..40, prop::option::of(0u8..2)), 1..30),
        1..6,
    )
}

fn to_batch(prefix: &str, items: &[(u8, Option<u8>)]) -> CommitBatch {
    let mut b = CommitBatch::default();
    for (k, rule) in items {
        let key = format!("{prefix}:{k}");
        b.events.push(event(&key, rule.is_some()));
        // The detection depends on the event only, as the engine's would.
        if rule.is_some() {
            b.detections.push(detection(
                &format!("rule-{}", k % 2),
                &key,
                "medium",
                0,
                &[],
            ));
        }
    }
    b
}

/// Random batches committed once, then all again interleaved with themselves, give the
/// counts of committing each distinct event once.
pub fn replay_property(b: &Backend) {
    let s = &b.store;
    let cases = if s.kind() == BackendKind::Postgres {
        12
    } else {
        24
    };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let case = std::cell::Cell::new(0u32);
    runner
        .run(&batches(), |input| {
            case.set(case.get() + 1);
            let prefix = format!("case{}", case.get());
            let before = s.counts().unwrap();
            let built: Vec<CommitBatch> = input.iter().map(|i| to_batch(&prefix, i)).collect();
            for batch in &built {
                s.commit(batch).unwrap();
            }
            // Replay: the batches again, in reverse, each twice.
            for batch in built.iter().rev() {
                s.commit(batch).unwrap();
                let again = s.commit(batch).unwrap();
                prop_assert_eq!(again.events_inserted, 0);
                prop_assert_eq!(again.detections_inserted, 0);
                prop_assert_eq!(again.duplicate_events.len(), batch.events.len());
            }
            let mut distinct_events = std::collections::BTreeSet::new();
            let mut distinct_detections = std::collections::BTreeSet::new();
            for (k, rule) in input.iter().flatten() {
                distinct_events.insert(*k);
                // An event's detection is stored by the batch that first stored it.
                if rule.is_some() {
                    distinct_detections.insert(*k);
                }
            }
            let after = s.counts().unwrap();
            prop_assert_eq!(after.events - before.events, distinct_events.len() as u64);
            prop_assert_eq!(
                after.detections - before.detections,
                first_detected(&input).len() as u64
            );
            prop_assert!(distinct_detections.len() >= first_detected(&input).len());
            prop_assert_eq!(after, s.counts_exact().unwrap());
            Ok(())
        })
        .unwrap();
}

/// Events whose first occurrence carried a detection (a later occurrence is a
/// duplicate, and a duplicate's detections are not stored).
fn first_detected(input: &[Vec<(u8, Option<u8>)>]) -> std::collections::BTreeSet<u8> {
    let mut seen = std::collections::BTreeSet::new();
    let mut detected = std::collections::BTreeSet::new();
    for batch in input {
        // Within a batch, detections are keyed by the event, so any copy in the batch of
        // the first occurrence counts.
        let new: std::collections::BTreeSet<u8> = batch
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !seen.contains(k))
            .collect();
        for (k, rule) in batch {
            if rule.is_some() && new.contains(k) {
                detected.insert(*k);
            }
        }
        seen.extend(new);
    }
    detected
}

pub fn correlation_documents(b: &Backend) {
    let s = &b.store;
    let mut feeding = vec![event("c1", true), event("c2", true), event("c3", true)];
    for e in &mut feeding {
        e.feeds_correlation = true;
    }
    let d = detection("rule-x", "c2", "high", 0, &[]);
    s.commit(&CommitBatch {
        events: feeding,
        detections: vec![d],
        ..Default::default()
    })
    .unwrap();
    let keys: Vec<String> = s
        .correlation_events()
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys, ["c1", "c2", "c3"]);
    assert!(s.correlation_events().unwrap()[0].document.is_some());

    // c1 leaves every window: its document goes; c2 is evidence of a detection: kept.
    s.commit(&CommitBatch {
        correlation_expired: vec!["c1".into(), "c2".into()],
        ..Default::default()
    })
    .unwrap();
    let keys: Vec<String> = s
        .correlation_events()
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys, ["c3"]);
    assert_eq!(s.event("c1").unwrap(), None);
    assert_eq!(s.known_events(&["c1".to_string()]).unwrap(), vec![true]);
    assert!(s.event("c2").unwrap().unwrap().document.is_some());
    assert_eq!(s.counts().unwrap().events, 3);

    // events = all: an expired document stays.
    s.set_keep_all_events(true);
    s.commit(&CommitBatch {
        correlation_expired: vec!["c3".into()],
        ..Default::default()
    })
    .unwrap();
    assert!(s.correlation_events().unwrap().is_empty());
    assert!(s.event("c3").unwrap().unwrap().document.is_some());
    assert_eq!(s.counts().unwrap().events_with_document, 2);
    check_totals(s);
}

pub fn live_detections(b: &Backend) {
    let s = &b.store;
    let a = detected(s, "e1", "rule-a", Some("inc-a"));
    let bb = detected(s, "e2", "rule-b", Some("inc-b"));
    let loose = detected(s, "e3", "rule-c", None);
    let now = chrono::Utc::now();
    let close = IncidentChange {
        state: Some(IncidentState::Closed),
        ..Default::default()
    };
    s.change_incident("inc-a", &close, "alice", now).unwrap();
    let live: Vec<String> = s
        .live_detections()
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(live, vec![bb.id.clone(), loose.id.clone()]);
    assert!(!live.contains(&a.id));
    let row = &s.live_detections().unwrap()[0];
    assert_eq!(row.incident_id.as_deref(), Some("inc-b"));
    assert_eq!(row.document["rule"], "rule-b");
}
