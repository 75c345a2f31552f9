//! Helpers shared by the integration tests of every vigie crate (a dev-dependency only,
//! never published): where the shared test data lives, the repository's own fixtures,
//! writing temporary input files, `vigie serve` as a child process ([`serve`]) and the
//! durability corpus ([`corpus`]).
//!
//! Tests may panic on purpose here: a missing data folder or an unwritable temporary
//! directory is a broken test setup, and the panic message says how to fix it.

use std::path::{Path, PathBuf};

pub mod browser;
pub mod corpus;
pub mod medallion;
pub mod nats;
pub mod postgres;
pub mod python;
pub mod serve;

/// The shared test data folder: `VIGIE_SHARED`, else `shared/` beside the repository
/// (worktrees and CI clones sit next to it). Panics, naming the folder, when it does not
/// hold the `sigma/` and `evtx/` corpora the tests read.
pub fn shared() -> PathBuf {
    let dir = std::env::var_os("VIGIE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"));
    for sub in ["sigma", "evtx"] {
        assert!(
            dir.join(sub).is_dir(),
            "test data not found: {} has no {sub}/ (set VIGIE_SHARED to the shared data folder)",
            dir.display()
        );
    }
    dir
}

/// The repository root (the workspace holding `crates/`, `rules/`, `models/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `models/example-small.yaml`, the small operator model the model tests start from.
pub const EXAMPLE_SMALL_MODEL: &str = include_str!("../../../models/example-small.yaml");

/// Writes `bytes` to `dir/name` (creating the folders `name` goes through) and returns
/// the path; panics with the path when the temporary folder cannot be written.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
