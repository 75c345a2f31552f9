//! The event model: one parsed record, its shape, its time, and the field walk.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::flat::FlatDoc;
use crate::tree::{Node, Tree};

/// How a document is laid out, which decides the names its fields answer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A Windows event as the `evtx` crate renders it (`Event.System.*`,
    /// `Event.EventData.*`, `Event.UserData.*`), from an EVTX file or as JSON.
    Evtx,
    /// Winlogbeat / Elastic Agent (`winlog.event_data.*`, `winlog.event_id`, ...).
    Winlogbeat,
    /// Anything else: every leaf answers to its dotted path (flat Sigma names included).
    Flat,
}

/// One log record, parsed once.
#[derive(Debug, Clone)]
pub struct Event {
    /// The file it came from (`-` for stdin). Shared by all events of one file.
    pub source: Arc<str>,
    /// EVTX record id, or the 1-based line number (JSON lines; the first line of a
    /// pretty-printed record), or the 0-based element index (JSON array).
    pub record: u64,
    /// Event time, when the record carries one we recognise.
    pub timestamp: Option<DateTime<Utc>>,
    /// The layout of the document.
    pub shape: Shape,
    doc: Doc,
}

/// The parsed document, as a tree or, for a flat object, as its list of members.
#[derive(Debug, Clone)]
enum Doc {
    Tree(Value),
    Flat(FlatDoc),
    /// An EVTX-shaped record as member lists (see [`crate::tree`]).
    Node(Node),
}

impl Event {
    /// Wraps a parsed document: detects its shape and extracts its time.
    pub fn new(source: Arc<str>, record: u64, doc: Value) -> Event {
        let top = Top::of(&doc);
        let shape = detect_shape(&top);
        let timestamp = extract_timestamp(&top, shape);
        Event {
            source,
            record,
            timestamp,
            shape,
            doc: Doc::Tree(doc),
        }
    }

    /// Wraps a flat object (every member a scalar or a list of scalars): its shape is [`Shape::Flat`] (the
    /// EVTX and Winlogbeat shapes need nested objects) and its time comes from the same
    /// members as for any flat record.
    pub fn from_flat(source: Arc<str>, record: u64, doc: FlatDoc) -> Event {
        let mut time: [Option<&Value>; TIME_KEYS.len()] = Default::default();
        for (k, v) in doc.iter() {
            if let Some(i) = TIME_KEYS.iter().position(|t| *t == k) {
                time[i].get_or_insert(v);
            }
        }
        let timestamp = time.iter().find_map(|t| t.and_then(parse_time));
        Event {
            source,
            record,
            timestamp,
            shape: Shape::Flat,
            doc: Doc::Flat(doc),
        }
    }

    /// The members of a flat record ([`Event::visit_fields`] gives each under its key,
    /// except an empty key), when it was read as one.
    pub fn flat(&self) -> Option<&FlatDoc> {
        match &self.doc {
            Doc::Flat(f) => Some(f),
            Doc::Tree(_) | Doc::Node(_) => None,
        }
    }

    /// Wraps an EVTX record read as a [`Node`] tree: [`Shape::Evtx`] when it has
    /// `Event.System` (as every record the `evtx` crate renders has), else the tree is
    /// made a `Value` and goes through [`Event::new`].
    pub fn from_node(source: Arc<str>, record: u64, doc: Node) -> Event {
        let system = (&doc).get("Event").and_then(|e| e.get("System"));
        let Some(system) = system else {
            return Event::new(source, record, doc.to_value());
        };
        let timestamp = system
            .get("TimeCreated")
            .and_then(|tc| node_time(system_time(tc)));
        Event {
            source,
            record,
            timestamp,
            shape: Shape::Evtx,
            doc: Doc::Node(doc),
        }
    }

    /// The [`Node`] tree of an EVTX record read as one.
    pub fn node(&self) -> Option<&Node> {
        match &self.doc {
            Doc::Node(n) => Some(n),
            Doc::Tree(_) | Doc::Flat(_) => None,
        }
    }

