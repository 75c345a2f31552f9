//! vigie-sim integration tests: one module per topic.
mod engine;
mod rank;
