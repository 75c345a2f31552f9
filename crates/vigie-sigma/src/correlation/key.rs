//! How event values become group keys, distinct-value keys and numbers.

use serde_json::Value;

/// Appends the text a value is grouped and counted by to `buf`; false (nothing
/// appended) for JSON `null`, which is treated like a missing field.
///
/// Numbers and numeric strings compare by their text, so `4624` and `"4624"` (the same
/// field rendered differently by two log sources joined through aliases) are one key.
/// Comparison is case-sensitive: SIEM `group by` clauses are, and folding would merge
/// values that differ on case-sensitive systems. Arrays and objects use their compact
/// JSON text (stable for equal documents: serde_json keeps key order as parsed).
pub(crate) fn push_key_text(v: &Value, buf: &mut String) -> bool {
    use std::fmt::Write;
    match v {
        Value::Null => return false,
        Value::String(s) => buf.push_str(s),
        Value::Number(n) => {
            // Writing to a String cannot fail.
            let _ = write!(buf, "{n}");
        }
        Value::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
        other => buf.push_str(&other.to_string()),
    }
    true
}

/// Appends one part of a composite key of `parts` parts. A single part is its text;
/// several are each prefixed by their length (`5:alice3:pc1`), so that no value, even
/// one containing separators, can make two different tuples share a key.
pub(crate) fn push_key_part(v: &Value, parts: usize, buf: &mut String) -> bool {
    if parts <= 1 {
        return push_key_text(v, buf);
    }
    let start = buf.len();
    if !push_key_text(v, buf) {
        return false;
    }
    let len = buf.len() - start;
    buf.insert_str(start, &format!("{len}:"));
    true
}

/// The numeric value of a field for `value_sum` / `value_avg`: a JSON number, or a string
/// holding one (EVTX renders most numbers as text).
pub(crate) fn number(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            let t = s.trim();
            if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).ok()? as f64
            } else {
                t.parse::<f64>().ok()?
            }
        }
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => return None,
    };
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key_text(v: &Value) -> Option<String> {
        let mut s = String::new();
        push_key_text(v, &mut s).then_some(s)
    }

    #[test]
    fn key_text_forms() {
        assert_eq!(key_text(&json!(4624)).as_deref(), Some("4624"));
        assert_eq!(key_text(&json!("4624")).as_deref(), Some("4624"));
        assert_eq!(key_text(&json!(null)), None);
        assert_eq!(key_text(&json!([1, "a"])).as_deref(), Some("[1,\"a\"]"));
        assert_ne!(key_text(&json!("Admin")), key_text(&json!("admin")));
    }

    #[test]
    fn composite_keys_are_unambiguous() {
        let key = |a: &str, b: &str| {
            let mut s = String::new();
            push_key_part(&json!(a), 2, &mut s);
            push_key_part(&json!(b), 2, &mut s);
            s
        };
        assert_ne!(key("a:b", "c"), key("a", "b:c"));
        assert_ne!(key("a1:b", "c"), key("a", "1:bc"));
        assert_eq!(key("x", "y"), "1:x1:y");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(&json!(12)), Some(12.0));
        assert_eq!(number(&json!(" 1.5 ")), Some(1.5));
        assert_eq!(number(&json!("0x10")), Some(16.0));
        assert_eq!(number(&json!("abc")), None);
        assert_eq!(number(&json!("NaN")), None);
        assert_eq!(number(&json!(true)), None);
    }
}
