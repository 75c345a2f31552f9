//! Durability of `vigie serve` (issue 9, point 8): sustained HTTP ingest while the
//! server is killed and restarted on the same store, then everything checked against
//! the store and against `vigie hunt` on the same events.
//!
//! Per backend (SQLite, PostgreSQL): the durability corpus (`vigie_test_support::corpus`,
//! 20,000 real event shapes with unique records) goes out in batches from a sender
//! thread that retries every batch until it is answered 2xx (after `Retry-After` on a
//! 429; after a short pause when the connection fails because the server is down). The
//! main thread kills the server five times at points drawn from a seed (printed;
//! `VIGIE_DURABILITY_SEED` replays one), restarting it each time on the same data:
//! - three plain `kill -9` once a drawn batch is acknowledged, after a drawn delay of a
//!   few milliseconds, so they land in a request, a commit or between them;
//! - one inside a commit: the server is started with
//!   `VIGIE_FAILPOINTS=commit.written=abort@N` and aborts itself in its N-th commit,
//!   after the rows are written and before COMMIT;
//! - one at the probe: the sender holds back until the batches before it are
//!   acknowledged, the server is killed, and the rest goes to the new process, so the
//!   probe's five failed logons (three before, two after) straddle the kill and the
//!   brute-force correlation fires only if its state survived.
//!
//! Then, with the server stopped cleanly: every corpus event is stored exactly once
//! (store counts and `known_events`), every detection `vigie hunt --format jsonl` finds
//! in the corpus is stored exactly once (single-event detections by rule id and event
//! key, correlations by rule id, group and first/last time) and nothing else is, the API
//! lists as many detections as the store holds, and the probe's correlation is there.
//! The figures (sent, acked, stored, kills, detections) are printed: run with
//! `--nocapture` to read them.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigie_test_support::corpus::{self, Corpus};
use vigie_test_support::postgres::TempPostgres;
use vigie_test_support::serve::{Http, ServeCommand, Server};

/// Events per backend.
const EVENTS: usize = 20_000;
/// Events per POST.
const BATCH: usize = 400;
const KILLS: usize = 5;
const DEFAULT_SEED: u64 = 0x5EED_0009;
/// The whole run of one backend must end within this (a hang is a failure, not a
/// stuck CI job).
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Both backends at once, each on its own thread (each run is mostly one server's
/// processor thread: side by side they fit the two cores in about the time of one).
#[test]
fn serve_durability_sqlite_and_postgres() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("data/vigie.db").display());
            run("sqlite", dir.path(), &url);
        });
        s.spawn(|| {
            let Some(pg) = temp_postgres() else { return };
            let dir = tempfile::tempdir().unwrap();
            run("postgres", dir.path(), &pg.url());
        });
    });
}

/// The corpus itself: same bytes on every generation, unique keys, real shapes from both
/// the JSON samples and EVTX, and `vigie hunt` finds the probe's correlation in it (the
/// server's runs compare against hunt, so this pins what they must find).
#[test]
fn durability_corpus_is_stable_and_hunt_finds_the_probe() {
    let a = corpus::durability_corpus(3_000, 1_500);
    let b = corpus::durability_corpus(3_000, 1_500);
    assert_eq!(a.lines, b.lines, "same arguments, same corpus");
    let keys: BTreeSet<&String> = a.keys.iter().collect();
    assert_eq!(keys.len(), a.len(), "event keys are unique");
    assert!(
        a.from_evtx > 0 && a.from_evtx < a.len() - 6,
        "both JSON and EVTX shapes"
    );
    assert_eq!(a.probe, (1_497..1_503).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.jsonl");
    a.write(&path);
    let found = hunt(&path, &a);
    let probe = format!("corr:{{\"TargetUserName\":\"{}\"}}", corpus::PROBE_ACCOUNT);
    assert_eq!(found.iter().filter(|d| d.1.starts_with(&probe)).count(), 1);
    assert!(found.len() > 10, "the corpus holds detections: {found:?}");
}

/// A small deterministic generator (splitmix64): the kill plan depends on the seed only.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum KillKind {
    /// SIGKILL `delay_ms` after batch `at` is acknowledged.
    Random { delay_ms: u64 },
    /// The process started before this kill aborts in its `nth` commit.
    Failpoint { nth: usize },
    /// SIGKILL with the sender held before batch `at` (the probe straddles it).
    Probe,
}

#[derive(Debug, Clone, Copy)]
struct Kill {
    /// Batch index the kill waits for (all batches before it acknowledged).
    at: usize,
    kind: KillKind,
}

