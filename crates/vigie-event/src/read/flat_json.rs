//! The fast path of JSON reading: a record that is one flat object (every member a
//! string, number, boolean or null) read straight into a [`FlatDoc`].
//!
//! It only ever answers for well-formed flat objects with distinct keys. Anything else
//! (nested values, duplicate keys, a lone surrogate escape, a number it does not read
//! itself, any syntax error) gives `None`, and the caller parses the record the general
//! way, which builds the tree or reports the error at its position. So this reader needs
//! no error messages, and whatever it accepts it must read exactly as serde_json does
//! (a property test checks that).

use serde_json::{Number, Value};

use crate::flat::FlatDoc;
use crate::tree::Node;

/// Reads `text` as one flat JSON object, or `None` (see the module doc).
pub(crate) fn parse_flat(text: &str) -> Option<FlatDoc> {
    let b = text.as_bytes();
    // Offsets in a `FlatDoc` are u32; records are far smaller (see `MAX_RECORD`).
    if u32::try_from(b.len()).is_err() {
        return None;
    }
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    // Over 24 bytes per member in typical logs; keys are a small part of the text.
    let mut doc = FlatDoc::with_capacity(b.len() / 24 + 1, b.len() / 3);
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            i = string_into(text, i + 1, doc.key_buf())?;
            i = skip_ws(b, i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
            let (value, next) = scalar(text, i)?;
            if !doc.push(value) {
                return None;
            }
            i = skip_ws(b, next);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if skip_ws(b, i) != b.len() || doc.has_duplicate_keys() {
        return None;
    }
    Some(doc)
}

/// Deepest object nesting [`parse_tree`] reads (EVTX records nest four or five deep).
const MAX_DEPTH: usize = 32;

/// Reads `text` as one JSON object of objects and scalars (no arrays, distinct keys in
/// every object) into a [`Node`] tree, or `None`, as [`parse_flat`] does. For EVTX
/// records, which the `evtx` crate renders this way.
pub(crate) fn parse_tree(text: &str) -> Option<Node> {
    let b = text.as_bytes();
    let i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let (node, end) = object(text, i, 0)?;
    (skip_ws(b, end) == b.len()).then_some(node)
}

/// The object whose `{` is at `i`, and the offset past its `}`.
fn object(text: &str, i: usize, depth: usize) -> Option<(Node, usize)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let b = text.as_bytes();
    let mut members: Vec<(Box<str>, Node)> = Vec::new();
    let mut i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some((Node::Object(members), i + 1));
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let run = special(b.get(start..)?)?;
        let key: Box<str> = if b[start + run] == b'"' {
            i = start + run + 1;
            text.get(start..start + run)?.into()
        } else {
            let mut k = String::new();
            i = string_into(text, start, &mut k)?;
            k.into()
        };
        i = skip_ws(b, i);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let (node, next) = if b.get(i) == Some(&b'{') {
            object(text, i, depth + 1)?
        } else {
            let (v, next) = scalar(text, i)?;
            (Node::Leaf(v), next)
        };
        members.push((key, node));
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    let distinct = members.iter().enumerate().all(|(n, (k, _))| {
        members[n + 1..]
            .iter()
            .all(|(o, _)| o.len() != k.len() || o != k)
    });
    distinct.then_some((Node::Object(members), i + 1))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// A scalar starting at `i`: the value and the offset just past it.
fn scalar(text: &str, i: usize) -> Option<(Value, usize)> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b'"' => {
            let start = i + 1;
            let run = special(b.get(start..)?)?;
            let end = start + run;
            // Most values have no escape: one allocation of the right size.
            if b[end] == b'"' {
                return Some((Value::String(text.get(start..end)?.to_owned()), end + 1));
            }
            // Sized to the next quote: exact unless an escaped quote comes first.
            let cap = memchr::memchr(b'"', &b[end..]).map_or(run, |q| end + q - start);
            let mut s = String::with_capacity(cap);
            let end = string_into(text, start, &mut s)?;
            Some((Value::String(s), end))
        }
        b't' => literal(b, i, b"true", Value::Bool(true)),
        b'f' => literal(b, i, b"false", Value::Bool(false)),
        b'n' => literal(b, i, b"null", Value::Null),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => None,
    }
}

fn literal(b: &[u8], i: usize, word: &[u8], v: Value) -> Option<(Value, usize)> {
    let end = i + word.len();
    (b.get(i..end)? == word).then_some((v, end))
}

