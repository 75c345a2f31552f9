//! Correlations on correlations, with the specification's complete example.

use serde_json::json;

use super::{compile, compile_lenient, obs, run, s, summary};

/// The specification's "Failed Logins Followed by Successful Login" (correlation parts;
/// the detection rules are `failed_login` and `successful_login` of the test table).
const TOP: &str = r#"
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
"#;
const MIDDLE: &str = r#"
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
"#;

#[test]
fn spec_example_failed_logins_then_success() {
    let c = compile(&[TOP, MIDDLE]);
    let fail = |t, u: &str| obs(&c, "failed_login", t, json!({"User": u, "EventID": 4625}));
    let ok = |t, u: &str| {
        obs(
            &c,
            "successful_login",
            t,
            json!({"User": u, "EventID": 4624}),
        )
    };
    let mut v: Vec<_> = (0..10).map(|i| fail(i * 5, "bob")).collect();
    v.extend((0..9).map(|i| fail(i * 5, "eve")));
    v.push(ok(100, "eve"));
    v.push(ok(120, "bob"));
    v.sort_by_key(|o| o.timestamp);
    let (hits, st) = run(&c, v);
    // Only the outermost correlation is reported; the event_count hit fed it.
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 2.0, 0, 120)]);
    assert_eq!(hits[0].rule, crate::RuleId(100));
    assert_eq!(st.hits, 1);
    assert_eq!(st.intermediate_hits, 1);
    // Evidence reaches down to the failed logins and the success.
    assert_eq!(hits[0].events.len(), 11);
}

#[test]
fn success_before_the_failures_does_not_fire() {
    let c = compile(&[TOP, MIDDLE]);
    let mut v = vec![obs(&c, "successful_login", 0, json!({"User": "bob"}))];
    v.extend((1..=10).map(|i| obs(&c, "failed_login", i, json!({"User": "bob"}))));
    let (hits, st) = run(&c, v);
    assert!(hits.is_empty());
    assert_eq!(st.intermediate_hits, 1);
}

#[test]
fn success_too_late_does_not_fire() {
    let c = compile(&[TOP, MIDDLE]);
    let mut v: Vec<_> = (0..10)
        .map(|i| obs(&c, "failed_login", i, json!({"User": "bob"})))
        .collect();
    v.push(obs(&c, "successful_login", 9 + 601, json!({"User": "bob"})));
    let (hits, _) = run(&c, v);
    assert!(hits.is_empty());
}

#[test]
fn generate_reports_the_intermediate_hits_too() {
    let top = TOP.replace("level: high", "level: high\ngenerate: true");
    let c = compile(&[&top, MIDDLE]);
    let mut v: Vec<_> = (0..10)
        .map(|i| obs(&c, "failed_login", i, json!({"User": "bob"})))
        .collect();
    v.push(obs(&c, "successful_login", 30, json!({"User": "bob"})));
    let (hits, st) = run(&c, v);
    let rules: Vec<u32> = hits.iter().map(|h| h.rule.0).collect();
    assert_eq!(rules, vec![101, 100], "upstream hit first");
    assert_eq!(st.intermediate_hits, 0);
}

#[test]
fn chain_of_three_with_fixed_window_upstream() {
    // Upstream decided at window end (range), counted downstream.
    let c = compile(&[
        r#"
title: bursty users
name: bursty
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1m
    condition: {gte: 2, lte: 3}
"#,
        r#"
title: two bursts in an hour
correlation:
    type: event_count
    rules: [bursty]
    group-by: [User]
    timespan: 1h
    condition: {gte: 2}
"#,
    ]);
    let f = |t| obs(&c, "failed_login", t, json!({"User": "bob"}));
    let (hits, st) = run(&c, vec![f(0), f(10), f(100), f(110), f(120), f(500)]);
    // Windows [0,60]: 2 → hit; [100,160]: 3 → hit; [500,560]: 1 → none.
    assert_eq!(st.intermediate_hits, 2);
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 2.0, 0, 120)]);
}

#[test]
fn percentile_hits_carry_their_value_downstream() {
    let (c, refused) = compile_lenient(&[
        r#"
title: rare
name: rare
correlation:
    type: value_percentile
    rules: [process_creation]
    group-by: [ComputerName]
    timespan: 1h
    condition: {field: Image, lt: 20}
"#,
        r#"
title: rare images on two computers
correlation:
    type: value_count
    rules: [rare]
    group-by: [Image]
    timespan: 1d
    condition: {field: ComputerName, gte: 2}
"#,
    ]);
    assert!(refused.is_empty(), "{refused:?}");
    let p = |t, pc: &str, img: &str| {
        obs(
            &c,
            "process_creation",
            t,
            json!({"ComputerName": pc, "Image": img}),
        )
    };
    let mut v = Vec::new();
    for (base, pc) in [(0, "pc1"), (10, "pc2")] {
        for i in 0..9 {
            v.push(p(base + i, pc, "svchost.exe"));
        }
    }
    v.push(p(30, "pc1", "evil.exe"));
    v.push(p(31, "pc2", "evil.exe"));
    v.sort_by_key(|o| o.timestamp);
    let (hits, _) = run(&c, v);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].group, vec![(s("Image"), json!("evil.exe"))]);
    assert_eq!(hits[0].value, 2.0);
}

#[test]
fn aliases_apply_to_an_upstream_correlation_by_name() {
    let c = compile(&[
        MIDDLE,
        r#"
title: burst then logon, user field differs
correlation:
    type: temporal_ordered
    rules: [multiple_failed_login, successful_login]
    group-by: [account]
    timespan: 10m
    aliases:
        account:
            multiple_failed_login: User
            successful_login: TargetUserName
"#,
    ]);
    let mut v: Vec<_> = (0..10)
        .map(|i| obs(&c, "failed_login", i, json!({"User": "bob"})))
        .collect();
    v.push(obs(
        &c,
        "successful_login",
        20,
        json!({"TargetUserName": "eve"}),
    ));
    v.push(obs(
        &c,
        "successful_login",
        21,
        json!({"TargetUserName": "bob"}),
    ));
    let (hits, _) = run(&c, v);
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 2.0, 0, 21)]);
    assert_eq!(hits[0].group[0].0, "account");
}
