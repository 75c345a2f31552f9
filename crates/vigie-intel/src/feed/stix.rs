//! STIX 2.1 indicators from a bundle (`{"type": "bundle", "objects": [...]}`), a JSON
//! array of objects, or one object.
//!
//! - Every `indicator` object is read; other objects are context (an `attack-pattern`
//!   an indicator `indicates` gives it techniques) and are not counted as refused.
//! - `pattern_type` must be `stix` (else refused); a `revoked` indicator is refused;
//!   of several versions of one id, the one with the latest `modified` is kept and the
//!   others are refused as superseded.
//! - The pattern is parsed ([`Pattern::parse`]; an invalid one is refused with its
//!   line and column). One that is an OR of `[type:path = 'literal']` (or `IN (...)`) comparisons
//!   on the paths vigie indexes (`ipv4-addr:value`, `ipv6-addr:value`,
//!   `domain-name:value`, `url:value`, `file:name`, `file:hashes.MD5` / `'SHA-1'` /
//!   `'SHA-256'`) becomes typed values; any other pattern is kept as a
//!   [`IndicatorBody::Pattern`] for evaluation.
//! - `name` (default: the id), `confidence`, `labels`, `valid_from`, `valid_until`;
//!   `kill_chain_phases` of the `mitre-attack` chain become labels
//!   `attack.<phase_name>`; `external_references` with `source_name` `mitre-attack`
//!   (and those of `attack-pattern`s the indicator `indicates`) give ATT&CK techniques.
//! - Refusals are positioned by JSON pointer (`/objects/3/pattern`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{Position, Sink};
use crate::indicator::{Indicator, IndicatorBody, IndicatorMeta, IocType, PatternBody};
use crate::pattern::{Pattern, PatternError};

pub(crate) fn load_file(path: &Path, sink: &mut Sink<'_>) {
    let Some(text) = super::read_text(path, sink) else {
        return;
    };
    parse_into(&text, sink);
}