/// A number: integers of up to 18 digits read here, anything else (fractions,
/// exponents, longer integers, malformed text) handed to serde_json on its own text, so
/// rounding and overflow to float are serde_json's own.
fn number(b: &[u8], i: usize) -> Option<(Value, usize)> {
    let mut end = i;
    while end < b.len() && matches!(b[end], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
        end += 1;
    }
    let text = b.get(i..end)?;
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let plain = !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    if plain {
        let mut u = 0u64;
        for d in digits {
            u = u * 10 + u64::from(d - b'0');
        }
        // serde_json reads `-0` as the float -0.0.
        let n = match (neg, u) {
            (false, u) => Number::from(u),
            (true, 0) => Number::from_f64(-0.0)?,
            (true, u) => Number::from(-(u as i64)),
        };
        return Some((Value::Number(n), end));
    }
    let text = std::str::from_utf8(text).ok()?;
    match serde_json::from_str::<Value>(text).ok()? {
        v @ Value::Number(_) => Some((v, end)),
        _ => None,
    }
}

/// Unescapes the string body starting at `i` (just past the opening quote) onto `out`;
/// the offset just past the closing quote.
fn string_into(text: &str, mut i: usize, out: &mut String) -> Option<usize> {
    let b = text.as_bytes();
    loop {
        let run = special(b.get(i..)?)?;
        // Runs start and end next to ASCII bytes: always on character boundaries.
        out.push_str(text.get(i..i + run)?);
        i += run;
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => i = escape(b, i + 1, out)?,
            // A raw control character, which JSON forbids in strings.
            _ => return None,
        }
    }
}

/// Length of the run before the first `"`, `\` or control character; `None` when there
/// is none (the string is not closed).
#[inline]
fn special(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    // Eight bytes at a time: a byte is special when it equals `"` or `\` or is below
    // 0x20. The tests may flag a byte after a true hit but never miss or precede one,
    // so the first flagged byte is the first special one.
    while let Some(chunk) = s.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        let hit = has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS);
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

