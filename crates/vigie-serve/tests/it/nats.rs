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
            document: json!({"EventID": 4624, "Computer": format!("ws{}", i % 3), "n": i}),
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
