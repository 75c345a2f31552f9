//! The Python oracles `.ci/run` installs in virtual environments under `target/`:
//! `target/intel-venv` (stix2-matcher, stix2-patterns 2.0.0, stix2-generator,
//! taxii2-client, medallion, pymisp, pymispwarninglists, pytest) and
//! `target/stix-validator-venv` (stix2-validator). An environment variable overrides
//! each place. Missing: a panic under `CI=true` (CI must run these tests), `None`
//! otherwise, and the caller prints a skip.

use std::path::PathBuf;

use crate::repo_root;

/// A virtual environment: `$env_var`, else `target/<dir>` of the repository.
fn venv(env_var: &str, dir: &str, what: &str) -> Option<PathBuf> {
    let root = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join(dir));
    let python = root.join("bin/python");
    if python.exists() {
        return Some(root);
    }
    assert!(
        !crate::nats::ci(),
        "{what} is missing: no {} (CI installs it, see .ci/run; or set {env_var})",
        python.display()
    );
    eprintln!(
        "skipped: {what} not installed at {} (set {env_var})",
        root.display()
    );
    None
}

/// `target/intel-venv` (or `$VIGIE_INTEL_VENV`): the venv's root.
pub fn intel_venv() -> Option<PathBuf> {
    venv("VIGIE_INTEL_VENV", "intel-venv", "the intel oracles venv")
}

/// `target/stix-validator-venv` (or `$VIGIE_STIX_VALIDATOR_VENV`): the venv's root.
pub fn stix_validator_venv() -> Option<PathBuf> {
    venv(
        "VIGIE_STIX_VALIDATOR_VENV",
        "stix-validator-venv",
        "stix2-validator",
    )
}
