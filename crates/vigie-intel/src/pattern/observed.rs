//! Observed-data as the matcher sees it: a time interval, a count, and the objects
//! (cyber-observables) it holds, each under its reference key (the 2.0 `objects`
//! dictionary key, or the 2.1 object `id`).

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::value::parse_json_timestamp;

/// One observed-data.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedData {
    pub(crate) id: Option<String>,
    /// Microseconds since the epoch.
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) number: u64,
    /// (reference key, object), keys unique.
    pub(crate) objects: Vec<(String, Value)>,
    pub(crate) by_key: FxHashMap<String, usize>,
    /// STIX 2.1 document: objects whose type is a STIX domain object type (identity,
    /// indicator, observed-data, ...) are not matched by object type, as the reference
    /// does for 2.1.
    pub(crate) stix21: bool,
    pub(crate) unresolved_refs: Vec<String>,
}

/// A document that is not observed-data the matcher can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct ObservedError {
    /// JSON pointer of the offending value (`""` for the document).
    pub pointer: String,
    pub message: String,
}

/// STIX 2.1 domain/meta object types (never matched by object type in 2.1 documents).
const SDO_TYPES_21: &[&str] = &[
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "threat-actor",
    "tool",
    "sighting",
    "vulnerability",
];

pub(crate) fn is_sdo_type_21(t: &str) -> bool {
    SDO_TYPES_21.contains(&t)
}

