//! Arbitrary text through vigie-yaml's two readers: whenever the line-based fast reader
//! accepts a text, its tree (positions included) or its errors equal yaml-rust2's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_yaml::{parse_yaml_fast, parse_yaml_full, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let limits = Limits::default();
        if let Some(fast) = parse_yaml_fast(text, &limits) {
            assert_eq!(fast, parse_yaml_full(text, &limits), "text: {text:?}");
        }
    }
});
