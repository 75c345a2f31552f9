//! `vigie restore`: restoration order, timeline of services and segments, critical path
//! and customer-hours of the outage.

use std::path::PathBuf;
use std::process::ExitCode;

use super::assess::{clean, load_graph, Format};

#[derive(clap::Args)]
pub struct Args {
    /// Operator model (YAML or JSON); the built-in demo operator when omitted.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Ids of what is down now: assets, services or flows, comma-separated.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', required = true)]
    pub down: Vec<String>,
    /// At most N assets restored at once (default: unbounded).
    #[arg(long, value_name = "N")]
    pub crews: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let g = load_graph(args.model.as_deref())?;
    let down = g.resolve_targets("id", &clean(&args.down))?;
    let report = vigie_response::restore::restore(&g, &down, args.crews)?;
    match args.format {
        Format::Text => print!("{}", vigie_response::render::restore(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}
