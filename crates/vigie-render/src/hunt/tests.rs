//! Printer output for a detection and a correlation hit.

use std::sync::Arc;

use chrono::TimeZone;
use serde_json::{json, Value};
use vigie_sigma::{Level, RuleId, RuleKind, RuleMeta};

use super::*;
use vigie_hunt::Detection;

fn meta(kind: RuleKind) -> RuleMeta {
    RuleMeta {
        key: Arc::from("abc"),
        id: Some("abc".into()),
        name: None,
        title: "A \"quoted\", long title".into(),
        level: Level::High,
        tags: vec!["attack.execution".into(), "attack.t1059".into()],
        kind,
        path: Arc::from("r.yml"),
        report: true,
        status: None,
        logsource: None,
    }
}

fn det() -> Detection {
    Detection {
        rule: RuleId(0),
        timestamp: Some(chrono::Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 1).unwrap()),
        source: Some(Arc::from("/logs/x/sysmon.evtx")),
        record: Some(42),
        fields: vec![
            (Arc::from("Image"), json!("C:\\a\\powershell.exe")),
            (Arc::from("CommandLine"), json!("powershell\n-enc AAAA")),
            (Arc::from("Image"), json!("dup")),
        ],
        context: Vec::new(),
        correlation: None,
    }
}

fn corr() -> Detection {
    let t = |s| chrono::Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, s).unwrap();
    Detection::from_hit(vigie_sigma::CorrelationHit {
        rule: RuleId(1),
        first: t(0),
        last: t(30),
        group: vec![("User".into(), json!("bob"))],
        value: 5.0,
        events: vec![(Arc::from("a.evtx"), 1), (Arc::from("a.evtx"), 9)],
    })
}

fn render(format: OutputFormat, ds: &[(Detection, RuleMeta)]) -> String {
    let buf = SharedBuf::default();
    let mut p = printer(format, Box::new(buf.clone()), 160);
    for (d, m) in ds {
        p.write(d, m).unwrap();
    }
    p.finish().unwrap();
    drop(p);
    let v = buf.0.lock().unwrap().clone();
    String::from_utf8(v).unwrap()
}

#[derive(Clone, Default)]
struct SharedBuf(Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn jsonl_detection_and_correlation() {
    let out = render(
        OutputFormat::Jsonl,
        &[
            (det(), meta(RuleKind::Detection)),
            (corr(), meta(RuleKind::Correlation)),
        ],
    );
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        json!({"rule_id": "abc", "rule_title": "A \"quoted\", long title", "level": "high",
            "tags": ["attack.execution", "attack.t1059"], "timestamp": "2024-05-01T10:00:01Z",
            "source": "/logs/x/sysmon.evtx", "record": 42,
            "fields": {"Image": "C:\\a\\powershell.exe", "CommandLine": "powershell\n-enc AAAA"},
            "correlation": false})
    );
    let c = &lines[1];
    assert_eq!(c["correlation"], true);
    assert_eq!(c["timestamp"], "2024-05-01T10:00:30Z");
    assert_eq!(c["first"], "2024-05-01T10:00:00Z");
    assert_eq!(c["group"], json!({"User": "bob"}));
    assert_eq!(c["value"], 5.0);
    assert_eq!(c["events"][1], json!({"source": "a.evtx", "record": 9}));
    assert_eq!(c["source"], Value::Null);
}

#[test]
fn csv_rows_quote_and_keep_fields_as_json() {
    let out = render(OutputFormat::Csv, &[(det(), meta(RuleKind::Detection))]);
    let mut r = ::csv::Reader::from_reader(out.as_bytes());
    let h = r.headers().unwrap().clone();
    assert_eq!(h.len(), 9);
    let rows: Vec<::csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][3], "A \"quoted\", long title");
    assert_eq!(&rows[0][4], "attack.execution;attack.t1059");
    assert_eq!(&rows[0][6], "42");
    let f: Value = serde_json::from_str(&rows[0][8]).unwrap();
    assert_eq!(f["Image"], "C:\\a\\powershell.exe");
    // an empty run is still a CSV file with its header
    assert_eq!(render(OutputFormat::Csv, &[]).lines().count(), 1);
}

#[test]
fn table_aligned_one_line_per_detection() {
    let out = render(
        OutputFormat::Table,
        &[
            (det(), meta(RuleKind::Detection)),
            (corr(), meta(RuleKind::Correlation)),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    // columns line up: LEVEL starts at the same char offset on every line
    let col = |l: &str, pat: &str| l.chars().collect::<String>().find(pat);
    assert_eq!(col(lines[0], "LEVEL"), col(lines[1], "high"));
    assert_eq!(
        col(lines[0], "FILE:RECORD"),
        col(lines[1], "sysmon.evtx:42")
    );
    assert!(!lines[1].contains("x/sysmon"), "file name only: {out}");
    assert!(
        lines[1].contains("CommandLine=powershell -enc AAAA"),
        "{out}"
    );
    assert!(lines[2].contains("[correlation]") && lines[2].contains("User=bob"));
    // an empty run prints nothing (no lone header)
    assert!(render(OutputFormat::Table, &[]).is_empty());
}

#[test]
fn keywords_are_shown_not_dropped() {
    let mut d = det();
    d.fields = vec![(Arc::from(vigie_sigma::KEYWORD_FIELD), json!("*mimikatz*"))];
    let m = meta(RuleKind::Detection);
    let line: Value =
        serde_json::from_str(render(OutputFormat::Jsonl, &[(d.clone(), m.clone())]).trim())
            .unwrap();
    assert_eq!(line["fields"], json!({}));
    assert_eq!(line["keywords"], json!(["*mimikatz*"]));
    let table = render(OutputFormat::Table, &[(d.clone(), m.clone())]);
    assert!(table.contains("keyword=*mimikatz*"), "{table}");
    let csv = render(OutputFormat::Csv, &[(d, m)]);
    assert!(csv.contains("mimikatz"), "{csv}");
}

#[test]
fn json_array_is_valid_with_zero_one_and_many() {
    for n in [0usize, 1, 3] {
        let ds: Vec<(Detection, RuleMeta)> =
            (0..n).map(|_| (det(), meta(RuleKind::Detection))).collect();
        let out = render(OutputFormat::Json, &ds);
        let v: Vec<vigie_wire::v1::Detection> = serde_json::from_str(&out).unwrap();
        assert_eq!(v.len(), n, "{out}");
    }
}

#[test]
fn wire_round_trip_keeps_field_order() {
    let out = render(
        OutputFormat::Jsonl,
        &[
            (det(), meta(RuleKind::Detection)),
            (corr(), meta(RuleKind::Correlation)),
        ],
    );
    for l in out.lines() {
        let w: vigie_wire::v1::Detection = serde_json::from_str(l).unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), l);
    }
}

#[test]
fn an_unknown_format_is_a_typed_error_naming_it() {
    assert_eq!(
        "json".parse::<OutputFormat>().ok(),
        Some(OutputFormat::Json)
    );
    assert_eq!(
        "jsonl".parse::<OutputFormat>().ok(),
        Some(OutputFormat::Jsonl)
    );
    let e = "xml".parse::<OutputFormat>().unwrap_err();
    assert_eq!(e.0, "xml");
    assert!(e.to_string().contains("\"xml\""));
}
