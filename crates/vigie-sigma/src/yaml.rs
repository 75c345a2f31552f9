//! Rule YAML as values: one document read by the bounded reader of `vigie-yaml` (nesting
//! depth, size and alias expansion limited, so a hostile rule is refused in milliseconds
//! with its position), then its plain scalars resolved as Sigma tools read them: YAML
//! 1.2's core schema (`null`, `true`, `42`, `0x2A`, `1.5`; `007` stays text), numbers
//! written back in their canonical form (`0x10` is `16`), as pySigma and serde_yaml do, so
//! rules mean what they meant when vigie read them through serde_yaml.

use std::fmt;

use vigie_yaml::tree::{self, ErrorKind, Limits, Node, TreeError, Value};

/// A YAML value of a rule document.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Y>),
    Mapping(YMap),
}

/// A number of a rule document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

impl Number {
    /// The number as a float.
    pub fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Number::PosInt(u) => u as f64,
            Number::NegInt(i) => i as f64,
            Number::Float(f) => f,
        })
    }
}

impl fmt::Display for Number {
    /// Canonical text: integers in decimal, floats in their shortest exact form (`1.0`,
    /// `1e20`), the spelling rules were matched with before.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::PosInt(u) => write!(f, "{u}"),
            Number::NegInt(i) => write!(f, "{i}"),
            Number::Float(x) if x.is_nan() => f.write_str(".nan"),
            Number::Float(x) if x.is_infinite() => {
                f.write_str(if x < 0.0 { "-.inf" } else { ".inf" })
            }
            Number::Float(x) => f.write_str(ryu::Buffer::new().format_finite(x)),
        }
    }
}

/// A mapping, in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct YMap(pub Vec<(Y, Y)>);

