//! Wires config, store, processor, sources, API and dashboard; runs until SIGTERM.
//!
//! [`start`]: opens the store (installing the failpoint hook from `VIGIE_FAILPOINTS`),
//! refuses to listen beyond loopback while no API token exists, loads rules and model,
//! builds the [`AppState`], spawns the processor (which restores state from the store,
//! then sets `ready`) and the decider, binds the listener (TLS with rustls when `tls`
//! is configured) and serves the router. [`run`] adds the fixed start-up line and the
//! signals: SIGTERM or SIGINT = [`Running::shutdown`] (stop taking input, drain the
//! queue, commit, checkpoint), SIGHUP = reload rules, model and indicators (correlation
//! state is rebuilt from the store, nothing lost). A write to the TAXII `shared`
//! collection triggers the same reload ([`crate::intel_live`]); start and every reload
//! load the collection's indicators as stored ([`Engines::load_current`]).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use crate::config::Config;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::pipeline::{self, Defaults, Engines, Msg};
use crate::state::{AdminRequest, AppState};
use crate::ServeError;

/// A started service.
pub struct Running {
    pub state: AppState,
    /// The bound address (the port chosen when `listen` had port 0).
    pub addr: SocketAddr,
    pub tls: bool,
    tx: mpsc::Sender<Msg>,
    /// None with `--worker`: the scale-out worker detects, its leader groups.
    processor: Option<JoinHandle<Result<(), ServeError>>>,
    http: tokio::task::JoinHandle<Result<(), ServeError>>,
    stop_http: axum_server::Handle,
    /// The syslog listeners, file followers and NATS input (their bound addresses for
    /// tests).
    pub inputs: Inputs,
    /// `--worker`: the scale-out worker (instead of the processor).
    worker: Option<crate::worker::Worker>,
    /// Keeps the TAXII `incidents` collection current; holds a store handle, so it is
    /// ended before the last handle is dropped (see `shutdown`).
    taxii_feed: tokio::task::JoinHandle<()>,
    /// Reloads the engines on writes to the TAXII `shared` collection
    /// ([`crate::intel_live`]); holds a store handle, ended like `taxii_feed`.
    intel_live: tokio::task::JoinHandle<()>,
}

type Task = tokio::task::JoinHandle<Result<(), ServeError>>;

/// The inputs a node reads besides HTTP: syslog listeners and followed files (none on a
/// `--worker`, which reads the JetStream stream).
#[derive(Debug, Default)]
pub struct Inputs {
    pub syslog: crate::ingest::syslog::Listeners,
    pub files: Option<crate::ingest::file::Followers>,
    /// The NATS JetStream input of a single node: asked to stop, then awaited (it acks
    /// its batch in flight first).
    nats: Option<(oneshot::Sender<()>, Task)>,
}

impl Inputs {
    /// Syslog listeners per `config.syslog`, followers per `config.files` resumed from
    /// the store's positions.
    async fn start(state: &AppState) -> Result<Inputs, ServeError> {
        let config = &state.config;
        if config.worker {
            return Ok(Inputs::default());
        }
        let syslog = crate::ingest::syslog::spawn(
            &config.syslog,
            state.ingest.clone(),
            state.metrics.clone(),
        )
        .await?;
        let mut files = None;
        if !config.files.is_empty() {
            let store = state.store.clone();
            let positions = tokio::task::spawn_blocking(move || store.positions())
                .await
                .map_err(|e| ServeError::Option(format!("positions: {e}")))??;
            files = Some(crate::ingest::file::spawn(
                &config.files,
                state.ingest.clone(),
                &positions,
                state.metrics.clone(),
                crate::ingest::file::FollowOptions::default(),
            ));
        }
        let nats = config.nats.as_ref().map(|n| {
            let (tx, rx) = oneshot::channel::<()>();
            let task = tokio::spawn(crate::ingest::nats::run(
                n.clone(),
                state.ingest.clone(),
                config.ingest.max_batch_events as usize,
                async {
                    let _ = rx.await;
                },
            ));
            (tx, task)
        });
        Ok(Inputs {
            syslog,
            files,
            nats,
        })
    }

