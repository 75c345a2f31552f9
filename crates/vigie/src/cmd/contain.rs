//! `vigie contain`: the cheapest complete containment plan in customer-hours (proven optimal
//! or flagged), alternatives, and the naive plans beside it.

use std::process::ExitCode;
use std::time::Instant;

use vigie_response::contain::{contain, ContainRequest, SearchConfig};

use super::assess::{clean, print_json, Format, GraphOutput, Incident};

const AFTER_HELP: &str = "\
A plan is a set of actions (isolate an asset, block a zone-to-zone flow, disable an
identity, take a service offline) after which no attack path from the compromised assets
reaches a protected one. The cheapest plan in customer-hours is proven optimal, or flagged
with its lower bound when the search budget runs out. Beside it: alternatives, and the
naive plans `isolate everything` and `cut the choke points`.

Exit status: 0 when a complete plan exists, 1 when none does within --max-actions,
2 on a bad model, an unknown asset id or bad arguments.

Examples:
  vigie contain --compromised emp-web-1,emp-app-1
  vigie contain --compromised emp-web-1 --protect dc-1,hss-mgmt-1 --max-actions 3
  vigie contain --compromised emp-web-1 --format json --dot plan.dot";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub incident: Incident,
    /// Assets to protect (default: the crown jewels not already compromised).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub protect: Option<Vec<String>>,
    /// Plans have at most N actions.
    #[arg(long, value_name = "N")]
    pub max_actions: Option<usize>,
    /// How many alternative plans to show.
    #[arg(long, default_value_t = vigie_incident::decide::ALTERNATIVES)]
    pub alternatives: usize,
    /// Search budget in expanded states; past it the best plan found is flagged not optimal.
    #[arg(long, default_value_t = vigie_incident::decide::MAX_EXPANSIONS)]
    pub max_expansions: usize,
    /// Search time budget in seconds (0 = none), same treatment as --max-expansions.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub time_limit: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub graph_out: GraphOutput,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (g, digest, compromised) = args.incident.load()?;
    let protect = match &args.protect {
        Some(p) => Some(g.resolve_nodes("protected asset", &clean(p))?),
        None => None,
    };
    let req = ContainRequest {
        compromised: compromised.clone(),
        protect,
        config: SearchConfig {
            max_actions: args.max_actions,
            alternatives: args.alternatives,
            max_expansions: args.max_expansions,
            time_limit: std::time::Duration::try_from_secs_f64(args.time_limit)
                .ok()
                .filter(|d| !d.is_zero()),
        },
    };
    let t = Instant::now();
    let report = contain(&g, &req)?;
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "contain computed");
    let plan = report
        .plan
        .as_ref()
        .map(|p| p.raw.clone())
        .unwrap_or_default();
    match args.format {
        Format::Text => print!("{}", vigie_render::response::text::contain(&report)),
        Format::Json => print_json(
            &digest,
            vigie_wire::v1::response::ContainReport::from(&report),
        )?,
    }
    // After the report: a failed drawing must not cost the commander the plan.
    args.graph_out.write(&g, &compromised, &plan)?;
    Ok(if report.plan.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
