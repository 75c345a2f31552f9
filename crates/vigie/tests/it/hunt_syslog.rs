//! `vigie hunt` on syslog files: sniffed by content (plain and gzip), matched on the
//! documented field names, event time from the syslog timestamp, bad lines counted.

use std::process::Command;

const RULE: &str = r#"title: SSH password failure for root
id: 99999999-2222-3333-4444-555555555555
status: test
level: medium
logsource:
    product: linux
    service: sshd
detection:
    selection:
        app: sshd
        message|contains: 'Failed password for root'
    condition: selection
"#;

#[test]
fn hunt_reads_syslog_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::write(rules.join("ssh.yml"), RULE).expect("write");
    let text = "2024-05-01T10:00:00.250+02:00 bastion sshd[811]: Failed password for root from 10.0.0.7 port 2222 ssh2\n\
                2024-05-01T10:00:01Z bastion sshd[811]: Accepted publickey for alice\n\
                this line is not syslog\n\
                <38>1 2024-05-01T08:00:02Z bastion sshd 812 - - Failed password for root from 10.0.0.8\n";
    std::fs::write(dir.path().join("auth.log"), text).expect("write");
    let sum = dir.path().join("summary.json");
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("hunt")
        .arg("--rules")
        .arg(&rules)
        .args(["--format", "jsonl", "--summary-json"])
        .arg(&sum)
        .arg(dir.path().join("auth.log"))
        .env_remove("VIGIE_RULES")
        .output()
        .expect("run vigie");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    assert_eq!(d.len(), 2, "{stdout}");
    assert_eq!(d[0]["rule_id"], "99999999-2222-3333-4444-555555555555");
    assert_eq!(d[0]["timestamp"], "2024-05-01T08:00:00.250Z");
    assert_eq!(d[0]["record"], 1);
    assert_eq!(d[1]["timestamp"], "2024-05-01T08:00:02Z");
    assert_eq!(d[1]["record"], 4);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sum).expect("summary")).expect("json");
    assert_eq!(summary["records_skipped"]["bad_syslog"], 1, "{summary}");
}
