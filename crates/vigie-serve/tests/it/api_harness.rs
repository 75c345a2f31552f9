//! The API served in-process for its tests: a temp SQLite store, the real rules of the
//! repository and the demo model loaded, the router on 127.0.0.1:0 (HTTP or HTTPS), and
//! a small committing drain of the ingest queue (each batch's events stored by content
//! key, the outcome sent once committed) that admin requests can pause.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, mpsc, watch};
use vigie_serve::api::auth::{hash_token, new_token, Auth, Role};
use vigie_serve::config::{Config, TlsConfig, WebhookConfig};
use vigie_serve::ingest::{Ingest, IngestOutcome, Job};
use vigie_serve::metrics::Metrics;
use vigie_serve::state::{AdminRequest, AppState, Loaded};
use vigie_store::*;
use vigie_wire::v1::{Detection, Fields};

pub struct Opts {
    /// Add one token per role (secrets in [`Api::tokens`]); none: open.
    pub tokens: bool,
    pub queue_events: u32,
    pub max_body_bytes: u64,
    pub tls: Option<TlsConfig>,
    pub webhooks: Vec<WebhookConfig>,
    /// Seed detections and incidents.
    pub seed: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            tokens: false,
            queue_events: 10_000,
            max_body_bytes: 1 << 20,
            tls: None,
            webhooks: Vec::new(),
            seed: true,
        }
    }
}

