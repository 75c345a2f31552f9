//! Cloud audit logs (docs/cloud-logs.md): the samples are read with their `_source`,
//! CloudTrail's `Records` container is unwrapped (also gzip) with each record
//! positioned, and recognition and unwrapping hold on arbitrary records.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use vigie_event::read::read_bytes;
use vigie_event::{Event, Position, ReadError, ReadErrorKind, ReadOptions};

use crate::common::gz;

fn data(name: &str) -> Vec<u8> {
    let path = vigie_test_support::repo_root()
        .join("crates/vigie-event/tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str, bytes: &[u8]) -> (Vec<Event>, Vec<ReadError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let stats = read_bytes(
        name,
        bytes,
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    )
    .expect("readable");
    assert_eq!(stats.events, events.len() as u64);
    assert_eq!(stats.skipped, errors.len() as u64);
    (events, errors)
}

fn source(e: &Event) -> Option<String> {
    e.get("_source").and_then(Value::as_str).map(str::to_owned)
}

/// Every good record of each sample gets its format's `_source`; damaged ones are
/// reported where they are.
#[test]
fn samples_are_recognised() {
    for (name, want, good) in [
        ("azure-signin.jsonl", "azure.signinlogs", 27),
        ("azure-activity.jsonl", "azure.activitylogs", 27),
        ("azure-audit.jsonl", "azure.auditlogs", 27),
        ("gcp-audit.jsonl", "gcp.gcp.audit", 28),
        ("okta.jsonl", "okta.okta", 28),
        ("kubernetes-audit.jsonl", "kubernetes.audit", 29),
        ("github-audit.jsonl", "github.audit", 28),
        ("bitbucket-audit.jsonl", "bitbucket.audit", 27),
        ("onelogin.jsonl", "onelogin.onelogin.events", 24),
    ] {
        let (events, errors) = read(name, &data(name));
        assert_eq!(events.len(), good, "{name}");
        for e in &events {
            let src = source(e);
            // The one Workspace admin record of the GCP sample.
            let ok = src.as_deref() == Some(want)
                || (name == "gcp-audit.jsonl"
                    && src.as_deref() == Some("gcp.google_workspace.admin"));
            assert!(ok, "{name} record {}: {src:?}", e.record);
        }
        assert_eq!(errors.len(), 2, "{name}: {errors:?}");
        for err in &errors {
            assert!(matches!(err.position, Position::Line(l) if l > good as u64));
        }
    }
    let (events, errors) = read("m365.jsonl", &data("m365.jsonl"));
    let sources: Vec<Option<String>> = events.iter().map(source).collect();
    assert_eq!(events.len(), 28);
    assert!(sources[..25]
        .iter()
        .all(|s| s.as_deref() == Some("m365.audit")));
    assert_eq!(
        sources[25..],
        [
            Some("m365.threat_management".into()),
            Some("m365.threat_management".into()),
            Some("m365.exchange".into())
        ]
    );
    assert_eq!(errors.len(), 2);
    let (events, _) = read("azure-risk.jsonl", &data("azure-risk.jsonl"));
    let sources: Vec<Option<String>> = events.iter().map(source).collect();
    assert_eq!(
        sources,
        [
            "azure.riskdetection",
            "azure.riskdetection",
            "azure.riskdetection",
            "azure.pim"
        ]
        .map(|s| Some(s.to_string()))
    );
}

/// The `Records` file, plain and gzip (as S3 delivers it): one event per record,
/// numbered by index, the non-objects reported as `line 1, record I`.
#[test]
fn cloudtrail_records_file_plain_and_gzip() {
    let plain = data("cloudtrail.json");
    for bytes in [plain.clone(), gz(&plain)] {
        let (events, errors) = read("ct.json", &bytes);
        assert_eq!(events.len(), 33);
        let records: Vec<u64> = events.iter().map(|e| e.record).collect();
        assert_eq!(records, (0..33).collect::<Vec<u64>>());
        assert!(events
            .iter()
            .all(|e| source(e).as_deref() == Some("aws.cloudtrail")));
        let ct = &events[32];
        assert_eq!(
            ct.get("userAgent").and_then(Value::as_str),
            Some("TruffleHog")
        );
        assert_eq!(
            ct.get("userIdentity.type").and_then(Value::as_str),
            Some("IAMUser")
        );
        let at: Vec<(Position, ReadErrorKind)> =
            errors.iter().map(|e| (e.position, e.kind)).collect();
        let want: Vec<(Position, ReadErrorKind)> = (33..36)
            .map(|index| {
                (
                    Position::Contained { line: 1, index },
                    ReadErrorKind::NotAnObject,
                )
            })
            .collect();
        assert_eq!(at, want);
        assert!(
            errors[0].to_string().contains("line 1, record 33"),
            "{}",
            errors[0]
        );
    }
}

