//! `vigie hunt` and `vigie rules check` as a user runs them: formats, exit codes,
//! damaged inputs, filters, determinism.

use std::path::PathBuf;
use std::process::{Command, Output};

use vigie_test_support::{repo_root, shared};

const RULE: &str = r#"title: Encoded PowerShell
id: 11111111-2222-3333-4444-555555555555
status: test
level: high
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\powershell.exe'
        CommandLine|contains: ' -enc '
    condition: selection
"#;

const LOW_RULE: &str = r#"title: Whoami
id: 66666666-2222-3333-4444-555555555555
status: test
level: low
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
"#;

const BAD_RULE: &str = r#"title: Broken
id: 77777777-2222-3333-4444-555555555555
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|nosuchmodifier: 'x'
    condition: selection
"#;

fn ev(t: &str, image: &str, cmd: &str) -> String {
    format!(
        r#"{{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"UtcTime":"{t}","Image":"{}","CommandLine":"{}"}}"#,
        image.replace('\\', "\\\\"),
        cmd.replace('\\', "\\\\")
    )
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).expect("mkdir");
        std::fs::write(rules.join("enc.yml"), RULE).expect("write");
        std::fs::write(rules.join("whoami.yml"), LOW_RULE).expect("write");
        let lines = [
            ev(
                "2024-05-01 10:00:00.000",
                r"C:\Windows\System32\cmd.exe",
                "cmd /c dir",
            ),
            ev(
                "2024-05-01 10:00:01.000",
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "powershell -nop -enc SQBFAFgA",
            ),
            "{not json".to_owned(),
            ev(
                "2024-05-02 11:00:00.000",
                r"C:\Windows\System32\whoami.exe",
                "whoami /priv",
            ),
            ev(
                "2024-05-03 12:00:00.000",
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "powershell -enc ZQBjAGgAbwA=",
            ),
        ];
        std::fs::write(dir.path().join("a.jsonl"), lines.join("\n") + "\n").expect("write");
        std::fs::write(dir.path().join("b.jsonl"), lines[1].clone() + "\n").expect("write");
        Fixture { dir }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn hunt(&self, extra: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
        c.arg("hunt").arg("--rules").arg(self.p("rules"));
        c.args(extra);
        c.env_remove("VIGIE_RULES");
        c.output().expect("run vigie")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
        .collect()
}

