//! The integration tests of `vigie-sigma`, one module per topic, built as one test binary:
//! each binary links the whole dependency tree, so one per crate keeps `cargo test`
//! from spending its time linking. Add a topic as a module here, not as `tests/*.rs`.

mod fuzz_props;
mod index_soundness;
mod matching;
mod peer_agreement;
mod regression;
mod sigmahq;
// The synthetic Sysmon-like events the matcher benchmark also uses.
#[path = "../../benches/support/synth.rs"]
mod synth;
