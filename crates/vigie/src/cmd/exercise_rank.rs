//! `vigie exercise rank`: single changes ranked by the expected customer-hours they save.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use vigie_render::progress::TerminalProgress;
use vigie_sim::detection::DetectionTable;
use vigie_sim::rank::{ChangeKind, RankInput, RankOptions};
use vigie_wire::v1::exercise_rank::{RankDocument, RankSource};

use super::exercise::{Format, SimArgs};
use super::exercise_run::Prepared;

const AFTER_HELP: &str = "\
Each candidate is one change: EDR or MFA on an asset, one more log source shipped by an
asset (telemetry), a rule for a technique no loaded rule covers, a patched
vulnerability, a removed flow (one no service crosses). The baseline runs first; changes
touching only assets it never reaches are screened out, changes that alter no attack
edge and no detection are skipped, and the rest, taken kind by kind in turn by how often
the baseline reaches what they touch, are simulated up to --max-candidates. Every
variant reuses the baseline's random numbers (common random numbers), so the interval of
the saving is that of the paired differences.

Examples:
  vigie exercise rank
  vigie exercise rank --top 5 --kinds edr,mfa,patch
  vigie exercise rank --samples 2000 --max-candidates 100 --format json";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Show the N best changes.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Kinds of change to try: edr, mfa, telemetry, rule, patch, flow.
    #[arg(
        long,
        value_name = "KIND,...",
        value_delimiter = ',',
        default_value = "edr,mfa,telemetry,rule,patch,flow"
    )]
    pub kinds: Vec<String>,
    /// Simulate at most N candidates (after screening; see below).
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_candidates: usize,
}

fn kinds(names: &[String]) -> anyhow::Result<Vec<ChangeKind>> {
    let mut out = Vec::new();
    for n in names.iter().filter(|n| !n.trim().is_empty()) {
        match ChangeKind::parse(n) {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => anyhow::bail!(
                "--kinds: unknown kind `{}` (expected edr, mfa, telemetry, rule, patch, flow)",
                n.trim()
            ),
        }
    }
    anyhow::ensure!(!out.is_empty(), "--kinds: name at least one kind");
    Ok(out)
}

pub fn run(sim: &SimArgs, a: Args) -> anyhow::Result<ExitCode> {
    let kinds = kinds(&a.kinds)?;
    anyhow::ensure!(a.top > 0, "--top must be at least 1");
    let p = Prepared::load(sim)?;
    let table = DetectionTable::embedded();
    let input = RankInput {
        model: &p.model,
        rules: Some(&p.rules),
        table: &table,
        config: &p.config,
    };
    let opts = RankOptions {
        kinds: kinds.clone(),
        top: a.top,
        max_candidates: a.max_candidates,
    };
    let bar = Arc::new(TerminalProgress::stderr(true));
    bar.start_count(a.max_candidates as u64, "variants");
    crate::logging::show_progress(bar.clone());
    let t = Instant::now();
    let report = {
        use vigie_hunt::Progress as _;
        let tick = |done: u64| bar.position(done);
        let r = vigie_sim::rank::rank(&input, &opts, &tick);
        bar.finish();
        r
    };
    crate::logging::hide_progress();
    let report = report?;
    tracing::info!(
        seconds = t.elapsed().as_secs_f64(),
        variants = report.evaluated,
        "exercise rank"
    );
    let doc = RankDocument::from_engine(&RankSource {
        model_digest: &p.digest,
        rules_digest: p.rules.digest(),
        entry: &p.config.entry,
        kinds: &kinds,
        max_candidates: a.max_candidates,
        report: &report,
    });
    let text = match sim.format {
        Format::Text => vigie_render::exercise_rank::report(&doc),
        Format::Json => serde_json::to_string_pretty(&doc)? + "\n",
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(ExitCode::SUCCESS)
}
