//! Version 1 of the wire schema.

pub mod coverage;
mod detection;
pub mod exercise;
pub mod exercise_rank;
mod fields;
mod hunt;
pub mod intel_check;
pub mod intel_match;
pub mod notification;
pub mod respond;
pub mod response;
pub mod rules;
pub mod serve;
pub mod spof;
pub mod taxii_client;

pub use detection::{Correlation, Detection, EventRef};
pub use fields::Fields;
pub use hunt::{CorrelationCounts, FileCounts, HuntSummary, RuleCounts};