/// One escape after its backslash (at `i`), onto `out`; the offset past it.
fn escape(b: &[u8], i: usize, out: &mut String) -> Option<usize> {
    let c = match *b.get(i)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hi = hex4(b, i + 1)?;
            let (code, next) = match hi {
                0xD800..=0xDBFF => {
                    // A surrogate pair; a lone half is serde_json's error to report.
                    if b.get(i + 5..i + 7)? != b"\\u" {
                        return None;
                    }
                    let lo = hex4(b, i + 7)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), i + 11)
                }
                0xDC00..=0xDFFF => return None,
                c => (c, i + 5),
            };
            out.push(char::from_u32(code)?);
            return Some(next);
        }
        _ => return None,
    };
    out.push(c);
    Some(i + 1)
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(i..i + 4)? {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json makes of `text`, when it is a flat object with distinct keys.
    fn serde_flat(text: &str) -> Option<Value> {
        let v: Value = serde_json::from_str(text).ok()?;
        let m = v.as_object()?;
        if m.values().any(|v| v.is_object() || v.is_array()) {
            return None;
        }
        Some(v)
    }

    fn check(text: &str) {
        let ours = parse_flat(text);
        if let Some(d) = &ours {
            // Whatever the fast path accepts, it reads as serde_json does, in order.
            let v = serde_flat(text).unwrap_or_else(|| panic!("accepted non-flat {text:?}"));
            assert_eq!(d.to_value().to_string(), v.to_string(), "{text:?}");
            assert_eq!(d.to_value(), v, "{text:?}");
        }
    }

    #[test]
    fn reads_typical_records() {
        let line = r#" {"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"ProcessId":14031,"Image":"C:\\Program Files (x86)\\x.exe","Product":"Microsoft\u00ae Windows\u00ae","CommandLine":"\"a\" -b\t\/c","Big":18446744073709551616,"F":0.5,"N":-12,"Z":-0,"T":true,"U":null,"E":"","Emoji":"\ud83d\ude00 é"} "#;
        let d = parse_flat(line).expect("flat");
        assert_eq!(d.len(), 14);
        assert_eq!(d.get("CommandLine"), Some(&Value::from("\"a\" -b\t/c")));
        assert_eq!(d.get("Emoji"), Some(&Value::from("😀 é")));
        check(line);
        assert_eq!(parse_flat("{}").map(|d| d.len()), Some(0));
        check("{ }");
    }

    #[test]
    fn leaves_everything_else_to_the_general_parser() {
        for text in [
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00x"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e999}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            r#"{"a":"open"#,
            "[1]",
            "",
        ] {
            assert!(parse_flat(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn numbers_as_serde_json_reads_them() {
        for n in [
            "0",
            "-0",
            "7",
            "-7",
            "999999999999999999",
            "-999999999999999999",
            "9223372036854775807",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "0.1",
            "-0.0",
            "1E+2",
            "2.2250738585072014e-308",
            "3.141592653589793238462643383279",
        ] {
            check(&format!("{{\"n\":{n}}}"));
            assert!(parse_flat(&format!("{{\"n\":{n}}}")).is_some(), "{n}");
        }
    }

    /// What serde_json makes of `text`, when it is objects of objects and scalars with
    /// distinct keys (serde_json keeps the last of repeated keys, so they are not seen).
    fn serde_tree(text: &str) -> Option<Value> {
        fn ok(v: &Value) -> bool {
            match v {
                Value::Array(_) => false,
                Value::Object(m) => m.values().all(ok),
                _ => true,
            }
        }
        let v: Value = serde_json::from_str(text).ok()?;
        (v.is_object() && ok(&v)).then_some(v)
    }

    fn check_tree(text: &str) {
        if let Some(n) = parse_tree(text) {
            let v = serde_tree(text).unwrap_or_else(|| panic!("accepted {text:?}"));
            assert_eq!(n.to_value().to_string(), v.to_string(), "{text:?}");
        }
    }

    #[test]
    fn reads_evtx_records_as_trees() {
        let rec = r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2019-05-12T13:40:05.384613Z"}},"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c \"whoami\""}}}"##;
        let n = parse_tree(rec).expect("tree");
        check_tree(rec);
        use crate::tree::Tree;
        let ev = (&n).get("Event").and_then(|e| e.get("EventData"));
        assert_eq!(
            ev.and_then(|d| d.get("CommandLine")).map(Tree::value),
            Some(&Value::from("cmd /c \"whoami\""))
        );
        for bad in [
            r#"{"a":{"b":[1]}}"#,
            r#"{"a":{"b":1,"b":2}}"#,
            r#"{"a":{"b":1}"#,
            r#"{"a":{"b":1}} x"#,
        ] {
            assert!(parse_tree(bad).is_none(), "{bad}");
        }
        let deep = format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40));
        assert!(parse_tree(&deep).is_none());
        check_tree(&deep);
    }

    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>().prop_map(|s| Value::String(s).to_string()),
            "[a-zA-Z0-9 \\\\\"/.:é®\u{1F600}\t-]{0,20}".prop_map(|s| format!("\"{s}\"")),
            prop::sample::select(vec![
                r#""\u00e9\u00AE \ud83d\ude00""#,
                r#""\ud800 lone""#,
                r#""\b\f\n\r\t\/\\\"""#,
                "true",
                "false",
                "null",
                "nul",
                "01",
                "-",
                "1e400",
                "[1,2]",
                "{\"x\":1}",
            ])
            .prop_map(str::to_owned),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
        ]
    }

    proptest! {
        #[test]
        fn accepts_only_what_serde_json_reads_the_same(
            members in prop::collection::vec(("[abé\"\\\\]{0,3}", scalar_text()), 0..8),
            ws in "[ \t\r\n]{0,2}",
            cut in any::<prop::sample::Index>(),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}{ws}:{ws}{v}", Value::from(k.as_str())))
                .collect();
            let text = format!("{ws}{{{ws}{}{ws}}}{ws}", body.join(","));
            check(&text);
            // Distinct keys and valid scalars: the fast path must take it.
            let keys: std::collections::HashSet<&String> = members.iter().map(|(k, _)| k).collect();
            if keys.len() == members.len() && serde_flat(&text).is_some() {
                prop_assert!(parse_flat(&text).is_some(), "{}", text);
            }
            let cut = cut.index(text.len() + 1);
            if let Some(part) = text.get(..cut) {
                check(part);
            }
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                check(text);
                check_tree(text);
            }
        }

        #[test]
        fn trees_as_serde_json_reads_them(
            members in prop::collection::vec(("[abé\"]{0,2}", scalar_text(), any::<bool>()), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            // Scalars, some of them wrapped in a one- or two-member object.
            let body: Vec<String> = members
                .iter()
                .map(|(k, v, wrap)| {
                    let key = Value::from(k.as_str());
                    if *wrap {
                        format!("{key}:{{{key}:{v},\"#text\":{v}}}")
                    } else {
                        format!("{key}:{v}")
                    }
                })
                .collect();
            let text = format!("{{\"Event\":{{{}}}}}", body.join(","));
            check_tree(&text);
            let keys: std::collections::HashSet<&String> = members.iter().map(|(k, _, _)| k).collect();
            if keys.len() == members.len() && !keys.iter().any(|k| k.as_str() == "#text") && serde_tree(&text).is_some() {
                prop_assert!(parse_tree(&text).is_some(), "{}", text);
            }
            if let Some(part) = text.get(..cut.index(text.len() + 1)) {
                check_tree(part);
            }
        }
    }
}
