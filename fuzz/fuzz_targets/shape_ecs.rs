//! The ecs recogniser (`read/shape/ecs.rs`): arbitrary bytes read as JSON lines, and,
//! when they parse as a JSON object, that object given `@timestamp` and an `ecs` object
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
        m.insert("@timestamp".into(), "2025-12-02T00:00:00Z".into());
        m.insert("ecs".into(), serde_json::json!({"version": "8.11.0"}));
        if let Ok(line) = serde_json::to_vec(&serde_json::Value::Object(m)) {
            read(&line);
        }
    }
});
