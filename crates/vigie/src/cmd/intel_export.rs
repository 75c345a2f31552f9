//! `vigie intel export`: respond's run (same options, same pipeline) shared as a STIX 2.1
//! bundle: TLP-marked, internal details redacted unless `--include-internal`. The engine
//! is `vigie_intel::export`; the format is documented in `docs/intel-export.md`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use vigie_intel::export::{ExportInput, ExportOptions, ExportReport, Tlp};

const AFTER_HELP: &str = "\
Runs what `vigie respond` runs (the same options: model, rules, window, logs; none: the
embedded July 2025 intrusion on the demo operator) and writes its incidents and
detections as one STIX 2.1 bundle: the operator's identity, one incident per incident
(severity, risk, customer-hours and the containment plan in vigie's property
extension, defined in the bundle), attack-patterns with their ATT&CK references,
indicators for the external values seen (file hashes, public addresses, domains, URLs),
observed-data and their cyber-observables, sightings and relationships. Ids are
deterministic and times come from the detections: the same input gives the same bytes.

Every object carries the TLP 2.0 marking of --tlp (default amber). By default nothing
internal leaves: no asset id, host name, account, SID, internal address (RFC 1918,
loopback, link-local, ULA, shared, every address the model names), file path or
customer count; assets appear as their role in the model and customer-hours are rounded
to two significant digits. --include-internal keeps all of it: for a trusted party only.

The bundle goes to --output FILE (default stdout); the summary (objects by type, what
was redacted) to stderr. Respond's --format html and --notification do not apply.
Format: docs/intel-export.md.

Exit status: 0 on success; 1 when no input could be read at all; 2 on bad arguments, a
bad model, unreadable rules or an unwritable output.

Examples:
  vigie intel export -o bundle.json
  vigie intel export --tlp green --window 48h logs/ -o bundle.json
  vigie intel export --include-internal --tlp red -o internal.json
  vigie intel export | stix2_validator --strict /dev/stdin";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
#[group(id = "intel_export")]
pub struct Args {
    /// TLP 2.0 marking of every object: clear, green, amber, amber+strict, red.
    #[arg(long, value_name = "LEVEL", default_value = "amber", value_parser = parse_tlp)]
    pub tlp: Tlp,
    /// Keep internal details (asset ids, host names, accounts, internal addresses, file
    /// paths, customer counts, exact customer-hours).
    #[arg(long)]
    pub include_internal: bool,
    #[command(flatten)]
    pub respond: Box<super::respond::Args>,
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    Tlp::parse(s).ok_or_else(|| {
        format!("unknown TLP level {s:?}: expected clear, green, amber, amber+strict or red")
    })
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        a.respond.format == super::respond::Format::Text,
        "--format does not apply to intel export: the bundle is always STIX JSON"
    );
    anyhow::ensure!(
        a.respond.notification.is_none(),
        "--notification does not apply to intel export (use vigie respond)"
    );
    let out = super::respond::compute(&a.respond)?;
    let input = ExportInput::from_respond(&out.model, &out.respond);
    let opts = ExportOptions {
        tlp: a.tlp,
        include_internal: a.include_internal,
    };
    let bundle = vigie_intel::export::bundle(&input, &opts);
    let text = bundle.to_json_pretty();
    match &a.respond.output {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => {
            let mut so = std::io::stdout().lock();
            match so.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
    }
    eprint!("{}", summary(&bundle.report, &opts, input.incidents.len()));
    if out.files_read == 0 {
        eprintln!("error: no input could be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The text summary (stderr).
fn summary(r: &ExportReport, opts: &ExportOptions, incidents: usize) -> String {
    let total: u64 = r.by_type.values().sum();
    let types: Vec<String> = r.by_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let mut s = format!(
        "Export: {incidents} incident(s), {total} STIX objects ({}), marked {}\n",
        types.join(", "),
        opts.tlp.name()
    );
    if opts.include_internal {
        s.push_str(
            "Internal details included (--include-internal): share with a trusted party only\n",
        );
    } else {
        let red: Vec<String> = r.redacted.iter().map(|(k, n)| format!("{k} {n}")).collect();
        s.push_str(&format!(
            "Redacted: {}\n",
            if red.is_empty() {
                "nothing".to_string()
            } else {
                red.join(", ")
            }
        ));
    }
    s.push_str(&format!(
        "Detections without a shareable observable: {}; without a time: {}\n",
        r.detections_without_observables, r.detections_without_time
    ));
    s
}
