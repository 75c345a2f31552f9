//! `vigie demo` as a story for a person: what happened, what it puts at risk, what to cut
//! and what that costs next to isolating everything, when service is back, and what the
//! regulator must be told by when. Written from the same wire document `vigie demo
//! --format json` prints, so the words and the JSON cannot disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use vigie_response::report::human;
use vigie_wire::v1::notification::Notification;
use vigie_wire::v1::respond::{Incident, RespondReport};
use vigie_wire::v1::response::{ContainReport, RestoreReport};

/// Lines shown per list before "... N more".
const MAX_LINES: usize = 8;

/// Asset id -> display name (the model's `name`, when it has one).
pub type Names = BTreeMap<String, String>;

/// The whole story: the run in one paragraph, each incident, the names nothing resolved.
pub fn story(r: &RespondReport, names: &Names) -> String {
    let mut s = String::new();
    let sm = &r.summary;
    let _ = writeln!(
        s,
        "{} events hunted with {} rules: {} detections, grouped on the operator model into {} incident(s).",
        sm.events,
        sm.rule_counts.detection + sm.rule_counts.correlation,
        sm.detections,
        r.incidents.len()
    );
    for (n, i) in r.incidents.iter().enumerate() {
        let _ = writeln!(s);
        incident(&mut s, n + 1, i, r, names);
    }
    if !r.unresolved.is_empty() {
        let _ = writeln!(s);
        let shown: Vec<String> = r
            .unresolved
            .iter()
            .take(MAX_LINES)
            .map(|u| format!("{} {} (x{})", u.kind, u.value, u.count))
            .collect();
        let _ = writeln!(
            s,
            "Names in the logs that no asset of the model holds ({}): {}{}",
            r.unresolved.len(),
            shown.join(", "),
            if r.unresolved.len() > MAX_LINES {
                ", ..."
            } else {
                ""
            }
        );
    }
    s
}

/// `2025-07-24T21:12:05Z` as `2025-07-24 21:12 UTC` (minutes are what a person reads;
/// the JSON keeps the seconds). Anything else is shown as it is.
fn when(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 && t.as_bytes()[10] == b'T' => {
            format!("{} {} UTC", &t[..10], &t[11..16])
        }
        Some(t) => t.to_string(),
        None => "?".to_string(),
    }
}

fn named(id: &str, names: &Names) -> String {
    with_name(id, names.get(id).map_or("", String::as_str))
}

fn with_name(id: &str, name: &str) -> String {
    if name.is_empty() || name == id {
        id.to_string()
    } else {
        format!("{id} ({name})")
    }
}

