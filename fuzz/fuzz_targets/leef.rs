//! Arbitrary bytes as one leef line (alone and after the format's start), and as a file
//! through the readers behind a good first line (the counts returned must be those
//! reported); with `leef::parse` every document is an object with a `_source`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use vigie_event::leef::parse;

const HEAD: &[u8] = b"LEEF:2.0|V|P|1|2|^|";

fuzz_target!(|data: &[u8]| {
    for line in [data.to_vec(), [HEAD, data].concat()] {
        if let Ok(m) = parse(&line) {
            assert!(m.contains_key("_source"));
        }
    }
    let mut file = HEAD.to_vec();
    if !HEAD.ends_with(b"\n") {
        file.extend_from_slice(b"a=b\n");
    }
    file.extend_from_slice(data);
    common::read_counted("leef.log", &file);
});
