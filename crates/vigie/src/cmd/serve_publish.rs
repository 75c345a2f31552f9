//! `vigie serve publish FILE...`: publishes events to the NATS JetStream subject
//! `vigie serve` (or its `--worker`s) consume, each with `Nats-Msg-Id` = its event key,
//! so JetStream drops an event published twice. Files are read as `vigie hunt` reads
//! them (any format), and every event keeps the source and record hunt gives it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use vigie_serve::config::NatsConfig;
use vigie_serve::ingest::nats::{read_events, Publisher};

const AFTER_HELP: &str = "\
Prints one line: how many events were published and how many JetStream dropped as
already in the stream. Records that cannot be read are listed on stderr (file and
position) and counted; the exit code is 1 when nothing could be read.

Examples:
  vigie serve publish samples/july2025.jsonl
  vigie serve publish --url nats://nats:4222 /var/log/export/*.evtx";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Event files or directories (EVTX, JSON lines, JSON arrays, gzip).
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// NATS server.
    #[arg(long, env = "VIGIE_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub url: String,
    /// JetStream stream (created when missing).
    #[arg(long, env = "VIGIE_NATS_STREAM", default_value = "VIGIE_EVENTS")]
    pub stream: String,
    /// Subject the events are published on.
    #[arg(long, env = "VIGIE_NATS_SUBJECT", default_value = "vigie.events")]
    pub subject: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let cfg = NatsConfig {
        url: a.url,
        stream: a.stream,
        subject: a.subject.clone(),
        ..NatsConfig::default()
    };
    let (events, problems) = read_events(&a.inputs);
    for p in &problems {
        eprintln!("vigie serve publish: {p}");
    }
    if events.is_empty() {
        eprintln!("vigie serve publish: no event could be read");
        return Ok(ExitCode::from(1));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let sum = rt.block_on(async {
        let p = Publisher::connect(&cfg).await?;
        p.publish(&events).await
    })?;
    println!(
        "published {} events to {} ({} already in the stream, dropped by JetStream; {} unreadable records)",
        sum.published,
        a.subject,
        sum.duplicates,
        problems.len()
    );
    Ok(ExitCode::SUCCESS)
}
