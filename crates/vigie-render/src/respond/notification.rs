//! The regulator notification draft as Markdown (`vigie respond --notification FILE`: a
//! draft a CSIRT liaison completes and sends) and as a compact text block (respond's text
//! output). Both are written from the wire type, so they say what the JSON says.

use std::fmt::Write as _;

use vigie_wire::v1::notification::{Item, Notification, Stage};

/// `2026-07-14T09:12:00Z` → `Tue 14 Jul 2026, 09:12 UTC`; anything unparsable as is.
pub fn human_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%a %-d %b %Y, %H:%M UTC")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

fn when(t: &Option<String>) -> String {
    match t {
        Some(t) => format!("{t} ({})", human_time(t)),
        None => "unknown (time of awareness unknown)".to_string(),
    }
}

/// Escape what Markdown would read as markup in a value vigie inserts.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '|' | '<' | '>' | '[' | ']' | '#'
        ) {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// A figure: integers without decimals, others to two places at most.
fn num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn basis_words(b: &str) -> &'static str {
    match b {
        "given" => "given by the operator",
        "first_high_or_critical_detection" => "time of the first high or critical detection",
        "first_detection" => "time of the first detection (none is high or critical)",
        _ => "unknown: no detection has a time (give it with --aware-at)",
    }
}

fn stage_title(s: &str) -> &'static str {
    match s {
        "early_warning" => "Early warning",
        "incident_notification" => "Incident notification",
        "final_report" => "Final report",
        _ => "Stage",
    }
}

/// The Markdown draft.
pub fn markdown(n: &Notification) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Incident notification draft: {}\n", md(&n.incident));
    let _ = writeln!(
        s,
        "> Draft prepared by vigie from its detections and operator model. Every figure is an \
         estimate to check; items marked *to complete* need a person. Not legal advice.\n"
    );
    if !n.operator.is_empty() {
        let _ = writeln!(s, "- **Operator:** {}", md(&n.operator));
    }
    let _ = writeln!(s, "- **Incident reference:** {}", md(&n.incident));
    let _ = writeln!(
        s,
        "- **Time of awareness:** {} ({})\n",
        when(&n.aware_at),
        basis_words(&n.aware_at_basis)
    );
    deadlines_md(&mut s, n);
    flags_md(&mut s, n);
    figures_md(&mut s, n);
    thresholds_md(&mut s, n);
    for (i, st) in n.stages.iter().enumerate() {
        stage_md(&mut s, i + 1, st);
    }
    s
}

fn deadlines_md(s: &mut String, n: &Notification) {
    let _ = writeln!(s, "## Deadlines (UTC)\n");
    let _ = writeln!(s, "| Stage | Legal basis | Due | Deadline |");
    let _ = writeln!(s, "|---|---|---|---|");
    for st in &n.stages {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            stage_title(&st.stage),
            md(&st.article),
            md(&st.due),
            md(&when(&st.deadline))
        );
    }
    if n.gdpr.value {
        let _ = writeln!(
            s,
            "| Personal data breach, to the supervisory authority | GDPR Art. 33(1) | without undue delay, within 72 hours of becoming aware | {} |",
            md(&when(&n.gdpr.deadline))
        );
    }
    let _ = writeln!(
        s,
        "\nAn intermediate report may be requested by the CSIRT or competent authority \
         (Art. 23(4)(c)); if the incident is still ongoing at the final report's deadline, a \
         progress report is due then and the final report within one month of handling it \
         (Art. 23(4)(e)).\n"
    );
}

fn flags_md(s: &mut String, n: &Notification) {
    let _ = writeln!(s, "## Flags\n");
    let m = &n.suspected_malicious;
    let _ = writeln!(
        s,
        "- **Suspected unlawful or malicious act:** {}{}",
        yes_no(m.value),
        if m.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", md(&m.reasons.join("; ")))
        }
    );
    let c = &n.cross_border;
    let _ = writeln!(
        s,
        "- **Cross-border impact:** {} (countries of the affected segments: {}){}",
        yes_no(c.value),
        if c.countries.is_empty() {
            "none given".to_string()
        } else {
            md(&c.countries.join(", "))
        },
        if c.segments_without_country.is_empty() {
            String::new()
        } else {
            format!(
                "; no country given for {}",
                md(&c.segments_without_country.join(", "))
            )
        }
    );
    let g = &n.gdpr;
    let _ = writeln!(
        s,
        "- **GDPR Art. 33 (personal data breach):** {}",
        if g.value {
            "yes: assets holding personal data are touched"
        } else {
            "no asset holding personal data is compromised, named or reachable"
        }
    );
    for a in &g.assets {
        let how = match (a.reason.as_str(), a.hours) {
            ("compromised", _) => "compromised".to_string(),
            ("in_detections", _) => "named by the incident's detections".to_string(),
            (_, Some(h)) => format!("reachable by the attacker in {} h", num(h)),
            (r, None) => r.to_string(),
        };
        let _ = writeln!(s, "  - {} ({}): {how}", md(&a.id), md(&a.name));
    }
    if g.reach_truncated {
        let _ = writeln!(
            s,
            "  - the reach list was truncated: personal-data assets beyond it are not listed"
        );
    }
    let _ = writeln!(s);
}

