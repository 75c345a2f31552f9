//! `vigie intel check` as text: totals, by type, per source, refusals grouped by reason
//! then each with its file and position, and warning-list hits.

use std::fmt::Write;

use vigie_wire::v1::intel_check::{IntelCheck, IntelRefusal};

/// At most this many refusals are listed one by one in text (JSON lists them all).
pub const MAX_LISTED: usize = 50;

pub fn intel_check(doc: &IntelCheck) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} indicators loaded ({} typed values, {} STIX patterns), {} refused, in {:.2} s",
        doc.loaded,
        doc.by_type.values().sum::<usize>(),
        doc.patterns,
        doc.refused_count,
        doc.load_s
    );
    if !doc.by_type.is_empty() {
        let parts: Vec<String> = doc
            .by_type
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let _ = writeln!(s, "by type: {}", parts.join(", "));
    }
    for src in &doc.sources {
        let by: Vec<String> = src
            .by_type
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "  {} [{}]: {} loaded{}{}, {} refused{}",
            src.source,
            src.format.as_deref().unwrap_or("missing"),
            src.loaded,
            if by.is_empty() {
                String::new()
            } else {
                format!(" ({})", by.join(", "))
            },
            if src.patterns > 0 {
                format!(", {} patterns", src.patterns)
            } else {
                String::new()
            },
            src.refused,
            if src.loaded == 0 {
                "  <- nothing loaded"
            } else {
                ""
            }
        );
    }
    if !doc.index.is_empty() {
        let parts: Vec<String> = doc
            .index
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(s, "index: {}", parts.join(", "));
        }
    }
    if !doc.refused_by_reason.is_empty() {
        let _ = writeln!(s, "refused by reason:");
        for (r, n) in &doc.refused_by_reason {
            let _ = writeln!(s, "  {n:>8}  {r}");
        }
        for r in doc.refused.iter().take(MAX_LISTED) {
            refusal(&mut s, r);
        }
        if doc.refused.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "  ... and {} more (--format json lists them all)",
                doc.refused.len() - MAX_LISTED
            );
        }
    }
    if !doc.unmatchable_patterns.is_empty() {
        let _ = writeln!(
            s,
            "{} STIX patterns detection refuses (they cannot match one event):",
            doc.unmatchable_patterns.len()
        );
        for l in doc.unmatchable_patterns.iter().take(MAX_LISTED) {
            let _ = writeln!(s, "  {l}");
        }
    }
    if let Some(w) = &doc.warninglists {
        let _ = writeln!(
            s,
            "warning lists: {} lists, {} entries; {} indicators hit a list (suppressed in detection)",
            w.lists, w.entries, w.suppressed
        );
        for (l, n) in &w.suppressed_by_list {
            let _ = writeln!(s, "  {n:>8}  {l}");
        }
        for (id, v, l) in &w.examples {
            let _ = writeln!(s, "  e.g. {v} ({id}) in {l:?}");
        }
        for r in w.refused.iter().take(MAX_LISTED) {
            refusal(&mut s, r);
        }
    }
    s
}

fn refusal(s: &mut String, r: &IntelRefusal) {
    let _ = writeln!(s, "  {}: {}: {}", r.file, r.position, r.reason);
}