    /// The whole document (built for a flat record; borrowed otherwise).
    pub fn doc(&self) -> Cow<'_, Value> {
        match &self.doc {
            Doc::Tree(v) => Cow::Borrowed(v),
            Doc::Flat(f) => Cow::Owned(f.to_value()),
            Doc::Node(n) => Cow::Owned(n.to_value()),
        }
    }

    /// Calls `f(name, value)` for every leaf of the document, once under each name it
    /// answers to. `scratch` is a reusable buffer for building dotted paths, so a caller
    /// that keeps one per thread walks events without allocating.
    ///
    /// Names, by shape:
    /// - [`Shape::Evtx`]: every child `N` of `Event.System`, `Event.EventData` and of the
    ///   element under `Event.UserData` answers to `N` and to its dotted path
    ///   (`Event.System.EventID`). An element with attributes answers to `N_Attr` for each
    ///   (`Provider_Name`, `TimeCreated_SystemTime`) and `Event.System.N.Attr`; an element
    ///   with `#text` answers to `N` with that text. Deeper leaves answer to their own key
    ///   and dotted path.
    /// - [`Shape::Winlogbeat`]: `winlog.event_data.N` also answers to `N`;
    ///   `winlog.event_id` to `EventID`, `winlog.channel` to `Channel`,
    ///   `winlog.provider_name` to `Provider_Name`, `winlog.computer_name` to `Computer`;
    ///   every leaf to its dotted path.
    /// - [`Shape::Flat`]: every leaf to its dotted path (so top-level keys to themselves).
    ///
    /// Arrays are handed over whole (a Sigma value matches if any element matches);
    /// objects are walked into.
    pub fn visit_fields<'a>(&'a self, scratch: &mut String, f: &mut dyn FnMut(&str, &'a Value)) {
        scratch.clear();
        let doc = match &self.doc {
            Doc::Tree(doc) => doc,
            Doc::Node(node) => return visit_evtx(node, scratch, f),
            Doc::Flat(flat) => {
                // What `visit_dotted` gives for an object of scalars (which skips a
                // member with an empty key: its path is empty).
                for (k, v) in flat.iter() {
                    if !k.is_empty() {
                        f(k, v);
                    }
                }
                return;
            }
        };
        match self.shape {
            Shape::Evtx => visit_evtx(doc, scratch, f),
            Shape::Winlogbeat => visit_winlogbeat(doc, scratch, f),
            Shape::Flat => visit_dotted(doc, scratch, f),
        }
    }

    /// The value of one field by any name [`Event::visit_fields`] gives it. Slow path
    /// (walks the document); for output and tests, not for matching.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let mut found = None;
        let mut scratch = String::new();
        self.visit_fields(&mut scratch, &mut |n, v| {
            if found.is_none() && n == name {
                found = Some(v);
            }
        });
        found
    }
}

fn detect_shape(top: &Top<'_>) -> Shape {
    if top.event.is_some_and(|ev| ev.get("System").is_some()) {
        return Shape::Evtx;
    }
    if top.winlog.is_some_and(Value::is_object) {
        return Shape::Winlogbeat;
    }
    Shape::Flat
}

/// Objects up to this many members are scanned once for the members `Event::new` needs;
/// bigger ones are looked up by key. A scan compares lengths first and hashes nothing,
/// so for the usual few dozen members it beats ten hashed lookups.
const SCAN_MAX: usize = 64;

/// The top-level members that decide the shape and the time.
#[derive(Default)]
struct Top<'a> {
    event: Option<&'a Value>,
    winlog: Option<&'a Value>,
    /// By [`TIME_KEYS`] index.
    time: [Option<&'a Value>; TIME_KEYS.len()],
}

