//! vigie-model: the operator model (estate, services, customer segments), its file format
//! (YAML or JSON), validation with positioned diagnostics, the attack edges derived from it,
//! the built-in demo operator and a generator of synthetic operators of any size.

pub mod demo;
pub mod derive;
pub mod diag;
pub mod digest;
pub mod generate;
pub mod identity;
pub mod index;
pub mod load;
pub mod stats;
pub mod types;
pub mod validate;

/// The positioned tree and its deserializer now live in `vigie-yaml`, shared with the Sigma
/// loader; re-exported under their old paths.
pub use vigie_yaml::{de, tree};

pub use demo::{demo, try_demo, DEMO_ORIGIN, DEMO_YAML};
pub use derive::{derive_attack_edges, rule_ttc, AttackEdge, AttackGraph, Rule};
pub use diag::{Diagnostic, Severity};
pub use digest::digest;
pub use generate::{generate, generate_model, min_assets, GenOptions, GenSummary};
pub use identity::{
    Clash, Identifier, IdentifierAt, IdentifierError, IdentifierKind, IdentityIndex, Lookup, Via,
};
pub use index::{DepMember, Entity, Index, NONE};
pub use load::{load, load_report, load_report_with, load_str, Format, LoadOptions, Loaded};
pub use stats::{stats, Stats};
pub use types::*;
pub use validate::validate;

/// A model as YAML text (block style, defaults made explicit where the types serialize
/// them); [`load_str`] reads it back to the same model.
pub fn to_yaml(model: &Model) -> Result<String, vigie_yaml::EmitError> {
    vigie_yaml::to_string(model)
}
