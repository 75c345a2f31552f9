//! The closing summary: what was read, skipped, found, and how fast.

use std::collections::BTreeMap;

use serde::Serialize;
use vigie_event::ReadErrorKind;
use vigie_sigma::correlation::CorrelatorStats;
use vigie_sigma::{Level, LoadReport, RefusalKind};

/// Files read and skipped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCounts {
    pub read: u64,
    /// Files that could not be read at all, by reason.
    pub skipped: BTreeMap<ReadErrorKind, u64>,
}

/// Rules loaded and refused.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleCounts {
    /// The rule set's digest ([`vigie_sigma::RuleSet::digest`]).
    pub digest: String,
    pub files: usize,
    pub detection: usize,
    pub correlation: usize,
    pub filters: usize,
    /// Refused rules by reason (details: `vigie rules check`).
    pub refused: BTreeMap<RefusalKind, u64>,
    /// Rules loaded with a warning (duplicate id or name, filter naming an unknown
    /// rule, ...), by reason (details: `vigie rules check`).
    pub warnings: BTreeMap<RefusalKind, u64>,
    /// Logsources with no mapping entry: their rules are tried on every event.
    pub unrouted_logsources: usize,
    /// Rules using those logsources.
    pub unrouted_rules: usize,
    /// Logsources routed by part of their keys only (e.g. product alone).
    pub partially_routed_logsources: usize,
    /// Rules using those logsources.
    pub partially_routed_rules: usize,
}

impl RuleCounts {
    pub fn from_report(r: &LoadReport, digest: &str) -> RuleCounts {
        let by_kind = |v: &[vigie_sigma::Refusal]| {
            let mut m = BTreeMap::new();
            for x in v {
                *m.entry(x.kind).or_insert(0) += 1;
            }
            m
        };
        let rules = |v: &[(String, usize)]| v.iter().map(|(_, n)| n).sum();
        RuleCounts {
            digest: digest.to_string(),
            files: r.files,
            detection: r.detection_rules,
            correlation: r.correlation_rules,
            filters: r.filters,
            refused: by_kind(&r.refused),
            warnings: by_kind(&r.warnings),
            unrouted_logsources: r.unrouted_logsources.len(),
            unrouted_rules: rules(&r.unrouted_logsources),
            partially_routed_logsources: r.partially_routed_logsources.len(),
            partially_routed_rules: rules(&r.partially_routed_logsources),
        }
    }
}

/// What happened to the matches that feed correlations: nothing left out goes uncounted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CorrelationCounts {
    /// Matches of rules feeding a correlation whose event had no time: a correlation
    /// cannot place them in a window, so they were not fed to it.
    pub untimed_matches: u64,
    /// What the correlator did with the matches it was fed and what it left out.
    #[serde(flatten)]
    pub stats: CorrelatorStats,
}

impl CorrelationCounts {
    /// Inputs the correlator (or the pipeline) could not use, by reason, non-zero only.
    pub fn left_out(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stats;
        [
            ("without time", self.untimed_matches),
            ("missing group-by field", s.missing_group_field),
            ("missing value field", s.missing_value_field),
            ("non-numeric value", s.non_numeric_value),
            ("window entries evicted", s.evicted),
            ("groups evicted", s.evicted_groups),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// Threat-intelligence indicators matched as detections (`--intel`; `vigie-intel`'s
/// matcher counts them, the caller fills [`Summary::intel`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntelCounts {
    /// Indicators loaded (each a rule of kind `indicator`).
    pub indicators: u64,
    /// Indicators refused while loading (details: `vigie intel check`).
    pub refused: u64,
    /// Indicator matches: an event matching one indicator, before `--level` (one per
    /// event and indicator, however many of its fields matched).
    pub hits: u64,
    /// Values that matched an indicator but are on a warning list (known benign), by
    /// list name: not reported.
    pub suppressed: BTreeMap<String, u64>,
    /// Matches left out because the event time is before the indicator's `valid_from`
    /// or after its `valid_until`.
    pub outside_validity: u64,
    /// Pattern indicator evaluations that failed (e.g. a regular expression the engine
    /// refuses): no match.
    pub pattern_errors: u64,
    /// Seconds spent loading indicators and building their indexes.
    pub load_s: f64,
}

/// Everything the closing summary says. The words are `vigie-render`'s `SummaryText`;
/// the JSON (`--summary-json`) is `vigie-wire`'s `HuntSummary`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: FileCounts,
    /// Events read (good records).
    pub events: u64,
    /// Events left out by `--from`/`--to` (outside the window or without a time).
    pub events_outside_window: u64,
    /// Bytes of input (compressed size for gzip; 0 for stdin).
    pub bytes: u64,
    /// Reported detections (after `--level`), by level; correlation hits included.
    pub detections: BTreeMap<Level, u64>,
    /// Sum of `detections`.
    pub detections_total: u64,
    /// Of those, correlation hits.
    pub correlation_hits: u64,
    /// Matches not reported because their rule is below `--level`.
    pub below_level: u64,
    /// Damaged records skipped, by reason: one per record, line or element, except
    /// `evtx_chunk_missing` and `evtx_chunk_damaged`, which count EVTX chunks (whose
    /// records are unknown; see `vigie_event::read`'s EVTX reader).
    pub records_skipped: BTreeMap<ReadErrorKind, u64>,
    /// Damaged records / skipped files not listed one by one on stderr (past the cap).
    pub errors_not_listed: u64,
    pub rules: RuleCounts,
    /// Correlation inputs: fed, out of order, left out by reason.
    pub correlations: CorrelationCounts,
    /// Seconds spent loading and compiling rules.
    pub rules_load_s: f64,
    /// Seconds spent reading and matching (after rules are loaded).
    pub scan_s: f64,
    /// `events / scan_s`.
    pub events_per_s: f64,
    pub threads: usize,
    /// Threat-intelligence counts; `None` when the hunt used no indicators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intel: Option<IntelCounts>,
}

impl Summary {
    /// An empty summary with every level present (at 0) in `detections`.
    pub fn new(rules: RuleCounts, threads: usize) -> Summary {
        Summary {
            detections: Level::ALL.iter().map(|l| (*l, 0)).collect(),
            rules,
            threads,
            ..Summary::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_level_and_reason() {
        let mut s = Summary::new(RuleCounts::default(), 1);
        s.records_skipped.insert(ReadErrorKind::BadJson, 2);
        s.records_skipped.insert(ReadErrorKind::EvtxChunkMissing, 3);
        s.files.skipped.insert(ReadErrorKind::Io, 1);
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["detections"]["critical"], 0);
        assert_eq!(j["files"]["skipped"]["io"], 1);
        assert_eq!(j["records_skipped"]["bad_json"], 2);
        assert_eq!(j["records_skipped"]["evtx_chunk_missing"], 3);
        assert_eq!(j["correlations"]["untimed_matches"], 0);
        assert_eq!(j["rules"]["unrouted_logsources"], 0);
    }
}
