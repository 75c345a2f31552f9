//! Detection over events: the streaming [`DetectionSession`] (push events, receive
//! detections and correlation hits) and the file pipeline of `vigie hunt` built on it
//! (inputs → session → [`Sink`]), with progress reporting and the closing [`Summary`].
//! No terminal output here: printers and the progress bar live in `vigie-render`.
//!
//! Flow: [`discover`](vigie_event::discover) expands the user's paths; files are read in
//! parallel (rayon, one [`Matcher`](vigie_sigma::Matcher) per worker) and every file's
//! detections are kept until the files before it are done, so output follows input order
//! then record order whatever the thread count. Matches that feed a correlation become
//! owned [`Observation`](vigie_sigma::Observation)s; once all files are read they are
//! sorted by event time and fed to the [`Correlator`](vigie_sigma::Correlator), whose hits
//! are printed last, marked `"correlation": true`.
//!
//! Memory stays flat in input size: events are dropped as soon as they are scanned; only
//! detections (and correlation observations) are kept.
//!
//! Entry points: [`run`] (load rules + discover + hunt, what `vigie hunt` calls) and
//! [`hunt`] (hunt already-discovered inputs with an already-loaded rule set).

mod detection;
mod error;
mod options;
mod pipeline;
mod progress;
mod scan;
pub mod session;
mod sink;
mod summary;
mod time;

pub use detection::{CorrelationInfo, Detection};
pub use error::HuntError;
pub use options::HuntOptions;
pub use pipeline::{
    hunt, load_options, load_rules, log_load_report, run, run_discovered, ScanResult,
};
pub use progress::Progress;
pub use session::{
    Capture, CorrelationOrder, DetectionSession, ExtraMatcher, Found, Pushed, SessionCounts,
    SessionOptions, SessionWorker,
};
pub use sink::{Collect, Sink};
pub use summary::{CorrelationCounts, FileCounts, IntelCounts, RuleCounts, Summary};
pub use time::{parse_time_bound, Bound};
