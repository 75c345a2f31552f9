//! `vigie demo`: the built-in story end to end. `vigie respond` with every default (the
//! demo operator, the embedded rule pack, the embedded July 2025 intrusion; see
//! `docs/demo.md`), told to a person: the incidents, what they reach, the optimal plan
//! next to isolating everything, the restore timeline, the notification deadlines; and
//! the HTML report written to a file. `--format json` prints respond's JSON for the
//! same run instead.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser as _;

use super::respond;

/// Output format of `demo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The story in words, and the HTML report written to a file.
    Text,
    /// respond's JSON document for the same run (schema: docs/respond.md).
    Json,
}

/// Where the HTML report goes when `--output` is not given (the current directory).
pub const DEFAULT_HTML: &str = "vigie-demo.html";

const AFTER_HELP: &str = "\
The July 2025 story (docs/demo.md): two days of Windows logs from the demo operator,
Armorique Telecom, in which an intruder goes from the exposed enterprise management
platform through its service account and provisioning to the Active Directory, with a
second, unrelated, low-severity incident on a customer-care workstation. vigie hunts
them with its embedded rules, groups the detections into incidents on the operator
model and decides on each, exactly as `vigie respond` does with its defaults (the
rules follow $VIGIE_RULES when it is set, as respond's do).

With --format text (the default) the story goes to stdout and the HTML report to
./vigie-demo.html (or --output FILE). With --format json, respond's JSON document goes
to stdout and the HTML report is written only when --output is given.

Exit status: 0 on success, 2 when the report cannot be written.

Examples:
  vigie demo
  vigie demo --output /tmp/july2025.html
  vigie demo --format json | jq '.incidents[] | {id, severity, compromised}'";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the HTML report to FILE (default with --format text: ./vigie-demo.html).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

/// respond's own arguments with every default, so the demo is the run `vigie respond`
/// makes (parsed, not written out field by field, so a default changed there is
/// changed here).
#[derive(clap::Parser)]
struct RespondDefaults {
    #[command(flatten)]
    args: respond::Args,
}

fn respond_args(threads: usize) -> anyhow::Result<respond::Args> {
    let threads = threads.to_string();
    RespondDefaults::try_parse_from(["respond", "--threads", threads.as_str()])
        .map(|d| d.args)
        .context("respond's defaults")
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let out = respond::compute(&respond_args(a.threads)?)?;
    anyhow::ensure!(out.files_read > 0, "the embedded sample could not be read");
    let html = match (a.format, &a.output) {
        (_, Some(p)) => Some(p.clone()),
        (Format::Text, None) => Some(PathBuf::from(DEFAULT_HTML)),
        (Format::Json, None) => None,
    };
    if let Some(p) = &html {
        let options = vigie_render::html::Options {
            title: "vigie demo: July 2025 at Armorique Telecom".to_string(),
            ..vigie_render::html::Options::default()
        };
        let page = vigie_render::html::report_with(&out.wire, &out.graph, &options);
        std::fs::write(p, page).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&out.wire)? + "\n",
        Format::Text => story(&out.wire, html.as_deref()),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    if let (Format::Json, Some(p)) = (a.format, &html) {
        eprintln!("HTML report written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The story: a heading, the run told incident by incident, where the HTML report is.
fn story(wire: &vigie_wire::v1::respond::RespondReport, html: Option<&std::path::Path>) -> String {
    let model = vigie_model::demo();
    let names: vigie_render::respond::story::Names = model
        .assets
        .iter()
        .map(|x| (x.id.clone(), x.name.clone()))
        .collect();
    let mut s = String::from(
        "vigie demo: July 2025 at Armorique Telecom (the story: docs/demo.md)\n\n\
         Two days of Windows logs from the demo operator's hosts (samples/july2025.jsonl).\n",
    );
    s.push_str(&vigie_render::respond::story::story(wire, &names));
    if let Some(p) = html {
        let shown = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        s.push_str(&format!(
            "\nHTML report (graph, plan, restore timeline, notification) written to {}\n",
            shown.display()
        ));
    }
    s.push_str("The same run as JSON: vigie demo --format json\n");
    s
}
