//! Incident lifecycle, history, verdicts and the false-positive rate, merges, decisions.

use chrono::Utc;
use serde_json::json;
use vigie_store::*;

use crate::support::*;

fn change(state: Option<IncidentState>, verdict: Option<Verdict>) -> IncidentChange {
    IncidentChange {
        state,
        verdict,
        ..Default::default()
    }
}

fn actions(s: &Store, id: &str) -> Vec<(String, String)> {
    s.history(id)
        .unwrap()
        .into_iter()
        .map(|h| (h.actor, h.action))
        .collect()
}

pub fn lifecycle(b: &Backend) {
    let s = &b.store;
    detected(s, "e1", "rule-a", Some("inc-1"));
    let row = s.incident("inc-1").unwrap().unwrap();
    assert_eq!(
        (row.state, row.version, row.detection_count),
        (IncidentState::Open, 1, 1)
    );
    assert_eq!(row.severity, "high");
    assert_eq!(row.compromised, vec!["dc01".to_string()]);
    assert_eq!(row.document, json!({"id": "inc-1"}));

    let at = t(1000);
    let assign = IncidentChange {
        assignee: Some("bob".into()),
        comment: Some("looking".into()),
        ..Default::default()
    };
    let row = s.change_incident("inc-1", &assign, "alice", at).unwrap();
    assert_eq!((row.assignee.as_deref(), row.version), (Some("bob"), 2));
    assert_eq!(row.updated_at, at);
    let row = s
        .change_incident(
            "inc-1",
            &change(Some(IncidentState::Acknowledged), None),
            "alice",
            at,
        )
        .unwrap();
    assert_eq!((row.state, row.version), (IncidentState::Acknowledged, 3));
    let close = change(Some(IncidentState::Closed), Some(Verdict::TruePositive));
    let row = s.change_incident("inc-1", &close, "carol", at).unwrap();
    assert_eq!(
        (row.state, row.verdict),
        (IncidentState::Closed, Some(Verdict::TruePositive))
    );
    // A comment alone.
    let note = IncidentChange {
        comment: Some("done".into()),
        ..Default::default()
    };
    let row = s.change_incident("inc-1", &note, "carol", at).unwrap();
    assert_eq!(row.version, 5);
    // Unassign.
    let unassign = IncidentChange {
        assignee: Some(String::new()),
        ..Default::default()
    };
    assert_eq!(
        s.change_incident("inc-1", &unassign, "carol", at)
            .unwrap()
            .assignee,
        None
    );
    // An empty change changes nothing.
    let same = s
        .change_incident("inc-1", &IncidentChange::default(), "carol", at)
        .unwrap();
    assert_eq!(same.version, 6);

    // New detections reopen a closed incident.
    let d2 = detection("rule-a", "e2", "critical", 5, &["dc01"]);
    let out = s
        .commit(&CommitBatch {
            events: vec![event("e2", true)],
            detections: vec![d2.clone()],
            incidents: vec![incident("inc-1", &[&d2])],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.incidents_updated, vec!["inc-1".to_string()]);
    let row = s.incident("inc-1").unwrap().unwrap();
    assert_eq!(
        (row.state, row.verdict, row.detection_count),
        (IncidentState::Open, None, 2)
    );
    assert_eq!(row.version, 7);

    let h = actions(s, "inc-1");
    let want: Vec<(String, String)> = [
        ("vigie", "opened"),
        ("alice", "assigned"),
        ("alice", "acknowledged"),
        ("carol", "closed"),
        ("carol", "commented"),
        ("carol", "assigned"),
        ("vigie", "reopened"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(h, want);
    let full = s.history("inc-1").unwrap();
    assert_eq!(full[1].comment.as_deref(), Some("looking"));
    assert_eq!(full[1].at, at);
    assert_eq!(full[3].detail["verdict"], "true_positive");
    // Every person's change is audited with its actor.
    let audit = s.audit(100, None).unwrap().items;
    let changes: Vec<&str> = audit
        .iter()
        .filter(|a| a.action == "incident.change" && a.target == "inc-1")
        .map(|a| a.actor.as_str())
        .collect();
    assert_eq!(changes, ["carol", "carol", "carol", "alice", "alice"]);
    // Reopened by hand after closing again.
    s.change_incident(
        "inc-1",
        &change(Some(IncidentState::Closed), None),
        "carol",
        at,
    )
    .unwrap();
    let row = s
        .change_incident(
            "inc-1",
            &change(Some(IncidentState::Open), None),
            "carol",
            at,
        )
        .unwrap();
    assert_eq!(row.state, IncidentState::Open);
    assert_eq!(actions(s, "inc-1").last().unwrap().1, "reopened");
    // A detection already naming its (closed) incident reopens it too.
    s.change_incident(
        "inc-1",
        &change(Some(IncidentState::Closed), None),
        "carol",
        at,
    )
    .unwrap();
    let mut d3 = detection("rule-a", "e3", "high", 9, &["dc01"]);
    d3.incident_id = Some("inc-1".into());
    s.commit(&CommitBatch {
        events: vec![event("e3", true)],
        detections: vec![d3.clone()],
        incidents: vec![incident("inc-1", &[&d3])],
        ..Default::default()
    })
    .unwrap();
    let row = s.incident("inc-1").unwrap().unwrap();
    assert_eq!((row.state, row.detection_count), (IncidentState::Open, 3));
    assert_eq!(actions(s, "inc-1").last().unwrap().1, "reopened");
}

pub fn invalid_changes(b: &Backend) {
    let s = &b.store;
    detected(s, "e1", "rule-a", Some("inc-1"));
    let at = Utc::now();
    let err = s.change_incident("inc-none", &IncidentChange::default(), "a", at);
    assert!(matches!(err, Err(StoreError::IncidentNotFound(_))));
    // A verdict on an open incident.
    let err = s.change_incident(
        "inc-1",
        &change(None, Some(Verdict::FalsePositive)),
        "a",
        at,
    );
    assert!(
        matches!(err, Err(StoreError::InvalidChange { .. })),
        "{err:?}"
    );
    let err = s.change_incident(
        "inc-1",
        &change(
            Some(IncidentState::Acknowledged),
            Some(Verdict::TruePositive),
        ),
        "a",
        at,
    );
    assert!(matches!(err, Err(StoreError::InvalidChange { .. })));
    // Merged by hand.
    let err = s.change_incident("inc-1", &change(Some(IncidentState::Merged), None), "a", at);
    assert!(matches!(err, Err(StoreError::InvalidChange { .. })));
    // Closed → acknowledged needs a reopening first.
    s.change_incident("inc-1", &change(Some(IncidentState::Closed), None), "a", at)
        .unwrap();
    let err = s.change_incident(
        "inc-1",
        &change(Some(IncidentState::Acknowledged), None),
        "a",
        at,
    );
    assert!(matches!(err, Err(StoreError::InvalidChange { .. })));
    // A verdict on an incident already closed is allowed.
    let row = s
        .change_incident(
            "inc-1",
            &change(None, Some(Verdict::FalsePositive)),
            "a",
            at,
        )
        .unwrap();
    assert_eq!(row.verdict, Some(Verdict::FalsePositive));
    // Failed changes wrote nothing: opened + closed + the verdict.
    assert_eq!(s.history("inc-1").unwrap().len(), 3);
    assert_eq!(s.incident("inc-1").unwrap().unwrap().version, 3);
}

pub fn verdicts_fp_rate(b: &Backend) {
    let s = &b.store;
    let at = Utc::now();
    // rule-a: 3 incidents (2 false positives, 1 true); rule-b: 1 true positive shared
    // with rule-a's; rule-c: detections but no verdict; one open incident not counted.
    let verdicts = [
        ("inc-1", Some(Verdict::FalsePositive)),
        ("inc-2", Some(Verdict::FalsePositive)),
        ("inc-3", Some(Verdict::TruePositive)),
        ("inc-4", None),
    ];
    for (n, (id, v)) in verdicts.iter().enumerate() {
        let da = detection("rule-a", &format!("a{n}"), "high", 0, &[]);
        let da2 = detection("rule-a", &format!("a{n}bis"), "high", 0, &[]);
        let mut dets = vec![da, da2];
        if *id == "inc-3" {
            dets.push(detection("rule-b", "b3", "high", 0, &[]));
        }
        let events = dets
            .iter()
            .map(|d| event(d.event_key.as_deref().unwrap(), true))
            .collect();
        let refs: Vec<&NewDetection> = dets.iter().collect();
        s.commit(&CommitBatch {
            events,
            incidents: vec![incident(id, &refs)],
            detections: dets.clone(),
            ..Default::default()
        })
        .unwrap();
        if v.is_some() {
            s.change_incident(id, &change(Some(IncidentState::Closed), *v), "alice", at)
                .unwrap();
        }
    }
    detected(s, "c1", "rule-c", None);
    let stats = s.rule_stats().unwrap();
    let get = |r: &str| stats.iter().find(|s| s.rule_id == r).cloned().unwrap();
    let a = get("rule-a");
    assert_eq!((a.detections, a.true_positive, a.false_positive), (8, 1, 2));
    assert!((a.false_positive_rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let bstat = get("rule-b");
    assert_eq!(
        (bstat.detections, bstat.true_positive, bstat.false_positive),
        (1, 1, 0)
    );
    assert_eq!(bstat.false_positive_rate, Some(0.0));
    let c = get("rule-c");
    assert_eq!((c.detections, c.false_positive_rate), (1, None));
    assert_eq!(stats.len(), 3);
    // A reopened incident's verdict no longer counts.
    s.change_incident(
        "inc-1",
        &change(Some(IncidentState::Open), None),
        "alice",
        at,
    )
    .unwrap();
    let a = s
        .rule_stats()
        .unwrap()
        .into_iter()
        .find(|s| s.rule_id == "rule-a")
        .unwrap();
    assert_eq!((a.true_positive, a.false_positive), (1, 1));
}

pub fn merge(b: &Backend) {
    let s = &b.store;
    let d1 = detected(s, "e1", "rule-a", Some("inc-1"));
    let d2 = detected(s, "e2", "rule-b", Some("inc-2"));
    let d3 = detection("rule-c", "e3", "high", 0, &[]);
    let mut up = incident("inc-1", &[&d1, &d2, &d3]);
    up.merged_from = vec!["inc-2".into()];
    let out = s
        .commit(&CommitBatch {
            events: vec![event("e3", true)],
            detections: vec![d3],
            incidents: vec![up],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.incidents_updated, vec!["inc-1".to_string()]);
    let merged = s.incident("inc-2").unwrap().unwrap();
    assert_eq!(merged.state, IncidentState::Merged);
    assert_eq!(merged.merged_into.as_deref(), Some("inc-1"));
    assert_eq!(merged.detection_count, 0);
    let into = s.incident("inc-1").unwrap().unwrap();
    assert_eq!(into.detection_count, 3);
    let inc1 = DetectionQuery {
        incident: Some("inc-1".into()),
        ..Default::default()
    };
    assert_eq!(s.detections(&inc1).unwrap().items.len(), 3);
    assert_eq!(actions(s, "inc-2").last().unwrap().1, "merged");
    let h = s.history("inc-1").unwrap();
    assert!(h
        .iter()
        .any(|e| e.action == "merged" && e.detail["from"] == "inc-2"));
    assert_eq!(s.counts().unwrap().incidents_open, 1);
    assert_eq!(s.counts().unwrap().incidents, 2);
    // A merged incident does not change by hand.
    let err = s.change_incident(
        "inc-2",
        &change(Some(IncidentState::Closed), None),
        "a",
        Utc::now(),
    );
    assert!(matches!(err, Err(StoreError::InvalidChange { .. })));
    // Its detections are live through the incident they moved to.
    assert_eq!(s.live_detections().unwrap().len(), 3);
}

pub fn decision(b: &Backend) {
    let s = &b.store;
    detected(s, "e1", "rule-a", Some("inc-1"));
    assert_eq!(s.incident("inc-1").unwrap().unwrap().decision, None);
    for (n, set) in [vec!["dc01"], vec!["dc01", "ws02"]].iter().enumerate() {
        s.save_decision(&DecisionRecord {
            incident_id: "inc-1".into(),
            compromised: set.iter().map(|a| a.to_string()).collect(),
            computed_at: t(n as i64),
            document: json!({"contain": {"n": n}}),
        })
        .unwrap();
    }
    let d = s.incident("inc-1").unwrap().unwrap().decision.unwrap();
    assert_eq!(d.compromised, vec!["dc01".to_string(), "ws02".to_string()]);
    assert_eq!(d.document["contain"]["n"], 1);
    assert_eq!(d.computed_at, t(1));
    assert_eq!(actions(s, "inc-1").last().unwrap().1, "decided");
    let err = s.save_decision(&DecisionRecord {
        incident_id: "inc-x".into(),
        compromised: vec![],
        computed_at: t(0),
        document: json!({}),
    });
    assert!(matches!(err, Err(StoreError::IncidentNotFound(_))));
}
