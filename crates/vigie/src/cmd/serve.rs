//! `vigie serve`: the live service (ingest, detection, incidents, store, API,
//! dashboard). The flags resolve with their environment variables (clap) over the TOML
//! config over the defaults (`vigie_serve::config`); the binary hands in what it embeds
//! (rule pack, demo operator) and runs `vigie_serve::server::run` on a tokio runtime.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use vigie_serve::config::{Config, Overrides};
use vigie_serve::pipeline::Defaults;

const AFTER_HELP: &str = "\
Once listening, prints one line on stdout: `vigie serve: listening on http://ADDR`
(https with TLS); logs go to stderr (--log info to see them). Ready (GET /readyz 200)
once its state is restored from the store.

Input: POST /api/v1/events (JSON lines or a JSON array, gzip accepted) answers 202
{accepted, duplicates, rejected} once the batch is durable: its detections, incident
changes, correlation state and position are committed. A full queue answers 429 with
Retry-After. Syslog, followed files and NATS are configured in the file.

Precedence: flags, then environment (VIGIE_LISTEN, VIGIE_DATA, VIGIE_STORE, VIGIE_RULES,
VIGIE_MODEL, VIGIE_ENTITY_MAPPING, VIGIE_WORKER, and VIGIE_<SECTION>_<KEY> for the
file's keys), then the --config file, then the defaults: 127.0.0.1:8080, SQLite under
./vigie-data, the embedded rule pack, the demo operator. Every key: docs/serve.md.

With no API token the API is open, so listening beyond loopback is refused; add one
with `vigie serve token add NAME --role admin`.

Signals: SIGTERM or SIGINT stop taking input, drain the queue, commit and checkpoint
(exit 0); SIGHUP reloads rules, model and indicators (--intel) without losing
correlation state (so does POST /api/v1/admin/reload); indicators are also reloaded
when the TAXII `shared` collection changes.

Examples:
  vigie serve
  vigie serve --listen 127.0.0.1:0 --data /tmp/vigie
  vigie serve --config /etc/vigie/serve.toml
  vigie serve --store postgres://vigie@db/vigie --rules ../shared/sigma/rules --model operator.yaml
  vigie serve --intel feeds/peers.json --intel iocs/bad-ips.txt
  vigie serve token add collector --role ingest
  curl -s --data-binary @samples/july2025.jsonl http://127.0.0.1:8080/api/v1/events";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// TOML config file (docs/serve.md lists every key).
    #[arg(long, value_name = "FILE", env = "VIGIE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the line printed says which).
    /// Default 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR", env = "VIGIE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// State directory (the SQLite store is DIR/vigie.db). Default ./vigie-data.
    #[arg(long, value_name = "DIR", env = "VIGIE_DATA")]
    pub data: Option<PathBuf>,
    /// `sqlite:PATH` or `postgres://user:pass@host/db` (default: DIR/vigie.db).
    #[arg(long, value_name = "URL", env = "VIGIE_STORE")]
    pub store: Option<String>,
    /// Sigma rule file or directory; repeat for several (default: the embedded pack).
    #[arg(
        long,
        short = 'r',
        value_name = "PATH",
        env = "VIGIE_RULES",
        value_delimiter = ':'
    )]
    pub rules: Vec<PathBuf>,
    /// Operator model, YAML or JSON (default: the built-in demo operator).
    #[arg(long, value_name = "FILE", env = "VIGIE_MODEL")]
    pub model: Option<PathBuf>,
    /// Entity mapping (default: the shipped one).
    #[arg(long, value_name = "FILE", env = "VIGIE_ENTITY_MAPPING")]
    pub entity_mapping: Option<PathBuf>,
    /// Indicator file or directory (STIX 2.1 bundle, MISP feed, CSV, plain list); repeat
    /// for several. Hits are detections; reloaded with the rules, and when the TAXII
    /// `shared` collection changes.
    #[arg(long, value_name = "PATH", env = "VIGIE_INTEL", value_delimiter = ':')]
    pub intel: Vec<PathBuf>,
    /// Directory of MISP warning lists (known-benign values): indicator hits on them are
    /// not reported.
    #[arg(long, value_name = "DIR", env = "VIGIE_WARNING_LISTS")]
    pub warning_lists: Option<PathBuf>,
    /// Consume the NATS JetStream stream as one of several workers (docs/serve.md).
    #[arg(long, env = "VIGIE_WORKER")]
    pub worker: bool,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// API tokens: add (prints the new token once) or list.
    #[command(subcommand)]
    Token(super::serve_token::Command),
    /// Publish event files to the NATS JetStream subject the service consumes.
    Publish(super::serve_publish::Args),
}

/// The config these arguments and the environment resolve to.
pub fn config(a: &Args) -> anyhow::Result<Config> {
    let over = Overrides {
        listen: a.listen,
        data: a.data.clone(),
        store: a.store.clone(),
        rules: a.rules.clone(),
        model: a.model.clone(),
        entity_mapping: a.entity_mapping.clone(),
        intel: a.intel.clone(),
        warning_lists: a.warning_lists.clone(),
        worker: a.worker,
    };
    let env = |k: &str| std::env::var(k).ok();
    Ok(Config::load(a.config.as_deref(), &env, &over)?)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.command {
        Some(Command::Token(c)) => return super::serve_token::run(c),
        Some(Command::Publish(p)) => return super::serve_publish::run(p),
        None => {}
    }
    let config = config(&a)?;
    let defaults = Defaults {
        rules: crate::embedded::RULES,
        model: vigie_model::demo,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigie-serve")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(vigie_serve::server::run(config, defaults))?;
    Ok(ExitCode::SUCCESS)
}
