//! The STIX pattern parser and evaluator on arbitrary input: a pattern (2.0 or 2.1 by the
//! first byte) and, after a NUL, an observed-data document. No panic and no stack
//! overflow (the parser bounds operators, the search bounds depth and steps); a parsed
//! pattern prints as text that parses again to the same pattern.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_intel::pattern::{ObservedData, Pattern, StixVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let version = if sel & 1 == 0 { StixVersion::V2_1 } else { StixVersion::V2_0 };
    let (pattern_text, observed_text) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(pattern) = Pattern::parse_version(pattern_text, version) else {
        return;
    };
    let _ = pattern.validate();
    let _ = pattern.simple_terms();
    let printed = pattern.to_string();
    let again = Pattern::parse_version(&printed, version);
    assert!(again.is_ok(), "canonical text {printed:?} does not parse again");
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(observed_text) {
        if let Ok(observed) = ObservedData::from_json(&doc) {
            let _ = pattern.evaluate(&observed);
        }
    }
});
