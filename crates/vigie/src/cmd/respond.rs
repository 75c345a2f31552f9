//! `vigie respond`: hunt the logs, group the detections into incidents on the operator
//! model, and decide on each (reach, containment plan, restoration, notification draft).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use vigie_hunt::{parse_time_bound, Bound, Collect, HuntOptions};
use vigie_render::progress::TerminalProgress;
use vigie_sigma::RuleSet;
use vigie_wire::v1::respond::{RespondReport, RespondSource};

use super::hunt::{rules_paths, EmbeddedSample};

/// Output format of `respond`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text: each incident and its decision, then the summary.
    Text,
    /// One JSON document (schema: docs/respond.md).
    Json,
    /// One self-contained HTML report.
    Html,
}

const AFTER_HELP: &str = "\
Detections that share an entity (an asset of the model, or an unresolved host, account
or IP) within --window form one incident, and so do detections on two assets joined by
an attack edge of their technique. For each incident whose assets are judged
compromised: what they reach (assess), the cheapest containment plan in customer-hours
next to isolating everything (contain), when each service is back once the plan is
undone and the compromised assets rebuilt (restore), and the NIS2 notification draft.
The decisions are those `vigie assess`, `contain` and `restore` print for the same
compromised set; searches are bounded by budgets, never by time, so the same input
gives the same bytes.

Defaults: the built-in demo operator (--model), the embedded rule pack (--rules, else
$VIGIE_RULES) and the embedded July 2025 intrusion (samples/july2025.jsonl; no LOGS):
`vigie respond` alone shows the whole story. Names seen in events resolve to assets
through their `identifiers` (docs/model.md); every name that resolves to nothing is
listed under `unresolved`, with how many detections named it.

--window: 90m, 24h, 2d, 3600s, or a bare number of hours (default 24).
Text goes to stdout with the summary at its end; with --format json or html, or with
--output, the summary goes to stderr. JSON schema: docs/respond.md.

Exit status: 0 on success; 1 when no input could be read at all; 2 on a bad model
(clashing identifiers included), unreadable rules, bad arguments or unwritable output.

Examples:
  vigie respond
  vigie respond --format json | jq '.incidents[] | {id, severity, compromised}'
  vigie respond --model operator.yaml --rules ../shared/sigma/rules --window 48h logs/
  vigie respond --format html --output report.html --notification nis2.md logs/
  vigie respond --aware-at 2025-07-15T09:30:00Z --window 90m Security.evtx
  vigie respond --intel peers-bundle.json --intel bad-hashes.txt logs/";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Operator model (YAML or JSON); the built-in demo operator when omitted.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Sigma rule file or directory; repeat for several. Default: $VIGIE_RULES, else the
    /// embedded rule pack.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Detections sharing an entity within this time form one incident: `90m`, `24h`,
    /// `2d`, or a number of hours.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub window: String,
    /// Worker threads (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// When the operator became aware of the incident (starts the NIS2 deadlines;
    /// default: its first high or critical detection). RFC 3339 or `YYYY-MM-DD HH:MM:SS`
    /// in UTC.
    #[arg(long, value_name = "TIME")]
    pub aware_at: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the regulator notification drafts as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub notification: Option<PathBuf>,
    /// Entity mapping: which event fields name hosts, IPs, accounts (default: the
    /// shipped mapping).
    #[arg(long, value_name = "FILE")]
    pub entity_mapping: Option<PathBuf>,
    /// An entity seen with more than N distinct assets within the window stops linking
    /// detections (one domain controller must not merge everything).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_assets_per_entity: usize,
    /// Indicator file or directory (STIX 2.1 bundle, MISP feed, CSV, plain list); repeat
    /// for several. A hit is a detection that joins incidents like a Sigma hit.
    #[arg(long, value_name = "PATH")]
    pub intel: Vec<PathBuf>,
    /// Directory of MISP warning lists: indicator hits on known-benign values are not
    /// reported. Needs --intel.
    #[arg(long, value_name = "DIR", requires = "intel")]
    pub warning_lists: Option<PathBuf>,
    /// Log files or directories (none: the embedded July 2025 intrusion).
    #[arg(value_name = "LOGS")]
    pub inputs: Vec<PathBuf>,
}

