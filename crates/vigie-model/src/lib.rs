//! vigie-model: the operator model (estate, services, customer segments), its file format
//! (YAML or JSON), validation with positioned diagnostics, the attack edges derived from it,
//! the built-in demo operator and a generator of synthetic operators of any size.

pub mod derive;
pub mod index;
pub mod types;

pub use derive::{derive_attack_edges, AttackEdge, AttackGraph, Rule};
pub use index::{DepMember, Entity, Index, NONE};
pub use types::*;
