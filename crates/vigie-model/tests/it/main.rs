//! The integration tests of `vigie-model`, one module per topic, built as one test binary:
//! each binary links the whole dependency tree, so one per crate keeps `cargo test`
//! from spending its time linking. Add a topic as a module here, not as `tests/*.rs`.

mod demo;
mod derive;
mod diagnostics;
mod generate;
mod identity;
mod index;
mod proptest_derive;
mod proptest_loader;
mod ttc;
