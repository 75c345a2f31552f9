//! Errors of the service (the binary adds context with `anyhow`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A config file that does not parse or holds a bad value (file and position).
    #[error("{file}:{line}:{column}: {message}")]
    Config {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A bad option value (flag, environment or config key named).
    #[error("{0}")]
    Option(String),
    #[error(transparent)]
    Store(#[from] vigie_store::StoreError),
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("rules: {0}")]
    Rules(String),
    #[error("model: {0}")]
    Model(String),
    #[error("tls: {0}")]
    Tls(String),
    #[error("nats: {0}")]
    Nats(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
