//! Failures: a commit that fails between writes leaves nothing, reads during a commit,
//! a schema from the future, a corrupt stored document.

use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigie_store::*;

use crate::support::*;

pub fn batch(n: usize, prefix: &str) -> CommitBatch {
    let mut b = CommitBatch::default();
    for i in 0..n {
        let key = format!("{prefix}{i}");
        b.events.push(event(&key, i % 2 == 0));
        if i % 10 == 0 {
            b.detections
                .push(detection("rule-a", &key, "high", 0, &["dc01"]));
        }
    }
    let refs: Vec<&NewDetection> = b.detections.iter().collect();
    b.incidents.push(incident(&format!("inc-{prefix}"), &refs));
    b.positions.push(InputPosition {
        input: format!("file:{prefix}"),
        position: "1".into(),
    });
    b
}

pub fn hook_rolls_back(b: &Backend) {
    let s = &b.store;
    s.commit(&batch(10, "ok")).unwrap();
    let before = s.counts().unwrap();
    let positions = s.positions().unwrap();
    for point in ["commit.begin", "commit.written"] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        s.set_hook(Arc::new(move |p: &'static str| {
            log.lock().unwrap().push(p);
            if p == point {
                panic!("failpoint {p}");
            }
        }));
        let err = s.commit(&batch(300, point)).unwrap_err();
        assert!(
            matches!(&err, StoreError::Hook { point: p, .. } if *p == point),
            "{err}"
        );
        let want: &[&str] = if point == "commit.begin" {
            &["commit.begin"]
        } else {
            &["commit.begin", "commit.written"]
        };
        assert_eq!(*seen.lock().unwrap(), want);
        // Nothing of the failed commit: no event, detection, incident, history, position.
        assert_eq!(s.counts().unwrap(), before);
        assert_eq!(s.positions().unwrap(), positions);
        assert_eq!(s.incident(&format!("inc-{point}")).unwrap(), None);
        assert!(s.history(&format!("inc-{point}")).unwrap().is_empty());
    }
    // The store works on after a failed commit, and the same batch commits whole.
    s.set_hook(Arc::new(|_| {}));
    let out = s.commit(&batch(300, "commit.written")).unwrap();
    assert_eq!(out.events_inserted, 300);
    check_totals(s);
    assert_eq!(s.counts().unwrap().events, before.events + 300);
}

pub fn concurrent_reads(b: &Backend) {
    let s = &b.store;
    s.commit(&batch(10, "first")).unwrap();
    let before = s.counts().unwrap();
    let (reached_tx, reached_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reached = Mutex::new(reached_tx);
    let release = Mutex::new(release_rx);
    s.set_hook(Arc::new(move |p: &'static str| {
        if p == "commit.written" {
            let _ = reached.lock().unwrap().send(());
            let _ = release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(20));
        }
    }));
    let writer = {
        let s = s.clone();
        std::thread::spawn(move || s.commit(&batch(500, "second")))
    };
    reached_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("commit reached its hook");
    // The commit holds its transaction open: reads run and see the last committed state.
    let (done_tx, done_rx) = mpsc::channel();
    {
        let s = s.clone();
        std::thread::spawn(move || {
            let r = (
                s.counts(),
                s.detections(&DetectionQuery {
                    limit: 100,
                    ..Default::default()
                }),
                s.incident("inc-second"),
            );
            let _ = done_tx.send(r);
        });
    }
    let (counts, dets, inc) = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("reads do not wait for the commit");
    assert_eq!(counts.unwrap(), before);
    assert_eq!(dets.unwrap().items.len() as u64, before.detections);
    assert_eq!(inc.unwrap(), None);
    release_tx.send(()).unwrap();
    let out = writer.join().unwrap().unwrap();
    assert_eq!(out.events_inserted, 500);
    assert_eq!(s.counts().unwrap().events, before.events + 500);
    assert!(s.incident("inc-second").unwrap().is_some());
}

