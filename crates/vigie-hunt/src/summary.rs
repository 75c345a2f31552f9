//! The closing summary: what was read, skipped, found, and how fast.

use std::collections::BTreeMap;
use std::fmt;

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
    pub fn from_report(r: &LoadReport) -> RuleCounts {
        let by_kind = |v: &[vigie_sigma::Refusal]| {
            let mut m = BTreeMap::new();
            for x in v {
                *m.entry(x.kind).or_insert(0) += 1;
            }
            m
        };
        let rules = |v: &[(String, usize)]| v.iter().map(|(_, n)| n).sum();
        RuleCounts {
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
    fn left_out(&self) -> Vec<(&'static str, u64)> {
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

/// Everything the closing summary says; `Display` is the human form, `Serialize` the
/// JSON form (`--summary-json`).
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

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

fn by_reason<K: Serialize>(m: &BTreeMap<K, u64>) -> String {
    m.iter()
        .map(|(k, n)| {
            let name = serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{name} {n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let skipped: u64 = self.files.skipped.values().sum();
        write!(f, "files: {} read", self.files.read)?;
        if skipped > 0 {
            write!(
                f,
                ", {skipped} skipped ({})",
                by_reason(&self.files.skipped)
            )?;
        }
        writeln!(
            f,
            "; events: {}; bytes: {}",
            self.events,
            human_bytes(self.bytes)
        )?;
        if self.events_outside_window > 0 {
            writeln!(
                f,
                "events outside --from/--to: {}",
                self.events_outside_window
            )?;
        }
        let levels: Vec<String> = Level::ALL
            .iter()
            .rev()
            .map(|l| format!("{l} {}", self.detections.get(l).copied().unwrap_or(0)))
            .collect();
        write!(
            f,
            "detections: {} ({})",
            self.detections_total,
            levels.join(", ")
        )?;
        if self.correlation_hits > 0 {
            write!(f, ", of which correlations: {}", self.correlation_hits)?;
        }
        if self.below_level > 0 {
            write!(f, "; {} below --level not shown", self.below_level)?;
        }
        writeln!(f)?;
        let rec: u64 = self.records_skipped.values().sum();
        if rec > 0 {
            // EVTX chunks whose records are unknown are not counted as records.
            let (chunks, records): (BTreeMap<ReadErrorKind, u64>, BTreeMap<_, _>) = self
                .records_skipped
                .iter()
                .map(|(k, n)| (*k, *n))
                .partition(|(k, _)| k.counts_chunks());
            let mut parts = Vec::new();
            for (what, m) in [("records", records), ("EVTX chunks", chunks)] {
                let n: u64 = m.values().sum();
                if n > 0 {
                    parts.push(format!("{what} skipped: {n} ({})", by_reason(&m)));
                }
            }
            write!(f, "{}", parts.join("; "))?;
            if self.errors_not_listed > 0 {
                write!(f, "; {} not listed above", self.errors_not_listed)?;
            }
            writeln!(f)?;
        }
        let r = &self.rules;
        write!(
            f,
            "rules: {} loaded ({} detection, {} correlation, {} filters) from {} files",
            r.detection + r.correlation + r.filters,
            r.detection,
            r.correlation,
            r.filters,
            r.files
        )?;
        let refused: u64 = r.refused.values().sum();
        if refused > 0 {
            write!(
                f,
                "; {refused} refused ({}) -- `vigie rules check` lists them",
                by_reason(&r.refused)
            )?;
        }
        writeln!(f)?;
        let warned: u64 = r.warnings.values().sum();
        if warned > 0 || r.unrouted_logsources > 0 || r.partially_routed_logsources > 0 {
            let mut parts = Vec::new();
            if warned > 0 {
                parts.push(format!(
                    "{warned} loaded with a warning ({})",
                    by_reason(&r.warnings)
                ));
            }
            if r.unrouted_logsources > 0 {
                parts.push(format!(
                    "{} logsources unrouted ({} rules tried on every event)",
                    r.unrouted_logsources, r.unrouted_rules
                ));
            }
            if r.partially_routed_logsources > 0 {
                parts.push(format!(
                    "{} logsources partly routed ({} rules)",
                    r.partially_routed_logsources, r.partially_routed_rules
                ));
            }
            writeln!(
                f,
                "rule notes: {} -- `vigie rules check` lists them",
                parts.join("; ")
            )?;
        }
        let c = &self.correlations;
        if c.stats.observations > 0 || c.untimed_matches > 0 {
            write!(f, "correlation inputs: {} fed", c.stats.observations)?;
            if c.stats.out_of_order > 0 {
                write!(f, " ({} out of time order)", c.stats.out_of_order)?;
            }
            let left = c.left_out();
            if !left.is_empty() {
                let parts: Vec<String> = left.iter().map(|(k, n)| format!("{k} {n}")).collect();
                write!(f, "; left out: {}", parts.join(", "))?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "time: rules {:.2} s, scan {:.2} s, {:.0} events/s on {} thread{}",
            self.rules_load_s,
            self.scan_s,
            self.events_per_s,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_display() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(21_065_728), "21.1 MB");
        assert_eq!(human_bytes(3_500_000_000), "3.5 GB");
        let mut s = Summary::new(RuleCounts::default(), 1);
        s.records_skipped.insert(ReadErrorKind::BadJson, 2);
        s.records_skipped.insert(ReadErrorKind::EvtxChunkMissing, 3);
        s.files.skipped.insert(ReadErrorKind::Io, 1);
        let text = s.to_string();
        assert!(text.contains("1 skipped (io 1)"), "{text}");
        assert!(
            text.contains(
                "records skipped: 2 (bad_json 2); EVTX chunks skipped: 3 (evtx_chunk_missing 3)"
            ),
            "{text}"
        );
        assert!(
            text.contains("on 1 thread\n") || text.ends_with("on 1 thread"),
            "{text}"
        );
        assert!(!text.contains("rule notes"), "{text}");
        assert!(!text.contains("correlation inputs"), "{text}");
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["detections"]["critical"], 0);
        assert_eq!(j["files"]["skipped"]["io"], 1);
        assert_eq!(j["records_skipped"]["evtx_chunk_missing"], 3);
        assert_eq!(j["correlations"]["untimed_matches"], 0);
        assert_eq!(j["rules"]["unrouted_logsources"], 0);
    }

    #[test]
    fn rule_notes_and_correlation_inputs_are_shown() {
        let mut s = Summary::new(RuleCounts::default(), 2);
        s.rules.warnings.insert(RefusalKind::Reference, 2);
        s.rules.unrouted_logsources = 3;
        s.rules.unrouted_rules = 7;
        s.correlations.untimed_matches = 4;
        s.correlations.stats.observations = 10;
        s.correlations.stats.missing_group_field = 1;
        let text = s.to_string();
        assert!(
            text.contains(
                "rule notes: 2 loaded with a warning (reference 2); 3 logsources unrouted (7 rules"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "correlation inputs: 10 fed; left out: without time 4, missing group-by field 1"
            ),
            "{text}"
        );
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["correlations"]["untimed_matches"], 4);
        assert_eq!(j["correlations"]["missing_group_field"], 1);
        assert_eq!(j["rules"]["warnings"]["reference"], 2);
        assert_eq!(j["rules"]["unrouted_rules"], 7);
    }
}
