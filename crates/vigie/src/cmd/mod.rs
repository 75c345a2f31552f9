//! One module per subcommand: its arguments (clap) and its `run`.

pub mod assess;
pub mod contain;
pub mod demo;
pub mod exercise;
pub mod exercise_rank;
pub mod exercise_run;
pub mod exercise_spof;
pub mod hunt;
pub mod intel;
pub mod intel_check;
pub mod intel_export;
pub mod intel_match;
pub mod intel_pull;
pub mod intel_push;
pub mod model;
pub mod respond;
pub mod restore;
pub mod rules;
pub mod rules_coverage;
pub mod serve;
pub mod serve_publish;
pub mod serve_token;
