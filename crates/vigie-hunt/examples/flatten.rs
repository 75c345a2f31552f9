//! Flattens EVTX / JSON inputs into JSON lines of Sigma field names, for the differential
//! against another engine (`bench/differential.sh`): each record becomes one object with
//! every short field name (`Image`, `EventID`, `Provider_Name`, ...; first value wins),
//! the field aliases of vigie's shipped mapping (`Image` from `NewProcessName`, ...),
//! `_source` and `_record` (to join results), and `product` / `service` / `category`
//! (the Sigma logsource of Windows channels and Sysmon event ids) for engines that route
//! on event fields.
//!
//! Usage: cargo run --release -p vigie-hunt --example flatten -- PATH... > flat.jsonl

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Map, Value};
use vigie_event::{discover, read_input, Event, ReadOptions};

fn service(channel: &str) -> Option<&'static str> {
    Some(match channel {
        "Security" => "security",
        "System" => "system",
        "Application" => "application",
        "Microsoft-Windows-Sysmon/Operational" => "sysmon",
        "Windows PowerShell" => "powershell-classic",
        "Microsoft-Windows-PowerShell/Operational" => "powershell",
        "Microsoft-Windows-TaskScheduler/Operational" => "taskscheduler",
        "Microsoft-Windows-WMI-Activity/Operational" => "wmi",
        "Microsoft-Windows-Windows Defender/Operational" => "windefend",
        "Microsoft-Windows-Bits-Client/Operational" => "bits-client",
        "Microsoft-Windows-DNS-Client/Operational" => "dns-client",
        "Microsoft-Windows-NTLM/Operational" => "ntlm",
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational" => {
            "terminalservices-localsessionmanager"
        }
        "Microsoft-Windows-CodeIntegrity/Operational" => "codeintegrity-operational",
        "Microsoft-Windows-AppLocker/EXE and DLL" => "applocker",
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall" => "firewall-as",
        "Microsoft-Windows-SMBClient/Security" => "smbclient-security",
        "Microsoft-Windows-PrintService/Admin" => "printservice-admin",
        "Microsoft-Windows-DriverFrameworks-UserMode/Operational" => "driver-framework",
        "Microsoft-Windows-LSA/Operational" => "lsa-server",
        "Microsoft-Windows-Shell-Core/Operational" => "shell-core",
        "Microsoft-Windows-OpenSSH/Operational" => "openssh",
        "Microsoft-Windows-CAPI2/Operational" => "capi2",
        _ => return None,
    })
}

fn sysmon_category(id: u64) -> Option<&'static str> {
    Some(match id {
        1 => "process_creation",
        2 => "file_change",
        3 => "network_connection",
        5 => "process_termination",
        6 => "driver_load",
        7 => "image_load",
        8 => "create_remote_thread",
        9 => "raw_access_thread",
        10 => "process_access",
        11 => "file_event",
        12..=14 => "registry_event",
        15 => "create_stream_hash",
        17 | 18 => "pipe_created",
        19..=21 => "wmi_event",
        22 => "dns_query",
        23 | 26 => "file_delete",
        25 => "process_tampering",
        _ => return None,
    })
}

fn flat(e: &Event, scratch: &mut String) -> Map<String, Value> {
    let mut m = Map::new();
    e.visit_fields(scratch, &mut |name, v| {
        if !name.contains('.') && !m.contains_key(name) {
            m.insert(name.to_owned(), v.clone());
        }
    });
    // The field aliases of vigie's shipped mapping (crates/vigie-sigma/mapping/default.yml
    // `fields:`), so that both engines see the same names.
    for (sigma, event) in [
        ("Image", "NewProcessName"),
        ("ParentImage", "ParentProcessName"),
        ("Signature", "ThreatName"),
        ("Filename", "Path"),
    ] {
        if !m.contains_key(sigma) {
            if let Some(v) = m.get(event).cloned() {
                m.insert(sigma.to_owned(), v);
            }
        }
    }
    let channel = m.get("Channel").and_then(Value::as_str).map(str::to_owned);
    let id = m.get("EventID").and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    m.insert("product".into(), "windows".into());
    if let Some(s) = channel.as_deref().and_then(service) {
        m.insert("service".into(), s.into());
        let cat = match (s, id) {
            ("sysmon", Some(i)) => sysmon_category(i),
            ("security", Some(4688)) => Some("process_creation"),
            _ => None,
        };
        if let Some(c) = cat {
            m.insert("category".into(), c.into());
        }
    }
    m.insert("_source".into(), Value::String(e.source.to_string()));
    m.insert("_record".into(), e.record.into());
    m
}

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (inputs, errors) = discover(&paths);
    for e in errors {
        eprintln!("skipped {e}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut scratch = String::new();
    let opts = ReadOptions::default();
    for input in &inputs {
        let res = read_input(
            input,
            &opts,
            &mut |e| {
                let m = flat(&e, &mut scratch);
                if let Ok(s) = serde_json::to_string(&m) {
                    // A closed pipe ends the run below; nothing to report per line.
                    let _ = writeln!(out, "{s}");
                }
            },
            &mut |err| eprintln!("skipped {err}"),
        );
        if let Err(e) = res {
            eprintln!("skipped {e}");
        }
    }
    if let Err(e) = out.flush() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
