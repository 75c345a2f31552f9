//! `-` reads standard input: the test re-runs its own binary as a child fed through a pipe.

use crate::common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use vigie_event::{discover, ReadOptions};

const CHILD_ENV: &str = "VIGIE_EVENT_STDIN_CHILD";

/// Runs only in the child: reads stdin and prints what came out.
#[test]
fn stdin_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let (files, errs) = discover(&[PathBuf::from("-")]);
    assert!(errs.is_empty());
    let out = common::read_all(&files[0], &ReadOptions::default());
    let stats = out.result.unwrap();
    println!(
        "RESULT events={} errors={} bytes={} source={}",
        out.events.len(),
        out.errors.len(),
        stats.bytes,
        out.events.first().map_or("", |e| &*e.source)
    );
}

fn via_stdin(bytes: &[u8]) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        // The full test path (module included): `--exact` must name this test only.
        .args([
            concat!(module_path!(), "::stdin_child")
                .split_once("::")
                .map_or("stdin_child", |(_, path)| path),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = bytes.to_vec();
    // Written from another thread so a child that fills its stdout pipe cannot block us.
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no result in {text}"))
        .to_string()
}

#[test]
fn stdin_json_lines_and_gzip() {
    let text = b"{\"a\":1}\n[2]\n{\"a\":3}\n";
    assert_eq!(via_stdin(text), "events=2 errors=1 bytes=20 source=-");
    let z = common::gz(text);
    let want = format!("events=2 errors=1 bytes={} source=-", z.len());
    assert_eq!(via_stdin(&z), want);
}

#[test]
fn stdin_evtx_and_gzip_evtx() {
    let raw =
        std::fs::read(common::shared().join("evtx/edge-cases/new-user-security.evtx")).unwrap();
    let want = format!("events=4 errors=0 bytes={} source=-", raw.len());
    assert_eq!(via_stdin(&raw), want);
    let z = common::gz(&raw);
    let want = format!("events=4 errors=0 bytes={} source=-", z.len());
    assert_eq!(via_stdin(&z), want);
}

/// A named pipe (as `<(zcat x.gz)` gives) is read as a stream, its first bytes not lost.
#[cfg(unix)]
#[test]
fn named_pipe_is_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    let (files, errs) = discover(std::slice::from_ref(&fifo));
    assert!(errs.is_empty(), "{errs:?}");
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.write_all(&common::gz(b"{\"a\":1}\n{\"a\":2}\n")).unwrap();
    });
    let out = common::read_all(&files[0], &ReadOptions::default());
    writer.join().unwrap();
    out.result.unwrap();
    assert_eq!(out.events.len(), 2);
    assert!(out.errors.is_empty());
}
