//! Arbitrary bytes behind the EVTX magic, through the same path as a file on disk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::{read_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    // Without the magic almost every input would stop at sniffing; inputs that have it
    // (a corpus seeded with real files) are taken as they are.
    let mut bytes = Vec::with_capacity(data.len() + 8);
    if !data.starts_with(b"ElfFile\0") {
        bytes.extend_from_slice(b"ElfFile\0");
    }
    bytes.extend_from_slice(data);
    let opts = ReadOptions {
        evtx_threads: 1,
        ..Default::default()
    };
    let (mut events, mut errors) = (0u64, 0u64);
    if let Ok(stats) = read_bytes(
        "fuzz.evtx",
        &bytes,
        &opts,
        &mut |_| events += 1,
        &mut |_| errors += 1,
    ) {
        assert_eq!((stats.events, stats.skipped), (events, errors));
    }
});
