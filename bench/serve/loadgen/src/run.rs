//! The two load shapes: `throughput` (as fast as the server takes it, closed loop, a
//! fixed number of connections) and `paced` (open loop at a fixed rate, with a probe
//! that polls the detections API and times each detection from the moment its event's
//! POST was due).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::corpus::{Corpus, parse_time};
use crate::http::Client;

pub struct Common {
    pub addr: String,
    pub ingest: String,
    pub corpus: Arc<Corpus>,
    pub t0: i64,
    pub seconds: f64,
    pub batch: u64,
    pub conns: u64,
    /// Longest wait after a 429 before the batch is sent again: the server's Retry-After
    /// is whole seconds, and idling a second per 429 would measure the client, not the
    /// server.
    pub backoff_ms: u64,
}

#[derive(Default)]
struct Tally {
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    too_busy: u64,
    errors: u64,
    post_ms: Vec<f64>,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.accepted += o.accepted;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
        self.too_busy += o.too_busy;
        self.errors += o.errors;
        self.post_ms.extend(o.post_ms);
    }
}

/// POSTs one batch until the server takes it (2xx) or refuses it for good.
fn post_batch(c: &Common, client: &mut Client, body: &[u8], t: &mut Tally, due: Instant) {
    loop {
        match client.request("POST", &c.ingest, body) {
            Ok(r) if r.status == 429 => {
                t.too_busy += 1;
                let wait = r
                    .retry_after
                    .unwrap_or(1)
                    .saturating_mul(1000)
                    .min(c.backoff_ms);
                thread::sleep(Duration::from_millis(wait));
            }
            Ok(r) if (200..300).contains(&r.status) => {
                t.post_ms.push(due.elapsed().as_secs_f64() * 1000.0);
                let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                t.accepted += v["accepted"].as_u64().unwrap_or(0);
                t.duplicates += v["duplicates"].as_u64().unwrap_or(0);
                t.rejected += v["rejected"].as_array().map_or(0, |a| a.len() as u64);
                return;
            }
            Ok(r) => {
                t.errors += 1;
                eprintln!(
                    "loadgen: HTTP {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                return;
            }
            Err(e) => {
                t.errors += 1;
                eprintln!("loadgen: {e}");
                thread::sleep(Duration::from_millis(100));
                return;
            }
        }
    }
}

pub fn throughput(c: Arc<Common>, seq_start: u64, drain: Option<String>) -> Value {
    let seq = Arc::new(AtomicU64::new(seq_start));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(c.seconds);
    let workers: Vec<_> = (0..c.conns)
        .map(|_| {
            let (c, seq) = (c.clone(), seq.clone());
            thread::spawn(move || {
                let (mut client, mut t) = (Client::new(&c.addr), Tally::default());
                let mut body = String::new();
                while Instant::now() < deadline {
                    let s0 = seq.fetch_add(c.batch, Ordering::Relaxed);
                    body.clear();
                    c.corpus.emit(c.t0, c.batch, s0, c.batch, &mut body);
                    post_batch(&c, &mut client, body.as_bytes(), &mut t, Instant::now());
                }
                t
            })
        })
        .collect();
    let mut t = Tally::default();
    for w in workers {
        t.add(w.join().unwrap_or_default());
    }
    let acked_s = start.elapsed().as_secs_f64();
    let sent = seq.load(Ordering::Relaxed) - seq_start;
    let mut out = json!({
        "mode": "throughput", "batch": c.batch, "conns": c.conns, "sent": sent,
        "accepted": t.accepted, "duplicates": t.duplicates, "rejected": t.rejected,
        "http_429": t.too_busy, "errors": t.errors, "acked_s": acked_s,
        "acked_eps": (t.accepted + t.duplicates) as f64 / acked_s,
        "post_ms": percentiles(&mut t.post_ms), "seq_end": seq.load(Ordering::Relaxed),
    });
    if let Some(metric) = drain {
        let (got, s) = wait_metric(&c.addr, &metric, t.accepted, start);
        out["processed"] = json!(got);
        out["processed_s"] = json!(s);
        out["processed_eps"] = json!(got as f64 / s);
    }
    out["loadgen_cpu_s"] = json!(self_cpu_s());
    out
}

/// Polls `/metrics` until `metric` reaches `target` (or stops moving for 60 s); returns
/// its value and the seconds since `start` at which it got there.
fn wait_metric(addr: &str, metric: &str, target: u64, start: Instant) -> (u64, f64) {
    let mut client = Client::new(addr);
    let (mut last, mut moved) = (0u64, Instant::now());
    loop {
        let v = client
            .request("GET", "/metrics", b"")
            .ok()
            .and_then(|r| metric_value(&String::from_utf8_lossy(&r.body), metric))
            .unwrap_or(0);
        let now = start.elapsed().as_secs_f64();
        if v >= target {
            return (v, now);
        }
        if v != last {
            (last, moved) = (v, Instant::now());
        } else if moved.elapsed() > Duration::from_secs(60) {
            eprintln!("loadgen: {metric} stuck at {v} of {target}");
            return (v, now);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

pub fn metric_value(text: &str, metric: &str) -> Option<u64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == metric).then(|| v.parse::<f64>().ok().map(|f| f as u64))?
    })
}

pub struct Paced {
    pub rate: f64,
    pub poll: String,
    pub rss_pid: Option<u32>,
    pub rss_every: f64,
    pub grace: f64,
}