pub struct Api {
    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT`).
    pub base: String,
    pub state: AppState,
    pub store: Store,
    pub client: reqwest::Client,
    /// Role name → secret.
    pub tokens: HashMap<&'static str, String>,
    /// Ids of the seeded incidents (newest first) and detections.
    pub incidents: Vec<String>,
    pub detections: Vec<String>,
    handle: axum_server::Handle,
    _dir: tempfile::TempDir,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

pub fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_751_000_000 + s, 0)
        .single()
        .unwrap_or_default()
}

fn hex_id(prefix: &str, key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

fn loaded() -> Loaded {
    let rules_dir: PathBuf = vigie_test_support::repo_root().join("rules");
    let (rs, report) = vigie_sigma::RuleSet::load(&[rules_dir], &Default::default())
        .unwrap_or_else(|e| panic!("rules: {e}"));
    let check = vigie_wire::v1::rules::RulesCheck::from_engine(&report, rs.digest(), 0.0);
    let model = vigie_model::demo();
    Loaded {
        rules: serde_json::to_value(&check).unwrap_or_default(),
        rules_digest: rs.digest().to_string(),
        model_summary: json!({"id": "demo", "digest": vigie_model::digest(&model), "assets": model.assets.len()}),
        model: Arc::new(model),
        loaded_at: vigie_wire::rfc3339(&t(0)),
        rule_metas: rs.rule_ids().map(|id| rs.meta(id).clone()).collect(),
    }
}

/// Commits each batch's events (content keys), answers once committed; paused by
/// `AdminRequest::PauseCommitter(true)` (then the queue fills: HTTP 429).
fn spawn_drain(
    store: Store,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    mut admin: mpsc::UnboundedReceiver<AdminRequest>,
    digest: String,
) {
    let (pause_tx, mut pause_rx) = watch::channel(false);
    tokio::spawn(async move {
        while let Some(req) = admin.recv().await {
            match req {
                AdminRequest::PauseCommitter(p) => {
                    let _ = pause_tx.send(p);
                }
                AdminRequest::Reload(tx) => {
                    let _ = tx.send(Ok(json!({ "rules": digest })));
                }
            }
        }
    });
    tokio::spawn(async move {
        loop {
            let Some(job) = jobs.recv().await else { return };
            // Paused: the job waits uncommitted, holding its room in the queue.
            while *pause_rx.borrow_and_update() {
                if pause_rx.changed().await.is_err() {
                    return;
                }
            }
            let store = store.clone();
            let Job {
                batch,
                done,
                permit,
            } = job;
            let r = tokio::task::spawn_blocking(move || {
                let events: Vec<NewEvent> = batch
                    .events
                    .iter()
                    .map(|e| NewEvent {
                        key: hex_id("sha256:", &e.document.to_string()),
                        input: batch.input.clone(),
                        source: e.source.to_string(),
                        record: e.record,
                        time: None,
                        received_at: Utc::now(),
                        document: Some(e.document.to_value().into_owned()),
                        feeds_correlation: false,
                    })
                    .collect();
                let n = events.len() as u64;
                let out = store.commit(&CommitBatch {
                    events,
                    ..Default::default()
                });
                out.map(|o| IngestOutcome {
                    accepted: o.events_inserted,
                    duplicates: n - o.events_inserted,
                    rejected: batch.rejected.clone(),
                })
                .map_err(|e| vigie_serve::ingest::SubmitError::Commit(e.to_string()))
            })
            .await;
            drop(permit);
            let r =
                r.unwrap_or_else(|e| Err(vigie_serve::ingest::SubmitError::Commit(e.to_string())));
            let _ = done.send(r);
        }
    });
}

/// Seeds `n` detections over two incidents (one with a decision); returns the ids.
fn seed(store: &Store, l: &Loaded, n: usize) -> (Vec<String>, Vec<String>) {
    let metas: Vec<_> = l.rule_metas.iter().filter(|m| m.report).collect();
    let mut batch = CommitBatch::default();
    let inc = [hex_id("inc-", "first"), hex_id("inc-", "second")];
    let mut det_ids = [Vec::new(), Vec::new()];
    for i in 0..n {
        let m = metas[i % metas.len()];
        let ev_key = format!("pos:seed.jsonl:{}", i + 1);
        let d = Detection {
            rule_id: m.key.to_string(),
            rule_title: m.title.clone(),
            level: m.level.as_str().to_string(),
            tags: m.tags.clone(),
            timestamp: Some(vigie_wire::rfc3339(&t(i as i64 * 60))),
            source: Some("seed.jsonl".into()),
            record: Some(i as u64 + 1),
            fields: Fields::from_pairs([("EventID", json!(4625))]),
            keywords: Vec::new(),
            correlation: false,
            hit: None,
        };
        let key = format!("{}|{ev_key}", m.key);
        let id = hex_id("det-", &key);
        det_ids[i % 2].push(id.clone());
        batch.events.push(NewEvent {
            key: ev_key.clone(),
            input: "http".into(),
            source: "seed.jsonl".into(),
            record: i as u64 + 1,
            time: Some(t(i as i64 * 60)),
            received_at: t(0),
            document: Some(json!({"EventID": 4625, "Computer": "dc01"})),
            feeds_correlation: false,
        });
        batch.detections.push(NewDetection {
            id,
            key,
            rule_id: m.key.to_string(),
            rule_title: m.title.clone(),
            level: d.level.clone(),
            time: Some(t(i as i64 * 60)),
            event_key: Some(ev_key),
            assets: vec!["dc01".into()],
            incident_id: None,
            document: serde_json::to_value(&d).unwrap_or_default(),
        });
    }
    for (k, id) in inc.iter().enumerate() {
        batch.incidents.push(IncidentUpsert {
            id: id.clone(),
            first_seen: Some(t(0)),
            last_seen: Some(t(n as i64 * 60)),
            severity: "high".into(),
            risk: 42.5 + k as f64,
            assets: vec!["dc01".into()],
            compromised: vec!["dc01".into()],
            detection_ids: det_ids[k].clone(),
            merged_from: Vec::new(),
            document: json!({"id": id, "timeline": [], "tactics": ["credential-access"], "techniques": ["T1110"]}),
        });
    }
    store
        .commit(&batch)
        .unwrap_or_else(|e| panic!("seed commit: {e}"));
    store
        .save_decision(&DecisionRecord {
            incident_id: inc[0].clone(),
            compromised: vec!["dc01".into()],
            computed_at: t(30),
            document: json!({"assess": {"reach": []}, "contain": null, "restore": null, "notification": null,
                "decision_skipped": [{"engine": "contain", "reason": "test"}]}),
        })
        .unwrap_or_else(|e| panic!("seed decision: {e}"));
    let all = det_ids.concat();
    (inc.iter().rev().cloned().collect(), all)
}

impl Api {
    pub async fn start(o: Opts) -> Api {
        vigie_serve::api::tls::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let spec = StoreSpec::Sqlite(dir.path().join("vigie.db"));
        let s2 = spec.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&s2))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("open store {spec:?}"));
        let mut tokens = HashMap::new();
        if o.tokens {
            for role in Role::ALL {
                let secret = new_token();
                store
                    .add_token(&TokenRow {
                        name: format!("{role}-token"),
                        role: role.as_str().into(),
                        hash: hash_token(&secret),
                        created_at: t(0),
                    })
                    .unwrap_or_else(|e| panic!("add token: {e}"));
                tokens.insert(role.as_str(), secret);
            }
        }
        let l = loaded();
        let (incidents, detections) = if o.seed {
            seed(&store, &l, 12)
        } else {
            Default::default()
        };
        let (ingest, jobs) = Ingest::new(o.queue_events);
        let (admin, admin_rx) = mpsc::unbounded_channel();
        spawn_drain(store.clone(), jobs, admin_rx, l.rules_digest.clone());
        let mut config = Config::default();
        config.ingest.max_body_bytes = o.max_body_bytes;
        config.tls = o.tls.clone();
        config.webhooks = o.webhooks.clone();
        let (changes, _) = broadcast::channel(256);
        let state = AppState {
            store: store.clone(),
            ingest,
            loaded: Arc::new(RwLock::new(Arc::new(l))),
            metrics: Arc::new(Metrics::new()),
            auth: Arc::new(Auth::load(&store).unwrap_or_else(|e| panic!("auth: {e}"))),
            changes,
            admin,
            config: Arc::new(config),
            ready: Arc::new(AtomicBool::new(true)),
            taxii: Default::default(),
        };
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let handle = axum_server::Handle::new();
        let app = vigie_serve::api::router(state.clone());
        let h2 = handle.clone();
        let tls = o.tls.clone();
        tokio::spawn(async move {
            if let Err(e) = vigie_serve::api::tls::serve(listener, app, tls.as_ref(), h2).await {
                eprintln!("serve: {e}");
            }
        });
        let (base, client) = match &o.tls {
            None => (format!("http://127.0.0.1:{port}"), reqwest::Client::new()),
            Some(t) => {
                let pem = std::fs::read(&t.cert).unwrap_or_default();
                let cert =
                    reqwest::Certificate::from_pem(&pem).unwrap_or_else(|e| panic!("cert: {e}"));
                let c = reqwest::Client::builder()
                    .add_root_certificate(cert)
                    .build()
                    .unwrap_or_else(|e| panic!("client: {e}"));
                (format!("https://localhost:{port}"), c)
            }
        };
        Api {
            base,
            state,
            store,
            client,
            tokens,
            incidents,
            detections,
            handle,
            _dir: dir,
        }
    }

    pub fn set_ready(&self, ready: bool) {
        self.state.ready.store(ready, Ordering::Release);
    }
}

/// The whole service (`vigie_serve::server::start`: processor, decider, store, API) on
/// 127.0.0.1:0 with a temp SQLite store, the repository's rules and the demo model.
pub struct Service {
    pub running: Option<vigie_serve::server::Running>,
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: HashMap<&'static str, String>,
    pub dir: tempfile::TempDir,
}

impl Service {
    pub async fn start(tokens: bool, webhooks: Vec<WebhookConfig>) -> Service {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let config = Config {
            listen: ([127, 0, 0, 1], 0).into(),
            data: dir.path().join("data"),
            rules: vec![vigie_test_support::repo_root().join("rules")],
            webhooks,
            ..Config::default()
        };
        let mut secrets = HashMap::new();
        if tokens {
            let spec = config.store_spec().unwrap_or_else(|e| panic!("{e}"));
            let _ = std::fs::create_dir_all(&config.data);
            let rows: Vec<(&'static str, String)> = Role::ALL
                .iter()
                .map(|r| (r.as_str(), new_token()))
                .collect();
            let r2 = rows.clone();
            tokio::task::spawn_blocking(move || {
                let store = Store::open(&spec).unwrap_or_else(|e| panic!("{e}"));
                for (role, secret) in &r2 {
                    store
                        .add_token(&TokenRow {
                            name: format!("{role}-token"),
                            role: role.to_string(),
                            hash: hash_token(secret),
                            created_at: t(0),
                        })
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            secrets = rows.into_iter().collect();
        }
        let defaults = vigie_serve::pipeline::Defaults {
            rules: &[],
            model: vigie_model::demo,
        };
        let running = vigie_serve::server::start(config, defaults)
            .await
            .unwrap_or_else(|e| panic!("start: {e}"));
        let base = running.url();
        let s = Service {
            running: Some(running),
            base,
            client: reqwest::Client::new(),
            tokens: secrets,
            dir,
        };
        for _ in 0..500 {
            if s.req(reqwest::Method::GET, "/readyz", None)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("not ready within 10 s");
    }

    /// Posts `samples/july2025.jsonl` (gzip) as `role`; the 202 body.
    pub async fn ingest_july(&self, role: Option<&str>) -> Value {
        let text = std::fs::read(vigie_test_support::repo_root().join("samples/july2025.jsonl"))
            .unwrap_or_else(|e| panic!("sample: {e}"));
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = std::io::Write::write_all(&mut e, &text);
        let body = e.finish().unwrap_or_default();
        let r = self
            .req(
                reqwest::Method::POST,
                "/api/v1/events?source=july2025.jsonl",
                role,
            )
            .header("content-encoding", "gzip")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST: {e}"));
        assert_eq!(r.status().as_u16(), 202);
        r.json().await.unwrap_or_default()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown()
                .await
                .unwrap_or_else(|e| panic!("shutdown: {e}"));
        }
    }
}

/// Requests to a running test service with the token of a role: what [`Api`] and
/// [`Service`] share.
pub trait Endpoint {
    fn base(&self) -> &str;
    fn client(&self) -> &reqwest::Client;
    fn tokens(&self) -> &HashMap<&'static str, String>;

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// A request with the token of `role` (None: no Authorization).
    fn req(&self, m: reqwest::Method, path: &str, role: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.client().request(m, self.url(path));
        match role.and_then(|r| self.tokens().get(r)) {
            Some(s) => r.bearer_auth(s),
            None => r,
        }
    }

    async fn get_json(&self, path: &str, role: Option<&str>) -> (u16, Value) {
        let r = self
            .req(reqwest::Method::GET, path, role)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    }
}

macro_rules! endpoint {
    ($t:ty) => {
        impl Endpoint for $t {
            fn base(&self) -> &str {
                &self.base
            }
            fn client(&self) -> &reqwest::Client {
                &self.client
            }
            fn tokens(&self) -> &HashMap<&'static str, String> {
                &self.tokens
            }
        }
    };
}
endpoint!(Api);
endpoint!(Service);
