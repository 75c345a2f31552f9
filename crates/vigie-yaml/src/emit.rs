//! Any `Serialize` value → block-style YAML text (mappings and lists indented by two
//! spaces, lists at their key's indentation), readable back by [`crate::tree`] into the
//! same value. Strings are quoted whenever a plain scalar could be read as something else
//! (a number, `true`, `null`, a key, a comment): single quotes, or double quotes with
//! escapes when the text holds line breaks or control characters.
//!
//! The value is first built as a small tree (serde's data model, scalars already as
//! text), then written; a model is a few megabytes at most, so the tree costs nothing
//! that matters and keeps the writer simple.

use std::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

/// Why a value cannot be written as YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// A mapping key that is not a scalar (YAML allows it; nothing vigie reads needs it).
    #[error("a mapping key must be a text, a number or a boolean")]
    KeyNotScalar,
    /// The value's own `Serialize` failed.
    #[error("{0}")]
    Custom(String),
}

impl ser::Error for EmitError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EmitError::Custom(msg.to_string())
    }
}

/// A value of serde's data model, scalars already as YAML text.
#[derive(Debug, Clone)]
enum Out {
    /// A scalar written as is (`null`, `true`, a number) or a string to be quoted as needed.
    Raw(String),
    Str(String),
    Seq(Vec<Out>),
    Map(Vec<(String, Out)>),
}

/// Writes `value` as a YAML document (ending with a newline).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, EmitError> {
    let out = value.serialize(Builder)?;
    let mut text = String::new();
    match &out {
        Out::Raw(s) => text.push_str(s),
        Out::Str(s) => text.push_str(&scalar(s)),
        Out::Seq(items) if items.is_empty() => text.push_str("[]"),
        Out::Map(entries) if entries.is_empty() => text.push_str("{}"),
        Out::Seq(items) => write_seq(&mut text, items, 0),
        Out::Map(entries) => write_map(&mut text, entries, 0, false),
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn pad(text: &mut String, indent: usize) {
    text.extend(std::iter::repeat_n(' ', indent));
}

/// Writes the value after a `key:` or `- `: inline when a scalar or empty, else on the
/// following lines.
fn write_value(text: &mut String, v: &Out, indent: usize, in_seq: bool) {
    match v {
        Out::Raw(s) => {
            text.push(' ');
            text.push_str(s);
            text.push('\n');
        }
        Out::Str(s) => {
            text.push(' ');
            text.push_str(&scalar(s));
            text.push('\n');
        }
        Out::Seq(items) if items.is_empty() => text.push_str(" []\n"),
        Out::Map(entries) if entries.is_empty() => text.push_str(" {}\n"),
        Out::Seq(items) => {
            text.push('\n');
            // Lists under a key sit at the key's indentation; under `- ` one level in.
            write_seq(text, items, if in_seq { indent + 2 } else { indent });
        }
        Out::Map(entries) => {
            text.push('\n');
            write_map(text, entries, indent + 2, false);
        }
    }
}

fn write_seq(text: &mut String, items: &[Out], indent: usize) {
    for item in items {
        pad(text, indent);
        text.push('-');
        match item {
            // A mapping item starts on the dash's line: `- id: x`.
            Out::Map(entries) if !entries.is_empty() => write_map(text, entries, indent + 2, true),
            _ => write_value(text, item, indent, true),
        }
    }
}

/// `after_dash`: the first key goes on the current line, after `- `.
fn write_map(text: &mut String, entries: &[(String, Out)], indent: usize, after_dash: bool) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i == 0 && after_dash {
            text.push(' ');
        } else {
            pad(text, indent);
        }
        text.push_str(&scalar(k));
        text.push(':');
        write_value(text, v, indent, false);
    }
}

/// A string as a YAML scalar that reads back as the same string.
fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    if s.chars().any(|c| c.is_control()) {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\n' => q.push_str("\\n"),
                '\t' => q.push_str("\\t"),
                '\r' => q.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(q, "\\u{:04X}", c as u32);
                }
                c => q.push(c),
            }
        }
        q.push('"');
        return q;
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `s` written plain reads back as the same string under any reasonable schema:
/// starts with a letter, holds no YAML indicator that matters inside a plain scalar, and
/// is not a word some schema reads as null, a boolean or a number.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !first.is_alphabetic() || s.ends_with(' ') {
        return false;
    }
    let chars_ok = s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '/' | '(' | ')'));
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf"
    );
    chars_ok && !reserved
}

fn float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f < 0.0 { "-.inf" } else { ".inf" }.into()
    } else {
        // Display gives the shortest text that reads back to the same value; `.0` keeps
        // it a number with a fraction for the reader.
        let mut t = f.to_string();
        if !t.contains(['.', 'e', 'E']) {
            t.push_str(".0");
        }
        t
    }
}

struct Builder;

/// Collects the items of a list, tuple or the fields of a variant.
struct SeqB {
    items: Vec<Out>,
    /// For tuple variants: the variant's name, the outer key.
    variant: Option<&'static str>,
}

/// Collects a mapping or a struct.
struct MapB {
    entries: Vec<(String, Out)>,
    key: Option<String>,
    variant: Option<&'static str>,
}

fn key_text(k: Out) -> Result<String, EmitError> {
    match k {
        Out::Raw(s) | Out::Str(s) => Ok(s),
        _ => Err(EmitError::KeyNotScalar),
    }
}

fn wrap(variant: Option<&'static str>, v: Out) -> Out {
    match variant {
        Some(name) => Out::Map(vec![(name.to_string(), v)]),
        None => v,
    }
}

impl ser::Serializer for Builder {
    type Ok = Out;
    type Error = EmitError;
    type SerializeSeq = SeqB;
    type SerializeTuple = SeqB;
    type SerializeTupleStruct = SeqB;
    type SerializeTupleVariant = SeqB;
    type SerializeMap = MapB;
    type SerializeStruct = MapB;
    type SerializeStructVariant = MapB;

