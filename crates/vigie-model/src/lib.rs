//! vigie-model: the operator model (estate, services, customer segments), its file format
//! (YAML or JSON), validation with positioned diagnostics, the attack edges derived from it,
//! the built-in demo operator and a generator of synthetic operators of any size.

pub mod de;
pub mod derive;
pub mod diag;
pub mod index;
pub mod load;
pub mod tree;
pub mod types;
pub mod validate;

pub use derive::{derive_attack_edges, AttackEdge, AttackGraph, Rule};
pub use diag::{Diagnostic, Severity};
pub use index::{DepMember, Entity, Index, NONE};
pub use load::{load, load_report, load_str, Format, Loaded};
pub use types::*;
pub use validate::validate;
