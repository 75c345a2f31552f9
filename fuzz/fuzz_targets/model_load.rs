//! Arbitrary text as an operator model, YAML (first byte even) or JSON (odd): loading
//! returns a model or diagnostics whose positions lie inside the text, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_model::{load_str, Format};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first & 1 == 0 { Format::Yaml } else { Format::Json };
    if let Err(diags) = load_str(text, "fuzz", format) {
        assert!(!diags.is_empty());
        // Line breaks as YAML counts them (\n, \r\n and a lone \r); a diagnostic may
        // point just past the last line (end of input).
        let breaks = text.matches('\n').count() + text.matches('\r').count()
            - text.matches("\r\n").count();
        let lines = breaks + 2;
        for d in &diags {
            assert!((d.line as usize) <= lines, "diagnostic past the end: {d:?}");
        }
    }
});
