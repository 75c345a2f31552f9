//! Oracles (issue 11, point 7): the engine against closed forms at 100,000 samples (mean
//! within 3 standard errors, CDF by a Kolmogorov-Smirnov test at 99 %), and containment
//! costs against `vigie_response::contain` on the same compromised set.
//!
//! Each oracle also runs its samples against deliberately wrong closed forms and asserts
//! they are rejected: the test would fail on an engine that is wrong in that way.

mod bernoulli;
mod build;
mod chain;
mod contain;
mod cost;
mod harness;
mod moments;
mod parallel;
mod race;
mod stats;
