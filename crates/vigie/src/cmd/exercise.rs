//! `vigie exercise`: rehearse an attack before it happens. The Monte Carlo race of an
//! attacker against detection (`exercise_run.rs`), what single change buys most
//! (`rank`, `exercise_rank.rs`) and the single points of failure (`spof`,
//! `exercise_spof.rs`). The engine is `vigie-sim`.

use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
An attacker starts from the Internet (every attack edge from the Internet node is open
to it) or from the --entry assets, and moves through the model's attack graph, each step
taking a random time (the model's time-to-compromise distributions). Every step it takes
may be detected (the loaded rules' techniques, the target's telemetry and EDR). On the
first detection, vigie contains what is compromised then with the plan `vigie contain`
would recommend; a crown jewel reached before detection is destroyed and restored.
Sample i uses random stream (seed, i): the output is the same whatever --threads.

Examples:
  vigie exercise
  vigie exercise --samples 100000 --seed 7 --format json
  vigie exercise --model operator.yaml --rules ../shared/sigma/rules --entry vpn-1
  vigie exercise rank --top 10
  vigie exercise spof";

/// What every `vigie exercise` form shares.
#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// Operator model (YAML or JSON); the built-in demo operator when omitted.
    #[arg(long, value_name = "FILE", global = true)]
    pub model: Option<PathBuf>,
    /// Sigma rule files or directories (default: the embedded rule pack).
    #[arg(long = "rules", value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,
    /// Detection table overriding the default per technique (docs/detection-model.md).
    #[arg(long, value_name = "FILE", global = true)]
    pub detection: Option<PathBuf>,
    /// Start the attacker on these assets instead of the Internet.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', global = true)]
    pub entry: Vec<String>,
    /// Number of Monte Carlo samples.
    #[arg(long, value_name = "N", default_value_t = 10_000, global = true)]
    pub samples: u64,
    /// Random seed (sample i uses stream (seed, i)).
    #[arg(long, value_name = "S", default_value_t = 0, global = true)]
    pub seed: u64,
    /// Simulated time, in hours; with no detection by then, containment happens then.
    #[arg(long, value_name = "HOURS", default_value_t = 720.0, global = true)]
    pub horizon: f64,
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N", global = true)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
}

/// Text for people, JSON (`docs/exercise.md`) for programs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP, args_conflicts_with_subcommands = false)]
pub struct Args {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(subcommand)]
    pub what: Option<What>,
}

#[derive(clap::Subcommand)]
pub enum What {
    /// Rank single changes (EDR, MFA, telemetry, a rule, a patch, a removed flow) by the
    /// expected customer-hours they save.
    Rank(super::exercise_rank::Args),
    /// Stress test: every single asset and flow failing (N-1), pairs (N-2), and each
    /// service's single points of failure.
    Spof(super::exercise_spof::Args),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        None => super::exercise_run::run(&args.sim),
        Some(What::Rank(a)) => super::exercise_rank::run(&args.sim, a),
        Some(What::Spof(a)) => super::exercise_spof::run(&args.sim, a),
    }
}
