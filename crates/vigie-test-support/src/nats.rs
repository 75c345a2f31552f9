//! A throwaway `nats-server` with JetStream for the tests that need one.
//!
//! [`TempNats::start`] runs Debian's `/usr/sbin/nats-server -js -sd <tempdir> -p <free
//! port>` (override the binary with `VIGIE_NATS_SERVER`), waits until it accepts
//! connections, and kills it on drop. Without the binary it returns `None` after saying
//! why, so a developer machine without NATS still runs the other tests; under `CI=true`
//! it panics instead, so CI never passes by skipping.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running JetStream server, killed (and its store removed) on drop.
pub struct TempNats {
    child: Child,
    port: u16,
    /// The JetStream store; removed with the value.
    dir: tempfile::TempDir,
}

/// The `nats-server` binary the tests run.
pub fn nats_server_binary() -> PathBuf {
    std::env::var_os("VIGIE_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

/// Whether a missing service binary must fail the test (`CI=true`).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl TempNats {
    /// Starts a server on a free loopback port; `None` (printed) when the binary is
    /// missing outside CI. Panics when the server does not come up within 10 s.
    pub fn start() -> Option<TempNats> {
        let bin = nats_server_binary();
        if !bin.is_file() {
            let msg = format!(
                "{} not found (Debian package nats-server; or set VIGIE_NATS_SERVER)",
                bin.display()
            );
            if ci() {
                panic!("{msg}: CI=true, so this test fails rather than skipping");
            }
            eprintln!("skipping: {msg}");
            return None;
        }
        // A port can be taken between our probe and the server's bind: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
            let port = free_port();
            let mut child = Command::new(&bin)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("nats-server exited with {status} on port {port}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(TempNats { child, port, dir });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("nats-server did not accept connections on port {port} within 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nats-server would not start: {last}");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory.
    pub fn store_dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TempNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}
