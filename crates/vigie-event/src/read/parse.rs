//! One record's bytes to a `serde_json::Value`: the hot path of JSON reading.
//!
//! Same result and same errors as `serde_json::from_slice`, faster: the whole record is
//! checked as UTF-8 once (a fast pass over mostly-ASCII text) and then parsed as `str`,
//! so the parser does not validate every string again. Invalid UTF-8 goes to
//! `from_slice`, which reports it where it is.

use serde_json::Value;

/// Parses one JSON record (line, element, multi-line value).
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Outcome as comparable text: the value, or serde's message with its position.
    fn outcome(r: Result<Value, serde_json::Error>) -> Result<Value, String> {
        r.map_err(|e| e.to_string())
    }

    /// JSON scalars that stress the parser: escapes, non-ASCII, surrogates, numbers at
    /// and past the integer limits, floats, exponents.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 .:/\\-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            any::<String>().prop_map(|s| Value::String(s).to_string()),
            prop::sample::select(vec![
                r#""C:\\Windows\\System32\\cmd.exe""#,
                r#""tab\there \"q\" \/ \b\f\n\r""#,
                r#""\u00e9\u00AE \ud83d\ude00 é ®""#,
                r#""\ud800 lone""#,
                r#""bad \x escape""#,
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775808",
                "-9223372036854775809",
                "123456789012345678901234567890",
                "0.1",
                "-0.0",
                "1e308",
                "1e309",
                "2.2250738585072014e-308",
                "3.141592653589793238462643383279",
                "1E+2",
                "01",
                "1.",
                "true",
                "null",
                "nul",
            ])
            .prop_map(str::to_owned),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        scalar().prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                // Keys from a small set, so duplicates happen (the last one wins).
                prop::collection::vec(("[abé]{1,2}", inner), 0..6).prop_map(|kv| {
                    let body: Vec<String> =
                        kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    proptest! {
        /// Same values and same errors as `serde_json::from_slice`.
        #[test]
        fn same_as_from_slice(text in value(), cut in any::<prop::sample::Index>()) {
            let bytes = text.as_bytes();
            prop_assert_eq!(outcome(parse_value(bytes)), outcome(serde_json::from_slice(bytes)));
            // Truncated records, possibly inside a multi-byte character.
            let cut = &bytes[..cut.index(bytes.len() + 1)];
            prop_assert_eq!(outcome(parse_value(cut)), outcome(serde_json::from_slice(cut)));
        }

        #[test]
        fn same_as_from_slice_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(outcome(parse_value(&bytes)), outcome(serde_json::from_slice(&bytes)));
        }
    }

    #[test]
    fn generated_sysmon_lines() {
        // Representative of bench/gen_sysmon.py output, with escapes and non-ASCII.
        let line = br#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"UtcTime":"2026-05-04 08:00:00.011","ProcessId":14031,"Image":"C:\\Program Files (x86)\\Edge\\x.exe","Product":"Microsoft\u00ae Windows\u00ae","CommandLine":"\"a\" -b","Big":18446744073709551616,"F":0.5}"#;
        let v = parse_value(line).map_err(|e| e.to_string());
        assert_eq!(v, outcome(serde_json::from_slice(line)));
        assert_eq!(
            v.ok().and_then(|v| v.get("Image").cloned()),
            Some(Value::from(r"C:\Program Files (x86)\Edge\x.exe"))
        );
    }
}
