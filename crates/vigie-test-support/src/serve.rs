//! `vigie serve` as a child process, for the tests that treat the service as a black box:
//! spawn it on a free port with a data directory (and a store URL), read the bound
//! address from its start-up line (`vigie serve: listening on http://ADDR`), wait for
//! `/readyz`, talk to it with a small blocking HTTP client, stop it with SIGTERM or kill
//! it with SIGKILL, and start it again on the same data.
//!
//! The child's stderr (its logs) and any further stdout go to one log file per data
//! directory (`<data>.log`, appended across restarts with a header per start), so a
//! failing test can print what the server said ([`Server::log_tail`]).
//!
//! ```no_run
//! use vigie_test_support::serve::ServeCommand;
//! # let dir = std::path::Path::new("/tmp/x");
//! let cmd = ServeCommand::new(env!("CARGO_BIN_EXE_vigie"), &dir.join("data"));
//! let mut server = cmd.spawn(); // listening and ready
//! let reply = server.http().get("/healthz").unwrap();
//! assert_eq!(reply.status, 200);
//! server.kill9();
//! let server = cmd.spawn(); // same data, a new port
//! # drop(server);
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The start-up line's prefix (the fixed convention of `vigie serve`).
pub const LISTENING: &str = "vigie serve: listening on ";

/// How long a start may take before the harness gives up (a debug build restoring a
/// store on a loaded two-core machine).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How to start `vigie serve` (reused for every restart on the same data).
#[derive(Debug, Clone)]
pub struct ServeCommand {
    bin: PathBuf,
    data: PathBuf,
    store: Option<String>,
    config: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl ServeCommand {
    /// `bin serve --listen 127.0.0.1:0 --data DATA` (tests pass
    /// `env!("CARGO_BIN_EXE_vigie")` as `bin`).
    pub fn new(bin: impl Into<PathBuf>, data: &Path) -> ServeCommand {
        ServeCommand {
            bin: bin.into(),
            data: data.to_path_buf(),
            store: None,
            config: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// `--store URL` (`postgres://...` or `sqlite:PATH`).
    pub fn store(mut self, url: &str) -> ServeCommand {
        self.store = Some(url.to_string());
        self
    }

    /// `--config FILE`.
    pub fn config(mut self, path: &Path) -> ServeCommand {
        self.config = Some(path.to_path_buf());
        self
    }

    /// One more argument after the others.
    pub fn arg(mut self, arg: &str) -> ServeCommand {
        self.args.push(arg.to_string());
        self
    }

    /// An environment variable of the child (e.g. `VIGIE_FAILPOINTS`).
    pub fn env(mut self, key: &str, value: &str) -> ServeCommand {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Where the child's logs go.
    pub fn log_path(&self) -> PathBuf {
        let mut name = self.data.as_os_str().to_owned();
        name.push(".log");
        PathBuf::from(name)
    }

    /// Starts the server and waits until it listens and `/readyz` answers 200; panics
    /// with the end of its log when it does not within [`START_TIMEOUT`].
    pub fn spawn(&self) -> Server {
        self.spawn_with(&[])
    }

    /// [`ServeCommand::spawn`] with extra environment variables for this start only (a
    /// failpoint armed for one run).
    pub fn spawn_with(&self, env: &[(&str, &str)]) -> Server {
        let mut server = self.spawn_listening(env);
        let left = START_TIMEOUT.saturating_sub(server.started.elapsed());
        server.wait_ready(left);
        server
    }

    /// Starts the server and waits for its start-up line only (not for `/readyz`).
    pub fn spawn_listening(&self, env: &[(&str, &str)]) -> Server {
        let log_path = self.log_path();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("open {}: {e}", log_path.display()));
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve").arg("--listen").arg("127.0.0.1:0");
        cmd.arg("--data").arg(&self.data);
        if let Some(store) = &self.store {
            cmd.arg("--store").arg(store);
        }
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("log {}: {e}", log_path.display()));
        // A core dump of an aborted run (the commit failpoint) lands in the temporary
        // folder, not in the crate the tests run from.
        if let Some(parent) = self.data.parent().filter(|p| p.is_absolute() && p.is_dir()) {
            cmd.current_dir(parent);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} serve: {e}", self.bin.display()));
        let _ = writeln!(
            log,
            "==== harness: started pid {} env {:?} {:?}",
            child.id(),
            self.env,
            env
        );
        let started = Instant::now();
        let addr_rx = read_stdout(&mut child, log);
        let mut server = Server {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log: log_path,
            started,
        };
        server.addr = server.await_listening(addr_rx);
        server
    }
}

/// Reads the child's stdout on a thread: the first `listening on` line goes to the
/// returned channel, every line to the log (so the pipe never fills).
fn read_stdout(child: &mut Child, mut log: File) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let Some(stdout) = child.stdout.take() else {
        return rx;
    };
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log, "[stdout] {line}");
            if !sent {
                if let Some(url) = line.strip_prefix(LISTENING) {
                    sent = tx.send(url.trim().to_string()).is_ok();
                }
            }
        }
    });
    rx
}

/// A running `vigie serve` (killed with SIGKILL when dropped while still running).
pub struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    log: PathBuf,
    started: Instant,
}

