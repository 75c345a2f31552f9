//! systemd journal records as `journalctl -o json` (and `-o json-seq`'s records, and
//! `systemd-journal-remote`'s JSON) writes them: recognised by a first key `__CURSOR`,
//! `__REALTIME_TIMESTAMP` or `__MONOTONIC_TIMESTAMP` (journalctl writes them first).
//! The record keeps its journal fields and gets those of vigie's syslog events (`app`,
//! `procid`, `host`, `message`, `timestamp`, `severity`, `facility`: docs/syslog.md),
//! so the mapping entries that route syslog by `app` route it too, plus `format:
//! journald` and `_source: linux.journald`. Field names: `docs/json-shapes.md`.

use chrono::DateTime;
use serde_json::{Map, Value};

use crate::FlatDoc;

/// The keys journalctl writes first.
fn is_journal_key(k: &str) -> bool {
    matches!(
        k,
        "__CURSOR" | "__REALTIME_TIMESTAMP" | "__MONOTONIC_TIMESTAMP"
    )
}

/// A flat record (every value a string: the usual case); `false` when it is not a
/// journal record.
pub(super) fn recognise_flat(flat: &mut FlatDoc) -> bool {
    if !flat.iter().next().is_some_and(|(k, _)| is_journal_key(k)) {
        return false;
    }
    let get = |k: &str| flat.get(k).and_then(value_text);
    let added = syslog_fields(&get);
    for (k, v) in added {
        if flat.get(k).is_none() {
            flat.key_buf().push_str(k);
            // Keys are bounded by the record size, far under the 4 GiB limit.
            let _ = flat.push(v);
        }
    }
    true
}

/// A record with a binary field (journalctl writes bytes that are not UTF-8 text as an
/// array of numbers) or a field written several times (an array of values) is not flat;
/// `false` when it is not a journal record.
pub(super) fn recognise_tree(m: &mut Map<String, Value>) -> bool {
    if !m.keys().next().is_some_and(|k| is_journal_key(k)) {
        return false;
    }
    let get = |k: &str| m.get(k).and_then(value_text);
    let added = syslog_fields(&get);
    for (k, v) in added {
        m.entry(k).or_insert(v);
    }
    true
}

/// A journal value as text: a string, a number, a byte array (lossy UTF-8), or the
/// first of several values.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(Value::as_u64)
                .map(|b| b.min(255) as u8)
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(a) => a.first().and_then(value_text),
        _ => None,
    }
}

/// The syslog-event fields of a journal record, from its journal fields.
fn syslog_fields(get: &dyn Fn(&str) -> Option<String>) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Value)> = vec![
        ("format", "journald".into()),
        ("_source", "linux.journald".into()),
    ];
    if let Some(t) = get("__REALTIME_TIMESTAMP")
        .and_then(|us| us.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros)
    {
        out.push((
            "timestamp",
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        ));
    }
    let pairs = [
        ("app", get("SYSLOG_IDENTIFIER").or_else(|| get("_COMM"))),
        ("procid", get("SYSLOG_PID").or_else(|| get("_PID"))),
        ("host", get("_HOSTNAME")),
        ("message", get("MESSAGE")),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            out.push((k, v.into()));
        }
    }
    let code = |k: &str| get(k).and_then(|c| c.trim().parse::<u8>().ok());
    if let Some(c) = code("PRIORITY") {
        if let Some(name) = crate::syslog::severity_name(c) {
            out.push(("severity", name.into()));
            out.push(("severity_code", c.into()));
        }
    }
    if let Some(c) = code("SYSLOG_FACILITY") {
        if let Some(name) = crate::syslog::facility_name(c) {
            out.push(("facility", name.into()));
            out.push(("facility_code", c.into()));
        }
    }
    out
}
