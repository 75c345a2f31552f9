//! Fatal errors of a hunt (anything else is counted and skipped).

use std::path::PathBuf;

/// What stops a hunt before or while it runs.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    /// A rules path, the mapping or the placeholders file cannot be read.
    #[error(transparent)]
    Rules(#[from] vigie_sigma::LoadError),
    /// An input path given on the command line does not exist.
    #[error("input {0} does not exist")]
    MissingInput(PathBuf),
    /// Writing detections failed (disk full, closed pipe, ...).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The worker pool could not start.
    #[error("cannot start worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
}