/// A `Records` file cut short (a partial download, a gzip stream cut) or with one
/// damaged record: the records before and after the damage still come out, the damage
/// is reported at its element.
#[test]
fn damaged_records_file_is_salvaged() {
    let plain = data("cloudtrail.json");
    let text = std::str::from_utf8(&plain).expect("utf-8");
    // Cut inside record 20, and right after record 9's comma (looks like a
    // pretty-printer's line break).
    let starts: Vec<usize> = text
        .match_indices("{\"eventVersion\"")
        .map(|(i, _)| i)
        .collect();
    for (cut, good) in [(starts[20] + 50, 20), (starts[10], 10)] {
        let (events, errors) = read("ct.json", &plain[..cut]);
        assert_eq!(events.len(), good, "cut at {cut}");
        assert!(events
            .iter()
            .all(|e| source(e).as_deref() == Some("aws.cloudtrail")));
        let last = errors.last().expect("an error");
        assert_eq!(last.kind, ReadErrorKind::BadJson);
        assert!(last.to_string().contains("closing `]`"), "{last}");
        let (zipped, zerrors) = read("ct.json.gz", &gz(&plain[..cut]));
        assert_eq!((zipped.len(), zerrors.len()), (events.len(), errors.len()));
    }
    // Record 5 damaged in place (a bad number): 32 good records, one error at element 5, and the
    // three non-objects at the end as before.
    let mut broken = text.to_string();
    let version = "{\"eventVersion\":\"1.09\"";
    broken.replace_range(
        starts[5]..starts[5] + version.len(),
        "{\"eventVersion\":1.0.9",
    );
    let (events, errors) = read("ct.json", broken.as_bytes());
    assert_eq!(events.len(), 32);
    let at: Vec<Position> = errors.iter().map(|e| e.position).collect();
    assert_eq!(
        at,
        [5, 33, 34, 35].map(Position::Element).to_vec(),
        "{errors:?}"
    );
}

/// Azure's `{"records":[...]}`, one container per line (Event Hubs capture): records
/// numbered across lines, errors naming line and index.
#[test]
fn azure_records_per_line() {
    let rec = |op: &str| json!({"time": "2026-11-30T10:00:00Z", "resourceId": "/x", "operationName": op, "category": "Administrative", "properties": {}});
    let text = format!(
        "{}\n{}\n{}\n",
        json!({"records": [rec("A/WRITE"), rec("B/WRITE")]}),
        json!({"records": [rec("C/WRITE"), 5]}),
        json!({"records": [], "other": 1}),
    );
    let (events, errors) = read("eh.json", text.as_bytes());
    let ops: Vec<(u64, Option<String>)> = events
        .iter()
        .map(|e| {
            (
                e.record,
                e.get("operationName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            (0, Some("A/WRITE".into())),
            (1, Some("B/WRITE".into())),
            (2, Some("C/WRITE".into())),
            // Not a container (two members): one plain event, numbered by its line.
            (3, None),
        ]
    );
    assert_eq!(source(&events[0]).as_deref(), Some("azure.activitylogs"));
    assert_eq!(source(&events[3]), None);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].position,
        Position::Contained { line: 2, index: 1 }
    );
}

/// Windows records are left alone, whatever cloud keys they carry.
#[test]
fn windows_records_are_never_recognised() {
    for line in [
        r#"{"Channel":"Security","EventID":4624,"eventSource":"iam.amazonaws.com","eventName":"x"}"#,
        r#"{"Event":{"System":{"Channel":"Security","EventID":1}},"eventSource":"iam.amazonaws.com","eventName":"x"}"#,
        r#"{"winlog":{"channel":"Security"},"Workload":"x","Operation":"y","RecordType":1}"#,
    ] {
        let (events, _) = read("w.json", line.as_bytes());
        assert_eq!(events.len(), 1);
        assert_eq!(source(&events[0]), None, "{line}");
    }
}

/// Keys that do not matter to any recogniser.
fn noise() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z]{1,8}x", any::<i32>().prop_map(Value::from), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

fn shapes() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "userIdentity": {"type": "Root"}}),
            "aws.cloudtrail",
        ),
        (
            json!({"protoPayload": {"serviceName": "storage.googleapis.com", "methodName": "x"}}),
            "gcp.gcp.audit",
        ),
        (
            json!({"uuid": "u", "eventType": "user.session.start", "actor": {"id": "a"}}),
            "okta.okta",
        ),
        (
            json!({"category": "SignInLogs", "operationName": "Sign-in activity", "properties": {}}),
            "azure.signinlogs",
        ),
        (
            json!({"Workload": "Exchange", "Operation": "Send", "RecordType": 2}),
            "m365.audit",
        ),
        (
            json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "create"}),
            "kubernetes.audit",
        ),
    ]
}

