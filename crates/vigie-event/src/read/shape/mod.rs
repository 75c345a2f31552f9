//! Log shapes recognised in JSON records, each adding the routing convention's `_source`
//! member (docs/mapping.md) so the mapping can route records that carry no natural
//! discriminator field. Called by the JSON reader once per record; a recogniser looks at
//! the top-level members only and costs one walk of them.
//!
//! Layout: `cloud.rs` (AWS CloudTrail, Azure, GCP, Okta, M365, GitHub, Kubernetes,
//! OneLogin, Bitbucket audit records; CloudTrail/Azure `Records` containers).

pub(crate) mod cloud;

use serde_json::Value;

use super::parse::Parsed;

/// Adds `_source` to a record whose shape is recognised; leaves any other alone. Kept
/// out of line: inlined into the JSON reader it changed how the parser around it was
/// compiled (measured: a hash table probe no longer inlined, +2% on EVTX-shaped JSON).
#[inline(never)]
pub(crate) fn recognise(rec: &mut Parsed) {
    match rec {
        Parsed::Flat(flat) => {
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
            if let Some(src) = cloud::source_of(m.iter().map(|(k, v)| (k.as_bytes(), v))) {
                m.insert(cloud::SOURCE_KEY.into(), Value::from(src));
            }
        }
        Parsed::Tree(_) => {}
    }
}
