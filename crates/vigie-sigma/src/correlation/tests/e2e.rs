//! End to end through the crate's loader and matcher: the specification's complete
//! multi-document example, loaded from text, matched against small Windows events.

use std::sync::Arc;

use serde_json::json;
use vigie_event::Event;

use crate::{LoadOptions, RuleSet};

/// The "Failed Logins Followed by Successful Login" example of the correlation
/// specification, as one multi-document file.
const SPEC_EXAMPLE: &str = r#"
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
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
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
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
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"#;

fn security_event(record: u64, secs: u32, event_id: u32, user: &str) -> Event {
    let doc = json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
            "EventID": event_id,
            "Channel": "Security",
            "Computer": "dc1",
            "TimeCreated": {"#attributes": {"SystemTime": format!("2024-01-01T00:{:02}:{:02}Z", secs / 60, secs % 60)}}
        },
        "EventData": {"User": user}
    }});
    Event::new(Arc::from("security.evtx"), record, doc)
}

#[test]
fn spec_complete_example_through_loader_and_matcher() {
    let (rs, report) = RuleSet::load_str(
        "mr_failed_then_success.yml",
        SPEC_EXAMPLE,
        &LoadOptions::default(),
    );
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(report.correlation_rules, 2);
    let mut events: Vec<Event> = (0..10)
        .map(|i| security_event(i + 1, i as u32 * 20, 4625, "bob"))
        .collect();
    events.push(security_event(11, 230, 4624, "alice"));
    events.push(security_event(12, 240, 4624, "bob"));
    let mut matcher = rs.matcher();
    let mut correlator = rs.correlator();
    let mut matches = Vec::new();
    let mut hits = Vec::new();
    let mut reported_matches = 0;
    for ev in &events {
        matches.clear();
        matcher.scan(ev, &mut matches);
        for m in &matches {
            if rs.meta(m.rule).report {
                reported_matches += 1;
            }
            if let Some(o) = rs.observe(m, ev) {
                correlator.push(o, &mut hits);
            }
        }
    }
    correlator.finish(&mut hits);
    // generate is not set: the single failed/successful logins are not reported alone.
    assert_eq!(reported_matches, 0);
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = &hits[0];
    assert_eq!(
        rs.meta(h.rule).title,
        "Correlation - Multiple Failed Logins Followed by Successful Login"
    );
    assert_eq!(h.group, vec![("User".to_string(), json!("bob"))]);
    assert_eq!(h.first.to_rfc3339(), "2024-01-01T00:00:00+00:00");
    assert_eq!(h.last.to_rfc3339(), "2024-01-01T00:04:00+00:00");
    let records: Vec<u64> = h.events.iter().map(|e| e.1).collect();
    assert_eq!(records, (1..=10).chain([12]).collect::<Vec<u64>>());
    assert_eq!(correlator.stats().intermediate_hits, 1);
}