/// `90m`, `24h`, `2d`, or a bare number of hours (the grouping's own reader).
pub fn parse_window(text: &str) -> anyhow::Result<TimeDelta> {
    let w = vigie_incident::parse_window(text).map_err(|e| anyhow::anyhow!("--window: {e}"))?;
    anyhow::ensure!(
        w > TimeDelta::zero(),
        "--window: {text:?} must be longer than zero"
    );
    Ok(w)
}

fn aware_at(a: &Args) -> anyhow::Result<Option<DateTime<Utc>>> {
    a.aware_at
        .as_deref()
        .map(|s| parse_time_bound(s, Bound::From))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--aware-at: {e}"))
}

/// The rule set (paths, else the embedded pack), its refusals logged as hunt does.
pub(super) fn load_rules(
    paths: Vec<PathBuf>,
) -> anyhow::Result<(RuleSet, vigie_sigma::LoadReport)> {
    let load = vigie_hunt::load_options(None, None)?;
    let paths = rules_paths(paths);
    let (rules, report) = if paths.is_empty() {
        RuleSet::load_files(crate::embedded::RULES, &load)
    } else {
        RuleSet::load(&paths, &load)?
    };
    vigie_hunt::log_load_report(&report);
    Ok((rules, report))
}

/// The model, its graph and digest, its identity index; clashing identifiers are an
/// error listing every clash (names would resolve to the wrong asset).
fn load_model(a: &Args) -> anyhow::Result<Model> {
    let (model, graph, digest) = super::assess::load_model(a.model.as_deref())?;
    let (identities, clashes) = vigie_model::identity::IdentityIndex::build(&model);
    if !clashes.is_empty() {
        let lines: Vec<String> = clashes
            .iter()
            .map(|c| {
                format!(
                    "  identifier {:?} is on both {} and {}",
                    c.identifier, c.first, c.second
                )
            })
            .collect();
        anyhow::bail!(
            "{} clashing identifier(s) in the model {}: each name must belong to one asset\n{}",
            clashes.len(),
            a.model
                .as_deref()
                .map_or("(demo)".into(), |p| p.display().to_string()),
            lines.join("\n")
        );
    }
    if identities.is_empty() {
        tracing::warn!("the model lists no identifiers: no detection can resolve to an asset");
    }
    Ok(Model {
        model,
        graph,
        digest,
        identities,
    })
}

struct Model {
    model: vigie_model::Model,
    graph: vigie_response::Graph,
    digest: String,
    identities: vigie_model::identity::IdentityIndex,
}

/// One respond run computed: the wire document, the graph the HTML report draws, and
/// how many input files were read (none: the run is meaningless, exit 1).
pub struct Outcome {
    pub wire: RespondReport,
    pub graph: vigie_response::Graph,
    pub files_read: u64,
    /// The model and the engine's result (`vigie intel export` shares them as STIX).
    pub model: vigie_model::Model,
    pub respond: vigie_incident::respond::Respond,
}

