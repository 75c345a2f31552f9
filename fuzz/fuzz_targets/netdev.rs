//! Arbitrary bytes as a network device message: after a Cisco / Huawei / Junos / FortiGate
//! head the first byte picks (so the recognisers are reached, not only the syslog
//! parser), parsed and enriched; and FortiOS `key=value` text on its own.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::netdev::{looks_like_fortigate, parse_kv};
use vigie_event::syslog::{parse, ParseOptions};

const HEADS: [&[u8]; 6] = [
    b"<189>Mar  3 09:00:01 rtr 12: ",
    b"<189>Mar  3 09:00:01 rtr %",
    b"Mar  3 2024 09:00:00 ne40 %%01",
    b"Mar  3 09:00:00 mx rpd[1]: ",
    b"<189>date=2024-03-03 time=10:00:00 devname=\"F\" logid=\"1\" type=\"event\" ",
    b"",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut line = HEADS[usize::from(first) % HEADS.len()].to_vec();
    line.extend_from_slice(rest);
    let opts = ParseOptions::at(chrono::DateTime::UNIX_EPOCH);
    if let Ok(m) = parse(&line, &opts) {
        let d = m.to_document();
        assert!(d.get("message").is_some());
    }
    let text = String::from_utf8_lossy(rest);
    let kv = parse_kv(&text);
    assert!(kv.len() <= 256);
    let _ = looks_like_fortigate(rest);
});