impl Server {
    fn await_listening(&mut self, rx: mpsc::Receiver<String>) -> SocketAddr {
        let deadline = self.started + START_TIMEOUT;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => {
                    let hostport = url
                        .strip_prefix("http://")
                        .or_else(|| url.strip_prefix("https://"))
                        .unwrap_or(&url);
                    return hostport.parse().unwrap_or_else(|e| {
                        self.fail(&format!("start-up line `{LISTENING}{url}`: {e}"))
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.wait_exit(Duration::from_secs(5));
                    self.fail(&format!(
                        "exited ({status:?}) before printing `{LISTENING}...`"
                    ));
                }
            }
            if let Some(status) = self.try_status() {
                self.fail(&format!("exited ({status}) before listening"));
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no `{LISTENING}...` line within {START_TIMEOUT:?}"
                ));
            }
        }
    }

    /// Panics with `what` and the end of the server's log.
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "vigie serve (pid {:?}): {what}\n--- panics in {} ---\n{}\n--- its last lines ---\n{}",
            self.pid(),
            self.log.display(),
            self.log_panics(),
            self.log_tail(40)
        )
    }

    /// Each `panicked at` line of the log with the line after it (the message), which a
    /// backtrace would push out of [`Server::log_tail`].
    pub fn log_panics(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.contains("panicked at") {
                out.extend(lines[i..(i + 2).min(lines.len())].iter().copied());
            }
        }
        out.join("\n")
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A client of this server.
    pub fn http(&self) -> Http {
        Http::new(&self.base_url())
    }

    /// Waits until `GET /readyz` answers 200; panics (with the log) after `timeout` or
    /// when the process exits first.
    pub fn wait_ready(&mut self, timeout: Duration) {
        let http = Http::with_timeout(&self.base_url(), Duration::from_secs(5));
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(r) = http.get("/readyz") {
                if r.status == 200 {
                    return;
                }
            }
            if let Some(status) = self.try_status() {
                self.fail(&format!("exited ({status}) before /readyz answered 200"));
            }
            if Instant::now() > deadline {
                self.fail(&format!("/readyz not 200 within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL and reap; returns how it ended (it may have exited already).
    pub fn kill9(&mut self) -> ExitStatus {
        let Some(child) = self.child.as_mut() else {
            self.fail("already reaped");
        };
        // Err only when it has exited already; wait() then returns its status.
        let _ = child.kill();
        let status = child
            .wait()
            .unwrap_or_else(|e| panic!("wait for vigie serve: {e}"));
        self.child = None;
        status
    }

    /// SIGTERM (clean shutdown: drain, commit, checkpoint) and wait up to `timeout`;
    /// panics (with the log) when it is still running then.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let Some(pid) = self.pid() else {
            self.fail("already reaped");
        };
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        if !sent.as_ref().is_ok_and(|s| s.success()) {
            self.fail(&format!("kill -TERM {pid}: {sent:?}"));
        }
        match self.wait_exit(timeout) {
            Some(status) => status,
            None => self.fail(&format!("still running {timeout:?} after SIGTERM")),
        }
    }

    /// Waits up to `timeout` for the process to exit by itself (a failpoint abort);
    /// None when it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.is_some() && self.try_status().is_none()
    }

    /// The last `n` lines of the server's log (all its starts on this data directory).
    pub fn log_tail(&self, n: usize) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After` in seconds, when present and numeric.
    pub retry_after: Option<u64>,
    /// Whether a `Retry-After` header was present at all (numeric or not).
    pub has_retry_after: bool,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; panics showing the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {}: body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A small blocking HTTP client bound to one server (no proxy, plain HTTP).
#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    base: String,
    token: Option<String>,
}

impl Http {
    /// A client of `base` (`http://ADDR`) with a 60 s request timeout (a POST waits for
    /// its commit, which a paused committer holds back).
    pub fn new(base: &str) -> Http {
        Http::with_timeout(base, Duration::from_secs(60))
    }

    pub fn with_timeout(base: &str, timeout: Duration) -> Http {
        // reqwest is built without a TLS crypto provider (the workspace picks ring):
        // install it for the process, as the server does (a second install is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| panic!("HTTP client: {e}"));
        Http {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: None,
        }
    }

    /// Sends `Authorization: Bearer TOKEN` on every request.
    pub fn bearer(mut self, token: &str) -> Http {
        self.token = Some(token.to_string());
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str) -> Result<Reply, reqwest::Error> {
        self.send(self.client.get(self.url(path)))
    }

    /// POST `body` with `content_type`.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Reply, reqwest::Error> {
        let req = self
            .client
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(req)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Result<Reply, reqwest::Error> {
        self.post(path, "application/json", body.to_string().into_bytes())
    }

    /// `POST /api/v1/events` with JSON lines.
    pub fn post_events(&self, jsonl: Vec<u8>) -> Result<Reply, reqwest::Error> {
        self.post("/api/v1/events", "application/x-ndjson", jsonl)
    }

    /// Every item of a paged list (`GET path` then each `next`), `key` naming the array
    /// (`detections`, `incidents`); panics on a non-200 page.
    pub fn get_all(&self, path: &str, key: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(path) = next.take() {
            let reply = self
                .get(&path)
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
            let mut page = reply.json();
            if let Some(Value::Array(list)) = page.get_mut(key).map(Value::take) {
                items.extend(list);
            }
            next = page["next"].as_str().map(str::to_string);
        }
        items
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(&self, mut req: reqwest::blocking::RequestBuilder) -> Result<Reply, reqwest::Error> {
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send()?;
        let status = resp.status().as_u16();
        let header = resp.headers().get(reqwest::header::RETRY_AFTER);
        let has_retry_after = header.is_some();
        let retry_after = header
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse().ok());
        let body = resp.bytes()?.to_vec();
        Ok(Reply {
            status,
            retry_after,
            has_retry_after,
            body,
        })
    }
}
