//! `vigie hunt`: Sigma rules over EVTX / JSON logs.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use vigie_event::{InputFile, ReadError};
use vigie_hunt::{parse_time_bound, Bound, HuntOptions, Sink};
use vigie_render::hunt::{output_width, OutputFormat, SortByTime, SummaryText};
use vigie_render::progress::TerminalProgress;
use vigie_sigma::Level;

/// How detections are printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal (long values cut).
    Table,
    /// One JSON object per detection and line (stable schema, see README).
    Jsonl,
    /// One JSON array of the same objects.
    Json,
    /// One row per detection, matched fields as a compact JSON column.
    Csv,
}

const AFTER_HELP: &str = "\
Inputs: EVTX files, JSON lines, JSON arrays, syslog (RFC 5424 / 3164, with network
devices' messages and Sysmon for Linux inside), auditd, Zeek, FortiGate key=value logs,
any of them gzip-compressed (the format is sniffed from the content), directories
(walked recursively) and `-` for stdin.
Damaged files and records are listed on stderr, counted in the summary and skipped.

Rules: Sigma files or directories. Without --rules, the paths in $VIGIE_RULES (separated
by `:`) are used; with neither, vigie's own embedded rule pack (rules/ in its repository:
credential theft, remote execution, tunnels, log clearing, brute force).
With no input path at all, vigie hunts its embedded intrusion sample: `vigie hunt` alone
shows what a hunt looks like.

Output goes to stdout (or --output), in input order then record order whatever the
thread count; correlation hits come last, marked `\"correlation\": true` in jsonl.
The closing summary (files, events, bytes, detections by level, skipped records and
refused rules by reason, rules loaded with a warning, unrouted logsources, correlation
inputs fed and left out by reason -- e.g. matches without a time -- time, events/s)
goes to stderr; --summary-json writes it as JSON.

Threat intelligence: --intel PATH (repeat) adds indicators (STIX 2.1 bundles, MISP feed
directories, CSV and plain lists: docs/intel.md) as detections: a hit is reported like a
Sigma hit, rule id = the indicator id, level from its confidence, tags from its labels
and ATT&CK references; valid_from/valid_until are honoured. The event fields matched
are those of the entity mapping (addresses, domains, URLs, hashes, file names;
--entity-mapping, docs/entities.md). --warning-lists DIR (MISP warninglist format)
suppresses hits on known-benign values; the summary counts hits and suppressions
(docs/intel-detection.md).

Rules given with --rules are compiled once and cached (--cache-dir, default
$XDG_CACHE_HOME/vigie or ~/.cache/vigie; --no-cache to skip it), keyed by the bytes of
every rule file, the mapping, the placeholders and the vigie version: the next hunt with
unchanged rules starts from the cache; any change is a miss, and a damaged cache file is
ignored with a warning and rewritten.

Exit status: 0 when the run completed and read at least one input (even with skipped
records or refused rules); 1 when no input could be read at all (every file skipped, or
an empty directory); 2 on a fatal error (unreadable rules path, mapping or placeholders
file, missing input, bad arguments, output not writable).

