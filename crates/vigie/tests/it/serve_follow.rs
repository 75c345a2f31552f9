//! `vigie serve` following a file across crashes, as a process: aborted inside a commit
//! (failpoint `commit.written`), SIGKILLed while reading, and restarted each time on the
//! same data. Every line ends up stored exactly once: none read twice (no duplicates in
//! any run), none skipped (the store holds every line).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use vigie_test_support::serve::{ServeCommand, Server};

fn append(path: &Path, from: u64, to: u64) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    let mut text = String::new();
    for n in from..to {
        text.push_str(&format!(
            "{{\"n\":{n},\"msg\":\"line {n} of the followed file\"}}\n"
        ));
    }
    f.write_all(text.as_bytes()).expect("append");
}

/// `vigie_<name>_total{source="<input>"}` of a running server (0 before it appears).
fn counter(server: &Server, name: &str, input: &str) -> u64 {
    let text = server.http().get("/metrics").expect("metrics").text();
    let key = format!("vigie_{name}_total{{source=\"{input}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |v| v.trim().parse().expect("counter"))
}

fn until(server: &Server, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !f() {
        if Instant::now() > deadline {
            server.fail(&format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Events stored (the server stopped: the test opens the store itself).
fn stored(data: &Path) -> u64 {
    let spec = vigie_store::StoreSpec::Sqlite(data.join("vigie.db"));
    let store = vigie_store::Store::open(&spec).expect("open store");
    store.counts().expect("counts").events
}

#[test]
fn followed_file_across_kills() {
    // The harness's HTTP client (reqwest over rustls) needs the process's provider.
    vigie_serve::api::tls::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.jsonl");
    append(&log, 0, 3000);
    let config = dir.path().join("serve.toml");
    let toml = format!(
        "events = \"all\"\nfiles = [{:?}]\n",
        log.display().to_string()
    );
    std::fs::write(&config, toml).expect("config");
    let data = dir.path().join("data");
    let input = format!("file:{}", log.display());
    let cmd = ServeCommand::new(env!("CARGO_BIN_EXE_vigie"), &data).config(&config);

    // 1. Aborted inside its second commit: the first batch is kept, the second is not.
    let mut s = cmd.spawn_listening(&[("VIGIE_FAILPOINTS", "commit.written=abort@2")]);
    let status = s.wait_exit(Duration::from_secs(60));
    assert!(status.is_some_and(|st| !st.success()), "{}", s.log_tail(30));
    let first = stored(&data);
    assert!(first > 0 && first < 3000, "{first} stored before the abort");

    // 2. Restarted: the rest, nothing twice; then SIGKILL once idle, more lines meanwhile.
    let mut s = cmd.spawn();
    until(&s, "the rest of the file", || {
        counter(&s, "events_in", &input) == 3000 - first
    });
    assert_eq!(counter(&s, "events_duplicate", &input), 0);
    s.kill9();
    assert_eq!(stored(&data), 3000);
    append(&log, 3000, 23_000);

    // 3. Killed while reading the 20,000 new lines (or just after), restarted again.
    let mut s = cmd.spawn();
    until(&s, "some of the new lines", || {
        counter(&s, "events_in", &input) > 0
    });
    s.kill9();
    let mid = stored(&data);
    assert!(mid > 3000, "{mid}");
    eprintln!("stored: {first} after the abort, {mid} of 23000 after the kill");
    let s = cmd.spawn();
    until(&s, "the new lines", || {
        counter(&s, "events_in", &input) == 23_000 - mid
    });
    assert_eq!(counter(&s, "events_duplicate", &input), 0);
    let mut s = s;
    s.terminate(Duration::from_secs(30));
    assert_eq!(stored(&data), 23_000);
}
