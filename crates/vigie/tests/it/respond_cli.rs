//! `vigie respond`: the embedded story end to end, the decisions equal to the standalone
//! commands' documents, determinism (threads, input order), bad input reported clearly.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::cli::vigie;

fn ok(o: &Output) -> &Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json(args: &[&str]) -> Value {
    let o = vigie(args);
    serde_json::from_slice(&ok(&o).stdout).expect("one JSON document")
}

/// The document without what may depend on the machine.
fn without_timing(mut v: Value) -> Value {
    if let Some(s) = v.get_mut("summary").and_then(Value::as_object_mut) {
        s.remove("timing");
    }
    v
}

/// A standalone report as respond embeds it: no envelope, no `elapsed_ms`.
fn embedded_form(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("schema");
        o.remove("model");
        o.remove("elapsed_ms");
        if let Some(s) = o.get_mut("order_search").and_then(Value::as_object_mut) {
            s.remove("elapsed_ms");
        }
    }
    v
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn decided(doc: &Value) -> Vec<&Value> {
    doc["incidents"]
        .as_array()
        .map(|a| a.iter().filter(|i| !i["assess"].is_null()).collect())
        .unwrap_or_default()
}

#[test]
fn embedded_story_yields_a_decided_incident() {
    let doc = json(&["respond", "--format", "json"]);
    assert_eq!(doc["schema"], "vigie/v1");
    assert!(doc["model"]
        .as_str()
        .is_some_and(|m| m.starts_with("sha256:")));
    let incidents = doc["incidents"].as_array().expect("incidents");
    assert!(!incidents.is_empty(), "{doc:#}");
    let decided = decided(&doc);
    assert!(!decided.is_empty(), "no incident with compromised assets");
    for i in decided {
        assert!(i["id"]
            .as_str()
            .is_some_and(|s| s.len() == 20 && s.starts_with("inc-")));
        assert!(!strings(&i["compromised"]).is_empty());
        let c = &i["contain"];
        let plan = c["plan"]["customer_hours"].as_f64().expect("a plan");
        let all = c["isolate_everything"]["customer_hours"]
            .as_f64()
            .expect("isolate everything");
        assert!(plan <= all, "plan {plan} vs isolate-everything {all}");
        assert!(c["optimality"]["optimal"].is_boolean());
        assert!(i["restore"]["total_hours"].as_f64().is_some());
        assert!(i["notification"].is_object());
        // Embedded documents carry no wall-clock time.
        assert!(i["assess"].get("elapsed_ms").is_none());
        assert!(c.get("elapsed_ms").is_none());
        assert!(i["restore"]["order_search"].get("elapsed_ms").is_none());
        // Detections as hunt --format jsonl writes them.
        for d in i["detections"].as_array().expect("detections") {
            for k in ["rule_id", "rule_title", "source", "record", "timestamp"] {
                assert!(d.get(k).is_some(), "{k} missing in {d}");
            }
        }
    }
    let timing = &doc["summary"]["timing"];
    assert!(timing["incidents"].is_array(), "{timing}");
}

#[test]
fn decisions_are_the_standalone_commands_documents() {
    let doc = json(&["respond", "--format", "json"]);
    let decided = decided(&doc);
    assert!(!decided.is_empty());
    for i in decided {
        let set = strings(&i["compromised"]).join(",");
        let assess = json(&["assess", "--compromised", &set, "--format", "json"]);
        assert_eq!(embedded_form(assess), i["assess"], "assess of {set}");
        let contain = json(&[
            "contain",
            "--compromised",
            &set,
            "--time-limit",
            "0",
            "--format",
            "json",
        ]);
        assert_eq!(embedded_form(contain), i["contain"], "contain of {set}");
        let down = strings(&i["restore"]["down"]).join(",");
        let restore = json(&["restore", "--down", &down, "--format", "json"]);
        assert_eq!(embedded_form(restore), i["restore"], "restore of {down}");
    }
}

#[test]
fn same_bytes_with_one_and_two_threads() {
    let a = without_timing(json(&["respond", "--format", "json", "--threads", "1"]));
    let b = without_timing(json(&["respond", "--format", "json", "--threads", "2"]));
    assert_eq!(
        serde_json::to_string_pretty(&a).expect("json"),
        serde_json::to_string_pretty(&b).expect("json")
    );
}

