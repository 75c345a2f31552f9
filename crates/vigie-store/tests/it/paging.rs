//! Cursor paging with every filter.

use vigie_store::*;

use crate::support::*;

/// Every page of a detection query, following `next`.
fn all_pages(s: &Store, q: &DetectionQuery) -> (Vec<DetectionRow>, usize) {
    let mut q = q.clone();
    let mut rows = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.detections(&q).unwrap();
        pages += 1;
        assert!(page.items.len() <= q.limit as usize);
        rows.extend(page.items);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return (rows, pages),
        }
    }
}

pub fn detections(b: &Backend) {
    let s = &b.store;
    let levels = ["informational", "low", "medium", "high", "critical"];
    let mut all = Vec::new();
    for i in 0..25i64 {
        let key = format!("e{i}");
        let rule = format!("rule-{}", i % 3);
        let assets: Vec<&str> = if i % 4 == 0 {
            vec!["dc01", "ws02"]
        } else {
            vec!["ws02"]
        };
        let d = detection(&rule, &key, levels[(i % 5) as usize], i * 10, &assets);
        let incidents = if i % 5 == 0 {
            vec![incident("inc-five", &[&d])]
        } else {
            vec![]
        };
        s.commit(&CommitBatch {
            events: vec![event(&key, true)],
            detections: vec![d.clone()],
            incidents,
            ..Default::default()
        })
        .unwrap();
        all.push((i, d));
    }
    let ids = |rows: &[DetectionRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let expect = |f: &dyn Fn(i64, &NewDetection) -> bool| {
        all.iter()
            .filter(|(i, d)| f(*i, d))
            .map(|(_, d)| d.id.clone())
            .collect::<Vec<_>>()
    };

    // No filter, pages of 7: 4 pages in insertion order, the last without `next`.
    let q = DetectionQuery {
        limit: 7,
        ..Default::default()
    };
    let (rows, pages) = all_pages(s, &q);
    assert_eq!(pages, 4);
    assert_eq!(ids(&rows), expect(&|_, _| true));
    // An exact multiple: no empty trailing page.
    let (_, pages) = all_pages(
        s,
        &DetectionQuery {
            limit: 5,
            ..Default::default()
        },
    );
    assert_eq!(pages, 5);

    let cases: Vec<(DetectionQuery, Vec<String>)> = vec![
        (
            DetectionQuery {
                from: Some(t(50)),
                to: Some(t(120)),
                limit: 2,
                ..Default::default()
            },
            expect(&|i, _| (5..12).contains(&i)),
        ),
        (
            DetectionQuery {
                min_level: Some("high".into()),
                limit: 3,
                ..Default::default()
            },
            expect(&|i, _| i % 5 >= 3),
        ),
        (
            DetectionQuery {
                rule: Some("rule-1".into()),
                limit: 3,
                ..Default::default()
            },
            expect(&|i, _| i % 3 == 1),
        ),
        (
            DetectionQuery {
                asset: Some("dc01".into()),
                limit: 2,
                ..Default::default()
            },
            expect(&|i, _| i % 4 == 0),
        ),
        (
            DetectionQuery {
                incident: Some("inc-five".into()),
                limit: 2,
                ..Default::default()
            },
            expect(&|i, _| i % 5 == 0),
        ),
        (
            DetectionQuery {
                rule: Some("rule-0".into()),
                asset: Some("dc01".into()),
                min_level: Some("medium".into()),
                limit: 1,
                ..Default::default()
            },
            expect(&|i, _| i % 3 == 0 && i % 4 == 0 && i % 5 >= 2),
        ),
    ];
    for (q, want) in cases {
        let (rows, _) = all_pages(s, &q);
        assert_eq!(ids(&rows), want, "query {q:?}");
    }
    let inc = all_pages(
        s,
        &DetectionQuery {
            incident: Some("inc-five".into()),
            limit: 9,
            ..Default::default()
        },
    )
    .0;
    assert!(inc
        .iter()
        .all(|r| r.incident_id.as_deref() == Some("inc-five")));

    // Cursors this store did not make.
    for bad in ["", "x", "d1", "d1.00000000", "i1.deadbeef", "d-1.abcd"] {
        let q = DetectionQuery {
            after: Some(bad.into()),
            limit: 5,
            ..Default::default()
        };
        assert!(
            matches!(s.detections(&q), Err(StoreError::BadCursor(_))),
            "{bad}"
        );
    }
    // An incident cursor is not a detection cursor.
    let inc_page = s
        .incidents(&IncidentQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert!(inc_page.next.is_none());
    let q = DetectionQuery {
        min_level: Some("severe".into()),
        ..Default::default()
    };
    assert!(matches!(s.detections(&q), Err(StoreError::BadQuery(_))));
}

pub fn incidents(b: &Backend) {
    let s = &b.store;
    for i in 0..7 {
        detected(s, &format!("e{i}"), "rule-a", Some(&format!("inc-{i}")));
    }
    let now = chrono::Utc::now();
    let ack = IncidentChange {
        state: Some(IncidentState::Acknowledged),
        ..Default::default()
    };
    for i in [1, 4, 5] {
        s.change_incident(&format!("inc-{i}"), &ack, "alice", now)
            .unwrap();
    }
    let list = |state: Option<IncidentState>, limit: u32| {
        let mut q = IncidentQuery {
            state,
            limit,
            after: None,
        };
        let mut out = Vec::new();
        loop {
            let page = s.incidents(&q).unwrap();
            out.extend(page.items.into_iter().map(|r| r.id));
            match page.next {
                Some(n) => q.after = Some(n),
                None => return out,
            }
        }
    };
    // Newest first.
    assert_eq!(
        list(None, 3),
        ["inc-6", "inc-5", "inc-4", "inc-3", "inc-2", "inc-1", "inc-0"]
    );
    assert_eq!(
        list(Some(IncidentState::Acknowledged), 2),
        ["inc-5", "inc-4", "inc-1"]
    );
    assert_eq!(
        list(Some(IncidentState::Open), 10),
        ["inc-6", "inc-3", "inc-2", "inc-0"]
    );
    assert!(list(Some(IncidentState::Closed), 10).is_empty());
    let first = s
        .incidents(&IncidentQuery {
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    let next = first.next.unwrap();
    // A detection cursor is refused by the incident list and vice versa.
    let q = DetectionQuery {
        after: Some(next.clone()),
        ..Default::default()
    };
    assert!(matches!(s.detections(&q), Err(StoreError::BadCursor(_))));
    let bad = IncidentQuery {
        after: Some(format!("{next}0")),
        ..Default::default()
    };
    assert!(matches!(s.incidents(&bad), Err(StoreError::BadCursor(_))));
    assert_eq!(first.items[0].detection_count, 1);
    assert_eq!(first.items[0].state, IncidentState::Open);
}
