//! `vigie exercise rank`: which single change cuts expected customer-hours most.
//!
//! Candidates ([`candidates`]) are single changes to the operator model or the detection
//! model ([`Change`]): EDR or MFA on an asset, one more log source shipped by an asset, a
//! rule for a technique no loaded rule covers, a patched vulnerability, a removed flow.

pub mod candidates;
mod change;

pub use change::{Change, ChangeKind};
