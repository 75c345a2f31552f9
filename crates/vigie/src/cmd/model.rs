//! `vigie model`: check a model and print its figures, generate synthetic operators, show
//! a model normalised.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use vigie_model::generate::host_names;
use vigie_model::{
    derive_attack_edges, generate, load_report_with, stats, try_demo, Diagnostic, Format,
    GenOptions, LoadOptions, Model, Stats, DEMO_ORIGIN,
};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a model (default: the built-in demo operator) and print its figures.
    ///
    /// Every problem is reported at once, each with file:line:column. Exit status 1 when
    /// the model is invalid.
    Check(CheckArgs),
    /// Write a synthetic operator of any size with the demo's structure (for scale tests).
    Generate(GenerateArgs),
    /// Print a model (default: the demo) normalised, with every default made explicit.
    Show(ShowArgs),
}

/// Text or JSON output.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Text,
    Json,
}

/// YAML or JSON model text.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelFormat {
    Yaml,
    Json,
}

impl From<ModelFormat> for Format {
    fn from(f: ModelFormat) -> Format {
        match f {
            ModelFormat::Yaml => Format::Yaml,
            ModelFormat::Json => Format::Json,
        }
    }
}

const CHECK_HELP: &str = "\
Exit status: 0 when the model is valid (warnings allowed), 1 when it has errors, 2 when
the file cannot be read.

Examples:
  vigie model check
  vigie model check my-operator.yaml
  vigie model check my-operator.yaml --format json | jq '.diagnostics[]'";

#[derive(clap::Args)]
#[command(after_help = CHECK_HELP)]
pub struct CheckArgs {
    /// Model file (YAML or JSON); the built-in demo operator when omitted.
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Bounds on reading a model file.
#[derive(clap::Args)]
pub struct LimitArgs {
    /// Refuse a model file bigger than this many bytes, before reading it (default 2 GiB).
    #[arg(long, value_name = "BYTES", env = "VIGIE_MAX_MODEL_BYTES",
          default_value_t = vigie_model::load::DEFAULT_MAX_MODEL_BYTES)]
    max_model_bytes: u64,
}

impl LimitArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            max_bytes: self.max_model_bytes,
        }
    }
}

const GENERATE_HELP: &str = "\
The same seed and size always give the same model. Every asset gets identifiers (hostnames,
addresses, accounts, SIDs) so that detections resolve to it.

--hosts FILE names generated hosts after the machines of a log corpus: one hostname per
line, `#` starts a comment. A short name that is the first label of exactly one listed FQDN
joins that FQDN's machine; each machine goes to the next generated host, in order, and
extra workstations are added when the list is longer than the hosts.

Examples:
  vigie model generate --assets 1000 -o op.yaml
  vigie model generate --assets 1000000 --seed 7 -o big.json
  vigie model generate --assets 5000 --hosts corpus-hosts.txt -o corpus.json";

#[derive(clap::Args)]
#[command(after_help = GENERATE_HELP)]
pub struct GenerateArgs {
    /// Number of assets (identities included; at least one site, about 90).
    #[arg(long, default_value_t = 1000)]
    assets: usize,
    /// Random seed; the same seed and size give the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Model syntax (default: from the output extension, else YAML; prefer JSON for big models).
    #[arg(long, value_enum)]
    format: Option<ModelFormat>,
    /// Hostnames to give generated hosts, one per line (`#` comments).
    #[arg(long, value_name = "FILE")]
    hosts: Option<PathBuf>,
}

const SHOW_HELP: &str = "\
Examples:
  vigie model show > demo.yaml        # the demo operator, a starting point for your own
  vigie model show my-operator.yaml --format json";

