//! `vigie hunt` with nothing given: the embedded rule pack over the embedded intrusion
//! sample. The expected detections are those the sample's story plants
//! (`samples/make_intrusion.py`): one per attack step, the IT inventory run filtered out,
//! the lone failed logons below the brute-force threshold not correlated.

use super::cli::vigie;

#[test]
fn hunt_with_embedded_defaults_finds_the_planted_intrusion() {
    let out = vigie(&["hunt", "--format", "jsonl", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    let titles: Vec<&str> = lines
        .iter()
        .map(|d| d["rule_title"].as_str().unwrap_or_default())
        .collect();
    let count = |t: &str| titles.iter().filter(|x| **x == t).count();
    assert_eq!(count("Domain Trust And Privileged Group Reconnaissance"), 2);
    assert_eq!(count("LSASS Memory Dump With Procdump Or Comsvcs"), 2);
    assert_eq!(count("Remote Execution Service Installed"), 1);
    assert_eq!(count("Member Added To A Privileged Domain Group"), 1);
    assert_eq!(count("NTDS.dit Copied From A Volume Shadow Copy"), 1);
    assert_eq!(count("Tunnelling Tool Run On A Server"), 1);
    assert_eq!(count("Security Or System Event Log Cleared"), 2);
    // Failed logons feed the correlation only (no `generate: true`).
    assert_eq!(count("Failed Logon"), 0);
    let corr: Vec<_> = lines.iter().filter(|d| d["correlation"] == true).collect();
    assert_eq!(corr.len(), 1, "one brute-force hit: {corr:?}");
    assert_eq!(corr[0]["group"]["TargetUserName"], "j.martin");
    assert_eq!(lines.len(), 11);
    for d in lines.iter().filter(|d| d["correlation"] == false) {
        assert_eq!(d["source"], "samples/intrusion.jsonl");
    }
}

#[test]
fn rules_check_defaults_to_the_embedded_pack() {
    let out = vigie(&["rules", "check", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["detection_rules"], 14);
    assert_eq!(doc["correlation_rules"], 1);
    assert_eq!(doc["refused_count"], 0);
}
