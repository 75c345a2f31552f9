//! The streaming engine, type by type, with the firing policy.

use serde_json::json;

use super::{compile, obs, obs_rec, run, run_with, s, summary};
use crate::correlation::Limits;

const COUNT3: &str = r#"
title: three failed logins per user in a minute
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1m
    condition: {gte: 3}
"#;

#[test]
fn event_count_fires_once_when_threshold_reached_then_resets() {
    let c = compile(&[COUNT3]);
    let u = |t| obs(&c, "failed_login", t, json!({"User": "bob"}));
    let (hits, st) = run(&c, vec![u(0), u(10), u(20), u(21), u(22), u(23), u(24)]);
    // 0,10,20 → hit at 20; reset; 21,22,23 → hit at 23; 24 alone.
    assert_eq!(
        summary(&hits),
        vec![(vec![s("bob")], 3.0, 0, 20), (vec![s("bob")], 3.0, 21, 23)]
    );
    assert_eq!(hits[0].group[0].0, "User");
    assert_eq!(hits[0].events.len(), 3);
    assert_eq!(hits[0].events[2].1, 20);
    assert_eq!(st.hits, 2);
    assert_eq!(st.observations, 7);
}

#[test]
fn event_count_window_slides_and_is_inclusive() {
    let c = compile(&[COUNT3]);
    let u = |t| obs(&c, "failed_login", t, json!({"User": "bob"}));
    // 0 falls out of the minute ending at 100; 50 is exactly one minute before 110.
    let (hits, _) = run(&c, vec![u(0), u(50), u(100), u(110)]);
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 3.0, 50, 110)]);
    let (hits, _) = run(&c, vec![u(0), u(61), u(122)]);
    assert!(hits.is_empty());
    let (hits, _) = run(&c, vec![u(0), u(30), u(60)]);
    assert_eq!(
        hits.len(),
        1,
        "an event exactly one timespan later is in the window"
    );
}

#[test]
fn event_count_groups_by_all_fields_and_skips_missing() {
    let c = compile(&[r#"
title: per user and host
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User, Computer]
    timespan: 1h
    condition: {gte: 2}
"#]);
    let o = |t, u: &str, h: &str| obs(&c, "failed_login", t, json!({"User": u, "Computer": h}));
    let (hits, st) = run(
        &c,
        vec![
            o(0, "bob", "h1"),
            o(1, "bob", "h2"),
            o(2, "eve", "h1"),
            obs(&c, "failed_login", 3, json!({"User": "bob"})),
            obs(
                &c,
                "failed_login",
                4,
                json!({"User": "bob", "Computer": null}),
            ),
            o(5, "bob", "h2"),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("bob"), s("h2")], 2.0, 1, 5)]);
    assert_eq!(st.missing_group_field, 2);
}

#[test]
fn group_values_compare_as_text() {
    let c = compile(&[r#"
title: by event id
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [EventID]
    timespan: 1h
    condition: {gte: 2}
"#]);
    let (hits, _) = run(
        &c,
        vec![
            obs(&c, "failed_login", 0, json!({"EventID": 4625})),
            obs(&c, "failed_login", 1, json!({"EventID": "4625"})),
        ],
    );
    assert_eq!(hits.len(), 1);
}

#[test]
fn gt_is_strict() {
    let c = compile(&[&COUNT3.replace("gte: 3", "gt: 3")]);
    let u = |t| obs(&c, "failed_login", t, json!({"User": "bob"}));
    let (hits, _) = run(&c, vec![u(0), u(1), u(2)]);
    assert!(hits.is_empty());
    let (hits, _) = run(&c, vec![u(0), u(1), u(2), u(3)]);
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 4.0, 0, 3)]);
}

#[test]
fn ranges_are_decided_when_the_fixed_window_closes() {
    // "2 to 3 events in a minute": decided at window end (first event + 60s).
    let c = compile(&[&COUNT3.replace("{gte: 3}", "{gte: 2, lte: 3}")]);
    let o = |t, u: &str| obs(&c, "failed_login", t, json!({"User": u}));
    let (hits, _) = run(
        &c,
        vec![
            o(0, "bob"),
            o(10, "bob"),
            o(20, "eve"),
            o(21, "eve"),
            o(22, "eve"),
            o(23, "eve"),
            o(30, "bob"),
            // Closes bob's window [0, 60]: 3 events → hit. Eve's [20, 80]: 4 → none.
            o(61, "joe"),
            o(100, "bob"),
        ],
    );
    // Windows still open at the end (joe, bob from 100: one event each) do not qualify.
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 3.0, 0, 30)]);
}

