//! vigie-sim integration tests: one module per topic.

mod detection;
mod engine;
mod oracle;
mod rank;
mod spof;
