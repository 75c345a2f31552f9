//! `vigie rules check`: load rules, say what loaded and why the rest was refused.
//! `vigie rules coverage`: their ATT&CK Navigator layer (`rules_coverage.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use vigie_sigma::RuleSet;
use vigie_wire::v1::rules::{Refusal, RoutingRow, RulesCheck};

const AFTER_HELP: &str = "\
Prints how many rules loaded (detection, correlation, filters) and every refused rule
with its file, line (and column when exact) and reason, grouped counts first. Nothing
is dropped silently: a rule is either loaded or listed here, and so is a file that
cannot be read (`unreadable`), holds no document (`empty`) or is over a reading limit
(`limit`: bigger than 16 MiB, nested deeper than 64 levels, aliases expanding too far;
refused in milliseconds, the other files load). Then the rules loaded with a warning (duplicate
id or name, filter naming an unknown rule, ...) and the logsources the mapping does not
route (their rules are tried on every event) or routes by part of their keys only, with
how many rules use each and why (\"entry `product: linux` has no `category: file_event`:
the rule runs on every linux event\"), and one line counting the rules fully routed,
partly routed and unrouted. `--routing` adds the whole routing table: one row per
distinct logsource, its rules fully / partly / not routed and the mapping entry used.
The JSON report has the same table as `routing[]` (`logsource`, `rules`, `fully`,
`partly`, `unrouted`, `entry`, `reason`).

Compiled rules are cached (--cache-dir, default $XDG_CACHE_HOME/vigie or ~/.cache/vigie;
--no-cache to skip it), keyed by the bytes of every rule file, the mapping, the
placeholders and the vigie version: a second check of unchanged rules reads the cache
instead of parsing them (`compiled-rule cache: hit`); any change is a miss, and a
damaged cache file is ignored with a warning and rewritten.

Exit status: 0 when every rule loaded, 1 when some were refused, 2 when a rules path,
the mapping or the placeholders file cannot be read.

Examples:
  vigie rules check --rules ../shared/sigma/rules
  vigie rules check --rules ../shared/sigma/rules-placeholder --placeholders values.yml
  vigie rules check --rules rules/ --format json | jq '.refused[] | .reason'
  vigie rules check --rules ../shared/sigma/rules/linux --routing
  vigie rules check --rules rules/ --format json | jq '.routing[] | select(.unrouted > 0)'";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load rules and report loaded/refused counts and every refusal with its reason.
    #[command(after_help = AFTER_HELP)]
    Check(CheckArgs),
    /// Write the ATT&CK Navigator layer of the rules (counts as sigma-cli's `sigma
    /// analyze attack count`); with --model, the techniques simulated attacks use that
    /// no rule detects.
    #[command(after_help = super::rules_coverage::AFTER_HELP)]
    Coverage(super::rules_coverage::Args),
}

