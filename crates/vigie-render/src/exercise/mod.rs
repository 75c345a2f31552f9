//! What `vigie exercise` prints: the Monte Carlo race as text for a person, written
//! from the wire report (`vigie_wire::v1::exercise`), so the text and the JSON never
//! disagree. Crown jewels come most exposed first (reached before detection), lists
//! are cut at a few lines (the JSON has everything).

use std::fmt::Write as _;

use vigie_response::report::human;
use vigie_wire::v1::exercise::{AttackPath, CrownJewel, EdgeUse, ExerciseReport, FirstDetector};

/// Lines shown per list (paths, edges, detectors, techniques).
const TOP: usize = 10;
/// Widest crown jewel label (id and name) before it is cut.
const LABEL_MAX: usize = 44;

/// The whole text report.
pub fn report(r: &ExerciseReport) -> String {
    let mut s = String::new();
    header(&mut s, r);
    jewels(&mut s, r);
    paths(&mut s, &r.paths);
    edges(&mut s, &r.edges);
    detectors(&mut s, &r.first_detecting_rules);
    uncovered(&mut s, r);
    s
}

/// Where the simulated attacker starts, for the headers of `exercise` and `rank`.
pub(crate) fn attacker_origin(entry: &[String]) -> String {
    if entry.is_empty() {
        "the Internet".to_string()
    } else {
        entry.join(", ")
    }
}

fn header(s: &mut String, r: &ExerciseReport) {
    let from = attacker_origin(&r.entry);
    let _ = writeln!(
        s,
        "Exercise: {} samples (seed {}), horizon {} h, attacker starting from {from}",
        r.samples,
        r.seed,
        num(r.horizon_hours)
    );
    if !r.containment {
        let _ = writeln!(s, "Containment on detection: off");
    }
    let _ = writeln!(
        s,
        "\nDetected before the horizon: {} of samples {}",
        pct(r.p_detected),
        ci(r.p_detected_ci95)
    );
    match &r.ttd_hours {
        Some(t) => {
            let _ = writeln!(
                s,
                "Time to detect: mean {} h; p5 {} h, p50 {} h, p95 {} h",
                num(t.mean),
                num(t.p5),
                num(t.p50),
                num(t.p95)
            );
        }
        None => {
            let _ = writeln!(s, "Time to detect: never detected");
        }
    }
    if let Some(c) = &r.customer_hours {
        let _ = writeln!(
            s,
            "Customer-hours per incident: mean {} (95 % CI {} to {}; containment {}, restoring destroyed crown jewels {}); p5 {}, p50 {}, p95 {}, p99 {}",
            human(c.mean),
            human(c.mean_ci95[0]),
            human(c.mean_ci95[1]),
            human(c.containment_mean),
            human(c.restore_mean),
            human(c.p5),
            human(c.p50),
            human(c.p95),
            human(c.p99)
        );
    }
}

/// The crown jewels table, most often reached before detection first.
fn jewels(s: &mut String, r: &ExerciseReport) {
    let _ = writeln!(
        s,
        "\nCrown jewels (most exposed first; 95 % CI in brackets):"
    );
    if r.crown_jewels.is_empty() {
        let _ = writeln!(s, "  none in the model");
        return;
    }
    let mut rows: Vec<&CrownJewel> = r.crown_jewels.iter().collect();
    rows.sort_by(|a, b| {
        b.p_reached_before_detection
            .total_cmp(&a.p_reached_before_detection)
            .then(b.p_reached.total_cmp(&a.p_reached))
            .then(a.id.cmp(&b.id))
    });
    let labels: Vec<String> = rows.iter().map(|j| label(j)).collect();
    let w = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(11);
    let _ = writeln!(
        s,
        "  {:<w$}  {:<21}  {:<21}  time to compromise, h",
        "crown jewel", "reached (no defence)", "before detection"
    );
    let _ = writeln!(
        s,
        "  {:<w$}  {:<21}  {:<21}  {:>7} {:>7} {:>7} {:>7}",
        "", "", "", "mean", "p5", "p50", "p95"
    );
    for (j, l) in rows.iter().zip(&labels) {
        let ttc = match &j.ttc_hours {
            Some(t) => format!(
                "{:>7} {:>7} {:>7} {:>7}",
                num(t.mean),
                num(t.p5),
                num(t.p50),
                num(t.p95)
            ),
            None => format!("{:>7}", "never"),
        };
        let _ = writeln!(
            s,
            "  {l:<w$}  {:<21}  {:<21}  {ttc}",
            format!("{} {}", pct(j.p_reached), ci(j.p_reached_ci95)),
            format!(
                "{} {}",
                pct(j.p_reached_before_detection),
                ci(j.p_reached_before_detection_ci95)
            ),
        );
    }
}

