//! The pipeline end to end on small inputs: correlations across files in event-time
//! order, `--level` not starving correlations, time window, determinism, counts.

use std::path::{Path, PathBuf};

use vigie_hunt::{hunt, Collect, HuntOptions};
use vigie_sigma::{Level, LoadOptions, RuleSet};

const RULES: &str = r#"title: Failed Logon
id: 0a000000-0000-4000-8000-000000000001
name: failed_logon
status: test
level: low
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Many Failed Logons
id: 0a000000-0000-4000-8000-000000000002
status: test
level: high
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 10m
    condition:
        gte: 5
    generate: true
"#;

fn logon(minute: u32, user: &str) -> String {
    format!(
        r#"{{"Channel":"Security","EventID":4625,"TargetUserName":"{user}","@timestamp":"2024-05-01T10:{minute:02}:00Z"}}"#
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    rules: PathBuf,
    inputs: Vec<PathBuf>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES).expect("write");
    // Two files whose events interleave in time: only a time-ordered merge sees 5 failures
    // of bob within 10 minutes in the right order.
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    let lines_a = [
        logon(0, "bob"),
        logon(2, "bob"),
        logon(4, "bob"),
        logon(5, "eve"),
    ];
    let lines_b = [logon(1, "bob"), "garbage".to_owned(), logon(3, "bob")];
    std::fs::write(&a, lines_a.join("\n")).expect("write");
    std::fs::write(&b, lines_b.join("\n")).expect("write");
    Setup {
        rules,
        inputs: vec![a, b],
        _dir: dir,
    }
}

fn run(s: &Setup, opts: &HuntOptions) -> (Collect, vigie_hunt::Summary, RuleSet) {
    let (rules, report) =
        RuleSet::load(std::slice::from_ref(&s.rules), &LoadOptions::default()).expect("rules load");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    let (inputs, errors) = vigie_event::discover(&s.inputs);
    assert!(errors.is_empty());
    let mut sink = Collect::default();
    let summary = hunt(&rules, &report, &inputs, errors, opts, &mut sink).expect("hunt");
    (sink, summary, rules)
}

fn title(rules: &RuleSet, d: &vigie_hunt::Detection) -> String {
    rules.meta(d.rule).title.clone()
}

#[test]
fn correlation_across_files_in_time_order() {
    let s = setup();
    for threads in [1, 2, 4] {
        let opts = HuntOptions {
            threads,
            ..HuntOptions::default()
        };
        let (out, summary, rules) = run(&s, &opts);
        let corr: Vec<_> = out.0.iter().filter(|d| d.is_correlation()).collect();
        assert_eq!(corr.len(), 1, "threads {threads}: {:?}", out.0);
        let c = corr[0].correlation.as_ref().expect("correlation info");
        assert_eq!(c.value, 5.0);
        assert_eq!(
            c.group,
            vec![("TargetUserName".to_owned(), serde_json::json!("bob"))]
        );
        // contributing events from both files
        assert!(c.events.iter().any(|(src, _)| src.ends_with("a.jsonl")));
        assert!(c.events.iter().any(|(src, _)| src.ends_with("b.jsonl")));
        // detections first, in input then record order; the correlation last
        let order: Vec<(String, u64)> = out
            .0
            .iter()
            .filter(|d| !d.is_correlation())
            .map(|d| {
                let src = d.source.as_deref().expect("source");
                let name = Path::new(src).file_name().expect("name").to_string_lossy();
                (name.into_owned(), d.record.expect("record"))
            })
            .collect();
        let expect: Vec<(String, u64)> = [
            ("a.jsonl", 1),
            ("a.jsonl", 2),
            ("a.jsonl", 3),
            ("a.jsonl", 4),
            ("b.jsonl", 1),
            ("b.jsonl", 3),
        ]
        .iter()
        .map(|(f, r)| (f.to_string(), *r))
        .collect();
        assert_eq!(order, expect);
        assert!(out.0.last().expect("some").is_correlation());
        assert_eq!(title(&rules, corr[0]), "Many Failed Logons");
        assert_eq!(summary.events, 6);
        assert_eq!(summary.files.read, 2);
        assert_eq!(summary.records_skipped.values().sum::<u64>(), 1);
        assert_eq!(summary.correlation_hits, 1);
        assert_eq!(summary.detections_total, 7);
        assert_eq!(summary.detections[&Level::Low], 6);
        assert_eq!(summary.detections[&Level::High], 1);
    }
}

