//! Scale-out (`--worker`) against a real `nats-server`: the same events through 1
//! worker, 2 workers, and 2 workers one of which is killed mid-stream give exactly the
//! detections (correlation hits included) and incidents of `vigie hunt` + respond's
//! grouping over the file; with 2 workers each handles at least 30 % of the events.
//!
//! Input: the July 2025 intrusion (2012 events, 24 hosts, many accounts) with bursts
//! of failed logons for two accounts on three hosts, so the brute-force correlation
//! fires across workers. The incident sink is the leader's shared, durable end in
//! this test: it keeps what the leader commits and refuses nothing, so a detection the
//! cluster lost or sent twice shows as a difference.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigie_hunt::{CorrelationOrder, SessionOptions};
use vigie_serve::config::NatsConfig;
use vigie_serve::ingest::nats::{self, Publisher};
use vigie_serve::worker::leader::{IncidentSink, LeaderDetection};
use vigie_serve::worker::{Names, Worker, WorkerOptions};
use vigie_serve::ServeError;
use vigie_sigma::RuleSet;
use vigie_test_support::nats::TempNats;

/// The leader's durable end, shared by every worker as the store is.
#[derive(Default)]
struct Collected {
    dets: Mutex<Vec<LeaderDetection>>,
}

impl IncidentSink for Collected {
    fn known(&self) -> Result<Vec<String>, ServeError> {
        Ok(self
            .dets
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.key.clone())
            .collect())
    }
    fn commit(&self, new: Vec<LeaderDetection>) -> Result<(), ServeError> {
        self.dets.lock().unwrap().extend(new);
        Ok(())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    input: PathBuf,
    rules: Arc<RuleSet>,
    report: vigie_sigma::LoadReport,
    mapping: vigie_incident::EntityMapping,
    model: vigie_model::Model,
}

/// Bursts of six failed logons (two accounts, three hosts) merged into the sample by
/// time; EventRecordIDs far above the sample's so every event keeps its own key.
fn input_file(dir: &Path) -> PathBuf {
    let sample = vigie_test_support::repo_root().join("samples/july2025.jsonl");
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut lines: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let t = v["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"]
                .as_str()
                .unwrap()
                .to_string();
            (t, l.to_string())
        })
        .collect();
    let hosts = [
        "wssales01.armorique.local",
        "crmapp01.armorique.local",
        "dc02.armorique.local",
    ];
    let mut rec = 900_000;
    for (burst, (user, hour)) in [("a.riou", 9), ("k.morvan", 14), ("a.riou", 20)]
        .iter()
        .enumerate()
    {
        for i in 0..6 {
            rec += 1;
            let t = format!(
                "2025-07-24T{hour:02}:{:02}:{:02}.000000Z",
                10 + burst,
                i * 9
            );
            let ev = serde_json::json!({"Event": {"System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "EventID": 4625, "EventRecordID": rec, "Channel": "Security",
                "Computer": hosts[i % 3],
                "TimeCreated": {"#attributes": {"SystemTime": t}}},
                "EventData": {"TargetUserName": user, "TargetDomainName": "ARMORIQUE",
                    "Status": "0xc000006d", "LogonType": 3, "IpAddress": "10.20.0.66"}}});
            lines.push((t, ev.to_string()));
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let body: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
    vigie_test_support::write_file(dir, "input.jsonl", body.as_bytes())
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path());
    let load = vigie_hunt::load_options(None, None).unwrap();
    let (rules, report) =
        RuleSet::load(&[vigie_test_support::repo_root().join("rules")], &load).unwrap();
    Fixture {
        _dir: dir,
        input,
        rules: Arc::new(rules),
        report,
        mapping: vigie_incident::EntityMapping::default(),
        model: vigie_model::demo(),
    }
}

/// Detections by key (as respond keys them) and incidents as (id, detection keys).
type Outcome = (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>);

fn outcome(f: &Fixture, dets: Vec<vigie_hunt::Detection>) -> Outcome {
    let (index, _) = vigie_model::identity::IdentityIndex::build(&f.model);
    let observed = vigie_incident::respond::observe_all(&f.rules, &f.mapping, &index, dets);
    let keys: Vec<String> = observed.iter().map(vigie_incident::detection_key).collect();
    let attack = vigie_model::derive_attack_edges(&f.model.index());
    let g = vigie_incident::group(&observed, &f.model, &attack, &Default::default());
    let incidents = g
        .incidents
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                i.detections.iter().map(|&d| keys[d].clone()).collect(),
            )
        })
        .collect();
    let set: BTreeSet<String> = keys.iter().cloned().collect();
    assert_eq!(set.len(), keys.len(), "a detection twice");
    (set, incidents)
}