fn sample() -> String {
    let p = vigie_test_support::repo_root().join(SAMPLE);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The embedded sample's repository file (the default LOGS of respond).
const SAMPLE: &str = "samples/july2025.jsonl";

/// The sample cut in two files, every other line each (so both hold part of the story).
fn split_sample(dir: &Path) -> (PathBuf, PathBuf) {
    let (mut a, mut b) = (String::new(), String::new());
    for (n, line) in sample().lines().enumerate() {
        let out = if n % 2 == 0 { &mut a } else { &mut b };
        out.push_str(line);
        out.push('\n');
    }
    (
        vigie_test_support::write_file(dir, "a.jsonl", a.as_bytes()),
        vigie_test_support::write_file(dir, "b.jsonl", b.as_bytes()),
    )
}

#[test]
fn input_order_does_not_change_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = split_sample(dir.path());
    let (a, b) = (a.to_string_lossy(), b.to_string_lossy());
    let ab = without_timing(json(&["respond", "--format", "json", &a, &b]));
    let ba = without_timing(json(&["respond", "--format", "json", &b, &a]));
    assert!(!ab["incidents"].as_array().expect("incidents").is_empty());
    assert_eq!(
        serde_json::to_string_pretty(&ab).expect("json"),
        serde_json::to_string_pretty(&ba).expect("json")
    );
}

#[test]
fn logs_naming_nothing_in_the_model_are_all_unresolved_and_nothing_is_decided() {
    // A model whose assets have no identifiers: no name in the logs resolves.
    let model = vigie_test_support::repo_root().join("models/example-small.yaml");
    let doc = json(&[
        "respond",
        "--format",
        "json",
        "--model",
        &model.to_string_lossy(),
    ]);
    assert!(
        !doc["unresolved"].as_array().expect("unresolved").is_empty(),
        "{doc:#}"
    );
    let hosts: Vec<&Value> = doc["unresolved"]
        .as_array()
        .expect("unresolved")
        .iter()
        .filter(|u| u["kind"] == "host")
        .collect();
    assert!(!hosts.is_empty(), "the sample's hosts are listed");
    for u in doc["unresolved"].as_array().expect("unresolved") {
        assert!(u["count"].as_u64().is_some_and(|n| n > 0), "{u}");
    }
    for i in doc["incidents"].as_array().expect("incidents") {
        assert!(strings(&i["compromised"]).is_empty(), "{i:#}");
        assert!(strings(&i["assets"]).is_empty());
        assert!(i["assess"].is_null() && i["contain"].is_null() && i["restore"].is_null());
    }
    assert_eq!(doc["summary"]["compromised_assets"], 0);
    assert_eq!(
        doc["summary"]["unresolved_entities"].as_u64(),
        Some(doc["unresolved"].as_array().map_or(0, |a| a.len() as u64))
    );
}

