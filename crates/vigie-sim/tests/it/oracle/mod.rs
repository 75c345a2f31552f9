//! Oracles (issue 11, point 7): the engine against closed forms at 100,000 samples (mean
//! within 3 standard errors, CDF by a Kolmogorov-Smirnov test at 99 %), and containment
//! costs against `vigie_response::contain` on the same compromised set.

mod build;
mod stats;
