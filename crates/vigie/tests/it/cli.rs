//! Running the `vigie` binary for the command tests: without the rule and log variables
//! of the caller's shell, so a developer's `VIGIE_RULES` or `VIGIE_LOG` cannot change
//! what a test sees.

use std::process::{Command, Output};

/// `vigie ARGS`, whatever its exit status.
pub fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .env_remove("VIGIE_RULES")
        .env_remove("VIGIE_LOG")
        .env_remove("VIGIE_CACHE_DIR")
        .output()
        .expect("run vigie")
}

/// The output of a run that must succeed (its stderr shown otherwise).
pub fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}