impl<'a> Top<'a> {
    fn of(doc: &'a Value) -> Top<'a> {
        let mut top = Top::default();
        let Value::Object(m) = doc else {
            return top;
        };
        if m.len() > SCAN_MAX {
            top.event = m.get("Event");
            top.winlog = m.get("winlog");
            for (slot, key) in top.time.iter_mut().zip(TIME_KEYS) {
                *slot = m.get(*key);
            }
            return top;
        }
        for (k, v) in m {
            match k.as_str() {
                "Event" => top.event = Some(v),
                "winlog" => top.winlog = Some(v),
                other => {
                    if let Some(i) = TIME_KEYS.iter().position(|t| *t == other) {
                        top.time[i] = Some(v);
                    }
                }
            }
        }
        top
    }
}

/// Keys under which a flat or Winlogbeat record commonly keeps its time, in preference order.
const TIME_KEYS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "TimeCreated",
    "UtcTime",
    "EventTime",
    "time",
    "ts",
    "date",
];

/// Where an EVTX `TimeCreated` element keeps the time: its `SystemTime` attribute, else a
/// `SystemTime` member or its text, else the element itself.
fn system_time<'a, T: Tree<'a>>(tc: T) -> T {
    Tree::get(tc, "#attributes")
        .and_then(|a| Tree::get(a, "SystemTime"))
        .or_else(|| Tree::get(tc, "SystemTime"))
        .or_else(|| Tree::get(tc, "#text"))
        .unwrap_or(tc)
}

