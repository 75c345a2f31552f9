//! `vigie exercise` (no subcommand): the Monte Carlo race, printed. Also the loading
//! every `vigie exercise` form shares ([`Prepared::load`]: model, rules, detection model,
//! [`SimConfig`] checked from the options).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use vigie_render::progress::TerminalProgress;
use vigie_sigma::RuleSet;
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};
use vigie_wire::v1::exercise::{ExerciseReport, ExerciseSource};

use super::exercise::{Format, SimArgs};

/// What a `vigie exercise` run works on, loaded and checked once.
pub struct Prepared {
    pub model: vigie_model::Model,
    /// `vigie_model::digest` of the model.
    pub digest: String,
    pub rules: RuleSet,
    pub detection: DetectionModel,
    pub config: SimConfig,
}

impl Prepared {
    /// Checks the options, loads the model (or the demo) and the rules (or the embedded
    /// pack, as `vigie respond` does), builds the detection model on the embedded table.
    /// An `--entry` id that is not an asset, `--samples 0` or a horizon that is not a
    /// positive number of hours is an error (exit 2).
    pub fn load(sim: &SimArgs) -> anyhow::Result<Prepared> {
        anyhow::ensure!(sim.samples > 0, "--samples must be at least 1");
        anyhow::ensure!(
            sim.horizon.is_finite() && sim.horizon > 0.0,
            "--horizon must be a positive number of hours, not {}",
            sim.horizon
        );
        let (model, graph, digest) = super::assess::load_model(sim.model.as_deref())?;
        let entry = super::assess::clean(&sim.entry);
        check_entry(&model, &graph, &entry)?;
        let (rules, _) = super::respond::load_rules(sim.rules.clone())?;
        let t = Instant::now();
        let detection = DetectionModel::build(&model, Some(&rules), &DetectionTable::embedded());
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "detection model built");
        let config = SimConfig {
            samples: sim.samples,
            seed: sim.seed,
            horizon_hours: sim.horizon,
            // 0 = one per core, as for `vigie respond`.
            threads: sim.threads.filter(|&n| n > 0),
            entry,
            containment: true,
        };
        Ok(Prepared {
            model,
            digest,
            rules,
            detection,
            config,
        })
    }
}

/// Every `--entry` id must be an asset of the model: all unknown ones in one error,
/// with the closest ids as suggestions.
fn check_entry(
    model: &vigie_model::Model,
    graph: &vigie_response::Graph,
    entry: &[String],
) -> anyhow::Result<()> {
    let unknown: Vec<String> = entry
        .iter()
        .filter(|id| !model.assets.iter().any(|a| &a.id == *id))
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // The graph's resolver words the error and finds suggestions; an id it knows but
    // that is no asset (a service, a flow) still gets a plain error.
    graph.resolve_nodes("--entry asset", &unknown)?;
    anyhow::bail!("--entry: not an asset of the model: {}", unknown.join(", "))
}

/// Compiles the exercise and runs its samples with a progress bar on stderr (when it
/// is a terminal).
pub fn simulate(p: &Prepared) -> anyhow::Result<(Exercise, vigie_sim::run::ExerciseReport)> {
    let t = Instant::now();
    let ex = Exercise::new(&p.model, &p.detection, &p.config)?;
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "exercise compiled");
    let report = run_with_progress(&ex, p.config.samples);
    Ok((ex, report))
}

/// `ex.run` with the bar; logs the rate.
pub fn run_with_progress(ex: &Exercise, samples: u64) -> vigie_sim::run::ExerciseReport {
    let bar = Arc::new(TerminalProgress::stderr(true));
    bar.start_count(samples, "samples");
    crate::logging::show_progress(bar.clone());
    let t = Instant::now();
    let report = {
        use vigie_hunt::Progress as _;
        let tick = |done: u64| bar.position(done);
        let r = ex.run(&tick);
        bar.finish();
        r
    };
    crate::logging::hide_progress();
    let secs = t.elapsed().as_secs_f64();
    tracing::info!(
        seconds = secs,
        samples_per_second = samples as f64 / secs.max(1e-9),
        "exercise run"
    );
    report
}

pub fn run(sim: &SimArgs) -> anyhow::Result<ExitCode> {
    let p = Prepared::load(sim)?;
    let (ex, report) = simulate(&p)?;
    let wire = ExerciseReport::from_engine(&ExerciseSource {
        model_digest: &p.digest,
        rules_digest: p.rules.digest(),
        exercise: &ex,
        detection: &p.detection,
        report: &report,
    });
    let text = match sim.format {
        Format::Text => vigie_render::exercise::report(&wire),
        Format::Json => serde_json::to_string_pretty(&wire)? + "\n",
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(ExitCode::SUCCESS)
}
