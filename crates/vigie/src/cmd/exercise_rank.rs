//! `vigie exercise rank`.

use std::process::ExitCode;

use super::exercise::SimArgs;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_sim: &SimArgs, _a: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("vigie exercise rank is being built (issue 11)")
}
