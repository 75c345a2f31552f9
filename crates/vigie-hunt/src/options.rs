//! What a hunt is asked to do.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use vigie_sigma::Level;

/// Settings of one hunt. `Default` hunts with every rule level, no time window, all cores,
/// no progress reporting.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// Rule files or directories (walked recursively).
    pub rules: Vec<PathBuf>,
    /// In-memory rule files `(name, yaml)` used when `rules` is empty (the binary's
    /// embedded rule pack).
    pub embedded_rules: &'static [(&'static str, &'static str)],
    /// Logsource routing and field mapping file (default: the one shipped with vigie-sigma).
    pub mapping: Option<PathBuf>,
    /// Values for `|expand` placeholders.
    pub placeholders: Option<PathBuf>,
    /// Directory of the compiled-rule cache for `rules` (None: no cache; the embedded
    /// rules are never cached).
    pub rules_cache: Option<PathBuf>,
    /// Report only detections of this level or above.
    pub min_level: Option<Level>,
    /// Scan only events at or after this time (events without a time are left out when a
    /// window is set).
    pub from: Option<DateTime<Utc>>,
    /// Scan only events at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Told how far the hunt is (the binary draws a bar from it).
    pub progress: Option<std::sync::Arc<dyn crate::Progress>>,
    /// How many damaged records / skipped files are listed one by one on stderr before
    /// the rest are only counted in the summary.
    pub max_listed_errors: usize,
    /// Event fields copied into each detection's `context` (respond's entity
    /// extraction); None: nothing captured.
    pub capture: Option<std::sync::Arc<crate::Capture>>,
    /// Matchers run after the Sigma matcher on every event (threat-intelligence
    /// indicators); their rules must be registered in the rule set hunted with
    /// ([`vigie_sigma::RuleSet::add_external`]). Empty: none.
    pub extra: Vec<std::sync::Arc<dyn crate::ExtraMatcher>>,
    /// Zone of syslog timestamps written without one (RFC 3164); UTC by default.
    pub syslog_zone: vigie_event::syslog::Zone,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            rules: Vec::new(),
            embedded_rules: &[],
            mapping: None,
            placeholders: None,
            rules_cache: None,
            min_level: None,
            from: None,
            to: None,
            threads: 0,
            progress: None,
            max_listed_errors: 50,
            capture: None,
            extra: Vec::new(),
            syslog_zone: vigie_event::syslog::Zone::utc(),
        }
    }
}
