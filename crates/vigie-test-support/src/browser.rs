//! The headless-Chromium harness shared by the browser tests (the HTML report's and the
//! dashboard's): `tests/browser/` holds the node scripts and playwright-core, driving
//! Debian's `/usr/bin/chromium` (never a downloaded browser).
//!
//! Missing tools are a panic naming what to install: CI (`.ci/run`) installs them, and
//! a skipped browser test would be a test that cannot fail.

use std::io::{BufRead as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `tests/browser/` of the repository.
pub fn harness_dir() -> PathBuf {
    crate::repo_root().join("tests/browser")
}

/// Node, Chromium and playwright-core, or a panic naming what to install.
pub fn check_tools(dir: &Path) {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the browser test needs Node.js: `apt-get install -y nodejs npm` ({node:?})"
    );
    let chromium = std::env::var_os("VIGIE_CHROMIUM")
        .map_or(PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.is_file(),
        "the browser test needs Debian's Chromium at {}: `apt-get install -y chromium` (or set VIGIE_CHROMIUM)",
        chromium.display()
    );
    assert!(
        dir.join("node_modules/playwright-core/package.json").is_file(),
        "the browser test needs playwright-core: `npm ci --prefix {}` (never `playwright install`: the system's Chromium is used)",
        dir.display()
    );
}

/// Runs `node <script> <args>` within `timeout` and returns the JSON it prints on
/// stdout; `on_stderr_line` sees each stderr line as it comes (a script can ask the test
/// for something mid-run). Panics, with both streams, when it fails or times out.
pub fn run_node(
    script: &Path,
    args: &[String],
    timeout: Duration,
    on_stderr_line: impl Fn(&str) + Send + 'static,
) -> Value {
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        for line in std::io::BufReader::new(&mut stderr).lines() {
            let Ok(line) = line else { break };
            on_stderr_line(line.trim());
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for node") {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("{} did not finish in {timeout:?}", script.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(
        status.success(),
        "{} failed ({status}):\n{err}\n{out}",
        script.display()
    );
    serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!(
            "{} output is not JSON ({e}):\n{out}\n{err}",
            script.display()
        )
    })
}

/// A JSON array as strings (non-strings as their JSON text); empty when not an array.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
        .collect()
}