impl YMap {
    /// Value of string key `key`.
    pub fn get(&self, key: &str) -> Option<&Y> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Whether string key `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &Y> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (Y, Y)> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a YMap {
    type Item = &'a (Y, Y);
    type IntoIter = std::slice::Iter<'a, (Y, Y)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for YMap {
    type Item = (Y, Y);
    type IntoIter = std::vec::IntoIter<(Y, Y)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

static NULL: Y = Y::Null;

impl Y {
    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Y::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&YMap> {
        match self {
            Y::Mapping(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Y]> {
        match self {
            Y::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// A non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Y::Number(Number::PosInt(u)) => Some(*u),
            _ => None,
        }
    }
}

impl std::ops::Index<&str> for Y {
    type Output = Y;
    /// `Null` when this is not a mapping or lacks the key.
    fn index(&self, key: &str) -> &Y {
        self.as_mapping().and_then(|m| m.get(key)).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Y {
    type Output = Y;
    /// `Null` when this is not a sequence or is shorter.
    fn index(&self, i: usize) -> &Y {
        self.as_sequence().and_then(|s| s.get(i)).unwrap_or(&NULL)
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// A limit was exceeded (else the text is not valid YAML, or not one tree).
    pub limit: bool,
    /// 1-based position in the text given.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl From<TreeError> for YamlError {
    fn from(e: TreeError) -> Self {
        YamlError {
            limit: e.kind == ErrorKind::Limit,
            line: e.pos.line as usize,
            column: e.pos.column as usize,
            // The reader keeps the first of duplicate keys for loaders that go on; a rule
            // with one is refused, so that remark would mislead here.
            message: e
                .message
                .strip_prefix("YAML syntax: ")
                .unwrap_or(&e.message)
                .trim_end_matches(" (the first one is kept)")
                .to_string(),
        }
    }
}

/// Reads one YAML document; `Ok(None)` when there is none (empty, comments only).
pub fn parse(text: &str, limits: &Limits) -> Result<Option<Y>, YamlError> {
    match tree::parse_yaml(text, limits) {
        Ok(root) => Ok(Some(convert(root))),
        Err(errors) => {
            // A limit is the one thing to say; otherwise the first problem, as a YAML
            // parser stopping there would.
            let first = errors
                .iter()
                .position(|e| e.kind == ErrorKind::Limit)
                .unwrap_or(0);
            match errors.into_iter().nth(first) {
                None => Ok(None),
                Some(e) if e.kind == ErrorKind::Empty => Ok(None),
                Some(e) => Err(e.into()),
            }
        }
    }
}

/// Node → value; recursion is bounded by the reader's depth limit.
fn convert(node: Node) -> Y {
    match node.value {
        Value::Scalar { text, plain: true } => resolve(text),
        Value::Scalar { text, plain: false } => Y::String(text),
        Value::Seq(items) => Y::Sequence(items.into_iter().map(convert).collect()),
        Value::Map(entries) => Y::Mapping(YMap(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k), convert(v)))
                .collect(),
        )),
    }
}

/// A plain scalar under YAML 1.2's core schema, as serde_yaml 0.9 resolved it.
fn resolve(text: String) -> Y {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Y::Null,
        "true" | "True" | "TRUE" => return Y::Bool(true),
        "false" | "False" | "FALSE" => return Y::Bool(false),
        _ => {}
    }
    // Numbers start with a digit, a sign or a dot; most scalars of a rule are words.
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return Y::String(text);
    }
    if let Some(v) = parse_int(&text) {
        return if let Ok(u) = u64::try_from(v) {
            Y::Number(Number::PosInt(u))
        } else if let Ok(i) = i64::try_from(v) {
            Y::Number(Number::NegInt(i))
        } else {
            Y::String(text)
        };
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(&text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Beyond even 128 bits.
        return Y::String(text);
    }
    if !leading_zero_digits(&text) {
        if let Some(f) = parse_float(&text) {
            return Y::Number(Number::Float(f));
        }
    }
    // Integers beyond 64 bits stay text: a Sigma value is matched as text anyway.
    Y::String(text)
}

/// `007`: digits with a leading zero are a string in YAML 1.2.
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Decimal, `0x`, `0o` or `0b` integer with an optional sign.
fn parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else {
        if leading_zero_digits(s) {
            return None;
        }
        (10, body)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_float(s: &str) -> Option<f64> {
    let unsigned = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => s,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match s {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // Rust also reads `inf` and `nan`, which YAML does not.
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Default bounds for one rule file: 16 MiB (the biggest SigmaHQ rule is about 100 KB;
/// a 2 MB rule of hashes is well within), and the reader's depth and alias bounds.
pub const MAX_RULE_FILE_BYTES: usize = 16 << 20;

/// The reader limits rules are read with by default.
pub fn default_limits() -> Limits {
    Limits {
        max_bytes: MAX_RULE_FILE_BYTES,
        ..Limits::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Y {
        parse(&format!("k: {s}"), &Limits::default())
            .unwrap()
            .unwrap()["k"]
            .clone()
    }

    #[test]
    fn scalars_resolve_as_serde_yaml_did() {
        assert_eq!(one("~"), Y::Null);
        assert_eq!(one(""), Y::Null);
        assert_eq!(one("True"), Y::Bool(true));
        assert_eq!(one("yes"), Y::String("yes".into()));
        assert_eq!(one("4688"), Y::Number(Number::PosInt(4688)));
        assert_eq!(one("+7"), Y::Number(Number::PosInt(7)));
        assert_eq!(one("-7"), Y::Number(Number::NegInt(-7)));
        assert_eq!(one("0x10").to_string_lossy(), "16");
        assert_eq!(one("-0x10").to_string_lossy(), "-16");
        assert_eq!(one("0o17").to_string_lossy(), "15");
        assert_eq!(one("007"), Y::String("007".into()));
        assert_eq!(one("1.10").to_string_lossy(), "1.1");
        assert_eq!(one("1e3").to_string_lossy(), "1000.0");
        assert_eq!(one("1.0"), Y::Number(Number::Float(1.0)));
        assert_eq!(one("inf"), Y::String("inf".into()));
        assert_eq!(one("NaN"), Y::String("NaN".into()));
        assert_eq!(one("Infinity"), Y::String("Infinity".into()));
        assert_eq!(one(".inf").to_string_lossy(), ".inf");
        assert_eq!(one("127.0.0.1"), Y::String("127.0.0.1".into()));
        assert_eq!(one("'12'"), Y::String("12".into()));
        assert_eq!(
            one("99999999999999999999999"),
            Y::String("99999999999999999999999".into())
        );
        assert_eq!(one("0x"), Y::String("0x".into()));
        assert_eq!(one("-0"), Y::Number(Number::PosInt(0)));
        assert_eq!(one("1_000"), Y::String("1_000".into()));
    }

    #[test]
    fn empty_documents_are_none_and_errors_have_positions() {
        assert_eq!(parse("# only a comment\n", &Limits::default()), Ok(None));
        assert_eq!(parse("~", &Limits::default()), Ok(Some(Y::Null)));
        let e = parse("a: 1\nb: [\n", &Limits::default()).unwrap_err();
        assert!(!e.limit);
        assert!(e.line >= 2, "{e}");
        let e = parse("a: 1\na: 2\n", &Limits::default()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(e.message, "duplicate key `a`");
        let e = parse(&format!("a: {}", "[".repeat(1000)), &Limits::default()).unwrap_err();
        assert!(e.limit, "{e}");
        assert_eq!(e.line, 1);
    }

    impl Y {
        fn to_string_lossy(&self) -> String {
            match self {
                Y::Number(n) => n.to_string(),
                Y::String(s) => s.clone(),
                other => format!("{other:?}"),
            }
        }
    }
}
