//! `vigie model` (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// (being written)
    Check,
}

pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("vigie model is not available in this build yet")
}
