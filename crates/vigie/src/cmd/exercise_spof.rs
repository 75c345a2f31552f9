//! `vigie exercise spof`: stress tests on the operator model (N-1, N-2, single points of
//! failure per service). The engine is `vigie_sim::spof`.

use std::process::ExitCode;
use std::time::Instant;

use vigie_sim::spof::{PairMode, SpofConfig, EXHAUSTIVE_MAX};

use super::assess::print_json;
use super::exercise::{Format, SimArgs};

const AFTER_HELP: &str = "\
Every asset and every flow fails alone (N-1): an outage, not an attack, priced exactly
as `vigie restore --down <id>` prices it (customer-hours over its recovery; a failing
flow takes down the services listed on it for their recovery time). Pairs fail together
(N-2): all pairs on models of at most 1,000 elements (--pairs auto), else the pairs
screened by their N-1 impact and by the redundancy groups they share. Pairs whose joint
cost exceeds the sum of their two single costs (two members of one k-of-n group, each
free alone) are listed as interactions. Last, each service's single points of failure:
the assets and flows whose single failure takes it down.

With unbounded crews (the default), screening finds every interaction and proves the top
pairs the costliest of all pairs; with --crews it is a heuristic (the report says which).

Only --model, --threads and --format of `vigie exercise` apply: spof is deterministic
and samples nothing (--rules, --entry, --samples, --seed and --horizon are ignored).

Examples:
  vigie exercise spof
  vigie exercise spof --top 20 --pairs exhaustive
  vigie exercise spof --model operator.yaml --pairs auto --screen 50 --format json
  vigie exercise spof --crews 2 --pairs none";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// List the N costliest single failures, pairs and interactions (JSON: 0 lists every
    /// single failure).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Which pairs to evaluate: auto (all pairs up to 1,000 elements, else screened),
    /// exhaustive, screened or none.
    #[arg(long, value_enum, default_value_t = Pairs::Auto)]
    pub pairs: Pairs,
    /// Screening: also every pair among the K costliest single failures.
    #[arg(long, value_name = "K", default_value_t = 30)]
    pub screen: usize,
    /// Restore with at most N crews at once, as `vigie restore --crews` (default:
    /// unbounded).
    #[arg(long, value_name = "N")]
    pub crews: Option<usize>,
}

/// `--pairs`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairs {
    Auto,
    Exhaustive,
    Screened,
    None,
}

pub fn run(sim: &SimArgs, a: Args) -> anyhow::Result<ExitCode> {
    let (g, digest) = super::assess::load_graph(sim.model.as_deref())?;
    let cfg = SpofConfig {
        top: a.top,
        pairs: match a.pairs {
            Pairs::Auto => PairMode::Auto,
            Pairs::Exhaustive => PairMode::Exhaustive,
            Pairs::Screened => PairMode::Screened,
            Pairs::None => PairMode::None,
        },
        screen: a.screen,
        crews: a.crews,
        threads: sim.threads,
        exhaustive_max: EXHAUSTIVE_MAX,
        ..SpofConfig::default()
    };
    let t = Instant::now();
    let report = vigie_sim::spof::spof(&g, &cfg)?;
    tracing::info!(
        seconds = t.elapsed().as_secs_f64(),
        pairs = report.pairs.evaluated,
        "spof computed"
    );
    let wire = vigie_wire::v1::spof::SpofReport::new(&report, a.top);
    match sim.format {
        Format::Text => print!("{}", vigie_render::spof::spof(&wire)),
        Format::Json => print_json(&digest, wire)?,
    }
    Ok(ExitCode::SUCCESS)
}
