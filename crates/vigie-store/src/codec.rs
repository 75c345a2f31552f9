//! Values in and out of rows: times as microseconds, documents and lists as JSON text,
//! enums as their snake_case names. Anything stored that does not decode is
//! `StoreError::Corrupt` naming the table and the row's key.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::Val;
use crate::{IncidentState, StoreError, Verdict};

pub(crate) fn ts(t: DateTime<Utc>) -> Val {
    Val::I64(t.timestamp_micros())
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Val {
    t.map_or(Val::Null, ts)
}

pub(crate) fn json(v: &impl serde::Serialize) -> Val {
    // Serializing a `Value` or a list of strings cannot fail.
    Val::Text(serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
}

/// Sigma levels in order: the `level` filter is a minimum.
pub(crate) fn level_rank(level: &str) -> Option<i64> {
    Some(match level.to_ascii_lowercase().as_str() {
        "informational" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => return None,
    })
}

pub(crate) fn state_name(s: IncidentState) -> &'static str {
    match s {
        IncidentState::Open => "open",
        IncidentState::Acknowledged => "acknowledged",
        IncidentState::Closed => "closed",
        IncidentState::Merged => "merged",
    }
}

pub(crate) fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::TruePositive => "true_positive",
        Verdict::FalsePositive => "false_positive",
    }
}

/// Reads one row of `table` whose key is in column `key_col`.
pub(crate) struct Dec<'a> {
    pub(crate) table: &'static str,
    pub(crate) row: &'a [Val],
    key: String,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(table: &'static str, row: &'a [Val], key_col: usize) -> Dec<'a> {
        let key = match row.get(key_col) {
            Some(Val::Text(s)) => s.clone(),
            Some(Val::I64(i)) => i.to_string(),
            _ => "?".into(),
        };
        Dec { table, row, key }
    }

    pub(crate) fn corrupt(&self, why: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            why: why.into(),
        }
    }

    fn get(&self, i: usize) -> Result<&'a Val, StoreError> {
        self.row
            .get(i)
            .ok_or_else(|| self.corrupt(format!("column {i} missing")))
    }

    pub(crate) fn i64(&self, i: usize) -> Result<i64, StoreError> {
        match self.get(i)? {
            Val::I64(v) => Ok(*v),
            other => Err(self.corrupt(format!("column {i}: expected an integer, got {other:?}"))),
        }
    }

    pub(crate) fn u64(&self, i: usize) -> Result<u64, StoreError> {
        let v = self.i64(i)?;
        u64::try_from(v).map_err(|_| self.corrupt(format!("column {i}: negative count {v}")))
    }

    pub(crate) fn f64(&self, i: usize) -> Result<f64, StoreError> {
        match self.get(i)? {
            Val::F64(v) => Ok(*v),
            Val::I64(v) => Ok(*v as f64),
            other => Err(self.corrupt(format!("column {i}: expected a number, got {other:?}"))),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            Val::Text(s) => Ok(Some(s.clone())),
            Val::Null => Ok(None),
            other => Err(self.corrupt(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| self.corrupt(format!("column {i}: NULL")))
    }

    pub(crate) fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            Val::I64(us) => DateTime::from_timestamp_micros(*us)
                .map(Some)
                .ok_or_else(|| self.corrupt(format!("column {i}: time {us} out of range"))),
            other => Err(self.corrupt(format!("column {i}: expected a time, got {other:?}"))),
        }
    }

    pub(crate) fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(i)?
            .ok_or_else(|| self.corrupt(format!("column {i}: NULL time")))
    }

    /// A JSON document column.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        let text = self.text(i)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(e.to_string()))
    }

    pub(crate) fn opt_json(&self, i: usize) -> Result<Option<Value>, StoreError> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| self.corrupt(e.to_string())),
        }
    }

    pub(crate) fn state(&self, i: usize) -> Result<IncidentState, StoreError> {
        let s = self.text(i)?;
        serde_json::from_value(Value::String(s.clone()))
            .map_err(|_| self.corrupt(format!("unknown incident state `{s}`")))
    }

    pub(crate) fn verdict(&self, i: usize) -> Result<Option<Verdict>, StoreError> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => serde_json::from_value(Value::String(s.clone()))
                .map(Some)
                .map_err(|_| self.corrupt(format!("unknown verdict `{s}`"))),
        }
    }
}