pub(crate) fn parse_into(text: &str, sink: &mut Sink<'_>) {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            sink.refuse(
                Position::Line {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                format!("not JSON: {e}"),
            );
            return;
        }
    };
    let (objects, prefix): (Vec<&Value>, &str) = match &doc {
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
            match o.get("objects") {
                Some(Value::Array(a)) => (a.iter().collect(), "/objects"),
                None => (Vec::new(), "/objects"),
                Some(_) => {
                    sink.refuse(
                        Position::Pointer("/objects".into()),
                        "a bundle's objects must be an array",
                    );
                    return;
                }
            }
        }
        Value::Object(_) => (vec![&doc], ""),
        Value::Array(a) => (a.iter().collect(), ""),
        _ => {
            sink.refuse(
                Position::Pointer(String::new()),
                "expected a STIX bundle, an array of objects or one object",
            );
            return;
        }
    };
    let pointer = |i: usize| -> String {
        if prefix.is_empty() && objects.len() == 1 && matches!(doc, Value::Object(_)) {
            String::new()
        } else {
            format!("{prefix}/{i}")
        }
    };

    // Techniques of attack-patterns, and which indicator indicates which.
    let mut ap_techniques: FxHashMap<&str, Vec<String>> = FxHashMap::default();
    let mut indicates: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
    for o in &objects {
        match o.get("type").and_then(Value::as_str) {
            Some("attack-pattern") => {
                if let Some(id) = o.get("id").and_then(Value::as_str) {
                    ap_techniques.insert(id, attack_refs(o));
                }
            }
            Some("relationship")
                if o.get("relationship_type").and_then(Value::as_str) == Some("indicates") =>
            {
                if let (Some(s), Some(t)) = (
                    o.get("source_ref").and_then(Value::as_str),
                    o.get("target_ref").and_then(Value::as_str),
                ) {
                    indicates.entry(s).or_default().push(t);
                }
            }
            _ => {}
        }
    }

    // Latest version of each indicator id.
    let mut latest: FxHashMap<&str, (usize, Option<DateTime<Utc>>)> = FxHashMap::default();
    for (i, o) in objects.iter().enumerate() {
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let Some(id) = o.get("id").and_then(Value::as_str) else {
            continue;
        };
        let m = timestamp(o.get("modified"));
        match latest.get(id) {
            Some(&(_, prev)) if prev >= m => {}
            _ => {
                latest.insert(id, (i, m));
            }
        }
    }

    for (i, o) in objects.iter().enumerate() {
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let ptr = pointer(i);
        let at = |field: &str| Position::Pointer(format!("{ptr}/{field}"));
        let Some(id) = o.get("id").and_then(Value::as_str) else {
            sink.refuse(at("id"), "an indicator needs an id");
            continue;
        };
        if let Some(&(k, _)) = latest.get(id) {
            if k != i {
                sink.refuse(
                    at("modified"),
                    format!("superseded by a later version of {id} (at {})", pointer(k)),
                );
                continue;
            }
        }
        if o.get("revoked").and_then(Value::as_bool) == Some(true) {
            sink.refuse(at("revoked"), format!("{id} is revoked"));
            continue;
        }
        match o.get("pattern_type").and_then(Value::as_str) {
            Some("stix") | None => {}
            Some(other) => {
                sink.refuse(
                    at("pattern_type"),
                    format!("pattern_type {other:?} is not supported (only stix)"),
                );
                continue;
            }
        }
        let Some(pattern) = o.get("pattern").and_then(Value::as_str) else {
            sink.refuse(at("pattern"), format!("{id} has no pattern"));
            continue;
        };
        let mut bad_time = None;
        let mut time = |field: &'static str| -> Option<DateTime<Utc>> {
            match o.get(field) {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let t = timestamp(Some(v));
                    if t.is_none() {
                        bad_time = Some(field);
                    }
                    t
                }
            }
        };
        let valid_from = time("valid_from");
        let valid_until = time("valid_until");
        if let Some(f) = bad_time {
            sink.refuse(at(f), format!("{f} is not an RFC 3339 timestamp"));
            continue;
        }
        let confidence = match o.get("confidence") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(c) if c <= 100 => Some(c as u8),
                _ => {
                    sink.refuse(at("confidence"), "confidence must be an integer 0-100");
                    continue;
                }
            },
        };
        let mut labels: Vec<String> = o
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(phases) = o.get("kill_chain_phases").and_then(Value::as_array) {
            for p in phases {
                let chain = p.get("kill_chain_name").and_then(Value::as_str);
                let phase = p.get("phase_name").and_then(Value::as_str);
                if let (Some("mitre-attack"), Some(ph)) = (chain, phase) {
                    let l = format!("attack.{}", ph.to_ascii_lowercase().replace('-', "_"));
                    if !labels.contains(&l) {
                        labels.push(l);
                    }
                }
            }
        }
        let mut techniques: BTreeSet<String> = attack_refs(o).into_iter().collect();
        for t in indicates.get(id).into_iter().flatten() {
            if let Some(ts) = ap_techniques.get(t) {
                techniques.extend(ts.iter().cloned());
            }
        }
        let what = match compile(pattern) {
            Compiled::Values(mut vs) => {
                if vs.len() == 1 {
                    let (t, v) = vs.swap_remove(0);
                    IndicatorBody::Value(t, v.into_boxed_str())
                } else {
                    IndicatorBody::AnyOf(vs)
                }
            }
            Compiled::BadValue(reason) => {
                sink.refuse(at("pattern"), reason);
                continue;
            }
            Compiled::Invalid(e) => {
                sink.refuse(at("pattern"), format!("invalid STIX pattern: {e}"));
                continue;
            }
            Compiled::Pattern(p) => IndicatorBody::Pattern(PatternBody {
                text: pattern.to_string(),
                pattern: p,
            }),
        };
        let meta = IndicatorMeta {
            name: o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(id)
                .to_string(),
            confidence,
            labels,
            techniques: techniques.into_iter().collect(),
            valid_from,
            valid_until,
            source: sink.file.clone(),
        };
        sink.push(Indicator {
            id: Box::from(id),
            meta: Arc::new(meta),
            what,
        });
    }
}

