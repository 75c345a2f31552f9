//! The syntax tree of a STIX pattern, and its canonical text form ([`fmt::Display`]:
//! parsing the text of a tree gives the same tree).

use std::fmt;

/// An observation expression: what `FOLLOWEDBY`, `OR`, `AND` and qualifiers combine.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternExpr {
    /// `[ comparison ]`: one observation.
    Observation(Observation),
    /// `( ... )`: kept so that the text form and the validator's rules (a qualifier
    /// type at most once directly on an observation) see the grouping.
    Group(Box<PatternExpr>),
    And(Box<PatternExpr>, Box<PatternExpr>),
    Or(Box<PatternExpr>, Box<PatternExpr>),
    FollowedBy(Box<PatternExpr>, Box<PatternExpr>),
    /// An observation expression with a qualifier after it.
    Qualified(Box<PatternExpr>, Qualifier),
}

/// `[ ... ]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub expr: ComparisonExpr,
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS` (the number as written: an integer or a float literal).
    Within(NumberText),
    /// `REPEATS n TIMES`.
    Repeats(NumberText),
    /// `START t'...' STOP t'...'`.
    StartStop(Timestamp, Timestamp),
}

/// A positive number of a qualifier: its value and the text it was written as.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberText {
    pub text: String,
    pub value: f64,
}

/// A boolean combination of comparisons inside `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    And(Box<ComparisonExpr>, Box<ComparisonExpr>),
    Or(Box<ComparisonExpr>, Box<ComparisonExpr>),
    Group(Box<ComparisonExpr>),
    Test(Comparison),
}

/// `path [NOT] op literal`, or `EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator.
    pub negated: bool,
    pub op: CompOp,
}

/// A comparison operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum CompOp {
    Eq(Literal),
    Ne(Literal),
    Lt(Literal),
    Le(Literal),
    Gt(Literal),
    Ge(Literal),
    In(Vec<Literal>),
    Like(String),
    Matches(String),
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

/// `type:first.step[0].'quoted'[*]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    pub object_type: String,
    /// The first step is always a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    Key(String),
    Index(i64),
    Star,
}

/// A timestamp literal `t'...'` as written; `value` is `None` when the text has the
/// grammar's shape but is not a real instant (e.g. February 30th): evaluating such a
/// pattern is an error, as in the reference matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    pub text: String,
    /// Microseconds since the Unix epoch (sub-microsecond digits are truncated).
    pub value: Option<i64>,
}

/// A literal of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Integers beyond ±2^127 are read as floats.
    Int(i128),
    Float(f64),
    Str(String),
    /// `b'...'` (base64) or `h'...'` (hex): both are binary values.
    Bytes {
        bytes: Vec<u8>,
        hex: bool,
    },
    Bool(bool),
    Timestamp(Timestamp),
}

impl fmt::Display for PatternExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Operands are printed with parentheses when the tree (built in code rather
        // than parsed) would otherwise read back with another precedence.
        fn level(e: &PatternExpr) -> u8 {
            match e {
                PatternExpr::FollowedBy(..) => 0,
                PatternExpr::Or(..) => 1,
                PatternExpr::And(..) => 2,
                _ => 3,
            }
        }
        fn operand(f: &mut fmt::Formatter<'_>, e: &PatternExpr, min: u8) -> fmt::Result {
            if level(e) < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            PatternExpr::Observation(o) => write!(f, "[{}]", o.expr),
            PatternExpr::Group(e) => write!(f, "({e})"),
            PatternExpr::And(a, b) => {
                operand(f, a, 2)?;
                f.write_str(" AND ")?;
                operand(f, b, 3)
            }
            PatternExpr::Or(a, b) => {
                operand(f, a, 1)?;
                f.write_str(" OR ")?;
                operand(f, b, 2)
            }
            PatternExpr::FollowedBy(a, b) => {
                operand(f, a, 0)?;
                f.write_str(" FOLLOWEDBY ")?;
                operand(f, b, 1)
            }
            PatternExpr::Qualified(e, q) => {
                match **e {
                    PatternExpr::Observation(_)
                    | PatternExpr::Group(_)
                    | PatternExpr::Qualified(..) => write!(f, "{e}")?,
                    _ => write!(f, "({e})")?,
                }
                write!(f, " {q}")
            }
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {} SECONDS", n.text),
            Qualifier::Repeats(n) => write!(f, "REPEATS {} TIMES", n.text),
            Qualifier::StartStop(a, b) => write!(f, "START t'{}' STOP t'{}'", a.text, b.text),
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn level(e: &ComparisonExpr) -> u8 {
            match e {
                ComparisonExpr::Or(..) => 0,
                ComparisonExpr::And(..) => 1,
                _ => 2,
            }
        }
        fn operand(f: &mut fmt::Formatter<'_>, e: &ComparisonExpr, min: u8) -> fmt::Result {
            if level(e) < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            ComparisonExpr::And(a, b) => {
                operand(f, a, 1)?;
                f.write_str(" AND ")?;
                operand(f, b, 2)
            }
            ComparisonExpr::Or(a, b) => {
                operand(f, a, 0)?;
                f.write_str(" OR ")?;
                operand(f, b, 1)
            }
            ComparisonExpr::Group(e) => write!(f, "({e})"),
            ComparisonExpr::Test(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let CompOp::Exists = self.op {
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        match &self.op {
            CompOp::Eq(l) => write!(f, "= {l}"),
            CompOp::Ne(l) => write!(f, "!= {l}"),
            CompOp::Lt(l) => write!(f, "< {l}"),
            CompOp::Le(l) => write!(f, "<= {l}"),
            CompOp::Gt(l) => write!(f, "> {l}"),
            CompOp::Ge(l) => write!(f, ">= {l}"),
            CompOp::In(set) => {
                f.write_str("IN (")?;
                for (i, l) in set.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str(")")
            }
            CompOp::Like(s) => write!(f, "LIKE {}", Quoted(s)),
            CompOp::Matches(s) => write!(f, "MATCHES {}", Quoted(s)),
            CompOp::IsSubset(s) => write!(f, "ISSUBSET {}", Quoted(s)),
            CompOp::IsSuperset(s) => write!(f, "ISSUPERSET {}", Quoted(s)),
            CompOp::Exists => Ok(()),
        }
    }
}

impl ObjectPath {
    /// The property path after the `:` as STIX writes it, e.g. `hashes.'SHA-256'`.
    pub fn property_text(&self) -> String {
        let mut s = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        s.push('.');
                    }
                    if is_plain_identifier(k) {
                        s.push_str(k);
                    } else {
                        s.push_str(&Quoted(k).to_string());
                    }
                }
                PathStep::Index(n) => s.push_str(&format!("[{n}]")),
                PathStep::Star => s.push_str("[*]"),
            }
        }
        s
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.object_type, self.property_text())
    }
}

/// An identifier the grammar reads as `IdentifierWithoutHyphen` (not a keyword).
pub(crate) fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && super::lexer::keyword(s).is_none()
}

/// A string as a STIX string literal (quotes and backslashes escaped).
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        for c in self.0.chars() {
            match c {
                '\'' => f.write_str("\\'")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("'")
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Float(x) => {
                let s = format!("{x}");
                if s.contains('.') {
                    f.write_str(&s)
                } else {
                    write!(f, "{s}.0")
                }
            }
            Literal::Str(s) => write!(f, "{}", Quoted(s)),
            Literal::Bytes { bytes, hex: true } => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
            Literal::Bytes { bytes, hex: false } => {
                use base64::Engine as _;
                write!(
                    f,
                    "b'{}'",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{}'", t.text),
        }
    }
}
