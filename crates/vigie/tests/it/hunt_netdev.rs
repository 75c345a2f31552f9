//! `vigie hunt` with SigmaHQ's rules over the project's syslog samples
//! (`crates/vigie-event/tests/data/`): Linux services (`rules/linux`, routed by `app`),
//! Sysmon for Linux (XML inside syslog, `rules/linux` categories), and network devices
//! (`rules/network`: Cisco, FortiGate, Juniper, Huawei). The exact set of rules that
//! fire, on which line, and the damaged lines counted.

use std::collections::BTreeSet;

use crate::hunt_linux::{hunt, set};

fn check(sample: &str, hits: &BTreeSet<(u64, String)>, want: &BTreeSet<(u64, String)>) {
    let missing: Vec<_> = want.difference(hits).collect();
    let extra: Vec<_> = hits.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{sample}: missing {missing:?}\nextra {extra:?}"
    );
}

#[test]
fn linux_syslog_sample_with_sigmahq_linux_rules() {
    let (hits, summary) = hunt("linux", "syslog-linux.log");
    // Lines 1-26 are benign (cron, sshd, sudo, vsftpd, freshclam/clamd, guacd, named,
    // RFC 5424 lines) and fire nothing; so does line 39, which quotes an sshd error
    // from another program (`logger`): the sshd rule only sees sshd's lines.
    let want = set(&[
        (27, "Suspicious OpenSSH Daemon Error"),
        (28, "Suspicious OpenSSH Daemon Error"),
        (29, "Modifying Crontab"),
        (30, "Suspicious VSFTPD Error Messages"),
        (31, "Relevant ClamAV Message"),
        (32, "Relevant ClamAV Message"),
        (33, "Guacamole Two Users Sharing Session Anomaly"),
        (35, "Suspicious Named Error"),
        (36, "Disabling Security Tools - Builtin"),
        (37, "Disabling Security Tools - Builtin"),
    ]);
    check("syslog-linux.log", &hits, &want);
    assert_eq!(summary["events"], 39, "{summary}");
    assert_eq!(summary["records_skipped"]["bad_syslog"], 4, "{summary}");
}

#[test]
fn sysmon_for_linux_sample_with_sigmahq_linux_rules() {
    let (hits, summary) = hunt("linux", "sysmon-linux.log");
    // Lines 1-22: service start, config, cron jobs, logrotate, an ssh login, sudo, apt,
    // chrony, a metrics push, a database backup: nothing fires.
    let want = set(&[
        // A web shell decodes and pipes a reverse shell to bash...
        (23, "Linux Base64 Encoded Pipe to Shell"),
        (23, "Linux Shell Pipe to Shell"),
        (24, "Linux Reverse Shell Indicator"),
        (
            24,
            "Potentially Suspicious Malware Callback Communication - Linux",
        ),
        // ...downloads a kit into /tmp...
        (
            25,
            "Download File To Potentially Suspicious Directory Via Wget",
        ),
        (26, "Wget Creating Files in Tmp Directory"),
        // ...runs a miner from a hidden /tmp folder...
        (27, "Linux Crypto Mining Indicators"),
        (27, "Potentially Suspicious Execution From Tmp Folder"),
        (28, "Linux Crypto Mining Pool Connections"),
        (
            28,
            "Potentially Suspicious Malware Callback Communication - Linux",
        ),
        // ...and persists through sudoers.d and cron.d.
        (29, "Persistence Via Sudoers.d Files"),
        (30, "New Cron File Created"),
    ]);
    check("sysmon-linux.log", &hits, &want);
    assert_eq!(summary["events"], 30, "{summary}");
    // A cut event, an unknown entity, mismatched tags, a Data without Name, a line that
    // is not syslog.
    assert_eq!(summary["records_skipped"]["bad_syslog"], 5, "{summary}");
}

#[test]
fn cisco_sample_with_sigmahq_network_rules() {
    let (hits, summary) = hunt("network", "cisco-ios.log");
    // Lines 1-23: interface, routing, CDP, PoE, DHCP, HSRP, ACL, NTP, logins and
    // ordinary configuration commands: nothing fires.
    let want = set(&[
        (24, "Cisco Collect Data"),
        (25, "Cisco Discovery"),
        (26, "Cisco Show Commands Input"),
        (27, "Cisco Disabling Logging"),
        (28, "Cisco Local Accounts"),
        (29, "Cisco Modify Configuration"),
        (30, "Cisco Sniffing"),
        (31, "Cisco Dot1x Disabled"),
        (32, "Cisco Crypto Commands"),
        (32, "Cisco Stage Data"),
        (33, "Cisco Stage Data"),
        (34, "Cisco Clear Logs"),
        (35, "Cisco File Deletion"),
        (36, "Cisco Denial of Service"),
        (37, "Cisco BGP Authentication Failures"),
        (38, "Cisco LDP Authentication Failures"),
    ]);
    check("cisco-ios.log", &hits, &want);
    assert_eq!(summary["events"], 38, "{summary}");
    assert_eq!(summary["records_skipped"]["bad_syslog"], 3, "{summary}");
}

