//! The NATS JetStream input against a real `nats-server` (TempNats): everything
//! published is taken once, republishing is deduplicated, and an input stopped
//! mid-stream (its acks lost with it) and started again loses nothing and takes nothing
//! twice. The committer here is the ingest queue's receiving end keeping event keys,
//! failing its first commit, as the store would: what the input may ack is what it was
//! told is durable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use vigie_serve::config::NatsConfig;
use vigie_serve::ingest::nats::{self, Publisher};
use vigie_serve::ingest::{Ingest, IngestOutcome, RawEvent, SubmitError};
use vigie_test_support::nats::TempNats;

fn events(n: u64) -> Vec<RawEvent> {
    (1..=n)
        .map(|i| RawEvent {
            document: json!({"EventID": 4624, "Computer": format!("ws{}", i % 3), "n": i}).into(),
            source: Arc::from("input.jsonl"),
            record: i,
        })
        .collect()
}

/// Stand-in committer: keeps keys (delivery count per key), drops known keys as
/// duplicates, fails the `fail_first` first commits.
fn committer(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<vigie_serve::ingest::Job>,
    stored: Arc<Mutex<HashMap<String, u32>>>,
    mut fail_first: u32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            drop(job.permit);
            if fail_first > 0 {
                fail_first -= 1;
                let _ = job.done.send(Err(SubmitError::Commit("injected".into())));
                continue;
            }
            let mut out = IngestOutcome::default();
            {
                let mut s = stored.lock().unwrap();
                for ev in &job.batch.events {
                    let k = nats::message_id(ev);
                    let c = s.entry(k).or_insert(0);
                    *c += 1;
                    if *c == 1 {
                        out.accepted += 1
                    } else {
                        out.duplicates += 1
                    }
                }
            }
            let _ = job.done.send(Ok(out));
        }
    })
}

async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_once_restart_loses_nothing() {
    let Some(server) = TempNats::start() else {
        return;
    };
    let cfg = NatsConfig {
        url: server.url(),
        ack_wait_secs: 2,
        ..NatsConfig::default()
    };
    let evs = events(3000);
    let publisher = Publisher::connect(&cfg).await.unwrap();
    let first = publisher.publish(&evs).await.unwrap();
    assert_eq!((first.published, first.duplicates), (3000, 0));
    // Republished within the duplicate window: JetStream keeps none of them.
    let again = publisher.publish(&evs[..1000]).await.unwrap();
    assert_eq!((again.published, again.duplicates), (1000, 1000));

    let stored = Arc::new(Mutex::new(HashMap::new()));
    let (ingest, rx) = Ingest::new(500);
    let commits = committer(rx, stored.clone(), 1);

    // First run: stopped abruptly once part of the stream is committed (its last
    // batch may be committed and not acked: it comes again).
    let run1 = tokio::spawn(nats::run(
        cfg.clone(),
        ingest.clone(),
        200,
        std::future::pending(),
    ));
    wait_for("a third of the stream", 20, || {
        stored.lock().unwrap().len() >= 1000
    })
    .await;
    run1.abort();
    let _ = run1.await;
    let after_first = stored.lock().unwrap().len();
    assert!(
        after_first < 3000,
        "the first run took everything ({after_first}); no restart tested"
    );

    // Second run: everything, nothing twice as a new event.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run2 = tokio::spawn(nats::run(cfg.clone(), ingest.clone(), 200, async {
        let _ = stop_rx.await;
    }));
    wait_for("the whole stream", 30, || {
        stored.lock().unwrap().len() == 3000
    })
    .await;
    // Nothing left unacked in the consumer.
    let (_, js) = nats::connect(&cfg).await.unwrap();
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(&cfg.stream)
        .await
        .unwrap()
        .get_consumer(&cfg.consumer)
        .await
        .unwrap();
    let t = Instant::now();
    loop {
        let info = consumer.info().await.unwrap();
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "consumer still holds {info:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_tx.send(());
    run2.await.unwrap().unwrap();
    ingest.close();
    drop(ingest);
    commits.abort();

    let s = stored.lock().unwrap();
    let expected: Vec<String> = evs.iter().map(nats::message_id).collect();
    assert!(
        expected.iter().all(|k| s.contains_key(k)),
        "an event was lost"
    );
    assert_eq!(s.len(), 3000, "an event not published was taken");
    let redelivered: u32 = s.values().map(|c| c - 1).sum();
    println!(
        "nats input: 3000 published (+1000 republished, all deduplicated by JetStream), \
         {after_first} committed before the stop, {redelivered} redelivered and dropped as duplicates"
    );
}

