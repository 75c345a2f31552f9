//! The durability corpus: a deterministic stream of real event shapes for the tests that
//! ingest into `vigie serve`, kill it and check what was kept.
//!
//! The events are the lines of `samples/july2025.jsonl` and `samples/intrusion.jsonl`
//! (Windows Security and Sysmon events of the demo operator) followed by the records of
//! the EVTX files under `shared/evtx/evtx-to-mitre-attack` converted to JSON (the
//! attack samples, in path order), cycled until the corpus has the size asked for. Each
//! event is rewritten in two places only, so its key is stable and unique:
//! `Event.System.EventRecordID` becomes its 1-based position in the corpus and
//! `Event.System.TimeCreated` a steady timeline (one event every 200 ms from
//! 2025-07-24T00:00:00Z), so correlations see event time move forward as a live feed
//! does and no event is late. Every event keeps its `Computer` and `Channel`, so its key
//! in the store is `rec:<Computer>/<Channel>/<EventRecordID>` ([`Corpus::keys`]).
//!
//! Into this stream goes the *probe*: five failed logons (4625) for one account that
//! appears nowhere else, then its successful logon (4624), three events before a chosen
//! position and three from it. The embedded brute-force correlation (five failures of
//! one account within ten minutes) fires only if its state survives whatever happens at
//! that position (the durability test kills the server there).
//!
//! The last [`QUIET_TAIL`] events (a minute of event time) hold no failed logon, the
//! embedded correlation's only input: a live service feeds a correlation input only once
//! the watermark (newest event time minus the allowed lateness, 30 s by default) has
//! passed it, so without that tail the inputs of the stream's last seconds would be
//! waiting when it ends, while `vigie hunt` on the file feeds them all.
//!
//! Same arguments, same bytes: no clock, no randomness.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The account the probe's logons target.
pub const PROBE_ACCOUNT: &str = "durability.probe";

/// Events before the probe's position that belong to the probe (failures).
pub const PROBE_BEFORE: usize = 3;

/// Events from the probe's position on that belong to the probe (two failures, then the
/// success).
pub const PROBE_AFTER: usize = 3;

/// Events at the end of the corpus without a failed logon (60 s of event time).
pub const QUIET_TAIL: usize = 300;

/// A generated corpus (see the module docs).
#[derive(Debug, Clone)]
pub struct Corpus {
    /// One JSON document per event, serialised on one line (no newline).
    pub lines: Vec<String>,
    /// Each event's store key, `rec:<Computer>/<Channel>/<EventRecordID>`.
    pub keys: Vec<String>,
    /// Indices (0-based) of the probe's events, in order.
    pub probe: Vec<usize>,
    /// How many events came from EVTX records (the rest from the JSON samples).
    pub from_evtx: usize,
}