fn incident(s: &mut String, n: usize, i: &Incident, r: &RespondReport, names: &Names) {
    let _ = writeln!(
        s,
        "{n}. Incident {}: severity {}, risk {:.0}/100",
        i.id, i.severity, i.risk
    );
    let _ = writeln!(
        s,
        "   From {} to {}, {} detection(s) on {} asset(s).",
        when(i.first_seen.as_deref()),
        when(i.last_seen.as_deref()),
        i.detections.len(),
        i.assets.len()
    );
    if !i.timeline.is_empty() {
        let _ = writeln!(
            s,
            "   {} (ATT&CK techniques, by first sight):",
            if i.compromised.is_empty() {
                "What was seen"
            } else {
                "What the intruder did"
            }
        );
        // In time order: a person reads a story forwards (the JSON keeps kill-chain order).
        let mut steps: Vec<_> = i.timeline.iter().collect();
        steps.sort_by(|a, b| a.first_seen.cmp(&b.first_seen));
        for t in steps {
            let _ = writeln!(
                s,
                "     {}  {:<10} {} [{}]",
                when(t.first_seen.as_deref()),
                t.technique,
                t.name.as_deref().unwrap_or(""),
                t.tactics.join(", ")
            );
        }
    }
    if i.compromised.is_empty() {
        let _ = writeln!(
            s,
            "   Nothing is judged compromised (no execution or credential theft on a host):"
        );
        let _ = writeln!(s, "   no containment to decide; keep watching {}.", {
            let a: Vec<String> = i.assets.iter().map(|a| named(a, names)).collect();
            if a.is_empty() {
                "its entities".to_string()
            } else {
                a.join(", ")
            }
        });
        unrelated(s, i, r);
        return;
    }
    let _ = writeln!(s, "   Compromised ({}):", i.compromised.len());
    for c in &i.evidence {
        let mut reasons: Vec<&str> = c.evidence.iter().map(|e| e.reason.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        let _ = writeln!(s, "     {}: {}", named(&c.asset, names), reasons.join(", "));
    }
    if let Some(a) = &i.assess {
        let _ = writeln!(
            s,
            "   What it reaches: {} assets; if nothing is done {} customers are at risk ({} customer-hours).",
            a.reachable_count,
            human(a.customers_at_risk as f64),
            human(a.customer_hours_at_risk)
        );
        let jewels: Vec<_> = a
            .crown_jewels
            .iter()
            .filter(|j| j.reachable && !j.compromised)
            .collect();
        if !jewels.is_empty() {
            let _ = writeln!(s, "   Crown jewels within its reach, soonest first:");
            for j in jewels.iter().take(MAX_LINES) {
                let _ = writeln!(
                    s,
                    "     {:>6}  {}",
                    j.hours.map(|h| format!("{h:.1} h")).unwrap_or_default(),
                    named(&j.id, names)
                );
            }
            if jewels.len() > MAX_LINES {
                let _ = writeln!(s, "     ... {} more", jewels.len() - MAX_LINES);
            }
        }
    }
    for d in &i.decision_skipped {
        let _ = writeln!(s, "   ({} not run: {})", d.engine, d.reason);
    }
    if let Some(c) = &i.contain {
        contain(s, c, names);
    }
    if let Some(rs) = &i.restore {
        restore(s, rs);
    }
    if let Some(nt) = &i.notification {
        notification(s, nt);
    }
    unrelated(s, i, r);
}

fn contain(s: &mut String, c: &ContainReport, names: &Names) {
    let _ = writeln!(
        s,
        "   Decision, for a containment held {:.0} h:",
        c.containment_hours
    );
    let iso = &c.isolate_everything;
    match &c.plan {
        Some(p) => {
            let _ = writeln!(
                s,
                "     cheapest plan ({}): {} customer-hours, {} action(s):",
                if c.optimality.optimal {
                    "proven optimal"
                } else {
                    "best found, not proven optimal"
                },
                human(p.customer_hours),
                p.actions.len()
            );
            for a in &p.actions {
                let target = match names.get(&a.target) {
                    Some(_) => named(&a.target, names),
                    None => with_name(&a.target, &a.name),
                };
                let _ = writeln!(s, "       {:<17} {target}", a.action);
            }
            let _ = writeln!(
                s,
                "     isolate everything: {} customer-hours, {} action(s).",
                human(iso.customer_hours),
                iso.actions.len()
            );
            if p.customer_hours > 0.0 && iso.customer_hours > p.customer_hours {
                let _ = writeln!(
                    s,
                    "     The plan cuts every path to the protected assets for {:.1} times less than isolating everything.",
                    iso.customer_hours / p.customer_hours
                );
            }
        }
        None => {
            let _ = writeln!(
                s,
                "     no complete plan within the search bounds; isolating everything costs {} customer-hours.",
                human(iso.customer_hours)
            );
        }
    }
}

fn restore(s: &mut String, r: &RestoreReport) {
    let _ = writeln!(
        s,
        "   Restore (the plan undone, compromised assets rebuilt): everything back after {:.1} h, {} customer-hours.",
        r.total_hours,
        human(r.customer_hours)
    );
    let mut services: Vec<_> = r.services.iter().filter(|x| x.up_hours > 0.0).collect();
    services.sort_by(|a, b| a.up_hours.total_cmp(&b.up_hours).then(a.id.cmp(&b.id)));
    for x in services.iter().take(MAX_LINES) {
        let _ = writeln!(
            s,
            "     {:>6.1} h  {}",
            x.up_hours,
            with_name(&x.id, &x.name)
        );
    }
    if services.len() > MAX_LINES {
        let _ = writeln!(s, "     ... {} more", services.len() - MAX_LINES);
    }
}

fn notification(s: &mut String, n: &Notification) {
    let _ = writeln!(
        s,
        "   Regulator (NIS2 Art. 23), from awareness at {} ({}):",
        when(n.aware_at.as_deref()),
        n.aware_at_basis.replace('_', " ")
    );
    for st in &n.stages {
        let due = match st.deadline.as_deref() {
            Some(d) => format!("by {}", when(Some(d))),
            None => st.due.clone(),
        };
        let _ = writeln!(s, "     {:<22} {due}", st.stage.replace('_', " "));
    }
    let mut flags = Vec::new();
    if n.cross_border.value {
        flags.push(format!(
            "cross-border ({})",
            n.cross_border.countries.join(", ")
        ));
    }
    if n.gdpr.value {
        flags.push(format!(
            "GDPR Art. 33 notification{}",
            n.gdpr
                .deadline
                .as_deref()
                .map(|d| format!(" by {}", when(Some(d))))
                .unwrap_or_default()
        ));
    }
    if !n.thresholds.crossed.is_empty() {
        flags.push(format!(
            "{} of {} impact thresholds crossed",
            n.thresholds.crossed.len(),
            n.thresholds.rows
        ));
    }
    for f in flags {
        let _ = writeln!(s, "     {f}");
    }
}

/// Says when an incident shares nothing with the others (the reader's first question
/// about a second incident in the same hours).
fn unrelated(s: &mut String, i: &Incident, r: &RespondReport) {
    let others: Vec<&Incident> = r.incidents.iter().filter(|o| o.id != i.id).collect();
    if others.is_empty() {
        return;
    }
    let shares = |o: &Incident| {
        i.assets.iter().any(|a| o.assets.contains(a))
            || i.accounts.iter().any(|a| o.accounts.contains(a))
            || i.ips.iter().any(|a| o.ips.contains(a))
    };
    if !others.iter().any(|o| shares(o)) {
        let _ = writeln!(
            s,
            "   It shares no asset, account or address with the other incident(s)."
        );
    }
}
