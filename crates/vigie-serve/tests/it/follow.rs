//! Followed files: read to the end then followed, rotation (the old file finished first),
//! truncation, a file that appears later, syslog lines, and restarts that resume exactly
//! at the committed position (after a crash inside a commit, and after a rotation that
//! happened while the follower was down).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vigie_serve::ingest::file::{spawn, FilePosition, FollowOptions};
use vigie_serve::ingest::Ingest;
use vigie_store::InputPosition;

use crate::syslog::Drain;

fn metrics() -> std::sync::Arc<vigie_serve::metrics::Metrics> {
    std::sync::Arc::new(vigie_serve::metrics::Metrics::new())
}

fn opts(batch: usize) -> FollowOptions {
    FollowOptions {
        poll: Duration::from_millis(20),
        batch_lines: batch,
        ..FollowOptions::default()
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn json_lines(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("{{\"n\":{i}}}\n")).collect()
}

/// The `n` of every event taken, in order.
fn ns(d: &Drain) -> Vec<u64> {
    let t = d.taken.lock().unwrap();
    t.events
        .iter()
        .map(|(_, e)| e.document["n"].as_u64().unwrap())
        .collect()
}

fn positions(d: &Drain) -> Vec<InputPosition> {
    let t = d.taken.lock().unwrap();
    t.positions
        .iter()
        .map(|(input, position)| InputPosition {
            input: input.clone(),
            position: position.clone(),
        })
        .collect()
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[tokio::test]
async fn reads_then_follows_and_waits_for_whole_lines() {
    let d = Dir::new();
    let path = d.p("app.jsonl");
    std::fs::write(&path, json_lines(0, 3)).unwrap();
    let (ingest, rx) = Ingest::new(100);
    let drain = Drain::start(rx, None, false);
    let hs = spawn(std::slice::from_ref(&path), ingest, &[], metrics(), opts(2));
    drain.until("3 events", |t| t.events.len() == 3).await;
    append(&path, &(json_lines(3, 5) + "{\"n\":"));
    drain.until("5 events", |t| t.events.len() == 5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ns(&drain).len(), 5, "an unfinished line is not taken");
    append(&path, "5}\n\nnot json\n");
    drain
        .until("6 events, 1 reject", |t| {
            t.events.len() == 6 && t.rejected.len() == 1
        })
        .await;
    assert_eq!(ns(&drain), [0, 1, 2, 3, 4, 5]);
    let t = drain.taken.lock().unwrap();
    let records: Vec<u64> = t.events.iter().map(|(_, e)| e.record).collect();
    assert_eq!(records, [1, 2, 3, 4, 5, 6]);
    assert_eq!(t.rejected[0].1.line, 8);
    assert!(
        t.rejected[0].1.reason.starts_with("bad JSON"),
        "{:?}",
        t.rejected
    );
    assert_eq!(&*t.events[0].1.source, path.to_str().unwrap());
    let input = format!("file:{}", path.display());
    assert_eq!(t.events[0].0, input);
    let pos: FilePosition = serde_json::from_str(&t.positions[&input]).unwrap();
    assert_eq!(pos.offset, std::fs::metadata(&path).unwrap().len());
    assert_eq!(pos.line, 8);
    hs.abort();
}

/// Rename and create: what is written to the old file after the rename is still read,
/// then the new file from its start; line numbers go on.
#[tokio::test]
async fn rotation_finishes_the_old_file() {
    let d = Dir::new();
    let path = d.p("app.log");
    std::fs::write(&path, json_lines(0, 10)).unwrap();
    let (ingest, rx) = Ingest::new(100);
    let drain = Drain::start(rx, None, false);
    let hs = spawn(std::slice::from_ref(&path), ingest, &[], metrics(), opts(4));
    drain.until("10 events", |t| t.events.len() == 10).await;
    std::fs::rename(&path, d.p("app.log.1")).unwrap();
    // The writer has not reopened yet: these land in the rotated file, the last one
    // without its LF.
    append(&d.p("app.log.1"), &(json_lines(10, 12) + "{\"n\":12}"));
    std::fs::write(&path, json_lines(13, 16)).unwrap();
    drain.until("16 events", |t| t.events.len() == 16).await;
    assert_eq!(ns(&drain), (0..16).collect::<Vec<_>>());
    let records: Vec<u64> = drain
        .taken
        .lock()
        .unwrap()
        .events
        .iter()
        .map(|(_, e)| e.record)
        .collect();
    assert_eq!(records, (1..=16).collect::<Vec<_>>());
    append(&path, &json_lines(16, 18));
    drain.until("18 events", |t| t.events.len() == 18).await;
    assert_eq!(ns(&drain), (0..18).collect::<Vec<_>>());
    hs.abort();
}

/// copytruncate: the file shrinks, reading starts again at 0.
#[tokio::test]
async fn truncation_restarts_at_zero() {
    let d = Dir::new();
    let path = d.p("app.log");
    std::fs::write(&path, json_lines(0, 20)).unwrap();
    let (ingest, rx) = Ingest::new(100);
    let drain = Drain::start(rx, None, false);
    let hs = spawn(
        std::slice::from_ref(&path),
        ingest,
        &[],
        metrics(),
        opts(100),
    );
    drain.until("20 events", |t| t.events.len() == 20).await;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(&path, &json_lines(20, 22));
    drain.until("22 events", |t| t.events.len() == 22).await;
    assert_eq!(ns(&drain), (0..22).collect::<Vec<_>>());
    hs.abort();
}

/// A path that does not exist yet is waited for; syslog lines are sniffed and parsed.
#[tokio::test]
async fn waits_for_a_missing_file_of_syslog_lines() {
    let d = Dir::new();
    let path = d.p("auth.log");
    let (ingest, rx) = Ingest::new(100);
    let drain = Drain::start(rx, None, false);
    let hs = spawn(
        std::slice::from_ref(&path),
        ingest,
        &[],
        metrics(),
        opts(100),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(
        &path,
        "Mar  4 03:06:08 web01 sshd[4243]: Failed password for root\n\
         what is this\n\
         <38>1 2024-03-04T03:06:09Z web01 sshd 4244 - - Accepted password for bob\n",
    );
    drain
        .until("2 events, 1 reject", |t| {
            t.events.len() == 2 && t.rejected.len() == 1
        })
        .await;
    let t = drain.taken.lock().unwrap();
    assert_eq!(t.events[0].1.document["app"], "sshd");
    assert_eq!(t.events[0].1.document["procid"], "4243");
    assert_eq!(t.events[1].1.document["timestamp"], "2024-03-04T03:06:09Z");
    assert_eq!(t.rejected[0].1.line, 2);
    assert!(
        t.rejected[0].1.reason.contains("not syslog"),
        "{:?}",
        t.rejected
    );
    hs.abort();
}

/// Killed inside a commit (the 4th batch is never answered), restarted from what was
/// committed: every line exactly once across both runs, none skipped.
#[tokio::test]
async fn restart_after_a_crash_resumes_exactly() {
    let d = Dir::new();
    let path = d.p("app.jsonl");
    std::fs::write(&path, json_lines(0, 50)).unwrap();
    let (ingest, rx) = Ingest::new(100);
    let mut first = Drain::start(rx, Some(4), false);
    let hs = spawn(std::slice::from_ref(&path), ingest, &[], metrics(), opts(7));
    for h in hs.handles {
        // The queue closed with the crash: the follower stops by itself.
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .unwrap()
            .unwrap();
    }
    (&mut first.handle).await.unwrap();
    let committed = ns(&first);
    assert_eq!(committed, (0..21).collect::<Vec<_>>(), "three batches of 7");
    append(&path, &json_lines(50, 60));

    let (ingest, rx) = Ingest::new(100);
    let second = Drain::start(rx, None, false);
    let hs = spawn(
        std::slice::from_ref(&path),
        ingest,
        &positions(&first),
        metrics(),
        opts(7),
    );
    second.until("the rest", |t| t.events.len() == 39).await;
    let mut all = committed;
    all.extend(ns(&second));
    assert_eq!(all, (0..60).collect::<Vec<_>>());
    let records: Vec<u64> = second
        .taken
        .lock()
        .unwrap()
        .events
        .iter()
        .map(|(_, e)| e.record)
        .collect();
    assert_eq!(records, (22..=60).collect::<Vec<_>>());
    hs.abort();
}

/// Rotated while the follower was down: the rotated file is found by its inode and
/// finished from the committed offset, then the new file is read.
#[tokio::test]
async fn restart_after_rotation_while_down() {
    let d = Dir::new();
    let path = d.p("app.log");
    std::fs::write(&path, json_lines(0, 5)).unwrap();
    let (ingest, rx) = Ingest::new(100);
    let first = Drain::start(rx, None, false);
    let hs = spawn(
        std::slice::from_ref(&path),
        ingest,
        &[],
        metrics(),
        opts(100),
    );
    first.until("5 events", |t| t.events.len() == 5).await;
    hs.shutdown(Duration::from_secs(5)).await;
    append(&path, &json_lines(5, 8));
    std::fs::rename(&path, d.p("app.log.1")).unwrap();
    std::fs::write(&path, json_lines(8, 10)).unwrap();

    let (ingest, rx) = Ingest::new(100);
    let second = Drain::start(rx, None, false);
    let hs = spawn(
        std::slice::from_ref(&path),
        ingest,
        &positions(&first),
        metrics(),
        opts(100),
    );
    second.until("5 more", |t| t.events.len() == 5).await;
    assert_eq!(ns(&second), (5..10).collect::<Vec<_>>());
    hs.abort();
}
