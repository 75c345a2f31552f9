//! `vigie respond` as text: per incident its id, severity and risk, time span, the
//! compromised assets with their evidence, what they reach, the containment plan next to
//! isolating everything (customer-hours), the restore timeline and the entities no
//! asset holds; then the summary (events, detections, incidents, unresolved entities by
//! kind, skipped input).

use std::fmt::Write as _;

use vigie_response::report::human;
use vigie_wire::v1::respond::{Incident, RespondReport, RespondSummary, Unresolved};
use vigie_wire::v1::response::{ContainReport, Plan, RestoreReport};

/// Lines shown per list before "... N more".
const MAX_LINES: usize = 10;

/// The whole report: incidents, then the summary.
pub fn report(r: &RespondReport) -> String {
    let mut s = String::new();
    if r.incidents.is_empty() {
        let _ = writeln!(s, "No incident.");
    }
    for (n, i) in r.incidents.iter().enumerate() {
        if n > 0 {
            let _ = writeln!(s);
        }
        incident(&mut s, i);
    }
    let _ = writeln!(s);
    summary(&mut s, &r.summary, &r.unresolved);
    s
}

/// One incident.
pub fn incident(s: &mut String, i: &Incident) {
    let _ = writeln!(
        s,
        "== Incident {}  severity {}  risk {:.0}/100",
        i.id, i.severity, i.risk
    );
    let _ = writeln!(
        s,
        "   {} -> {}  ({} detections)",
        i.first_seen.as_deref().unwrap_or("?"),
        i.last_seen.as_deref().unwrap_or("?"),
        i.detections.len()
    );
    if !i.timeline.is_empty() {
        let _ = writeln!(s, "Kill chain:");
        for t in i.timeline.iter().take(MAX_LINES) {
            let _ = writeln!(
                s,
                "  {}  {}{}  [{}]",
                t.first_seen.as_deref().unwrap_or("?"),
                t.technique,
                t.name
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default(),
                t.tactics.join(", ")
            );
        }
        more(s, i.timeline.len());
    }
    if !i.assets.is_empty() {
        let _ = writeln!(s, "Assets involved: {}", list(&i.assets));
    }
    compromised(s, i);
    if let Some(a) = &i.assess {
        let _ = writeln!(
            s,
            "Reaches {} assets; at risk: {} customers, {} customer-hours",
            a.reachable_count,
            human(a.customers_at_risk as f64),
            human(a.customer_hours_at_risk)
        );
        for j in a
            .crown_jewels
            .iter()
            .filter(|j| j.reachable)
            .take(MAX_LINES)
        {
            let when = match (j.compromised, j.hours) {
                (true, _) => "already compromised".to_string(),
                (false, Some(h)) => format!("in {h:.1} h"),
                (false, None) => "reachable".to_string(),
            };
            let _ = writeln!(s, "  crown jewel {} ({}): {when}", j.id, j.name);
        }
    }
    if let Some(c) = &i.contain {
        contain(s, c);
    }
    if let Some(r) = &i.restore {
        restore(s, r);
    }
    for k in &i.decision_skipped {
        let _ = writeln!(s, "No {}: {}", k.engine, k.reason);
    }
    if !i.unresolved.is_empty() {
        let _ = writeln!(s, "Unresolved entities (no asset holds them):");
        unresolved(s, &i.unresolved);
    }
    if !i.indicators.is_empty() {
        let _ = writeln!(s, "Indicators (processes, hashes, files):");
        unresolved(s, &i.indicators);
    }
    // The deadlines matter once something is compromised or the severity is high; for
    // the rest, one line (the draft is in the JSON and --notification).
    match &i.notification {
        Some(n) if i.assess.is_some() || matches!(i.severity.as_str(), "high" | "critical") => {
            s.push_str(&super::notification::text(n))
        }
        Some(n) => {
            let first = n.stages.first().and_then(|st| st.deadline.as_deref());
            let _ = writeln!(
                s,
                "Notification draft: first deadline {} (--notification FILE writes it)",
                first.unwrap_or("unknown")
            );
        }
        None => {}
    }
}

fn compromised(s: &mut String, i: &Incident) {
    if i.evidence.is_empty() {
        let _ = writeln!(
            s,
            "Compromised: none judged so (no decision: nothing to decide on)"
        );
        return;
    }
    let _ = writeln!(s, "Compromised:");
    for c in &i.evidence {
        let _ = writeln!(s, "  {}", c.asset);
        for e in c.evidence.iter().take(MAX_LINES) {
            let d = i.detections.get(e.detection);
            let _ = writeln!(
                s,
                "    {}: {} ({})",
                e.reason,
                d.map_or(e.rule_id.as_str(), |d| d.rule_title.as_str()),
                d.and_then(|d| d.timestamp.as_deref()).unwrap_or("?")
            );
        }
        more(s, c.evidence.len());
    }
}