#[test]
fn lt_fires_for_small_groups_at_window_end_and_finish() {
    let c = compile(&[&COUNT3.replace("{gte: 3}", "{lt: 2}")]);
    let o = |t, u: &str| obs(&c, "failed_login", t, json!({"User": u}));
    let mut k = crate::correlation::Correlator::new(&c);
    let mut out = Vec::new();
    k.push(o(0, "bob"), &mut out);
    k.push(o(5, "eve"), &mut out);
    k.push(o(6, "eve"), &mut out);
    assert!(out.is_empty(), "nothing is decided before the window ends");
    k.push(o(70, "joe"), &mut out);
    assert_eq!(summary(&out), vec![(vec![s("bob")], 1.0, 0, 0)]);
    k.finish(&mut out);
    assert_eq!(summary(&out)[1], (vec![s("joe")], 1.0, 70, 70));
    assert_eq!(out.len(), 2);
}

#[test]
fn eq_and_neq() {
    let c = compile(&[&COUNT3.replace("{gte: 3}", "{eq: 2}")]);
    let o = |t, u: &str| obs(&c, "failed_login", t, json!({"User": u}));
    let (hits, _) = run(
        &c,
        vec![
            o(0, "a"),
            o(1, "a"),
            o(2, "b"),
            o(3, "c"),
            o(4, "c"),
            o(5, "c"),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("a")], 2.0, 0, 1)]);
    let c = compile(&[&COUNT3.replace("{gte: 3}", "{neq: 2}")]);
    let o = |t, u: &str| obs(&c, "failed_login", t, json!({"User": u}));
    let (hits, _) = run(
        &c,
        vec![
            o(0, "a"),
            o(1, "a"),
            o(2, "b"),
            o(3, "c"),
            o(4, "c"),
            o(5, "c"),
        ],
    );
    let groups: Vec<_> = summary(&hits).into_iter().map(|h| h.0[0].clone()).collect();
    assert_eq!(groups, vec![s("b"), s("c")]);
}

#[test]
fn without_group_by_the_stream_is_one_group() {
    let c = compile(&[r#"
title: global
correlation:
    type: event_count
    rules: [failed_login, successful_login]
    timespan: 10s
    condition: {gte: 3}
"#]);
    let (hits, _) = run(
        &c,
        vec![
            obs(&c, "failed_login", 0, json!({"User": "a"})),
            obs(&c, "successful_login", 1, json!({})),
            obs(&c, "failed_login", 2, json!({"User": "b"})),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![], 3.0, 0, 2)]);
}

const USERS3: &str = r#"
title: password spraying
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [IpAddress]
    timespan: 1m
    condition:
        field: TargetUserName
        gte: 3
"#;

#[test]
fn value_count_counts_distinct_values_in_sliding_window() {
    let c = compile(&[USERS3]);
    let o = |t, u: &str| {
        obs(
            &c,
            "failed_login",
            t,
            json!({"IpAddress": "10.0.0.1", "TargetUserName": u}),
        )
    };
    let (hits, st) = run(
        &c,
        vec![
            o(0, "a"),
            o(1, "a"),
            o(2, "b"),
            o(3, "b"),
            o(70, "c"), // a and b have expired (last seen at 1 and 3)
            o(71, "a"),
            o(72, "a"),
            o(73, "d"), // c, a, d
            obs(&c, "failed_login", 74, json!({"IpAddress": "10.0.0.1"})),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("10.0.0.1")], 3.0, 70, 73)]);
    assert_eq!(st.missing_value_field, 1);
}

#[test]
fn value_count_keeps_a_value_alive_by_its_latest_sighting() {
    let c = compile(&[USERS3]);
    let o = |t, u: &str| {
        obs(
            &c,
            "failed_login",
            t,
            json!({"IpAddress": "ip", "TargetUserName": u}),
        )
    };
    // "a" first seen at 0 but seen again at 50: still in the window at 100.
    let (hits, _) = run(&c, vec![o(0, "a"), o(50, "a"), o(90, "b"), o(100, "c")]);
    assert_eq!(summary(&hits), vec![(vec![s("ip")], 3.0, 50, 100)]);
}