#[test]
fn fortigate_sample_with_sigmahq_network_rules() {
    let (hits, summary) = hunt("network", "fortigate.log");
    // Lines 1-23: traffic, logins, VPN, DHCP, FortiGuard, UTM (antivirus, application
    // control, IPS) and configuration edits that no rule watches.
    let want = set(&[
        (24, "FortiGate - New Administrator Account Created"),
        (25, "FortiGate - New Local User Created"),
        (26, "FortiGate - User Group Modified"),
        (27, "FortiGate - Firewall Address Object Added"),
        (28, "FortiGate - New Firewall Policy Added"),
        (29, "FortiGate - New VPN SSL Web Portal Added"),
        (30, "FortiGate - VPN SSL Settings Modified"),
    ]);
    check("fortigate.log", &hits, &want);
    assert_eq!(summary["events"], 30, "{summary}");
    assert_eq!(summary["records_skipped"]["bad_syslog"], 3, "{summary}");
}

#[test]
fn juniper_huawei_sample_with_sigmahq_network_rules() {
    let (hits, summary) = hunt("network", "juniper-huawei.log");
    let want = set(&[
        (23, "Juniper BGP Missing MD5"),
        (24, "Juniper BGP Missing MD5"),
        (25, "Huawei BGP Authentication Failures"),
    ]);
    check("juniper-huawei.log", &hits, &want);
    assert_eq!(summary["events"], 25, "{summary}");
    assert_eq!(summary["records_skipped"]["bad_syslog"], 3, "{summary}");
}

#[test]
fn network_samples_fire_no_linux_rule_and_linux_samples_no_network_rule() {
    for sample in ["cisco-ios.log", "fortigate.log", "juniper-huawei.log"] {
        let (hits, _) = hunt("linux", sample);
        assert!(hits.is_empty(), "{sample}: {hits:?}");
    }
    for sample in ["syslog-linux.log", "sysmon-linux.log"] {
        let (hits, _) = hunt("network", sample);
        assert!(hits.is_empty(), "{sample}: {hits:?}");
    }
}

/// `--timezone`: RFC 3164 times read in the zone given (daylight saving time followed),
/// the year from the file's last modification; a zone that does not exist is a usage
/// error (exit 2) naming the option.
#[test]
fn timezone_option() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("auth.log");
    std::fs::write(
        &log,
        "Jun 15 10:00:00 web01 sshd[1]: error: Corrupted MAC on input.\n\
         Jan 15 10:00:00 web01 sshd[2]: error: Corrupted MAC on input.\n",
    )
    .expect("write");
    // Last written on 1 July 2024: both lines are of 2024.
    let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_719_792_000);
    std::fs::File::options()
        .write(true)
        .open(&log)
        .and_then(|f| f.set_modified(mtime))
        .expect("mtime");
    let rules = vigie_test_support::shared().join("sigma/rules/linux");
    let times = |zone: &str| -> Vec<String> {
        let out = crate::cli::ok(crate::cli::vigie(&[
            "hunt",
            "--rules",
            rules.to_str().expect("utf-8"),
            "--format",
            "jsonl",
            // A negative offset is taken as the value, not as an option.
            "--timezone",
            zone,
            log.to_str().expect("utf-8"),
        ]));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let d: serde_json::Value = serde_json::from_str(l).expect("jsonl");
                d["timestamp"].as_str().expect("timestamp").to_string()
            })
            .collect()
    };
    assert_eq!(
        times("Europe/Paris"),
        ["2024-06-15T08:00:00Z", "2024-01-15T09:00:00Z"]
    );
    assert_eq!(
        times("-05:00"),
        ["2024-06-15T15:00:00Z", "2024-01-15T15:00:00Z"]
    );
    assert_eq!(
        times("UTC"),
        ["2024-06-15T10:00:00Z", "2024-01-15T10:00:00Z"]
    );
    let bad = crate::cli::vigie(&[
        "hunt",
        "--timezone",
        "Mars/Olympus",
        log.to_str().expect("utf-8"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--timezone: time zone `Mars/Olympus`"),
        "{err}"
    );
}