impl Corpus {
    /// The events `range` as JSON lines (the body of one `POST /api/v1/events`).
    pub fn jsonl(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        let mut out = Vec::new();
        for line in &self.lines[range] {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Writes the whole corpus as a JSON-lines file (what `vigie hunt` reads); panics
    /// naming the path when it cannot.
    pub fn write(&self, path: &Path) {
        let bytes = self.jsonl(0..self.lines.len());
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The corpus of `n` events with the probe straddling position `probe_at` (its first
/// [`PROBE_BEFORE`] events just before it, the rest from it on). Panics when `probe_at`
/// leaves no room for the probe or the sample files cannot be read.
pub fn durability_corpus(n: usize, probe_at: usize) -> Corpus {
    assert!(
        probe_at >= PROBE_BEFORE && probe_at + PROBE_AFTER + QUIET_TAIL <= n,
        "probe at {probe_at} does not fit in {n} events"
    );
    let (pool, json_samples) = pool();
    let json_samples = *json_samples;
    let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-07-24T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("corpus base time: {e}"));
    let mut corpus = Corpus {
        lines: Vec::with_capacity(n),
        keys: Vec::with_capacity(n),
        probe: Vec::new(),
        from_evtx: 0,
    };
    let probe = (probe_at - PROBE_BEFORE)..(probe_at + PROBE_AFTER);
    let mut next = 0usize;
    for i in 0..n {
        let mut doc = if probe.contains(&i) {
            corpus.probe.push(i);
            probe_event(i - probe.start)
        } else {
            let mut k = next % pool.len();
            next += 1;
            while i + QUIET_TAIL >= n && pool[k]["Event"]["System"]["EventID"] == 4625 {
                k = next % pool.len();
                next += 1;
            }
            if k >= json_samples {
                corpus.from_evtx += 1;
            }
            pool[k].clone()
        };
        let time = base + Duration::milliseconds(200 * i as i64);
        let key = restamp(&mut doc, i as u64 + 1, &time);
        corpus.keys.push(key);
        corpus.lines.push(doc.to_string());
    }
    corpus
}

/// The pool the corpus cycles through and how many of its first documents come from the
/// JSON samples (the rest are EVTX records), read once per test process (parsing the
/// EVTX files is most of a corpus's cost).
fn pool() -> &'static (Vec<Value>, usize) {
    static POOL: OnceLock<(Vec<Value>, usize)> = OnceLock::new();
    POOL.get_or_init(read_pool)
}

/// Reads the pool. Documents without `Computer` and `Channel` are left out: their key
/// would depend on where they were posted.
fn read_pool() -> (Vec<Value>, usize) {
    let root = crate::repo_root();
    let mut pool = Vec::new();
    for name in ["samples/july2025.jsonl", "samples/intrusion.jsonl"] {
        let path = root.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        for (n, line) in text.lines().enumerate() {
            let doc: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
            if has_identity(&doc) {
                pool.push(doc);
            }
        }
    }
    let json_samples = pool.len();
    let dir = crate::shared().join("evtx/evtx-to-mitre-attack");
    let mut files: Vec<_> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    for file in files {
        let Ok(mut parser) = evtx::EvtxParser::from_path(&file) else {
            continue;
        };
        let settings = evtx::ParserSettings::new().num_threads(1).indent(false);
        parser = parser.with_configuration(settings);
        // Damaged records are the EVTX reader's tests' business, not this corpus's.
        for doc in parser.records_json_value().filter_map(Result::ok) {
            if has_identity(&doc.data) {
                pool.push(doc.data);
            }
        }
    }
    assert!(
        pool.len() > json_samples,
        "no EVTX records under {}",
        dir.display()
    );
    (pool, json_samples)
}

fn has_identity(doc: &Value) -> bool {
    let sys = &doc["Event"]["System"];
    let named = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    named(&sys["Computer"]) && named(&sys["Channel"])
}

/// Sets the record id and time of `doc` and returns its store key.
fn restamp(doc: &mut Value, record: u64, time: &DateTime<Utc>) -> String {
    let sys = &mut doc["Event"]["System"];
    sys["EventRecordID"] = json!(record);
    sys["TimeCreated"] = json!({"#attributes": {
        "SystemTime": time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }});
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    format!(
        "rec:{}/{}/{record}",
        text(&sys["Computer"]),
        text(&sys["Channel"])
    )
}

/// The `k`-th event of the probe: failures 0..5, then the success.
fn probe_event(k: usize) -> Value {
    let success = k + 1 == PROBE_BEFORE + PROBE_AFTER;
    let (id, data) = if success {
        (
            4624,
            json!({"TargetUserName": PROBE_ACCOUNT, "TargetDomainName": "ARMORIQUE",
                   "LogonType": 3, "IpAddress": "203.0.113.7", "IpPort": "51515",
                   "WorkstationName": "-", "AuthenticationPackageName": "NTLM"}),
        )
    } else {
        (
            4625,
            json!({"SubjectUserSid": "S-1-0-0", "TargetUserName": PROBE_ACCOUNT,
                   "TargetDomainName": "ARMORIQUE", "Status": "0xc000006d",
                   "SubStatus": "0xc000006a", "LogonType": 3, "WorkstationName": "-",
                   "IpAddress": "203.0.113.7", "IpPort": "51515"}),
        )
    };
    json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
            "EventID": id,
            "Channel": "Security",
            "Computer": "vpn01.armorique.local",
        },
        "EventData": data,
    }})
}
