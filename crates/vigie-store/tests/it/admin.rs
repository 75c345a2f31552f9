//! Tokens, the audit log, retention.

use chrono::{Duration, Utc};
use serde_json::json;
use vigie_store::*;

use crate::support::*;

pub fn tokens(b: &Backend) {
    let s = &b.store;
    let tok = |name: &str, role: &str| TokenRow {
        name: name.into(),
        role: role.into(),
        hash: format!("{:0>64}", name.len().to_string() + name),
        created_at: t(5),
    };
    assert!(s.tokens().unwrap().is_empty());
    s.add_token(&tok("zed", "viewer")).unwrap();
    s.add_token(&tok("ann", "admin")).unwrap();
    assert!(
        matches!(s.add_token(&tok("ann", "viewer")), Err(StoreError::TokenExists(n)) if n == "ann")
    );
    let got = s.tokens().unwrap();
    assert_eq!(got, vec![tok("ann", "admin"), tok("zed", "viewer")]);
}

pub fn audit(b: &Backend) {
    let s = &b.store;
    for i in 0..12 {
        s.record_audit(&AuditEntry {
            at: t(i),
            actor: format!("actor{i}"),
            action: "token.add".into(),
            target: format!("tok{i}"),
            detail: json!({"i": i}),
        })
        .unwrap();
    }
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = s.audit(5, after.as_deref()).unwrap();
        seen.extend(page.items.iter().map(|e| e.detail["i"].as_i64().unwrap()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    // Newest first, each once.
    assert_eq!(seen, (0..12).rev().collect::<Vec<_>>());
    assert!(matches!(
        s.audit(5, Some("a7")),
        Err(StoreError::BadCursor(_))
    ));
    let first = &s.audit(1, None).unwrap().items[0];
    assert_eq!((first.actor.as_str(), first.at), ("actor11", t(11)));
}

pub fn retention(b: &Backend) {
    let s = &b.store;
    let now = Utc::now();
    let old = now - Duration::days(40);
    // Old events: one plain key, one evidence of a detection, one feeding a correlation.
    let mut plain = event("old-plain", false);
    plain.received_at = old;
    let mut evidence = event("old-evidence", true);
    evidence.received_at = old;
    let mut feeding = event("old-feeding", true);
    feeding.received_at = old;
    feeding.feeds_correlation = true;
    let d_old = detection("rule-a", "old-evidence", "high", 0, &[]);
    s.commit(&CommitBatch {
        events: vec![plain, evidence, feeding, event("new-plain", false)],
        detections: vec![d_old.clone()],
        incidents: vec![incident("inc-old", &[&d_old])],
        ..Default::default()
    })
    .unwrap();
    detected(s, "e-live", "rule-b", Some("inc-live"));
    let close = IncidentChange {
        state: Some(IncidentState::Closed),
        ..Default::default()
    };
    s.change_incident("inc-old", &close, "alice", old).unwrap();
    s.change_incident("inc-live", &close, "alice", now).unwrap();
    s.record_audit(&AuditEntry {
        at: old,
        actor: "x".into(),
        action: "reload".into(),
        target: "rules".into(),
        detail: json!({}),
    })
    .unwrap();

    // Keeping everything forever deletes nothing.
    let never = Retention {
        events_days: 0,
        closed_incidents_days: 0,
        audit_days: 0,
    };
    assert!(s.sweep(&never, now).unwrap().is_empty());

    let policy = Retention {
        events_days: 30,
        closed_incidents_days: 30,
        audit_days: 30,
    };
    let deleted = s.sweep(&policy, now).unwrap();
    let n = |t: &str| {
        deleted
            .iter()
            .find(|(k, _)| k == t)
            .map(|(_, n)| *n)
            .unwrap()
    };
    // The old closed incident and its detection; then its evidence, now free, and the
    // old plain key; the event feeding a correlation stays; the old audit entries go
    // (the sweep's own entry is new).
    assert_eq!((n("incidents"), n("detections")), (1, 1));
    assert_eq!(n("events"), 2);
    assert!(n("audit") >= 1);
    let keys = [
        "old-plain",
        "old-evidence",
        "old-feeding",
        "new-plain",
        "e-live",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        s.known_events(&keys).unwrap(),
        vec![false, false, true, true, true]
    );
    assert_eq!(s.incident("inc-old").unwrap(), None);
    assert!(s.history("inc-old").unwrap().is_empty());
    assert!(s.incident("inc-live").unwrap().is_some());
    let audit = s.audit(100, None).unwrap().items;
    assert!(audit.iter().all(|a| a.at > old));
    assert_eq!(audit[0].action, "retention");
    assert_eq!(audit[0].detail["events"], 2);
    check_totals(s);
    // A second sweep finds nothing more.
    assert!(s.sweep(&policy, now).unwrap().iter().all(|(_, n)| *n == 0));
}