/// The single integer of a `SELECT COUNT(*)`-like query.
pub(crate) fn scalar(rows: &[Vec<Val>]) -> i64 {
    match rows.first().and_then(|r| r.first()) {
        Some(Val::I64(v)) => *v,
        _ => 0,
    }
}

/// The deduplication key of an event key (`event_keys.hash`).
///
/// - A key that names a position in a stream (`rec:<Computer>/<Channel>/<EventRecordID>`,
///   `pos:<source>:<record>`, see `vigie-serve`'s keys): 28 bytes, the first 4 bytes of
///   the SHA-256 of the stream (`rec:<Computer>/<Channel>`, `pos:<source>`), the position
///   as 8 big-endian bytes, then the first 16 bytes of the SHA-256 of the whole key. Events
///   arrive roughly in stream order, so a commit's keys land on a few b-tree pages per
///   stream instead of one page each (schema 5: a 2,000-event commit rewrote ~2,000 pages
///   of a random-keyed index, 5 KB of WAL per event, `bench/RESULTS.md` 2026-12-02).
/// - Any other key (`sha256:` of the canonical JSON...): the first 16 bytes of its SHA-256.
///
/// Two distinct keys share a hash only if their 16-byte digests are equal (probability
/// 2^-128; among n stored keys about n^2 / 2^129, 10^12 keys: ~1.5e-15).
pub(crate) fn key_hash(key: &str) -> Vec<u8> {
    let digest = legacy_key_hash(key);
    match stream_position(key) {
        Some((stream, position)) => {
            let mut h = Vec::with_capacity(28);
            h.extend_from_slice(&sha256(stream.as_bytes())[..4]);
            h.extend_from_slice(&position.to_be_bytes());
            h.extend_from_slice(&digest);
            h
        }
        None => digest.to_vec(),
    }
}

/// The hash schema 4 stored for every key: the first 16 bytes of its SHA-256. It differs
/// from [`key_hash`] only for keys that name a stream position; those are looked up in
/// both forms while a store upgraded from schema 4 may still hold the old one
/// (`counters.legacy_key_hashes`, see `schema.rs`).
pub(crate) fn legacy_key_hash(key: &str) -> [u8; 16] {
    let d = sha256(key.as_bytes());
    let mut h = [0u8; 16];
    h.copy_from_slice(&d[..16]);
    h
}

/// Whether [`key_hash`] and [`legacy_key_hash`] differ for `key`.
pub(crate) fn has_legacy_form(key: &str) -> bool {
    stream_position(key).is_some()
}

/// `(stream, position)` of a key that names a position in a stream.
fn stream_position(key: &str) -> Option<(&str, u64)> {
    let sep = if key.starts_with("rec:") {
        '/'
    } else if key.starts_with("pos:") {
        ':'
    } else {
        return None;
    };
    let (stream, position) = key.rsplit_once(sep)?;
    if position.is_empty() || !position.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stream, position.parse().ok()?))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_keys_sort_by_stream_then_position() {
        let a1 = key_hash("rec:dc01/Security/1");
        let a2 = key_hash("rec:dc01/Security/2");
        let a300 = key_hash("rec:dc01/Security/300");
        let b1 = key_hash("rec:dc02/Security/1");
        assert_eq!(a1.len(), 28);
        assert_eq!(a1[..4], a300[..4], "one stream, one prefix");
        assert_ne!(a1[..4], b1[..4]);
        assert!(a1 < a2 && a2 < a300, "positions in order");
        assert_eq!(a1[12..], legacy_key_hash("rec:dc01/Security/1"));
        let p = key_hash("pos:file:/var/log/auth.log:7");
        assert_eq!(p.len(), 28);
        assert_eq!(p[4..12], 7u64.to_be_bytes());
        assert_eq!(p[..4], sha256(b"pos:file:/var/log/auth.log")[..4]);
    }

    #[test]
    fn other_keys_keep_schema_4_hash() {
        for k in [
            "sha256:00ff",
            "rec:dc01/Security/x1",
            "rec:dc01/Security/",
            "pos:nocolon",
            "rec:nosep",
            "pos:src:-1",
            "rec:h/c/99999999999999999999999",
        ] {
            assert_eq!(key_hash(k), legacy_key_hash(k).to_vec(), "{k}");
            assert!(!has_legacy_form(k), "{k}");
        }
        assert!(has_legacy_form("rec:h/c/0"));
    }
}
