//! `vigie intel match`: evaluate a STIX 2.1 (or, with `--stix-version 2.0`, 2.0) pattern over a file of observed-data. The
//! engine is `vigie_intel::pattern`.

use std::path::PathBuf;
use std::process::ExitCode;

use vigie_intel::pattern::{ObservedData, Pattern, StixVersion};
use vigie_wire::v1::intel_match::{IntelMatch, UnresolvedRef};

const AFTER_HELP: &str = "\
FILE holds a JSON array of observed-data (STIX 2.0 with embedded `objects`, or STIX 2.1
with `object_refs`) and the objects they refer to, or a bundle, or one observed-data.
2.1 references resolve among all the objects of the file. Semantics are those of the
reference matcher (stix2-matcher): each observation `[...]` of the pattern binds to a
distinct observed-data (one with number_observed N can be bound N times); WITHIN,
REPEATS, START/STOP and FOLLOWEDBY use first_observed/last_observed.

Exit status: 0 when the pattern was evaluated (matched or not: see `matched`), 2 for an
invalid pattern (with its line and column), an unreadable or invalid FILE (with the JSON
position or pointer), or a pattern that cannot be evaluated over FILE (e.g. a timestamp
comparison with a value that is not a timestamp).

Examples:
  vigie intel match --pattern \"[ipv4-addr:value = '198.51.100.7']\" observed.json
  vigie intel match --pattern \"[file:hashes.'SHA-256' = 'aec0...']\" bundle.json --format text
  vigie intel match --pattern \"[process:name = 'x.exe'] REPEATS 3 TIMES WITHIN 60 SECONDS\" obs.json
  vigie intel match --stix-version 2.0 --pattern \"[file:name = 'a'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'\" obs20.json";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The STIX 2.1 pattern.
    #[arg(long, short = 'p', value_name = "PATTERN")]
    pub pattern: String,
    /// The observed-data (JSON array, bundle or one observed-data).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// json (the default) or text.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// The grammar the pattern is written in: 2.1 (the default) or 2.0 (e.g. START/STOP
    /// with plain string timestamps, as STIX 2.0 allowed).
    #[arg(long, value_enum, default_value_t = Version::V2_1, value_name = "VERSION")]
    pub stix_version: Version,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    #[value(name = "2.0")]
    V2_0,
    #[value(name = "2.1")]
    V2_1,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

fn bad(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("vigie intel match: {msg}");
    Ok(ExitCode::from(2))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let version = match args.stix_version {
        Version::V2_0 => StixVersion::V2_0,
        Version::V2_1 => StixVersion::V2_1,
    };
    let pattern = match Pattern::parse_version(&args.pattern, version) {
        Ok(p) => p,
        Err(e) => {
            // A 2.0 pattern given as 2.1 (the default): say which flag reads it.
            let as_20 = Pattern::parse_version(&args.pattern, StixVersion::V2_0);
            let hint = if version == StixVersion::V2_1 && as_20.is_ok() {
                " (it is valid STIX 2.0: use --stix-version 2.0)"
            } else {
                ""
            };
            return bad(format!("invalid pattern: {e}{hint}"));
        }
    };
    let file = args.file.display();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return bad(format!("{file}: cannot read: {e}")),
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            return bad(format!(
                "{file}: line {}, column {}: invalid JSON: {e}",
                e.line(),
                e.column()
            ))
        }
    };
    let obs = match ObservedData::from_json(&doc) {
        Ok(o) => o,
        Err(e) => {
            let at = if e.pointer.is_empty() {
                "the document".to_string()
            } else {
                format!("at JSON pointer {}", e.pointer)
            };
            return bad(format!("{file}: {at}: {}", e.message));
        }
    };
    let ev = pattern.evaluate(&obs);
    if let Some(e) = ev.error {
        return bad(format!("{file}: cannot evaluate the pattern: {e}"));
    }
    let name = |i: usize| -> String { obs[i].id().map_or_else(|| format!("#{i}"), str::to_string) };
    let mut unresolved = Vec::new();
    for (i, od) in obs.iter().enumerate() {
        for r in od.unresolved_refs() {
            tracing::warn!(observed_data = %name(i), object_ref = %r, "object_refs entry not in the file (ignored)");
            unresolved.push(UnresolvedRef {
                observed_data: name(i),
                object_ref: r.clone(),
            });
        }
    }
    let report = IntelMatch {
        pattern: args.pattern.clone(),
        matched: ev.matched,
        matched_observed_data: ev.matched_observed_data.iter().map(|&i| name(i)).collect(),
        observed_data: obs.len(),
        unresolved_refs: unresolved,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", vigie_render::intel_match::intel_match(&report)),
    }
    Ok(ExitCode::SUCCESS)
}
