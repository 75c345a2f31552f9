//! Entity extraction per event shape, table-driven: EVTX-shaped JSON, a real EVTX record,
//! Winlogbeat, flat and nested ECS JSON, and a correlation hit.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use vigie_event::{discover, read_input, ReadOptions};
use vigie_hunt::Detection;
use vigie_incident::{extract, EntityKind as K, EntityMapping, Role as R};
use vigie_sigma::{CorrelationHit, RuleId};

use crate::common::{detection, detection_of, e, evtx, tuples, weak, Tuple};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

type Expected = Vec<Tuple>;

fn cases() -> Vec<(&'static str, serde_json::Value, Expected)> {
    vec![
        (
            "4624 EVTX JSON: target logs on from IpAddress/WorkstationName to Computer",
            evtx(
                "Security",
                4624,
                "DC-01.corp.example",
                json!({
                    "SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC-01$",
                    "SubjectDomainName": "CORP", "TargetUserSid": "S-1-5-21-1-2-3-1105",
                    "TargetUserName": "Alice", "TargetDomainName": "CORP.EXAMPLE",
                    "LogonType": 3, "WorkstationName": "WKS-07",
                    "IpAddress": "::ffff:10.1.2.10", "IpPort": "50123", "ProcessName": "-",
                }),
            ),
            vec![
                e(K::Host, R::Host, "dc-01.corp.example"),
                e(K::Host, R::Source, "wks-07"),
                e(K::Host, R::Actor, "dc-01"),
                e(K::Ip, R::Source, "10.1.2.10"),
                e(K::Account, R::Target, "corp\\alice"),
                e(K::Sid, R::Target, "S-1-5-21-1-2-3-1105"),
            ],
        ),
        (
            "4625 Winlogbeat: event_data aliases, ECS copies deduplicated",
            json!({
                "@timestamp": "2026-07-25T06:02:00Z",
                "winlog": {
                    "channel": "Security", "event_id": "4625",
                    "computer_name": "web01.corp.example",
                    "event_data": {
                        "TargetUserName": "bob", "TargetDomainName": "-",
                        "IpAddress": "203.0.113.7", "WorkstationName": "\\\\ATTACKER",
                        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "LogonType": "3",
                    },
                },
                "host": {"name": "WEB01.corp.example"},
                "source": {"ip": "203.0.113.7"},
                "user": {"name": "bob"},
            }),
            vec![
                e(K::Host, R::Host, "web01.corp.example"),
                e(K::Host, R::Source, "attacker"),
                e(K::Ip, R::Source, "203.0.113.7"),
                weak(K::Account, R::Target, "bob"),
            ],
        ),
        (
            "4624 flat ECS with dotted keys: keys aliases route the logon entry",
            json!({
                "@timestamp": "2026-07-25T06:03:00Z",
                "event.code": "4624", "winlog.channel": "Security",
                "host.name": "APP02", "host.ip": ["10.0.0.20", "fe80::1%3", "127.0.0.1"],
                "source.ip": "10.0.0.5", "user.name": "carol", "user.domain": "CORP",
            }),
            vec![
                e(K::Host, R::Host, "app02"),
                e(K::Ip, R::Host, "10.0.0.20"),
                e(K::Ip, R::Host, "fe80::1"),
                e(K::Ip, R::Source, "10.0.0.5"),
                e(K::Account, R::Target, "corp\\carol"),
            ],
        ),
        (
            "nested ECS, no Windows keys: default roles; a Linux path keeps its case",
            json!({
                "host": {"name": "app02.corp.example"},
                "user": {"name": "dave"},
                "process": {
                    "executable": "/usr/bin/Curl",
                    "parent": {"executable": "/bin/bash"},
                    "hash": {"sha256": "AB12CD"},
                },
                "destination": {"ip": "198.51.100.9"},
            }),
            vec![
                e(K::Host, R::Host, "app02.corp.example"),
                e(K::Ip, R::Destination, "198.51.100.9"),
                weak(K::Account, R::Actor, "dave"),
                e(K::Process, R::Actor, "/bin/bash"),
                e(K::Process, R::Actor, "/usr/bin/Curl"),
                e(K::Hash, R::Actor, "SHA256=ab12cd"),
            ],
        ),
        (
            "4688: subject created NewProcessName; '-' and the null SID are noise",
            evtx(
                "Security",
                4688,
                "FS03.offsec.lan",
                json!({
                    "SubjectUserSid": "S-1-5-21-4230534742-2542757381-3142984815-1111",
                    "SubjectUserName": "admmig", "SubjectDomainName": "OFFSEC",
                    "NewProcessName": "C:\\Windows\\System32\\net.exe",
                    "ParentProcessName": "C:\\Windows\\explorer.exe",
                    "CommandLine": "net use m: \\\\fs03vuln\\c$",
                    "TargetUserSid": "S-1-0-0", "TargetUserName": "-", "TargetDomainName": "-",
                }),
            ),
            vec![
                e(K::Host, R::Host, "fs03.offsec.lan"),
                e(K::Account, R::Actor, "offsec\\admmig"),
                e(
                    K::Sid,
                    R::Actor,
                    "S-1-5-21-4230534742-2542757381-3142984815-1111",
                ),
                e(K::Process, R::Actor, "c:\\windows\\explorer.exe"),
                e(K::Process, R::Target, "c:\\windows\\system32\\net.exe"),
            ],
        ),
        (
            "Sysmon 1: parent created Image; Hashes split by type",
            evtx(
                SYSMON,
                1,
                "fs02.offsec.lan",
                json!({
                    "Image": "C:\\Windows\\System32\\setspn.exe",
                    "ParentImage": "C:\\Windows\\System32\\cmd.exe",
                    "User": "OFFSEC\\admmig",
                    "Hashes": "SHA1=3B8C,MD5=C729,SHA256=E3B0C442,IMPHASH=6CBD",
                    "CommandLine": "setspn -T offsec -Q */*",
                }),
            ),
            vec![
                e(K::Host, R::Host, "fs02.offsec.lan"),
                e(K::Account, R::Actor, "offsec\\admmig"),
                e(K::Process, R::Actor, "c:\\windows\\system32\\cmd.exe"),
                e(K::Process, R::Target, "c:\\windows\\system32\\setspn.exe"),
                e(K::Hash, R::Target, "IMPHASH=6cbd"),
                e(K::Hash, R::Target, "MD5=c729"),
                e(K::Hash, R::Target, "SHA1=3b8c"),
                e(K::Hash, R::Target, "SHA256=e3b0c442"),
            ],
        ),
        (
            "Sysmon 3: source and destination; SYSTEM and '-' are noise",
            evtx(
                SYSMON,
                3,
                "wks-07.corp.example",
                json!({
                    "Image": "C:\\Windows\\System32\\rundll32.exe",
                    "User": "NT AUTHORITY\\SYSTEM",
                    "SourceIp": "10.0.0.5", "SourceHostname": "WKS-07.corp.example",
                    "DestinationIp": "198.51.100.9", "DestinationHostname": "-",
                    "DestinationPort": 443,
                }),
            ),
            vec![
                e(K::Host, R::Host, "wks-07.corp.example"),
                e(K::Host, R::Source, "wks-07.corp.example"),
                e(K::Ip, R::Source, "10.0.0.5"),
                e(K::Ip, R::Destination, "198.51.100.9"),
                e(K::Process, R::Actor, "c:\\windows\\system32\\rundll32.exe"),
            ],
        ),
        (
            "Sysmon 11: Image wrote TargetFilename",
            evtx(
                SYSMON,
                11,
                "wks-07",
                json!({
                    "Image": "C:\\Users\\alice\\Downloads\\dropper.exe",
                    "TargetFilename": "C:\\Users\\Public\\Evil.dll",
                    "User": "CORP\\alice",
                }),
            ),
            vec![
                e(K::Host, R::Host, "wks-07"),
                e(K::Account, R::Actor, "corp\\alice"),
                e(
                    K::Process,
                    R::Actor,
                    "c:\\users\\alice\\downloads\\dropper.exe",
                ),
                e(K::File, R::Target, "c:\\users\\public\\evil.dll"),
            ],
        ),
        (
            "Sysmon 22: the queried name is the destination",
            evtx(
                SYSMON,
                22,
                "wks-07",
                json!({
                    "Image": "C:\\Windows\\System32\\nslookup.exe",
                    "QueryName": "c2.Evil.example",
                    "QueryResults": "::ffff:198.51.100.9;",
                }),
            ),
            vec![
                e(K::Host, R::Host, "wks-07"),
                e(K::Host, R::Destination, "c2.evil.example"),
                e(K::Process, R::Actor, "c:\\windows\\system32\\nslookup.exe"),
            ],
        ),
        (
            "PowerShell 4104: the script ran as Security_UserID",
            json!({"Event": {
                "System": {
                    "EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational",
                    "Computer": "fs02.offsec.lan",
                    "Security": {"#attributes": {
                        "UserID": "S-1-5-21-4230534742-2542757381-3142984815-1111"}},
                },
                "EventData": {
                    "ScriptBlockText": "$SPNName = 'MSSQLSvc/db01'",
                    "Path": "C:\\Temp\\Recon.ps1",
                },
            }}),
            vec![
                e(K::Host, R::Host, "fs02.offsec.lan"),
                e(
                    K::Sid,
                    R::Actor,
                    "S-1-5-21-4230534742-2542757381-3142984815-1111",
                ),
                e(K::File, R::Actor, "c:\\temp\\recon.ps1"),
            ],
        ),
        (
            "4648: explicit credentials towards TargetServerName at IpAddress",
            evtx(
                "Security",
                4648,
                "FS03.offsec.lan",
                json!({
                    "SubjectUserName": "admmig", "SubjectDomainName": "OFFSEC",
                    "TargetUserName": "hack1", "TargetDomainName": "OFFSEC.LAN",
                    "TargetServerName": "fs03vuln.offsec.lan", "IpAddress": "10.23.23.9",
                    "ProcessName": "",
                }),
            ),
            vec![
                e(K::Host, R::Host, "fs03.offsec.lan"),
                e(K::Host, R::Destination, "fs03vuln.offsec.lan"),
                e(K::Ip, R::Destination, "10.23.23.9"),
                e(K::Account, R::Actor, "offsec\\admmig"),
                e(K::Account, R::Target, "offsec\\hack1"),
            ],
        ),
        (
            "4769: UPN account, the service's machine account is the destination host",
            evtx(
                "Security",
                4769,
                "rootdc1.offsec.lan",
                json!({
                    "TargetUserName": "admmig@OFFSEC.LAN", "TargetDomainName": "OFFSEC.LAN",
                    "ServiceName": "ATACORE01$",
                    "IpAddress": "::ffff:10.23.23.9", "IpPort": "59499",
                }),
            ),
            vec![
                e(K::Host, R::Host, "rootdc1.offsec.lan"),
                e(K::Host, R::Destination, "atacore01"),
                e(K::Ip, R::Source, "10.23.23.9"),
                e(K::Account, R::Target, "offsec\\admmig"),
            ],
        ),
        (
            "4732: TargetUserName is the group, not an account",
            evtx(
                "Security",
                4732,
                "dc-01",
                json!({
                    "MemberSid": "S-1-5-21-1-2-3-1105", "TargetUserName": "Administrators",
                    "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544",
                    "SubjectUserName": "admin", "SubjectDomainName": "CORP",
                }),
            ),
            vec![
                e(K::Host, R::Host, "dc-01"),
                e(K::Account, R::Actor, "corp\\admin"),
                e(K::Sid, R::Target, "S-1-5-21-1-2-3-1105"),
            ],
        ),
    ]
}

