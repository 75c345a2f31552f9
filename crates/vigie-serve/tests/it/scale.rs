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

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub input: PathBuf,
    pub rules: Arc<RuleSet>,
    pub report: vigie_sigma::LoadReport,
    pub mapping: vigie_incident::EntityMapping,
    pub model: vigie_model::Model,
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

pub(crate) fn fixture() -> Fixture {
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
pub(crate) type Outcome = (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>);

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

/// The detections `vigie hunt` finds in the file (captured fields on, as respond).
pub(crate) fn hunt(f: &Fixture) -> Vec<vigie_hunt::Detection> {
    let opts = vigie_hunt::HuntOptions {
        capture: Some(f.mapping.capture()),
        ..Default::default()
    };
    let (files, errors) = vigie_event::discover(std::slice::from_ref(&f.input));
    let mut sink = vigie_hunt::Collect::default();
    vigie_hunt::hunt(&f.rules, &f.report, &files, errors, &opts, &mut sink).unwrap();
    sink.0
}

/// What `vigie hunt` (and respond's grouping) gives on the file.
fn reference(f: &Fixture) -> Outcome {
    outcome(f, hunt(f))
}

/// A detection named by what its wire document says (rule, source and record, or a
/// correlation's group and times): comparable between the store and a hunt.
pub(crate) fn wire_key(doc: &serde_json::Value) -> String {
    if doc["correlation"].as_bool() == Some(true) {
        format!(
            "{}|corr|{}|{}|{}",
            doc["rule_id"], doc["group"], doc["first"], doc["last"]
        )
    } else {
        format!("{}|{}|{}", doc["rule_id"], doc["source"], doc["record"])
    }
}

/// Detections (wire keys) and incidents (id → wire keys) as hunt + respond's grouping
/// give them.
pub(crate) fn wire_reference(f: &Fixture) -> Outcome {
    let dets = hunt(f);
    let keys: Vec<String> = dets
        .iter()
        .map(|d| {
            let w = vigie_wire::v1::Detection::from_engine(d, f.rules.meta(d.rule));
            wire_key(&serde_json::to_value(w).unwrap())
        })
        .collect();
    let (index, _) = vigie_model::identity::IdentityIndex::build(&f.model);
    let observed = vigie_incident::respond::observe_all(&f.rules, &f.mapping, &index, dets);
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
    (keys.into_iter().collect(), incidents)
}

/// The same from a store: its detections and its live (not merged) incidents.
pub(crate) fn stored(store: &vigie_store::Store) -> Outcome {
    let rows = store
        .detections(&vigie_store::DetectionQuery {
            limit: 10_000,
            ..Default::default()
        })
        .unwrap();
    assert!(rows.next.is_none(), "more detections than one page");
    let mut dets = BTreeSet::new();
    let mut incidents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows.items {
        let k = wire_key(&r.document);
        assert!(dets.insert(k.clone()), "stored twice: {k}");
        if let Some(i) = r.incident_id {
            incidents.entry(i).or_default().insert(k);
        }
    }
    (dets, incidents)
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

/// Everything consumed and fed, waited for as conditions (no fixed sleep decides):
/// events and detections acked; every partition's saved position (an events-stream
/// sequence: fed through it) at the events consumer's ack floor, so a killed owner's
/// partitions have been taken over and fed; `count` (what the leader has committed) at
/// least `expect` (the reference's detections: the last hits need the idle flush to
/// pass the watermark, which may take longer than any fixed pause under load); then
/// `count` unchanged for a second, so an extra detection shows too.
async fn wait_quiescent<F, Fut>(
    url: &str,
    partitions: u32,
    count: F,
    expect: usize,
    deadline: Duration,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let cfg = NatsConfig {
        url: url.to_string(),
        ..NatsConfig::default()
    };
    let (_, js) = nats::connect(&cfg).await.unwrap();
    let names = Names::new(&cfg.stream);
    let t = Instant::now();
    let mut stable_since: Option<(usize, Instant)> = None;
    let mut last = String::new();
    // Everything consumed and fed, only detections short: the comparison that follows
    // names them.
    let mut only_short = false;
    loop {
        if t.elapsed() >= deadline && only_short {
            return;
        }
        assert!(
            t.elapsed() < deadline,
            "the cluster did not settle within {deadline:?}: {last}"
        );
        only_short = false;
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The consumer's ack floor when nothing is pending or unacked.
        let drained = |s: &str, c: &str| {
            let js = js.clone();
            let (s, c) = (s.to_string(), c.to_string());
            async move {
                let stream = js.get_stream(&s).await.ok()?;
                let mut consumer = stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&c)
                    .await
                    .ok()?;
                let i = consumer.info().await.ok()?;
                (i.num_pending == 0 && i.num_ack_pending == 0)
                    .then_some(i.ack_floor.stream_sequence)
            }
        };
        let Some(floor) = drained(&cfg.stream, &cfg.consumer).await else {
            last = "events not all acked".into();
            stable_since = None;
            continue;
        };
        if drained(&names.det_stream, &names.leader_consumer)
            .await
            .is_none()
        {
            last = "detections not all acked".into();
            stable_since = None;
            continue;
        }
        let Ok(state) = js.get_key_value(&names.state).await else {
            continue;
        };
        let mut behind = Vec::new();
        for p in 0..partitions {
            let pos = state
                .get(vigie_serve::worker::partition::position_key(p))
                .await
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            if pos < floor {
                behind.push((p, pos));
            }
        }
        let n = count().await;
        only_short = behind.is_empty() && n < expect;
        if !behind.is_empty() || n < expect {
            last = format!(
                "partitions behind the ack floor {floor}: {behind:?}; {n} of {expect} detections"
            );
            stable_since = None;
            continue;
        }
        match stable_since {
            Some((m, since)) if m == n && since.elapsed() > Duration::from_secs(1) => return,
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
async fn cluster(f: &Fixture, n: usize, kill_at: Option<u64>, expect: usize) -> Option<Run> {
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
    let s = sink.clone();
    let count = move || {
        let s = s.clone();
        async move { s.dets.lock().unwrap().len() }
    };
    wait_quiescent(&server.url(), 8, count, expect, Duration::from_secs(45)).await;
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
pub(crate) fn same(label: &str, got: &Outcome, want: &Outcome) {
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
    let expect = reference.0.len();
    let Some(one) = cluster(&f, 1, None, expect).await else {
        return;
    };
    show("1 worker", &one, &reference);
    same("1 worker vs hunt and respond", &one.outcome, &reference);

    let two = cluster(&f, 2, None, expect).await.unwrap();
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

    let killed = cluster(&f, 2, Some(two.published / 3), expect)
        .await
        .unwrap();
    show("2 workers, leader killed", &killed, &reference);
    same("2 workers with a kill vs 1", &killed.outcome, &one.outcome);
    assert!(killed.split.iter().sum::<u64>() >= killed.published);
}

/// Kills the incident leader among `workers` once `at` events are acked in all;
/// returns what the killed one had acked.
async fn kill_leader_at(workers: &mut [Option<Worker>], at: u64) -> u64 {
    use std::sync::atomic::Ordering::Relaxed;
    let t = Instant::now();
    loop {
        let done: u64 = workers
            .iter()
            .flatten()
            .map(|w| w.counts().events.load(Relaxed))
            .sum();
        let leader = workers
            .iter()
            .position(|w| w.as_ref().is_some_and(|w| w.counts().leader.load(Relaxed)));
        if let (true, Some(i)) = (done >= at, leader) {
            let w = workers[i].take().unwrap();
            let n = w.counts().events.load(Relaxed);
            println!(
                "killed {} (leader, {} partitions) after {done} events",
                w.id(),
                w.counts().partitions.load(Relaxed)
            );
            w.kill();
            return n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "never reached {at} events"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `vigie serve --worker` as it runs in production: two workers over one PostgreSQL
/// store (events recorded by the workers, detections and incidents by the leader with
/// the live incidents of a single node), the leader killed mid-stream: every event is
/// stored once, and the store holds exactly the detections of `vigie hunt` and the
/// incidents of respond's grouping.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_on_postgres_with_a_kill_store_what_hunt_and_respond_give() {
    use vigie_serve::config::{Config, CorrelationConfig, IngestConfig};
    let f = fixture();
    let want = wire_reference(&f);
    let Some(server) = TempNats::start() else {
        return;
    };
    let Some(pg) = vigie_test_support::postgres::TempPostgres::start() else {
        return;
    };
    let config = Config {
        rules: vec![vigie_test_support::repo_root().join("rules")],
        store: Some(pg.url()),
        nats: Some(NatsConfig {
            url: server.url(),
            ack_wait_secs: 2,
            partitions: 8,
            lease_ms: 1500,
            ..NatsConfig::default()
        }),
        correlation: CorrelationConfig {
            allowed_lateness: "30m".into(),
        },
        ingest: IngestConfig {
            max_batch_events: 40,
            ..IngestConfig::default()
        },
        ..Config::default()
    };
    let defaults = vigie_serve::pipeline::Defaults {
        rules: &[],
        model: vigie_model::demo,
    };
    let spec = vigie_store::StoreSpec::parse(&pg.url()).unwrap();
    let open = |spec: vigie_store::StoreSpec| async move {
        tokio::task::spawn_blocking(move || vigie_store::Store::open(&spec).unwrap())
            .await
            .unwrap()
    };
    let mut workers = Vec::new();
    for i in 0..2 {
        let (c, d) = (config.clone(), defaults);
        let engines =
            tokio::task::spawn_blocking(move || vigie_serve::pipeline::Engines::load(&c, &d))
                .await
                .unwrap()
                .unwrap();
        let store = open(spec.clone()).await;
        let changes = tokio::sync::broadcast::channel(256).0;
        let w = vigie_serve::worker::start_with(
            &config,
            engines,
            store,
            changes,
            Some(format!("pg{i}")),
        )
        .await
        .unwrap();
        workers.push(Some(w));
    }
    let (events, _) = nats::read_events(std::slice::from_ref(&f.input));
    let n_events = events.len() as u64;
    let publisher = Publisher::connect(config.nats.as_ref().unwrap())
        .await
        .unwrap();
    let publishing = tokio::spawn(async move {
        for chunk in events.chunks(100) {
            publisher.publish(chunk).await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    kill_leader_at(&mut workers, n_events / 3).await;
    publishing.await.unwrap();
    // Dropped off the runtime: the PostgreSQL client's drop blocks.
    let store = Arc::new(vigie_serve::worker::OffRuntime::new(
        open(spec.clone()).await,
    ));
    let s = store.clone();
    let count = move || {
        let s = (**s).clone();
        async move {
            tokio::task::spawn_blocking(move || {
                s.counts().map(|c| c.detections as usize).unwrap_or(0)
            })
            .await
            .unwrap_or(0)
        }
    };
    wait_quiescent(
        &server.url(),
        8,
        count,
        want.0.len(),
        Duration::from_secs(50),
    )
    .await;
    for w in workers.into_iter().flatten() {
        w.stop().await;
    }
    let s = (**store).clone();
    let (counts, got) = tokio::task::spawn_blocking(move || (s.counts().unwrap(), stored(&s)))
        .await
        .unwrap();
    println!(
        "postgres, 2 workers, leader killed: {n_events} events published, {} stored; {} detections, {} incidents",
        counts.events,
        got.0.len(),
        got.1.len()
    );
    assert_eq!(counts.events, n_events, "events stored once each");
    same("workers on PostgreSQL vs hunt and respond", &got, &want);
}
