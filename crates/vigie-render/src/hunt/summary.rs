//! The closing summary of a hunt in words, for stderr (the JSON twin is
//! `vigie_wire::v1::HuntSummary`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use vigie_event::ReadErrorKind;
use vigie_hunt::Summary;
use vigie_sigma::Level;

/// A [`Summary`] as the lines a person reads at the end of a hunt.
pub struct SummaryText<'a>(pub &'a Summary);

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
        .map(|(k, n)| format!("{} {n}", vigie_wire::snake_name(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SummaryText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let skipped: u64 = s.files.skipped.values().sum();
        write!(f, "files: {} read", s.files.read)?;
        if skipped > 0 {
            write!(f, ", {skipped} skipped ({})", by_reason(&s.files.skipped))?;
        }
        writeln!(f, "; events: {}; bytes: {}", s.events, human_bytes(s.bytes))?;
        if s.events_outside_window > 0 {
            writeln!(f, "events outside --from/--to: {}", s.events_outside_window)?;
        }
        let levels: Vec<String> = Level::ALL
            .iter()
            .rev()
            .map(|l| format!("{l} {}", s.detections.get(l).copied().unwrap_or(0)))
            .collect();
        write!(
            f,
            "detections: {} ({})",
            s.detections_total,
            levels.join(", ")
        )?;
        if s.correlation_hits > 0 {
            write!(f, ", of which correlations: {}", s.correlation_hits)?;
        }
        if s.below_level > 0 {
            write!(f, "; {} below --level not shown", s.below_level)?;
        }
        writeln!(f)?;
        let rec: u64 = s.records_skipped.values().sum();
        if rec > 0 {
            // EVTX chunks whose records are unknown are not counted as records.
            let (chunks, records): (BTreeMap<ReadErrorKind, u64>, BTreeMap<_, _>) = s
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
            if s.errors_not_listed > 0 {
                write!(f, "; {} not listed above", s.errors_not_listed)?;
            }
            writeln!(f)?;
        }
        let r = &s.rules;
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
        let c = &s.correlations;
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
        if let Some(i) = &s.intel {
            write!(f, "intel: {} indicators", i.indicators)?;
            if i.refused > 0 {
                write!(
                    f,
                    " ({} refused -- `vigie intel check` lists them)",
                    i.refused
                )?;
            }
            write!(f, ", {} hits", i.hits)?;
            let suppressed: u64 = i.suppressed.values().sum();
            if suppressed > 0 {
                let lists: Vec<String> = i
                    .suppressed
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                write!(
                    f,
                    "; {suppressed} suppressed by warning lists ({})",
                    lists.join(", ")
                )?;
            }
            if i.outside_validity > 0 {
                write!(
                    f,
                    "; {} outside the indicator's validity",
                    i.outside_validity
                )?;
            }
            if i.pattern_errors > 0 {
                write!(f, "; {} pattern evaluation errors", i.pattern_errors)?;
            }
            writeln!(f, "; loaded in {:.2} s", i.load_s)?;
        }
        write!(
            f,
            "time: rules {:.2} s, scan {:.2} s, {:.0} events/s on {} thread{}",
            s.rules_load_s,
            s.scan_s,
            s.events_per_s,
            s.threads,
            if s.threads == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_hunt::RuleCounts;
    use vigie_sigma::RefusalKind;

    #[test]
    fn bytes_and_display() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(21_065_728), "21.1 MB");
        assert_eq!(human_bytes(3_500_000_000), "3.5 GB");
        let mut s = Summary::new(RuleCounts::default(), 1);
        s.records_skipped.insert(ReadErrorKind::BadJson, 2);
        s.records_skipped.insert(ReadErrorKind::EvtxChunkMissing, 3);
        s.files.skipped.insert(ReadErrorKind::Io, 1);
        let text = SummaryText(&s).to_string();
        assert!(
            text.contains(
                "records skipped: 2 (bad_json 2); EVTX chunks skipped: 3 (evtx_chunk_missing 3)"
            ),
            "{text}"
        );
        assert!(text.contains("1 skipped (io 1)"), "{text}");
        assert!(text.contains("records skipped: 2 (bad_json 2)"), "{text}");
        assert!(
            text.contains("on 1 thread\n") || text.ends_with("on 1 thread"),
            "{text}"
        );
        assert!(!text.contains("rule notes"), "{text}");
        assert!(!text.contains("correlation inputs"), "{text}");
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["detections"]["critical"], 0);
        assert_eq!(j["files"]["skipped"]["io"], 1);
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
        let text = SummaryText(&s).to_string();
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