/// `id  name`, cut to [`LABEL_MAX`] characters.
fn label(j: &CrownJewel) -> String {
    let full = if j.name.is_empty() || j.name == j.id {
        j.id.clone()
    } else {
        format!("{}  {}", j.id, j.name)
    };
    if full.chars().count() <= LABEL_MAX {
        return full;
    }
    let mut cut: String = full.chars().take(LABEL_MAX - 1).collect();
    cut.push('…');
    cut
}

fn paths(s: &mut String, paths: &[AttackPath]) {
    let _ = writeln!(s, "\nMost frequent attack paths to a crown jewel:");
    if paths.is_empty() {
        let _ = writeln!(s, "  none: no sample reached a crown jewel");
        return;
    }
    for p in paths.iter().take(TOP) {
        let ids: Vec<&str> = p.nodes.iter().map(|n| n.id.as_str()).collect();
        let _ = writeln!(s, "  {:>7}  {}", pct(p.frequency), ids.join(" -> "));
        if let Some(last) = p.nodes.last() {
            if !last.name.is_empty() && last.name != last.id {
                let _ = writeln!(s, "           ({}: {})", last.id, last.name);
            }
        }
    }
    more(s, paths.len(), "paths");
}

fn edges(s: &mut String, edges: &[EdgeUse]) {
    let _ = writeln!(s, "\nMost used attack edges (share of samples):");
    if edges.is_empty() {
        let _ = writeln!(s, "  none: the attacker took no step");
        return;
    }
    for e in edges.iter().take(TOP) {
        let _ = writeln!(
            s,
            "  {:>7}  {} -> {}  {} ({})  [{}]",
            pct(e.frequency),
            e.from,
            e.to,
            e.technique,
            e.rule,
            e.to_name
        );
    }
    more(s, edges.len(), "edges");
}

fn detectors(s: &mut String, d: &[FirstDetector]) {
    let _ = writeln!(s, "\nFirst to detect (share of samples):");
    if d.is_empty() {
        let _ = writeln!(s, "  nothing detected the attacker");
        return;
    }
    for f in d.iter().take(TOP) {
        let what = match (f.kind.as_str(), &f.level) {
            ("rule", Some(level)) => format!("rule {} ({level}, {})", f.title, f.key),
            ("rule", None) => format!("rule {} ({})", f.title, f.key),
            (_, _) => f.title.clone(),
        };
        let _ = writeln!(s, "  {:>7}  {what}", pct(f.frequency));
    }
    more(s, d.len(), "detectors");
}

fn uncovered(s: &mut String, r: &ExerciseReport) {
    let _ = writeln!(
        s,
        "\nTechniques on the attack paths that no loaded rule detects:"
    );
    if r.uncovered_techniques.is_empty() {
        let _ = writeln!(s, "  none");
        return;
    }
    for u in r.uncovered_techniques.iter().take(TOP) {
        let _ = writeln!(
            s,
            "  {:<11} on the attack in {} of samples, undetected on {} of its {} edge(s){}",
            u.technique,
            pct(u.attack_share),
            u.uncovered_edges,
            u.edges,
            u.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        if let Some(e) = u.examples.first() {
            let _ = writeln!(s, "              e.g. {e}");
        }
    }
    more(s, r.uncovered_techniques.len(), "techniques");
}

fn more(s: &mut String, total: usize, what: &str) {
    if total > TOP {
        let _ = writeln!(
            s,
            "  ... {} more {what} (--format json lists all)",
            total - TOP
        );
    }
}

/// A probability as a percentage with one decimal ("42.1 %"); below 0.1 % but not zero,
/// "<0.1 %" so that a rare event does not read as impossible.
fn pct(p: f64) -> String {
    if p > 0.0 && p < 0.0005 {
        "<0.1 %".to_string()
    } else {
        format!("{:.1} %", p * 100.0)
    }
}

/// A 95 % interval of a probability, in percent: "[41.1, 43.1]".
fn ci(c: [f64; 2]) -> String {
    format!("[{:.1}, {:.1}]", c[0] * 100.0, c[1] * 100.0)
}

/// Hours with one decimal; whole thousands without (a horizon of 720 h).
fn num(h: f64) -> String {
    if h >= 1000.0 || h == h.trunc() {
        format!("{h:.0}")
    } else {
        format!("{h:.1}")
    }
}

#[cfg(test)]
mod tests;
