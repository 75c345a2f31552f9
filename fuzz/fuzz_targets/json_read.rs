//! Arbitrary bytes as JSON lines and as a JSON array (the first byte picks which).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::{read_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(data.len());
    bytes.push(if first & 1 == 0 { b'{' } else { b'[' });
    bytes.extend_from_slice(rest);
    let (mut events, mut errors) = (0u64, 0u64);
    if let Ok(stats) = read_bytes(
        "fuzz.json",
        &bytes,
        &ReadOptions::default(),
        &mut |e| {
            assert!(e.doc().is_object());
            events += 1
        },
        &mut |_| errors += 1,
    ) {
        assert_eq!((stats.events, stats.skipped), (events, errors));
    }
});