#[test]
fn value_count_over_several_fields_counts_combinations() {
    let c = compile(&[&USERS3.replace(
        "field: TargetUserName",
        "field: [TargetUserName, Workstation]",
    )]);
    let o = |t, u: &str, w: &str| {
        obs(
            &c,
            "failed_login",
            t,
            json!({"IpAddress": "ip", "TargetUserName": u, "Workstation": w}),
        )
    };
    let (hits, _) = run(&c, vec![o(0, "a", "w1"), o(1, "a", "w2"), o(2, "a", "w1")]);
    assert!(hits.is_empty());
    let (hits, _) = run(&c, vec![o(0, "a", "w1"), o(1, "a", "w2"), o(2, "b", "w1")]);
    assert_eq!(hits.len(), 1);
}

#[test]
fn value_count_with_upper_bound_uses_fixed_windows() {
    let c = compile(&[&USERS3.replace("gte: 3", "lte: 1")]);
    let o = |t, ip: &str, u: &str| {
        obs(
            &c,
            "failed_login",
            t,
            json!({"IpAddress": ip, "TargetUserName": u}),
        )
    };
    let (hits, _) = run(
        &c,
        vec![
            o(0, "x", "a"),
            o(1, "x", "a"),
            o(2, "y", "a"),
            o(3, "y", "b"),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("x")], 1.0, 0, 1)]);
}

const RECON: &str = r#"
title: recon
correlation:
    type: temporal
    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]
    group-by: [ComputerName, User]
    timespan: 5m
"#;

#[test]
fn temporal_needs_every_rule_in_any_order_within_timespan() {
    let c = compile(&[RECON]);
    let o = |r: &str, t, u: &str| obs(&c, r, t, json!({"ComputerName": "pc1", "User": u}));
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_c", 0, "bob"),
            o("recon_cmd_a", 10, "bob"),
            o("recon_cmd_a", 11, "eve"),
            o("recon_cmd_b", 20, "eve"),
            o("recon_cmd_b", 30, "bob"),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("pc1"), s("bob")], 3.0, 0, 30)]);
    // Too far apart: c at 0 has expired when b arrives at 301.
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_c", 0, "bob"),
            o("recon_cmd_a", 10, "bob"),
            o("recon_cmd_b", 301, "bob"),
        ],
    );
    assert!(hits.is_empty());
    // A rule seen again refreshes its time.
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_c", 0, "bob"),
            o("recon_cmd_a", 10, "bob"),
            o("recon_cmd_c", 200, "bob"),
            o("recon_cmd_b", 301, "bob"),
        ],
    );
    assert_eq!(
        summary(&hits),
        vec![(vec![s("pc1"), s("bob")], 3.0, 10, 301)]
    );
}

#[test]
fn temporal_with_condition_counts_distinct_rules() {
    let c = compile(&[&format!("{RECON}    condition: {{gte: 2}}\n")]);
    let o = |r: &str, t| obs(&c, r, t, json!({"ComputerName": "pc1", "User": "bob"}));
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_a", 1),
            o("recon_cmd_c", 2),
        ],
    );
    // `first` is the earliest sighting still counted: rule a's latest.
    assert_eq!(summary(&hits), vec![(vec![s("pc1"), s("bob")], 2.0, 1, 2)]);
}

const ORDERED: &str = r#"
title: a then b then c
correlation:
    type: temporal_ordered
    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]
    group-by: [User]
    timespan: 1m
"#;

#[test]
fn temporal_ordered_requires_the_listed_order() {
    let c = compile(&[ORDERED]);
    let o = |r: &str, t| obs(&c, r, t, json!({"User": "bob"}));
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_b", 1),
            o("recon_cmd_c", 2),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 3.0, 0, 2)]);
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_b", 0),
            o("recon_cmd_a", 1),
            o("recon_cmd_c", 2),
        ],
    );
    assert!(hits.is_empty());
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_c", 1),
            o("recon_cmd_b", 2),
        ],
    );
    assert!(hits.is_empty());
    // Interleaved noise is fine; the latest-starting chain is kept.
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_b", 5),
            o("recon_cmd_a", 50),
            o("recon_cmd_b", 65),
            o("recon_cmd_c", 70), // chain from 0 expired; chain from 50 holds
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 3.0, 50, 70)]);
    // The whole sequence must fit in the timespan.
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_b", 30),
            o("recon_cmd_c", 61),
        ],
    );
    assert!(hits.is_empty());
}

