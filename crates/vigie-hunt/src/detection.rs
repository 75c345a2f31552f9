//! One reported finding: a detection rule matching an event, or a correlation firing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigie_event::Event;
use vigie_sigma::{CorrelationHit, Match, RuleId};

/// A detection, owned (the event it came from is gone by the time it is printed).
#[derive(Debug, Clone)]
pub struct Detection {
    pub rule: RuleId,
    /// Event time; for a correlation, the time of the last contributing event.
    pub timestamp: Option<DateTime<Utc>>,
    /// Input the event came from (`None` for a correlation).
    pub source: Option<Arc<str>>,
    /// EVTX record id or line / element number (`None` for a correlation).
    pub record: Option<u64>,
    /// Event fields that matched, by the name the rule used, in rule order.
    pub fields: Vec<(Arc<str>, Value)>,
    /// Values of the event fields named by [`SessionOptions::capture`](crate::SessionOptions)
    /// (entity extraction asks for them), in the order the event walk gives them, each
    /// name once; empty when capture is off and for correlation hits (whose entities
    /// come from [`CorrelationInfo::group`]).
    pub context: Vec<(Arc<str>, Value)>,
    /// Set for correlation hits.
    pub correlation: Option<CorrelationInfo>,
}

/// What a correlation hit adds.
#[derive(Debug, Clone)]
pub struct CorrelationInfo {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// group-by field → value.
    pub group: Vec<(String, Value)>,
    /// The aggregate that crossed the threshold.
    pub value: f64,
    /// (source, record) of contributing events (capped by the correlator).
    pub events: Vec<(Arc<str>, u64)>,
}

impl Detection {
    /// A detection rule matching `event`.
    pub fn from_match(m: Match, event: &Event) -> Detection {
        Detection {
            rule: m.rule,
            timestamp: event.timestamp,
            source: Some(event.source.clone()),
            record: Some(event.record),
            fields: m.fields,
            context: Vec::new(),
            correlation: None,
        }
    }

    /// A correlation rule firing.
    pub fn from_hit(h: CorrelationHit) -> Detection {
        Detection {
            rule: h.rule,
            timestamp: Some(h.last),
            source: None,
            record: None,
            fields: Vec::new(),
            context: Vec::new(),
            correlation: Some(CorrelationInfo {
                first: h.first,
                last: h.last,
                group: h.group,
                value: h.value,
                events: h.events,
            }),
        }
    }

    pub fn is_correlation(&self) -> bool {
        self.correlation.is_some()
    }
}
