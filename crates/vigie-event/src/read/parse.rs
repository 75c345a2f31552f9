//! One record's bytes to a `serde_json::Value`: the hot path of JSON reading.
//!
//! Same result and same errors as `serde_json::from_slice`, faster:
//! - the whole record is checked as UTF-8 once (a fast pass over mostly-ASCII text) and
//!   then parsed as `str`, so the parser does not validate every string again (invalid
//!   UTF-8 goes to `from_slice`, which reports it where it is);
//! - objects are built at their final size: their entries are gathered in a reused
//!   buffer, then moved into a `Map` allocated once. serde_json's own visitor grows each
//!   map entry by entry (with `preserve_order`, an `IndexMap` whose hash table is
//!   rebuilt at every doubling), which was a tenth of reading Sysmon JSON.
//!
//! The visitor below does what serde_json's `Value` visitor does for the features this
//! workspace enables (`preserve_order`; not `arbitrary_precision` nor `raw_value`, whose
//! magic keys it would not know): a repeated key keeps its first place and its last value.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Largest entry buffer kept for reuse.
const MAX_POOLED: usize = 1024;

/// Entries of objects being built, one buffer per nesting level in use.
type Pool = Vec<Vec<(String, Value)>>;

thread_local! {
    /// Kept across records so the buffers are allocated once per thread.
    static POOL: RefCell<Pool> = const { RefCell::new(Vec::new()) };
}

/// One parsed record: a flat object read by the fast path, or any JSON value.
#[derive(Debug)]
pub enum Parsed {
    Flat(crate::FlatDoc),
    Tree(Value),
}

/// Parses one JSON record: through [`super::flat_json`] when it is a flat object,
/// else as [`parse_value`] does (which also reports errors). The record is checked as
/// UTF-8 once for both. Same result and errors as `serde_json::from_slice` (see the
/// module doc), so callers outside the readers (serve's ingest) read JSON as hunt does.
pub fn parse_doc(bytes: &[u8]) -> Result<Parsed, serde_json::Error> {
    let text = std::str::from_utf8(bytes);
    if let Some(flat) = text.ok().and_then(super::flat_json::parse_flat) {
        return Ok(Parsed::Flat(flat));
    }
    parse_checked(bytes, text.ok()).map(Parsed::Tree)
}

/// Parses one JSON record (line, element, multi-line value).
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    parse_checked(bytes, std::str::from_utf8(bytes).ok())
}

/// [`parse_value`] with the UTF-8 check done: `text` is `bytes` when they are valid.
fn parse_checked(bytes: &[u8], text: Option<&str>) -> Result<Value, serde_json::Error> {
    // Taken out for the parse so no `RefCell` borrow is held across it.
    let mut pool = POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let parsed = match text {
        Some(text) => parse_with(&mut serde_json::Deserializer::from_str(text), &mut pool),
        None => parse_with(&mut serde_json::Deserializer::from_slice(bytes), &mut pool),
    };
    POOL.with(|p| *p.borrow_mut() = pool);
    parsed
}

/// Parses the one JSON value that `text` starts with (after whitespace), for readers
/// that have not delimited it: the value and the offset just past it, or `None` when
/// `text` does not start with a whole well-formed value followed by a plausible end.
pub(crate) fn parse_leading(text: &str) -> Option<(Value, usize)> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Built>();
    match stream.next() {
        Some(Ok(Built(v))) => Some((v, stream.byte_offset())),
        _ => None,
    }
}

/// A `Value` built by [`Build`] with the thread's pool, for serde_json's stream reader,
/// which wants a `Deserialize` type rather than a seed.
struct Built(Value);

impl<'de> serde::Deserialize<'de> for Built {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Built, D::Error> {
        let mut pool = POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let built = Build { pool: &mut pool }.deserialize(d);
        POOL.with(|p| *p.borrow_mut() = pool);
        built.map(Built)
    }
}

/// `serde_json::from_*`'s steps with [`Build`] for the value: parse, then reject
/// anything but whitespace after it.
fn parse_with<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    pool: &mut Pool,
) -> Result<Value, serde_json::Error> {
    let value = Build { pool }.deserialize(&mut *de)?;
    de.end()?;
    Ok(value)
}

/// Builds a `Value` like serde_json's visitor, objects sized once.
struct Build<'p> {
    pool: &'p mut Pool,
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Build {
            pool: &mut *self.pool,
        })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = self.pool.pop().unwrap_or_default();
        // On an error the buffer is dropped with its entries: rare, and it only costs a
        // later allocation.
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Build {
                pool: &mut *self.pool,
            })?;
            entries.push((key, value));
        }
        let mut object = Map::with_capacity(entries.len());
        for (k, v) in entries.drain(..) {
            object.insert(k, v);
        }
        // One huge object should not pin its buffer for the rest of the input.
        if entries.capacity() <= MAX_POOLED {
            self.pool.push(entries);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Outcome as comparable text: the value and its key order (`Map`'s `==` ignores
    /// order), or serde's message with its position.
    fn outcome(r: Result<Value, serde_json::Error>) -> Result<(Value, String), String> {
        r.map(|v| {
            let text = v.to_string();
            (v, text)
        })
        .map_err(|e| e.to_string())
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
        let v = outcome(parse_value(line));
        assert_eq!(v, outcome(serde_json::from_slice(line)));
        assert_eq!(
            v.ok().and_then(|(v, _)| v.get("Image").cloned()),
            Some(Value::from(r"C:\Program Files (x86)\Edge\x.exe"))
        );
    }
}
