//! `vigie exercise`: the JSON document's shape and bounds, byte-identical output
//! whatever the thread count, the seed mattering, bad options refused with exit 2,
//! the text report on the demo operator, the help. Sample counts stay small: this
//! runs in a debug build.

use serde_json::Value;

/// Samples per run here: enough for every list to fill on the demo, few enough for a
/// debug build.
const N: &str = "300";

use super::cli::{ok, vigie};

fn json(args: &[&str]) -> Value {
    let o = ok(vigie(args));
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

/// A probability with its 95 % interval around it.
fn check_probability(p: &Value, ci: &Value, what: &str) -> f64 {
    let p = num(p, what);
    let lo = num(&ci[0], what);
    let hi = num(&ci[1], what);
    assert!((0.0..=1.0).contains(&p), "{what} = {p}");
    assert!(
        0.0 <= lo && lo <= p && p <= hi && hi <= 1.0,
        "{what}: {p} not within [{lo}, {hi}]"
    );
    p
}

/// `{mean, p5, p50, p95}` in order, within the horizon.
fn check_percentiles(t: &Value, horizon: f64, what: &str) {
    let p5 = num(&t["p5"], what);
    let p50 = num(&t["p50"], what);
    let p95 = num(&t["p95"], what);
    let mean = num(&t["mean"], what);
    assert!(
        0.0 <= p5 && p5 <= p50 && p50 <= p95 && p95 <= horizon,
        "{what}: {t}"
    );
    assert!(p5 <= mean && mean <= p95 || p5 == p95, "{what}: {t}");
}

fn sorted_desc(items: &[Value], key: &str) -> bool {
    items
        .windows(2)
        .all(|w| num(&w[0][key], key) >= num(&w[1][key], key))
}

#[test]
fn json_document_has_every_figure_within_its_bounds() {
    let doc = json(&["exercise", "--samples", N, "--format", "json"]);
    assert_eq!(doc["schema"], "vigie/v1");
    for k in ["model", "rules"] {
        assert!(
            doc[k].as_str().is_some_and(|d| d.starts_with("sha256:")),
            "{k}: {}",
            doc[k]
        );
    }
    assert_eq!(doc["seed"], 0);
    assert_eq!(doc["samples"], 300);
    assert_eq!(doc["horizon_hours"], 720.0);
    assert_eq!(doc["entry"], serde_json::json!([]));
    let horizon = 720.0;

    let jewels = doc["crown_jewels"].as_array().expect("crown_jewels");
    assert_eq!(jewels.len(), 21, "every crown jewel of the demo");
    for j in jewels {
        let id = j["id"].as_str().expect("id");
        assert!(j["name"].as_str().is_some_and(|n| !n.is_empty()), "{j}");
        let reached = check_probability(&j["p_reached"], &j["p_reached_ci95"], id);
        let before = check_probability(
            &j["p_reached_before_detection"],
            &j["p_reached_before_detection_ci95"],
            id,
        );
        assert!(before <= reached, "{id}: before detection > reached: {j}");
        match &j["ttc_hours"] {
            Value::Null => assert_eq!(reached, 0.0, "{id}: reached without a ttc"),
            t => check_percentiles(t, horizon, id),
        }
    }
    assert!(
        jewels.iter().any(|j| num(&j["p_reached"], "p") > 0.0),
        "the demo's attacker reaches some crown jewel: {doc:#}"
    );

    let detected = check_probability(&doc["p_detected"], &doc["p_detected_ci95"], "p_detected");
    match &doc["ttd_hours"] {
        Value::Null => assert_eq!(detected, 0.0),
        t => check_percentiles(t, horizon, "ttd_hours"),
    }
    let c = &doc["customer_hours"];
    let mean = num(&c["mean"], "customer_hours.mean");
    assert!(num(&c["mean_ci95"][0], "ci") <= mean && mean <= num(&c["mean_ci95"][1], "ci"));
    let ps: Vec<f64> = ["p5", "p50", "p95", "p99"]
        .iter()
        .map(|k| num(&c[k], k))
        .collect();
    assert!(ps.windows(2).all(|w| 0.0 <= w[0] && w[0] <= w[1]), "{c}");
    assert!(
        mean > 0.0,
        "an incident on the demo costs customer-hours: {c}"
    );

    let paths = doc["paths"].as_array().expect("paths");
    assert!(!paths.is_empty() && sorted_desc(paths, "count"), "{doc:#}");
    for p in paths {
        let nodes = p["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.last().map(|s| &s["id"]), Some(&p["to"]), "{p}");
        // From the Internet (the demo's internet zone) to a crown jewel, every node named.
        assert_eq!(nodes[0]["id"], "internet", "{p}");
        assert_eq!(nodes[0]["name"], "Internet", "{p}");
        assert!(nodes.iter().all(|n| n["name"].is_string()), "{p}");
        assert!(jewels.iter().any(|j| j["id"] == p["to"]), "{p}");
        let f = num(&p["frequency"], "frequency");
        assert!(0.0 < f && f <= 1.0, "{p}");
    }
    let edges = doc["edges"].as_array().expect("edges");
    assert!(!edges.is_empty() && sorted_desc(edges, "count"), "{doc:#}");
    for e in edges {
        for k in ["from", "from_name", "to", "to_name", "technique", "rule"] {
            assert!(e[k].is_string(), "{k}: {e}");
        }
    }
    let first = doc["first_detecting_rules"].as_array().expect("detectors");
    // Every detected sample has one first detector.
    let counted: u64 = first.iter().filter_map(|f| f["count"].as_u64()).sum();
    assert_eq!(Some(counted), doc["detected"].as_u64(), "{first:?}");
    let shares: f64 = first
        .iter()
        .map(|f| num(&f["frequency"], "frequency"))
        .sum();
    assert!((shares - detected).abs() < 1e-9, "{first:?}");
    assert!(first
        .iter()
        .all(|f| ["rule", "edr", "baseline"].contains(&f["kind"].as_str().unwrap_or(""))));
    assert!(doc["detection"].is_array() && doc["uncovered_techniques"].is_array());
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let args = |t: &'static str| {
        [
            "exercise",
            "--samples",
            N,
            "--seed",
            "3",
            "--threads",
            t,
            "--format",
            "json",
        ]
    };
    let one = ok(vigie(&args("1"))).stdout;
    let two = ok(vigie(&args("2"))).stdout;
    assert!(!one.is_empty());
    assert!(one == two, "--threads 1 and --threads 2 differ");
}

#[test]
fn the_seed_changes_the_samples() {
    let a = json(&[
        "exercise",
        "--samples",
        N,
        "--seed",
        "1",
        "--format",
        "json",
    ]);
    let b = json(&[
        "exercise",
        "--samples",
        N,
        "--seed",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(a["seed"], 1);
    assert_eq!(b["seed"], 2);
    assert_ne!(a["crown_jewels"], b["crown_jewels"]);
    assert_ne!(a["customer_hours"], b["customer_hours"]);
}

#[test]
fn entry_starts_the_attacker_on_the_given_assets() {
    let doc = json(&[
        "exercise",
        "--samples",
        "100",
        "--entry",
        "emp-app-1",
        "--format",
        "json",
    ]);
    assert_eq!(doc["entry"], serde_json::json!(["emp-app-1"]));
    // Held from hour 0: every path starts on it.
    let paths = doc["paths"].as_array().expect("paths");
    assert!(!paths.is_empty(), "{doc:#}");
    assert!(
        paths.iter().all(|p| p["nodes"][0]["id"] == "emp-app-1"),
        "{doc:#}"
    );
}

#[test]
fn bad_options_exit_2_naming_the_problem() {
    let o = vigie(&[
        "exercise",
        "--entry",
        "emp-web-1,no-such-host",
        "--samples",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no-such-host"), "{err}");
    assert!(
        !err.contains("\"emp-web-1\""),
        "a known id is not reported: {err}"
    );

    for (args, says) in [
        (vec!["exercise", "--samples", "0"], "--samples"),
        (vec!["exercise", "--horizon", "0"], "--horizon"),
        (vec!["exercise", "--horizon=-5"], "--horizon"),
        (vec!["exercise", "--horizon", "NaN"], "--horizon"),
    ] {
        let o = vigie(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn text_report_on_the_demo_tells_of_the_enterprise_management_platform() {
    let o = ok(vigie(&["exercise", "--samples", N]));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    for part in [
        "Exercise: 300 samples (seed 0), horizon 720 h",
        "Crown jewels",
        "db-emp-1  Enterprise customer database",
        "Most frequent attack paths",
        "Most used attack edges",
        "First to detect",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    // The EMP front is the demo's way in (its pre-authentication RCE).
    assert!(text.contains("emp-web-1"), "{text}");
    assert!(o.stderr.is_empty() || !String::from_utf8_lossy(&o.stderr).contains("error"));
}

#[test]
fn help_shows_examples() {
    let o = ok(vigie(&["exercise", "--help"]));
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("vigie exercise --samples"), "{help}");
    for opt in [
        "--entry",
        "--samples",
        "--seed",
        "--horizon",
        "--threads",
        "--format",
    ] {
        assert!(help.contains(opt), "{opt}: {help}");
    }
}
