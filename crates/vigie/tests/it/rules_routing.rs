//! `vigie rules check`'s routing table (`routing[]` in JSON, `--routing` in text) over a
//! small rules folder and a mapping of its own: exact counts, entries and reasons.

use crate::cli::vigie;

fn rule(id: u32, product: &str, extra: &str) -> String {
    format!(
        "title: Rule {id}\nid: {id:08}-0000-4000-8000-000000000000\nstatus: test\n\
         logsource:\n    product: {product}\n{extra}detection:\n    sel:\n        \
         CommandLine|contains: x{id}\n    condition: sel\nlevel: low\n"
    )
}

const MAPPING: &str = "\
logsources:
  - product: windows
    category: process_creation
    when:
      - {Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1}
  # The same keys again: merged into the entry above (two alternatives).
  - product: windows
    category: process_creation
    when:
      - {Channel: Security, EventID: 4688}
  - product: [linux, macos, zeek]
    when:
      - {Channel: null}
";

/// Rules: 3 fully routed (windows process_creation), 2 partly (linux sshd; linux
/// file_event), 1 fully by a product entry (linux alone), 1 unrouted (unknown product).
fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path().join("rules");
    std::fs::create_dir(&r).expect("mkdir");
    let pc = "    category: process_creation\n";
    let files = [
        rule(1, "windows", pc),
        rule(2, "windows", pc),
        rule(3, "Windows", "    category: Process_Creation\n"),
        rule(4, "linux", "    service: sshd\n"),
        rule(5, "linux", "    category: file_event\n"),
        rule(6, "linux", ""),
        rule(7, "nosuchproduct", "    service: nosuchservice\n"),
    ];
    for (i, text) in files.iter().enumerate() {
        std::fs::write(r.join(format!("r{i}.yml")), text).expect("write");
    }
    std::fs::write(d.path().join("mapping.yml"), MAPPING).expect("write");
    d
}

fn check(d: &tempfile::TempDir, more: &[&str]) -> std::process::Output {
    let rules = d.path().join("rules");
    let mapping = d.path().join("mapping.yml");
    let mut args = vec![
        "rules",
        "check",
        "--rules",
        rules.to_str().expect("utf-8"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(more);
    vigie(&args)
}

#[test]
fn routing_table_json_exact() {
    let d = fixture();
    let o = check(&d, &["--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["detection_rules"], 7, "{j}");
    let rows = j["routing"].as_array().expect("routing[]");
    // Sorted by product, category, service (absent first); keys lowercased.
    let keys: Vec<String> = rows
        .iter()
        .map(|r| {
            let ls = &r["logsource"];
            format!("{}/{}/{}", ls["product"], ls["category"], ls["service"])
        })
        .collect();
    assert_eq!(
        keys,
        [
            r#""linux"/null/null"#,
            r#""linux"/null/"sshd""#,
            r#""linux"/"file_event"/null"#,
            r#""nosuchproduct"/null/"nosuchservice""#,
            r#""windows"/"process_creation"/null"#,
        ],
        "{j}"
    );
    let counts: Vec<[u64; 4]> = rows
        .iter()
        .map(|r| ["rules", "fully", "partly", "unrouted"].map(|k| r[k].as_u64().expect("count")))
        .collect();
    assert_eq!(
        counts,
        [
            [1, 1, 0, 0],
            [1, 0, 1, 0],
            [1, 0, 1, 0],
            [1, 0, 0, 1],
            [3, 3, 0, 0]
        ],
        "{j}"
    );
    // The entry used: the windows one merged from two entries, first one's line.
    let win = &rows[4];
    assert_eq!(win["entry"]["index"], 0, "{win}");
    assert_eq!(win["entry"]["line"], 2, "{win}");
    assert_eq!(win["entry"]["alternatives"], 2, "{win}");
    assert_eq!(
        win["entry"]["label"],
        "product: windows, category: process_creation"
    );
    assert!(win["reason"].is_null(), "{win}");
    // A product alone is fully routed by a product entry.
    assert_eq!(rows[0]["entry"]["label"], "product: [linux, macos, zeek]");
    assert!(rows[0]["reason"].is_null());
    assert_eq!(
        rows[1]["reason"],
        "entry `product: [linux, macos, zeek]` has no `service: sshd`: \
         the rule runs on every linux event"
    );
    assert_eq!(rows[1]["entry"]["index"], 1);
    assert_eq!(rows[1]["entry"]["line"], 11);
    assert_eq!(
        rows[2]["reason"],
        "entry `product: [linux, macos, zeek]` has no `category: file_event`: \
         the rule runs on every linux event"
    );
    assert!(rows[3]["entry"].is_null());
    assert_eq!(
        rows[3]["reason"],
        "no entry names `product: nosuchproduct` nor `service: nosuchservice`: \
         the rule runs on every event"
    );
    // The older lists are kept and agree.
    assert_eq!(
        j["partially_routed_logsources"],
        serde_json::json!([
            ["product:linux category:file_event", 1],
            ["product:linux service:sshd", 1]
        ])
    );
    assert_eq!(
        j["unrouted_logsources"],
        serde_json::json!([["product:nosuchproduct service:nosuchservice", 1]])
    );
}

#[test]
fn routing_table_text() {
    let d = fixture();
    let out = String::from_utf8_lossy(&check(&d, &[]).stdout).into_owned();
    assert!(
        out.contains("routing: 5 logsources; rules fully routed 4, partly 2, unrouted 1"),
        "{out}"
    );
    assert!(
        out.contains(
            "  product:linux service:sshd: 1 rule (entry `product: [linux, macos, zeek]` \
             has no `service: sshd`: the rule runs on every linux event)"
        ),
        "{out}"
    );
    // The table only with --routing.
    assert!(!out.contains("logsource  "), "{out}");
    let out = String::from_utf8_lossy(&check(&d, &["--routing"]).stdout).into_owned();
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("logsource "))
        .collect();
    assert_eq!(table.len(), 6, "{out}");
    let row = table
        .iter()
        .find(|l| l.contains("product:windows category:process_creation"))
        .expect("windows row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[2..6], ["3", "3", "0", "0"], "{row}");
    assert!(
        row.ends_with("product: windows, category: process_creation (line 2)"),
        "{row}"
    );
    let row = table
        .iter()
        .find(|l| l.contains("nosuchproduct"))
        .expect("unrouted row");
    assert!(row.ends_with(" 1  -"), "{row}");
}
