//! How event values become group keys, distinct-value keys and numbers.

use serde_json::Value;

/// The text a value is grouped and counted by, or `None` when the value cannot stand for
/// a group (JSON `null` is treated like a missing field).
///
/// Numbers and numeric strings compare by their text, so `4624` and `"4624"` (the same
/// field rendered differently by two log sources joined through aliases) are one key.
/// Comparison is case-sensitive: SIEM `group by` clauses are, and folding would merge
/// values that differ on case-sensitive systems.
pub(crate) fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // Arrays and objects: their compact JSON text, stable for equal documents because
        // serde_json keeps key order as parsed.
        other => Some(other.to_string()),
    }
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

/// Joins several key texts into one (for `value_count` over several fields). The unit
/// separator keeps `("a b", "c")` and `("a", "b c")` apart.
pub(crate) fn join_keys(parts: &[String]) -> String {
    parts.join("\u{1f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_text_forms() {
        assert_eq!(key_text(&json!(4624)).as_deref(), Some("4624"));
        assert_eq!(key_text(&json!("4624")).as_deref(), Some("4624"));
        assert_eq!(key_text(&json!(null)), None);
        assert_eq!(key_text(&json!([1, "a"])).as_deref(), Some("[1,\"a\"]"));
        assert_ne!(key_text(&json!("Admin")), key_text(&json!("admin")));
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
