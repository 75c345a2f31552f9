//! The HTML report in a real browser: headless Debian Chromium driven by playwright-core
//! (`tests/browser/report.js`; it never downloads a browser). Checks that the page loads
//! with no console error, no page error and no request besides itself, that no script
//! ran or exists (hostile text included), that the graph's nodes, the segments' bars and
//! the Gantt bars are as many as the JSON says, that the incident ids and the plan's
//! customer-hours are on the page, and that the notification's deadline cards are the
//! JSON's (same kinds, deadlines and dates, each with its proper label, none generic).
//! Keeps the demo page and its full-page screenshot at `target/html-report.html` and
//! `target/html-report.png`.
//!
//! Fails, saying what to install, when node, Chromium or the npm module is missing: CI
//! (`.ci/run`) installs them; a skipped browser test would be a test that cannot fail.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use vigie_render::html::{report_with, Options};

use vigie_test_support::browser::{check_tools, harness_dir as harness, run_node, strings};

use super::html_expect::{cards, expect, grouped, to_complete};
use super::html_fixture::*;

const TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the harness on `pages` (`file.html` or `file.html=shot.png`), within a timeout.
fn run_harness(dir: &Path, pages: &[String]) -> Value {
    run_node(&dir.join("report.js"), pages, TIMEOUT, |_| {})
}

/// What every page must be: quiet, self-contained, script-free.
fn assert_clean(p: &Value) {
    let file = p["file"].as_str().unwrap_or("?");
    assert_eq!(
        strings(&p["console"]),
        Vec::<String>::new(),
        "console messages on {file}"
    );
    assert_eq!(
        strings(&p["pageErrors"]),
        Vec::<String>::new(),
        "page errors on {file}"
    );
    assert_eq!(
        strings(&p["requests"]),
        Vec::<String>::new(),
        "{file} fetched something"
    );
    assert_eq!(p["scripts"], 0, "{file} holds a <script> element");
    assert_eq!(p["pwned"], false, "planted script ran on {file}");
}

#[test]
fn report_in_headless_chromium() {
    let dir = harness();
    check_tools(&dir);
    let g = demo_graph();
    let demo = demo_report(&g);
    let doc = serde_json::to_value(&demo).expect("json");
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = Options::default();
    // CARGO_TARGET_TMPDIR is target/tmp: the demo page and its screenshot are kept
    // beside it, in target/, for a person to look at.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let demo_page = target.join("html-report.html");
    let shot = target.join("html-report.png");
    let hostile_page = tmp.path().join("hostile.html");
    std::fs::write(&demo_page, report_with(&demo, &g, &o)).expect("write demo page");
    std::fs::write(&hostile_page, report_with(&hostile_report(&g), &g, &o)).expect("write page");
    let _ = std::fs::remove_file(&shot);
    let out = run_harness(
        &dir,
        &[
            format!("{}={}", demo_page.display(), shot.display()),
            hostile_page.display().to_string(),
        ],
    );
    let pages = out["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 2);
    pages.iter().for_each(assert_clean);

    let p = &pages[0];
    let text = p["text"].as_str().unwrap_or_default();
    let want = expect(&doc, o.max_incidents, o.max_graph_nodes);
    let got = p["incidents"].as_array().expect("incidents");
    assert_eq!(got.len(), want.len());
    assert_eq!(p["incidentRows"], want.len());
    for (s, w) in got.iter().zip(&want) {
        assert_eq!(s["id"], w.id.as_str());
        assert!(text.contains(&w.id), "incident id {} not on the page", w.id);
        assert_eq!(s["graphNodes"], w.graph_nodes, "graph nodes of {}", w.id);
        assert_eq!(s["planBars"], w.plan_bars, "plan bars of {}", w.id);
        assert_eq!(s["isolateBars"], w.isolate_bars, "isolate bars of {}", w.id);
        assert_eq!(s["ganttBars"], w.gantt_bars, "Gantt bars of {}", w.id);
        let drawn = strings(&s["nodeIds"]);
        for id in w.compromised.iter().chain(&w.plan_targets) {
            assert!(drawn.contains(id), "{id} not drawn for {}", w.id);
        }
        match (&w.plan_customer_hours, w.plan_customer_hours_value) {
            (Some(shown), Some(value)) => {
                assert_eq!(s["planCustomerHours"], shown.as_str());
                assert!(
                    text.contains(shown.as_str()),
                    "{shown} customer-hours not on the page"
                );
                let on_page: f64 = s["planCustomerHoursValue"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .expect("data-value");
                assert_eq!(on_page, value);
            }
            _ => assert_eq!(s["planCustomerHours"], Value::Null),
        }
    }
    for (k, s) in got.iter().enumerate() {
        let inc = &doc["incidents"][k];
        let want = cards(inc);
        let shown = s["deadlineCards"].as_array().expect("deadline cards");
        assert_eq!(shown.len(), want.len(), "deadline cards of incident {k}");
        for (c, w) in shown.iter().zip(&want) {
            assert_eq!(c["kind"], w.kind.as_str());
            assert_eq!(c["deadline"].as_str(), w.deadline.as_deref(), "{}", w.kind);
            assert_eq!(c["label"], w.label.as_str());
            let label = c["label"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_lowercase();
            assert!(!label.is_empty() && label != "deadline", "generic card {c}");
            if let Some(d) = &w.deadline {
                assert_eq!(c["datetime"], d.as_str());
                let human = vigie_render::respond::notification::human_time(d);
                assert_eq!(c["date"], human.as_str());
            }
        }
        assert_eq!(
            s["toComplete"],
            to_complete(inc),
            "items to complete of {k}"
        );
    }
    // The July draft flags GDPR: its Art. 33 card is there, after the three NIS2 ones.
    assert_eq!(got[0]["deadlineCards"][3]["kind"], "gdpr");
    // The July incident is the one with a decision: 40 assets drawn, cut edges shown.
    assert_eq!(got[0]["graphNodes"], 40);
    assert!(got[0]["cutEdges"].as_u64().unwrap_or(0) >= 1);
    assert!(text.contains(&grouped(111_450_000.0)));
    assert_eq!(got[1]["noDecision"], true);

    // Hostile text is shown as text, not run.
    let hostile = pages[1]["text"].as_str().unwrap_or_default();
    assert!(
        hostile.contains(SCRIPT),
        "the planted script is not shown as text"
    );
    assert!(hostile.contains("onerror=\"window.__vigie_pwned=1\""));

    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot of {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
