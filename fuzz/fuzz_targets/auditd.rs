//! Arbitrary bytes as one auditd record, as records joined into an event, and as an
//! auditd file (the counts the reader returns must be those it reported).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use vigie_event::auditd::{parse_record, Assembler};

fuzz_target!(|data: &[u8]| {
    let mut asm = Assembler::new();
    let mut out = Vec::new();
    let mut records = 0;
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        match parse_record(line) {
            Ok(r) => {
                records += 1;
                asm.push(i as u64 + 1, r, &mut out);
            }
            Err(e) => assert!(e.offset <= line.len()),
        }
    }
    asm.flush(&mut out);
    assert!(out.len() <= records);
    assert!(out.iter().all(|(_, d)| d.get("type").is_some()));
    let mut file = b"type=EOE msg=audit(1.000:1): \n".to_vec();
    file.extend_from_slice(data);
    common::read_counted("audit.log", &file);
});
