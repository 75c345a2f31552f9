//! Arbitrary bytes as a Zeek TSV log (alone and after a header), as one Zeek JSON line,
//! and as Zeek files through the readers (the counts returned must be those reported).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vigie_event::zeek::{json_record, parse_tsv};

fuzz_target!(|data: &[u8]| {
    let (docs, errs) = parse_tsv(data);
    assert!(docs.iter().all(|d| d.is_object()));
    assert!(errs.iter().all(|(line, _)| *line >= 1));
    if let Ok(v) = json_record(data) {
        assert!(v.is_object());
    }
    for head in [
        &b"#separator \\x09\n#fields\tts\tquery\n#types\ttime\tset[string]\n"[..],
        &b"{\"ts\":1,\"uid\":\"C\"}\n"[..],
    ] {
        let mut file = head.to_vec();
        file.extend_from_slice(data);
        common::read_counted("zeek.log", &file);
    }
});
