//! The integration tests of `vigie-event`, one module per topic, built as one test binary:
//! each binary links the whole dependency tree, so one per crate keeps `cargo test`
//! from spending its time linking. Add a topic as a module here, not as `tests/*.rs`.

mod auditd;
mod cloud;
mod common;
mod edge_cases;
mod evtx_props;
mod evtx_tree;
mod json_inputs;
mod netdev;
mod shapes;
mod stdin;
mod syslog;
mod textfmt;
mod zeek;
