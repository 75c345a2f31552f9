//! In-process tests of `vigie serve`: the service started with `vigie_serve::server`
//! inside the test, fed through its `Ingest` handle, checked through its store.
//! One module per topic; helpers shared here.

mod api;
mod api_harness;
mod auth;
mod config;
mod dashboard_browser;
mod dashboard_routes;
mod dashboard_service;
mod follow;
mod intel_live;
mod live;
mod nats;
mod openapi;
mod pipeline;
mod reload;
mod scale;
mod schemathesis;
mod syslog;
mod tls;
mod webhook;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use vigie_serve::config::Config;
use vigie_serve::ingest::{IngestBatch, IngestOutcome, RawEvent};
use vigie_serve::pipeline::Defaults;
use vigie_serve::server::{self, Running};

pub fn repo() -> PathBuf {
    vigie_test_support::repo_root()
}

/// The repository's rule pack (what the binary embeds) and the demo operator.
pub fn config(data: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data: data.to_path_buf(),
        rules: vec![repo().join("rules")],
        ..Config::default()
    }
}

pub const DEFAULTS: Defaults = Defaults {
    rules: &[],
    model: vigie_model::demo,
};

/// Starts the service and waits until it is ready.
pub async fn start(config: Config) -> Running {
    let r = server::start(config, DEFAULTS).await.expect("start");
    for _ in 0..500 {
        if r.state.ready.load(std::sync::atomic::Ordering::SeqCst) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("not ready after 5 s");
}

/// Submits a batch and waits until it is durable.
pub async fn submit(r: &Running, input: &str, events: Vec<RawEvent>) -> IngestOutcome {
    r.state
        .ingest
        .submit(IngestBatch {
            input: input.into(),
            events,
            ..IngestBatch::default()
        })
        .await
        .expect("durable")
}

/// The July 2025 sample as events, named as `vigie hunt` names it (its path).
pub fn july2025() -> (PathBuf, Vec<RawEvent>) {
    let path = repo().join("samples/july2025.jsonl");
    let text = std::fs::read_to_string(&path).expect("sample");
    let source: Arc<str> = Arc::from(path.display().to_string());
    let events = text
        .lines()
        .enumerate()
        .map(|(i, l)| RawEvent {
            document: vigie_serve::ingest::parse_document(l.as_bytes()).expect("json line"),
            source: source.clone(),
            record: i as u64 + 1,
        })
        .collect();
    (path, events)
}

/// A failed logon (4625) of `user` at `secs` after a fixed start, record `n`.
pub fn failed_logon(n: u64, secs: i64, user: &str) -> RawEvent {
    logon(n, secs, user, 4625)
}

/// A Security logon event of `user` (4624 success, 4625 failure).
pub fn logon(n: u64, secs: i64, user: &str, id: u32) -> RawEvent {
    let t = chrono::DateTime::from_timestamp(1_784_000_000 + secs, 0).expect("time");
    RawEvent {
        document: vigie_serve::ingest::Document::from(json!({"Event": {"System": {
            "EventID": id, "EventRecordID": n, "Channel": "Security",
            "Computer": "wsit01.armorique.local",
            "TimeCreated": {"#attributes": {"SystemTime": vigie_wire::rfc3339(&t)}}},
            "EventData": {"TargetUserName": user, "TargetDomainName": "ARMORIQUE",
                "LogonType": 3, "IpAddress": "203.0.113.9"}}})),
        source: Arc::from("test"),
        record: n,
    }
}

/// Every stored detection (all pages).
pub fn all_detections(r: &Running) -> Vec<vigie_store::DetectionRow> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = r
            .state
            .store
            .detections(&vigie_store::DetectionQuery {
                limit: 500,
                after: after.take(),
                ..Default::default()
            })
            .expect("detections");
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

/// Correlation hits stored (documents with `"correlation": true`).
pub fn correlation_hits(r: &Running) -> Vec<Value> {
    all_detections(r)
        .into_iter()
        .filter(|d| d.document.get("correlation") == Some(&Value::Bool(true)))
        .map(|d| d.document)
        .collect()
}
