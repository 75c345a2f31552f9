//! Helpers: detections from event documents as the session would report them.

use std::sync::Arc;

use serde_json::Value;
use vigie_event::Event;
use vigie_hunt::Detection;
use vigie_incident::{Entity, EntityKind, EntityMapping, Role};
use vigie_sigma::{Match, RuleId};

/// A detection of `event` with its context captured for `mapping`, as a session with
/// `capture: Some(mapping.capture())` reports it.
pub fn detection_of(ev: &Event, mapping: &EntityMapping) -> Detection {
    let mut d = Detection::from_match(
        Match {
            rule: RuleId(0),
            fields: Vec::new(),
        },
        ev,
    );
    d.context = mapping.capture().collect(ev, &mut String::new());
    d
}

/// A detection of the JSON document `doc` (shape detected as the readers do).
pub fn detection(doc: Value, mapping: &EntityMapping) -> Detection {
    detection_of(&Event::new(Arc::from("test.json"), 1, doc), mapping)
}

/// An entity as a comparable tuple: kind, role, value, weak.
pub type Tuple = (EntityKind, Role, String, bool);

/// Entities as comparable tuples.
pub fn tuples(es: &[Entity]) -> Vec<Tuple> {
    es.iter()
        .map(|e| (e.kind, e.role, e.value.clone(), e.weak))
        .collect()
}

/// Expected entity, strong.
pub fn e(kind: EntityKind, role: Role, value: &str) -> Tuple {
    (kind, role, value.to_string(), false)
}

/// Expected entity, weak (a bare account name).
pub fn weak(kind: EntityKind, role: Role, value: &str) -> Tuple {
    (kind, role, value.to_string(), true)
}

/// An EVTX-shaped JSON document (`Event.System` / `Event.EventData`).
pub fn evtx(channel: &str, id: u32, computer: &str, data: Value) -> Value {
    serde_json::json!({"Event": {
        "System": {
            "EventID": id,
            "Channel": channel,
            "Computer": computer,
            "TimeCreated": {"#attributes": {"SystemTime": "2026-07-25T06:01:00Z"}},
        },
        "EventData": data,
    }})
}