#[test]
fn jsonl_schema_and_damaged_line_counted() {
    let f = Fixture::new();
    let sum = f.p("summary.json");
    let o = f.hunt(&[
        "--format",
        "jsonl",
        "--summary-json",
        sum.to_str().expect("utf8"),
        f.p("a.jsonl").to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let d = jsonl(&o);
    assert_eq!(d.len(), 3, "{}", stdout(&o));
    let first = &d[0];
    assert_eq!(first["rule_id"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(first["rule_title"], "Encoded PowerShell");
    assert_eq!(first["level"], "high");
    assert_eq!(first["tags"][1], "attack.t1059.001");
    assert_eq!(first["timestamp"], "2024-05-01T10:00:01Z");
    assert!(first["source"]
        .as_str()
        .expect("source")
        .ends_with("a.jsonl"));
    assert_eq!(first["record"], 2);
    assert_eq!(first["correlation"], false);
    assert!(first["fields"]["CommandLine"]
        .as_str()
        .expect("CommandLine matched")
        .contains("-enc"));
    // record order within the file
    let records: Vec<u64> = d
        .iter()
        .map(|x| x["record"].as_u64().expect("record"))
        .collect();
    assert_eq!(records, vec![2, 4, 5]);

    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sum).expect("summary written"))
            .expect("summary json");
    assert_eq!(s["events"], 4);
    assert_eq!(s["records_skipped"]["bad_json"], 1);
    assert_eq!(s["files"]["read"], 1);
    assert_eq!(s["detections"]["high"], 2);
    assert_eq!(s["detections"]["low"], 1);
    assert_eq!(s["rules"]["detection"], 2);
    // the damaged line is named with file and line on stderr
    assert!(stderr(&o).contains("line 3"), "stderr: {}", stderr(&o));
}

#[test]
fn csv_and_table() {
    let f = Fixture::new();
    let a = f.p("a.jsonl");
    let o = f.hunt(&["--format", "csv", a.to_str().expect("utf8")]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("timestamp,level,rule_id,rule_title,tags,source,record,correlation,fields")
    );
    assert_eq!(lines.count(), 3);
    assert!(out.contains("attack.execution;attack.t1059.001"));

    let o = f.hunt(&["--format", "table", a.to_str().expect("utf8")]);
    assert!(o.status.success());
    let out = stdout(&o);
    let header = out.lines().next().expect("header");
    assert!(
        header.starts_with("TIME (UTC)") && header.contains("RULE"),
        "{out}"
    );
    assert!(out.contains("2024-05-01 10:00:01  high"), "{out}");
    // the summary goes to stderr, not into the table
    assert!(stderr(&o).contains("detections: 3"), "{}", stderr(&o));
}

#[test]
fn output_file_level_and_time_window() {
    let f = Fixture::new();
    let out = f.p("hits.jsonl");
    let a = f.p("a.jsonl");
    let o = f.hunt(&[
        "--format",
        "jsonl",
        "--level",
        "high",
        "--output",
        out.to_str().expect("utf8"),
        a.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).expect("output written");
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("Whoami"));

    let o = f.hunt(&[
        "--format",
        "jsonl",
        "--from",
        "2024-05-02",
        "--to",
        "2024-05-02",
        a.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = jsonl(&o);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["rule_title"], "Whoami");
}

#[test]
fn output_is_deterministic_across_threads() {
    let f = Fixture::new();
    let dir = f.dir.path();
    let run = |threads: &str| {
        let o = f.hunt(&[
            "--format",
            "jsonl",
            "--threads",
            threads,
            dir.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let one = run("1");
    assert_eq!(one.lines().count(), 4, "{one}");
    // a.jsonl before b.jsonl (sorted walk), records in order
    assert!(one.lines().next().expect("line").contains("a.jsonl"));
    assert!(one.lines().last().expect("line").contains("b.jsonl"));
    for _ in 0..3 {
        assert_eq!(run("4"), one);
    }
}

#[test]
fn fatal_errors_exit_2() {
    let f = Fixture::new();
    let a = f.p("a.jsonl");
    let a = a.to_str().expect("utf8");
    // unreadable rules path
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "--rules", "/nonexistent/rules", a])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/rules"), "{}", stderr(&o));
    // missing input
    let o = f.hunt(&["/nonexistent/input.evtx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/input.evtx"));
    // bad arguments
    for bad in [
        vec!["--level", "severe", a],
        vec!["--format", "xml", a],
        vec!["--from", "yesterday", a],
    ] {
        let o = f.hunt(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
    // unreadable mapping / placeholders
    for flag in ["--mapping", "--placeholders"] {
        let o = f.hunt(&[flag, "/nonexistent/file.yml", a]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
    }
    // No inputs or no rules are not errors any more: the embedded intrusion sample and
    // rule pack are used (tests/embedded_defaults.rs checks what they find).
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "-q", a])
        .env_remove("VIGIE_RULES")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn rules_from_env_var() {
    let f = Fixture::new();
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "--format", "jsonl"])
        .arg(f.p("a.jsonl"))
        .env("VIGIE_RULES", f.p("rules"))
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(jsonl(&o).len(), 3);
}

#[test]
fn rules_check_lists_refusals() {
    let f = Fixture::new();
    std::fs::write(f.p("rules").join("bad.yml"), BAD_RULE).expect("write");
    let run = |fmt: &str| {
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["rules", "check", "--format", fmt, "--rules"])
            .arg(f.p("rules"))
            .output()
            .expect("run")
    };
    let o = run("text");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2 rules loaded"), "{out}");
    assert!(out.contains("1 refused"), "{out}");
    assert!(out.contains("bad.yml"), "{out}");

    let o = run("json");
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["loaded"], 2);
    assert_eq!(j["refused_count"], 1);
    assert!(j["refused"][0]["file"]
        .as_str()
        .expect("file")
        .ends_with("bad.yml"));
    assert!(!j["refused"][0]["reason"]
        .as_str()
        .expect("reason")
        .is_empty());

    std::fs::remove_file(f.p("rules").join("bad.yml")).expect("rm");
    assert_eq!(run("text").status.code(), Some(0));
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["rules", "check", "--rules", "/nonexistent"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn damaged_evtx_are_counted_not_fatal() {
    let f = Fixture::new();
    let sum = f.p("s.json");
    let edge = shared().join("evtx/edge-cases");
    let o = f.hunt(&[
        "--format",
        "jsonl",
        "-q",
        "--summary-json",
        sum.to_str().expect("utf8"),
        edge.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sum).expect("summary")).expect("json");
    let read = s["files"]["read"].as_u64().expect("read");
    let skipped: u64 = s["files"]["skipped"]
        .as_object()
        .expect("skipped")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    let n_files = std::fs::read_dir(&edge).expect("edge-cases").count() as u64;
    assert_eq!(
        read + skipped,
        n_files,
        "every edge case accounted for: {s}"
    );
    assert!(s["events"].as_u64().expect("events") > 0);
    let bad_records: u64 = s["records_skipped"]
        .as_object()
        .expect("records_skipped")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    assert!(
        bad_records + skipped > 0,
        "damaged edge cases must show up as skipped: {s}"
    );
}

#[test]
fn correlation_hits_come_last_and_are_marked() {
    let root = repo_root();
    let o = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "--format", "jsonl", "-q", "--rules"])
        .arg(root.join("rules"))
        .arg(root.join("samples/intrusion.jsonl"))
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let d = jsonl(&o);
    let first_corr = d
        .iter()
        .position(|x| x["correlation"] == true)
        .expect("the shipped sample fires the shipped correlation");
    assert!(d[first_corr..].iter().all(|x| x["correlation"] == true));
    let c = &d[first_corr];
    assert!(c["group"].as_object().is_some_and(|g| !g.is_empty()), "{c}");
    assert!(c["events"].as_array().is_some_and(|e| !e.is_empty()), "{c}");
    assert!(c["first"].is_string() && c["last"].is_string());
    assert_eq!(c["source"], serde_json::Value::Null);
}

/// A correlation over the encoded-PowerShell rule, so that its matches become
/// correlation inputs.
const CORR_RULE: &str = r#"title: Repeated Encoded PowerShell
id: 88888888-2222-3333-4444-555555555555
status: test
level: critical
correlation:
    type: event_count
    rules:
        - 11111111-2222-3333-4444-555555555555
    group-by:
        - Image
    timespan: 1h
    condition:
        gte: 2
    generate: true
"#;

#[test]
fn untimed_correlation_inputs_are_counted_not_dropped() {
    let f = Fixture::new();
    std::fs::write(f.p("rules").join("corr.yml"), CORR_RULE).expect("write");
    // Same process as the timed matches, but no UtcTime: it cannot be placed in a window.
    let untimed = r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell -enc SQBFAFgA"}"#;
    std::fs::write(f.p("c.jsonl"), format!("{untimed}\n")).expect("write");
    let sum = f.p("summary.json");
    let o = f.hunt(&[
        "--format",
        "jsonl",
        "--summary-json",
        sum.to_str().expect("utf8"),
        f.p("a.jsonl").to_str().expect("utf8"),
        f.p("c.jsonl").to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    // The untimed match is still reported as a detection...
    let d = jsonl(&o);
    assert_eq!(
        d.iter()
            .filter(|x| x["rule_title"] == "Encoded PowerShell")
            .count(),
        3,
        "{}",
        stdout(&o)
    );
    // ... but it could not feed the correlation, and the summary says so.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sum).expect("summary")).expect("json");
    assert_eq!(j["correlations"]["untimed_matches"], 1, "{j}");
    assert_eq!(j["correlations"]["observations"], 2, "{j}");
    assert_eq!(j["correlations"]["missing_group_field"], 0, "{j}");
    let err = stderr(&o);
    assert!(
        err.contains("correlation inputs: 2 fed; left out: without time 1"),
        "{err}"
    );
}

#[test]
fn rules_check_lists_warnings_and_unrouted_logsources() {
    let f = Fixture::new();
    // Same id as LOW_RULE: loaded, with a warning.
    let dup = LOW_RULE.replace("title: Whoami", "title: Whoami again");
    std::fs::write(f.p("rules").join("dup.yml"), dup).expect("write");
    let unrouted = RULE
        .replace("11111111-", "99999999-")
        .replace("product: windows", "product: nosuchproduct")
        .replace("category: process_creation", "category: nosuchcategory");
    std::fs::write(f.p("rules").join("unrouted.yml"), unrouted).expect("write");
    let run = |fmt: &str| {
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["rules", "check", "--format", fmt, "--rules"])
            .arg(f.p("rules"))
            .output()
            .expect("run")
    };
    let o = run("text");
    // Warnings and unrouted logsources do not refuse anything.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("1 loaded with a warning: reference 1"),
        "{out}"
    );
    assert!(out.contains("already used by"), "{out}");
    assert!(out.contains("1 unrouted logsources"), "{out}");
    assert!(out.contains("nosuchproduct"), "{out}");

    let j: serde_json::Value = serde_json::from_slice(&run("json").stdout).expect("json");
    assert_eq!(j["warnings_count"], 1, "{j}");
    assert_eq!(j["warnings_by_kind"]["reference"], 1, "{j}");
    assert_eq!(j["unrouted_logsources"][0][1], 1, "{j}");
    assert!(j["unrouted_logsources"][0][0]
        .as_str()
        .expect("label")
        .contains("nosuchproduct"));

    // The hunt summary counts the same things.
    let sum = f.p("summary.json");
    let o = f.hunt(&[
        "--summary-json",
        sum.to_str().expect("utf8"),
        f.p("b.jsonl").to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sum).expect("summary")).expect("json");
    assert_eq!(s["rules"]["warnings"]["reference"], 1, "{s}");
    assert_eq!(s["rules"]["unrouted_logsources"], 1, "{s}");
    assert_eq!(s["rules"]["unrouted_rules"], 1, "{s}");
    let err = stderr(&o);
    assert!(
        err.contains("rule notes: 1 loaded with a warning (reference 1); 1 logsources unrouted"),
        "{err}"
    );
}

/// An EVTX file cut short (`head -c`) says what it lost: on stderr, the file and each
/// missing chunk; in the summary, the missing chunks and the records of the chunk it ends
/// inside, by reason.
#[test]
fn truncated_evtx_reports_what_it_lost() {
    let f = Fixture::new();
    let whole = std::fs::read(shared().join("evtx/edge-cases/security.evtx")).expect("read");
    let u64_at = |at: usize| u64::from_le_bytes(whole[at..at + 8].try_into().expect("8 bytes"));
    let counted = u16::from_le_bytes([whole[42], whole[43]]) as u64;
    // Records each chunk's header claims.
    let claimed = |chunk: usize| {
        let at = 4096 + chunk * 65536;
        u64_at(at + 32) - u64_at(at + 24) + 1
    };
    for (cut, in_chunk) in [(5000usize, 0usize), (100_000, 1)] {
        let path = f.p(&format!("cut{cut}.evtx"));
        std::fs::write(&path, &whole[..cut]).expect("write");
        let sum = f.p(&format!("s{cut}.json"));
        let o = f.hunt(&[
            "--format",
            "jsonl",
            "--summary-json",
            sum.to_str().expect("utf8"),
            path.to_str().expect("utf8"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        let name = format!("cut{cut}.evtx");
        let first_missing = in_chunk + 1;
        assert!(
            err.lines().any(
                |l| l.contains(&name) && l.contains(&format!("chunk {first_missing}: missing"))
            ),
            "{err}"
        );
        assert!(
            err.lines()
                .any(|l| l.contains(&name) && l.contains(&format!("(chunk {in_chunk}, offset"))),
            "{err}"
        );
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sum).expect("summary")).expect("json");
        let skipped = &s["records_skipped"];
        assert_eq!(
            skipped["evtx_chunk_missing"].as_u64(),
            Some(counted - first_missing as u64),
            "{s}"
        );
        // Whole chunks before the cut come out in full; of the chunk the file ends
        // inside, each record is read or reported.
        let lost = skipped["evtx_record_damaged"]
            .as_u64()
            .expect("records lost");
        let events = s["events"].as_u64().expect("events");
        let claimed: u64 = (0..=in_chunk).map(claimed).sum();
        assert!(lost > 0, "{s}");
        assert_eq!(events + lost, claimed, "{s}");
    }
}
