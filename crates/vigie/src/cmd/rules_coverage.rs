//! `vigie rules coverage`: the ATT&CK Navigator layer of the loaded rules (counts as
//! `sigma analyze attack count` of sigma-cli), and with `--model` how often simulated
//! attacks use each technique and which techniques on their paths no rule detects.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use vigie_sigma::RuleSet;
use vigie_sim::coverage::{self, AttackUse, Uncovered};
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};
use vigie_wire::v1::coverage as wire;

pub const AFTER_HELP: &str = "\
Writes an ATT&CK Navigator layer (format 4.5; open it in the Navigator with \"Open
Existing Layer\") listing every technique and sub-technique id tagged on the loaded rules
(`attack.t1059.001`), scored by the number of rules tagging it, counted exactly as
sigma-cli's `sigma analyze attack count` counts (every rule, any level or status; a
repeated tag counts twice; a sub-technique counts for itself only).

With --model, vigie also runs the attack simulation of `vigie exercise` (--samples,
--seed, --horizon, --entry as there; no containment) and gives each technique the
share of simulated attacks that attempt it (in the layer's metadata and the JSON), then
lists the techniques on the attack paths that some attempted edge carries with no
counted rule able to detect it (a rule tagged for the technique whose logsource the
target asset ships; docs/detection-model.md).

Exit status: 0 on success, 2 when rules, the model or the layer file cannot be read or
written.

Examples:
  vigie rules coverage --navigator layer.json
  vigie rules coverage --rules ../shared/sigma/rules --navigator sigma.json
  vigie rules coverage --model operator.yaml --navigator layer.json
  vigie rules coverage --model operator.yaml --navigator layer.json --format json | jq '.model.uncovered'";

#[derive(clap::Args)]
pub struct Args {
    /// Sigma rule file or directory (repeatable). Default: $VIGIE_RULES, else the
    /// embedded vigie rule pack.
    #[arg(long, short = 'r', value_name = "PATH", num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Where to write the ATT&CK Navigator layer (JSON).
    #[arg(long, value_name = "FILE")]
    navigator: PathBuf,
    /// Operator model: score techniques by how often simulated attacks use them and
    /// list the uncovered ones on the attack paths (`demo` for the built-in demo).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Detection table overriding the default one per technique (with --model).
    #[arg(long, value_name = "FILE")]
    detection: Option<PathBuf>,
    /// Start the simulated attacker on these assets instead of the Internet.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    entry: Vec<String>,
    /// Simulated attacks (with --model).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    samples: u64,
    /// Random seed of the simulation.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Simulated time, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 720.0)]
    horizon: f64,
    /// Report format on standard output.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: super::rules::Format,
}

/// With --model: the simulation's usage and the uncovered techniques.
struct ModelPart {
    usage: AttackUse,
    uncovered: Vec<Uncovered>,
    config: SimConfig,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let paths = super::hunt::rules_paths(a.rules.clone());
    let opts = vigie_hunt::load_options(None, None)?;
    let (rules, report) = if paths.is_empty() {
        RuleSet::load_files(crate::embedded::RULES, &opts)
    } else {
        RuleSet::load(&paths, &opts)?
    };
    vigie_hunt::log_load_report(&report);
    let model = a.model.as_ref().map(|_| simulate(&a, &rules)).transpose()?;
    let doc = report_of(&rules, &a, model.as_ref());
    let layer = layer_of(&doc);
    let text = serde_json::to_string_pretty(&layer)? + "\n";
    std::fs::write(&a.navigator, text)
        .with_context(|| format!("writing the layer to {}", a.navigator.display()))?;
    match a.format {
        super::rules::Format::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        super::rules::Format::Text => print_text(&doc),
    }
    Ok(ExitCode::SUCCESS)
}

fn simulate(a: &Args, rules: &RuleSet) -> anyhow::Result<ModelPart> {
    anyhow::ensure!(a.samples > 0, "--samples must be at least 1");
    anyhow::ensure!(
        a.horizon.is_finite() && a.horizon > 0.0,
        "--horizon must be a positive number of hours, not {}",
        a.horizon
    );
    let path = a.model.as_deref().filter(|p| p.as_os_str() != "demo");
    let (model, _, _) = super::assess::load_model(path)?;
    let table = match &a.detection {
        Some(p) => DetectionTable::load(p)?,
        None => DetectionTable::embedded(),
    };
    let dm = DetectionModel::build(&model, Some(rules), &table);
    let config = SimConfig {
        samples: a.samples,
        seed: a.seed,
        horizon_hours: a.horizon,
        threads: None,
        entry: super::assess::clean(&a.entry),
        containment: false,
    };
    let ex = Exercise::new(&model, &dm, &config)?;
    let t = Instant::now();
    let usage = AttackUse::measure(&ex);
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "attack usage measured");
    let uncovered = coverage::uncovered(&ex, &dm, &usage);
    Ok(ModelPart {
        usage,
        uncovered,
        config,
    })
}

