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

use crate::ingest::Document;

/// The event key of a document from `source` at `record` (`stable_positions`: the
/// input's positions name the same event when read again).
pub fn event_key(doc: &Document, source: &str, record: u64, stable_positions: bool) -> String {
    if let Some((computer, channel, id)) = record_identity(doc) {
        return format!("rec:{computer}/{channel}/{id}");
    }
    if stable_positions {
        return format!("pos:{source}:{record}");
    }
    let mut canon = Vec::with_capacity(512);
    match doc {
        Document::Tree(v) => canonical_bytes(v, &mut canon),
        // Written as `canonical_bytes` writes the same members as a map.
        Document::Flat(f) => canonical_object(f.iter(), &mut canon),
    }
    format!("sha256:{}", hex(&Sha256::digest(&canon)))
}

/// (Computer, Channel, EventRecordID) when the document names all three.
fn record_identity(doc: &Document) -> Option<(String, String, String)> {
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
        Value::Object(m) => canonical_object(m.iter().map(|(k, v)| (k.as_str(), v)), out),
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

/// An object's members sorted by key, each value in canonical form.
fn canonical_object<'a>(members: impl Iterator<Item = (&'a str, &'a Value)>, out: &mut Vec<u8>) {
    let mut members: Vec<(&str, &Value)> = members.collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(k, out);
        out.push(b':');
        canonical_bytes(v, out);
    }
    out.push(b'}');
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
        assert_eq!(
            event_key(&d.clone().into(), "http", 3, true),
            "rec:dc-01/Security/42"
        );
        let ecs = json!({"winlog": {"computer_name": "h", "channel": "Security",
            "record_id": "7"}});
        assert_eq!(event_key(&ecs.into(), "x", 1, false), "rec:h/Security/7");
        let flat = json!({"Computer": "ws-7", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventRecordID": 9, "EventID": 1});
        assert_eq!(
            event_key(&flat.into(), "http", 1, false),
            "rec:ws-7/Microsoft-Windows-Sysmon/Operational/9"
        );
        let partial = json!({"Computer": "ws-7", "EventRecordID": 9});
        assert!(event_key(&partial.into(), "http", 1, false).starts_with("sha256:"));
    }

    #[test]
    fn position_then_content() {
        let d = json!({"Event": {"System": {"Computer": "dc-01", "Channel": "Security"}}});
        assert_eq!(
            event_key(&d.clone().into(), "file:/v/x.log", 9, true),
            "pos:file:/v/x.log:9"
        );
        let a = event_key(
            &json!({"b": 1, "a": [1, {"y": 2, "x": "é"}]}).into(),
            "http",
            1,
            false,
        );
        let b = event_key(
            &json!({"a": [1, {"x": "é", "y": 2}], "b": 1}).into(),
            "http",
            2,
            false,
        );
        assert_eq!(a, b, "member order and position do not matter");
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
        let c = event_key(&json!({"b": 2}).into(), "http", 1, false);
        assert_ne!(a, c);
    }

    /// A flat object read by the fast reader and the same text read as a tree: one key,
    /// one stored document, one event.
    #[test]
    fn flat_and_tree_documents_are_one_event() {
        for text in [
            r#"{"b":1,"a":"x\u00e9\n","c":null,"d":1.5e3,"e":true,"f":-0,"g":18446744073709551615}"#,
            r#"{ "EventID" : 1 , "Image":"C:\\x.exe","UtcTime":"2024-05-10 08:21:33.123"}"#,
            r#"{"Computer":"ws","Channel":"Security","EventRecordID":"7"}"#,
            r#"{}"#,
        ] {
            let flat = crate::ingest::parse_document(text.as_bytes()).expect("json");
            assert!(matches!(flat, Document::Flat(_)), "{text}");
            let tree: Document = serde_json::from_str::<Value>(text).expect("json").into();
            for stable in [false, true] {
                assert_eq!(
                    event_key(&flat, "http", 1, stable),
                    event_key(&tree, "http", 1, stable),
                    "{text}"
                );
            }
            assert_eq!(flat.to_value(), tree.to_value(), "{text}");
            assert_eq!(flat.to_string(), tree.to_string(), "{text}");
            let (a, b) = (
                flat.into_event("s".into(), 1),
                tree.into_event("s".into(), 1),
            );
            assert_eq!((a.timestamp, a.shape), (b.timestamp, b.shape), "{text}");
        }
        let nested = crate::ingest::parse_document(br#"{"a":{"b":1}}"#).expect("json");
        assert!(matches!(nested, Document::Tree(_)));
    }

    fn scalar() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ]
    }

    proptest::proptest! {
        /// Any flat object, compact or spaced: the fast reader and serde_json give one
        /// key and one document.
        #[test]
        fn any_flat_object_keys_as_its_tree(
            members in proptest::collection::btree_map("\\PC{0,8}", scalar(), 0..12),
            spaced in proptest::bool::ANY,
        ) {
            let m: serde_json::Map<String, Value> = members.into_iter().collect();
            let v = Value::Object(m);
            let text = if spaced {
                serde_json::to_string_pretty(&v).expect("json")
            } else {
                v.to_string()
            };
            let read = crate::ingest::parse_document(text.as_bytes()).expect("json");
            // As serde_json reads the text (its float parsing is not always the exact
            // inverse of its printing, and the fast reader does as it does).
            let tree: Document = serde_json::from_str::<Value>(&text).expect("json").into();
            proptest::prop_assert_eq!(
                event_key(&read, "http", 1, false),
                event_key(&tree, "http", 1, false)
            );
            proptest::prop_assert_eq!(read.to_value(), tree.to_value());
        }
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
