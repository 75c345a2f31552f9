//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared test data directory (`VIGIE_SHARED`, default `../shared` from the repo).
pub fn shared() -> PathBuf {
    let p = std::env::var_os("VIGIE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("sigma").is_dir(),
        "test data not found at {} (set VIGIE_SHARED to the shared data directory)",
        p.display()
    );
    p
}
