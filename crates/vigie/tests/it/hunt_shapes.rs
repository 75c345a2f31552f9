//! `vigie hunt` with SigmaHQ's `rules/windows` and `rules/linux` over the project's
//! journald, ECS and OCSF samples (`crates/vigie-event/tests/data/*.jsonl`, records
//! recognised by their shape, docs/json-shapes.md): the exact set of rules that fire, on
//! which record, and the damaged records counted. Linux records never reach Windows
//! rules nor the reverse, and benign records fire nothing.

use crate::hunt_linux::check_exact;

/// The exact set with `rules/windows` and `rules/linux` (see [`check_exact`]).
fn check(sample: &str, want: &[(u64, &str)], events: u64, skipped: serde_json::Value) {
    check_exact(&["windows", "linux"], sample, want, events, skipped)
}

/// Lines 1-24 benign (22 records and 2 damaged), then the attack on `web01`.
#[test]
fn journald_sample() {
    check(
        "journald.jsonl",
        &[
            (25, "Suspicious OpenSSH Daemon Error"),
            (26, "Privileged User Has Been Created"),
            (27, "Suspicious Reverse Shell Command Line"),
            (27, "Suspicious Use of /dev/tcp"),
            (28, "Modifying Crontab"),
            (29, "Commands to Clear or Remove the Syslog - Builtin"),
        ],
        27,
        serde_json::json!({"bad_json": 2, "not_an_object": 1}),
    );
}

/// Lines 1-26 benign (24 records, Windows and Linux, and 2 damaged), then the attack:
/// certutil download, Word spawning encoded PowerShell, rundll32 calling out, a ufile.io
/// lookup, a Startup-folder script on Windows; a base64 pipe to bash, a reverse shell
/// and a cron file on Linux.
#[test]
fn ecs_sample() {
    check(
        "ecs.jsonl",
        &[
            (27, "Suspicious Download Via Certutil.EXE"),
            (
                27,
                "Suspicious File Downloaded From Direct IP Via Certutil.EXE",
            ),
            (28, "Suspicious Microsoft Office Child Process"),
            (28, "Suspicious Encoded PowerShell Command Line"),
            (28, "Suspicious PowerShell Encoded Command Patterns"),
            (28, "PowerShell Base64 Encoded IEX Cmdlet"),
            (28, "Suspicious Execution of Powershell with Base64"),
            (28, "Non Interactive PowerShell Process Spawned"),
            (29, "Rundll32 Internet Connection"),
            (30, "DNS Query To Ufile.io"),
            (31, "Potential Binary Or Script Dropper Via PowerShell"),
            (31, "Startup Folder File Write"),
            (31, "Suspicious Startup Folder Persistence"),
            (32, "Suspicious Activity in Shell Commands"),
            (32, "Linux Base64 Encoded Pipe to Shell"),
            (32, "Linux Shell Pipe to Shell"),
            (33, "Linux Reverse Shell Indicator"),
            (
                33,
                "Potentially Suspicious Malware Callback Communication - Linux",
            ),
            (34, "New Cron File Created"),
        ],
        33,
        serde_json::json!({"bad_json": 1, "not_an_object": 1}),
    );
}

/// Lines 1-26 benign (24 records and 2 damaged), then the same intrusion as OCSF
/// (a comsvcs MiniDump instead of the Office macro, wget writing in /tmp).
#[test]
fn ocsf_sample() {
    check(
        "ocsf.jsonl",
        &[
            (27, "Suspicious Download Via Certutil.EXE"),
            (
                27,
                "Suspicious File Downloaded From Direct IP Via Certutil.EXE",
            ),
            (28, "Process Memory Dump Via Comsvcs.DLL"),
            (28, "Potentially Suspicious Rundll32 Activity"),
            (29, "Rundll32 Internet Connection"),
            (30, "DNS Query To Ufile.io"),
            (31, "Potential Binary Or Script Dropper Via PowerShell"),
            (31, "Startup Folder File Write"),
            (31, "Suspicious Startup Folder Persistence"),
            (32, "Suspicious Activity in Shell Commands"),
            (32, "Linux Base64 Encoded Pipe to Shell"),
            (32, "Linux Shell Pipe to Shell"),
            (33, "Linux Reverse Shell Indicator"),
            (
                33,
                "Potentially Suspicious Malware Callback Communication - Linux",
            ),
            (34, "Wget Creating Files in Tmp Directory"),
        ],
        33,
        serde_json::json!({"bad_json": 1, "not_an_object": 1}),
    );
}
