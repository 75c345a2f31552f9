//! `vigie hunt` with SigmaHQ's rules over the project's CEF, LEEF, web server and proxy
//! access log samples (`crates/vigie-event/tests/data/`): the exact set of rules that
//! fire, on which line, and the damaged lines counted; CEF/LEEF inside syslog fire the
//! same; the rest of SigmaHQ's rules stay silent on them (routing by `_source`).

use std::collections::BTreeSet;

use crate::cli::{ok, vigie};

/// `rules/web` (webserver) on the combined access log: one attack a line from 24 on.
/// Line 27 is a SQL injection answered 404, which the rule filters out.
const ACCESS: &[(u64, &str)] = &[
    (24, "Source Code Enumeration Detection by Keyword"),
    (25, "Path Traversal Exploitation Attempts"),
    (26, "SQL Injection Strings In URI"),
    (28, "Suspicious User-Agents Related To Recon Tools"),
    (29, "Suspicious User-Agents Related To Recon Tools"),
    (30, "Server Side Template Injection Strings"),
    (31, "Cross Site Scripting Strings"),
    (32, "Suspicious Windows Strings In URI"),
    (33, "Java Payload Strings"),
    (34, "JNDIExploit Pattern"),
    (
        35,
        "F5 BIG-IP iControl Rest API Command Execution - Webserver",
    ),
    (36, "Successful IIS Shortname Fuzzing Scan"),
    (37, "Webshell ReGeorg Detection Via Web Logs"),
    (38, "Windows Webshell Strings"),
    (39, "Windows Webshell Strings"),
];

/// `rules/web` (proxy) on the Squid log: native lines (no user agent) from 26, then
/// Squid `combined` lines (with one) from 36.
const SQUID: &[(u64, &str)] = &[
    (26, "Download from Suspicious Dyndns Hosts"),
    (27, "Download From Suspicious TLD - Blacklist"),
    (27, "Download From Suspicious TLD - Whitelist"),
    (28, "PwnDrp Access"),
    (29, "Raw Paste Service Access"),
    (30, "Flash Player Update from Suspicious Location"),
    (31, "Suspicious Network Communication With IPFS"),
    (32, "Telegram API Access"),
    (33, "HackTool - BabyShark Agent Default URL Pattern"),
    (34, "PUA - Advanced IP/Port Scanner Update Check"),
    (35, "F5 BIG-IP iControl Rest API Command Execution - Proxy"),
    (36, "Rclone Activity via Proxy"),
    (37, "Windows PowerShell User Agent"),
    (38, "HTTP Request With Empty User Agent"),
    (39, "Download From Suspicious TLD - Whitelist"),
    (39, "Bitsadmin to Uncommon IP Server Address"),
    (39, "Bitsadmin to Uncommon TLD"),
    (40, "Download From Suspicious TLD - Whitelist"),
    (40, "Windows WebDAV User Agent"),
    (40, "Suspicious External WebDAV Execution"),
];

/// `rules/network` (firewall) on CEF: cleartext protocols allowed by a firewall (FortiGate
/// telnet and MS-SQL, PAN-OS FTP, Check Point VNC). Not fired: the same telnet denied
/// (line 3), allowed by Trend Micro Deep Security (25, not a firewall), PAN-OS `allow`
/// (7; the rule lists `accept`/`forward`/`2`).
const CEF: &[(u64, &str)] = &[
    (21, "Cleartext Protocol Usage"),
    (22, "Cleartext Protocol Usage"),
    (23, "Cleartext Protocol Usage"),
    (24, "Cleartext Protocol Usage"),
];

/// The same on LEEF: FortiGate telnet, Check Point FTP, Firepower `action=2` to MySQL;
/// not PAN-OS VNC `allow` (23) nor Symantec Endpoint Protection (25, not a firewall).
const LEEF: &[(u64, &str)] = &[
    (21, "Cleartext Protocol Usage"),
    (22, "Cleartext Protocol Usage"),
    (24, "Cleartext Protocol Usage"),
];

fn check(rules: &str, sample: &str, want: &[(u64, &str)], events: u64, skipped: serde_json::Value) {
    crate::hunt_linux::check_exact(&[rules], sample, want, events, skipped)
}

#[test]
fn access_log_with_sigmahq_web_rules() {
    check(
        "web",
        "access.log",
        ACCESS,
        39,
        serde_json::json!({"bad_access_log": 4}),
    );
}

#[test]
fn squid_log_with_sigmahq_web_rules() {
    check(
        "web",
        "squid-access.log",
        SQUID,
        40,
        serde_json::json!({"bad_access_log": 3}),
    );
}

#[test]
fn cef_and_leef_with_sigmahq_network_rules() {
    check(
        "network",
        "cef.log",
        CEF,
        25,
        serde_json::json!({"bad_cef": 3}),
    );
    check(
        "network",
        "leef.log",
        LEEF,
        25,
        serde_json::json!({"bad_leef": 3}),
    );
}

/// The good lines of the CEF and LEEF samples sent as syslog (RFC 3164, with a PRI and a
/// host): the same detections on the same lines.
#[test]
fn cef_and_leef_inside_syslog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = vigie_test_support::repo_root().join("crates/vigie-event/tests/data");
    for (sample, want) in [("cef.log", CEF), ("leef.log", LEEF)] {
        let text = std::fs::read_to_string(data.join(sample)).expect("sample");
        let framed: String = text
            .lines()
            .take(25)
            .map(|l| format!("<134>Dec  2 08:00:00 fw-paris-01 {l}\n"))
            .collect();
        let path = dir.path().join(format!("syslog-{sample}"));
        std::fs::write(&path, framed).expect("write");
        let path = path.to_str().expect("utf-8 path").to_string();
        check("network", &path, want, 25, serde_json::json!({}));
    }
}

/// All of SigmaHQ's `rules/` over the four samples at once: nothing beyond the web and
/// network detections above (Windows, Linux, cloud, Zeek and product rules stay off
/// events a reader recognised).
#[test]
fn the_rest_of_sigmahq_stays_silent() {
    let data = vigie_test_support::repo_root().join("crates/vigie-event/tests/data");
    let rules = vigie_test_support::shared().join("sigma/rules");
    let samples = ["access.log", "squid-access.log", "cef.log", "leef.log"];
    let mut args = vec![
        "hunt".to_string(),
        "--rules".into(),
        rules.to_string_lossy().into_owned(),
        "--format".into(),
        "jsonl".into(),
    ];
    args.extend(
        samples
            .iter()
            .map(|s| data.join(s).to_string_lossy().into_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(vigie(&args));
    let hits: BTreeSet<(String, u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("jsonl");
            let source = d["source"].as_str().expect("source");
            let name = source.rsplit('/').next().unwrap_or(source).to_string();
            let record = d["record"].as_u64().expect("record");
            (
                name,
                record,
                d["rule_title"].as_str().expect("title").to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64, String)> = samples
        .iter()
        .zip([ACCESS, SQUID, CEF, LEEF])
        .flat_map(|(s, w)| w.iter().map(|(r, t)| (s.to_string(), *r, t.to_string())))
        .collect();
    let missing: Vec<_> = want.difference(&hits).collect();
    let extra: Vec<_> = hits.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
}