fn timestamp(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// ATT&CK technique ids in an object's `external_references` (`mitre-attack`).
fn attack_refs(o: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for r in o
        .get("external_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let src = r.get("source_name").and_then(Value::as_str).unwrap_or("");
        if !src.eq_ignore_ascii_case("mitre-attack") {
            continue;
        }
        if let Some(x) = r.get("external_id").and_then(Value::as_str) {
            if let Some(t) = technique_id(x) {
                out.push(t);
            }
        }
    }
    out
}

/// `T1234` or `T1234.567` (any case), upper-cased.
pub(crate) fn technique_id(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    let b = u.as_bytes();
    let ok = b.len() >= 5
        && b[0] == b'T'
        && b[1..5].iter().all(u8::is_ascii_digit)
        && (b.len() == 5
            || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)));
    ok.then_some(u)
}

enum Compiled {
    Values(Vec<(IocType, String)>),
    /// A simple pattern on an indexed path with a literal that is not a valid value.
    BadValue(String),
    Pattern(Pattern),
    /// Not a STIX 2.1 pattern.
    Invalid(PatternError),
}

/// An indexable simple pattern's typed values, or the parsed pattern.
fn compile(text: &str) -> Compiled {
    let pattern = match Pattern::parse(text) {
        Ok(p) => p,
        Err(e) => return Compiled::Invalid(e),
    };
    let Some(terms) = pattern.simple_terms() else {
        return Compiled::Pattern(pattern);
    };
    let mut out = Vec::with_capacity(terms.len());
    for t in &terms {
        let Some(ty) = ioc_type_of(&t.object_type, &t.path) else {
            return Compiled::Pattern(pattern);
        };
        match ty.normalize(&t.value) {
            Ok(v) => {
                if !out.iter().any(|(x, y)| *x == ty && *y == v) {
                    out.push((ty, v));
                }
            }
            Err(reason) => {
                return Compiled::BadValue(format!("{}:{}: {reason}", t.object_type, t.path))
            }
        }
    }
    if out.is_empty() {
        Compiled::Pattern(pattern)
    } else {
        Compiled::Values(out)
    }
}

/// The index type of an object path, if vigie indexes it.
pub(crate) fn ioc_type_of(object_type: &str, path: &str) -> Option<IocType> {
    match (object_type, path) {
        ("ipv4-addr", "value") => Some(IocType::Ipv4),
        ("ipv6-addr", "value") => Some(IocType::Ipv6),
        ("domain-name", "value") => Some(IocType::Domain),
        ("url", "value") => Some(IocType::Url),
        ("file", "name") => Some(IocType::FileName),
        ("file", p) => {
            let h = p.strip_prefix("hashes.")?;
            let h = h.trim_matches('\'').to_ascii_uppercase().replace('-', "");
            match h.as_str() {
                "MD5" => Some(IocType::Md5),
                "SHA1" => Some(IocType::Sha1),
                "SHA256" => Some(IocType::Sha256),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_forms() {
        let c = compile("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'A.b']");
        assert!(matches!(c, Compiled::Values(ref v) if v.len() == 2 && v[1].1 == "a.b"));
        let c = compile("[file:hashes.'SHA-256' = 'ab']");
        assert!(matches!(c, Compiled::BadValue(_)));
        let c = compile("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a']");
        assert!(matches!(c, Compiled::Pattern(_)));
        let c = compile("[email-addr:value = 'a@b']");
        assert!(matches!(c, Compiled::Pattern(_)));
        assert!(matches!(
            compile("[ipv4-addr:value = "),
            Compiled::Invalid(_)
        ));
        assert_eq!(technique_id("t1059.001").as_deref(), Some("T1059.001"));
        assert_eq!(technique_id("TA0001"), None);
    }
}
