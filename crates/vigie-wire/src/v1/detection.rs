//! One detection on the wire: a line of `vigie hunt --format jsonl`, an element of
//! `--format json`, and (later) of the service's detection API.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `rule_id` | string | the rule's stable key: its Sigma `id`, or `sha256:<hex>` of its YAML document when it has none |
//! | `rule_title` | string | Sigma `title` |
//! | `level` | string | `informational`, `low`, `medium`, `high`, `critical` |
//! | `tags` | array of strings | Sigma `tags` |
//! | `timestamp` | string or null | event time, RFC 3339 UTC; for a correlation, the last contributing event |
//! | `source` | string or null | input file (`-` for stdin); null for a correlation |
//! | `record` | integer or null | EVTX record id, JSON-lines line number or JSON-array element index; null for a correlation |
//! | `fields` | object | the event fields that matched, by the name the rule used, in rule order |
//! | `keywords` | array of strings | keyword (field-less) values that matched; absent when none |
//! | `correlation` | bool | true for a correlation hit |
//!
//! A correlation hit adds `first`, `last` (RFC 3339), `group` (object: group-by field →
//! value), `value` (the aggregate that crossed the threshold) and `events` (array of
//! `{"source", "record"}` of contributing events, capped by the correlator).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigie_sigma::RuleMeta;

use super::Fields;
use crate::rfc3339;

/// One detection (see the module docs for the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Detection {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub timestamp: Option<String>,
    pub source: Option<String>,
    pub record: Option<u64>,
    #[schema(value_type = Object)]
    pub fields: Fields,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    pub correlation: bool,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = CorrelationFields)]
    pub hit: Option<Correlation>,
}

/// Schema only (OpenAPI): the members a correlation hit adds to a detection, absent on
/// a single-event detection. Flattening `Option<Correlation>` would describe "null or
/// a correlation" instead of "these members, when present".
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CorrelationFields {
    /// First contributing event time (RFC 3339).
    #[schema(required = false, nullable = false)]
    first: Option<String>,
    /// Last contributing event time (RFC 3339).
    #[schema(required = false, nullable = false)]
    last: Option<String>,
    /// Group-by field → value.
    #[schema(value_type = Object, required = false, nullable = false)]
    group: Option<Fields>,
    /// The aggregate that crossed the threshold.
    #[schema(required = false, nullable = false)]
    value: Option<f64>,
    /// Contributing events (capped by the correlator).
    #[schema(required = false, nullable = false)]
    events: Option<Vec<EventRef>>,
}

/// What a correlation hit adds to a detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Correlation {
    pub first: String,
    pub last: String,
    #[schema(value_type = Object)]
    pub group: Fields,
    pub value: f64,
    pub events: Vec<EventRef>,
}

/// An event that contributed to a correlation hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRef {
    pub source: String,
    pub record: u64,
}

impl Detection {
    /// The wire form of an engine detection of the rule described by `meta`.
    pub fn from_engine(d: &vigie_hunt::Detection, meta: &RuleMeta) -> Detection {
        let mut keywords = Vec::new();
        let mut fields = Vec::with_capacity(d.fields.len());
        for (k, v) in &d.fields {
            if &**k == vigie_sigma::KEYWORD_FIELD {
                if let Value::String(s) = v {
                    if !keywords.contains(s) {
                        keywords.push(s.clone());
                    }
                }
                continue;
            }
            fields.push((k, v.clone()));
        }
        let hit = d.correlation.as_ref().map(|c| Correlation {
            first: rfc3339(&c.first),
            last: rfc3339(&c.last),
            group: Fields::from_pairs(c.group.iter().map(|(k, v)| (k, v.clone()))),
            value: c.value,
            events: c
                .events
                .iter()
                .map(|(s, r)| EventRef {
                    source: s.to_string(),
                    record: *r,
                })
                .collect(),
        });
        Detection {
            rule_id: meta.key.to_string(),
            rule_title: meta.title.clone(),
            level: meta.level.as_str().to_string(),
            tags: meta.tags.clone(),
            timestamp: d.timestamp.as_ref().map(rfc3339),
            source: d.source.as_deref().map(str::to_string),
            record: d.record,
            fields: Fields::from_pairs(fields),
            keywords,
            correlation: hit.is_some(),
            hit,
        }
    }
}
