//! `parse`: the specification's examples and every refusal reason.

use super::{def, yaml};
use crate::correlation::{parse, parse_timespan_str, CorrelationType, Op};
use crate::{Level, RefusalKind};

fn refused(s: &str) -> (RefusalKind, String) {
    match parse(&yaml(s)) {
        Ok(d) => panic!("accepted: {d:?}"),
        Err(e) => e,
    }
}

fn assert_refused(s: &str, kind: RefusalKind, needle: &str) {
    let (k, msg) = refused(s);
    assert_eq!(k, kind, "{msg}");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
}

#[test]
fn spec_event_count_example() {
    let d = def(r#"
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        gte: 100
"#);
    assert_eq!(d.title, "Many failed logins");
    assert_eq!(
        d.id.as_deref(),
        Some("0e95725d-7320-415d-80f7-004da920fc11")
    );
    assert_eq!(d.kind(), CorrelationType::EventCount);
    assert_eq!(d.rules, vec!["5638f7c0-ac70-491d-8465-2a65075e0d86"]);
    assert_eq!(d.group_by(), ["ComputerName"]);
    assert_eq!(d.timespan(), chrono::TimeDelta::hours(1));
    assert_eq!(d.condition().ops(), [(Op::Gte, 100.0)]);
    assert_eq!(d.level, Level::Medium);
    assert!(!d.generate);
}

#[test]
fn spec_value_count_example() {
    let d = def(r#"
title: Failed login
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
        - WorkstationName
    timespan: 1d
    condition:
        field: User
        gte: 100
"#);
    assert_eq!(d.kind(), CorrelationType::ValueCount);
    assert_eq!(d.fields(), ["User"]);
    assert_eq!(d.group_by(), ["ComputerName", "WorkstationName"]);
    assert_eq!(d.timespan(), chrono::TimeDelta::days(1));
}

#[test]
fn spec_temporal_examples_default_to_all_rules() {
    let d = def(r#"
title: recon
correlation:
    type: temporal
    rules:
        - recon_cmd_a
        - recon_cmd_b
        - recon_cmd_c
    group-by:
        - ComputerName
        - User
    timespan: 5m
"#);
    assert_eq!(d.kind(), CorrelationType::Temporal);
    assert_eq!(d.condition().ops(), [(Op::Gte, 3.0)]);
    let d = def(r#"
title: t
correlation:
    type: temporal_ordered
    rules: [many_failed_logins, successful_login]
    group-by: [User]
    timespan: 1h
"#);
    assert_eq!(d.kind(), CorrelationType::TemporalOrdered);
    assert_eq!(d.condition().ops(), [(Op::Gte, 2.0)]);
}

#[test]
fn spec_metric_examples() {
    for (src, kind, field) in [
        (
            "type: value_sum\n    rules: [website_access]\n    group-by: [SourceIP, User]\n    timespan: 1h\n    condition:\n        field: bytes_sent\n        gt: 1000000",
            CorrelationType::ValueSum,
            "bytes_sent",
        ),
        (
            "type: value_avg\n    rules: [rule_a_id]\n    group-by: [SourceIP, User]\n    timespan: 24h\n    condition:\n        field: BytesOut\n        gt: 500",
            CorrelationType::ValueAvg,
            "BytesOut",
        ),
        (
            "type: value_percentile\n    rules: [process_creation]\n    group-by: [ComputerName]\n    timespan: 24h\n    condition:\n        field: image\n        lte: 1",
            CorrelationType::ValuePercentile,
            "image",
        ),
    ] {
        let d = def(&format!("title: x\ncorrelation:\n    {src}\n"));
        assert_eq!(d.kind(), kind);
        assert_eq!(d.fields(), [field]);
    }
}

#[test]
fn spec_aliases_example() {
    let d = def(r#"
title: —
id: —
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
"#);
    assert_eq!(d.aliases.len(), 2);
    assert_eq!(d.aliases[0].0, "internal_ip");
    assert_eq!(
        d.aliases[0].1,
        vec![
            ("internal_error".to_string(), "destination.ip".to_string()),
            (
                "new_network_connection".to_string(),
                "source.ip".to_string()
            )
        ]
    );
}

#[test]
fn metadata_range_and_generate() {
    let d = def(r#"
title: range
name: my_corr
level: high
tags: [attack.t1110]
generate: true
correlation:
    type: event_count
    rules: [failed_login]
    timespan: 90m
    condition:
        gt: 100
        lte: 200
"#);
    assert_eq!(d.name.as_deref(), Some("my_corr"));
    assert_eq!(d.level, Level::High);
    assert_eq!(d.tags, vec!["attack.t1110"]);
    assert!(d.generate);
    assert!(d.group_by().is_empty());
    assert_eq!(d.timespan(), chrono::TimeDelta::minutes(90));
    assert!(d.condition().holds(150.0));
    assert!(!d.condition().holds(100.0));
    assert!(d.condition().holds(200.0));
    assert!(!d.condition().holds(201.0));
    assert!(!d.condition().lower_bounded_only());
}

#[test]
fn timespans() {
    assert_eq!(parse_timespan_str("30s"), Ok(30_000_000));
    assert_eq!(parse_timespan_str("5m"), Ok(300_000_000));
    assert_eq!(parse_timespan_str("2h"), Ok(7_200_000_000));
    assert_eq!(parse_timespan_str("1d"), Ok(86_400_000_000));
    assert_eq!(parse_timespan_str("1w"), Ok(604_800_000_000));
    for bad in [
        "",
        "5",
        "m",
        "5M",
        "5H",
        "1.5h",
        "-5m",
        "0s",
        "5 x",
        "99999999999999999999s",
        "4000d",
    ] {
        assert!(parse_timespan_str(bad).is_err(), "{bad:?} accepted");
    }
}

const HEAD: &str = "title: t\ncorrelation:\n";

#[test]
fn refusals_name_the_problem() {
    use RefusalKind::*;
    let cases: &[(&str, RefusalKind, &str)] = &[
        ("title: t\n", Schema, "correlation section is missing"),
        ("correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1}}\n", Schema, "title is missing"),
        ("title: [x]\ncorrelation: {}\n", Schema, "title must be a string"),
        ("  type: event_cnt\n  rules: [a]\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "unknown correlation type \"event_cnt\""),
        ("  rules: [a]\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "correlation.type is missing"),
        ("  type: event_count\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "correlation.rules is missing"),
        ("  type: event_count\n  rules: []\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "correlation.rules is empty"),
        ("  type: event_count\n  rules: [a, a]\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "lists \"a\" twice"),
        ("  type: event_count\n  rules: [a]\n  condition: {gte: 1}\n", Schema, "correlation.timespan is missing"),
        ("  type: event_count\n  rules: [a]\n  timespan: 5x\n  condition: {gte: 1}\n", Value, "expected a number followed by s, m, h, d or w"),
        ("  type: event_count\n  rules: [a]\n  timespan: 5\n  condition: {gte: 1}\n", Value, "must be a string"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n", Condition, "condition is missing (required by event_count)"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {greater: 1}\n", Condition, "unknown operator \"greater\""),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {gte: ten}\n", Condition, "must be a finite number"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {gt: 10, lt: 5}\n", Condition, "can never hold"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {eq: 3, gt: 5}\n", Condition, "can never hold"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: gte 3\n", Condition, "must be a map"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {field: x}\n", Condition, "has no comparison"),
        ("  type: event_count\n  rules: [a]\n  timespan: 1m\n  condition: {field: x, gte: 2}\n", Condition, "not used by event_count"),
        ("  type: value_count\n  rules: [a]\n  timespan: 1m\n  condition: {gte: 2}\n", Condition, "field is missing (required by value_count)"),
        ("  type: value_sum\n  rules: [a]\n  timespan: 1m\n  condition: {field: [a, b], gte: 2}\n", Condition, "aggregates one numeric field"),
        ("  type: value_percentile\n  rules: [a]\n  timespan: 1m\n  condition: {field: a, lte: 101}\n", Condition, "percentages"),
        ("  type: event_count\n  rules: [a]\n  groupby: [x]\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "correlation.groupby is not a correlation attribute"),
        ("  type: event_count\n  rules: [a]\n  group-by: [x, x]\n  timespan: 1m\n  condition: {gte: 1}\n", Schema, "group-by lists \"x\" twice"),
        ("  type: temporal\n  rules: [a, b]\n  timespan: 1m\n  aliases: [x]\n", Schema, "aliases must be a map"),
        ("  type: temporal\n  rules: [a, b]\n  timespan: 1m\n  aliases: {ip: {a: [x]}}\n", Schema, "must map a rule name to a field name"),
    ];
    for (body, kind, needle) in cases {
        let doc = if body.starts_with("  ") {
            format!("{HEAD}{body}")
        } else {
            body.to_string()
        };
        assert_refused(&doc, *kind, needle);
    }
    assert_refused(
        "title: t\nlevel: severe\ncorrelation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1}}\n",
        RefusalKind::Schema,
        "unknown level",
    );
    assert_refused("- a\n- b\n", RefusalKind::Syntax, "must be a map");
}

#[test]
fn accepts_lenient_forms() {
    // A single reference or group-by written as a scalar, generate inside correlation.
    let d = def("title: t\ncorrelation:\n  type: event_count\n  rules: failed_login\n  group-by: User\n  generate: true\n  timespan: 1m\n  condition: {gte: 1.5}\n");
    assert_eq!(d.rules, vec!["failed_login"]);
    assert_eq!(d.group_by(), ["User"]);
    assert!(d.generate);
    let d = def("title: t\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 1m\n  condition: {field: [User, Host], neq: 3}\n");
    assert_eq!(d.fields(), ["User", "Host"]);
}