#[test]
fn value_sum_fires_when_the_sum_crosses() {
    let c = compile(&[r#"
title: Possible Exfiltration to Website
correlation:
    type: value_sum
    rules: [website_access]
    group-by: [SourceIP, User]
    timespan: 1h
    condition:
        field: bytes_sent
        gt: 1000000
"#]);
    let o = |t, b: serde_json::Value| {
        obs(
            &c,
            "website_access",
            t,
            json!({"SourceIP": "10.1.1.1", "User": "bob", "bytes_sent": b}),
        )
    };
    let (hits, st) = run(
        &c,
        vec![
            o(0, json!(400_000)),
            o(10, json!("500000")),
            o(20, json!("lots")),
            o(30, json!(100_000)),
            o(40, json!(1)),
        ],
    );
    assert_eq!(
        summary(&hits),
        vec![(vec![s("10.1.1.1"), s("bob")], 1_000_001.0, 0, 40)]
    );
    assert_eq!(st.non_numeric_value, 1);
    // Old bytes leave the window.
    let (hits, _) = run(&c, vec![o(0, json!(900_000)), o(3601, json!(200_000))]);
    assert!(hits.is_empty());
}

#[test]
fn value_avg_is_decided_over_the_whole_window() {
    let c = compile(&[r#"
title: Suspicious average network traffic
correlation:
    type: value_avg
    rules: [website_access]
    group-by: [SourceIP]
    timespan: 24h
    condition:
        field: BytesOut
        gt: 500
"#]);
    let o = |t, ip: &str, b: f64| {
        obs(
            &c,
            "website_access",
            t,
            json!({"SourceIP": ip, "BytesOut": b}),
        )
    };
    // A first large value alone must not fire: the window's average is what counts.
    let (hits, _) = run(
        &c,
        vec![
            o(0, "a", 2000.0),
            o(10, "a", 10.0),
            o(20, "a", 10.0),
            o(30, "a", 10.0),
            o(35, "a", 10.0),
            o(40, "b", 600.0),
            o(50, "b", 500.0),
        ],
    );
    assert_eq!(summary(&hits), vec![(vec![s("b")], 550.0, 40, 50)]);
}

#[test]
fn value_percentile_finds_rare_values() {
    let c = compile(&[r#"
title: rare process per computer
correlation:
    type: value_percentile
    rules: [process_creation]
    group-by: [ComputerName]
    timespan: 24h
    condition:
        field: Image
        lte: 5
"#]);
    let mut v = Vec::new();
    for i in 0..40 {
        v.push(obs(
            &c,
            "process_creation",
            i,
            json!({"ComputerName": "pc1", "Image": "svchost.exe"}),
        ));
    }
    v.push(obs(
        &c,
        "process_creation",
        100,
        json!({"ComputerName": "pc1", "Image": "mimikatz.exe"}),
    ));
    for i in 0..10 {
        v.push(obs(
            &c,
            "process_creation",
            200 + i,
            json!({"ComputerName": "pc2", "Image": "cmd.exe"}),
        ));
    }
    let (hits, _) = run(&c, v);
    assert_eq!(summary(&hits).len(), 1);
    let h = &hits[0];
    assert_eq!(
        h.group,
        vec![
            (s("ComputerName"), json!("pc1")),
            (s("Image"), json!("mimikatz.exe"))
        ]
    );
    assert!((h.value - 100.0 / 41.0).abs() < 1e-9);
    assert_eq!(h.events, vec![(std::sync::Arc::from("test.jsonl"), 100)]);
}

#[test]
fn aliases_join_different_fields_across_rules() {
    // The specification's alias example: an internal error then a connection between the
    // same two addresses, seen from opposite sides.
    let c = compile(&[r#"
title: alias example
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
"#]);
    let err = |t, src: &str, dst: &str| {
        obs(
            &c,
            "internal_error",
            t,
            json!({"source": {"ip": src}, "destination": {"ip": dst}}),
        )
    };
    let conn = |t, src: &str, dst: &str| {
        obs(
            &c,
            "new_network_connection",
            t,
            json!({"source": {"ip": src}, "destination": {"ip": dst}}),
        )
    };
    let (hits, _) = run(
        &c,
        vec![
            err(0, "1.2.3.4", "10.0.0.5"),
            conn(3, "10.0.0.5", "1.2.3.4"),
        ],
    );
    assert_eq!(
        hits[0].group,
        vec![
            (s("internal_ip"), json!("10.0.0.5")),
            (s("remote_ip"), json!("1.2.3.4"))
        ]
    );
    assert_eq!(hits.len(), 1);
    // Same direction in both events: the addresses do not line up.
    let (hits, _) = run(
        &c,
        vec![
            err(0, "1.2.3.4", "10.0.0.5"),
            conn(3, "1.2.3.4", "10.0.0.5"),
        ],
    );
    assert!(hits.is_empty());
}

#[test]
fn caps_bound_memory_and_count_what_they_drop() {
    let c = compile(&[r#"
title: sum
correlation:
    type: value_sum
    rules: [website_access]
    group-by: [User]
    timespan: 1h
    condition: {field: n, gte: 100}
"#]);
    let limits = Limits {
        max_groups: 4,
        max_entries: 3,
        max_evidence: 2,
        ..Limits::default()
    };
    let o = |t, u: String, n: i64| obs(&c, "website_access", t, json!({"User": u, "n": n}));
    // One user, 5 entries of 30: the cap keeps 3 (90), so no hit; 2 evicted.
    let (hits, st) = run_with(&c, limits, (0..5).map(|i| o(i, s("u"), 30)).collect());
    assert!(hits.is_empty());
    assert_eq!(st.evicted, 2);
    // Ten users at once: groups beyond 4 push out the least recently active.
    let (hits, st) = run_with(
        &c,
        limits,
        (0..10).map(|i| o(i, format!("u{i}"), 1)).collect(),
    );
    assert!(hits.is_empty());
    assert!(st.evicted_groups >= 6, "{st:?}");
    assert!(st.peak_groups <= 4, "{st:?}");
    // Evidence is capped per hit.
    let (hits, _) = run_with(&c, limits, (0..3).map(|i| o(i, s("v"), 40)).collect());
    assert_eq!(hits[0].events.len(), 2);
}

#[test]
fn expired_groups_are_swept_without_eviction() {
    let c = compile(&[COUNT3]);
    let limits = Limits {
        max_groups: 8,
        ..Limits::default()
    };
    // 1000 users, one event each, 10s apart: at most ~7 are live in any minute.
    let obs: Vec<_> = (0..1000)
        .map(|i| obs(&c, "failed_login", i * 10, json!({"User": format!("u{i}")})))
        .collect();
    let (hits, st) = run_with(&c, limits, obs);
    assert!(hits.is_empty());
    assert_eq!(st.evicted_groups, 0, "{st:?}");
    assert!(st.peak_groups <= 8, "{st:?}");
}

#[test]
fn out_of_order_observations_are_counted_and_clamped() {
    let c = compile(&[COUNT3]);
    let u = |t| obs(&c, "failed_login", t, json!({"User": "bob"}));
    let (hits, st) = run(&c, vec![u(100), u(10), u(101)]);
    assert_eq!(st.out_of_order, 1);
    assert_eq!(summary(&hits), vec![(vec![s("bob")], 3.0, 100, 101)]);
}

#[test]
fn observe_reads_aliased_fields_and_needs_a_timestamp() {
    use crate::{Match, RuleId};
    use vigie_event::Event;
    let c = compile(&[RECON]);
    let m = Match {
        rule: super::rule("recon_cmd_a"),
        fields: Vec::new(),
    };
    let ev = Event::new("f".into(), 1, json!({"ComputerName": "pc1", "User": "bob"}));
    assert!(c.observe(&m, &ev).is_none(), "no timestamp");
    let other = Match {
        rule: RuleId(999),
        fields: Vec::new(),
    };
    let ev = Event::new("f".into(), 1, json!({"ts": 1_700_000_000, "User": "bob"}));
    assert!(c.observe(&other, &ev).is_none(), "rule feeds nothing");
    assert!(!c.feeds(RuleId(999)));
    assert!(c.feeds(super::rule("recon_cmd_a")));
    // EVTX-shaped event: fields found by their short names.
    let ev = Event::new(
        "sec.evtx".into(),
        42,
        json!({"Event": {"System": {"Computer": "pc9", "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}},
                "EventData": {"User": "alice"}}}),
    );
    let c2 = compile(&[&RECON.replace("ComputerName", "Computer")]);
    let o = c2.observe(&m, &ev).expect("observed");
    assert_eq!(o.record, 42);
    assert_eq!(&*o.source, "sec.evtx");
    let mut got: Vec<_> = o.values.iter().flatten().cloned().collect();
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, vec![json!("alice"), json!("pc9")]);
}

#[test]
fn evidence_lists_contributing_events() {
    let c = compile(&[COUNT3]);
    let (hits, _) = run(
        &c,
        vec![
            obs_rec(&c, "failed_login", 0, 7, json!({"User": "bob"})),
            obs_rec(&c, "failed_login", 1, 8, json!({"User": "eve"})),
            obs_rec(&c, "failed_login", 2, 9, json!({"User": "bob"})),
            obs_rec(&c, "failed_login", 3, 11, json!({"User": "bob"})),
        ],
    );
    let recs: Vec<u64> = hits[0].events.iter().map(|e| e.1).collect();
    assert_eq!(recs, vec![7, 9, 11]);
}

#[test]
fn total_entry_budget_drops_least_recent_groups() {
    let c = compile(&[r#"
title: sum
correlation:
    type: value_sum
    rules: [website_access]
    group-by: [User]
    timespan: 1h
    condition: {field: n, gte: 1000000}
"#]);
    let limits = Limits {
        max_entries_total: 20,
        ..Limits::default()
    };
    // 10 users × 5 entries each, interleaved: 50 entries wanted, 20 allowed.
    let mut v = Vec::new();
    for round in 0..5 {
        for u in 0..10 {
            v.push(obs(
                &c,
                "website_access",
                round * 10 + u,
                json!({"User": format!("u{u}"), "n": 1}),
            ));
        }
    }
    let (hits, st) = run_with(&c, limits, v);
    assert!(hits.is_empty());
    assert!(st.evicted_groups > 0, "{st:?}");
    assert!(st.peak_entries <= 21, "{st:?}");
    assert_eq!(st.evicted, 0);
}

/// Throughput of the correlator alone (run with `--release -- --ignored --nocapture`):
/// three correlations on one rule (sliding count, sliding distinct count, fixed-window
/// average), 1M observations over ~28 h, 500 users, 2 000 source addresses.
#[test]
#[ignore]
fn throughput() {
    let avg = r#"
title: avg
correlation:
    type: value_avg
    rules: [failed_login]
    group-by: [IpAddress]
    timespan: 10m
    condition: {field: n, gt: 50}
"#;
    let c = compile(&[
        COUNT3.replace("gte: 3", "gte: 50").as_str(),
        USERS3.replace("gte: 3", "gte: 20").as_str(),
        avg,
    ]);
    let n: i64 = 1_000_000;
    let v: Vec<_> = (0..n)
        .map(|i| {
            obs(
                &c,
                "failed_login",
                i / 10,
                json!({"User": format!("u{}", i % 500), "IpAddress": format!("10.0.{}.{}", i % 8, i % 250),
                       "TargetUserName": format!("t{}", i % 37), "n": i % 101}),
            )
        })
        .collect();
    let t = std::time::Instant::now();
    let (hits, st) = run(&c, v);
    let dt = t.elapsed();
    eprintln!(
        "{n} observations × 3 correlations in {dt:?} ({:.0} obs/s), {} hits, {st:?}",
        n as f64 / dt.as_secs_f64(),
        hits.len(),
    );
    assert!(!hits.is_empty());
}

#[test]
fn every_fixed_window_is_either_decided_or_counted_as_evicted() {
    let c = compile(&[&COUNT3.replace("{gte: 3}", "{lt: 2}")]);
    let limits = Limits {
        max_groups: 8,
        ..Limits::default()
    };
    // 3000 users inside one minute: far more open windows than the cap.
    let v: Vec<_> = (0..3000)
        .map(|i| {
            obs(
                &c,
                "failed_login",
                i / 100,
                json!({"User": format!("u{i}")}),
            )
        })
        .collect();
    let (hits, st) = run_with(&c, limits, v);
    assert!(st.evicted_groups > 0);
    assert_eq!(hits.len() as u64 + st.evicted_groups, 3000, "{st:?}");
    assert!(st.peak_groups <= 8);
    // Hits come out in window-end order.
    assert!(hits.windows(2).all(|w| w[0].last <= w[1].last));
}

#[test]
fn one_event_matching_consecutive_ordered_rules_advances_both() {
    let c = compile(&[ORDERED]);
    let o = |r: &str, t| obs(&c, r, t, json!({"User": "bob"}));
    // The same event (t=5) arrives once per matching rule, in rule order.
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_a", 0),
            o("recon_cmd_b", 5),
            o("recon_cmd_c", 5),
        ],
    );
    assert_eq!(hits.len(), 1);
    let (hits, _) = run(
        &c,
        vec![
            o("recon_cmd_c", 5),
            o("recon_cmd_b", 5),
            o("recon_cmd_a", 5),
        ],
    );
    assert!(
        hits.is_empty(),
        "arrival order decides between equal timestamps"
    );
}
