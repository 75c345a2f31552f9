//! `vigie intel match`: the exit statuses and JSON of the command (the engine's
//! conformance is vigie-intel's `conformance` test), STIX 2.0 patterns with
//! `--stix-version 2.0`, and positioned errors.

use std::path::Path;

use serde_json::Value;

use super::cli::vigie;

const OBSERVED_20: &str = r#"[{"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
 "first_observed":"2016-06-15T00:00:00Z","last_observed":"2016-06-15T00:00:00Z","number_observed":1,
 "created":"2016-06-15T00:00:00Z","modified":"2016-06-15T00:00:00Z",
 "objects":{"0":{"type":"file","name":"a.exe"},"1":{"type":"ipv4-addr","value":"198.51.100.7"}}}]"#;

fn observed(dir: &Path) -> String {
    let p = dir.join("obs.json");
    std::fs::write(&p, OBSERVED_20).expect("write observed-data");
    p.display().to_string()
}

fn run(args: &[&str]) -> (i32, Option<Value>, String) {
    let mut all = vec!["intel", "match"];
    all.extend_from_slice(args);
    let o = vigie(&all);
    let json = serde_json::from_slice(&o.stdout).ok();
    let code = o.status.code().unwrap_or(-1);
    (code, json, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn match_and_no_match_both_exit_0_with_the_bound_observed_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = observed(dir.path());
    let (code, json, err) = run(&["--pattern", "[ipv4-addr:value = '198.51.100.7']", &f]);
    assert_eq!(code, 0, "{err}");
    let json = json.expect("JSON on stdout");
    assert_eq!(json["matched"], true);
    assert_eq!(
        json["matched_observed_data"][0],
        "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"
    );
    let (code, json, err) = run(&["--pattern", "[ipv4-addr:value = '198.51.100.8']", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json.expect("JSON on stdout")["matched"], false);
}

#[test]
fn a_stix_20_pattern_needs_the_flag_and_the_error_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = observed(dir.path());
    let p = "[file:name = 'a.exe'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'";
    let (code, json, err) = run(&["--pattern", p, &f]);
    assert_eq!(code, 2);
    assert!(json.is_none());
    assert!(err.contains("line 1, column 29"), "{err}");
    assert!(err.contains("use --stix-version 2.0"), "{err}");
    let (code, json, err) = run(&["--stix-version", "2.0", "--pattern", p, &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json.expect("JSON on stdout")["matched"], true);
}

#[test]
fn an_invalid_pattern_or_file_exits_2_with_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = observed(dir.path());
    let (code, _, err) = run(&["--pattern", "[ipv4-addr:value = ]", &f]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1, column"), "{err}");
    assert!(!err.contains("--stix-version"), "{err}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"type\": \"observed-data\",\n  oops]").expect("write");
    let (code, _, err) = run(&[
        "--pattern",
        "[ipv4-addr:value = '1.2.3.4']",
        &bad.display().to_string(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json: line 2, column"), "{err}");
    let (code, _, err) = run(&[
        "--pattern",
        "[ipv4-addr:value = '1.2.3.4']",
        "/nonexistent/x.json",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.json: cannot read"), "{err}");
}
