//! The service the dashboard tests talk to, over real HTTP on `127.0.0.1:0`.
//!
//! [`Service::routes_only`] serves the whole router (`vigie_serve::api::router`) over a
//! hand-built [`AppState`] with a temporary SQLite store and no processor: enough for
//! what the dashboard serves itself (page, assets, stream, drawings) and for reads of
//! rows a test puts in the store. [`Live`] is the real server, for the browser test.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use vigie_serve::api::auth::{hash_token, Auth};
use vigie_serve::config::Config;
use vigie_serve::ingest::Ingest;
use vigie_serve::metrics::Metrics;
use vigie_serve::pipeline::Defaults;
use vigie_serve::server::Running;
use vigie_serve::state::{AppState, Loaded};
use vigie_store::{HistoryEntry, IncidentQuery, IncidentRow, Store, StoreSpec, TokenRow};

pub struct Service {
    pub addr: SocketAddr,
    pub state: AppState,
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

fn loaded() -> Loaded {
    let model = vigie_model::demo();
    Loaded {
        rules: json!({}),
        rules_digest: String::new(),
        model_summary: json!({"operator": model.operator.name}),
        model: Arc::new(model),
        loaded_at: "2025-07-24T00:00:00Z".to_string(),
        rule_metas: Vec::new(),
    }
}

impl Service {
    /// The router on a fresh store; with `token`, one admin token of that text exists.
    pub fn routes_only(token: Option<&str>) -> Service {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Store::open(&StoreSpec::Sqlite(dir.path().join("vigie.db"))).expect("open store");
        if let Some(t) = token {
            store
                .add_token(&TokenRow {
                    name: "test-admin".into(),
                    role: "admin".into(),
                    hash: hash_token(t),
                    created_at: chrono::Utc::now(),
                })
                .expect("add token");
        }
        let auth = Auth::load(&store).expect("load tokens");
        let (ingest, _jobs) = Ingest::new(1000);
        let (admin, _admin_rx) = mpsc::unbounded_channel();
        let state = AppState {
            store,
            ingest,
            loaded: Arc::new(RwLock::new(Arc::new(loaded()))),
            metrics: Arc::new(Metrics::new()),
            auth: Arc::new(auth),
            changes: broadcast::channel(64).0,
            admin,
            config: Arc::new(Config::default()),
            ready: Arc::new(AtomicBool::new(true)),
            taxii: Default::default(),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = vigie_serve::api::router(state.clone());
        let addr = rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = l.local_addr().expect("addr");
            tokio::spawn(async move {
                let _ = axum::serve(l, app).await;
            });
            addr
        });
        Service {
            addr,
            state,
            rt: Some(rt),
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The real service (`vigie_serve::server::start`): processor, decider, API and
/// dashboard on `127.0.0.1:0`, a temporary SQLite store, the repository's rule pack and
/// the demo operator. Ready (`/readyz` 200) when returned.
pub struct Live {
    running: Option<Running>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Live {
    /// With `token`, an admin token of that text is stored before the start.
    pub fn start(token: Option<&str>) -> Live {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(t) = token {
            let store =
                Store::open(&StoreSpec::Sqlite(dir.path().join("vigie.db"))).expect("open store");
            store
                .add_token(&TokenRow {
                    name: "e2e-admin".into(),
                    role: "admin".into(),
                    hash: hash_token(t),
                    created_at: chrono::Utc::now(),
                })
                .expect("add token");
        }
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: dir.path().to_path_buf(),
            store: Some(format!("sqlite:{}", dir.path().join("vigie.db").display())),
            rules: vec![vigie_test_support::repo_root().join("rules")],
            ..Config::default()
        };
        let defaults = Defaults {
            rules: &[],
            model: vigie_model::demo,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running = rt
            .block_on(vigie_serve::server::start(config, defaults))
            .expect("start the service");
        let live = Live {
            running: Some(running),
            rt,
            _dir: dir,
        };
        live.wait_ready();
        live
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    fn wait_ready(&self) {
        vigie_serve::api::tls::install_crypto_provider();
        let client = reqwest::blocking::Client::new();
        let url = format!("{}/readyz", self.base());
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if client.get(&url).send().is_ok_and(|r| r.status() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{url} not ready after 30 s");
    }

    pub fn base(&self) -> String {
        self.running().url()
    }

    pub fn state(&self) -> &AppState {
        &self.running().state
    }

    pub fn store(&self) -> &Store {
        &self.running().state.store
    }

    /// Every stored incident.
    pub fn incidents(&self) -> Vec<IncidentRow> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store()
                .incidents(&IncidentQuery {
                    state: None,
                    limit: 500,
                    after: after.clone(),
                })
                .expect("list incidents");
            out.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => return out,
            }
        }
    }

    pub fn incident(&self, id: &str) -> IncidentRow {
        self.store()
            .incident(id)
            .expect("read incident")
            .unwrap_or_else(|| panic!("{id} not stored"))
    }

    pub fn history(&self, id: &str) -> Vec<HistoryEntry> {
        self.store().history(id).expect("read history")
    }

    /// Drains, commits and checkpoints; a failed shutdown fails the test.
    pub fn stop(mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown()).expect("clean shutdown");
        }
    }
}