#[test]
fn clashing_identifiers_are_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = vigie_test_support::write_file(
        dir.path(),
        "clash.yaml",
        b"zones:\n  - id: lan\nassets:\n  - { id: web-1, kind: host, zone: lan, identifiers: [web01.corp.example, 10.0.0.5] }\n  - { id: web-2, kind: host, zone: lan, identifiers: [web02.corp.example, 10.0.0.5] }\n",
    );
    let o = vigie(&["respond", "--model", &model.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("10.0.0.5"), "{err}");
    assert!(err.contains("web-1") && err.contains("web-2"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_windows_are_refused_naming_the_value() {
    for bad in ["3w", "1.5h", "-2h", "", "0"] {
        let o = vigie(&["respond", &format!("--window={bad}")]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--window"), "{bad:?}: {err}");
    }
    for good in ["90m", "24h", "2d", "36"] {
        ok(&vigie(&["respond", "--window", good, "--format", "json"]));
    }
}

#[test]
fn text_report_tells_each_incident_and_the_summary() {
    let o = vigie(&["respond"]);
    let text = String::from_utf8_lossy(&ok(&o).stdout).to_string();
    for want in [
        "== Incident inc-",
        "Compromised:",
        "Containment plan",
        "Isolate everything instead:",
        "Restore (",
        "Summary:",
        "Unresolved entities:",
        "Input:",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
}

#[test]
fn notification_file_and_output_file_are_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("nis2.md");
    let out = dir.path().join("report.json");
    let o = vigie(&[
        "respond",
        "--format",
        "json",
        "--output",
        &out.to_string_lossy(),
        "--notification",
        &md.to_string_lossy(),
    ]);
    ok(&o);
    assert!(o.stdout.is_empty(), "the report went to --output");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("report written")).expect("json");
    let md = std::fs::read_to_string(&md).expect("notification written");
    for i in doc["incidents"].as_array().expect("incidents") {
        let id = i["id"].as_str().expect("id");
        assert!(md.contains(id), "{id} not in the notification drafts");
    }
    // The summary went to stderr.
    assert!(String::from_utf8_lossy(&o.stderr).contains("Summary:"));
}

#[test]
fn help_has_examples() {
    let o = vigie(&["respond", "--help"]);
    let text = String::from_utf8_lossy(&ok(&o).stdout).to_string();
    assert!(
        text.contains("Examples:") && text.contains("vigie respond"),
        "{text}"
    );
    for flag in [
        "--model",
        "--rules",
        "--window",
        "--threads",
        "--aware-at",
        "--format",
        "--output",
        "--notification",
        "--entity-mapping",
        "--max-assets-per-entity",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn html_report_is_one_self_contained_page_with_every_incident() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.html");
    ok(&vigie(&[
        "respond",
        "--format",
        "html",
        "--output",
        &out.to_string_lossy(),
    ]));
    let html = std::fs::read_to_string(&out).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for out in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<script",
        "@import",
    ] {
        assert!(
            !html.contains(out),
            "{out} on a page that must fetch nothing"
        );
    }
    let doc = json(&["respond", "--format", "json"]);
    for i in doc["incidents"].as_array().expect("incidents") {
        let id = i["id"].as_str().expect("id");
        assert!(html.contains(id), "{id} not on the page");
    }
}

#[test]
fn a_missing_log_path_is_an_error_naming_it() {
    let o = vigie(&["respond", "/no/such/logs.evtx"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/no/such/logs.evtx"), "{err}");
}

/// (record, rule id) of an incident's detections, sorted.
fn detection_keys(incident: &Value) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = incident["detections"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d["record"].as_u64().unwrap_or(0),
                        d["rule_id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `--intel` on the embedded July 2025 story with a peer's STIX bundle
/// (`tests/data/july2025-peer-indicators.json`: plink's SHA-256 as a simple indicator,
/// procdump's name and SHA-256 as a pattern, a domain pattern that matches nothing):
/// the two indicator detections join the main incident, everything else unchanged.
#[test]
fn intel_indicators_join_the_story_incident() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/july2025-peer-indicators.json")
        .to_string_lossy()
        .into_owned();
    let base = json(&["respond", "--format", "json"]);
    let with = json(&["respond", "--format", "json", "--intel", &bundle]);
    let main = |doc: &Value| -> Value {
        decided(doc)
            .first()
            .map(|i| (*i).clone())
            .expect("a decided incident")
    };
    let (b, w) = (main(&base), main(&with));
    assert_eq!(w["id"], b["id"], "the same incident");
    let (bk, wk) = (detection_keys(&b), detection_keys(&w));
    assert_eq!(bk.len(), 21, "{bk:?}");
    assert_eq!(wk.len(), 23, "{wk:?}");
    let added: Vec<(u64, String)> = wk.iter().filter(|k| !bk.contains(k)).cloned().collect();
    let id = |n: u32| format!("indicator--5d0c3a52-9e1b-4c7a-8f20-00000000000{n}");
    assert_eq!(
        added,
        vec![(987, id(1)), (996, id(2))],
        "plink's hash (simple) and procdump's name and hash (pattern)"
    );
    assert!(bk.iter().all(|k| wk.contains(k)), "nothing lost");
    // The indicator detections carry the indicator's metadata.
    let dets = w["detections"].as_array().expect("detections");
    let plink = dets
        .iter()
        .find(|d| d["rule_id"] == id(1).as_str())
        .expect("plink");
    assert_eq!(
        plink["rule_title"],
        "plink build used for the reverse tunnel"
    );
    assert_eq!(plink["level"], "high", "confidence 85");
    assert_eq!(
        plink["fields"]["Hashes"]
            .as_str()
            .map(|s| s.contains("B64ACFE5")),
        Some(true)
    );
    // The other incident is unchanged; the summary counts the two detections.
    assert_eq!(
        with["incidents"].as_array().map(Vec::len),
        base["incidents"].as_array().map(Vec::len)
    );
    assert_eq!(
        with["summary"]["detections"].as_u64(),
        base["summary"]["detections"].as_u64().map(|n| n + 2)
    );
    // The summary's intel block: absent without --intel; with it, the two hits.
    assert!(
        base["summary"].get("intel").is_none(),
        "{}",
        base["summary"]
    );
    let intel = &with["summary"]["intel"];
    assert_eq!(intel["hits"].as_u64(), Some(2), "{intel}");
    assert!(intel["indicators"].as_u64() >= Some(2), "{intel}");
}

/// `vigie intel check` lists the pattern indicators detection refuses (valid STIX that
/// can never match one event), with their reason.
#[test]
fn intel_check_lists_the_patterns_detection_refuses() {
    let bundle = vigie_test_support::repo_root()
        .join("crates/vigie-intel/tests/detect/patterns.json")
        .to_string_lossy()
        .into_owned();
    let doc = json(&["intel", "check", &bundle, "--format", "json"]);
    assert_eq!(
        (doc["loaded"].as_u64(), doc["patterns"].as_u64()),
        (Some(10), Some(9))
    );
    let un = strings(&doc["unmatchable_patterns"]);
    assert_eq!(un.len(), 3, "{un:?}");
    assert!(un[0].contains("MATCHES") && un[0].contains("cannot be evaluated"));
    assert!(
        un[1].contains("[network-traffic:dst_port = 445]")
            && un[1].contains("no event field gives")
    );
    assert!(un[2].contains("FOLLOWEDBY") && un[2].contains("needs 2 observations"));
}
