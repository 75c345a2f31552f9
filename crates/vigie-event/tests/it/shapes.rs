//! JSON records recognised by their shape (journald, ECS, OCSF; docs/json-shapes.md):
//! the samples read (counted, damaged records reported by line), the fields given to
//! their records, and properties: recognition never panics nor loses a record, and
//! records of no known shape are left as they were.

use proptest::prelude::*;
use serde_json::{json, Value};
use vigie_event::{read_bytes, Event, Position, ReadErrorKind, ReadOptions};

fn read(bytes: &[u8]) -> (Vec<Event>, Vec<(Position, ReadErrorKind)>) {
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    read_bytes(
        "t",
        bytes,
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| errors.push((e.position, e.kind)),
    )
    .expect("readable");
    (events, errors)
}

fn sample(name: &str) -> (Vec<Event>, Vec<(Position, ReadErrorKind)>) {
    let path = vigie_test_support::repo_root()
        .join("crates/vigie-event/tests/data")
        .join(name);
    read(&std::fs::read(path).expect("sample"))
}

fn at(events: &[Event], line: u64) -> Value {
    events
        .iter()
        .find(|e| e.record == line)
        .map(|e| e.doc().into_owned())
        .unwrap_or_else(|| panic!("no record at line {line}"))
}

#[test]
fn journald_sample_as_syslog_events() {
    let (events, errors) = sample("journald.jsonl");
    assert_eq!(events.len(), 27);
    let bad = ReadErrorKind::BadJson;
    assert_eq!(
        errors,
        [
            (Position::Line(15), bad),
            (Position::Line(21), ReadErrorKind::NotAnObject),
            (Position::Line(30), bad)
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.get("_source") == Some(&json!("linux.journald"))));
    let e = at(&events, 5);
    assert_eq!(e["app"], "sshd");
    assert_eq!(e["procid"], "2201");
    assert_eq!(e["host"], "web01");
    assert_eq!(e["facility"], "authpriv");
    assert_eq!(e["severity"], "info");
    assert_eq!(e["format"], "journald");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .starts_with("Accepted publickey for alice"));
    assert_eq!(e["timestamp"], "2025-12-02T08:00:12.000000Z");
    assert_eq!(
        events
            .iter()
            .find(|e| e.record == 5)
            .unwrap()
            .timestamp
            .unwrap()
            .to_rfc3339(),
        "2025-12-02T08:00:12+00:00"
    );
    // The kernel has no PID; `app` is its identifier.
    let k = at(&events, 2);
    assert_eq!(k["app"], "kernel");
    assert!(k.get("procid").is_none());
    // A binary MESSAGE (bytes as numbers) is text in `message`; the record is not flat.
    let b = events
        .iter()
        .find(|e| e.get("app") == Some(&json!("backup-agent")))
        .unwrap();
    assert_eq!(b.doc()["message"], "snapshot done \u{1b}[32mOK\u{1b}[0m");
    assert_eq!(b.doc()["procid"], "3300");
}

