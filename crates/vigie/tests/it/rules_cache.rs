//! The compiled-rule cache through the binary: a second load of unchanged rules is a
//! hit and says the same; a change to a rule, the mapping or the placeholders is a miss;
//! a damaged cache file is ignored with a warning (never trusted) and rewritten;
//! `--no-cache` neither reads nor writes it; a hunt from the cache finds the same.

use std::path::Path;

use super::cli::vigie;

const RULE_A: &str = "title: whoami
id: 9d4c1f2e-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\whoami.exe'
    CommandLine|re: '(?i)whoami\\s+/(all|priv)'
  condition: sel
level: high
";

const RULE_B: &str = "title: net user
id: 9d4c1f2e-0000-4000-8000-000000000002
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\net.exe'
    CommandLine|contains|all: [' user ', ' /add']
  condition: sel
level: medium
";

const EVENTS: &str = r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /priv","UtcTime":"2024-05-01 10:00:00.000"}
{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\System32\\net.exe","CommandLine":"net user bob /add","UtcTime":"2024-05-01 10:00:01.000"}
{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\notepad.exe","CommandLine":"notepad","UtcTime":"2024-05-01 10:00:02.000"}
"#;

fn check(rules: &Path, cache: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let mut args = vec![
        "rules",
        "check",
        "-f",
        "json",
        "-r",
        rules.to_str().unwrap_or_default(),
        "--cache-dir",
        cache.to_str().unwrap_or_default(),
    ];
    args.extend_from_slice(extra);
    let o = vigie(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    (doc, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn entries(cache: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(cache)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "bin"));
    v.sort();
    v
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).expect("mkdir");
    std::fs::write(rules.join("a.yml"), RULE_A).expect("write");
    std::fs::write(rules.join("sub/b.yml"), RULE_B).expect("write");
    let cache = dir.path().join("cache");
    (dir, rules, cache)
}

/// What must not depend on where the rules came from.
fn same(a: &serde_json::Value, b: &serde_json::Value) {
    for k in [
        "digest",
        "files",
        "loaded",
        "detection_rules",
        "refused",
        "warnings",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
}

#[test]
fn miss_then_hit_and_any_change_is_a_miss() {
    let (dir, rules, cache) = setup();
    let (first, _) = check(&rules, &cache, &[]);
    assert_eq!(first["cache"], "miss");
    assert_eq!(first["detection_rules"], 2);
    assert_eq!(entries(&cache).len(), 1);
    let (second, _) = check(&rules, &cache, &[]);
    assert_eq!(second["cache"], "hit");
    same(&first, &second);

    // One byte of one rule changes: another key.
    std::fs::write(rules.join("sub/b.yml"), RULE_B.replace("medium", "high")).expect("write");
    let (changed, _) = check(&rules, &cache, &[]);
    assert_eq!(changed["cache"], "miss");
    assert_ne!(changed["digest"], first["digest"]);
    assert_eq!(check(&rules, &cache, &[]).0["cache"], "hit");

    // A new file, then placeholders: misses too.
    std::fs::write(rules.join("c.yml"), RULE_A.replace("0001", "0003")).expect("write");
    let (added, _) = check(&rules, &cache, &[]);
    assert_eq!(added["cache"], "miss");
    assert_eq!(added["detection_rules"], 3);
    let ph = dir.path().join("ph.yml");
    std::fs::write(&ph, "admins: [root]\n").expect("write");
    let (with_ph, _) = check(
        &rules,
        &cache,
        &["--placeholders", ph.to_str().unwrap_or_default()],
    );
    assert_eq!(with_ph["cache"], "miss");
    // And a different mapping.
    let mapping = dir.path().join("mapping.yml");
    std::fs::write(&mapping, "fields: {}\nlogsources: []\n").expect("write");
    let (with_map, _) = check(
        &rules,
        &cache,
        &["--mapping", mapping.to_str().unwrap_or_default()],
    );
    assert_eq!(with_map["cache"], "miss");
    assert_eq!(check(&rules, &cache, &[]).0["cache"], "hit");
}

#[test]
fn a_damaged_cache_is_ignored_with_a_warning_and_rewritten() {
    let (_dir, rules, cache) = setup();
    let (first, _) = check(&rules, &cache, &[]);
    let entry = entries(&cache).pop().expect("one entry");
    let good = std::fs::read(&entry).expect("read");
    // Flip one byte of the payload, then truncate, then garbage: each rejected.
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x55;
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("checksum", flipped),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("magic", b"not a cache at all".to_vec()),
    ];
    for (why, bytes) in damaged {
        std::fs::write(&entry, &bytes).expect("write");
        let (doc, stderr) = check(&rules, &cache, &["--log", "warn"]);
        assert_eq!(doc["cache"], "rejected", "{why}");
        assert!(
            stderr.contains("compiled-rule cache ignored"),
            "{why}: {stderr}"
        );
        same(&first, &doc);
        // Rewritten: the next load is a hit again.
        assert_eq!(check(&rules, &cache, &[]).0["cache"], "hit", "{why}");
    }
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let (_dir, rules, cache) = setup();
    let (doc, _) = check(&rules, &cache, &["--no-cache"]);
    assert_eq!(doc["cache"], "disabled");
    assert!(entries(&cache).is_empty());
}

#[test]
fn a_hunt_from_the_cache_finds_what_a_cold_hunt_finds() {
    let (dir, rules, cache) = setup();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, EVENTS).expect("write");
    let hunt = |extra: &[&str]| {
        let mut args = vec![
            "hunt",
            "-q",
            "-f",
            "jsonl",
            "-r",
            rules.to_str().unwrap_or_default(),
            "--cache-dir",
            cache.to_str().unwrap_or_default(),
        ];
        args.extend_from_slice(extra);
        args.push(events.to_str().unwrap_or_default());
        let o = vigie(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let cold = hunt(&["--no-cache"]);
    assert_eq!(cold.lines().count(), 2, "{cold}");
    let filling = hunt(&[]);
    assert_eq!(entries(&cache).len(), 1);
    let warm = hunt(&[]);
    assert_eq!(cold, filling);
    assert_eq!(cold, warm);
}
