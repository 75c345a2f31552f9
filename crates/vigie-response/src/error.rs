//! Typed errors of vigie-response.

/// What can go wrong turning a model into decisions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ids given on the command line (or by a caller) that the model does not define.
    #[error("unknown {what}: {}", ids.join("; "))]
    UnknownIds { what: String, ids: Vec<String> },
    /// The model cannot be turned into a consistent graph.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// A request that makes no sense for this model (e.g. nothing left to protect).
    #[error("{0}")]
    Request(String),
    /// `restore --order` that is not a priority list of the downed assets.
    /// (Not a `#[source]`: the message already holds it, and error chains print it once.)
    #[error("invalid --order: {0}")]
    Order(crate::restore_order::OrderError),
    /// Writing an output file or running Graphviz failed.
    #[error("{0}")]
    Output(String),
}
