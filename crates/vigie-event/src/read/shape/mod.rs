//! JSON records recognised by their shape (a key or two per record), and given the
//! field names and the routing field (`_source`) of the Sigma logsource they describe.
//! One hook, [`recognise`], called by the JSON reader for every record before it
//! becomes an event. Contracts and names: `docs/json-shapes.md`.

mod ecs;
mod journald;
mod ocsf;
mod taxonomy;

use super::parse::Parsed;

/// Recognises one parsed JSON record (flat or not) and completes it in place; records
/// of no known shape are left as they are. Cheap for them: a flat record costs one
/// comparison of its first key, a nested one a pass over its top-level keys.
pub(crate) fn recognise(doc: &mut Parsed) {
    match doc {
        Parsed::Flat(flat) => journald::recognise_flat(flat),
        Parsed::Tree(serde_json::Value::Object(m)) => {
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
            if ocsf {
                ocsf::recognise(m);
            }
        }
        Parsed::Tree(_) => {}
    }
}
