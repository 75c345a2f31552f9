//! Arbitrary bytes as cloud audit JSON: alone, inside a CloudTrail `Records` container,
//! and after a recognised record, through the JSON reader (the counts returned must be
//! those reported; every event is an object).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::{read_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let mut inputs = vec![data.to_vec()];
    let mut records = b"{\"Records\":[".to_vec();
    records.extend_from_slice(data);
    records.extend_from_slice(b"]}");
    inputs.push(records);
    let mut after = br#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","userIdentity":{}}"#
        .to_vec();
    after.push(b'\n');
    after.extend_from_slice(data);
    inputs.push(after);
    for file in inputs {
        let (mut events, mut errors) = (0u64, 0u64);
        if let Ok(stats) = read_bytes(
            "cloud.json",
            &file,
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
});
