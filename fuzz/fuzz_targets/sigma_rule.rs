//! Arbitrary text as one Sigma document: parse and compile must refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(refusal) = vigie_sigma::parse_rule_str(text) {
            // A refusal always says why.
            assert!(!refusal.reason.is_empty());
        }
    }
});