#[test]
fn every_event_shape_gives_its_entities() {
    let mapping = EntityMapping::default();
    let mut failures = Vec::new();
    for (name, doc, mut want) in cases() {
        let got = tuples(&extract(&detection(doc, &mapping), &mapping));
        want.sort();
        if got != want {
            failures.push(format!("{name}\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn entities_name_their_field_and_are_sorted_and_unique() {
    let mapping = EntityMapping::default();
    for (name, doc, _) in cases() {
        let got = extract(&detection(doc, &mapping), &mapping);
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup_by(|b, a| (a.kind, a.role, &a.value) == (b.kind, b.role, &b.value));
        assert_eq!(got, sorted, "{name}");
        for ent in &got {
            assert!(
                mapping.capture_fields().contains(&ent.field),
                "{name}: {ent:?} from a field the mapping does not capture"
            );
        }
    }
    let d = detection(cases().remove(0).1, &mapping);
    let got = extract(&d, &mapping);
    let ip = got.iter().find(|e| e.kind == K::Ip).expect("an ip");
    assert_eq!(&*ip.field, "IpAddress");
    let acct = got
        .iter()
        .find(|e| e.kind == K::Account)
        .expect("an account");
    assert_eq!(&*acct.field, "TargetUserName");
}

/// The 4624 of Mimikatz pass-the-hash in the shared EVTX corpus, read by vigie-event.
#[test]
fn a_real_evtx_record() {
    let path = vigie_test_support::shared().join(
        "evtx/evtx-to-mitre-attack/TA0008-Lateral Movement/\
         T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx",
    );
    let mapping = EntityMapping::default();
    let ev = read_first(&path, |ev| ev.get("EventID") == Some(&json!(4624)));
    let mut got = tuples(&extract(&detection_of(&ev, &mapping), &mapping));
    got.sort();
    // LogonType 9 (new credentials): admmig on FS03 for itself; IpAddress is ::1 and
    // WorkstationName '-', both noise.
    let sid = "S-1-5-21-4230534742-2542757381-3142984815-1111";
    let mut want = vec![
        e(K::Host, R::Host, "fs03.offsec.lan"),
        e(K::Account, R::Actor, "offsec\\admmig"),
        e(K::Account, R::Target, "offsec\\admmig"),
        e(K::Sid, R::Actor, sid),
        e(K::Sid, R::Target, sid),
        e(K::Process, R::Actor, "c:\\windows\\system32\\svchost.exe"),
    ];
    want.sort();
    assert_eq!(got, want);
}

fn read_first(path: &Path, want: impl Fn(&vigie_event::Event) -> bool) -> vigie_event::Event {
    let (inputs, errors) = discover(&[path.to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut found = None;
    read_input(
        &inputs[0],
        &ReadOptions::default(),
        &mut |ev| {
            if found.is_none() && want(&ev) {
                found = Some(ev);
            }
        },
        &mut |e| panic!("{e}"),
    )
    .expect("read");
    found.expect("the record")
}

#[test]
fn a_correlation_hit_takes_its_entities_from_its_group() {
    let mapping = EntityMapping::default();
    let t = chrono::DateTime::parse_from_rfc3339("2026-07-25T06:00:00Z")
        .expect("time")
        .to_utc();
    let d = Detection::from_hit(CorrelationHit {
        rule: RuleId(3),
        first: t,
        last: t,
        group: vec![
            ("TargetUserName".into(), json!("alice")),
            ("IpAddress".into(), json!("10.9.9.9")),
            ("Computer".into(), json!("DC-01")),
            ("LogonType".into(), json!(3)),
        ],
        value: 12.0,
        events: vec![(Arc::from("a.evtx"), 1)],
    });
    let mut want = vec![
        weak(K::Account, R::Target, "alice"),
        e(K::Ip, R::Source, "10.9.9.9"),
        e(K::Host, R::Host, "dc-01"),
    ];
    want.sort();
    assert_eq!(tuples(&extract(&d, &mapping)), want);
}

/// Without capture (a plain `hunt` detection), the matched fields are still read.
#[test]
fn matched_fields_are_read_when_nothing_was_captured() {
    let mapping = EntityMapping::default();
    let ev = vigie_event::Event::new(
        Arc::from("x.json"),
        1,
        evtx(SYSMON, 1, "wks-07", json!({"Image": "C:\\x.exe"})),
    );
    let d = Detection::from_match(
        vigie_sigma::Match {
            rule: RuleId(0),
            fields: vec![(Arc::from("Image"), json!("C:\\Tools\\Mimikatz.exe"))],
        },
        &ev,
    );
    assert_eq!(
        tuples(&extract(&d, &mapping)),
        vec![e(K::Process, R::Actor, "c:\\tools\\mimikatz.exe")]
    );
}

/// With a context, the matched fields (by the rule's names, here the logsource alias
/// `Image` of 4688's `NewProcessName`) are not read again under another role.
#[test]
fn matched_aliases_do_not_double_a_captured_field() {
    let mapping = EntityMapping::default();
    let doc = evtx(
        "Security",
        4688,
        "fs03",
        json!({"NewProcessName": "C:\\Windows\\System32\\net.exe"}),
    );
    let mut d = detection(doc, &mapping);
    d.fields = vec![(Arc::from("Image"), json!("C:\\Windows\\System32\\net.exe"))];
    assert_eq!(
        tuples(&extract(&d, &mapping)),
        vec![
            e(K::Host, R::Host, "fs03"),
            e(K::Process, R::Target, "c:\\windows\\system32\\net.exe"),
        ]
    );
}