fn extract_timestamp(top: &Top<'_>, shape: Shape) -> Option<DateTime<Utc>> {
    match shape {
        Shape::Evtx => {
            let tc = top.event?.get("System")?.get("TimeCreated")?;
            parse_time(system_time(tc))
        }
        Shape::Winlogbeat | Shape::Flat => top
            .time
            .iter()
            .find_map(|t| t.and_then(parse_time))
            .or_else(|| {
                top.event
                    .and_then(|e| e.get("System"))
                    .and_then(|s| s.get("TimeCreated"))
                    .and_then(parse_time)
            }),
    }
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` (Sysmon's UtcTime, taken as UTC), and
/// epoch seconds / milliseconds (numbers; > 1e11 is read as milliseconds).
pub fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_time_str(s),
        Value::Number(n) => {
            let f = n.as_f64()?;
            if !f.is_finite() || f < 0.0 {
                return None;
            }
            let ms = if f > 1e11 { f } else { f * 1000.0 };
            DateTime::<Utc>::from_timestamp_millis(ms as i64)
        }
        Value::Object(o) => o
            .get("SystemTime")
            .or_else(|| o.get("#text"))
            .and_then(parse_time),
        _ => None,
    }
}

/// [`parse_time`] on a [`Node`]: an object answers with its `SystemTime` or `#text`.
fn node_time(n: &Node) -> Option<DateTime<Utc>> {
    match n {
        Node::Leaf(v) => parse_time(v),
        Node::Object(_) => n
            .get("SystemTime")
            .or_else(|| n.get("#text"))
            .and_then(node_time),
    }
}

/// See [`parse_time`].
pub fn parse_time_str(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    crate::time_fast::naive_utc(s).or_else(|| parse_time_chrono(s))
}

/// [`parse_time_str`] through chrono alone, on a trimmed string.
pub(crate) fn parse_time_chrono(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

fn push_seg(scratch: &mut String, seg: &str) -> usize {
    let len = scratch.len();
    if !scratch.is_empty() {
        scratch.push('.');
    }
    scratch.push_str(seg);
    len
}

/// Every leaf under its dotted path.
fn visit_dotted<'a, T: Tree<'a>>(v: T, scratch: &mut String, f: &mut dyn FnMut(&str, &'a Value)) {
    match v.members() {
        Some(m) => {
            for (k, c) in m {
                let len = push_seg(scratch, k);
                visit_dotted(c, scratch, f);
                scratch.truncate(len);
            }
        }
        None => {
            if !scratch.is_empty() {
                f(scratch, v.value())
            }
        }
    }
}

fn visit_evtx<'a, T: Tree<'a>>(doc: T, scratch: &mut String, f: &mut dyn FnMut(&str, &'a Value)) {
    let Some(ev) = doc.get("Event").and_then(Tree::members) else {
        return visit_dotted(doc, scratch, f);
    };
    scratch.push_str("Event");
    for (section, body) in ev {
        let len = push_seg(scratch, section);
        match (section, body.members()) {
            ("System" | "EventData", Some(m)) => {
                for (name, val) in m {
                    visit_element(name, val, scratch, f);
                }
            }
            ("UserData", Some(m)) => {
                // UserData holds one wrapper element whose children are the fields.
                for (wrapper, inner) in m {
                    let l2 = push_seg(scratch, wrapper);
                    match inner.members() {
                        Some(im) => {
                            for (name, val) in im {
                                if name == "#attributes" {
                                    continue;
                                }
                                visit_element(name, val, scratch, f);
                            }
                        }
                        None => f(scratch, inner.value()),
                    }
                    scratch.truncate(l2);
                }
            }
            _ => visit_dotted(body, scratch, f),
        }
        scratch.truncate(len);
    }
}

/// One XML element rendered by `evtx`: scalar, `{#text, #attributes}`, or nested.
fn visit_element<'a, T: Tree<'a>>(
    name: &str,
    val: T,
    scratch: &mut String,
    f: &mut dyn FnMut(&str, &'a Value),
) {
    if name == "#attributes" {
        // Attributes of the section itself (rare): answer to their dotted path only.
        if let Some(a) = val.members() {
            for (an, av) in a {
                let l = push_seg(scratch, an);
                f(scratch, av.value());
                scratch.truncate(l);
            }
        }
        return;
    }
    let len = push_seg(scratch, name);
    match val.members() {
        Some(m) => {
            for (k, c) in m {
                match k {
                    "#text" => {
                        f(name, c.value());
                        f(scratch, c.value());
                    }
                    "#attributes" => {
                        if let Some(attrs) = c.members() {
                            for (an, av) in attrs {
                                let l = push_seg(scratch, an);
                                f(scratch, av.value());
                                scratch.truncate(l);
                                // The short `N_Attr` name is built past the end of the
                                // path in the same buffer, so no allocation per attribute.
                                scratch.push_str(name);
                                scratch.push('_');
                                scratch.push_str(an);
                                f(&scratch[l..], av.value());
                                scratch.truncate(l);
                            }
                        }
                    }
                    _ => visit_element(k, c, scratch, f),
                }
            }
        }
        None => {
            f(name, val.value());
            f(scratch, val.value());
        }
    }
    scratch.truncate(len);
}

fn visit_winlogbeat<'a>(doc: &'a Value, scratch: &mut String, f: &mut dyn FnMut(&str, &'a Value)) {
    visit_dotted(doc, scratch, f);
    let Some(w) = doc.get("winlog") else { return };
    if let Some(Value::Object(ed)) = w.get("event_data") {
        for (k, v) in ed {
            f(k, v);
        }
    }
    if let Some(Value::Object(ud)) = w.get("user_data") {
        for (k, v) in ud {
            f(k, v);
        }
    }
    for (key, alias) in [
        ("event_id", "EventID"),
        ("channel", "Channel"),
        ("provider_name", "Provider_Name"),
        ("computer_name", "Computer"),
        ("record_id", "EventRecordID"),
    ] {
        if let Some(v) = w.get(key) {
            f(alias, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(e: &Event) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        let mut s = String::new();
        e.visit_fields(&mut s, &mut |n, v| out.push((n.to_string(), v.clone())));
        out
    }

    #[test]
    fn evtx_shape_names() {
        let doc = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 1},
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-02T03:04:05.123Z"}}},
            "EventData": {"Image": "C:\\x.exe", "CommandLine": "x -y"}}});
        let e = Event::new("f".into(), 7, doc);
        assert_eq!(e.shape, Shape::Evtx);
        assert_eq!(
            e.timestamp.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-01-02T03:04:05.123+00:00")
        );
        let n = names(&e);
        let has = |k: &str, v: Value| n.iter().any(|(a, b)| a == k && *b == v);
        assert!(has("Provider_Name", json!("Microsoft-Windows-Sysmon")));
        assert!(has(
            "Event.System.Provider.Name",
            json!("Microsoft-Windows-Sysmon")
        ));
        assert!(has("EventID", json!(1)));
        assert!(has("Event.System.EventID", json!(1)));
        assert!(has("Image", json!("C:\\x.exe")));
        assert!(has("Event.EventData.CommandLine", json!("x -y")));
        assert_eq!(e.get("Image"), Some(&json!("C:\\x.exe")));
    }

    #[test]
    fn attribute_names_do_not_leak_into_paths() {
        let doc = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "P", "Guid": "G"}},
            "Execution": {"#attributes": {"ProcessID": 4}},
            "Channel": "Security"}}});
        let e = Event::new("f".into(), 1, doc);
        let mut got: Vec<String> = names(&e).into_iter().map(|(n, _)| n).collect();
        // Key order depends on serde_json's `preserve_order` feature; compare as sets.
        got.sort();
        let mut want = vec![
            "Event.System.Provider.Name",
            "Provider_Name",
            "Event.System.Provider.Guid",
            "Provider_Guid",
            "Event.System.Execution.ProcessID",
            "Execution_ProcessID",
            "Channel",
            "Event.System.Channel",
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn winlogbeat_and_flat() {
        let doc = json!({"@timestamp": "2024-01-02T03:04:05Z", "winlog": {"event_id": 4688, "event_data": {"NewProcessName": "a"}}});
        let e = Event::new("f".into(), 1, doc);
        assert_eq!(e.shape, Shape::Winlogbeat);
        assert!(e.timestamp.is_some());
        assert_eq!(e.get("EventID"), Some(&json!(4688)));
        assert_eq!(e.get("NewProcessName"), Some(&json!("a")));
        assert_eq!(e.get("winlog.event_data.NewProcessName"), Some(&json!("a")));

        let e = Event::new(
            "f".into(),
            1,
            json!({"a": {"b": 1}, "c": "d", "UtcTime": "2024-01-02 03:04:05.000"}),
        );
        assert_eq!(e.shape, Shape::Flat);
        assert!(e.timestamp.is_some());
        assert_eq!(e.get("a.b"), Some(&json!(1)));
        assert_eq!(e.get("c"), Some(&json!("d")));
    }

    /// The time key is chosen by preference, not member order; an unreadable one gives
    /// way to the next; small (scanned) and big (looked-up) objects answer alike.
    #[test]
    fn time_key_preference() {
        let stamp = |extra: usize, members: &[(&str, Value)]| {
            let mut m = serde_json::Map::new();
            for (k, v) in members {
                m.insert((*k).to_owned(), v.clone());
            }
            for i in 0..extra {
                m.insert(format!("pad{i}"), json!(i));
            }
            let e = Event::new("f".into(), 1, Value::Object(m));
            e.timestamp.map(|t| t.to_rfc3339())
        };
        for extra in [0, SCAN_MAX + 1] {
            let got = stamp(
                extra,
                &[
                    ("time", json!("2024-01-01T00:00:00Z")),
                    ("UtcTime", json!("2024-02-02 02:02:02.5")),
                    ("@timestamp", json!("not a time")),
                ],
            );
            assert_eq!(got.as_deref(), Some("2024-02-02T02:02:02.500+00:00"));
            let got = stamp(
                extra,
                &[(
                    "Event",
                    json!({"System": {"TimeCreated": "2024-03-03T03:03:03Z"}}),
                )],
            );
            assert_eq!(got.as_deref(), Some("2024-03-03T03:03:03+00:00"));
            assert_eq!(stamp(extra, &[("date", json!(false))]), None);
        }
    }
}