/// Five kill points, one per fifth of the run (so every process gets work), kinds drawn.
fn plan(seed: u64, batches: usize) -> Vec<Kill> {
    let mut rng = Rng(seed);
    let width = (batches - 6) / KILLS;
    let probe = rng.below(KILLS);
    let failpoint = (probe + 1 + rng.below(KILLS - 1)) % KILLS;
    let mut prev = 0;
    let mut kills = Vec::new();
    for slot in 0..KILLS {
        let at = 3 + slot * width + 2 + rng.below(width - 4);
        let kind = if slot == probe {
            KillKind::Probe
        } else if slot == failpoint {
            KillKind::Failpoint { nth: at - prev }
        } else {
            KillKind::Random {
                delay_ms: rng.below(40) as u64,
            }
        };
        kills.push(Kill { at, kind });
        prev = at;
    }
    kills
}

fn seed() -> u64 {
    match std::env::var("VIGIE_DURABILITY_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|e| panic!("VIGIE_DURABILITY_SEED={s}: {e}"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

/// What the sender thread and the killer share.
struct Shared {
    /// The current server's base URL (changes on every restart: a new free port).
    base: Mutex<String>,
    /// Batches acknowledged 2xx so far (the sender sends one at a time, in order).
    acked: AtomicUsize,
    /// Batch index the sender must not send until released (the probe kill).
    gate: Mutex<Option<usize>>,
    released: Condvar,
    /// Set when the sender gave up (panicked): the killer stops waiting.
    failed: AtomicBool,
}

/// What the sender saw.
#[derive(Debug, Default)]
struct SendStats {
    attempts: u64,
    events_posted: u64,
    acked_events: u64,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    too_many: u64,
    connect_errors: u64,
    /// Other statuses (e.g. 503 while a server starts or stops), by status.
    other: BTreeMap<u16, u64>,
}

fn run(backend: &str, dir: &Path, store_url: &str) {
    let started = Instant::now();
    let seed = seed();
    let batches = EVENTS / BATCH;
    let kills = plan(seed, batches);
    let probe_at = kills
        .iter()
        .find(|k| k.kind == KillKind::Probe)
        .map(|k| k.at * BATCH)
        .unwrap_or(BATCH);
    let prepared = prepared(EVENTS, probe_at);
    let corpus = prepared.corpus.clone();
    println!(
        "durability[{backend}]: seed {seed:#x} (VIGIE_DURABILITY_SEED), {} events \
         ({} from EVTX records) in {batches} batches of {BATCH}, probe at event {probe_at}",
        corpus.len(),
        corpus.from_evtx
    );

    let config = write_config(dir, "");
    let cmd = ServeCommand::new(env!("CARGO_BIN_EXE_vigie"), &dir.join("data"))
        .store(store_url)
        .config(&config);
    let failpoint_env = |k: &Kill| match k.kind {
        KillKind::Failpoint { nth } => Some(format!("commit.written=abort@{nth}")),
        _ => None,
    };
    let mut server = start(&cmd, failpoint_env(&kills[0]));
    let shared = Arc::new(Shared {
        base: Mutex::new(server.base_url()),
        acked: AtomicUsize::new(0),
        gate: Mutex::new(None),
        released: Condvar::new(),
        failed: AtomicBool::new(false),
    });
    let sender = {
        let (shared, corpus) = (shared.clone(), corpus.clone());
        std::thread::spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                send_all(&shared, &corpus, started)
            }));
            if out.is_err() {
                shared.failed.store(true, Ordering::SeqCst);
            }
            out
        })
    };

    for (i, kill) in kills.iter().enumerate() {
        let what = match kill.kind {
            KillKind::Random { delay_ms } => {
                wait_acked(&shared, kill.at, &mut server, started);
                std::thread::sleep(Duration::from_millis(delay_ms));
                let status = server.kill9();
                format!(
                    "SIGKILL {delay_ms} ms after batch {} was acked ({status})",
                    kill.at
                )
            }
            KillKind::Probe => {
                *shared.gate.lock().unwrap() = Some(kill.at);
                wait_acked(&shared, kill.at, &mut server, started);
                let status = server.kill9();
                format!(
                    "SIGKILL between batches {} and {} (the probe straddles it; {status})",
                    kill.at - 1,
                    kill.at
                )
            }
            KillKind::Failpoint { nth } => {
                let Some(status) = server.wait_exit(Duration::from_secs(90)) else {
                    server.fail(&format!(
                        "commit.written=abort@{nth} did not abort the server"
                    ));
                };
                assert_eq!(
                    status.signal(),
                    Some(libc_sigabrt()),
                    "the failpoint should abort the process: {status}"
                );
                format!(
                    "abort inside commit {nth} (commit.written failpoint; {status}), {} batches acked",
                    shared.acked.load(Ordering::SeqCst)
                )
            }
        };
        let restart = Instant::now();
        server = start(&cmd, kills.get(i + 1).and_then(failpoint_env));
        *shared.base.lock().unwrap() = server.base_url();
        if kill.kind == KillKind::Probe {
            *shared.gate.lock().unwrap() = None;
            shared.released.notify_all();
        }
        println!(
            "durability[{backend}]: kill {}/{KILLS}: {what}; restarted in {:.1} s",
            i + 1,
            restart.elapsed().as_secs_f64()
        );
    }
    let stats = match sender.join() {
        Ok(Ok(stats)) => stats,
        _ => server.fail("the sender thread failed (its panic is above)"),
    };
    let replayed = replay(&server, &corpus, &[0, probe_at / BATCH, batches - 1]);
    let api = server
        .http()
        .get_all("/api/v1/detections?limit=500", "detections");
    let status = server.terminate(Duration::from_secs(60));
    if !status.success() {
        server.fail(&format!("clean shutdown after SIGTERM: {status}"));
    }
    let expected = prepared.expected();
    let stored = check_store(store_url, &corpus, expected, api.len(), true);
    assert_eq!(stats.acked_events, corpus.len() as u64, "every event acked");
    println!(
        "durability[{backend}]: events sent {} in {} POSTs ({} retries: {} connection \
         failures, {} x 429, other {:?}); acked {} (accepted {}, duplicates {}); stored {}; \
         kills {KILLS}; replayed {replayed} (all duplicates); detections hunt {} \
         ({} correlations), stored {}, API {}",
        stats.events_posted,
        stats.attempts,
        stats.attempts - batches as u64,
        stats.connect_errors,
        stats.too_many,
        stats.other,
        stats.acked_events,
        stats.accepted,
        stats.duplicates,
        stored.events,
        expected.len(),
        stored.correlations,
        stored.detections,
        api.len(),
    );
    println!(
        "durability[{backend}]: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// Sends `batches` again (what a sender does when a kill took the answer of a committed
/// batch): each must be answered 2xx with every event a duplicate. Returns the events
/// replayed.
fn replay(server: &Server, corpus: &Corpus, batches: &[usize]) -> u64 {
    let http = server.http();
    let mut events = 0;
    for &b in batches {
        let range = b * BATCH..((b + 1) * BATCH).min(corpus.len());
        let n = range.len() as u64;
        let r = http.post_events(corpus.jsonl(range)).unwrap();
        assert!(
            r.is_success(),
            "replay of batch {b}: HTTP {} {}",
            r.status,
            r.text()
        );
        let v = r.json();
        assert_eq!(v["accepted"], 0, "replay of batch {b}: {v}");
        assert_eq!(v["duplicates"], n, "replay of batch {b}: {v}");
        events += n;
    }
    events
}

/// SIGABRT's number (6 on every Unix vigie runs on).
fn libc_sigabrt() -> i32 {
    6
}

/// Starts the server, with the failpoint armed for this run when given.
fn start(cmd: &ServeCommand, failpoint: Option<String>) -> Server {
    match &failpoint {
        Some(fp) => cmd.spawn_with(&[("VIGIE_FAILPOINTS", fp)]),
        None => cmd.spawn(),
    }
}

/// Waits until `batches` batches are acknowledged (the sender's progress), failing when
/// the sender died, the server exited by itself, or the run is over its time.
fn wait_acked(shared: &Shared, batches: usize, server: &mut Server, started: Instant) {
    while shared.acked.load(Ordering::SeqCst) < batches {
        if shared.failed.load(Ordering::SeqCst) {
            server.fail("the sender thread failed (its panic is above)");
        }
        if !server.running() {
            server.fail(&format!(
                "exited by itself while waiting for batch {batches}"
            ));
        }
        if started.elapsed() > RUN_LIMIT {
            server.fail(&format!(
                "batch {batches} not acknowledged within {RUN_LIMIT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends every batch in order, each until it is answered 2xx.
fn send_all(shared: &Shared, corpus: &Corpus, started: Instant) -> SendStats {
    let mut stats = SendStats::default();
    let mut http: Option<Http> = None;
    for b in 0..corpus.len().div_ceil(BATCH) {
        {
            let mut gate = shared.gate.lock().unwrap();
            while gate.is_some_and(|g| b >= g) {
                gate = shared.released.wait(gate).unwrap();
            }
        }
        let range = b * BATCH..((b + 1) * BATCH).min(corpus.len());
        let n = range.len() as u64;
        let body = corpus.jsonl(range);
        loop {
            assert!(
                started.elapsed() < RUN_LIMIT,
                "batch {b} never acknowledged"
            );
            let base = shared.base.lock().unwrap().clone();
            if http.as_ref().is_none_or(|h| h.base_url() != base) {
                http = Some(Http::with_timeout(&base, Duration::from_secs(30)));
            }
            let Some(client) = http.as_ref() else {
                continue;
            };
            stats.attempts += 1;
            let reply = client.post_events(body.clone());
            // Refused connections (the server is down) sent nothing.
            if !reply.as_ref().is_err_and(|e| e.is_connect()) {
                stats.events_posted += n;
            }
            match reply {
                Ok(r) if r.is_success() => {
                    let v = r.json();
                    let count = |k: &str| v[k].as_u64().unwrap_or(0);
                    let rejected = v["rejected"].as_array().map_or(0, Vec::len) as u64;
                    assert_eq!(
                        count("accepted") + count("duplicates") + rejected,
                        n,
                        "batch {b}: the answer does not account for every event: {v}"
                    );
                    assert_eq!(rejected, 0, "batch {b}: events rejected: {v}");
                    stats.accepted += count("accepted");
                    stats.duplicates += count("duplicates");
                    stats.rejected += rejected;
                    stats.acked_events += n;
                    break;
                }
                Ok(r) if r.status == 429 => {
                    stats.too_many += 1;
                    let wait = r.retry_after;
                    assert!(
                        wait.is_some(),
                        "429 without a numeric Retry-After: {}",
                        r.text()
                    );
                    std::thread::sleep(Duration::from_secs(wait.unwrap_or(1)));
                }
                Ok(r) => {
                    *stats.other.entry(r.status).or_default() += 1;
                    assert!(
                        r.status >= 500,
                        "batch {b}: HTTP {} is not a failure to retry: {}",
                        r.status,
                        r.text()
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => {
                    stats.connect_errors += 1;
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        }
        shared.acked.store(b + 1, Ordering::SeqCst);
    }
    stats
}

/// A detection as both sides can name it: single-event detections by rule id and event
/// key, correlation hits by rule id, group and first/last time (their member events are
/// named by where each side read them, which differs).
pub(super) type DetectionId = (String, String);

fn detection_id(doc: &Value, event_key: Option<&str>) -> DetectionId {
    let rule = doc["rule_id"].as_str().unwrap_or_default().to_string();
    if doc["correlation"].as_bool() == Some(true) {
        let which = format!("corr:{} {}..{}", doc["group"], doc["first"], doc["last"]);
        return (rule, which);
    }
    (rule, event_key.unwrap_or("?").to_string())
}

/// A corpus and, once asked, what hunt finds in it; one per (size, probe) per test
/// process (both backends run the same seed, so the same corpus: one generation and one
/// hunt run serve both, and the hunt runs while the servers ingest).
pub(super) struct Prepared {
    pub corpus: Arc<Corpus>,
    expected: OnceLock<BTreeSet<DetectionId>>,
}

impl Prepared {
    /// What `vigie hunt --format jsonl` finds in the corpus (run on first call).
    pub fn expected(&self) -> &BTreeSet<DetectionId> {
        self.expected.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("corpus.jsonl");
            self.corpus.write(&path);
            hunt(&path, &self.corpus)
        })
    }
}

pub(super) fn prepared(n: usize, probe_at: usize) -> Arc<Prepared> {
    type Cells = Vec<((usize, usize), Arc<OnceLock<Arc<Prepared>>>)>;
    static CELLS: Mutex<Cells> = Mutex::new(Vec::new());
    let cell = {
        let mut cells = CELLS.lock().unwrap_or_else(|p| p.into_inner());
        match cells.iter().find(|c| c.0 == (n, probe_at)) {
            Some(c) => c.1.clone(),
            None => {
                let c = Arc::new(OnceLock::new());
                cells.push(((n, probe_at), c.clone()));
                c
            }
        }
    };
    cell.get_or_init(|| {
        Arc::new(Prepared {
            corpus: Arc::new(corpus::durability_corpus(n, probe_at)),
            expected: OnceLock::new(),
        })
    })
    .clone()
}

/// What `vigie hunt --format jsonl` finds in the corpus.
pub(super) fn hunt(path: &Path, corpus: &Corpus) -> BTreeSet<DetectionId> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "--format", "jsonl"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vigie hunt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut set = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let key = doc["record"]
            .as_u64()
            .and_then(|r| (r as usize).checked_sub(1))
            .and_then(|i| corpus.keys.get(i))
            .map(String::as_str);
        assert!(set.insert(detection_id(&doc, key)), "hunt twice: {line}");
    }
    set
}

/// What the store holds after a run.
pub(super) struct Stored {
    pub events: u64,
    pub detections: u64,
    pub correlations: usize,
}

/// Every corpus event stored once, every detection hunt finds stored once and nothing
/// more, the API listing them all, the probe's correlation among them. Without
/// `in_order` (batches sent concurrently, so event time arrives out of order and
/// correlation inputs may be late by design) correlation hits are left out of the
/// comparison.
pub(super) fn check_store(
    url: &str,
    corpus: &Corpus,
    expected: &BTreeSet<DetectionId>,
    api_detections: usize,
    in_order: bool,
) -> Stored {
    let spec = vigie_store::StoreSpec::parse(url).unwrap();
    let store = vigie_store::Store::open(&spec).unwrap();
    let counts = store.counts().unwrap();
    let known = store.known_events(&corpus.keys).unwrap();
    let missing: Vec<&String> = corpus
        .keys
        .iter()
        .zip(&known)
        .filter(|(_, k)| !**k)
        .map(|(key, _)| key)
        .collect();
    assert!(
        missing.is_empty(),
        "{} acked events not stored, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
    assert_eq!(
        counts.events,
        corpus.len() as u64,
        "events stored = distinct events acked"
    );
    let stored = stored_detections(&store);
    let rows: u32 = stored.values().sum();
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "detections stored more than once: {twice:?}"
    );
    let compared = |d: &&DetectionId| in_order || !d.1.starts_with("corr:");
    let got: BTreeSet<DetectionId> = stored.keys().filter(compared).cloned().collect();
    let expected: BTreeSet<DetectionId> = expected.iter().filter(compared).cloned().collect();
    let lost: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        lost.is_empty(),
        "{} detections of hunt not stored: {lost:?}",
        lost.len()
    );
    assert!(
        extra.is_empty(),
        "{} stored detections hunt does not find: {extra:?}",
        extra.len()
    );
    assert_eq!(counts.detections, rows as u64, "store counts = rows listed");
    assert_eq!(
        api_detections, rows as usize,
        "the API lists every stored detection"
    );
    let probe = format!("corr:{{\"TargetUserName\":\"{}\"}}", corpus::PROBE_ACCOUNT);
    assert!(
        !in_order || got.iter().filter(|d| d.1.starts_with(&probe)).count() == 1,
        "the probe's brute-force correlation fired once"
    );
    Stored {
        events: counts.events,
        detections: rows as u64,
        correlations: got.iter().filter(|d| d.1.starts_with("corr:")).count(),
    }
}

/// Every stored detection (paged through the store) with how many rows name it.
fn stored_detections(store: &vigie_store::Store) -> BTreeMap<DetectionId, u32> {
    let mut stored = BTreeMap::new();
    let mut q = vigie_store::DetectionQuery {
        limit: 1000,
        ..Default::default()
    };
    loop {
        let page = store.detections(&q).unwrap();
        for row in &page.items {
            *stored
                .entry(detection_id(&row.document, row.event_key.as_deref()))
                .or_default() += 1;
        }
        match page.next {
            Some(next) => q.after = Some(next),
            None => return stored,
        }
    }
}

/// The server's config for these tests: retention far beyond the corpus's 2025 event
/// times (so no sweep touches what is being counted), plus `extra` TOML.
pub(super) fn write_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let text = format!(
        "{extra}\n[retention]\nevents_days = 36500\nclosed_incidents_days = 36500\naudit_days = 36500\n"
    );
    vigie_test_support::write_file(dir, "serve.toml", text.as_bytes())
}

/// A PostgreSQL of this test's own, or None (printed) when its binaries are missing and
/// not under CI.
pub(super) fn temp_postgres() -> Option<TempPostgres> {
    TempPostgres::start()
}
