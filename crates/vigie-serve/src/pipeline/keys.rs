//! Stable keys (see `vigie_store`'s module docs): what makes a replayed input a
//! duplicate instead of a second event, and a detection the same detection after a
//! restart.
//!
//! - event key: `rec:<Computer>/<Channel>/<EventRecordID>` when the event carries all
//!   three (EVTX-as-JSON `Event.System`, the same fields at the top of a flat event as
//!   `vigie hunt` and Sigma name them, or ECS `winlog.computer_name` / `channel` /
//!   `record_id`); else, for an input with stable positions (followed files, NATS),
//!   `pos:<source>:<record>`; else `sha256:<hex>` of the canonical JSON (object keys
//!   sorted, no spaces), so the same document posted twice is one event;
//! - detection key: `<rule key>|<event key>`; a correlation hit: `<rule key>|corr:<hex>`
//!   of its group-by values and first time;
//! - detection id: `det-` + 16 hex of the SHA-256 of its key.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The event key of a document from `source` at `record` (`stable_positions`: the
/// input's positions name the same event when read again).
pub fn event_key(doc: &Value, source: &str, record: u64, stable_positions: bool) -> String {
    if let Some((computer, channel, id)) = record_identity(doc) {
        return format!("rec:{computer}/{channel}/{id}");
    }
    if stable_positions {
        return format!("pos:{source}:{record}");
    }
    let mut canon = Vec::with_capacity(512);
    canonical_bytes(doc, &mut canon);
    format!("sha256:{}", hex(&Sha256::digest(&canon)))
}

/// (Computer, Channel, EventRecordID) when the document names all three.
fn record_identity(doc: &Value) -> Option<(String, String, String)> {
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    if let Some(sys) = doc.get("Event").and_then(|e| e.get("System")) {
        let id = text(sys.get("EventRecordID"));
        if let (Some(c), Some(ch), Some(id)) =
            (text(sys.get("Computer")), text(sys.get("Channel")), id)
        {
            return Some((c, ch, id));
        }
    }
    // A flat event (Sigma's field names at the top, as `hunt` flattens EVTX).
    if let (Some(c), Some(ch), Some(id)) = (
        text(doc.get("Computer")),
        text(doc.get("Channel")),
        text(doc.get("EventRecordID")),
    ) {
        return Some((c, ch, id));
    }
    let w = doc.get("winlog")?;
    let computer = text(w.get("computer_name"))
        .or_else(|| text(doc.get("host").and_then(|h| h.get("name"))))?;
    Some((computer, text(w.get("channel"))?, text(w.get("record_id"))?))
}

/// `<rule key>|<event key>`.
pub fn detection_key(rule_key: &str, event_key: &str) -> String {
    format!("{rule_key}|{event_key}")
}

/// `<rule key>|corr:<hex>` of a correlation hit's group-by values and first time.
pub fn correlation_key(
    rule_key: &str,
    group: &[(String, Value)],
    first: &chrono::DateTime<chrono::Utc>,
) -> String {
    let mut canon = String::new();
    for (k, v) in group {
        canonical(&Value::String(k.clone()), &mut canon);
        canon.push('=');
        canonical(v, &mut canon);
        canon.push('\u{1f}');
    }
    canon.push_str(&first.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    let h = Sha256::digest(canon.as_bytes());
    format!("{rule_key}|corr:{}", hex(&h[..16]))
}

/// `det-` + 16 hex of the SHA-256 of a detection key.
pub fn detection_id(key: &str) -> String {
    format!("det-{}", hex(&Sha256::digest(key.as_bytes())[..8]))
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(H[(x >> 4) as usize]));
        s.push(char::from(H[(x & 15) as usize]));
    }
    s
}

/// Canonical JSON: object members sorted by key, no whitespace, serde_json's escaping
/// and number forms.
pub fn canonical(v: &Value, out: &mut String) {
    let mut b = Vec::new();
    canonical_bytes(v, &mut b);
    // serde_json writes UTF-8 only.
    out.push_str(&String::from_utf8_lossy(&b));
}

/// [`canonical`] into bytes, written straight from the document (no copy of a key or
/// a value on the way: this runs for every event without a record identity).
fn canonical_bytes(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(k.as_str(), out);
                out.push(b':');
                canonical_bytes(v, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_bytes(v, out);
            }
            out.push(b']');
        }
        scalar => write_json(scalar, out),
    }
}

fn write_json<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    // Writing a string or a scalar `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_identity_first() {
        let d = json!({"Event": {"System": {"Computer": "dc-01", "Channel": "Security",
            "EventRecordID": 42}}});
        assert_eq!(event_key(&d, "http", 3, true), "rec:dc-01/Security/42");
        let ecs = json!({"winlog": {"computer_name": "h", "channel": "Security",
            "record_id": "7"}});
        assert_eq!(event_key(&ecs, "x", 1, false), "rec:h/Security/7");
        let flat = json!({"Computer": "ws-7", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventRecordID": 9, "EventID": 1});
        assert_eq!(
            event_key(&flat, "http", 1, false),
            "rec:ws-7/Microsoft-Windows-Sysmon/Operational/9"
        );
        let partial = json!({"Computer": "ws-7", "EventRecordID": 9});
        assert!(event_key(&partial, "http", 1, false).starts_with("sha256:"));
    }

    #[test]
    fn position_then_content() {
        let d = json!({"Event": {"System": {"Computer": "dc-01", "Channel": "Security"}}});
        assert_eq!(
            event_key(&d, "file:/v/x.log", 9, true),
            "pos:file:/v/x.log:9"
        );
        let a = event_key(
            &json!({"b": 1, "a": [1, {"y": 2, "x": "é"}]}),
            "http",
            1,
            false,
        );
        let b = event_key(
            &json!({"a": [1, {"x": "é", "y": 2}], "b": 1}),
            "http",
            2,
            false,
        );
        assert_eq!(a, b, "member order and position do not matter");
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
        let c = event_key(&json!({"b": 2}), "http", 1, false);
        assert_ne!(a, c);
    }

    #[test]
    fn canonical_form() {
        let mut s = String::new();
        canonical(&json!({"z": null, "a": {"c": true, "b": "q\""}}), &mut s);
        assert_eq!(s, r#"{"a":{"b":"q\"","c":true},"z":null}"#);
    }

    #[test]
    fn detection_keys_and_ids() {
        assert_eq!(detection_key("r1", "rec:h/S/1"), "r1|rec:h/S/1");
        let t = chrono::DateTime::from_timestamp(0, 0).expect("t");
        let k = correlation_key("c", &[("User".into(), json!("bob"))], &t);
        assert!(k.starts_with("c|corr:") && k.len() == 7 + 32, "{k}");
        assert_ne!(
            k,
            correlation_key("c", &[("User".into(), json!("eve"))], &t)
        );
        let id = detection_id(&k);
        assert!(id.starts_with("det-") && id.len() == 20);
        assert_eq!(id, detection_id(&k), "stable");
    }
}
