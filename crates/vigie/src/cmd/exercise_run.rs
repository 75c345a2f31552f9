//! `vigie exercise` (no subcommand): the Monte Carlo race, printed.

use std::process::ExitCode;

use super::exercise::SimArgs;

pub fn run(_sim: &SimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("vigie exercise is being built (issue 11)")
}
