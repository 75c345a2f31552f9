//! Reading throughput of the text formats (CEF, LEEF, web server and proxy access logs)
//! against the syslog and auditd readers, in the same run: the project's samples'
//! good lines repeated to `VIGIE_BENCH_LINES` lines (default 200,000), read from memory
//! with `read_bytes` (sniffing, line loop, parsing, document building; no matching).
//! Prints lines/s per format and the ratio to the RFC 3164 syslog lane.
//!
//! `cargo bench -p vigie-event --bench textfmt` (one core: the readers are sequential).
//! `VIGIE_BENCH_ONLY=cef` runs one lane (for `perf stat -e instructions`).

use std::time::Instant;

use vigie_event::{read_bytes, ReadOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sample(name: &str, good: usize) -> Vec<String> {
    let path = vigie_test_support::repo_root()
        .join("crates/vigie-event/tests/data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines().take(good).map(str::to_string).collect()
}

fn repeat(lines: &[String], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines.iter().cycle().take(n) {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Best of 3: (lines/s, events, skipped).
fn lane(bytes: &[u8], lines: usize) -> (f64, u64, u64) {
    let mut best = f64::MAX;
    let (mut events, mut skipped) = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let stats = read_bytes(
            "bench",
            bytes,
            &ReadOptions::default(),
            &mut |e| {
                std::hint::black_box(e);
            },
            &mut |_| {},
        );
        let s = t.elapsed().as_secs_f64();
        best = best.min(s);
        if let Ok(st) = stats {
            (events, skipped) = (st.events, st.skipped);
        }
    }
    (lines as f64 / best, events, skipped)
}

fn main() {
    let n: usize = std::env::var("VIGIE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let only = std::env::var("VIGIE_BENCH_ONLY").ok();
    let syslog: Vec<String> = [
        "<38>Dec  2 08:00:01 srv-web-03 sshd[4121]: Accepted publickey for deploy from 10.30.1.15 port 51544 ssh2: ED25519 SHA256:Qm9vYmFy",
        "<86>Dec  2 08:00:02 srv-web-03 sudo[4188]:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
        "<78>Dec  2 08:00:03 srv-web-03 CRON[4201]: (root) CMD (/usr/lib/php/sessionclean)",
        "<30>Dec  2 08:00:04 srv-web-03 systemd[1]: Started nginx.service - A high performance web server and a reverse proxy server.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let lanes: Vec<(&str, Vec<String>)> = vec![
        ("syslog", syslog),
        ("auditd", sample("auditd.log", 125)),
        ("cef", sample("cef.log", 25)),
        ("leef", sample("leef.log", 25)),
        ("access", sample("access.log", 39)),
        ("squid", sample("squid-access.log", 40)),
    ];
    let mut base = None;
    println!("lane      lines/s  events  skipped  vs syslog");
    for (name, lines) in &lanes {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let bytes = repeat(lines, n);
        let (rate, events, skipped) = lane(&bytes, n);
        let b = *base.get_or_insert(rate);
        println!(
            "{name:<8} {rate:>9.0} {events:>7} {skipped:>8}  {:.2}x",
            rate / b
        );
    }
}