Examples:
  vigie hunt
  vigie hunt --rules ../shared/sigma/rules logs/
  vigie hunt --rules rules/ --level high --format jsonl --output hits.jsonl Security.evtx
  vigie hunt --rules rules/ --from 2024-05-01 --to 2024-05-02T12:00:00Z --format csv logs/*.json.gz
  vigie hunt --rules rules/ --sort time --format json logs/ > hits.json
  vigie hunt --rules ../shared/sigma/rules/linux --timezone Europe/Paris /var/log/auth.log
  zcat events.jsonl.gz | vigie hunt --rules rules/ --threads 1 -
  vigie hunt --intel feeds/peers.json --intel iocs/bad-ips.txt --warning-lists misp-warninglists/lists logs/";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Sigma rule file or directory; repeat for several (`--rules a --rules b`).
    /// Default: $VIGIE_RULES, else the embedded vigie rule pack.
    #[arg(long, short = 'r', value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Logsource routing and field mapping file (default: the shipped mapping).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Values for `|expand` placeholders (YAML: name -> list of values).
    #[arg(long, value_name = "FILE")]
    placeholders: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    format: Format,
    /// Order of detections: `input` (input order, then record order; streams) or `time`
    /// (event time; written when the hunt ends, held in memory until then).
    #[arg(long, value_enum, default_value = "input")]
    sort: SortOrder,
    /// Write detections to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report only detections of this level or above
    /// (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    level: Option<Level>,
    /// Only events at or after TIME (RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or a date).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Only events at or before TIME (a date means the end of that day).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Worker threads (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Zone of syslog timestamps written without one (RFC 3164 `Mmm dd hh:mm:ss`, ISO
    /// without offset): `UTC` (default), an offset (`+02:00`) or a tz database name
    /// (`Europe/Paris`, daylight saving time followed). Their year is the one that puts
    /// them closest before the file's last modification (docs/syslog.md).
    #[arg(
        long,
        value_name = "ZONE",
        default_value = "UTC",
        allow_hyphen_values = true
    )]
    timezone: String,
    #[command(flatten)]
    cache: CacheArgs,
    /// Indicator file or directory (STIX 2.1 bundle, MISP feed, CSV, plain list); repeat
    /// for several. Their hits are detections.
    #[arg(long, value_name = "PATH")]
    intel: Vec<PathBuf>,
    /// Directory of MISP warning lists (known-benign values): hits on them are not
    /// reported, only counted. Needs --intel.
    #[arg(long, value_name = "DIR", requires = "intel")]
    warning_lists: Option<PathBuf>,
    /// Entity mapping naming which event fields hold addresses, domains, URLs, hashes and
    /// file names (default: the shipped mapping). Used with --intel.
    #[arg(long, value_name = "FILE")]
    entity_mapping: Option<PathBuf>,
    /// Also write the closing summary as JSON to FILE (`-` for stderr).
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// No progress bar, no warnings and no human summary on stderr (errors still show;
    /// `--log warn` brings warnings back).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Log files, directories, or `-` for stdin (none: the embedded intrusion sample).
    #[arg(value_name = "PATH")]
    inputs: Vec<PathBuf>,
}

/// Order in which detections are written.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortOrder {
    /// Input order, then record order; correlation hits last (streams as found).
    Input,
    /// Event time (detections without a time last); written at the end.
    Time,
}

/// Where compiled rules are cached between runs (`vigie hunt`, `vigie rules check`).
#[derive(clap::Args, Clone, Debug)]
pub struct CacheArgs {
    /// Directory of the compiled-rule cache: rules whose files, mapping and placeholders
    /// are unchanged load from it without being parsed again (default:
    /// $XDG_CACHE_HOME/vigie, else ~/.cache/vigie).
    #[arg(long, value_name = "DIR", env = "VIGIE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Neither read nor write the compiled-rule cache.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache directory to use, if any.
    pub fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        if let Some(d) = &self.cache_dir {
            return Some(d.clone());
        }
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("XDG_CACHE_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".cache")))
            .map(|d| d.join("vigie"))
    }
}

/// `--rules`, or `$VIGIE_RULES`; empty means the embedded rule pack.
pub fn rules_paths(given: Vec<PathBuf>) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given;
    }
    std::env::var_os("VIGIE_RULES")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The embedded sample as a discovered input: written to a private temporary file (the
/// readers work on files), shown under its repository name.
pub(crate) struct EmbeddedSample {
    path: PathBuf,
}

impl EmbeddedSample {
    pub(crate) fn create() -> anyhow::Result<(EmbeddedSample, Vec<InputFile>, Vec<ReadError>)> {
        Self::create_named(crate::embedded::SAMPLE_NAME, crate::embedded::SAMPLE)
    }

    /// An embedded sample `text` shown as `name` (respond reads the July 2025 one).
    pub(crate) fn create_named(
        name: &str,
        text: &str,
    ) -> anyhow::Result<(EmbeddedSample, Vec<InputFile>, Vec<ReadError>)> {
        let path = std::env::temp_dir().join(format!(
            "vigie-sample-{}-{}.jsonl",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write the embedded sample to {}", path.display()))?;
        let (mut files, errors) = vigie_event::discover(std::slice::from_ref(&path));
        for f in &mut files {
            f.name = Arc::from(name);
        }
        Ok((EmbeddedSample { path }, files, errors))
    }
}

impl Drop for EmbeddedSample {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let from = a
        .from
        .as_deref()
        .map(|s| parse_time_bound(s, Bound::From))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to =
        a.to.as_deref()
            .map(|s| parse_time_bound(s, Bound::To))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if let (Some(f), Some(t)) = (from, to) {
        anyhow::ensure!(f <= t, "--from is after --to: no event can match");
    }
    let syslog_zone = vigie_event::syslog::Zone::parse(&a.timezone)
        .map_err(|e| anyhow::anyhow!("--timezone: {e}"))?;
    let progress = Arc::new(TerminalProgress::stderr(!a.quiet));
    crate::logging::show_progress(progress.clone());
    let opts = HuntOptions {
        syslog_zone,
        rules: rules_paths(a.rules),
        embedded_rules: crate::embedded::RULES,
        mapping: a.mapping,
        placeholders: a.placeholders,
        rules_cache: a.cache.dir(),
        min_level: a.level,
        from,
        to,
        threads: a.threads,
        progress: Some(progress.clone()),
        ..HuntOptions::default()
    };
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let format = match a.format {
        Format::Table => OutputFormat::Table,
        Format::Jsonl => OutputFormat::Jsonl,
        Format::Json => OutputFormat::Json,
        Format::Csv => OutputFormat::Csv,
    };
    let printer = vigie_render::hunt::printer(format, out, output_width(160));
    let mut sink: Box<dyn Sink + Send> = match a.sort {
        SortOrder::Input => printer,
        SortOrder::Time => Box::new(SortByTime::new(printer)),
    };
    let (mut rules, report, rules_load_s) = vigie_hunt::load_rules(&opts)?;
    crate::purge_freed_memory_at_once();
    let intel = Intel::load(
        &a.intel,
        a.warning_lists.as_deref(),
        a.entity_mapping.as_deref(),
        &mut rules,
    )?;
    let mut opts = opts;
    if let Some(i) = &intel {
        opts.extra.push(i.matcher.clone());
    }
    // Kept alive until the hunt is over: dropping it removes the sample's file.
    let mut _sample = None;
    let (files, errors) = if a.inputs.is_empty() {
        let (s, f, e) = EmbeddedSample::create()?;
        _sample = Some(s);
        (f, e)
    } else {
        for p in &a.inputs {
            if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
                return Err(vigie_hunt::HuntError::MissingInput(p.clone()).into());
            }
        }
        vigie_event::discover(&a.inputs)
    };
    let result = vigie_hunt::hunt(&rules, &report, &files, errors, &opts, &mut *sink);
    let summary = match result {
        Ok(s) => s,
        // `vigie hunt ... | head`: the reader has all it wanted; not an error to report.
        Err(vigie_hunt::HuntError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS)
        }
        Err(e) => return Err(e.into()),
    };
    let mut summary = summary;
    summary.rules_load_s = rules_load_s;
    summary.intel = intel.as_ref().map(Intel::counts);
    crate::logging::hide_progress();
    if !a.quiet {
        eprintln!("{}", SummaryText(&summary));
    }
    if let Some(p) = &a.summary_json {
        let json =
            serde_json::to_string_pretty(&vigie_wire::v1::HuntSummary::from_engine(&summary))?;
        if p.as_os_str() == "-" {
            eprintln!("{json}");
        } else {
            std::fs::write(p, json + "\n")
                .with_context(|| format!("cannot write {}", p.display()))?;
        }
    }
    if summary.files.read == 0 {
        let skipped: u64 = summary.files.skipped.values().sum();
        let why = match (skipped, a.quiet) {
            (0, _) => ": no files found",
            (_, false) => ", listed above",
            (_, true) => "; without -q they are listed",
        };
        eprintln!("error: no input could be read ({skipped} skipped{why})");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The indicators of `--intel`, loaded and registered in the rule set.
pub(crate) struct Intel {
    pub(crate) matcher: Arc<vigie_intel::detect::IntelMatcher>,
    refused: u64,
    load_s: f64,
}

impl Intel {
    /// Loads `paths` (none: `None`), lists every refused indicator on stderr (file,
    /// position, reason) and registers the rest in `rules`. An unreadable warning-list
    /// directory or entity mapping is fatal; a bad indicator file is refused and counted.
    pub(crate) fn load(
        paths: &[PathBuf],
        warning_lists: Option<&std::path::Path>,
        entity_mapping: Option<&std::path::Path>,
        rules: &mut vigie_sigma::RuleSet,
    ) -> anyhow::Result<Option<Intel>> {
        if paths.is_empty() {
            return Ok(None);
        }
        let t = std::time::Instant::now();
        let mapping = match entity_mapping {
            Some(p) => vigie_incident::EntityMapping::load(p)?,
            None => vigie_incident::EntityMapping::default(),
        };
        let loaded = vigie_intel::detect::load(paths, warning_lists, &[], &mapping, rules)?;
        for r in &loaded.refused {
            tracing::warn!("indicator refused: {r}");
        }
        let load_s = t.elapsed().as_secs_f64();
        tracing::info!(
            "loaded {} indicators in {load_s:.2} s ({} refused)",
            loaded.matcher.stats().indicators,
            loaded.refused.len()
        );
        Ok(Some(Intel {
            matcher: Arc::new(loaded.matcher),
            refused: loaded.refused.len() as u64,
            load_s,
        }))
    }

    /// The summary's intel counts, once the hunt is over.
    pub(crate) fn counts(&self) -> vigie_hunt::IntelCounts {
        let s = self.matcher.stats();
        vigie_hunt::IntelCounts {
            indicators: s.indicators,
            refused: self.refused,
            hits: s.hits,
            suppressed: s.suppressed,
            outside_validity: s.outside_validity,
            pattern_errors: s.pattern_errors,
            load_s: self.load_s,
        }
    }
}
