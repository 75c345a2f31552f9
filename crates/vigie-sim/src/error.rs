//! Errors of the simulation engine.

/// What can go wrong before a simulation starts (a run itself never fails on input).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// An id given on the command line (an entry asset, a change) is not in the model.
    #[error("{what} `{id}` is not in the model")]
    UnknownId { what: &'static str, id: String },
    /// A parameter out of its range (samples, horizon, a probability...).
    #[error("{0}")]
    Invalid(String),
    /// The response engine refused the model.
    #[error(transparent)]
    Response(#[from] vigie_response::Error),
}