/// The single node (`server::start` with `[nats]`, SQLite) restarted at a fixed point
/// of the stream with deliveries left unacknowledged, as a node killed between a fetch
/// and its commit leaves them: a first run stops cleanly while messages flow and must
/// leave no delivery unacked; a second takes the file up to the middle of a burst of
/// failed logons (k.morvan, 14:11) and stops cleanly; the rest is published while it
/// is down; then a fetch takes the next 400 messages (the rest of that burst and the
/// whole a.riou 20:12 burst) and never acks them. JetStream redelivers those only after
/// `ack_wait` (10 s here), after the newer messages: a node that took what the consumer
/// hands out first would see them hours behind its watermark (late, not correlated) and
/// miss both brute-force hits. The restarted node replays the unacknowledged range in
/// stream order first: every event stored once, no input late, and the store holds the
/// detections of `vigie hunt` (the straddling correlation included) and the incidents
/// of respond's grouping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_restart_mid_stream_stores_each_event_once() {
    use crate::scale::{fixture, same, stored, wire_reference};
    use vigie_serve::config::{Config, CorrelationConfig};
    let f = fixture();
    let want = wire_reference(&f);
    let Some(server) = TempNats::start() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let nats_cfg = NatsConfig {
        url: server.url(),
        ack_wait_secs: 10,
        ..NatsConfig::default()
    };
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.path().to_path_buf(),
        rules: vec![vigie_test_support::repo_root().join("rules")],
        nats: Some(nats_cfg.clone()),
        correlation: CorrelationConfig {
            allowed_lateness: "30m".into(),
        },
        ..Config::default()
    };
    let defaults = vigie_serve::pipeline::Defaults {
        rules: &[],
        model: vigie_model::demo,
    };
    let (events, _) = nats::read_events(std::slice::from_ref(&f.input));
    let n = events.len() as u64;
    // The first run stops after the third event of the 14:11 burst (index 634).
    const STOP: usize = 635;
    const UNACKED: usize = 400;
    let burst = |i: usize| {
        events[i].document["Event"]["EventData"]["TargetUserName"].as_str() == Some("k.morvan")
            && events[i].document["Event"]["System"]["EventID"] == 4625
    };
    assert!(
        (STOP - 3..STOP + 3).all(burst),
        "the restart point is not inside the burst"
    );
    let publisher = Publisher::connect(&nats_cfg).await.unwrap();
    let counts = |r: &vigie_serve::server::Running| {
        let s = r.state.store.clone();
        async move {
            tokio::task::spawn_blocking(move || s.counts().unwrap())
                .await
                .unwrap()
        }
    };
    let (_, js) = nats::connect(&nats_cfg).await.unwrap();

    // A clean shutdown while messages flow: what was fetched is committed and acked
    // before the input stops (a fetch dropped half-read would leave deliveries unacked
    // until `ack_wait`, to come back behind newer messages).
    let zero = vigie_serve::server::start(config.clone(), defaults)
        .await
        .unwrap();
    let head = events[..STOP].to_vec();
    let publishing = {
        let publisher = Publisher::connect(&nats_cfg).await.unwrap();
        tokio::spawn(async move {
            for chunk in head.chunks(100) {
                publisher.publish(chunk).await.unwrap();
            }
        })
    };
    wait_for_async("part of the stream stored", 30, || async {
        counts(&zero).await.events >= 100
    })
    .await;
    let mid = counts(&zero).await.events;
    zero.shutdown().await.unwrap();
    publishing.await.unwrap();
    let consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(&nats_cfg.stream)
        .await
        .unwrap()
        .get_consumer(&nats_cfg.consumer)
        .await
        .unwrap();
    let unacked = || {
        let mut c = consumer.clone();
        async move { c.info().await.unwrap().num_ack_pending }
    };
    wait_for_async(
        "no delivery left unacked by a clean shutdown",
        3,
        || async { unacked().await == 0 },
    )
    .await;

    let first = vigie_serve::server::start(config.clone(), defaults)
        .await
        .unwrap();
    wait_for_async("the first part stored", 30, || async {
        counts(&first).await.events >= STOP as u64
    })
    .await;
    let drained = || {
        let mut c = consumer.clone();
        async move {
            let i = c.info().await.unwrap();
            i.num_pending == 0 && i.num_ack_pending == 0
        }
    };
    wait_for_async("the first part acked", 20, drained).await;
    let before = counts(&first).await.events;
    first.shutdown().await.unwrap();
    publisher.publish(&events[STOP..]).await.unwrap();
    // Delivered and never acked: what a node killed before its commit leaves.
    let taken = nats::fetch(&consumer, UNACKED, Duration::from_secs(2))
        .await
        .unwrap();
    let seqs: Vec<u64> = taken
        .iter()
        .map(|m| m.info().unwrap().stream_sequence)
        .collect();
    assert_eq!(
        seqs,
        (STOP as u64 + 1..=(STOP + UNACKED) as u64).collect::<Vec<_>>(),
        "the unacked deliveries are not the messages after the restart point"
    );
    drop(taken);

    let second = vigie_serve::server::start(config.clone(), defaults)
        .await
        .unwrap();
    wait_for_async("the whole stream stored", 40, || async {
        counts(&second).await.events >= n
    })
    .await;
    // The unacked deliveries come again after `ack_wait`: duplicates by then, acked.
    wait_for_async("the consumer drained", 30, drained).await;
    let c = counts(&second).await;
    let late = second.state.metrics.correlation_late.get();
    let s = second.state.store.clone();
    let got = tokio::task::spawn_blocking(move || stored(&s))
        .await
        .unwrap();
    second.shutdown().await.unwrap();
    println!(
        "single node over NATS: {n} published, {mid} stored before a clean stop, {before} \
         before the restart, {UNACKED} left unacked, {} after; {late} inputs late; \
         {} detections, {} incidents",
        c.events,
        got.0.len(),
        got.1.len()
    );
    assert_eq!(
        before, STOP as u64,
        "the first run stops at the restart point"
    );
    assert_eq!(c.events, n, "each event stored once");
    assert_eq!(late, 0, "correlation inputs arrived behind the watermark");
    same("single node over NATS vs hunt and respond", &got, &want);
}

async fn wait_for_async<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while !f().await {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
