//! The closing summary of a hunt on the wire (`vigie hunt --summary-json`): what was
//! read, skipped (by reason), found, and how fast. Reasons are the snake_case names of
//! the engines' kinds (`bad_json`, `corrupt_evtx`, `syntax`, `limit`...); a reason
//! that never occurred is absent, except `detections`, which lists every level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Files read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileCounts {
    pub read: u64,
    /// Files that could not be read at all, by reason.
    pub skipped: BTreeMap<String, u64>,
}

/// Rules loaded and refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleCounts {
    /// Digest of the rule set (`sha256:...`): the same rules give the same digest.
    pub digest: String,
    pub files: usize,
    pub detection: usize,
    pub correlation: usize,
    pub filters: usize,
    /// Refused rules by reason (details: `vigie rules check`).
    pub refused: BTreeMap<String, u64>,
    /// Rules loaded with a warning, by reason.
    pub warnings: BTreeMap<String, u64>,
    /// Logsources with no mapping entry: their rules are tried on every event.
    pub unrouted_logsources: usize,
    pub unrouted_rules: usize,
    /// Logsources routed by part of their keys only.
    pub partially_routed_logsources: usize,
    pub partially_routed_rules: usize,
}

/// Correlation inputs: fed, out of order, left out by reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrelationCounts {
    /// Matches of correlation-feeding rules whose event had no time (not fed).
    pub untimed_matches: u64,
    pub observations: u64,
    pub out_of_order: u64,
    pub missing_group_field: u64,
    pub missing_value_field: u64,
    pub non_numeric_value: u64,
    pub evicted: u64,
    pub evicted_groups: u64,
    pub hits: u64,
    pub intermediate_hits: u64,
    pub peak_groups: u64,
    pub peak_entries: u64,
}

/// Threat-intelligence indicators of a hunt (`--intel`): present only when indicators
/// were given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntelCounts {
    /// Indicators loaded.
    pub indicators: u64,
    /// Indicators refused while loading (details: `vigie intel check`).
    pub refused: u64,
    /// Events matching an indicator (one per event and indicator), before `--level`.
    pub hits: u64,
    /// Matches on values of a warning list (known benign), by list: not reported.
    pub suppressed: BTreeMap<String, u64>,
    /// Matches left out: event time outside the indicator's `valid_from`/`valid_until`.
    pub outside_validity: u64,
    /// Pattern indicator evaluations that failed (no match).
    #[serde(default)]
    pub pattern_errors: u64,
    pub load_s: f64,
}

/// Everything the closing summary of a hunt says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HuntSummary {
    /// [`crate::SCHEMA_VERSION`].
    pub schema: String,
    pub files: FileCounts,
    /// Events read (good records).
    pub events: u64,
    /// Events left out by `--from`/`--to`.
    pub events_outside_window: u64,
    /// Bytes of input (compressed size for gzip; 0 for stdin).
    pub bytes: u64,
    /// Reported detections by level (every level present), correlation hits included.
    pub detections: BTreeMap<String, u64>,
    pub detections_total: u64,
    pub correlation_hits: u64,
    /// Matches not reported because their rule is below `--level`.
    pub below_level: u64,
    /// Damaged records (and EVTX chunks) skipped, by reason.
    pub records_skipped: BTreeMap<String, u64>,
    /// Damaged records / skipped files not listed one by one on stderr (past the cap).
    pub errors_not_listed: u64,
    pub rules: RuleCounts,
    pub correlations: CorrelationCounts,
    pub rules_load_s: f64,
    pub scan_s: f64,
    pub events_per_s: f64,
    pub threads: usize,
    /// Absent when the hunt used no indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel: Option<IntelCounts>,
}

fn names<K: Serialize>(m: &BTreeMap<K, u64>) -> BTreeMap<String, u64> {
    m.iter().map(|(k, n)| (crate::snake_name(k), *n)).collect()
}

impl HuntSummary {
    /// The wire form of a hunt's summary; `digest` is the rule set's
    /// ([`vigie_sigma::RuleSet::digest`]).
    pub fn from_engine(s: &vigie_hunt::Summary) -> HuntSummary {
        let r = &s.rules;
        let c = &s.correlations;
        HuntSummary {
            schema: crate::SCHEMA_VERSION.to_string(),
            files: FileCounts {
                read: s.files.read,
                skipped: names(&s.files.skipped),
            },
            events: s.events,
            events_outside_window: s.events_outside_window,
            bytes: s.bytes,
            detections: s
                .detections
                .iter()
                .map(|(l, n)| (l.as_str().to_string(), *n))
                .collect(),
            detections_total: s.detections_total,
            correlation_hits: s.correlation_hits,
            below_level: s.below_level,
            records_skipped: names(&s.records_skipped),
            errors_not_listed: s.errors_not_listed,
            rules: RuleCounts {
                digest: r.digest.clone(),
                files: r.files,
                detection: r.detection,
                correlation: r.correlation,
                filters: r.filters,
                refused: names(&r.refused),
                warnings: names(&r.warnings),
                unrouted_logsources: r.unrouted_logsources,
                unrouted_rules: r.unrouted_rules,
                partially_routed_logsources: r.partially_routed_logsources,
                partially_routed_rules: r.partially_routed_rules,
            },
            correlations: CorrelationCounts {
                untimed_matches: c.untimed_matches,
                observations: c.stats.observations,
                out_of_order: c.stats.out_of_order,
                missing_group_field: c.stats.missing_group_field,
                missing_value_field: c.stats.missing_value_field,
                non_numeric_value: c.stats.non_numeric_value,
                evicted: c.stats.evicted,
                evicted_groups: c.stats.evicted_groups,
                hits: c.stats.hits,
                intermediate_hits: c.stats.intermediate_hits,
                peak_groups: c.stats.peak_groups,
                peak_entries: c.stats.peak_entries,
            },
            rules_load_s: s.rules_load_s,
            scan_s: s.scan_s,
            events_per_s: s.events_per_s,
            threads: s.threads,
            intel: s.intel.as_ref().map(|i| IntelCounts {
                indicators: i.indicators,
                refused: i.refused,
                hits: i.hits,
                suppressed: i.suppressed.clone(),
                outside_validity: i.outside_validity,
                pattern_errors: i.pattern_errors,
                load_s: i.load_s,
            }),
        }
    }
}
