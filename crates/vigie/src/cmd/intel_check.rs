//! `vigie intel check`: load indicator sources (STIX bundles, MISP feeds, CSV, plain
//! lists), build the typed index, and say what loaded, what was refused and why. The
//! engine is `vigie_intel::feed` / `index` / `warninglist`; the report is the wire type
//! `vigie_wire::v1::intel_check`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use vigie_intel::feed::{self, LoadOptions, Position, Refusal, Source};
use vigie_intel::index::IntelIndex;
use vigie_intel::warninglist::WarningLists;
use vigie_wire::v1::intel_check::{IntelCheck, IntelRefusal, IntelSource, WarningListCheck};

const AFTER_HELP: &str = "\
Each PATH is a source, read by what it is: a directory with manifest.json is a MISP
feed; a .json file a STIX 2.1 bundle (or one MISP event when it holds \"Event\"); a
.csv file CSV; anything else a plain list, one value a line. Lists and CSV need a type:
prefix the path (TYPE:PATH) or write a `# type: TYPE` line before the first value.
Types: ipv4, ipv6, ip (either family; also cidr), domain (hostname), url, md5, sha1,
sha256, filename. See docs/intel.md.

Every line, row, object or attribute that is not loaded is listed with its file, its
position (line and column, or JSON pointer) and why; text lists the first 50 (JSON
all), after counts by reason. With --warninglists DIR (MISP warninglist lists, e.g. the
`lists` directory of misp-warninglists), also the indicators a warning list would
suppress.

Exit status: 0 when every source loaded something (refusals do not change it), 2 when
a source gave no indicator (missing, unreadable, no type, nothing valid) or the
arguments or warning lists are bad.

Examples:
  vigie intel check bundle.json
  vigie intel check ipv4:bad-ips.txt domain:bad-domains.txt feeds/misp/
  vigie intel check iocs.csv --format json | jq '.refused[] | .reason'
  vigie intel check bad.txt --warninglists misp-warninglists/lists";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Indicator sources: [TYPE:]PATH (a STIX bundle, a MISP feed directory or event, a
    /// CSV file, a plain list).
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<String>,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// MISP warning lists (a directory of */list.json): count the indicators they hit.
    #[arg(long, value_name = "DIR")]
    pub warninglists: Option<PathBuf>,
    /// Also load MISP attributes whose to_ids is false.
    #[arg(long)]
    pub misp_include_non_ids: bool,
}

/// Report format.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Counts, sources, refusals by reason then one line each (first 50).
    Text,
    /// One JSON document (vigie-wire `intel_check`).
    Json,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let sources: Vec<Source> = a.paths.iter().map(|p| Source::parse(p)).collect();
    let opts = LoadOptions {
        misp_include_non_ids: a.misp_include_non_ids,
    };
    let t0 = Instant::now();
    let (set, report) = feed::load(&sources, &opts);
    let index = IntelIndex::build(&set);
    let load_s = t0.elapsed().as_secs_f64();
    tracing::info!(
        indicators = set.len(),
        seconds = load_s,
        "indicators loaded and indexed"
    );
    let warninglists = match &a.warninglists {
        None => None,
        Some(dir) => {
            let wl = match WarningLists::load(dir) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let mut by_list: BTreeMap<String, usize> = BTreeMap::new();
            let mut examples = Vec::new();
            let mut suppressed = 0;
            for ind in &set.indicators {
                let mut hit: Option<(String, String)> = None;
                ind.what.for_each_value(|t, v| {
                    if hit.is_none() {
                        if let Some(l) = wl.hits(t, v) {
                            hit = Some((l.to_string(), v.to_string()));
                        }
                    }
                });
                if let Some((l, v)) = hit {
                    suppressed += 1;
                    if examples.len() < 20 {
                        examples.push((ind.id.to_string(), v, l.clone()));
                    }
                    *by_list.entry(l).or_insert(0) += 1;
                }
            }
            Some(WarningListCheck {
                lists: wl.len(),
                entries: wl.lists().iter().map(|l| l.len).sum(),
                refused: wl.refused.iter().map(wire_refusal).collect(),
                suppressed,
                suppressed_by_list: by_list,
                examples,
            })
        }
    };
    let st = index.stats();
    let index_sizes: BTreeMap<String, usize> = [
        ("ipv4_addresses", st.ipv4_addresses),
        ("ipv4_networks", st.ipv4_networks),
        ("ipv6_addresses", st.ipv6_addresses),
        ("ipv6_networks", st.ipv6_networks),
        ("domains", st.domains),
        ("urls", st.urls),
        ("md5", st.md5),
        ("sha1", st.sha1),
        ("sha256", st.sha256),
        ("file_names", st.file_names),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let doc = IntelCheck {
        schema: vigie_wire::SCHEMA_VERSION.to_string(),
        loaded: report.loaded(),
        patterns: report.patterns(),
        by_type: report
            .by_type()
            .into_iter()
            .map(|(t, n)| (t.as_str().to_string(), n))
            .collect(),
        refused_count: report.refused.len(),
        refused_by_reason: report.refused_by_reason(),
        refused: report.refused.iter().map(wire_refusal).collect(),
        sources: report
            .sources
            .iter()
            .map(|s| IntelSource {
                source: s.source.clone(),
                format: s.format.map(|f| f.as_str().to_string()),
                loaded: s.loaded,
                patterns: s.patterns,
                refused: s.refused,
                by_type: s
                    .by_type
                    .iter()
                    .map(|(t, n)| (t.as_str().to_string(), *n))
                    .collect(),
            })
            .collect(),
        index: index_sizes,
        warninglists,
        unmatchable_patterns: vigie_intel::detect::unmatchable_patterns(&set),
        load_s,
    };
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Format::Text => print!("{}", vigie_render::intel_check::intel_check(&doc)),
    }
    // Keep the set and index alive until the report is out (what a bench measures).
    drop(index);
    drop(set);
    Ok(if report.sources.iter().any(|s| s.loaded == 0) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn wire_refusal(r: &Refusal) -> IntelRefusal {
    let (line, column, pointer) = match &r.position {
        Position::Line { line, column } => (Some(*line), Some(*column), None),
        Position::Pointer(p) => (None, None, Some(p.clone())),
        Position::File => (None, None, None),
    };
    IntelRefusal {
        file: r.file.clone(),
        position: r.position.to_string(),
        line,
        column,
        pointer,
        reason: r.reason.clone(),
    }
}
