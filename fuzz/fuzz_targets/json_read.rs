//! Arbitrary bytes as JSON lines and as a JSON array (the first byte picks which).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(data.len());
    bytes.push(if first & 1 == 0 { b'{' } else { b'[' });
    bytes.extend_from_slice(rest);
    common::read_counted("fuzz.json", &bytes);
});
