//! vigie-yaml: the one YAML reader of vigie, for models and Sigma rules alike.
//!
//! - [`tree`]: YAML (or JSON) text → a [`Node`] tree where every node knows its line and
//!   column, read within [`Limits`] (size, nesting depth, alias expansion) so that a
//!   hostile file costs milliseconds and yields one positioned [`ErrorKind::Limit`] error.
//!   Plain block-style documents go through a line-based fast path (`block`) that gives
//!   exactly yaml-rust2's tree or declines; everything else, errors included, through
//!   yaml-rust2.
//! - [`de`]: serde deserialization from a [`Node`], errors positioned and worded for the
//!   document's author ("expected a number", not "expected f64").
//! - [`emit`]: any `Serialize` value → block-style YAML text that this reader reads back
//!   to the same value.
//!
//! Scalars stay text in the tree: each consumer resolves them with its own schema (the
//! model with YAML's core schema and digit groups, the Sigma loader as Sigma tools do).

mod block;
pub mod de;
pub mod emit;
pub mod tree;

pub use de::{from_node, DeError};
pub use emit::{to_string, EmitError};
pub use tree::{
    locate, parse_json, parse_yaml, parse_yaml_fast, parse_yaml_full, parse_yaml_with, ErrorKind,
    ItemSink, Limits, Node, Pos, Step, TreeError, Value, MAX_ALIAS_NODES, MAX_DEPTH,
};
