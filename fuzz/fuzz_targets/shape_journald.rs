//! The journald recogniser (`read/shape/journald.rs`): arbitrary bytes read as JSON lines, and,
//! when they parse as a JSON object, that object given a first key `__CURSOR`
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
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(data) {
        // Written by hand so `__CURSOR` comes first whatever the map's key order.
        if let Ok(rest) = serde_json::to_vec(&serde_json::Value::Object(m)) {
            let mut line = b"{\"__CURSOR\":\"s=1\"".to_vec();
            if rest.len() > 2 {
                line.push(b',');
            }
            line.extend_from_slice(&rest[1..]);
            read(&line);
        }
    }
});
