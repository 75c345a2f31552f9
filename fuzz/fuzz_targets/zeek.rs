//! Arbitrary bytes as a Zeek TSV log (alone and after a header), as one Zeek JSON line,
//! and as Zeek files through the readers (the counts returned must be those reported).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_event::zeek::{json_record, parse_tsv};
use vigie_event::{read_bytes, ReadOptions};

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
        let (mut events, mut errors) = (0u64, 0u64);
        if let Ok(stats) = read_bytes(
            "zeek.log",
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