#[test]
fn level_filter_hides_detections_but_keeps_correlations() {
    let s = setup();
    let opts = HuntOptions {
        min_level: Some(Level::High),
        ..HuntOptions::default()
    };
    let (out, summary, _) = run(&s, &opts);
    assert_eq!(out.0.len(), 1);
    assert!(out.0[0].is_correlation());
    assert_eq!(summary.below_level, 6);
}

#[test]
fn time_window_applies_before_matching() {
    let s = setup();
    let opts = HuntOptions {
        to: Some(
            vigie_hunt::parse_time_bound("2024-05-01T10:03:00Z", vigie_hunt::Bound::To)
                .expect("time"),
        ),
        ..HuntOptions::default()
    };
    let (out, summary, _) = run(&s, &opts);
    // bob fails 4 times by 10:03: no correlation
    assert_eq!(out.0.len(), 4);
    assert!(out.0.iter().all(|d| !d.is_correlation()));
    assert_eq!(summary.events_outside_window, 2);
}

#[test]
fn base_rule_matches_hidden_without_generate() {
    let s = setup();
    let text = RULES.replace("    generate: true\n", "");
    std::fs::write(&s.rules, text).expect("write");
    let (out, summary, _) = run(&s, &HuntOptions::default());
    assert_eq!(out.0.len(), 1, "only the correlation is reported");
    assert!(out.0[0].is_correlation());
    assert_eq!(summary.detections_total, 1);
}

#[test]
fn one_big_file_split_over_threads_keeps_record_order() {
    let s = setup();
    let big = s.inputs[0].with_file_name("big.jsonl");
    let lines: Vec<String> = (0..3000u32)
        .map(|i| {
            if i % 7 == 0 {
                logon(i % 60, &format!("user{}", i % 5))
            } else {
                r#"{"Channel":"Security","EventID":4624}"#.to_owned()
            }
        })
        .collect();
    std::fs::write(&big, lines.join("\n")).expect("write");
    let one = Setup {
        _dir: tempfile::tempdir().expect("tempdir"),
        rules: s.rules.clone(),
        inputs: vec![big],
    };
    let records = |threads| {
        let opts = HuntOptions {
            threads,
            ..HuntOptions::default()
        };
        let (out, summary, _) = run(&one, &opts);
        assert_eq!(summary.events, 3000);
        out.0
            .iter()
            .map(|d| (d.is_correlation(), d.record))
            .collect::<Vec<_>>()
    };
    let seq = records(1);
    let expected: Vec<u64> = (0..3000u64).filter(|i| i % 7 == 0).map(|i| i + 1).collect();
    let got: Vec<u64> = seq
        .iter()
        .filter(|(c, _)| !c)
        .filter_map(|(_, r)| *r)
        .collect();
    assert_eq!(got, expected);
    for threads in [2, 3, 8] {
        assert_eq!(records(threads), seq, "threads {threads}");
    }
}

/// A non-Windows rule (product zeek) applies to flat events without `Channel`, but not
/// to an EVTX-shaped record that lacks one (damaged or odd records of a Windows log): the
/// shipped mapping also requires `Event.System.EventID` to be absent.
#[test]
fn non_windows_rules_skip_channel_less_evtx_records() {
    const ZEEK: &str = r#"title: Public RDP
id: 0a000000-0000-4000-8000-000000000009
status: test
level: high
logsource:
    product: zeek
    service: rdp
detection:
    selection:
        id.orig_h|cidr: '10.0.0.0/8'
    condition: not selection
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("zeek.yml");
    std::fs::write(&rules, ZEEK).expect("write");
    let input = dir.path().join("mixed.jsonl");
    let lines = [
        r#"{"id.orig_h":"8.8.8.8","id.resp_p":3389}"#,
        r#"{"Event":{"System":{"EventID":111,"Computer":"dc01"}}}"#,
        r#"{"Event":{"System":{"EventID":4624,"Channel":"Security"}}}"#,
    ];
    std::fs::write(&input, lines.join("\n")).expect("write");
    let (rs, report) =
        RuleSet::load(std::slice::from_ref(&rules), &LoadOptions::default()).expect("load");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    let (inputs, errors) = vigie_event::discover(&[input]);
    let mut sink = Collect::default();
    hunt(
        &rs,
        &report,
        &inputs,
        errors,
        &HuntOptions::default(),
        &mut sink,
    )
    .expect("hunt");
    let records: Vec<Option<u64>> = sink.0.iter().map(|d| d.record).collect();
    assert_eq!(records, vec![Some(1)], "only the flat zeek line");
}
