//! What `vigie exercise rank` prints: the single changes that save the most expected
//! customer-hours, written from the wire document (`vigie_wire::v1::exercise_rank`) so
//! the text and the JSON never disagree.

use std::fmt::Write as _;

use vigie_response::report::human;
use vigie_wire::v1::exercise_rank::{RankDocument, RankedChange};

/// Crown jewels shown per change (the JSON has them all).
const JEWELS: usize = 3;
/// Widest change description before it is cut.
const DESC_MAX: usize = 46;

/// The whole text report.
pub fn report(d: &RankDocument) -> String {
    let mut s = String::new();
    let from = crate::exercise::attacker_origin(&d.entry);
    let _ = writeln!(
        s,
        "Exercise rank: {} samples (seed {}), horizon {} h, attacker starting from {from}",
        d.samples,
        d.seed,
        hours(d.horizon_hours)
    );
    let b = &d.baseline;
    let _ = writeln!(
        s,
        "Baseline: {} customer-hours expected {}",
        human(b.customer_hours),
        ci(b.customer_hours_ci95)
    );
    let c = &d.candidates;
    let _ = writeln!(
        s,
        "Candidates ({}): {} enumerated, {} acting on no step the baseline takes, {} no-ops, {} over --max-candidates {}; {} simulated, {} without effect",
        d.kinds.join(","),
        c.enumerated,
        c.screened_out,
        c.no_ops,
        c.capped,
        d.max_candidates,
        c.evaluated,
        c.no_effect
    );
    if d.ranked.is_empty() {
        let _ = writeln!(s, "\nNo change to rank.");
        return s;
    }
    let _ = writeln!(
        s,
        "\n  #  {:<w$}  {:>9}  {:<22}  {:>9}",
        "change",
        "saves",
        "95 % CI",
        "then",
        w = DESC_MAX
    );
    for r in &d.ranked {
        row(&mut s, r);
    }
    let _ = writeln!(
        s,
        "\nsaves: expected customer-hours saved (baseline minus the change, paired samples);\n\
         then: expected customer-hours with the change; under each, crown jewels reached\n\
         before detection, without -> with the change."
    );
    s
}

fn row(s: &mut String, r: &RankedChange) {
    let _ = writeln!(
        s,
        "{:>3}  {:<w$}  {:>9}  {:<22}  {:>9}",
        r.rank,
        cut(&r.description, DESC_MAX),
        human(r.reduction_customer_hours),
        ci(r.reduction_ci95),
        human(r.customer_hours),
        w = DESC_MAX
    );
    if r.crown_jewels.is_empty() {
        return;
    }
    let mut parts: Vec<String> = r
        .crown_jewels
        .iter()
        .take(JEWELS)
        .map(|j| {
            format!(
                "{} {} -> {}",
                j.id,
                pct(j.baseline),
                pct(j.p_reached_before_detection)
            )
        })
        .collect();
    if r.crown_jewels.len() > JEWELS {
        parts.push(format!("{} more", r.crown_jewels.len() - JEWELS));
    }
    let _ = writeln!(s, "     {}", parts.join("; "));
}

fn ci(c: [f64; 2]) -> String {
    format!("[{}, {}]", human(c[0]), human(c[1]))
}

fn pct(p: f64) -> String {
    if p > 0.0 && p < 0.0005 {
        "<0.1 %".to_string()
    } else {
        format!("{:.1} %", p * 100.0)
    }
}

fn hours(h: f64) -> String {
    if h >= 1000.0 || h == h.trunc() {
        format!("{h:.0}")
    } else {
        format!("{h:.1}")
    }
}

/// At most `max` characters, an ellipsis marking the cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_wire::v1::exercise_rank::{Baseline, Candidates, ChangeRef, JewelShift};

    fn doc(ranked: Vec<RankedChange>) -> RankDocument {
        RankDocument {
            schema: "vigie/v1".into(),
            model: "m".into(),
            rules: "r".into(),
            seed: 0,
            samples: 1000,
            horizon_hours: 720.0,
            entry: vec![],
            kinds: vec!["edr".into(), "rule".into()],
            max_candidates: 40,
            baseline: Baseline {
                customer_hours: 12_345.0,
                customer_hours_ci95: [12_000.0, 12_690.0],
            },
            candidates: Candidates {
                enumerated: 50,
                screened_out: 5,
                no_ops: 3,
                capped: 2,
                evaluated: 40,
                no_effect: 1,
            },
            ranked,
        }
    }

    #[test]
    fn rows_show_change_saving_interval_and_jewels() {
        let r = RankedChange {
            rank: 1,
            change: ChangeRef {
                kind: "edr".into(),
                asset: Some("emp-web-1".into()),
                source: None,
                technique: None,
                vulnerability: None,
                flow: None,
            },
            description: "EDR on emp-web-1".into(),
            reduction_customer_hours: 42_000.0,
            reduction_ci95: [39_000.0, 45_000.0],
            customer_hours: 81_500.0,
            screening_score: 0.4,
            crown_jewels: (0..5)
                .map(|i| JewelShift {
                    id: format!("db-{i}"),
                    name: String::new(),
                    baseline: 0.412,
                    p_reached_before_detection: 0.12,
                })
                .collect(),
        };
        let t = report(&doc(vec![r]));
        assert!(
            t.contains("Baseline: 12.3 k customer-hours expected [12.0 k, 12.7 k]"),
            "{t}"
        );
        assert!(t.contains("50 enumerated, 5 acting on no step"), "{t}");
        let line = t.lines().find(|l| l.contains("EDR on emp-web-1")).unwrap();
        assert!(line.starts_with("  1  "), "{line}");
        assert!(
            line.contains("42.0 k") && line.contains("[39.0 k, 45.0 k]") && line.contains("81.5 k")
        );
        assert!(t.contains("db-0 41.2 % -> 12.0 %; db-1"), "{t}");
        assert!(t.contains("2 more"), "{t}");
    }

    #[test]
    fn nothing_to_rank_says_so() {
        assert!(report(&doc(vec![])).contains("No change to rank."));
    }
}