/// What `vigie hunt` (and respond's grouping) gives on the file.
fn reference(f: &Fixture) -> Outcome {
    let opts = vigie_hunt::HuntOptions {
        capture: Some(f.mapping.capture()),
        ..Default::default()
    };
    let (files, errors) = vigie_event::discover(std::slice::from_ref(&f.input));
    let mut sink = vigie_hunt::Collect::default();
    vigie_hunt::hunt(&f.rules, &f.report, &files, errors, &opts, &mut sink).unwrap();
    outcome(f, sink.0)
}

fn session_options(f: &Fixture) -> Arc<SessionOptions> {
    Arc::new(SessionOptions {
        correlation_order: CorrelationOrder::Watermark {
            lateness: chrono::TimeDelta::minutes(30),
        },
        capture: Some(f.mapping.capture()),
        ..Default::default()
    })
}

fn worker_options(url: &str, id: &str) -> WorkerOptions {
    let mut o = WorkerOptions::new(NatsConfig {
        url: url.to_string(),
        ack_wait_secs: 2,
        ..NatsConfig::default()
    });
    o.partitions = 8;
    o.lease_ttl = Duration::from_millis(1500);
    o.batch = 40;
    o.lateness = chrono::TimeDelta::minutes(30);
    o.id = Some(id.to_string());
    o
}

/// Everything consumed: events and detections acked, each partition's position at its
/// subject's last message; and the sink has stayed the same for a moment.
async fn wait_quiescent(url: &str, partitions: u32, sink: &Collected, deadline: Duration) {
    let cfg = NatsConfig {
        url: url.to_string(),
        ..NatsConfig::default()
    };
    let (_, js) = nats::connect(&cfg).await.unwrap();
    let names = Names::new(&cfg.stream);
    let t = Instant::now();
    let mut stable_since: Option<(usize, Instant)> = None;
    loop {
        assert!(
            t.elapsed() < deadline,
            "the cluster did not settle within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let drained = |s: &str, c: &str| {
            let js = js.clone();
            let (s, c) = (s.to_string(), c.to_string());
            async move {
                let Ok(stream) = js.get_stream(&s).await else {
                    return false;
                };
                let Ok(mut consumer) = stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&c)
                    .await
                else {
                    return false;
                };
                consumer
                    .info()
                    .await
                    .is_ok_and(|i| i.num_pending == 0 && i.num_ack_pending == 0)
            }
        };
        if !drained(&cfg.stream, &cfg.consumer).await
            || !drained(&names.det_stream, &names.leader_consumer).await
        {
            stable_since = None;
            continue;
        }
        let Ok(corr) = js.get_stream(&names.corr_stream).await else {
            continue;
        };
        let Ok(state) = js.get_key_value(&names.state).await else {
            continue;
        };
        let mut caught_up = true;
        for p in 0..partitions {
            let last = corr
                .get_last_raw_message_by_subject(&names.corr_subject(p))
                .await
                .map(|m| m.sequence)
                .unwrap_or(0);
            let pos = state
                .get(vigie_serve::worker::partition::position_key(p))
                .await
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            caught_up &= pos >= last;
        }
        let n = sink.dets.lock().unwrap().len();
        if !caught_up {
            stable_since = None;
            continue;
        }
        match stable_since {
            Some((m, since)) if m == n && since.elapsed() > Duration::from_secs(2) => return,
            Some((m, _)) if m == n => {}
            _ => stable_since = Some((n, Instant::now())),
        }
    }
}

struct Run {
    outcome: Outcome,
    /// Events acked per worker.
    split: Vec<u64>,
    published: u64,
}

