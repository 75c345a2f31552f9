//! `vigie assess`: what an attacker holding the compromised assets can reach, the fastest
//! path to each crown jewel, and the services and customers depending on it. Also hosts the
//! helpers shared by `contain` and `restore` (model loading, output format, DOT/SVG).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use vigie_response::contain::Action;
use vigie_response::Graph;

/// Output format of the response commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON document (schema: docs/response.md).
    Json,
}

const AFTER_HELP: &str = "\
Reach is computed on the operator model (default: the built-in demo operator, Armorique
Telecom): every asset the attacker can reach from the compromised ones, with the estimated
hours to reach it, the fastest path to each crown jewel with its ATT&CK techniques, and
the services, customer segments and customer-hours at risk.

Exit status: 0 on success, 2 on a bad model, an unknown asset id or bad arguments.

Examples:
  vigie assess --compromised emp-web-1
  vigie assess --compromised emp-web-1,svc-emp --limit 0 --format json | jq '.crown_jewels'
  vigie assess --model my-operator.yaml --compromised web-1 --svg reach.svg";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub incident: Incident,
    /// List at most N reachable assets (0 = all; the count is always exact).
    #[arg(long, default_value_t = vigie_incident::decide::REACH_LIMIT)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub graph_out: GraphOutput,
}

/// The model and what the attacker holds on it: shared by `assess` and `contain`.
#[derive(clap::Args)]
pub struct Incident {
    /// Operator model (YAML or JSON); the built-in demo operator when omitted.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Compromised asset ids, comma-separated.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', required = true)]
    pub compromised: Vec<String>,
}

impl Incident {
    /// The response graph of the model, the model's digest, and the compromised assets
    /// resolved on the graph.
    pub fn load(&self) -> anyhow::Result<(Graph, String, Vec<u32>)> {
        let (g, digest) = load_graph(self.model.as_deref())?;
        let compromised = g.resolve_nodes("compromised asset", &clean(&self.compromised))?;
        Ok((g, digest, compromised))
    }
}

/// Where to draw the attack graph: shared by `assess` and `contain`.
#[derive(clap::Args)]
pub struct GraphOutput {
    /// Write the attack graph as Graphviz DOT (contain: with the plan's cut highlighted).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Write the same as SVG (needs Graphviz `dot`).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

impl GraphOutput {
    /// Writes what was asked for (nothing when neither option is given).
    pub fn write(&self, g: &Graph, compromised: &[u32], plan: &[Action]) -> anyhow::Result<()> {
        write_graph(
            g,
            compromised,
            plan,
            self.dot.as_deref(),
            self.svg.as_deref(),
        )
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (g, digest, compromised) = args.incident.load()?;
    let t = Instant::now();
    let report = vigie_response::assess::assess(&g, &compromised, args.limit)?;
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "assess computed");
    match args.format {
        Format::Text => print!("{}", vigie_render::response::text::assess(&report)),
        Format::Json => print_json(
            &digest,
            vigie_wire::v1::response::AssessReport::from(&report),
        )?,
    }
    // After the report: a failed drawing (no Graphviz, unwritable file) must not cost
    // the commander the answer.
    args.graph_out.write(&g, &compromised, &[])?;
    Ok(ExitCode::SUCCESS)
}

/// Trim ids and drop empty ones (`--compromised a,,b`).
pub fn clean(ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Load the model (or the demo) and build the response graph, logging the timings;
/// with the model's digest (`vigie_model::digest`), which the JSON reports carry.
pub fn load_graph(path: Option<&Path>) -> anyhow::Result<(Graph, String)> {
    let (model, g, digest) = load_model(path)?;
    drop(model);
    Ok((g, digest))
}

/// [`load_graph`] keeping the model (respond resolves names on its identifiers).
pub fn load_model(path: Option<&Path>) -> anyhow::Result<(vigie_model::Model, Graph, String)> {
    let t = Instant::now();
    let model = match path {
        Some(p) => vigie_model::load(p).map_err(|diags| {
            let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            anyhow::anyhow!(
                "{} problem(s) in the model:\n{}",
                lines.len(),
                lines.join("\n")
            )
        })?,
        None => vigie_model::demo(),
    };
    tracing::info!(
        seconds = t.elapsed().as_secs_f64(),
        assets = model.assets.len(),
        "model loaded"
    );
    // The digest (a canonical serialization: ~0.3 s at a million assets) is taken on a
    // second thread while the graph is built.
    let (built, digest) = std::thread::scope(|s| {
        let digest = s.spawn(|| {
            let t = Instant::now();
            let d = vigie_model::digest(&model);
            tracing::info!(seconds = t.elapsed().as_secs_f64(), "model digest");
            d
        });
        let t = Instant::now();
        let g = vigie_response::from_model(&model);
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "graph built");
        // The digest thread only serializes plain data; it does not panic on any model.
        (g, digest.join().unwrap_or_default())
    });
    let g = built.with_context(|| {
        format!(
            "building the graph of {}",
            path.map_or("the demo model".into(), |p| p.display().to_string())
        )
    })?;
    tracing::info!(nodes = g.node_count(), edges = g.edge_count(), "graph size");
    Ok((model, g, digest))
}

/// Write `--dot` and/or `--svg`.
fn write_graph(
    g: &Graph,
    compromised: &[u32],
    plan: &[Action],
    dot: Option<&Path>,
    svg: Option<&Path>,
) -> anyhow::Result<()> {
    if dot.is_none() && svg.is_none() {
        return Ok(());
    }
    use vigie_render::response::dot as draw;
    let text = draw::dot(&vigie_response::drawing::drawing(g, compromised, plan));
    if let Some(p) = dot {
        draw::write_dot(p, &text)?;
    }
    if let Some(p) = svg {
        draw::write_svg(p, &text)?;
    }
    Ok(())
}

/// A report as the wire's JSON, in its envelope (schema version, model digest).
pub fn print_json<T: serde::Serialize>(model_digest: &str, report: T) -> anyhow::Result<()> {
    let env = vigie_wire::v1::response::Envelope::new(model_digest, report);
    println!("{}", serde_json::to_string_pretty(&env)?);
    Ok(())
}
