//! Syslog listeners end to end into the ingest queue: UDP (drops counted when the queue
//! is full), TCP with octet counting and with newlines (waits for room), rejected
//! messages with their reasons. The queue is drained by a test processor that records
//! what it takes and "commits" positions, as the real processor does in the store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, Notify};
use vigie_serve::ingest::syslog::{spawn_tcp, spawn_udp, SyslogOptions};
use vigie_serve::ingest::{Ingest, IngestOutcome, Job, RawEvent, Rejected};
use vigie_serve::metrics::Metrics;

/// What the test processor took, in order.
#[derive(Default)]
pub struct Taken {
    pub events: Vec<(String, RawEvent)>,
    pub rejected: Vec<(String, Rejected)>,
    /// Committed positions by input.
    pub positions: BTreeMap<String, String>,
    pub batches: usize,
}

/// A stand-in for the processor: takes jobs, records them, answers "durable". With
/// `crash_at = Some(n)` the n-th job is dropped unanswered and the queue closed, as a
/// process killed inside that commit; `gate` holds every job until opened.
pub struct Drain {
    pub taken: Arc<Mutex<Taken>>,
    pub gate: Arc<Notify>,
    pub handle: tokio::task::JoinHandle<()>,
}

impl Drain {
    pub fn start(
        mut rx: mpsc::UnboundedReceiver<Job>,
        crash_at: Option<usize>,
        gated: bool,
    ) -> Drain {
        let taken = Arc::new(Mutex::new(Taken::default()));
        let gate = Arc::new(Notify::new());
        let (t, g) = (taken.clone(), gate.clone());
        let handle = tokio::spawn(async move {
            if gated {
                g.notified().await;
            }
            let mut n = 0;
            while let Some(job) = rx.recv().await {
                n += 1;
                if crash_at == Some(n) {
                    return;
                }
                let mut t = t.lock().unwrap();
                t.batches += 1;
                let input = job.batch.input.clone();
                let accepted = job.batch.events.len() as u64;
                for e in job.batch.events {
                    t.events.push((input.clone(), e));
                }
                for r in &job.batch.rejected {
                    t.rejected.push((input.clone(), r.clone()));
                }
                if let Some(p) = job.batch.position {
                    t.positions.insert(p.input, p.position);
                }
                let _ = job.done.send(Ok(IngestOutcome {
                    accepted,
                    duplicates: 0,
                    rejected: job.batch.rejected,
                }));
            }
        });
        Drain {
            taken,
            gate,
            handle,
        }
    }

