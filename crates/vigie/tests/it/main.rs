//! The integration tests of `vigie`, one module per topic, built as one test binary:
//! each binary links the whole dependency tree, so one per crate keeps `cargo test`
//! from spending its time linking. Add a topic as a module here, not as `tests/*.rs`.

mod cli;
mod demo;
mod embedded_defaults;
mod exercise;
mod exercise_rank;
mod exercise_spof;
mod help_and_drawing;
mod hunt_cli;
mod hunt_cloud;
mod hunt_linux;
mod hunt_netdev;
mod hunt_output;
mod hunt_shapes;
mod hunt_syslog;
mod hunt_textfmt;
mod intel_export;
mod intel_match;
mod intel_taxii;
mod july2025;
mod respond_cli;
mod rules_cache;
mod rules_coverage;
mod rules_routing;
mod serve_backpressure;
mod serve_durability;
mod serve_follow;
mod serve_taxii;