pub fn paced(c: Arc<Common>, p: Paced) -> Value {
    let nb = (c.seconds * p.rate / c.batch as f64).ceil() as u64;
    let interval = c.batch as f64 / p.rate;
    let start = Instant::now();
    let due = move |j: u64| start + Duration::from_secs_f64(j as f64 * interval);
    let done = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..c.conns)
        .map(|k| {
            let c = c.clone();
            thread::spawn(move || {
                let (mut client, mut t) = (Client::new(&c.addr), Tally::default());
                let mut body = String::new();
                for j in (k..nb).step_by(c.conns as usize) {
                    let d = due(j);
                    if let Some(w) = d.checked_duration_since(Instant::now()) {
                        thread::sleep(w);
                    }
                    body.clear();
                    c.corpus
                        .emit(c.t0, c.batch, j * c.batch, c.batch, &mut body);
                    post_batch(&c, &mut client, body.as_bytes(), &mut t, d);
                }
                t
            })
        })
        .collect();
    let rss = p.rss_pid.map(|pid| {
        let (done, every) = (done.clone(), p.rss_every);
        thread::spawn(move || sample_rss(pid, every, start, &done))
    });
    let probe = {
        let (c, done, poll, grace) = (c.clone(), done.clone(), p.poll.clone(), p.grace);
        thread::spawn(move || probe(&c, nb, &poll, grace, &done, &due))
    };
    let mut t = Tally::default();
    for s in senders {
        t.add(s.join().unwrap_or_default());
    }
    let send_s = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let probe = probe.join().unwrap_or(Value::Null);
    let rss = rss.map(|h| h.join().unwrap_or(Value::Null));
    json!({
        "mode": "paced", "rate": p.rate, "batch": c.batch, "conns": c.conns, "batches": nb,
        "accepted": t.accepted, "duplicates": t.duplicates, "rejected": t.rejected,
        "http_429": t.too_busy, "errors": t.errors, "send_s": send_s,
        "achieved_eps": (t.accepted + t.duplicates) as f64 / send_s,
        "due_to_2xx_ms": percentiles(&mut t.post_ms), "visible": probe, "rss_kb": rss,
        "loadgen_cpu_s": self_cpu_s(),
    })
}

/// Follows the detections API: each new detection's latency is the time from its
/// event's POST being due to the first poll that returned it. Pages are followed through
/// `next`; the last page (no `next`) is polled again until more arrives.
fn probe(
    c: &Common,
    nb: u64,
    first: &str,
    grace: f64,
    done: &AtomicBool,
    due: &dyn Fn(u64) -> Instant,
) -> Value {
    let mut client = Client::new(&c.addr);
    let (mut url, mut seen) = (first.to_string(), std::collections::HashSet::new());
    let (mut single, mut corr, mut unmatched, mut polls) = (Vec::new(), Vec::new(), 0u64, 0u64);
    let mut done_at: Option<Instant> = None;
    loop {
        let r = match client.request("GET", &url, b"") {
            Ok(r) if r.status == 200 => r,
            Ok(r) => {
                eprintln!("loadgen probe: HTTP {} on {url}", r.status);
                thread::sleep(Duration::from_millis(200));
                continue;
            }
            Err(e) => {
                eprintln!("loadgen probe: {e}");
                thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        polls += 1;
        let now = Instant::now();
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        for d in v["detections"].as_array().into_iter().flatten() {
            let id = d["id"].to_string();
            if !seen.insert(id) {
                continue;
            }
            // Event second t0 + j holds the events of POST j (see `corpus`).
            let batch = d["timestamp"]
                .as_str()
                .and_then(parse_time)
                .map(|t| t - c.t0);
            let Some(j) = batch.filter(|j| (0..=nb as i64).contains(j)) else {
                unmatched += 1;
                continue;
            };
            let ms = now.saturating_duration_since(due(j as u64)).as_secs_f64() * 1000.0;
            if d["correlation"].as_bool() == Some(true) {
                corr.push(ms)
            } else {
                single.push(ms)
            }
        }
        match v["next"].as_str() {
            Some(n) => url = n.to_string(),
            None => {
                if done.load(Ordering::Relaxed) {
                    let at = *done_at.get_or_insert(now);
                    if at.elapsed().as_secs_f64() > grace {
                        break;
                    }
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    json!({"single": percentiles(&mut single), "correlation": percentiles(&mut corr),
           "unmatched": unmatched, "polls": polls})
}

fn sample_rss(pid: u32, every: f64, start: Instant, done: &AtomicBool) -> Value {
    let mut samples = Vec::new();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(kb) = kb {
            samples.push((start.elapsed().as_secs_f64(), kb));
        }
        let until = Instant::now() + Duration::from_secs_f64(every);
        while Instant::now() < until {
            if done.load(Ordering::Relaxed) {
                return rss_summary(&samples);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

fn rss_summary(s: &[(f64, u64)]) -> Value {
    let max = s.iter().map(|x| x.1).max();
    // The second half against the first half: flat means the later half does not grow.
    let half = s.len() / 2;
    let max_first = s[..half].iter().map(|x| x.1).max();
    let max_second = s[half..].iter().map(|x| x.1).max();
    json!({"samples": s.len(), "first": s.first().map(|x| x.1), "last": s.last().map(|x| x.1),
           "max": max, "max_first_half": max_first, "max_second_half": max_second,
           "series": s.iter().map(|(t, kb)| json!([(t * 10.0).round() / 10.0, kb])).collect::<Vec<_>>()})
}

fn percentiles(v: &mut [f64]) -> Value {
    if v.is_empty() {
        return json!({"n": 0});
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    let r = |x: f64| (x * 10.0).round() / 10.0;
    json!({"n": v.len(), "p50": r(at(0.5)), "p90": r(at(0.9)), "p99": r(at(0.99)), "max": r(at(1.0))})
}

/// CPU seconds (user + system) this process used: the load generator's own cost.
fn self_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`; utime and stime are the 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}
