//! What `vigie hunt` shows people and machines: the JSON array, `--sort time`, keyword
//! matches, stable rule ids, `-q`, and exit status 1 when nothing could be read.

use std::process::Output;

use super::cli::vigie;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn json_array_equals_the_json_lines() {
    let a = vigie(&["hunt", "-q", "--format", "json"]);
    let l = vigie(&["hunt", "-q", "--format", "jsonl"]);
    assert!(a.status.success() && l.status.success());
    let arr: Vec<serde_json::Value> = serde_json::from_slice(&a.stdout).expect("one JSON array");
    assert_eq!(arr.len(), 11);
    assert_eq!(arr, lines(&l));
}

#[test]
fn sort_time_orders_by_event_time() {
    let o = vigie(&["hunt", "-q", "--format", "jsonl", "--sort", "time"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let times: Vec<String> = lines(&o)
        .iter()
        .map(|d| d["timestamp"].as_str().expect("time").to_string())
        .collect();
    assert_eq!(times.len(), 11);
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // Input order puts the correlation hit last, out of time order: the two differ.
    let input = vigie(&["hunt", "-q", "--format", "jsonl"]);
    let last = lines(&input).pop().expect("some");
    assert_eq!(last["correlation"], true);
    assert_ne!(lines(&o).pop(), Some(last));
}

const KEYWORD_RULE: &str = r#"title: Mimikatz Keyword
status: test
level: high
logsource:
    product: windows
detection:
    keywords:
        - 'sekurlsa::logonpasswords'
        - 'kerberos::golden'
    condition: keywords
"#;

#[test]
fn keyword_matches_name_the_keyword_and_rules_without_id_get_a_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("kw.yml");
    std::fs::write(&rule, KEYWORD_RULE).expect("write");
    let log = dir.path().join("a.jsonl");
    std::fs::write(
        &log,
        r#"{"Channel":"Security","EventID":4688,"CommandLine":"m.exe sekurlsa::logonpasswords exit"}"#,
    )
    .expect("write");
    let r = rule.to_str().expect("utf-8");
    let l = log.to_str().expect("utf-8");
    let o = vigie(&["hunt", "-q", "--rules", r, "--format", "jsonl", l]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let d = lines(&o);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["fields"], serde_json::json!({}));
    let kws = d[0]["keywords"].as_array().expect("keywords listed");
    assert!(
        kws.iter().any(|k| k
            .as_str()
            .is_some_and(|k| k.contains("sekurlsa::logonpasswords"))),
        "{kws:?}"
    );
    let id = d[0]["rule_id"].as_str().expect("a rule id, never null");
    assert!(id.starts_with("sha256:") && id.len() == 7 + 64, "{id}");
    // Same text elsewhere: same key.
    let other = dir.path().join("sub");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("copy.yml"), KEYWORD_RULE).expect("write");
    let o2 = vigie(&[
        "hunt",
        "-q",
        "--rules",
        other.to_str().expect("utf-8"),
        "--format",
        "jsonl",
        l,
    ]);
    assert_eq!(lines(&o2)[0]["rule_id"], d[0]["rule_id"]);
    // The table shows it too.
    let t = vigie(&["hunt", "-q", "--rules", r, l]);
    assert!(text(&t.stdout).contains("keyword="), "{}", text(&t.stdout));
}

#[test]
fn quiet_hides_warnings_and_nothing_read_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150, 1, 2, 3]).expect("write");
    let j = junk.to_str().expect("utf-8");
    let loud = vigie(&["hunt", j]);
    assert_eq!(loud.status.code(), Some(1), "{}", text(&loud.stderr));
    assert!(
        text(&loud.stderr).contains("junk.bin"),
        "{}",
        text(&loud.stderr)
    );
    let quiet = vigie(&["hunt", "-q", j]);
    assert_eq!(quiet.status.code(), Some(1));
    let err = text(&quiet.stderr);
    assert!(!err.contains("WARN"), "{err}");
    assert!(err.contains("no input could be read"), "{err}");
    // An empty directory: nothing to read either.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let o = vigie(&["hunt", "-q", empty.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1));
    // One good file among bad ones: the run completed.
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, "{\"EventID\":1}\n").expect("write");
    let o = vigie(&["hunt", "-q", j, good.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn summary_json_is_the_wire_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = dir.path().join("s.json");
    let o = vigie(&[
        "hunt",
        "-q",
        "--format",
        "jsonl",
        "--summary-json",
        s.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success());
    let w: vigie_wire::v1::HuntSummary =
        serde_json::from_slice(&std::fs::read(&s).expect("read")).expect("wire summary");
    assert_eq!(w.schema, vigie_wire::SCHEMA_VERSION);
    assert_eq!(w.detections_total, 11);
    assert!(w.rules.digest.starts_with("sha256:"));
    // The same rules give the same digest.
    let o2 = vigie(&["hunt", "-q", "--format", "jsonl", "--summary-json", "-"]);
    let w2: vigie_wire::v1::HuntSummary = serde_json::from_slice(&o2.stderr).expect("wire");
    assert_eq!(w.rules.digest, w2.rules.digest);
}
