//! The dashboard end to end in a real browser: the service runs in this test process
//! (`vigie_serve::server`, `127.0.0.1:0`, a temporary SQLite store, the embedded rules
//! and demo model) and `tests/browser/serve.js` drives headless Debian Chromium
//! (playwright-core; it never downloads a browser). The script opens the incident list,
//! POSTs the demo intrusion (`samples/july2025.jsonl`) to `/api/v1/events`, and the
//! incident must appear within 5 s with no navigation (after the test ended the event
//! stream once: the page must have reconnected); it opens the incident with a
//! plan, reads the customer-hours shown, clicks Acknowledge and takes a screenshot
//! (kept at `target/dashboard.png`). This test checks what it saw against the store:
//! the rows are the stored incidents, the customer-hours shown are the stored
//! decision's, the acknowledged state is stored with its history, and the page made no
//! request elsewhere, logged nothing and threw nothing.
//!
//! Fails, saying what to install, when node, Chromium or the npm module is missing: CI
//! (`.ci/run`) installs them; a skipped browser test would be a test that cannot fail.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use vigie_test_support::browser::{check_tools, harness_dir as harness, run_node, strings};

use super::dashboard_service::Live;

/// The whole run (Chromium start, ingest, two pages) takes ~15 s here; far more means
/// something hangs.
const TIMEOUT: Duration = Duration::from_secs(90);

/// What `serve.js --reconnect` prints when the test should end the event streams.
const END_STREAMS_MARK: &str = "VIGIE_E2E END_STREAMS";

/// Runs `serve.js` with `args` within [`TIMEOUT`]; its JSON report. `on_mark` runs when
/// the script asks for the event streams to be ended.
fn run_script(dir: &Path, args: &[String], on_mark: impl Fn() + Send + 'static) -> Value {
    run_node(&dir.join("serve.js"), args, TIMEOUT, move |line| {
        if line == END_STREAMS_MARK {
            on_mark();
        }
    })
}

/// Quiet, self-contained, usable: what every run must be.
fn assert_clean(out: &Value) {
    for key in [
        "console",
        "pageErrors",
        "requests",
        "failedRequests",
        "a11yList",
        "a11yIncident",
    ] {
        assert_eq!(strings(&out[key]), Vec::<String>::new(), "{key}");
    }
}

/// `163117500` → `163,117,500` (what the page prints; `dom.js` `num`).
fn grouped(x: f64) -> String {
    let whole = x.trunc() as u64;
    let digits = whole.to_string();
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    let frac = ((x - x.trunc()) * 10.0).round() as u64;
    if frac > 0 {
        s.push_str(&format!(".{frac}"));
    }
    s
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp: the screenshot is kept in target/ for a person.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf()
}

fn sample() -> PathBuf {
    vigie_test_support::repo_root().join("samples/july2025.jsonl")
}

