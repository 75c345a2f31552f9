//! The backend under test and builders of batches.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use vigie_store::*;

pub struct Backend {
    pub spec: StoreSpec,
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temporary directory");
        let spec = StoreSpec::Sqlite(dir.path().join("data/vigie.db"));
        let store = Store::open(&spec).expect("open sqlite store");
        Backend {
            spec,
            store,
            _dir: Some(dir),
        }
    }

    pub fn postgres(url: String) -> Backend {
        let spec = StoreSpec::Postgres(url);
        let store = Store::open(&spec).expect("open postgres store");
        Backend {
            spec,
            store,
            _dir: None,
        }
    }
}

/// The running totals agree with the tables.
pub fn check_totals(s: &Store) {
    assert_eq!(
        s.counts().unwrap(),
        s.counts_exact().unwrap(),
        "running totals drifted"
    );
}

/// A fixed instant plus `s` seconds.
pub fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + s, 0)
        .single()
        .expect("valid time")
}

pub fn event(key: &str, document: bool) -> NewEvent {
    NewEvent {
        key: key.into(),
        input: "http".into(),
        source: "test.jsonl".into(),
        record: 1,
        time: Some(t(0)),
        received_at: Utc::now(),
        document: document.then(|| json!({"EventID": 4625, "key": key})),
        feeds_correlation: false,
    }
}

pub fn detection_id(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(key.as_bytes());
    format!(
        "det-{}",
        h[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

pub fn detection(
    rule: &str,
    event_key: &str,
    level: &str,
    time: i64,
    assets: &[&str],
) -> NewDetection {
    let key = format!("{rule}|{event_key}");
    NewDetection {
        id: detection_id(&key),
        key,
        rule_id: rule.into(),
        rule_title: format!("title of {rule}"),
        level: level.into(),
        time: Some(t(time)),
        event_key: Some(event_key.into()),
        assets: assets.iter().map(|a| a.to_string()).collect(),
        incident_id: None,
        document: json!({"rule": rule, "event": event_key}),
    }
}

pub fn incident(id: &str, detections: &[&NewDetection]) -> IncidentUpsert {
    IncidentUpsert {
        id: id.into(),
        first_seen: Some(t(0)),
        last_seen: Some(t(60)),
        severity: "high".into(),
        risk: 7.5,
        assets: vec!["dc01".into()],
        compromised: vec!["dc01".into()],
        detection_ids: detections.iter().map(|d| d.id.clone()).collect(),
        merged_from: vec![],
        document: json!({"id": id}),
    }
}

/// One event, its detection and (optionally) the incident holding it, in one batch.
pub fn detected(store: &Store, key: &str, rule: &str, incident_id: Option<&str>) -> NewDetection {
    let d = detection(rule, key, "high", 0, &["dc01"]);
    let batch = CommitBatch {
        events: vec![event(key, true)],
        detections: vec![d.clone()],
        incidents: incident_id
            .map(|i| incident(i, &[&d]))
            .into_iter()
            .collect(),
        ..Default::default()
    };
    store.commit(&batch).expect("commit");
    d
}