/// Report format of `rules check` and `rules coverage`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Counts, then one line per refusal: `file:line[:column]: kind: rule: reason`.
    Text,
    /// One JSON document: counts, refused_by_kind, refused and warnings (file, line,
    /// column when known, rule, kind, reason), unrouted_logsources and partially_routed_logsources
    /// ([logsource, rules]) and routing[] (per logsource: rules, fully, partly, unrouted,
    /// entry, reason).
    Json,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Sigma rule file or directory (repeatable). Default: $VIGIE_RULES, else the
    /// embedded vigie rule pack.
    #[arg(long, short = 'r', value_name = "PATH", num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Logsource routing and field mapping file (default: the shipped mapping).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Values for `|expand` placeholders.
    #[arg(long, value_name = "FILE")]
    placeholders: Option<PathBuf>,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: Format,
    /// Text format: also print the routing table, one row per distinct logsource (rules
    /// fully / partly / not routed, and the mapping entry used). The JSON report always
    /// has it (`routing[]`).
    #[arg(long)]
    routing: bool,
    #[command(flatten)]
    cache: super::hunt::CacheArgs,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let a = match cmd {
        Command::Check(a) => a,
        Command::Coverage(a) => return super::rules_coverage::run(a),
    };
    let paths = super::hunt::rules_paths(a.rules);
    let mut opts = vigie_hunt::load_options(a.mapping.as_deref(), a.placeholders.as_deref())?;
    if !paths.is_empty() {
        opts.cache = a.cache.dir();
    }
    let t0 = std::time::Instant::now();
    let (rules, report) = if paths.is_empty() {
        RuleSet::load_files(crate::embedded::RULES, &opts)
    } else {
        RuleSet::load(&paths, &opts)?
    };
    let load_s = t0.elapsed().as_secs_f64();
    // Text and JSON say the same thing: both are written from the wire report.
    let doc = RulesCheck::from_engine(&report, rules.digest(), load_s);
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Format::Text => print_text(&doc, a.routing),
    }
    Ok(if doc.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(doc: &RulesCheck, table: bool) {
    println!(
        "{} files: {} rules loaded ({} detection, {} correlation, {} filters), \
         {} refused, in {:.2} s",
        doc.files,
        doc.loaded,
        doc.detection_rules,
        doc.correlation_rules,
        doc.filters,
        doc.refused_count,
        doc.load_s
    );
    if doc.cache != "disabled" {
        println!("compiled-rule cache: {}", doc.cache);
    }
    if !doc.refused_by_kind.is_empty() {
        println!("refused by reason: {}", counts(&doc.refused_by_kind));
    }
    for r in &doc.refused {
        print_refusal(r);
    }
    if !doc.warnings.is_empty() {
        println!(
            "{} loaded with a warning: {}",
            doc.warnings_count,
            counts(&doc.warnings_by_kind)
        );
        for w in &doc.warnings {
            print_refusal(w);
        }
    }
    print_logsources(
        "unrouted logsources (no mapping entry: their rules are tried on every event)",
        &doc.unrouted_logsources,
        doc,
    );
    print_logsources(
        "partially routed logsources (routed by part of their keys)",
        &doc.partially_routed_logsources,
        doc,
    );
    let sum = |f: fn(&RoutingRow) -> usize| doc.routing.iter().map(f).sum::<usize>();
    println!(
        "routing: {} logsources; rules fully routed {}, partly {}, unrouted {}",
        doc.routing.len(),
        sum(|r| r.fully),
        sum(|r| r.partly),
        sum(|r| r.unrouted)
    );
    if table {
        print_routing_table(&doc.routing);
    }
}

/// One row per logsource: `logsource  rules fully partly unrouted  entry`.
fn print_routing_table(rows: &[RoutingRow]) {
    let labels: Vec<String> = rows.iter().map(|r| r.logsource.label()).collect();
    let w = labels.iter().map(String::len).max().unwrap_or(9).max(9);
    println!(
        "  {:<w$}  {:>5} {:>5} {:>6} {:>8}  entry",
        "logsource", "rules", "fully", "partly", "unrouted"
    );
    for (r, l) in rows.iter().zip(&labels) {
        let entry = match &r.entry {
            Some(e) => match e.line {
                Some(n) => format!("{} (line {n})", e.label),
                None => e.label.clone(),
            },
            None => "-".to_string(),
        };
        println!(
            "  {l:<w$}  {:>5} {:>5} {:>6} {:>8}  {entry}",
            r.rules, r.fully, r.partly, r.unrouted
        );
    }
}

/// `kind n, kind n`.
fn counts(m: &BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = m.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

/// `file:line[:column]: kind: rule: reason`, one line.
fn print_refusal(r: &Refusal) {
    let line = match (r.line, r.column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    };
    let rule = r
        .rule
        .as_deref()
        .map(|x| format!(" {x}:"))
        .unwrap_or_default();
    println!("{}{line}: {}:{rule} {}", r.file, r.kind, r.reason);
}

fn print_logsources(title: &str, v: &[(String, usize)], doc: &RulesCheck) {
    if v.is_empty() {
        return;
    }
    let rules: usize = v.iter().map(|(_, n)| n).sum();
    println!("{} {title}, {rules} rules:", v.len());
    for (ls, n) in v {
        let why = doc
            .routing
            .iter()
            .find(|r| r.logsource.label().eq_ignore_ascii_case(ls))
            .and_then(|r| r.reason.as_deref())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        println!("  {ls}: {n} rule{}{why}", if *n == 1 { "" } else { "s" });
    }
}