    fn serialize_bool(self, v: bool) -> Result<Out, EmitError> {
        Ok(Out::Raw(v.to_string()))
    }
    fn serialize_i8(self, v: i8) -> Result<Out, EmitError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Out, EmitError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Out, EmitError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Out, EmitError> {
        Ok(Out::Raw(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Out, EmitError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Out, EmitError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Out, EmitError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Out, EmitError> {
        Ok(Out::Raw(v.to_string()))
    }
    fn serialize_f32(self, v: f32) -> Result<Out, EmitError> {
        // The f32's own shortest text (0.1, not 0.10000000149011612).
        if v.is_finite() {
            let mut t = v.to_string();
            if !t.contains(['.', 'e', 'E']) {
                t.push_str(".0");
            }
            Ok(Out::Raw(t))
        } else {
            Ok(Out::Raw(float(v.into())))
        }
    }
    fn serialize_f64(self, v: f64) -> Result<Out, EmitError> {
        Ok(Out::Raw(float(v)))
    }
    fn serialize_char(self, v: char) -> Result<Out, EmitError> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Out, EmitError> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Out, EmitError> {
        Ok(Out::Seq(
            v.iter().map(|b| Out::Raw(b.to_string())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Out, EmitError> {
        Ok(Out::Raw("null".into()))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Out, EmitError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Out, EmitError> {
        Ok(Out::Raw("null".into()))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Out, EmitError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Out, EmitError> {
        Ok(Out::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Out, EmitError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Out, EmitError> {
        Ok(wrap(Some(variant), value.serialize(Builder)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqB, EmitError> {
        Ok(SeqB {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqB, EmitError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqB, EmitError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqB, EmitError> {
        Ok(SeqB {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapB, EmitError> {
        Ok(MapB {
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapB, EmitError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapB, EmitError> {
        Ok(MapB {
            entries: Vec::with_capacity(len),
            key: None,
            variant: Some(variant),
        })
    }
}

impl SeqB {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.items.push(value.serialize(Builder)?);
        Ok(())
    }
    fn done(self) -> Out {
        wrap(self.variant, Out::Seq(self.items))
    }
}

impl ser::SerializeSeq for SeqB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.push(value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for SeqB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.push(value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for SeqB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.push(value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleVariant for SeqB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.push(value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl MapB {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), EmitError> {
        self.entries
            .push((key.to_string(), value.serialize(Builder)?));
        Ok(())
    }
    fn done(self) -> Out {
        wrap(self.variant, Out::Map(self.entries))
    }
}

impl ser::SerializeMap for MapB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EmitError> {
        self.key = Some(key_text(key.serialize(Builder)?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EmitError::Custom("map value without a key".into()))?;
        self.entries.push((key, value.serialize(Builder)?));
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl ser::SerializeStruct for MapB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

impl ser::SerializeStructVariant for MapB {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(self.done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{parse_yaml, Limits, Value};

    fn text_of(node: &crate::Node) -> &str {
        node.as_scalar().unwrap_or("<not a scalar>")
    }

    #[test]
    fn tricky_strings_read_back_as_strings() {
        let cases = [
            "",
            "null",
            "~",
            "true",
            "No",
            "12",
            "1.5",
            "0x1F",
            "-3",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#c",
            "- x",
            "[x]",
            "{y}",
            "'q'",
            "\"dq\"",
            "line\nbreak",
            "tab\there",
            "ünïcödé",
            "*alias",
            "&anchor",
            "!tag",
            "%pct",
            "@at",
            "`tick`",
            "plain words",
            "with/slash",
            "a,b",
            "?q",
            "|lit",
            ">fold",
            "\u{7}bell",
        ];
        for s in cases {
            let doc = to_string(&vec![s]).unwrap();
            let root = parse_yaml(&doc, &Limits::default()).unwrap();
            let Value::Seq(items) = &root.value else {
                panic!("not a list: {doc}")
            };
            let item = &items[0];
            assert_eq!(text_of(item), s, "{doc}");
            // Anything not safe as a plain scalar is quoted, so it stays a string.
            if let Value::Scalar { plain, .. } = item.value {
                assert!(!plain || is_plain_safe(s), "{s:?} written plain: {doc}");
            }
        }
    }

    #[test]
    fn nesting_and_numbers_are_written_in_block_style() {
        #[derive(serde::Serialize)]
        struct Item {
            id: &'static str,
            tags: Vec<&'static str>,
            weight: f32,
            hours: f64,
            count: u64,
            none: Option<u8>,
            inner: Vec<Vec<u8>>,
            empty: Vec<u8>,
        }
        let v = vec![Item {
            id: "a",
            tags: vec!["x", "y"],
            weight: 0.1,
            hours: 48.0,
            count: 7,
            none: None,
            inner: vec![vec![1, 2], vec![]],
            empty: vec![],
        }];
        let doc = to_string(&v).unwrap();
        assert_eq!(
            doc,
            "- id: a\n  tags:\n  - x\n  - 'y'\n  weight: 0.1\n  hours: 48.0\n  count: 7\n  \
             none: null\n  inner:\n  -\n    - 1\n    - 2\n  - []\n  empty: []\n"
        );
        let root = parse_yaml(&doc, &Limits::default()).unwrap();
        let first = root.item(0).unwrap();
        assert_eq!(first.get("weight").and_then(|n| n.as_scalar()), Some("0.1"));
        assert_eq!(
            first
                .get("inner")
                .and_then(|n| n.item(0))
                .and_then(|n| n.item(1))
                .and_then(|n| n.as_scalar()),
            Some("2")
        );
    }
}
