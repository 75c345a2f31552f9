//! `vigie intel pull`: every object version of a TAXII 2.1 API root's collections, one
//! STIX bundle per collection. The client is `vigie_intel::taxii::client`; the report
//! is `vigie_wire::v1::taxii_client::PullReport`, rendered by
//! `vigie_render::taxii_client::pull`. Documented in docs/taxii-client.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use vigie_intel::taxii::client::{self, Client, ClientOptions, ObjectsQuery, TaxiiClientError};
use vigie_intel::taxii::Collection;
use vigie_wire::v1::taxii_client as wire;

const AFTER_HELP: &str = "\
URL is a TAXII 2.1 API root (https://host/api1/), not the discovery URL. Each collection
is read to its end (`match[version]=all`: every version of every object, pages followed
by `next`, or by `added_after` and X-TAXII-Date-Added-Last for servers that page that
way) and written as one STIX 2.1 bundle, DIR/<collection id>.json. Without --collection,
every collection the API root lists as readable; --collection takes an id or an alias
and may be repeated. The summary gives objects (distinct ids), versions and pages per
collection, and the X-TAXII-Date-Added-Last to pass as --added-after next time.

The password may come from VIGIE_TAXII_PASSWORD (and the user from VIGIE_TAXII_USER),
so it stays out of the shell history.

Exit status: 0 every collection asked was read and written; 1 the server could not be
reached, refused the credentials, or a collection could not be read (the others are
still written); 2 bad arguments or a bundle that could not be written.

Examples:
  vigie intel pull https://cti.example/api1/
  vigie intel pull https://cti.example/api1/ --collection 91a7b528-80eb-42ed-a74d-c6fbd5a26116 -o intel/
  VIGIE_TAXII_PASSWORD=... vigie intel pull https://cti.example/api1/ --user soc
  vigie intel pull https://cti.example/api1/ --added-after 2026-11-30T00:00:00Z --format json";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The API root (https://host/api1/).
    #[arg(value_name = "URL")]
    pub url: String,
    /// A collection to read (id or alias; repeatable). Default: every readable one.
    #[arg(long = "collection", value_name = "ID")]
    pub collections: Vec<String>,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Directory the bundles are written to (created when missing).
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// Only objects added after this TAXII timestamp (RFC 3339, UTC).
    #[arg(long, value_name = "T")]
    pub added_after: Option<String>,
    /// Records asked per page (the server may give fewer).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u32,
    /// Seconds each request may take.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Output format: text for people, JSON (docs/taxii-client.md) for programs.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Basic auth of `pull` and `push`.
#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    /// Basic auth user.
    #[arg(long, value_name = "U", env = "VIGIE_TAXII_USER")]
    pub user: Option<String>,
    /// Basic auth password (better: the VIGIE_TAXII_PASSWORD environment variable).
    #[arg(
        long,
        value_name = "P",
        env = "VIGIE_TAXII_PASSWORD",
        hide_env_values = true,
        requires = "user"
    )]
    pub password: Option<String>,
}

/// `--format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The client, from the common arguments.
pub fn client(auth: &AuthArgs, timeout: u64) -> anyhow::Result<Client> {
    Ok(Client::new(&ClientOptions {
        user: auth.user.clone(),
        password: auth.password.clone(),
        timeout: Duration::from_secs(timeout.max(1)),
        ..ClientOptions::default()
    })?)
}

