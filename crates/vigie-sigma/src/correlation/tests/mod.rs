//! Tests of correlation parsing, compilation and the streaming engine, with hand-made
//! events, matches and observations.

mod build;
mod chain;
mod e2e;
mod engine;
mod parse;
mod props;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vigie_event::Event;

use super::{parse, Compiled, CorrelationDef, Correlator, Limits};
use crate::{CorrelationHit, Match, Observation, RuleId};

/// Base time of the tests: 2024-01-01T00:00:00Z.
const T0: i64 = 1_704_067_200;

pub(super) fn yaml(s: &str) -> crate::yaml::Y {
    crate::yaml::parse(s, &crate::yaml::default_limits())
        .expect("test YAML parses")
        .expect("test YAML is not empty")
}

pub(super) fn def(s: &str) -> CorrelationDef {
    match parse(&yaml(s)) {
        Ok(d) => d,
        Err(e) => panic!("test rule refused: {e:?}"),
    }
}

/// Detection rules of the tests: name → id. Correlations get ids from 100.
pub(super) const RULES: &[(&str, u32)] = &[
    ("failed_login", 1),
    ("successful_login", 2),
    ("recon_cmd_a", 3),
    ("recon_cmd_b", 4),
    ("recon_cmd_c", 5),
    ("internal_error", 6),
    ("new_network_connection", 7),
    ("website_access", 8),
    ("process_creation", 9),
    ("5638f7c0-ac70-491d-8465-2a65075e0d86", 10),
];

pub(super) fn resolve(r: &str) -> Option<RuleId> {
    RULES.iter().find(|(n, _)| *n == r).map(|(_, i)| RuleId(*i))
}

pub(super) fn rule(name: &str) -> RuleId {
    resolve(name).expect("test rule name")
}

/// Compiles correlations given as YAML, numbered 100, 101, ...; panics on refusal.
pub(super) fn compile(docs: &[&str]) -> Compiled {
    let (c, refused) = compile_lenient(docs);
    assert!(refused.is_empty(), "refused: {refused:?}");
    c
}

pub(super) fn compile_lenient(docs: &[&str]) -> (Compiled, Vec<(RuleId, String)>) {
    let defs = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (RuleId(100 + i as u32), def(d)))
        .collect();
    Compiled::build(defs, &resolve)
}

pub(super) fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(T0 + secs, 0).expect("test time")
}

/// A flat event at `T0 + secs` with the given fields, through `observe`.
pub(super) fn obs(c: &Compiled, rule_name: &str, secs: i64, fields: Value) -> Observation {
    obs_rec(c, rule_name, secs, secs as u64, fields)
}

pub(super) fn obs_rec(
    c: &Compiled,
    rule_name: &str,
    secs: i64,
    record: u64,
    mut fields: Value,
) -> Observation {
    if let Value::Object(m) = &mut fields {
        m.insert("@timestamp".into(), json!(at(secs).to_rfc3339()));
    }
    let ev = Event::new(Arc::from("test.jsonl"), record, fields);
    let m = Match {
        rule: rule(rule_name),
        fields: Vec::new(),
    };
    c.observe(&m, &ev)
        .expect("rule feeds a correlation and event has a time")
}

/// Pushes everything, then finishes.
pub(super) fn run(
    c: &Compiled,
    obs: Vec<Observation>,
) -> (Vec<CorrelationHit>, super::CorrelatorStats) {
    run_with(c, Limits::default(), obs)
}

pub(super) fn run_with(
    c: &Compiled,
    limits: Limits,
    obs: Vec<Observation>,
) -> (Vec<CorrelationHit>, super::CorrelatorStats) {
    let mut k = Correlator::with_limits(c, limits);
    let mut out = Vec::new();
    for o in obs {
        k.push(o, &mut out);
    }
    k.finish(&mut out);
    (out, k.stats().clone())
}

/// `(group values as text, value, first secs, last secs)` of each hit.
pub(super) fn summary(hits: &[CorrelationHit]) -> Vec<(Vec<String>, f64, i64, i64)> {
    hits.iter()
        .map(|h| {
            (
                h.group
                    .iter()
                    .map(|(_, v)| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                h.value,
                h.first.timestamp() - T0,
                h.last.timestamp() - T0,
            )
        })
        .collect()
}

pub(super) fn s(v: &str) -> String {
    v.to_string()
}
