//! serde deserialization from a positioned [`Node`] tree: errors carry the position of the
//! innermost node involved, so "unknown field", "invalid type" or "missing field" messages
//! point at the right line.
//!
//! Scalars follow YAML's core schema when unquoted (null, booleans, integers, floats) and
//! are strings when quoted. A string field accepts any scalar (so an id may be `2024`).

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::tree::{Node, Pos, Value};

/// A deserialization error at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    /// What is wrong.
    pub message: String,
    /// Where (None until an enclosing node claims it).
    pub pos: Option<Pos>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            pos: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "found {}, expected {}",
            found(&unexp),
            expected(&exp.to_string())
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "{} is not allowed here, expected {}",
            found(&unexp),
            expected(&exp.to_string())
        ))
    }
}

/// What the document holds, in the words of a YAML or JSON author (serde's own wording
/// names Rust types: "floating point", "unit").
fn found(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("`{b}`"),
        U::Unsigned(n) => format!("the number {n}"),
        U::Signed(n) => format!("the number {n}"),
        U::Float(f) => format!("the number {f}"),
        U::Char(c) => format!("the text {:?}", c.to_string()),
        U::Str(s) => format!("the text {s:?}"),
        U::Bytes(_) => "binary data".into(),
        U::Unit | U::Option => "nothing (null)".into(),
        U::NewtypeStruct | U::Other(_) => "a value".into(),
        U::Seq => "a list".into(),
        U::Map | U::StructVariant => "a mapping".into(),
        U::Enum | U::UnitVariant | U::NewtypeVariant | U::TupleVariant => "a word".into(),
    }
}

/// serde's "expected" text with Rust type names replaced by what a document author writes.
fn expected(exp: &str) -> String {
    let words = match exp {
        "f32" | "f64" => "a number",
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" | "a character" | "char" => "a text",
        "unit" => "nothing (null)",
        "a sequence" => "a list",
        "a map" => "a mapping",
        _ if exp.starts_with("struct ") => "a mapping",
        _ if exp.starts_with("a sequence") || exp.starts_with("tuple") => "a list",
        _ if exp.starts_with("a map") || exp.starts_with("map") => "a mapping",
        _ => return exp.to_string(),
    };
    words.to_string()
}

impl DeError {
    fn at(mut self, pos: Pos) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }
}

/// Deserialize a `T` from a node.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e| e.at(node.pos))
}

/// What an unquoted scalar means.
enum Plain<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

fn resolve(text: &str) -> Plain<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | "+.inf" | ".Inf" | "+.Inf" | ".INF" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    // Digit groups (`18_000_000`) read better in customer counts; YAML 1.1 allowed them.
    if digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.contains('_')
        && digits.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        let compact: String = text.chars().filter(|&c| c != '_').collect();
        return match resolve(&compact) {
            Plain::UInt(u) => Plain::UInt(u),
            Plain::Int(i) => Plain::Int(i),
            _ => Plain::Str(text),
        };
    }
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(u) = text.strip_prefix('+').unwrap_or(text).parse::<u64>() {
            return Plain::UInt(u);
        }
        if let Ok(i) = text.parse::<i64>() {
            return Plain::Int(i);
        }
    }
    let looks_numeric = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_numeric {
        if let Ok(f) = text.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    Plain::Str(text)
}

#[derive(Clone, Copy)]
struct NodeDe<'de>(&'de Node);

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let r = match &node.value {
            Value::Scalar { text, plain: false } => visitor.visit_borrowed_str(text),
            Value::Scalar { text, plain: true } => match resolve(text) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::UInt(u) => visitor.visit_u64(u),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Str(s) => visitor.visit_borrowed_str(s),
            },
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(node.pos))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar { text, plain } if !(*plain && matches!(resolve(text), Plain::Null)) => {
                visitor
                    .visit_borrowed_str::<DeError>(text)
                    .map_err(|e| e.at(self.0.pos))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar { text, plain: true } if matches!(resolve(text), Plain::Null) => {
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar { text, .. } => visitor
                .visit_enum(text.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(self.0.pos)),
            _ => Err(DeError {
                message: format!(
                    "found {}, expected one of the allowed words",
                    self.0.type_name()
                ),
                pos: Some(self.0.pos),
            }),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct ignored_any
    }
}

struct SeqDe<'de> {
    items: std::slice::Iter<'de, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map(Some)
                .map_err(|e| e.at(node.pos)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    value: Option<&'de Node>,
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k))
                    .map(Some)
                    .map_err(|e| e.at(k.pos))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(NodeDe(v)).map_err(|e| e.at(v.pos)),
            None => Err(de::Error::custom("value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{parse_yaml, Limits};

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct T {
        hours: Option<f64>,
        count: Option<u64>,
        port: Option<u16>,
        delta: Option<i32>,
        on: Option<bool>,
        list: Option<Vec<u8>>,
    }

    fn err(text: &str) -> String {
        let root = parse_yaml(text, &Limits::default()).unwrap();
        from_node::<T>(&root).unwrap_err().message
    }

    #[test]
    fn errors_speak_the_document_language() {
        let cases = [
            ("hours: lots", r#"found the text "lots", expected a number"#),
            (
                "count: -1",
                "the number -1 is not allowed here, expected a whole number, 0 or more",
            ),
            (
                "count: 1.5",
                "found the number 1.5, expected a whole number, 0 or more",
            ),
            (
                "port: 70000",
                "the number 70000 is not allowed here, expected a whole number from 0 to 65535",
            ),
            ("delta: x", r#"found the text "x", expected a whole number"#),
            ("on: 3", "found the number 3, expected true or false"),
            ("list: {a: 1}", "found a mapping, expected a list"),
            ("hours: [1]", "found a list, expected a number"),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert_eq!(got, want, "{text}");
            for rust in ["f64", "u64", "u16", "i32", "invalid type", "floating point"] {
                assert!(!got.contains(rust), "{text}: {got}");
            }
        }
    }
}
