//! `vigie exercise rank`: which single change cuts expected customer-hours most.
//!
//! Candidates ([`candidates`]) are single changes to the operator model or the detection
//! model ([`Change`]). (`driver.rs` and `eval.rs` join the build once the engine's API
//! has landed.)

pub mod candidates;
mod change;

pub use change::{Change, ChangeKind};