pub fn schema_too_new(b: &Backend) {
    b.store
        .execute_raw(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
        )
        .unwrap();
    match Store::open(&b.spec) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            known: 5,
        }) => {}
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a schema from the future was accepted"),
    }
}

pub fn corrupt_document(b: &Backend) {
    let s = &b.store;
    let d = detected(s, "e1", "rule-a", Some("inc-1"));
    s.execute_raw(&format!(
        "UPDATE detections SET document = '{{not json' WHERE id = '{}'",
        d.id
    ))
    .unwrap();
    match s.detections(&DetectionQuery::default()) {
        Err(StoreError::Corrupt {
            table: "detections",
            key,
            ..
        }) => assert_eq!(key, d.id),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    s.execute_raw("UPDATE incidents SET state = 'exploded' WHERE id = 'inc-1'")
        .unwrap();
    match s.incident("inc-1") {
        Err(
            e @ StoreError::Corrupt {
                table: "incidents", ..
            },
        ) => {
            assert!(e.to_string().contains("inc-1"), "{e}");
            assert!(e.to_string().contains("exploded"), "{e}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// The process dies inside a commit (SIGABRT after every row is written, before COMMIT,
/// as the serve failpoint `commit.written=abort` does): nothing of it survives.
pub fn abort_inside_commit(b: &Backend) {
    let s = &b.store;
    s.commit(&batch(10, "before")).unwrap();
    let before = s.counts().unwrap();
    let spec = match &b.spec {
        StoreSpec::Sqlite(p) => p.display().to_string(),
        StoreSpec::Postgres(u) => u.clone(),
    };
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "abort_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(crate::ABORT_SPEC, &spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the child did not abort: {stdout}");
    assert!(
        stdout.contains("rows written"),
        "the child did not reach its hook: {stdout}"
    );
    // Reopened, as a restarted server would.
    let reopened = Store::open(&b.spec).unwrap();
    assert_eq!(reopened.counts().unwrap(), before);
    assert_eq!(reopened.incident("inc-aborted").unwrap(), None);
    assert_eq!(s.counts().unwrap(), before);
    let out = reopened.commit(&batch(300, "aborted")).unwrap();
    assert_eq!(out.events_inserted, 300);
    check_totals(&reopened);
}

/// A database of an older version (here: version 1, before the running totals, the
/// TAXII tables and `event_keys`, where every accepted event had an `events` row, with
/// or without its document) is migrated at open: its data kept, the running totals
/// seeded, every stored key moved to `event_keys` and the key-only rows gone.
pub fn schema_upgrade(b: &Backend) {
    let s = &b.store;
    s.commit(&batch(40, "old")).unwrap();
    for t in ["counters", "taxii_objects", "taxii_status", "event_keys"] {
        s.execute_raw(&format!("DROP TABLE {t}")).unwrap();
    }
    // Version 1 kept a row for each event without a document too (the odd ones here).
    let rows: Vec<String> = (1..40)
        .step_by(2)
        .map(|i| format!("('old{i}', 'http', 'test', {i}, NULL, 0, NULL, 0, 0)"))
        .collect();
    s.execute_raw(&format!(
        "INSERT INTO events (key, input, source, record, time, received_at, document, \
         feeds_correlation, evidence) VALUES {}",
        rows.join(",")
    ))
    .unwrap();
    s.execute_raw("DELETE FROM schema_migrations WHERE version >= 2")
        .unwrap();
    let upgraded = Store::open(&b.spec).unwrap();
    assert_eq!(upgraded.schema_version().unwrap(), 5);
    let c = upgraded.counts().unwrap();
    assert_eq!(
        (c.events, c.events_with_document, c.detections),
        (40, 20, 4)
    );
    let keys: Vec<String> = (0..40).map(|i| format!("old{i}")).collect();
    assert_eq!(upgraded.known_events(&keys).unwrap(), vec![true; 40]);
    assert_eq!(upgraded.event("old1").unwrap(), None, "key-only row moved");
    assert!(upgraded.event("old0").unwrap().unwrap().document.is_some());
    check_totals(&upgraded);
    // A replay of the old events is 40 duplicates.
    let out = upgraded.commit(&batch(40, "old")).unwrap();
    assert_eq!((out.events_inserted, out.duplicate_events.len()), (0, 40));
}

/// A store of schema 4 (every key hashed as the first 16 bytes of its SHA-256) upgraded
/// to schema 5, which hashes keys naming a stream position (`rec:`, `pos:`) with that
/// position first: the old keys stay known, a replay of them is all duplicates (through
/// `known_events` and through a commit alone), new keys are inserted once, and a sweep
/// that forgets every old key ends the double lookups.
pub fn legacy_key_hashes(b: &Backend) {
    use sha2::{Digest, Sha256};
    let s = &b.store;
    let keys: Vec<String> = (0..30)
        .map(|i| match i % 3 {
            0 => format!("rec:dc01/Security/{i}"),
            1 => format!("pos:file:/var/log/auth.log:{i}"),
            _ => format!("sha256:{i:064x}"),
        })
        .collect();
    let replay = || CommitBatch {
        events: keys.iter().map(|k| event(k, false)).collect(),
        ..Default::default()
    };
    assert_eq!(s.commit(&replay()).unwrap().events_inserted, 30);
    // Back to schema 4: its hashes, no marker, version 4.
    let hex = |k: &str| -> String {
        Sha256::digest(k.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let old_rows: Vec<String> = keys
        .iter()
        .map(|k| match b.spec {
            StoreSpec::Sqlite(_) => format!("(X'{}', 1)", hex(k)),
            StoreSpec::Postgres(_) => format!("(decode('{}', 'hex'), 1)", hex(k)),
        })
        .collect();
    s.execute_raw("DELETE FROM event_keys").unwrap();
    s.execute_raw(&format!(
        "INSERT INTO event_keys (hash, received_at) VALUES {}",
        old_rows.join(",")
    ))
    .unwrap();
    s.execute_raw("DELETE FROM counters WHERE name = 'legacy_key_hashes'")
        .unwrap();
    s.execute_raw("DELETE FROM schema_migrations WHERE version >= 5")
        .unwrap();

    let upgraded = Store::open(&b.spec).unwrap();
    assert_eq!(upgraded.schema_version().unwrap(), 5);
    assert_eq!(upgraded.known_events(&keys).unwrap(), vec![true; 30]);
    let out = upgraded.commit(&replay()).unwrap();
    assert_eq!((out.events_inserted, out.duplicate_events.len()), (0, 30));
    let fresh: Vec<String> = keys.iter().map(|k| format!("{k}0000")).collect();
    assert_eq!(upgraded.known_events(&fresh).unwrap(), vec![false; 30]);
    let batch = CommitBatch {
        events: fresh.iter().map(|k| event(k, false)).collect(),
        ..Default::default()
    };
    assert_eq!(upgraded.commit(&batch).unwrap().events_inserted, 30);
    assert_eq!(upgraded.known_events(&fresh).unwrap(), vec![true; 30]);
    assert_eq!(upgraded.counts().unwrap().events, 60);
    check_totals(&upgraded);

    // A sweep past every old key (received at 1 us after the epoch) forgets them and
    // the marker with them; the keys received now stay known.
    let policy = Retention {
        events_days: 1,
        closed_incidents_days: 0,
        audit_days: 0,
    };
    upgraded.sweep(&policy, chrono::Utc::now()).unwrap();
    assert_eq!(upgraded.known_events(&keys).unwrap(), vec![false; 30]);
    assert_eq!(upgraded.known_events(&fresh).unwrap(), vec![true; 30]);
    if let StoreSpec::Sqlite(path) = &b.spec {
        let c = rusqlite::Connection::open(path).unwrap();
        let marker: i64 = c
            .query_row(
                "SELECT value FROM counters WHERE name = 'legacy_key_hashes'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(marker, 0);
    }
    check_totals(&upgraded);
}
