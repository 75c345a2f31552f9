//! vigie-model: the operator model (estate, services, customer segments), its file format
//! (YAML or JSON), validation with positioned diagnostics, the attack edges derived from it,
//! the built-in demo operator and a generator of synthetic operators of any size.

pub mod de;
pub mod demo;
pub mod derive;
pub mod diag;
pub mod digest;
pub mod generate;
pub mod index;
pub mod load;
pub mod stats;
pub mod tree;
pub mod types;
pub mod validate;

pub use demo::{demo, try_demo, DEMO_ORIGIN, DEMO_YAML};
pub use derive::{derive_attack_edges, AttackEdge, AttackGraph, Rule};
pub use diag::{Diagnostic, Severity};
pub use digest::digest;
pub use generate::{generate, generate_model, min_assets, GenOptions, GenSummary};
pub use index::{DepMember, Entity, Index, NONE};
pub use load::{load, load_report, load_str, Format, Loaded};
pub use stats::{stats, Stats};
pub use types::*;
pub use validate::validate;

/// A model as YAML text (block style, defaults made explicit where the types serialize them).
pub fn to_yaml(model: &Model) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(model)
}
