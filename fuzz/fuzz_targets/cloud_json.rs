//! Arbitrary bytes as cloud audit JSON: alone, inside a CloudTrail `Records` container,
//! and after a recognised record, through the JSON reader (the counts returned must be
//! those reported; every event is an object).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

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
        common::read_counted("cloud.json", &file);
    }
});