#[derive(clap::Args)]
#[command(after_help = SHOW_HELP)]
pub struct ShowArgs {
    /// Model file (YAML or JSON); the built-in demo operator when omitted.
    file: Option<PathBuf>,
    /// Output syntax.
    #[arg(long, value_enum, default_value = "yaml")]
    format: ModelFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let result = match cmd {
        Command::Check(a) => check(a),
        Command::Generate(a) => generate_cmd(a),
        Command::Show(a) => show(a),
    };
    match result {
        // Output piped into `head` and closed early is not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

/// Print to stdout, reporting (not panicking on) a closed pipe.
fn print_out(text: &str) -> io::Result<()> {
    let mut o = io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.write_all(b"\n")
}

/// Load the given model or the demo; diagnostics (warnings included) go to stderr.
fn load(
    file: Option<&PathBuf>,
    opts: &LoadOptions,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    match file {
        Some(path) => load_report_with(path, opts).map(|l| (l.model, l.warnings)),
        None => try_demo().map(|m| (m, Vec::new())),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let origin = args
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| DEMO_ORIGIN.to_string());
    let (model, warnings) = match load(args.file.as_ref(), &args.limits.options()) {
        Ok(x) => x,
        Err(diags) => {
            let errors = diags.iter().filter(|d| d.is_error()).count();
            if args.format == OutFormat::Json {
                let out = serde_json::json!({
                    "file": origin,
                    "valid": false,
                    "errors": errors,
                    "diagnostics": diags,
                });
                print_out(&serde_json::to_string_pretty(&out)?)?;
            } else {
                for d in &diags {
                    eprintln!("{d}");
                }
                eprintln!("{origin}: invalid model: {errors} error(s)");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let loaded = started.elapsed();
    let index = model.index();
    let graph = derive_attack_edges(&index);
    let st = stats(&index, &graph);
    tracing::info!(
        "loaded in {:.3}s, derived {} edges in {:.3}s",
        loaded.as_secs_f64(),
        graph.edges.len(),
        (started.elapsed() - loaded).as_secs_f64()
    );
    if args.format == OutFormat::Json {
        let out = serde_json::json!({
            "file": origin,
            "valid": true,
            "errors": 0,
            "diagnostics": warnings,
            "stats": st,
        });
        print_out(&serde_json::to_string_pretty(&out)?)?;
    } else {
        for w in &warnings {
            eprintln!("{w}");
        }
        print_stats(&origin, &st, warnings.len())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_stats(origin: &str, st: &Stats, warnings: usize) -> io::Result<()> {
    let mut o = io::stdout().lock();
    let name = if st.operator.is_empty() {
        "(unnamed operator)"
    } else {
        &st.operator
    };
    writeln!(o, "{origin}: valid ({warnings} warning(s))")?;
    writeln!(o, "operator      {name}")?;
    writeln!(o, "zones         {}   flows {}", st.zones, st.flows)?;
    writeln!(
        o,
        "assets        {}   crown jewels {}   exposed {}   identities {}   vulnerabilities {}",
        st.assets, st.crown_jewels, st.exposed, st.identities, st.vulnerabilities
    )?;
    let kinds: Vec<String> = st
        .assets_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(o, "  by kind     {}", kinds.join(", "))?;
    const MAX_ZONES: usize = 20;
    let mut zones: Vec<(&String, &usize)> = st.assets_by_zone.iter().collect();
    zones.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = zones
        .iter()
        .take(MAX_ZONES)
        .map(|(z, n)| format!("{z} {n}"))
        .collect();
    let more = zones.len().saturating_sub(MAX_ZONES);
    let tail = if more > 0 {
        format!(", ... {more} more zones")
    } else {
        String::new()
    };
    writeln!(o, "  by zone     {}{tail}", shown.join(", "))?;
    let machines = st.assets - st.identities;
    let pct = |n: usize| {
        if machines == 0 {
            0.0
        } else {
            100.0 * n as f64 / machines as f64
        }
    };
    writeln!(
        o,
        "  controls    EDR {:.0}%   MFA {:.0}%   backup {:.0}%   (of {machines} non-identity assets)",
        pct(st.with_edr),
        pct(st.with_mfa),
        pct(st.with_backup)
    )?;
    writeln!(
        o,
        "attack edges  {}   derived {}   explicit {}",
        st.derived_attack_edges + st.explicit_attack_edges,
        st.derived_attack_edges,
        st.explicit_attack_edges
    )?;
    let rules: Vec<String> = st
        .attack_edges_by_rule
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    writeln!(o, "  by rule     {}", rules.join(", "))?;
    let dists: Vec<String> = st
        .attack_edges_by_dist
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    writeln!(
        o,
        "  by ttc      {}   may fail (p_success < 1) {}",
        dists.join(", "),
        st.attack_edges_may_fail
    )?;
    writeln!(
        o,
        "services      {}   dependencies {}   redundancy groups (k-of-n) {}",
        st.services, st.dependencies, st.redundancy_groups
    )?;
    writeln!(
        o,
        "segments      {}   customers {}   countries {}",
        st.segments,
        thousands(st.customers),
        if st.countries.is_empty() {
            "-".to_string()
        } else {
            st.countries.join(", ")
        }
    )?;
    let ids: Vec<String> = st
        .identifiers_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(
        o,
        "identifiers   {}   by kind {}   personal data on {} asset(s)",
        st.identifiers_by_kind.values().sum::<usize>(),
        if ids.is_empty() {
            "-".to_string()
        } else {
            ids.join(", ")
        },
        st.personal_data
    )?;
    Ok(())
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn generate_cmd(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let format: Format = match args.format {
        Some(f) => f.into(),
        None => match &args.output {
            Some(p) => Format::detect(Some(p), ""),
            None => Format::Yaml,
        },
    };
    let mut opts = GenOptions::new(args.assets, args.seed);
    if let Some(path) = &args.hosts {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the host list {}", path.display()))?;
        let list = host_names(&text);
        for s in &list.skipped {
            eprintln!(
                "{}:{}: skipped `{}`: {}",
                path.display(),
                s.line,
                s.text,
                s.reason
            );
        }
        let names: usize = list.groups.iter().map(Vec::len).sum();
        eprintln!(
            "{}: {names} name(s) of {} machine(s); {} line(s) skipped",
            path.display(),
            list.groups.len(),
            list.skipped.len()
        );
        opts.hosts = list.groups;
    }
    let started = Instant::now();
    let summary = match &args.output {
        Some(path) => {
            let f =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            generate(opts, format, f).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => generate(opts, format, io::stdout().lock()).context("cannot write the model")?,
    };
    if let Some(path) = &args.output {
        eprintln!(
            "wrote {}: {} assets ({} identifiers), {} zones, {} flows, {} services, {} segments, {} customers, {} sites in {:.2}s",
            path.display(),
            summary.assets,
            summary.identifiers,
            summary.zones,
            summary.flows,
            summary.services,
            summary.segments,
            thousands(summary.customers),
            summary.sites,
            started.elapsed().as_secs_f64()
        );
    }
    if args.hosts.is_some() {
        eprintln!(
            "named {} host(s) from the list, {} of them extra workstations",
            summary.named_hosts, summary.extra_hosts
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let (model, _) = match load(args.file.as_ref(), &args.limits.options()) {
        Ok(x) => x,
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let mut o = io::stdout().lock();
    match args.format {
        ModelFormat::Json => {
            serde_json::to_writer_pretty(&mut o, &model)?;
            writeln!(o)?;
        }
        ModelFormat::Yaml => o.write_all(vigie_model::to_yaml(&model)?.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(31_000_000), "31,000,000");
    }

    #[test]
    fn check_exit_status_follows_validity() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(dir) = dir else { panic!("tempdir") };
        let bad = dir.path().join("bad.yaml");
        let good = dir.path().join("good.json");
        std::fs::write(
            &bad,
            "zones:\n  - id: a\nassets:\n  - { id: x, kind: host, zone: b }\n",
        )
        .unwrap_or_default();
        let mut buf = Vec::new();
        generate(GenOptions::new(100, 1), Format::Json, &mut buf).unwrap_or_default();
        std::fs::write(&good, buf).unwrap_or_default();
        let run_check = |file: &PathBuf| {
            check(CheckArgs {
                file: Some(file.clone()),
                format: OutFormat::Json,
                limits: LimitArgs {
                    max_model_bytes: vigie_model::load::DEFAULT_MAX_MODEL_BYTES,
                },
            })
            .map(|c| format!("{c:?}"))
            .unwrap_or_default()
        };
        assert_eq!(run_check(&bad), format!("{:?}", ExitCode::from(1)));
        assert_eq!(run_check(&good), format!("{:?}", ExitCode::SUCCESS));
    }
}