    /// Stops taking input; what was received is submitted first (bounded wait).
    async fn shutdown(self) {
        let grace = std::time::Duration::from_secs(10);
        self.syslog.shutdown(grace).await;
        if let Some(f) = self.files {
            f.shutdown(grace).await;
        }
        if let Some((tx, task)) = self.nats {
            let _ = tx.send(());
            match tokio::time::timeout(std::time::Duration::from_secs(30), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!("nats input: {e}"),
                Ok(Err(e)) => tracing::warn!("nats input: {e}"),
                Err(_) => tracing::warn!("nats input did not stop within 30 s"),
            }
        }
    }
}

impl Running {
    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Reloads rules and model (what SIGHUP and `POST /api/v1/admin/reload` do).
    pub async fn reload(&self) -> Result<Value, String> {
        reload(&self.state).await
    }

    /// Stops taking input, drains the queue, commits, checkpoints; waits for the end.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        tracing::info!("shutting down: draining");
        // Open dashboards' event streams never end by themselves: close them, or the
        // graceful HTTP shutdown below waits for every browser tab to go away.
        crate::dashboard::end_streams(&self.state);
        // In-flight requests (waiting for their batch to be durable) finish.
        self.stop_http
            .graceful_shutdown(Some(std::time::Duration::from_secs(30)));
        std::mem::take(&mut self.inputs).shutdown().await;
        self.state.ingest.close();
        if let Some(w) = self.worker.take() {
            w.stop().await;
        }
        let _ = self.tx.send(Msg::Shutdown);
        let processed = match self.processor.take() {
            Some(h) => tokio::task::spawn_blocking(move || h.join())
                .await
                .map_err(|e| ServeError::Option(format!("processor: {e}")))?
                .unwrap_or_else(|_| Err(ServeError::Option("processor panicked".into()))),
            None => Ok(()),
        };
        match self.http.await {
            Ok(r) => r?,
            Err(e) => return Err(ServeError::Option(format!("http server: {e}"))),
        }
        // The last handle on the store goes here: the PostgreSQL client ends its session
        // with a blocking call on its own runtime, which panics on an async worker.
        // The TAXII feed task holds a store handle too: end it first, so the one
        // dropped below is the last.
        self.taxii_feed.abort();
        let _ = (&mut self.taxii_feed).await;
        self.intel_live.abort();
        let _ = (&mut self.intel_live).await;
        let state = self.state;
        let _ = tokio::task::spawn_blocking(move || drop(state)).await;
        processed
    }
}

/// Sends a reload to the processor and waits for its answer.
pub async fn reload(state: &AppState) -> Result<Value, String> {
    let (tx, rx) = oneshot::channel();
    state
        .admin
        .send(AdminRequest::Reload(tx))
        .map_err(|_| "shutting down".to_string())?;
    rx.await.map_err(|_| "shutting down".to_string())?
}

/// Starts the service (see the module docs).
pub async fn start(config: Config, defaults: Defaults) -> Result<Running, ServeError> {
    config.check()?;
    let config = Arc::new(config);
    let t = Instant::now();
    crate::api::tls::install_crypto_provider();
    let (store, auth, engines) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || open(&config, &defaults))
            .await
            .map_err(|e| ServeError::Option(format!("start: {e}")))??
    };
    let loaded = engines.loaded(t.elapsed().as_secs_f64());
    let (ingest, mut job_rx) = Ingest::new(config.ingest.queue_events);
    let (admin, mut admin_rx) = tokio::sync::mpsc::unbounded_channel();
    let state = AppState {
        store,
        ingest,
        loaded: Arc::new(RwLock::new(Arc::new(loaded))),
        metrics: Arc::new(Metrics::new()),
        auth: Arc::new(auth),
        changes: broadcast::channel(1024).0,
        admin,
        config: config.clone(),
        ready: Arc::new(AtomicBool::new(false)),
        taxii: Arc::new(crate::taxii::Taxii::new()),
    };
    let (tx, rx) = mpsc::channel();
    let (worker, processor) = if config.worker {
        let w = crate::worker::start_for_server(&state, engines).await?;
        state.ready.store(true, std::sync::atomic::Ordering::SeqCst);
        (Some(w), None)
    } else {
        let p = pipeline::spawn(state.clone(), engines, defaults, rx)?;
        (None, Some(p))
    };
    // Jobs and admin requests reach the processor thread in one ordered channel.
    let fwd = tx.clone();
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                j = job_rx.recv() => match j {
                    Some(j) => Msg::Job(j),
                    None => break,
                },
                Some(a) = admin_rx.recv() => Msg::Admin(a),
            };
            if fwd.send(msg).is_err() {
                break;
            }
        }
    });
    let inputs = Inputs::start(&state).await?;
    // Detached: ends when the change channel closes.
    let _webhooks = crate::api::webhook::spawn(&state);
    // Keeps the TAXII `incidents` collection current; ended at shutdown.
    let taxii_feed = crate::taxii::feed::spawn(&state);
    // Reloads the engines when the TAXII `shared` collection changes; ended at
    // shutdown (it holds a store handle too).
    let intel_live = crate::intel_live::spawn(&state);
    let router = crate::api::router(state.clone());
    let (addr, http, stop_http) = listen(&config, router).await?;
    Ok(Running {
        state,
        addr,
        tls: config.tls.is_some(),
        tx,
        processor,
        http,
        stop_http,
        inputs,
        worker,
        taxii_feed,
        intel_live,
    })
}