    /// Waits until `f` holds of what was taken (panics after 10 s).
    pub async fn until(&self, what: &str, f: impl Fn(&Taken) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if f(&self.taken.lock().unwrap()) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let t = self.taken.lock().unwrap();
                panic!(
                    "timed out waiting for {what}: {} events, {} rejected: {:?}",
                    t.events.len(),
                    t.rejected.len(),
                    t.rejected
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn messages(&self) -> Vec<String> {
        let t = self.taken.lock().unwrap();
        t.events
            .iter()
            .map(|(_, e)| {
                e.document["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}

fn local() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test]
async fn udp_messages_and_rejects() {
    let (ingest, rx) = Ingest::new(1000);
    let drain = Drain::start(rx, None, false);
    let metrics = Arc::new(Metrics::new());
    let l = spawn_udp(local(), ingest, metrics.clone(), SyslogOptions::default())
        .await
        .unwrap();
    let sock = UdpSocket::bind(local()).await.unwrap();
    let me = sock.local_addr().unwrap();
    for m in [
        "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut=\"3\"] An application event",
        "<38>Feb  5 17:32:18 gw sshd[4022]: Failed password for root\n",
        "no header at all",
    ] {
        sock.send_to(m.as_bytes(), l.addr).await.unwrap();
    }
    drain
        .until("2 events and 1 reject", |t| {
            t.events.len() == 2 && t.rejected.len() == 1
        })
        .await;
    {
        let t = drain.taken.lock().unwrap();
        let (input, first) = &t.events[0];
        assert_eq!(input, "syslog-udp");
        assert_eq!(&*first.source, format!("syslog:{me}"));
        assert_eq!(first.document["timestamp"], "2003-10-11T22:14:15.003Z");
        assert_eq!(
            first.document["structured_data"]["exampleSDID@32473"]["iut"],
            "3"
        );
        let second = &t.events[1].1;
        assert_eq!(second.document["app"], "sshd");
        assert_eq!(second.document["message"], "Failed password for root");
        assert!(second.record > first.record);
        let reason = &t.rejected[0].1.reason;
        assert!(
            reason.contains(&format!("syslog:{me}")) && reason.contains("byte 0: not syslog"),
            "{reason}"
        );
    }
    let want = "vigie_events_rejected_total{source=\"syslog-udp\",reason=\"unreadable\"} 1";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !metrics.render().contains(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            metrics.render()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    l.handle.abort();
}

/// A full queue drops UDP batches, each counted and none silently.
#[tokio::test]
async fn udp_queue_full_is_counted() {
    let (ingest, rx) = Ingest::new(2);
    // Nothing takes from the queue: two one-message batches fill it.
    let _rx = rx;
    let metrics = Arc::new(Metrics::new());
    let opts = SyslogOptions {
        batch_events: 1,
        ..SyslogOptions::default()
    };
    let l = spawn_udp(local(), ingest.clone(), metrics.clone(), opts)
        .await
        .unwrap();
    let sock = UdpSocket::bind(local()).await.unwrap();
    for i in 0..10 {
        sock.send_to(format!("<13>message {i}").as_bytes(), l.addr)
            .await
            .unwrap();
        // Paced: the loopback socket buffer must not be what drops them.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let want = "vigie_events_rejected_total{source=\"syslog-udp\",reason=\"queue_full\"} 8";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !metrics.render().contains(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            metrics.render()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ingest.depth(), 2);
    l.handle.abort();
}

/// Octet counting (with a frame over the limit and writes cut anywhere) and newline
/// framing on two connections: every message in order, the long one rejected.
#[tokio::test]
async fn tcp_both_framings() {
    let (ingest, rx) = Ingest::new(1000);
    let drain = Drain::start(rx, None, false);
    let opts = SyslogOptions {
        max_message: 200,
        ..SyslogOptions::default()
    };
    let l = spawn_tcp(local(), ingest, Arc::new(Metrics::new()), opts)
        .await
        .unwrap();

    let mut octets = Vec::new();
    let long = format!("<13>1 - h a - - - {}", "x".repeat(300));
    for i in 0..50 {
        let m = if i == 10 {
            long.clone()
        } else {
            format!(
                "<13>1 2024-01-01T00:00:{:02}Z h app {i} - - line {i}\nwith a newline inside",
                i % 60
            )
        };
        octets.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
    }
    let mut c = TcpStream::connect(l.addr).await.unwrap();
    for piece in octets.chunks(37) {
        c.write_all(piece).await.unwrap();
    }
    c.shutdown().await.unwrap();
    drain
        .until("49 events, 1 reject", |t| {
            t.events.len() == 49 && t.rejected.len() == 1
        })
        .await;
    {
        let t = drain.taken.lock().unwrap();
        assert!(
            t.rejected[0]
                .1
                .reason
                .contains("frame of 318 bytes is over the limit of 200 bytes"),
            "{:?}",
            t.rejected
        );
        let procids: Vec<String> = t
            .events
            .iter()
            .map(|(_, e)| e.document["procid"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = (0..50)
            .filter(|i| *i != 10)
            .map(|i| i.to_string())
            .collect();
        assert_eq!(procids, want);
        assert_eq!(
            t.events[0].1.document["message"],
            "line 0\nwith a newline inside"
        );
        assert!(t.events.iter().all(|(input, _)| input == "syslog-tcp"));
    }

    let mut c = TcpStream::connect(l.addr).await.unwrap();
    c.write_all(b"<13>Jan  2 03:04:05 host app: one\r\n\nJan  2 03:04:06 host app: two\n<13>thr")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.write_all(b"ee").await.unwrap();
    drop(c);
    drain.until("3 more", |t| t.events.len() == 52).await;
    let msgs = drain.messages();
    assert_eq!(msgs[49..], ["one", "two", "three"]);
    l.handle.abort();
}

/// TCP waits for room: with the processor stopped the queue fills to its capacity and
/// no further, nothing is dropped, and once it runs every message arrives in order.
#[tokio::test]
async fn tcp_backpressure() {
    let (ingest, rx) = Ingest::new(8);
    let drain = Drain::start(rx, None, true);
    let opts = SyslogOptions {
        batch_events: 4,
        ..SyslogOptions::default()
    };
    let metrics = Arc::new(Metrics::new());
    let l = spawn_tcp(local(), ingest.clone(), metrics.clone(), opts)
        .await
        .unwrap();
    let mut c = TcpStream::connect(l.addr).await.unwrap();
    let writer = tokio::spawn(async move {
        for i in 0..500 {
            c.write_all(format!("<13>Jan  1 00:00:00 h a: m{i}\n").as_bytes())
                .await
                .unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ingest.depth() <= 8, "queue holds {}", ingest.depth());
    assert!(ingest.depth() > 0);
    assert!(drain.taken.lock().unwrap().events.is_empty());
    drain.gate.notify_one();
    drain.until("500 events", |t| t.events.len() == 500).await;
    writer.await.unwrap();
    let want: Vec<String> = (0..500).map(|i| format!("m{i}")).collect();
    assert_eq!(drain.messages(), want);
    assert!(!metrics.render().contains("queue_full"));
    assert_eq!(
        drain.taken.lock().unwrap().events[0].1.document["app"],
        json!("a")
    );
    l.handle.abort();
}

/// Waits until the metrics hold `want` (panics after 10 s).
pub async fn until_metric(metrics: &Metrics, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !metrics.render().contains(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{want} not in\n{}",
            metrics.render()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The whole service, in-process: a temp SQLite store, one Sigma rule on syslog fields,
/// raw events all kept (so the store counts every event), the given inputs.
pub struct Serve {
    pub running: vigie_serve::server::Running,
}

pub const SSH_RULE: &str = r#"title: SSH password failure for root
id: 99999999-2222-3333-4444-555555555555
status: test
level: medium
logsource:
    product: linux
    service: sshd
detection:
    selection:
        app: sshd
        message|contains: 'Failed password for root'
    condition: selection
"#;

impl Serve {
    pub async fn start(
        dir: &std::path::Path,
        files: Vec<std::path::PathBuf>,
        syslog: bool,
    ) -> Serve {
        let rules = dir.join("rules");
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(rules.join("ssh.yml"), SSH_RULE).unwrap();
        let mut config = vigie_serve::config::Config {
            listen: local(),
            data: dir.join("data"),
            rules: vec![rules],
            events: vigie_serve::config::KeepEvents::All,
            files,
            ..Default::default()
        };
        if syslog {
            config.syslog.udp = Some(local());
            config.syslog.tcp = Some(local());
        }
        let defaults = vigie_serve::pipeline::Defaults {
            rules: &[],
            model: vigie_model::demo,
        };
        let running = vigie_serve::server::start(config, defaults).await.unwrap();
        Serve { running }
    }

    pub fn store(&self) -> vigie_store::Store {
        self.running.state.store.clone()
    }

    /// Waits until the store holds `n` events (panics after 20 s).
    pub async fn until_events(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let store = self.store();
            let got = tokio::task::spawn_blocking(move || store.counts().unwrap().events)
                .await
                .unwrap();
            if got == n {
                return;
            }
            assert!(got < n, "{got} events stored, expected {n}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "{got} of {n} events stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn detections(&self) -> Vec<serde_json::Value> {
        let store = self.store();
        tokio::task::spawn_blocking(move || {
            let q = vigie_store::DetectionQuery {
                limit: 1000,
                ..Default::default()
            };
            store
                .detections(&q)
                .unwrap()
                .items
                .into_iter()
                .map(|d| d.document)
                .collect()
        })
        .await
        .unwrap()
    }
}

/// UDP and TCP (octet counting and newlines) through the real processor into the store:
/// every message stored once, identical lines included, detections on syslog fields with
/// the syslog time, the unreadable one counted.
#[tokio::test]
async fn syslog_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), Vec::new(), true).await;
    let udp = serve.running.inputs.syslog.udp.as_ref().unwrap().addr;
    let tcp = serve.running.inputs.syslog.tcp.as_ref().unwrap().addr;
    let fail = "<38>Feb  5 17:32:18 bastion sshd[4022]: Failed password for root from 10.0.0.7 port 22 ssh2";
    let sock = UdpSocket::bind(local()).await.unwrap();
    // The same line twice: two events (a brute force repeats itself).
    sock.send_to(fail.as_bytes(), udp).await.unwrap();
    sock.send_to(fail.as_bytes(), udp).await.unwrap();
    sock.send_to(b"<13>1 2024-05-01T08:00:00Z h app - - - quiet", udp)
        .await
        .unwrap();

    let mut c = TcpStream::connect(tcp).await.unwrap();
    let m =
        "<38>1 2024-05-01T08:00:02.5Z bastion sshd 812 - - Failed password for root from 10.0.0.8";
    c.write_all(format!("{} {m}5 <13>x", m.len()).as_bytes())
        .await
        .unwrap();
    c.shutdown().await.unwrap();
    let mut c = TcpStream::connect(tcp).await.unwrap();
    c.write_all(b"<13>1 2024-05-01T08:00:03Z h app - - - one\n<13>1 2024-05-01T08:00:04Z h app - - - two\nnot syslog\n")
        .await
        .unwrap();
    c.shutdown().await.unwrap();

    serve.until_events(7).await;
    let d = serve.detections().await;
    assert_eq!(d.len(), 3, "{d:?}");
    let mut times: Vec<&str> = d.iter().map(|d| d["timestamp"].as_str().unwrap()).collect();
    times.sort();
    assert_eq!(times[0], "2024-05-01T08:00:02.500Z");
    assert!(
        times[1..].iter().all(|t| t.ends_with("-02-05T17:32:18Z")),
        "{times:?}"
    );
    let metrics = &serve.running.state.metrics;
    for want in [
        "vigie_events_in_total{source=\"syslog-udp\"} 3",
        "vigie_events_in_total{source=\"syslog-tcp\"} 4",
        "vigie_events_duplicate_total{source=\"syslog-udp\"} 0",
        // Counted by the connection once the batch is durable, just after the store.
        "vigie_events_rejected_total{source=\"syslog-tcp\",reason=\"unreadable\"} 1",
    ] {
        until_metric(metrics, want).await;
    }
    serve.running.shutdown().await.unwrap();
}
