//! `vigie intel export` (being built: see /work/helper-common.md).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("vigie intel export is not built yet")
}
