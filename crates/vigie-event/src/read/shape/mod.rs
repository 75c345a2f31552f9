//! JSON records recognised by their shape (a key or two per record), and given the
//! routing convention's `_source` member (docs/mapping.md) and, where the shape names
//! its fields differently from Sigma, the Sigma field names of the logsource they
//! describe. One hook, [`recognise`], called by the JSON reader once per record before
//! it becomes an event; a recogniser looks at the top-level members only.
//!
//! Layout: `cloud.rs` (AWS CloudTrail, Azure, GCP, Okta, M365, GitHub, Kubernetes,
//! OneLogin, Bitbucket, Duo audit records; CloudTrail/Azure `Records` containers;
//! docs/cloud-logs.md), `journald.rs`, `ecs.rs`, `ocsf.rs` and `taxonomy.rs` (their
//! Sigma names; docs/json-shapes.md).

pub(crate) mod cloud;
mod ecs;
mod journald;
mod ocsf;
mod taxonomy;

use serde_json::Value;

use super::parse::Parsed;

/// Completes a record whose shape is recognised; leaves any other alone. Kept out of
/// line: inlined into the JSON reader it changed how the parser around it was compiled
/// (measured: a hash table probe no longer inlined, +2% on EVTX-shaped JSON).
#[inline(never)]
pub(crate) fn recognise(rec: &mut Parsed) {
    match rec {
        Parsed::Flat(flat) => {
            if journald::recognise_flat(flat) {
                return;
            }
            if let Some(src) = cloud::flat_source_of(flat) {
                flat.key_buf().push_str(cloud::SOURCE_KEY);
                flat.push(Value::from(src));
            }
        }
        // EVTX-shaped and Winlogbeat records open with `Event` / `winlog` (or carry it
        // early): the first key settles most of them before the walk.
        Parsed::Tree(Value::Object(m))
            if matches!(
                m.keys().next().map(String::as_str),
                Some("Event" | "winlog")
            ) => {}
        Parsed::Tree(Value::Object(m)) => {
            if journald::recognise_tree(m) {
                return;
            }
            // One pass over the top-level keys (no hashing) says which shapes may fit.
            let (mut ecs, mut ocsf) = (false, false);
            for k in m.keys() {
                match k.as_str() {
                    "ecs" | "@timestamp" => ecs = true,
                    "class_uid" => ocsf = true,
                    _ => {}
                }
            }
            if ecs && ecs::recognise(m) {
                return;
            }
            if ocsf && ocsf::recognise(m) {
                return;
            }
            if let Some(src) = cloud::source_of(m.iter().map(|(k, v)| (k.as_bytes(), v))) {
                m.insert(cloud::SOURCE_KEY.into(), Value::from(src));
            }
        }
        Parsed::Tree(_) => {}
    }
}
