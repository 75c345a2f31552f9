//! `vigie intel`: threat intelligence in and out. Match a STIX pattern
//! (`intel_match.rs`), check indicator files (`intel_check.rs`), export incidents as
//! STIX (`intel_export.rs`), pull from and push to a TAXII 2.1 server
//! (`intel_pull.rs`, `intel_push.rs`). The engine is `vigie-intel`.

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Evaluate a STIX 2.1 pattern over observed-data.
    Match(super::intel_match::Args),
    /// Load indicator files (STIX bundles, MISP feeds, CSV, plain lists) and report what
    /// was loaded, refused and why.
    Check(super::intel_check::Args),
    /// Write incidents and detections as a STIX 2.1 bundle (TLP-marked, redacted).
    Export(super::intel_export::Args),
    /// Fetch the objects of a TAXII 2.1 API root's collections.
    Pull(super::intel_pull::Args),
    /// Add STIX objects to a TAXII 2.1 collection.
    Push(super::intel_push::Args),
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Match(a) => super::intel_match::run(a),
        Command::Check(a) => super::intel_check::run(a),
        Command::Export(a) => super::intel_export::run(a),
        Command::Pull(a) => super::intel_pull::run(a),
        Command::Push(a) => super::intel_push::run(a),
    }
}
