//! `vigie intel check` (being built: see /work/helper-common.md).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("vigie intel check is not built yet")
}
