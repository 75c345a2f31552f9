//! vigie-sim: rehearse incidents before they happen (`vigie exercise`).
//!
//! A pure, synchronous engine (threads through rayon only; no I/O, no terminal output):
//!
//! - [`dist`]: sampling a [`vigie_model::Ttc`] (exponential, gamma, log-normal, fixed,
//!   with `p_success`) and the random streams: sample `i` of seed `s` draws every number
//!   of a step from a generator keyed by `(s, i, the step's stable key)`, so results do
//!   not depend on the thread count or the order steps are visited, and two variants of
//!   a model share their random numbers (common random numbers, for [`rank`]);
//! - [`detection`]: per (asset, technique), the probability and delay of detecting an
//!   attack step, from the loaded Sigma rules, the asset's telemetry and controls, and a
//!   default table the user can override;
//! - [`run`]: the Monte Carlo race between the attacker and detection on the model's
//!   attack graph, containment priced by `vigie_response::contain` (cached by
//!   compromised set) and destroyed crown jewels by `vigie_response::restore`;
//! - [`rank`]: which single change (EDR, MFA, telemetry, a rule, a patch, a removed
//!   flow) cuts expected customer-hours most;
//! - [`spof`]: N-1 and N-2 outages (failures, not attacks) and each service's single
//!   points of failure;
//! - [`coverage`]: the ATT&CK Navigator layer of the loaded rules.

pub mod coverage;
pub mod detection;
pub mod dist;
pub mod error;
pub mod rank;
pub mod run;
pub mod spof;

pub use error::SimError;