/// Reads the API root information: checks the URL, the server and the credentials with
/// one request, and says so when URL is a discovery URL rather than an API root.
pub fn check_api_root(c: &Client, url: &str) -> Result<u64, TaxiiClientError> {
    match c.api_root(url) {
        Ok(root) => Ok(root.max_content_length),
        Err(e @ TaxiiClientError::BadBody { .. }) => match c.discovery(url) {
            Ok(d) if !d.api_roots.is_empty() => Err(TaxiiClientError::BadUrl {
                url: url.to_string(),
                reason: format!(
                    "this is a discovery URL; its API roots: {}",
                    d.api_roots.join(", ")
                ),
            }),
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if let Some(t) = &a.added_after {
        chrono::DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--added-after {t}: not an RFC 3339 timestamp"))?;
    }
    if a.limit == 0 {
        anyhow::bail!("--limit 0: at least 1 record per page");
    }
    let api_root = client::parse_url(&a.url)?.to_string();
    let c = client(&a.auth, a.timeout)?;
    let listed = match check_api_root(&c, &api_root).and_then(|_| c.collections(&api_root)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut report = wire::PullReport {
        schema: vigie_wire::SCHEMA_VERSION.to_string(),
        api_root: api_root.clone(),
        collections: Vec::new(),
        unreadable: Vec::new(),
        totals: wire::PullTotals::default(),
    };
    // what to read: (collection id, its listing when found, why not when refused)
    let mut todo: Vec<(String, Option<&Collection>, Option<String>)> = Vec::new();
    if a.collections.is_empty() {
        for col in &listed {
            if col.can_read {
                todo.push((col.id.clone(), Some(col), None));
            } else {
                // not asked for by name: listed as unreadable, not a failure
                report.totals.unreadable += 1;
                report.unreadable.push(col.id.clone());
            }
        }
    } else {
        for want in &a.collections {
            let found = listed
                .iter()
                .find(|c| &c.id == want || c.alias.as_deref() == Some(want.as_str()));
            match found {
                Some(col) => {
                    let why = (!col.can_read).then(|| "not readable (can_read: false)".to_string());
                    todo.push((col.id.clone(), Some(col), why));
                }
                None => todo.push((
                    want.clone(),
                    None,
                    Some(format!(
                        "no such collection at {api_root} (listed: {})",
                        listed
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )),
            }
        }
    }
    if todo.iter().any(|(_, _, why)| why.is_none()) {
        std::fs::create_dir_all(&a.output)
            .with_context(|| format!("creating {}", a.output.display()))?;
    }
    let query = ObjectsQuery {
        added_after: a.added_after.clone(),
        limit: Some(a.limit),
        ..ObjectsQuery::default()
    };
    let mut written_names: Vec<String> = Vec::new();
    for (id, col, refused) in todo {
        let mut entry = wire::PulledCollection {
            id: id.clone(),
            title: col.map(|c| c.title.clone()),
            file: None,
            objects: 0,
            versions: 0,
            pages: 0,
            added_after_pages: 0,
            date_added_last: None,
            duplicates: 0,
            skipped: Vec::new(),
            error: refused,
        };
        report.totals.collections += 1;
        if entry.error.is_some() {
            report.totals.failed += 1;
            report.collections.push(entry);
            continue;
        }
        match client::pull_collection(&c, &api_root, &id, &query) {
            Ok(p) => {
                let path = bundle_path(&a.output, &id, &mut written_names);
                entry.objects = p.ids;
                entry.versions = p.objects.len() as u64;
                entry.pages = p.pages;
                entry.added_after_pages = p.added_after_pages;
                entry.date_added_last = p.date_added_last;
                entry.duplicates = p.duplicates;
                entry.skipped = p
                    .skipped
                    .into_iter()
                    .map(|k| wire::SkippedObject {
                        url: k.url,
                        pointer: k.pointer,
                        reason: k.reason,
                    })
                    .collect();
                let bundle = client::bundle(&api_root, &id, p.objects);
                write_atomic(&path, &bundle)?;
                tracing::info!(collection = %id, versions = entry.versions, file = %path.display(), "bundle written");
                entry.file = Some(path.display().to_string());
                report.totals.objects += entry.objects;
                report.totals.versions += entry.versions;
                report.totals.pages += u64::from(entry.pages);
                report.totals.skipped += entry.skipped.len() as u64;
            }
            Err(e) => {
                report.totals.failed += 1;
                entry.error = Some(e.to_string());
            }
        }
        report.collections.push(entry);
    }
    match a.format {
        Format::Text => print!("{}", vigie_render::taxii_client::pull(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if a.format == Format::Json {
        for col in &report.collections {
            if let Some(e) = &col.error {
                eprintln!("error: collection {}: {e}", col.id);
            }
        }
    }
    Ok(
        if report.totals.failed > 0 || report.collections.is_empty() {
            if report.collections.is_empty() {
                eprintln!("error: {api_root} lists no readable collection");
            }
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// `DIR/<id>.json`, the id made a safe file name (anything but letters, digits, `-`,
/// `_`, `.` becomes `_`; a leading `.` too), distinct from the names already used.
fn bundle_path(dir: &Path, id: &str, used: &mut Vec<String>) -> PathBuf {
    let mut name: String = id
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    let mut candidate = name.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    used.push(candidate.clone());
    dir.join(format!("{candidate}.json"))
}

/// Writes `value` as pretty JSON to a temporary file next to `path`, then renames it.
fn write_atomic(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.part");
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
