//! Typed errors of vigie-response.
//!
//! Every way a model can fail to become a consistent [`crate::Graph`] has its own variant
//! carrying the ids involved, so that a caller (the CLI, a service) can act on the kind of
//! failure without parsing a message.

/// What can go wrong turning a model into decisions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ids given on the command line (or by a caller) that the model does not define.
    #[error("unknown {what}: {}", ids.join("; "))]
    UnknownIds { what: String, ids: Vec<String> },
    /// Two entities (assets, services, flows) share one id.
    #[error("invalid model: duplicate id {id:?}")]
    DuplicateId { id: String },
    /// An entity names something that does not exist (or is not of the kind required).
    #[error("invalid model: {owner}: {field} {id:?} is not {expected}")]
    UnknownReference {
        /// What holds the reference, e.g. `service billing`.
        owner: String,
        /// The field holding it, e.g. `runs_on`, `depends_on`, `uses`.
        field: &'static str,
        /// The id (or ids, comma-separated for a k-of-n group) that does not resolve.
        id: String,
        /// What it should name, e.g. `an asset`, `a known service`.
        expected: &'static str,
    },
    /// A chain of `runs_on` comes back to where it started.
    #[error("invalid model: runs_on cycle through {id:?}")]
    RunsOnCycle { id: String },
    /// Services depend on each other in a cycle.
    #[error("invalid model: service dependency cycle among {}", ids.join(", "))]
    ServiceCycle { ids: Vec<String> },
    /// An attack edge given to the builder points outside its tables (a caller bug when the
    /// graph is built by hand).
    #[error("invalid graph: attack edge {index} {problem}")]
    BadEdge {
        /// Position of the edge in the order it was given.
        index: usize,
        problem: &'static str,
    },
    /// More attack edges than the `u32` indexes can address.
    #[error("invalid graph: {count} attack edges (at most {} supported)", u32::MAX - 1)]
    TooManyEdges { count: usize },
    /// A setting outside its allowed range.
    #[error("invalid model: settings.{name} must be within {range}, got {value}")]
    SettingOutOfRange {
        name: &'static str,
        range: &'static str,
        value: f64,
    },
    /// `assess` or `contain` without any compromised asset.
    #[error("no compromised asset given")]
    NoCompromised,
    /// `contain` with every protected asset already compromised.
    #[error("nothing to protect: every protected asset is already compromised (use --protect)")]
    NothingToProtect,
    /// `restore` with nothing down.
    #[error("nothing is down")]
    NothingDown,
    /// `restore --crews 0`.
    #[error("--crews must be at least 1")]
    NoCrews,
    /// `restore --order` that is not a priority list of the downed assets.
    /// (Not a `#[source]`: the message already holds it, and error chains print it once.)
    #[error("invalid --order: {0}")]
    Order(crate::restore_order::OrderError),
}
