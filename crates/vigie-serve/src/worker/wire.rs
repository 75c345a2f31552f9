//! What workers send each other through JetStream: correlation inputs and event-time
//! ticks on partition subjects. Rules are named by their stable key (positions never
//! leave a process); every message carries the rule-set digest, and a worker whose
//! rules differ refuses it rather than correlating with other rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigie_sigma::{Observation, RuleId, RuleSet};

/// A message on `<prefix>.corr.<partition>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum CorrMessage {
    /// One correlation input (a match of a rule that feeds a correlation).
    Obs {
        /// Stream sequence of the event in the events stream: partitions feed inputs in
        /// this order, the order a single node consuming the stream sees them in.
        seq: u64,
        /// Rule-set digest of the sender.
        rules: String,
        rule: String,
        timestamp: DateTime<Utc>,
        source: String,
        record: u64,
        values: Vec<Option<Value>>,
    },
    /// An idle flush: a worker that finds the events stream drained (every event up to
    /// `seq` acked) sends each partition its newest event time plus the lateness, so
    /// the inputs the watermark still held are fed. Fed after the inputs of `seq`.
    Tick {
        seq: u64,
        worker: String,
        time: DateTime<Utc>,
    },
}

impl CorrMessage {
    pub fn obs(rules: &RuleSet, o: &Observation, seq: u64) -> CorrMessage {
        CorrMessage::Obs {
            seq,
            rules: rules.digest().to_string(),
            rule: rules.meta(o.rule).key.to_string(),
            timestamp: o.timestamp,
            source: o.source.to_string(),
            record: o.record,
            values: o.values.clone(),
        }
    }
}

impl CorrMessage {
    /// Where the message goes in a partition's feeding order: its event's stream
    /// sequence, then the rule key (one input per rule and event); a tick after the
    /// inputs of its sequence (`~` sorts after rule keys, which are ids or `sha256:`).
    pub fn order(&self) -> (u64, String) {
        match self {
            CorrMessage::Obs { seq, rule, .. } => (*seq, rule.clone()),
            CorrMessage::Tick { seq, worker, .. } => (*seq, format!("~tick|{worker}")),
        }
    }
}

/// Rule keys back to this process's rule positions.
pub struct RuleIndex {
    digest: String,
    by_key: FxHashMap<String, RuleId>,
}

impl RuleIndex {
    pub fn new(rules: &RuleSet) -> RuleIndex {
        let by_key = (0..rules.len() as u32)
            .map(|i| (rules.meta(RuleId(i)).key.to_string(), RuleId(i)))
            .collect();
        RuleIndex {
            digest: rules.digest().to_string(),
            by_key,
        }
    }

    /// The observation a message carries, or why it cannot be used here.
    pub fn observation(&self, m: CorrMessage) -> Result<Option<Observation>, String> {
        match m {
            CorrMessage::Tick { .. } => Ok(None),
            CorrMessage::Obs {
                seq: _,
                rules,
                rule,
                timestamp,
                source,
                record,
                values,
            } => {
                if rules != self.digest {
                    return Err(format!(
                        "sent with rule set {rules}, this worker runs {}: all workers must load the same rules",
                        self.digest
                    ));
                }
                let rule = *self
                    .by_key
                    .get(&rule)
                    .ok_or_else(|| format!("unknown rule {rule}"))?;
                Ok(Some(Observation {
                    rule,
                    timestamp,
                    source: Arc::from(source),
                    record,
                    values,
                }))
            }
        }
    }
}

/// The partition of a correlation partition key (`RuleSet::correlation_partition`):
/// the first 8 bytes of its SHA-256 modulo `partitions` (stable across processes and
/// builds, unlike the standard hasher).
pub fn partition_of(key: &str, partitions: u32) -> u32 {
    let h = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    (u64::from_be_bytes(b) % u64::from(partitions.max(1))) as u32
}

/// `Nats-Msg-Id` of a correlation input: rule key and event key (a redelivered event
/// republishes the same id, which JetStream drops).
pub fn obs_message_id(rule_key: &str, event_key: &str) -> String {
    format!("{rule_key}|{event_key}")
}

/// A detection on its way to the incident leader (`<prefix>.det`): an engine
/// [`vigie_hunt::Detection`] with its rule named by key and, for an event's detection,
/// the event's key. `Nats-Msg-Id` = the detection's key, so a republished detection is
/// dropped by JetStream, and by the leader's keys after the duplicate window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetMessage {
    pub rules: String,
    pub rule: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub record: Option<u64>,
    pub event_key: Option<String>,
    pub fields: Vec<(String, Value)>,
    pub context: Vec<(String, Value)>,
    pub correlation: Option<CorrWire>,
}

/// [`vigie_hunt::CorrelationInfo`] on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrWire {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub group: Vec<(String, Value)>,
    pub value: f64,
    pub events: Vec<(String, u64)>,
}

impl DetMessage {
    pub fn new(rules: &RuleSet, d: &vigie_hunt::Detection, event_key: Option<String>) -> Self {
        let pairs = |v: &[(Arc<str>, Value)]| -> Vec<(String, Value)> {
            v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
        };
        DetMessage {
            rules: rules.digest().to_string(),
            rule: rules.meta(d.rule).key.to_string(),
            timestamp: d.timestamp,
            source: d.source.as_deref().map(str::to_string),
            record: d.record,
            event_key,
            fields: pairs(&d.fields),
            context: pairs(&d.context),
            correlation: d.correlation.as_ref().map(|c| CorrWire {
                first: c.first,
                last: c.last,
                group: c.group.clone(),
                value: c.value,
                events: c.events.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
            }),
        }
    }
}

impl RuleIndex {
    /// The engine detection a message carries, or why it cannot be used here.
    pub fn detection(&self, m: &DetMessage) -> Result<vigie_hunt::Detection, String> {
        if m.rules != self.digest {
            return Err(format!(
                "sent with rule set {}, this worker runs {}: all workers must load the same rules",
                m.rules, self.digest
            ));
        }
        let rule = *self
            .by_key
            .get(&m.rule)
            .ok_or_else(|| format!("unknown rule {}", m.rule))?;
        let pairs = |v: &[(String, Value)]| -> Vec<(Arc<str>, Value)> {
            v.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
                .collect()
        };
        Ok(vigie_hunt::Detection {
            rule,
            timestamp: m.timestamp,
            source: m.source.as_deref().map(Arc::from),
            record: m.record,
            fields: pairs(&m.fields),
            context: pairs(&m.context),
            correlation: m.correlation.as_ref().map(|c| vigie_hunt::CorrelationInfo {
                first: c.first,
                last: c.last,
                group: c.group.clone(),
                value: c.value,
                events: c
                    .events
                    .iter()
                    .map(|(s, r)| (Arc::from(s.as_str()), *r))
                    .collect(),
            }),
        })
    }
}

/// A detection's key, as the store keys it (`pipeline::keys`): `<rule key>|<event
/// key>`, or for a correlation hit `<rule key>|corr:<hex>` of its group and first time.
pub fn det_key(d: &DetMessage) -> String {
    use crate::pipeline::keys;
    match (&d.event_key, &d.correlation) {
        (_, Some(c)) => keys::correlation_key(&d.rule, &c.group, &c.first),
        (Some(ev), None) => keys::detection_key(&d.rule, ev),
        (None, None) => keys::detection_key(&d.rule, ""),
    }
}
