//! The integration tests of `vigie-response`, one module per topic, built as one test binary:
//! each binary links the whole dependency tree, so one per crate keeps `cargo test`
//! from spending its time linking. Add a topic as a module here, not as `tests/*.rs`.

mod from_model;
mod hand;
mod impact_figures;
mod no_panic;
mod optimality;
mod restore_optimality;
