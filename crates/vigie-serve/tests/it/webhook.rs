//! Webhooks against a local receiver: `{event, incident}` posted on incident.opened /
//! incident.changed (filtered by `events`), retried with backoff after failures,
//! counted in `vigie_webhook_failures_total` when every try fails, and never in the
//! way of the sender of the changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use vigie_serve::api::webhook::{spawn_with, RetryPolicy};
use vigie_serve::config::WebhookConfig;
use vigie_serve::metrics::Metrics;
use vigie_serve::state::LiveChange;

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<u32>>,
}

async fn hook(State(r): State<Receiver>, Json(v): Json<Value>) -> StatusCode {
    {
        let mut f = r.fail_first.lock().unwrap_or_else(|p| p.into_inner());
        if *f > 0 {
            *f -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    r.got.lock().unwrap_or_else(|p| p.into_inner()).push(v);
    StatusCode::NO_CONTENT
}

async fn receiver(fail_first: u32) -> (String, Receiver) {
    let r = Receiver {
        fail_first: Arc::new(Mutex::new(fail_first)),
        ..Receiver::default()
    };
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/hook",
        l.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, r)
}

fn change(kind: &str, id: &str) -> LiveChange {
    LiveChange {
        kind: kind.into(),
        id: id.into(),
        detail: json!({"id": id, "state": "open"}),
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(20),
        timeout: Duration::from_secs(2),
        queue: 16,
    }
}

async fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_are_posted_with_retries_and_filters() {
    let (all_url, all) = receiver(2).await; // two failures, then accepted on the third try
    let (opened_url, opened) = receiver(0).await;
    let (tx, _) = broadcast::channel(64);
    let metrics = Arc::new(Metrics::new());
    let hooks = vec![
        WebhookConfig {
            url: all_url,
            events: Vec::new(),
        },
        WebhookConfig {
            url: opened_url,
            events: vec!["incident.opened".into()],
        },
    ];
    let task = spawn_with(tx.subscribe(), hooks, metrics.clone(), None, policy());
    assert!(task.is_some());
    for c in [
        change("incident.opened", "inc-1"),
        change("detections", ""),
        change("incident.changed", "inc-1"),
    ] {
        let _ = tx.send(c);
    }
    let got = |r: &Receiver| r.got.lock().map(|g| g.clone()).unwrap_or_default();
    assert!(wait_for(|| got(&all).len() == 2).await, "{:?}", got(&all));
    assert_eq!(
        got(&all),
        vec![
            json!({"event": "incident.opened", "incident": {"id": "inc-1", "state": "open"}}),
            json!({"event": "incident.changed", "incident": {"id": "inc-1", "state": "open"}}),
        ],
        "in order, detections changes not sent"
    );
    assert!(wait_for(|| got(&opened).len() == 1).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(got(&opened).len(), 1, "filtered to incident.opened");
    assert_eq!(metrics.webhook_failures.get(), 0, "retried into success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_and_never_block() {
    // Nothing listens on this port: every try fails.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        format!(
            "http://{}/hook",
            l.local_addr().unwrap_or_else(|e| panic!("{e}"))
        )
    };
    let (tx, _) = broadcast::channel(1024);
    let metrics = Arc::new(Metrics::new());
    let hooks = vec![WebhookConfig {
        url: dead,
        events: Vec::new(),
    }];
    let _task = spawn_with(tx.subscribe(), hooks, metrics.clone(), None, policy());
    // Sending is never held up by the deliveries (the queue holds 16; the rest are
    // dropped and counted).
    let started = std::time::Instant::now();
    for i in 0..100 {
        let _ = tx.send(change("incident.changed", &format!("inc-{i}")));
    }
    assert!(started.elapsed() < Duration::from_millis(200));
    // Every change is accounted for: dropped at the full queue, or tried 3 times and
    // failed.
    assert!(
        wait_for(|| metrics.webhook_failures.get() == 100).await,
        "{} failures counted",
        metrics.webhook_failures.get()
    );
    let text = metrics.render();
    assert!(text.contains("vigie_webhook_failures_total"), "{text}");
}