/// Publishes the file, runs `n` workers until everything is consumed (killing the
/// incident leader once `kill_at` events are acked, when set).
async fn cluster(f: &Fixture, n: usize, kill_at: Option<u64>) -> Option<Run> {
    let server = TempNats::start()?;
    let cfg = NatsConfig {
        url: server.url(),
        ..NatsConfig::default()
    };
    let (events, problems) = nats::read_events(std::slice::from_ref(&f.input));
    assert!(problems.is_empty(), "{problems:?}");
    let sink = Arc::new(Collected::default());
    let mut workers = Vec::new();
    for i in 0..n {
        let w = Worker::start(
            worker_options(&server.url(), &format!("w{i}")),
            f.rules.clone(),
            session_options(f),
            sink.clone(),
            None,
        )
        .await
        .unwrap();
        workers.push(Some(w));
    }
    // Published in chunks while the workers run, so a kill lands mid-stream.
    let publisher = Publisher::connect(&cfg).await.unwrap();
    let publishing = tokio::spawn(async move {
        let mut n = 0;
        for chunk in events.chunks(100) {
            n += publisher.publish(chunk).await.unwrap().published;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        n
    });
    let mut killed = Vec::new();
    if let Some(at) = kill_at {
        let t = Instant::now();
        loop {
            let done: u64 = workers
                .iter()
                .flatten()
                .map(|w| w.counts().events.load(std::sync::atomic::Ordering::Relaxed))
                .sum();
            let leader = workers.iter().position(|w| {
                w.as_ref()
                    .is_some_and(|w| w.counts().leader.load(std::sync::atomic::Ordering::Relaxed))
            });
            if done >= at {
                if let Some(i) = leader {
                    let w = workers[i].take().unwrap();
                    killed.push(w.counts().events.load(std::sync::atomic::Ordering::Relaxed));
                    println!(
                        "killed {} (leader, {} partitions) after {done} events",
                        w.id(),
                        w.counts()
                            .partitions
                            .load(std::sync::atomic::Ordering::Relaxed)
                    );
                    w.kill();
                    break;
                }
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "never reached {at} events"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let published = publishing.await.unwrap();
    wait_quiescent(&server.url(), 8, &sink, Duration::from_secs(45)).await;
    let mut split: Vec<u64> = killed;
    for w in workers.into_iter().flatten() {
        split.push(w.counts().events.load(std::sync::atomic::Ordering::Relaxed));
        w.stop().await;
    }
    let dets = std::mem::take(&mut *sink.dets.lock().unwrap());
    let keys: HashSet<&String> = dets.iter().map(|d| &d.key).collect();
    assert_eq!(
        keys.len(),
        dets.len(),
        "the leader committed a detection twice"
    );
    let outcome = outcome(f, dets.into_iter().map(|d| d.detection).collect());
    Some(Run {
        outcome,
        split,
        published,
    })
}

/// Equal, or a panic naming what differs.
fn same(label: &str, got: &Outcome, want: &Outcome) {
    let missing: Vec<_> = want.0.difference(&got.0).collect();
    let extra: Vec<_> = got.0.difference(&want.0).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{label}: detections missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(got.1, want.1, "{label}: incidents differ");
}

fn show(label: &str, r: &Run, reference: &Outcome) {
    let total: u64 = r.split.iter().sum();
    let shares: Vec<String> = r
        .split
        .iter()
        .map(|n| format!("{n} ({:.0} %)", 100.0 * *n as f64 / total.max(1) as f64))
        .collect();
    println!(
        "{label}: {} events published, acked per worker {}; {} detections ({} correlation hits in the reference), {} incidents",
        r.published,
        shares.join(", "),
        r.outcome.0.len(),
        reference.0.iter().filter(|k| k.contains("\u{1f}correlation")).count(),
        r.outcome.1.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_equal_one_and_hunt_and_survive_a_kill() {
    let f = fixture();
    let reference = reference(&f);
    assert!(
        reference
            .0
            .iter()
            .filter(|k| k.contains("\u{1f}correlation"))
            .count()
            >= 3,
        "the input should make the brute-force correlation fire: {:?}",
        reference.0
    );
    let Some(one) = cluster(&f, 1, None).await else {
        return;
    };
    show("1 worker", &one, &reference);
    same("1 worker vs hunt and respond", &one.outcome, &reference);

    let two = cluster(&f, 2, None).await.unwrap();
    show("2 workers", &two, &reference);
    same("2 workers vs 1", &two.outcome, &one.outcome);
    let total: u64 = two.split.iter().sum();
    for n in &two.split {
        assert!(
            *n * 10 >= total * 3,
            "a worker handled under 30 %: {:?}",
            two.split
        );
    }

    let killed = cluster(&f, 2, Some(two.published / 3)).await.unwrap();
    show("2 workers, leader killed", &killed, &reference);
    same("2 workers with a kill vs 1", &killed.outcome, &one.outcome);
    assert!(killed.split.iter().sum::<u64>() >= killed.published);
}
