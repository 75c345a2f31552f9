//! The ocsf recogniser (`read/shape/ocsf.rs`): arbitrary bytes read as JSON lines, and,
//! when they parse as a JSON object, that object given a numeric `class_uid`, `activity_id` and `metadata`
//! so that it reaches the recogniser whatever else it holds. Every record is read
//! (an event or an error), nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fn read(bytes: &[u8]) {
    common::read_counted("fuzz.json", bytes);
}

fuzz_target!(|data: &[u8]| {
    read(data);
    if let Ok(serde_json::Value::Object(mut m)) = serde_json::from_slice(data) {
        m.entry("class_uid").or_insert_with(|| 1007.into());
        m.entry("activity_id").or_insert_with(|| 1.into());
        m.insert("metadata".into(), serde_json::json!({"version": "1.3.0"}));
        if let Ok(line) = serde_json::to_vec(&serde_json::Value::Object(m)) {
            read(&line);
        }
    }
});
