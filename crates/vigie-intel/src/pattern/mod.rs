//! STIX 2.1 patterning: parse the whole grammar of the specification's
//! `STIXPattern.g4` (section 9) with positioned errors, and evaluate a pattern over
//! observed-data held as generic JSON (custom object types work; type checking of
//! object paths is not done here).
//!
//! Contract:
//! - [`Pattern::parse`] accepts exactly the language of `STIXPattern.g4` (up to 200
//!   nesting levels and 1,000 binary operators and qualifiers) and, for any input,
//!   returns a [`Pattern`] or a [`PatternError`] with the char offset, line and column
//!   of the first offending token and what was expected. It never panics.
//! - [`Pattern::evaluate`] is bounded: at most 5,000,000 search steps and 1,100 nested
//!   search calls, past which it returns an [`Evaluation`] with `error` set.
//! - [`Pattern::evaluate`] follows the semantics documented by the reference matcher
//!   (`stix2-matcher` 3.0.0): each observation expression of the pattern binds to a
//!   distinct observed-data; `number_observed` counts as that many observations for
//!   `REPEATS`/`AND`; `WITHIN` and `START ... STOP` bound the observed-data's
//!   `first_observed`/`last_observed`; `FOLLOWEDBY` orders by them.
//! - [`ObservedData::from_json`] reads STIX 2.0 observed-data (embedded `objects`) and
//!   STIX 2.1 observed-data (`object_refs` resolved among the other objects of the same
//!   document).
//!
//! See `docs/stix-patterns.md` for the user view (and the differences between the
//! `regex` crate used for `MATCHES` and PCRE).

mod ast;
mod eval;
mod lexer;
mod observed;
mod parser;
mod validate;
mod value;

pub use ast::{
    CompOp, Comparison, ComparisonExpr, Literal, ObjectPath, Observation, PathStep, PatternExpr,
    Qualifier,
};
pub use observed::{ObservedData, ObservedError};

use std::fmt;

/// A parsed STIX pattern. Cheap to clone (the tree is shared), `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: std::sync::Arc<str>,
    root: std::sync::Arc<PatternExpr>,
    plan: std::sync::Arc<eval::Plan>,
}

/// The STIX version a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StixVersion {
    V2_0,
    #[default]
    V2_1,
}

/// One `[type:path = 'literal']` term of a simple pattern (see [`Pattern::simple_terms`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SimpleTerm {
    /// The object type, e.g. `ipv4-addr`, `file`.
    pub object_type: String,
    /// The property path after the `:`, as written in STIX, e.g. `value`,
    /// `hashes.'SHA-256'`, `name`, `extensions.'windows-pebinary-ext'.imphash`.
    pub path: String,
    /// The literal's value as a string (string literals unquoted and unescaped; other
    /// literal kinds in their text form, e.g. `42`, `true`).
    pub value: String,
}

/// A pattern that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PatternError {
    /// Offset in chars (not bytes) from the start of the pattern text.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in chars.
    pub column: u32,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// The result of [`Pattern::evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    pub matched: bool,
    /// Indexes (into the slice given to `evaluate`) of the observed-data bound by the
    /// first match found, ascending. Empty when not matched.
    pub matched_observed_data: Vec<usize>,
    /// Set when the pattern cannot be evaluated over these observed-data (then
    /// `matched` is false): the cases where the reference matcher raises, e.g. a
    /// string compared with a timestamp that is not a timestamp, `REPEATS 0 TIMES`,
    /// a set literal mixing types, a malformed address under `ISSUBSET`, or a
    /// regular expression the `regex` crate does not support.
    pub error: Option<EvalError>,
}

/// Why an evaluation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

impl Pattern {
    /// Parse a STIX 2.1 pattern.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_version(text, StixVersion::V2_1)
    }

    /// Parse a pattern of the given STIX version. STIX 2.0 differs from 2.1 by
    /// `START '...' STOP '...'` taking string literals (checked as timestamps when
    /// evaluated) and by having no `EXISTS`. The tree and its text form are 2.1's.
    pub fn parse_version(text: &str, version: StixVersion) -> Result<Pattern, PatternError> {
        let root = parser::parse(text, version == StixVersion::V2_0)?;
        let plan = eval::compile(&root);
        Ok(Pattern {
            text: text.into(),
            root: std::sync::Arc::new(root),
            plan: std::sync::Arc::new(plan),
        })
    }

    /// The text the pattern was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The syntax tree.
    pub fn root(&self) -> &PatternExpr {
        &self.root
    }

    /// Evaluate over observed-data (what `vigie intel match` does).
    pub fn evaluate(&self, obs: &[ObservedData]) -> Evaluation {
        eval::evaluate(&self.plan, obs)
    }

    /// The checks the STIX validator (`stix2-patterns`' pattern validator) makes beyond
    /// the grammar, as messages (empty: none failed): a qualifier type at most once on
    /// one observation, hash literals of the form their hash type has, and the pattern
    /// text starting with `[` after any `(`. Optional: [`Pattern::parse`] accepts
    /// everything the grammar accepts.
    pub fn validate(&self) -> Vec<String> {
        validate::validate(&self.text, &self.root)
    }

    /// `Some` when the pattern is an OR of single-comparison observations with no
    /// qualifier, each `[type:path = 'lit']` or `[type:path IN (...)]` (also an `OR` of
    /// such comparisons inside one observation): the (object type, property path,
    /// literal) terms, so indicators compile them into indexes. `None` otherwise.
    pub fn simple_terms(&self) -> Option<Vec<SimpleTerm>> {
        eval::simple_terms(&self.root)
    }
}

impl fmt::Display for Pattern {
    /// The canonical text form (re-parses to the same tree).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.root, f)
    }
}