fn err(pointer: impl Into<String>, message: impl Into<String>) -> ObservedError {
    ObservedError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl ObservedData {
    /// One observation built in code (e.g. the hunt's synthetic observed-data of an
    /// event): objects under their reference keys (`_ref` values resolve to them).
    pub fn new(
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        number: u64,
        objects: Vec<(String, Value)>,
    ) -> ObservedData {
        let mut od = ObservedData {
            id: None,
            first: to_micros(first),
            last: to_micros(last),
            number: number.max(1),
            objects: Vec::with_capacity(objects.len()),
            by_key: FxHashMap::default(),
            stix21: false,
            unresolved_refs: Vec::new(),
        };
        for (k, v) in objects {
            od.insert(k, v);
        }
        od
    }

    /// The same, with a STIX id (reported by [`super::Evaluation`] users).
    pub fn with_id(mut self, id: impl Into<String>) -> ObservedData {
        self.id = Some(id.into());
        self
    }

    /// The observed-data's `id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `number_observed`.
    pub fn number_observed(&self) -> u64 {
        self.number
    }

    /// The objects, under their reference keys.
    pub fn objects(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.objects.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `object_refs` entries that named no object of the document (ignored when
    /// matching, as the reference does; reported so that nothing is dropped silently).
    pub fn unresolved_refs(&self) -> &[String] {
        &self.unresolved_refs
    }

    /// Insert keeping the first position of a key and its last value.
    fn insert(&mut self, key: String, v: Value) {
        if let Some(&i) = self.by_key.get(&key) {
            self.objects[i].1 = v;
        } else {
            self.by_key.insert(key.clone(), self.objects.len());
            self.objects.push((key, v));
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.by_key.get(key).map(|&i| &self.objects[i].1)
    }

    /// A JSON array (of observed-data, bundles and the objects they refer to), a
    /// bundle, or one observed-data. STIX 2.1 observed-data (`object_refs`) resolve
    /// their references among all the objects of the document; STIX 2.0 observed-data
    /// carry their `objects`. Errors give the JSON pointer.
    pub fn from_json(doc: &Value) -> Result<Vec<ObservedData>, ObservedError> {
        // (pointer, object) of every top-level object, bundles flattened.
        type Obj<'a> = (String, &'a serde_json::Map<String, Value>, &'a Value);
        fn collect<'a>(
            ptr: String,
            v: &'a Value,
            all: &mut Vec<Obj<'a>>,
            depth: usize,
        ) -> Result<(), ObservedError> {
            let Value::Object(m) = v else {
                return Err(err(ptr, "expected a STIX object (a JSON object)"));
            };
            if m.get("type").and_then(Value::as_str) == Some("bundle") {
                if depth > 0 {
                    return Err(err(ptr, "a bundle inside a bundle"));
                }
                match m.get("objects") {
                    Some(Value::Array(objs)) => {
                        for (i, o) in objs.iter().enumerate() {
                            collect(format!("{ptr}/objects/{i}"), o, all, depth + 1)?;
                        }
                    }
                    None => {}
                    Some(_) => return Err(err(format!("{ptr}/objects"), "expected an array")),
                }
                return Ok(());
            }
            all.push((ptr, m, v));
            Ok(())
        }
        let mut all: Vec<Obj<'_>> = Vec::new();
        match doc {
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    collect(format!("/{i}"), v, &mut all, 0)?;
                }
            }
            Value::Object(_) => collect(String::new(), doc, &mut all, 0)?,
            _ => {
                return Err(err(
                    "",
                    "expected a JSON array or object (observed-data or a bundle)",
                ))
            }
        }
        // Objects by id, for 2.1 references (a later object with the same id wins).
        let mut pool: FxHashMap<&str, &Value> = FxHashMap::default();
        for (_, m, v) in &all {
            if let Some(id) = m.get("id").and_then(Value::as_str) {
                if m.get("type").and_then(Value::as_str) != Some("observed-data") {
                    pool.insert(id, *v);
                }
            }
        }
        let mut out = Vec::new();
        for (ptr, m, _) in &all {
            // observed-data, or (as the reference's 2.0 mode takes any element of the
            // list) an object of another type with the observation properties and
            // embedded objects (e.g. a "cybox-container").
            let is_observation = m.get("type").and_then(Value::as_str) == Some("observed-data")
                || (m.get("objects").is_some_and(Value::is_object)
                    && m.contains_key("first_observed"));
            if !is_observation {
                continue;
            }
            out.push(read_observed(ptr, m, &pool)?);
        }
        Ok(out)
    }
}

fn timestamp(
    ptr: &str,
    m: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<i64, ObservedError> {
    match m.get(key) {
        Some(Value::String(s)) => parse_json_timestamp(s)
            .ok_or_else(|| err(format!("{ptr}/{key}"), format!("invalid timestamp {s:?}"))),
        Some(_) => Err(err(format!("{ptr}/{key}"), "expected a timestamp string")),
        None => Err(err(ptr, format!("observed-data without {key}"))),
    }
}

fn read_observed(
    ptr: &str,
    m: &serde_json::Map<String, Value>,
    pool: &FxHashMap<&str, &Value>,
) -> Result<ObservedData, ObservedError> {
    let first = timestamp(ptr, m, "first_observed")?;
    let last = timestamp(ptr, m, "last_observed")?;
    let number = match m.get("number_observed") {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(err(
                    format!("{ptr}/number_observed"),
                    format!("number_observed must be an integer >= 1, got {n}"),
                ))
            }
        },
        Some(_) => {
            return Err(err(
                format!("{ptr}/number_observed"),
                "number_observed must be an integer >= 1",
            ))
        }
        None => return Err(err(ptr, "observed-data without number_observed")),
    };
    let mut od = ObservedData {
        id: m.get("id").and_then(Value::as_str).map(str::to_string),
        first,
        last,
        number,
        objects: Vec::new(),
        by_key: FxHashMap::default(),
        stix21: false,
        unresolved_refs: Vec::new(),
    };
    match (m.get("object_refs"), m.get("objects")) {
        (Some(Value::Array(refs)), _) => {
            od.stix21 = true;
            // The observed-data itself is among its objects (a `_ref` to it resolves),
            // but its type is never matched.
            if let Some(id) = &od.id {
                od.insert(id.clone(), Value::Object(m.clone()));
            }
            for (i, r) in refs.iter().enumerate() {
                let Some(r) = r.as_str() else {
                    return Err(err(
                        format!("{ptr}/object_refs/{i}"),
                        "expected an object id string",
                    ));
                };
                match pool.get(r) {
                    Some(v) => od.insert(r.to_string(), (*v).clone()),
                    None => od.unresolved_refs.push(r.to_string()),
                }
            }
        }
        (Some(_), _) => {
            return Err(err(
                format!("{ptr}/object_refs"),
                "expected an array of ids",
            ));
        }
        (None, Some(Value::Object(objs))) => {
            for (k, v) in objs {
                od.insert(k.clone(), v.clone());
            }
        }
        (None, Some(_)) => {
            return Err(err(
                format!("{ptr}/objects"),
                "expected an object mapping reference keys to objects",
            ))
        }
        (None, None) => {
            return Err(err(
                ptr,
                "observed-data with neither object_refs (STIX 2.1) nor objects (STIX 2.0)",
            ))
        }
    }
    Ok(od)
}