#[test]
fn ecs_sample_fields_and_routing() {
    let (events, errors) = sample("ecs.jsonl");
    assert_eq!(events.len(), 33);
    assert_eq!(
        errors,
        [
            (Position::Line(11), ReadErrorKind::BadJson),
            (Position::Line(18), ReadErrorKind::NotAnObject)
        ]
    );
    // A Linux execution.
    let e = at(&events, 1);
    assert_eq!(e["_shape"], "ecs");
    assert_eq!(e["_source"], "linux.process_creation");
    assert_eq!(e["Image"], "/usr/bin/ls");
    assert_eq!(e["CommandLine"], "ls --color=auto -la");
    assert_eq!(e["ParentImage"], "/usr/bin/bash");
    assert_eq!(e["CurrentDirectory"], "/home/alice");
    assert_eq!(e["ProcessId"], "2250");
    assert_eq!(e["User"], "alice");
    assert!(e.get("Channel").is_none());
    // A Windows one: Sysmon's Channel and EventID 1, User as DOMAIN\name.
    let e = at(&events, 27);
    assert_eq!(e["_source"], "windows.process_creation");
    assert_eq!(e["Channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(e["EventID"], 1);
    assert_eq!(e["User"], "CORP\\bob");
    assert_eq!(e["OriginalFileName"], "CertUtil.exe");
    // Network (egress: initiated), DNS, file creation.
    let e = at(&events, 29);
    assert_eq!(
        (e["EventID"].clone(), e["Initiated"].clone()),
        (json!(3), json!("true"))
    );
    assert_eq!(e["DestinationIp"], "185.220.101.7");
    assert_eq!(e["DestinationPort"], "443");
    let e = at(&events, 30);
    assert_eq!(
        (e["EventID"].clone(), e["QueryName"].clone()),
        (json!(22), json!("dl.ufile.io"))
    );
    assert_eq!(e["QueryResults"], "104.21.32.1");
    let e = at(&events, 34);
    assert_eq!(e["_source"], "linux.file_event");
    assert_eq!(e["TargetFilename"], "/etc/cron.d/0anacron-update");
    let e = at(&events, 10);
    assert_eq!(e["Image"], "/usr/sbin/sshd");
    assert_eq!(e["Initiated"], "false", "sshd's ingress");
    // Not a Sigma category: an authentication, the end of a connection, a metric.
    for line in [24, 25, 26] {
        assert_eq!(at(&events, line)["_source"], "ecs", "line {line}");
    }
    // Odd types do not stop the record.
    assert_eq!(at(&events, 35)["_source"], "ecs");
}

#[test]
fn ocsf_sample_fields_and_routing() {
    let (events, errors) = sample("ocsf.jsonl");
    assert_eq!(events.len(), 33);
    assert_eq!(
        errors,
        [
            (Position::Line(9), ReadErrorKind::BadJson),
            (Position::Line(16), ReadErrorKind::NotAnObject)
        ]
    );
    let e = at(&events, 28);
    assert_eq!(e["_shape"], "ocsf");
    assert_eq!(e["_source"], "windows.process_creation");
    assert_eq!(e["Image"], "C:\\Windows\\System32\\rundll32.exe");
    assert_eq!(e["ParentImage"], "C:\\Windows\\System32\\cmd.exe");
    assert_eq!(e["IntegrityLevel"], "High");
    assert_eq!(e["User"], "CORP\\bob");
    let e = at(&events, 33);
    assert_eq!(e["_source"], "linux.network_connection");
    assert_eq!(e["Image"], "/usr/bin/bash");
    assert_eq!(e["Initiated"], "true");
    assert_eq!(e["DestinationPort"], "4444");
    let e = at(&events, 11);
    assert_eq!(e["Initiated"], "false", "inbound");
    // Close, traffic and logon activities: no Sigma category.
    let sources: Vec<Value> = events.iter().map(|e| e.doc()["_source"].clone()).collect();
    assert_eq!(
        sources.iter().filter(|s| **s == "ocsf").count(),
        4,
        "{sources:?}"
    );
    // A `class_uid` written as text is not OCSF's (a number): the record is left as is.
    assert_eq!(sources.last(), Some(&Value::Null));
    // The time is OCSF's epoch milliseconds.
    assert!(events
        .iter()
        .find(|e| e.record == 1)
        .unwrap()
        .timestamp
        .is_some());
}

#[test]
fn unrecognised_records_are_unchanged() {
    let text = concat!(
        r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\x.exe"}"#,
        "\n",
        r#"{"MESSAGE":"no cursor first","__CURSOR":"s=1"}"#,
        "\n",
        r#"{"class_uid":"1007","activity_id":1}"#,
        "\n",
        r#"{"ecs":"8.0","event":{"category":"process"}}"#,
        "\n",
        r#"{"@timestamp":"2025-01-01T00:00:00Z","ecs":{"version":"8"},"winlog":{"channel":"Security"}}"#,
        "\n",
    );
    let (events, _) = read(text.as_bytes());
    assert_eq!(events.len(), 5);
    for e in &events {
        assert!(e.get("_source").is_none(), "{}", e.doc());
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[ -~]{0,12}".prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                prop::sample::select(vec![
                    "process",
                    "file",
                    "path",
                    "parent",
                    "executable",
                    "cmd_line",
                    "ip",
                    "port",
                    "os",
                    "type",
                    "category",
                    "hashes",
                    "value",
                    "user",
                    "name",
                ])
                .prop_map(str::to_string),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Records that carry the markers of each shape with arbitrary values anywhere
    /// are read, one event each, whatever their values.
    #[test]
    fn shaped_records_never_panic(
        shape in 0..3usize,
        class in prop::sample::select(vec![1007u64, 4001, 1001, 4003, 3002, 0]),
        activity in 0..8u64,
        extra in proptest::collection::btree_map(
            prop::sample::select(vec![
                "process", "actor", "file", "dns", "host", "device", "event", "user",
                "source", "destination", "src_endpoint", "dst_endpoint", "connection_info",
                "query", "answers", "MESSAGE", "SYSLOG_IDENTIFIER", "_PID", "PRIORITY",
                "SYSLOG_FACILITY", "__REALTIME_TIMESTAMP", "network",
            ]).prop_map(str::to_string),
            value(),
            0..10,
        ),
    ) {
        let mut m = serde_json::Map::new();
        match shape {
            0 => { m.insert("__CURSOR".into(), "s=1".into()); }
            1 => {
                m.insert("@timestamp".into(), "2025-12-02T00:00:00Z".into());
                m.insert("ecs".into(), json!({"version": "8.11.0"}));
            }
            _ => {
                m.insert("class_uid".into(), class.into());
                m.insert("activity_id".into(), activity.into());
                m.insert("metadata".into(), json!({"version": "1.3.0"}));
            }
        }
        for (k, v) in extra {
            m.entry(k).or_insert(v);
        }
        let line = serde_json::to_string(&Value::Object(m)).unwrap();
        let (events, errors) = read(line.as_bytes());
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(events.len(), 1);
        let doc = events[0].doc();
        prop_assert!(doc.get("_source").is_some(), "{}", doc);
    }

    /// A flat journal record: `app` is SYSLOG_IDENTIFIER, else _COMM; `procid`
    /// SYSLOG_PID, else _PID; every journal field kept as it was.
    #[test]
    fn journald_flat_fields(
        ident in proptest::option::of("[a-z][a-z0-9_-]{0,10}"),
        comm in proptest::option::of("[a-z][a-z0-9_-]{0,10}"),
        pid in proptest::option::of(1..99999u32),
        prio in 0..12u8,
        msg in "[ -~]{0,40}",
    ) {
        let mut m = serde_json::Map::new();
        m.insert("__REALTIME_TIMESTAMP".into(), "1764662400000000".into());
        if let Some(i) = &ident { m.insert("SYSLOG_IDENTIFIER".into(), i.as_str().into()); }
        if let Some(c) = &comm { m.insert("_COMM".into(), c.as_str().into()); }
        if let Some(p) = pid { m.insert("_PID".into(), p.to_string().into()); }
        m.insert("PRIORITY".into(), prio.to_string().into());
        m.insert("MESSAGE".into(), msg.as_str().into());
        let original = m.clone();
        let line = serde_json::to_string(&Value::Object(m)).unwrap();
        let (events, _) = read(line.as_bytes());
        prop_assert_eq!(events.len(), 1);
        let doc = events[0].doc();
        let app = ident.clone().or(comm.clone());
        prop_assert_eq!(doc.get("app").and_then(Value::as_str), app.as_deref());
        prop_assert_eq!(doc.get("procid").and_then(Value::as_str).map(str::to_string), pid.map(|p| p.to_string()));
        prop_assert_eq!(doc.get("message").and_then(Value::as_str), Some(msg.as_str()));
        prop_assert_eq!(doc.get("severity").is_some(), prio < 8);
        for (k, v) in &original {
            prop_assert_eq!(doc.get(k), Some(v));
        }
    }
}