fn figures_md(s: &mut String, n: &Notification) {
    let f = &n.figures;
    let _ = writeln!(s, "## Impact\n");
    let source = match f.source.as_str() {
        "restore" => "the restore timeline (containment actions and rebuild)",
        "containment_plan" => "the containment plan (no restore timeline)",
        _ => "nothing: no decision was computed (no asset judged compromised)",
    };
    let _ = writeln!(s, "Figures from {source}.\n");
    let share = f
        .users_share
        .map(|x| format!(" ({} % of {} customers)", num(x * 100.0), f.customers_total))
        .unwrap_or_default();
    let _ = writeln!(s, "- **Users affected:** {}{share}", f.users_affected);
    let _ = writeln!(
        s,
        "- **Duration:** {} h (longest outage)",
        num(f.duration_hours)
    );
    let _ = writeln!(
        s,
        "- **User-hours lost:** {}{} (customers × share of service lost × hours, no SLA weight)",
        num(f.user_hours),
        if f.user_hours_estimated {
            ", estimated where an SLA weight is 0"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "- **Customer-hours (SLA-weighted):** {}\n",
        num(f.customer_hours)
    );
    if !f.services.is_empty() {
        let _ = writeln!(s, "| Service | Name | State | Back after (h) |");
        let _ = writeln!(s, "|---|---|---|---|");
        for x in &f.services {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md(&x.id),
                md(&x.name),
                md(&x.state),
                num(x.hours)
            );
        }
        let _ = writeln!(s);
    }
    if !f.segments.is_empty() {
        let _ = writeln!(
            s,
            "| Segment | Name | Customers affected | Hours | User-hours | Customer-hours | Countries |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for x in &f.segments {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                md(&x.id),
                md(&x.name),
                x.customers_affected,
                num(x.hours),
                num(x.user_hours),
                num(x.customer_hours),
                md(&x.countries.join(", "))
            );
        }
        let _ = writeln!(s);
    }
}

fn thresholds_md(s: &mut String, n: &Notification) {
    let t = &n.thresholds;
    let _ = writeln!(s, "## Reporting thresholds\n");
    let _ = writeln!(s, "Table: {}.", md(&t.source));
    let _ = writeln!(
        s,
        "User base: {} ({}).\n",
        t.user_base,
        if t.user_base_basis == "configured" {
            "set in the table"
        } else {
            "the operator's customers in the model"
        }
    );
    if t.crossed.is_empty() {
        let _ = writeln!(s, "None of the {} thresholds is crossed.\n", t.rows);
        return;
    }
    let _ = writeln!(s, "Crossed ({} of {}):\n", t.crossed.len(), t.rows);
    for c in &t.crossed {
        let mut why = format!("{} users", c.users);
        if let Some(h) = c.hours {
            why.push_str(&format!(" out for {} h or more", num(h)));
        }
        if let Some(x) = c.share {
            why.push_str(&format!(", {} % of the user base", num(x * 100.0)));
        }
        if let Some(uh) = c.user_hours {
            why.push_str(&format!("; {} user-hours", num(uh)));
        }
        let _ = writeln!(s, "- **{}**: {} ({why})", md(&c.id), md(&c.label));
    }
    let _ = writeln!(s);
}

fn stage_md(s: &mut String, i: usize, st: &Stage) {
    let _ = writeln!(
        s,
        "## {i}. {} ({}), due {}\n",
        stage_title(&st.stage),
        md(&st.article),
        md(&when(&st.deadline))
    );
    for it in &st.items {
        item_md(s, it);
    }
    let _ = writeln!(s);
}

fn item_md(s: &mut String, it: &Item) {
    match &it.value {
        Some(v) => {
            let _ = writeln!(s, "- [x] **{}:** {}", md(&it.label), md(v));
        }
        None => {
            let hint = it
                .hint
                .as_ref()
                .map(|h| format!(" (vigie: {})", md(h)))
                .unwrap_or_default();
            let _ = writeln!(s, "- [ ] **{}:** *to complete*{hint}", md(&it.label));
        }
    }
}

/// The compact block of respond's text output.
pub fn text(n: &Notification) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Notification (NIS2 Art. 23): aware {} ({})",
        n.aware_at.as_deref().unwrap_or("unknown"),
        basis_words(&n.aware_at_basis)
    );
    for st in &n.stages {
        let _ = writeln!(
            s,
            "  {:<22} by {}",
            stage_title(&st.stage),
            st.deadline.as_deref().unwrap_or("unknown")
        );
    }
    if n.gdpr.value {
        let _ = writeln!(
            s,
            "  {:<22} by {} ({})",
            "GDPR Art. 33",
            n.gdpr.deadline.as_deref().unwrap_or("unknown"),
            n.gdpr
                .assets
                .iter()
                .map(|a| format!("{} {}", a.id, a.reason.replace('_', " ")))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let f = &n.figures;
    let share = f
        .users_share
        .map(|x| format!(" ({} % of {})", num(x * 100.0), f.customers_total))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "  impact: {} service(s), {} users{share}, {} h, {} user-hours",
        f.services.len(),
        f.users_affected,
        num(f.duration_hours),
        num(f.user_hours)
    );
    let crossed: Vec<&str> = n.thresholds.crossed.iter().map(|c| c.id.as_str()).collect();
    let _ = writeln!(
        s,
        "  thresholds crossed: {}",
        if crossed.is_empty() {
            format!("none of {}", n.thresholds.rows)
        } else {
            crossed.join(", ")
        }
    );
    let c = &n.cross_border;
    let _ = writeln!(
        s,
        "  suspected malicious: {}; cross-border: {}{}; GDPR Art. 33: {}",
        yes_no(n.suspected_malicious.value),
        yes_no(c.value),
        if c.countries.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.countries.join(", "))
        },
        yes_no(n.gdpr.value)
    );
    let open = n
        .stages
        .iter()
        .flat_map(|st| &st.items)
        .filter(|i| i.to_complete)
        .count();
    let _ = writeln!(
        s,
        "  to complete: {open} item(s) (--notification FILE writes the draft)"
    );
    s
}
