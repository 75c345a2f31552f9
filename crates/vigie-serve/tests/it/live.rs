//! Live behaviour: a single-event detection is in the store (in an incident) when its
//! batch is answered; a correlation straddling a restart still fires; late inputs are
//! counted.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detection_is_committed_when_its_batch_is_answered() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    // 1102: the audit log was cleared (a high rule on one event).
    let out = submit(&r, "http", vec![logon(7, 0, "adm", 1102)]).await;
    assert_eq!(out.accepted, 1);
    let ds = all_detections(&r);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].level, "high");
    assert_eq!(
        ds[0].event_key.as_deref(),
        Some("rec:wsit01.armorique.local/Security/7")
    );
    let inc = ds[0].incident_id.clone().expect("in an incident");
    let row = r.state.store.incident(&inc).expect("read").expect("stored");
    assert_eq!(row.detection_count, 1);
    // The matched event is kept as evidence; its captured fields and entities too.
    let ev = r
        .state
        .store
        .event(ds[0].event_key.as_deref().unwrap_or(""))
        .expect("event");
    assert!(ev.and_then(|e| e.document).is_some());
    assert!(ds[0].document["context"].is_array());
    assert!(ds[0].document["entities"].is_array());
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correlation_straddling_a_restart_fires() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    // Five failed logons of one account within ten minutes fire the brute-force
    // correlation: three before the restart, two after.
    let first: Vec<RawEvent> = (0..3)
        .map(|i| failed_logon(i + 1, i as i64 * 10, "mallory"))
        .collect();
    submit(&r, "http", first).await;
    assert!(correlation_hits(&r).is_empty());
    r.shutdown().await.expect("shutdown");

    let r = start(config(dir.path())).await;
    let second: Vec<RawEvent> = (3..5)
        .map(|i| failed_logon(i + 1, i as i64 * 10, "mallory"))
        .collect();
    submit(&r, "http", second).await;
    // Another account's logon 60 s later moves the watermark (30 s lateness) past the
    // fifth failure.
    submit(&r, "http", vec![logon(100, 100, "alice", 4624)]).await;
    let hits = correlation_hits(&r);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["group"]["TargetUserName"], "mallory");
    assert_eq!(hits[0]["value"], 5.0);
    r.shutdown().await.expect("shutdown");

    // Restarting again replays the same inputs: the hit is not stored twice.
    let r = start(config(dir.path())).await;
    submit(&r, "http", vec![logon(101, 200, "alice", 4624)]).await;
    assert_eq!(correlation_hits(&r).len(), 1);
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_behind_the_watermark_are_counted_late() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    submit(&r, "http", vec![failed_logon(1, 600, "bob")]).await;
    // 60 s older than the newest time: behind the 30 s allowed lateness.
    submit(&r, "http", vec![failed_logon(2, 540, "bob")]).await;
    // 20 s older: inside it, fed.
    submit(&r, "http", vec![failed_logon(3, 580, "bob")]).await;
    let m = r.state.metrics.render();
    assert!(m.contains("vigie_correlation_late_total 1"), "{m}");
    let events = r.state.store.correlation_events().expect("events");
    let keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys.len(),
        2,
        "the late one does not feed correlation: {keys:?}"
    );
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_files_and_syslog_are_ingested() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_, events) = july2025();
    let file = dir.path().join("followed.jsonl");
    let lines: Vec<String> = events[..50]
        .iter()
        .map(|e| e.document.to_string())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let mut c = config(&dir.path().join("data"));
    c.files = vec![file.clone()];
    c.syslog.udp = Some("127.0.0.1:0".parse().expect("addr"));
    let r = start(c).await;
    let udp = r.inputs.syslog.udp.as_ref().expect("udp listener").addr;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    sock.send_to(
        b"<34>1 2025-07-24T08:00:00Z host1 sshd 42 - - Failed password for root",
        udp,
    )
    .expect("send");
    let want = 51;
    let mut got = 0;
    for _ in 0..100 {
        got = r.state.store.counts().expect("counts").events;
        if got >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(got, want, "50 lines of the file and 1 syslog message");
    let m = r.state.metrics.render();
    let input = format!("file:{}", file.display());
    assert!(
        m.contains(&format!("vigie_events_in_total{{source=\"{input}\"}} 50")),
        "{m}"
    );
    r.shutdown().await.expect("shutdown");
}