fn lines(p: &Path) -> u64 {
    let text = std::fs::read_to_string(p).expect("read sample");
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

/// Both runs in one test, one after the other: two Chromiums at once on a loaded
/// 2-core machine would make the 5 s bound a test of the machine.
#[test]
fn dashboard_in_headless_chromium() {
    let dir = harness();
    check_tools(&dir);
    open_service(&dir);
    with_tokens(&dir);
}

/// With a token configured the page asks for it before any call, keeps it in the tab's
/// sessionStorage and sends it: the same flow then works, with no 401 logged.
fn with_tokens(dir: &Path) {
    let token = "vigie_e2e_0123456789abcdef";
    let svc = Live::start(Some(token));
    let shot = target_dir().join("dashboard-token.png");
    let out = run_script(
        dir,
        &[
            svc.base(),
            sample().display().to_string(),
            shot.display().to_string(),
            "--token".to_string(),
            token.to_string(),
        ],
        || {},
    );
    assert_clean(&out);
    assert_eq!(out["tokenPrompt"], true, "no token prompt");
    assert_eq!(out["tokenStored"], token, "token not in sessionStorage");
    assert_eq!(out["stateUi"], "acknowledged");
    let id = out["opened"].as_str().expect("opened");
    let history = svc.history(id);
    let ack = history
        .iter()
        .find(|h| h.action == "acknowledged")
        .expect("acknowledged in the history");
    assert_eq!(
        ack.actor, "e2e-admin",
        "the change is recorded under the token's name"
    );
    svc.stop();
}

fn open_service(dir: &Path) {
    let svc = Live::start(None);
    let state = svc.state().clone();
    let shot = target_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let t0 = Instant::now();
    let out = run_script(
        dir,
        &[
            svc.base(),
            sample().display().to_string(),
            shot.display().to_string(),
            "--reconnect".to_string(),
        ],
        move || vigie_serve::dashboard::end_streams(&state),
    );
    eprintln!(
        "dashboard e2e: script {:?}, incident appeared {} ms after the POST (which took {} ms)",
        t0.elapsed(),
        out["appearMs"],
        out["ingestMs"]
    );
    assert_clean(&out);

    // The ingest, as answered.
    assert_eq!(out["ingest"]["status"], 202);
    assert_eq!(out["ingest"]["body"]["accepted"], lines(&sample()));
    assert_eq!(
        strings(&out["ingest"]["body"]["rejected"]),
        Vec::<String>::new()
    );

    // The stream was ended once: the page showed it down, reconnected, and the live
    // update below came over the new stream.
    let states = strings(&out["streamStates"]);
    assert!(states.contains(&"reconnecting".to_string()), "{states:?}");
    assert_eq!(
        states.last().map(String::as_str),
        Some("open"),
        "{states:?}"
    );

    // Live: drawn empty first, then the incidents came in without a navigation.
    assert_eq!(
        out["emptyListShown"], true,
        "the list was not empty before the ingest"
    );
    assert_eq!(out["sameDocument"], true, "the page was reloaded");
    assert_eq!(out["navigationsDuringIngest"], 0);
    let appear = out["appearMs"].as_u64().expect("appearMs");
    assert!(appear <= 5000, "incident appeared after {appear} ms");

    // The rows are the stored incidents, in their stored states.
    let stored = svc.incidents();
    let mut rows: Vec<(String, String)> = out["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                r["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    rows.sort();
    let mut want: Vec<(String, String)> = stored
        .iter()
        .filter(|r| {
            !matches!(
                r.state,
                vigie_store::IncidentState::Closed | vigie_store::IncidentState::Merged
            )
        })
        .map(|r| (r.id.clone(), "open".to_string()))
        .collect();
    want.sort();
    assert!(!want.is_empty(), "the demo intrusion opened no incident");
    assert_eq!(
        rows, want,
        "list rows against the store (all open before acknowledging)"
    );

    // The plan's customer-hours: shown = the API's = the stored decision's.
    let id = out["opened"].as_str().expect("opened incident").to_string();
    let row = svc.incident(&id);
    let decision = row
        .decision
        .as_ref()
        .expect("the opened incident has a decision");
    let plan = decision.document["contain"]["plan"]["customer_hours"]
        .as_f64()
        .expect("stored plan customer-hours");
    let isolate = decision.document["contain"]["isolate_everything"]["customer_hours"]
        .as_f64()
        .expect("stored isolate-everything customer-hours");
    assert_eq!(out["apiPlanCustomerHours"].as_f64(), Some(plan));
    assert_eq!(out["planValue"].as_f64(), Some(plan));
    assert_eq!(out["planShown"].as_str(), Some(grouped(plan).as_str()));
    assert_eq!(out["isolateValue"].as_f64(), Some(isolate));
    assert!(
        plan < isolate,
        "the plan costs less than isolating everything"
    );
    let text = out["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&grouped(isolate)),
        "isolate-everything figure not on the page"
    );

    // Acknowledged: on the page, in the API, in the store with its history.
    assert_eq!(out["stateBefore"], "open");
    assert_eq!(out["stateUi"], "acknowledged");
    assert_eq!(out["stateApi"], "acknowledged");
    assert_eq!(row.state, vigie_store::IncidentState::Acknowledged);
    assert_eq!(out["acknowledgeDisabled"], true);
    let history = svc.history(&id);
    assert!(
        history.iter().any(|h| h.action == "acknowledged"),
        "{history:?}"
    );
    assert!(strings(&out["historyActions"]).contains(&"acknowledged".to_string()));

    // What the incident page drew, against the stored documents.
    let plan_actions = decision.document["contain"]["plan"]["actions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(out["planActions"], plan_actions);
    let graph_nodes = out["graphNodes"].as_u64().unwrap_or(0);
    assert!((1..=40).contains(&graph_nodes), "{graph_nodes} graph nodes");
    assert!(out["planBars"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(out["planBars"], out["isolateBars"]);
    assert!(out["ganttBars"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(
        out["tacticsAll"], 14,
        "the whole ATT&CK kill chain is drawn"
    );
    let tactics = strings(&row.document["tactics"]);
    assert!(!tactics.is_empty());
    assert_eq!(
        strings(&out["tacticsUsed"]),
        tactics,
        "tactics seen, in kill-chain order"
    );
    let steps: usize = row.document["timeline"].as_array().map_or(0, |t| {
        t.iter()
            .map(|s| s["tactics"].as_array().map_or(0, Vec::len))
            .sum()
    });
    assert_eq!(out["chainRows"], steps, "one row per (tactic, technique)");
    let shown = out["detectionRows"].as_u64().unwrap_or(0);
    assert_eq!(
        shown,
        row.detection_count.min(50),
        "first page of detections"
    );

    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot of {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
    svc.stop();
}
