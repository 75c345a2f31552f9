//! The ecs recogniser (`read/shape/ecs.rs`): arbitrary bytes read as JSON lines, and,
//! when they parse as a JSON object, that object given `@timestamp` and an `ecs` object
//! so that it reaches the recogniser whatever else it holds. Every record is read
//! (an event or an error), nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::{read_bytes, ReadOptions};

fn read(bytes: &[u8]) {
    let (mut events, mut errors) = (0u64, 0u64);
    if let Ok(stats) = read_bytes(
        "fuzz.json",
        bytes,
        &ReadOptions::default(),
        &mut |e| {
            assert!(e.doc().is_object());
            events += 1
        },
        &mut |_| errors += 1,
    ) {
        assert_eq!((stats.events, stats.skipped), (events, errors));
    }
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
