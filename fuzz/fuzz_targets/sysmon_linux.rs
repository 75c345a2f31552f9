//! Arbitrary text as the XML of a Sysmon for Linux event: read on its own (bounded, an
//! error with an offset inside the text, never a panic) and inside a syslog line, as a
//! file (every line an event or a counted error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::syslog::sysmon::{parse_event, MAX_FIELDS};
use vigie_event::{read_bytes, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let xml = String::from_utf8_lossy(data);
    match parse_event(&xml) {
        Ok(fields) => assert!(fields.len() <= MAX_FIELDS),
        Err(e) => assert!(e.offset <= xml.len()),
    }
    let mut file = b"Mar  3 10:00:00 h sysmon: <Event>".to_vec();
    file.extend(data.iter().map(|b| if *b == b'\n' { b' ' } else { *b }));
    let (mut events, mut errors) = (0u64, 0u64);
    if let Ok(stats) = read_bytes(
        "fuzz.log",
        &file,
        &ReadOptions::default(),
        &mut |_| events += 1,
        &mut |_| errors += 1,
    ) {
        assert_eq!((stats.events, stats.skipped), (events, errors));
        assert_eq!(events + errors, 1);
    }
});