/// Hunts, groups, decides and notifies as `vigie respond` does, writing nothing (`vigie
/// demo` tells the same run as a story).
pub fn compute(a: &Args) -> anyhow::Result<Outcome> {
    let window = parse_window(&a.window)?;
    let aware = aware_at(a)?;
    anyhow::ensure!(
        a.max_assets_per_entity > 0,
        "--max-assets-per-entity must be at least 1"
    );
    let m = load_model(a)?;
    let mapping = match &a.entity_mapping {
        Some(p) => vigie_incident::EntityMapping::load(p)?,
        None => vigie_incident::EntityMapping::default(),
    };
    let t = Instant::now();
    let (mut rules, report) = load_rules(a.rules.clone())?;
    let rules_load_s = t.elapsed().as_secs_f64();
    let intel = super::hunt::Intel::load(
        &a.intel,
        a.warning_lists.as_deref(),
        a.entity_mapping.as_deref(),
        &mut rules,
    )?;
    let extra: Vec<Arc<dyn vigie_hunt::ExtraMatcher>> = intel
        .iter()
        .map(|i| i.matcher.clone() as Arc<dyn vigie_hunt::ExtraMatcher>)
        .collect();
    let (mut summary, detections) = hunt(a, &rules, &report, mapping.capture(), extra)?;
    summary.rules_load_s = rules_load_s;
    summary.intel = intel.as_ref().map(super::hunt::Intel::counts);

    let t = Instant::now();
    let attack = vigie_model::derive_attack_edges(&m.model.index());
    let thresholds = vigie_incident::notify::Thresholds::default();
    let cx = vigie_incident::respond::Context {
        model: &m.model,
        graph: &m.graph,
        attack: &attack,
        thresholds: &thresholds,
    };
    let ropts = vigie_incident::respond::RespondOptions {
        group: vigie_incident::GroupOptions {
            window,
            max_assets_per_entity: a.max_assets_per_entity,
            ..Default::default()
        },
        decide: vigie_incident::decide::DecideOptions {
            threads: a.threads,
            ..Default::default()
        },
        aware_at: aware,
    };
    let r =
        vigie_incident::respond::respond(&cx, &rules, &mapping, &m.identities, detections, &ropts)?;
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "respond computed");
    let wire = RespondReport::from_engine(&RespondSource {
        model_digest: &m.digest,
        rules: &rules,
        respond: &r,
        hunt: &summary,
    });
    Ok(Outcome {
        wire,
        graph: m.graph,
        files_read: summary.files.read,
        model: m.model,
        respond: r,
    })
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let Outcome {
        wire,
        graph,
        files_read,
        ..
    } = compute(&a)?;
    write_report(&a, &wire, &graph)?;
    if let Some(p) = &a.notification {
        write_notifications(p, &wire)?;
    }
    if a.format != Format::Text || a.output.is_some() {
        let mut s = String::new();
        vigie_render::respond::text::summary(&mut s, &wire.summary, &wire.unresolved);
        eprint!("{s}");
    }
    if files_read == 0 {
        eprintln!("error: no input could be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Hunts the logs (or the embedded sample) with the progress bar, collecting detections
/// with the event fields entity extraction needs.
fn hunt(
    a: &Args,
    rules: &RuleSet,
    report: &vigie_sigma::LoadReport,
    capture: Arc<vigie_hunt::Capture>,
    extra: Vec<Arc<dyn vigie_hunt::ExtraMatcher>>,
) -> anyhow::Result<(vigie_hunt::Summary, Vec<vigie_hunt::Detection>)> {
    let progress = Arc::new(TerminalProgress::stderr(true));
    crate::logging::show_progress(progress.clone());
    let opts = HuntOptions {
        threads: a.threads,
        progress: Some(progress.clone()),
        capture: Some(capture),
        extra,
        ..HuntOptions::default()
    };
    let mut sink = Collect::default();
    // Kept alive until the hunt is over: dropping it removes the sample's file.
    let mut _sample = None;
    let (files, errors) = if a.inputs.is_empty() {
        let (s, f, e) = EmbeddedSample::create_named(
            crate::embedded::JULY2025_NAME,
            crate::embedded::JULY2025,
        )?;
        _sample = Some(s);
        (f, e)
    } else {
        for p in &a.inputs {
            if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
                anyhow::bail!("input not found: {}", p.display());
            }
        }
        vigie_event::discover(&a.inputs)
    };
    let summary = vigie_hunt::hunt(rules, report, &files, errors, &opts, &mut sink)?;
    crate::logging::hide_progress();
    Ok((summary, sink.0))
}

/// `--notification FILE`: every incident's draft as Markdown, one after the other.
fn write_notifications(p: &std::path::Path, wire: &RespondReport) -> anyhow::Result<()> {
    let mut md = String::new();
    for n in wire
        .incidents
        .iter()
        .filter_map(|i| i.notification.as_ref())
    {
        if !md.is_empty() {
            md.push_str("\n---\n\n");
        }
        md.push_str(&vigie_render::respond::notification::markdown(n));
    }
    if md.is_empty() {
        md.push_str("No incident: nothing to notify.\n");
    }
    std::fs::write(p, md).with_context(|| format!("cannot write {}", p.display()))
}

fn write_report(
    a: &Args,
    wire: &RespondReport,
    graph: &vigie_response::Graph,
) -> anyhow::Result<()> {
    let text = match a.format {
        Format::Text => vigie_render::respond::text::report(wire),
        Format::Json => serde_json::to_string_pretty(wire)? + "\n",
        Format::Html => {
            vigie_render::html::report_with(wire, graph, &vigie_render::html::Options::default())
        }
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
    }
    Ok(())
}
