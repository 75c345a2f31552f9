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
                    "invalid type: {}, expected one of the allowed words",
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