proptest! {
    /// A recognised shape stays recognised whatever unrelated keys surround it, in any
    /// order, read as JSON lines, as an array, and out of a `Records` container; a
    /// `Channel` anywhere in it stops recognition.
    #[test]
    fn recognition_ignores_other_keys(
        which in 0usize..6,
        before in noise(),
        after in noise(),
        windows in any::<bool>(),
        copies in 1usize..4,
    ) {
        let (shape, want) = shapes().swap_remove(which);
        let mut m: Map<String, Value> = before;
        if windows {
            m.insert("Channel".into(), json!("Security"));
        }
        for (k, v) in shape.as_object().cloned().unwrap_or_default() {
            m.insert(k, v);
        }
        m.extend(after);
        let rec = Value::Object(m);
        let want = (!windows).then(|| want.to_string());
        let many = vec![rec.clone(); copies];
        let lines = many.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
        let inputs = [
            lines,
            Value::Array(many.clone()).to_string(),
            json!({"Records": many}).to_string(),
        ];
        for text in inputs {
            let (events, errors) = read("p.json", text.as_bytes());
            prop_assert!(errors.is_empty(), "{:?}", errors);
            prop_assert_eq!(events.len(), copies);
            for e in &events {
                prop_assert_eq!(source(e), want.clone());
            }
        }
    }

    /// Containers of arbitrary elements: every object is an event, every other element
    /// an error at its index, nothing lost, also cut by gzip.
    #[test]
    fn containers_account_for_every_element(
        elems in prop::collection::vec(prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[a-z]{0,5}".prop_map(Value::from),
            Just(Value::Null),
            ("[a-z]{1,4}", any::<u8>()).prop_map(|(k, v)| json!({ k: v })),
        ], 0..20),
        lower in any::<bool>(),
        zip in any::<bool>(),
    ) {
        let key = if lower { "records" } else { "Records" };
        let text = json!({ key: elems }).to_string();
        let bytes = if zip { gz(text.as_bytes()) } else { text.into_bytes() };
        let (events, errors) = read("c.json", &bytes);
        let objects: Vec<u64> = elems.iter().enumerate().filter(|(_, v)| v.is_object()).map(|(i, _)| i as u64).collect();
        let others: Vec<Position> = elems.iter().enumerate().filter(|(_, v)| !v.is_object()).map(|(i, _)| Position::Contained { line: 1, index: i as u64 }).collect();
        prop_assert_eq!(events.len(), objects.len());
        prop_assert_eq!(errors.iter().map(|e| e.position).collect::<Vec<_>>(), others);
        // Events are numbered by their running index among the container's records.
        prop_assert_eq!(events.iter().map(|e| e.record).collect::<Vec<_>>(), objects);
    }

    /// Arbitrary objects with cloud-ish keys never panic and only ever get one of the
    /// documented `_source` values.
    #[test]
    fn arbitrary_records_get_documented_sources(
        members in prop::collection::vec((
            prop::sample::select(vec!["eventSource", "eventName", "protoPayload", "data", "eventType", "actor", "uuid", "category", "Type", "resourceId", "operationName", "Workload", "Operation", "RecordType", "riskEventType", "riskLevel", "kind", "apiVersion", "action", "_document_id", "org", "event_type_id", "account_id", "auditType", "author", "txid", "event_type"]),
            prop_oneof![
                Just(json!("SignInLogs")), Just(json!("Administrative")), Just(json!("x.amazonaws.com")),
                Just(json!("Event")), Just(json!("audit.k8s.io/v1")), Just(json!({"serviceName": "admin.googleapis.com"})),
                Just(json!({"protoPayload": {}})), Just(json!("fooAlertIncident")), any::<i32>().prop_map(Value::from),
                Just(json!({})), Just(json!([])),
            ],
        ), 0..10),
    ) {
        let m: Map<String, Value> = members.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let text = Value::Object(m).to_string();
        let (events, errors) = read("a.json", text.as_bytes());
        prop_assert!(errors.is_empty());
        prop_assert_eq!(events.len(), 1);
        const DOCUMENTED: &[&str] = &[
            "aws.cloudtrail", "m365.threat_management", "m365.exchange", "gcp.gcp.audit",
            "gcp.google_workspace.admin", "gcp.google_workspace.login", "okta.okta",
            "azure.signinlogs", "azure.auditlogs", "azure.riskdetection", "azure.pim",
            "azure.activitylogs", "m365.audit", "kubernetes.audit", "github.audit",
            "onelogin.onelogin.events", "bitbucket.audit", "cisco.duo",
        ];
        if let Some(s) = source(&events[0]) {
            prop_assert!(DOCUMENTED.contains(&s.as_str()), "{}", s);
        }
    }
}