fn report_of(rules: &RuleSet, a: &Args, m: Option<&ModelPart>) -> wire::RulesCoverage {
    let counts = coverage::attack_counts(rules);
    let keys = coverage::attack_rules(rules);
    let techniques = counts
        .into_iter()
        .map(|(t, n)| {
            let info = vigie_incident::attack::technique(&t);
            let status = match info.map(|i| i.status) {
                Some(vigie_incident::attack::Status::Active) => "active",
                Some(vigie_incident::attack::Status::Deprecated) => "deprecated",
                Some(vigie_incident::attack::Status::Revoked) => "revoked",
                None => "unknown",
            };
            wire::TechniqueCoverage {
                name: info.map(|i| i.name.to_string()),
                status: status.into(),
                rules: n,
                rule_keys: keys
                    .get(&t)
                    .map(|v| v.iter().map(|(k, _)| k.clone()).collect())
                    .unwrap_or_default(),
                attack_share: m.map(|m| m.usage.share(&t)),
                technique: t,
            }
        })
        .collect();
    wire::RulesCoverage {
        schema: vigie_wire::SCHEMA_VERSION.to_string(),
        digest: rules.digest().to_string(),
        rules: rules.len(),
        techniques,
        navigator: a.navigator.display().to_string(),
        model: m.map(|m| wire::ModelCoverage {
            samples: m.config.samples,
            seed: m.config.seed,
            horizon_hours: m.config.horizon_hours,
            uncovered: m
                .uncovered
                .iter()
                .map(|u| wire::UncoveredTechnique {
                    technique: u.technique.clone(),
                    name: u.name.clone(),
                    attack_share: u.share,
                    edges: u.edges,
                    uncovered_edges: u.uncovered_edges,
                    examples: u.examples.clone(),
                })
                .collect(),
        }),
    }
}

/// The Navigator layer of a report: one entry per tagged technique.
pub fn layer_of(doc: &wire::RulesCoverage) -> wire::Layer {
    let max = doc.techniques.iter().map(|t| t.rules).max().unwrap_or(0);
    let techniques = doc
        .techniques
        .iter()
        .map(|t| {
            let mut metadata = vec![wire::Metadata {
                name: "rules".into(),
                value: t.rules.to_string(),
            }];
            let mut comment = format!(
                "{} rule{} tag {}",
                t.rules,
                if t.rules == 1 { "" } else { "s" },
                t.technique
            );
            if let Some(s) = t.attack_share {
                metadata.push(wire::Metadata {
                    name: "attack share".into(),
                    value: format!("{:.1}%", s * 100.0),
                });
                comment += &format!("; used by {:.1}% of simulated attacks", s * 100.0);
            }
            if t.status != "active" {
                comment += &format!(
                    "; {} in ATT&CK {}",
                    t.status,
                    vigie_incident::attack::ATTACK_VERSION
                );
            }
            wire::LayerTechnique {
                technique_id: t.technique.clone(),
                score: t.rules,
                comment,
                enabled: true,
                metadata,
                show_subtechniques: false,
            }
        })
        .collect();
    wire::Layer {
        name: "vigie rules coverage".into(),
        versions: wire::LayerVersions {
            attack: vigie_incident::attack::ATTACK_VERSION.into(),
            navigator: wire::NAVIGATOR_VERSION.into(),
            layer: wire::LAYER_VERSION.into(),
        },
        domain: "enterprise-attack".into(),
        description: format!(
            "Rules per ATT&CK technique ({} rules, rule set {}), counted as `sigma analyze \
             attack count` counts them",
            doc.rules, doc.digest
        ),
        techniques,
        gradient: wire::Gradient {
            colors: vec!["#ff6666".into(), "#ffe766".into(), "#8ec843".into()],
            min_value: 0,
            max_value: max.max(1),
        },
        legend_items: Vec::new(),
    }
}

fn print_text(doc: &wire::RulesCoverage) {
    let subs = doc
        .techniques
        .iter()
        .filter(|t| t.technique.contains('.'))
        .count();
    println!(
        "{} rules: {} ATT&CK ids tagged ({} techniques, {} sub-techniques); layer written to {}",
        doc.rules,
        doc.techniques.len(),
        doc.techniques.len() - subs,
        subs,
        doc.navigator
    );
    let mut top: Vec<&wire::TechniqueCoverage> = doc.techniques.iter().collect();
    top.sort_by(|a, b| {
        b.rules
            .cmp(&a.rules)
            .then_with(|| a.technique.cmp(&b.technique))
    });
    for t in top.iter().take(10) {
        println!(
            "  {:<10} {:>5} rule{}  {}",
            t.technique,
            t.rules,
            if t.rules == 1 { " " } else { "s" },
            t.name.as_deref().unwrap_or("")
        );
    }
    let Some(m) = &doc.model else {
        return;
    };
    println!(
        "attack paths ({} samples, seed {}, horizon {} h): {} technique(s) attempted with no \
         rule able to detect them on some edge",
        m.samples,
        m.seed,
        m.horizon_hours,
        m.uncovered.len()
    );
    for u in &m.uncovered {
        println!(
            "  {:<10} {:<40} used by {:>5.1}% of attacks; {} of {} attempted edges uncovered{}",
            u.technique,
            u.name.as_deref().unwrap_or(""),
            u.attack_share * 100.0,
            u.uncovered_edges,
            u.edges,
            u.examples
                .first()
                .map(|e| format!(" (e.g. {e})"))
                .unwrap_or_default()
        );
    }
}
