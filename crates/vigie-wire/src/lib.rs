//! The wire types of vigie: the JSON that leaves the program (`--format json|jsonl`,
//! `--summary-json`, and the coming service API) is written from these types and only
//! from these. They are converted from the engines' own structs, so engine internals can
//! change without changing what users parse.
//!
//! Contract:
//! - One module per schema version (`v1`); [`SCHEMA_VERSION`] names the current one.
//!   Within a version, fields are only ever added, never renamed, retyped or removed.
//! - Everything that can be persisted or sent is keyed by a stable string id: a Sigma
//!   rule by its `id` (or, without one, `sha256:` and its document digest), a rule set
//!   by a digest of its rules, a model asset by its id, a model by its digest. Never by
//!   a position (`RuleId(u32)`, node numbers) that changes when rules or models change.
//! - Times are RFC 3339 UTC strings with `Z`; quantities are plain JSON numbers.
//! - Every type implements `Deserialize` too, so clients (and tests) read what vigie
//!   writes with the same definitions.

pub mod v1;

/// The schema version these types describe.
pub const SCHEMA_VERSION: &str = "vigie/v1";

/// The snake_case name an engine kind serializes to (`ReadErrorKind::BadJson` →
/// `bad_json`, `RefusalKind::Limit` → `limit`, `NodeKind::NetworkDevice` →
/// `network_device`): the one way kinds are named on the wire and in text.
pub fn snake_name<K: serde::Serialize>(k: &K) -> String {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("unknown"),
    }
}

/// RFC 3339, UTC, `Z`, as many fraction digits as needed: the one time format on the
/// wire.
pub fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