/// Store (with the failpoint hook), the loopback rule, then rules and model.
fn open(
    config: &Config,
    defaults: &Defaults,
) -> Result<(vigie_store::Store, crate::api::auth::Auth, Engines), ServeError> {
    let spec = config.store_spec()?;
    if let vigie_store::StoreSpec::Sqlite(p) = &spec {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    let store = vigie_store::Store::open(&spec)?;
    store.set_keep_all_events(config.events == crate::config::KeepEvents::All);
    if let Some(fp) = pipeline::failpoints::Failpoints::from_env()? {
        tracing::warn!("failpoints installed (VIGIE_FAILPOINTS)");
        store.set_hook(fp.hook());
    }
    let auth = crate::api::auth::Auth::load(&store)?;
    auth.check_listen(config.listen)
        .map_err(ServeError::Option)?;
    let engines = Engines::load_current(config, defaults, &store)?;
    Ok((store, auth, engines))
}

async fn listen(
    config: &Config,
    router: axum::Router,
) -> Result<
    (
        SocketAddr,
        tokio::task::JoinHandle<Result<(), ServeError>>,
        axum_server::Handle,
    ),
    ServeError,
> {
    let listen_err = |e: std::io::Error| ServeError::Listen {
        addr: config.listen.to_string(),
        source: e,
    };
    if config.tls.is_some() {
        // Checked before binding, so a bad certificate fails the start, not the first
        // connection.
        crate::api::tls::server_config(config.tls.as_ref().ok_or(ServeError::Tls("".into()))?)?;
    }
    let l = std::net::TcpListener::bind(config.listen).map_err(listen_err)?;
    let addr = l.local_addr().map_err(listen_err)?;
    let handle = axum_server::Handle::new();
    let tls = config.tls.clone();
    let h = handle.clone();
    let http =
        tokio::spawn(async move { crate::api::tls::serve(l, router, tls.as_ref(), h).await });
    Ok((addr, http, handle))
}

/// Starts, prints `vigie serve: listening on URL` (one line, flushed), and runs until
/// SIGTERM or SIGINT (then drains and checkpoints); SIGHUP reloads.
pub async fn run(config: Config, defaults: Defaults) -> Result<(), ServeError> {
    let running = start(config, defaults).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "vigie serve: listening on {}", running.url())?;
        out.flush()?;
    }
    wait_for_signals(&running.state).await?;
    running.shutdown().await
}

#[cfg(unix)]
async fn wait_for_signals(state: &AppState) -> Result<(), ServeError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = hup.recv() => {
                let state = state.clone();
                tokio::spawn(async move {
                    match reload(&state).await {
                        Ok(v) => tracing::info!("reloaded on SIGHUP: {v}"),
                        Err(e) => tracing::warn!("reload on SIGHUP refused: {e}"),
                    }
                });
            }
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(_state: &AppState) -> Result<(), ServeError> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