fn plan_line(p: &Plan) -> String {
    format!(
        "{} customer-hours, {} customers affected, {} actions",
        human(p.customer_hours),
        human(p.customers_affected as f64),
        p.actions.len()
    )
}

fn contain(s: &mut String, c: &ContainReport) {
    match &c.plan {
        Some(p) => {
            let proof = if c.optimality.optimal {
                "proven optimal".to_string()
            } else {
                format!(
                    "not proven optimal, lower bound {}",
                    c.optimality.lower_bound.map_or("?".into(), human)
                )
            };
            let _ = writeln!(s, "Containment plan ({proof}): {}", plan_line(p));
            for a in p.actions.iter().take(MAX_LINES) {
                let _ = writeln!(s, "  {} {} ({})", a.action, a.target, a.name);
            }
            more(s, p.actions.len());
        }
        None => {
            let _ = writeln!(s, "Containment plan: none complete within the limits");
        }
    }
    let _ = writeln!(
        s,
        "Isolate everything instead: {}",
        plan_line(&c.isolate_everything)
    );
    if let Some(p) = &c.plan {
        let saved = c.isolate_everything.customer_hours - p.customer_hours;
        if saved > 0.0 {
            let _ = writeln!(s, "  the plan saves {} customer-hours", human(saved));
        }
    }
}

fn restore(s: &mut String, r: &RestoreReport) {
    let _ = writeln!(
        s,
        "Restore ({} down): everything back after {:.1} h, outage {} customer-hours",
        r.down.len(),
        r.total_hours,
        human(r.customer_hours)
    );
    let mut services: Vec<_> = r.services.iter().collect();
    services.sort_by(|a, b| a.up_hours.total_cmp(&b.up_hours).then(a.id.cmp(&b.id)));
    for sv in services.iter().take(MAX_LINES) {
        let _ = writeln!(s, "  {:>7.1} h  service {} back", sv.up_hours, sv.id);
    }
    more(s, services.len());
    for g in r.segments.iter().take(MAX_LINES) {
        let _ = writeln!(
            s,
            "  {:>7.1} h  segment {} back ({} customer-hours)",
            g.back_after_hours,
            g.id,
            human(g.customer_hours)
        );
    }
    more(s, r.segments.len());
}

fn unresolved(s: &mut String, u: &[Unresolved]) {
    for e in u.iter().take(MAX_LINES) {
        let _ = writeln!(s, "  {:<8} {}  x{}", e.kind, e.value, e.count);
    }
    more(s, u.len());
}

fn more(s: &mut String, n: usize) {
    if n > MAX_LINES {
        let _ = writeln!(s, "  ... {} more (--format json lists all)", n - MAX_LINES);
    }
}

fn list(v: &[String]) -> String {
    if v.len() <= MAX_LINES {
        v.join(", ")
    } else {
        format!(
            "{}, ... {} more",
            v[..MAX_LINES].join(", "),
            v.len() - MAX_LINES
        )
    }
}

fn counts(m: &std::collections::BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = m
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The closing summary.
pub fn summary(s: &mut String, m: &RespondSummary, all_unresolved: &[Unresolved]) {
    let _ = writeln!(
        s,
        "Summary: {} events, {} detections, {} incidents ({}), {} compromised assets",
        m.events,
        m.detections,
        m.incidents,
        counts(&m.incidents_by_severity),
        m.compromised_assets
    );
    let _ = writeln!(
        s,
        "Unresolved entities: {} ({})",
        m.unresolved_entities,
        counts(&m.unresolved_by_kind)
    );
    unresolved(s, all_unresolved);
    let skipped_files: u64 = m.files.skipped.values().sum();
    let skipped_records: u64 = m.records_skipped.values().sum();
    let _ = writeln!(
        s,
        "Input: {} files read, {} skipped ({}); {} records skipped ({}); {} events outside the window",
        m.files.read,
        skipped_files,
        counts(&m.files.skipped),
        skipped_records,
        counts(&m.records_skipped),
        m.events_outside_window
    );
    let refused: u64 = m.rule_counts.refused.values().sum();
    if refused > 0 {
        let _ = writeln!(
            s,
            "Rules refused: {refused} ({}; details: vigie rules check)",
            counts(&m.rule_counts.refused)
        );
    }
}
