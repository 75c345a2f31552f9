//! The regulator notification section of an incident, from the typed draft
//! ([`Notification`], `docs/notification.md`): the deadline cards (the three NIS2 stages,
//! and GDPR Art. 33 when flagged), the time of awareness and its basis, the impact
//! figures, the reporting thresholds crossed, the three flags, then per stage its content
//! items, each filled in by vigie or marked *to complete* with vigie's hint.
//!
//! Every string of the draft is untrusted (it quotes asset names, rule titles, a
//! thresholds file): all of it goes through [`esc`]. Hooks: `[data-notification]` on the
//! block; one `[data-deadline-kind]` card per deadline (`early_warning`,
//! `incident_notification`, `final_report`, `gdpr`) with `data-deadline` (the JSON's RFC
//! 3339 time, absent when unknown); `[data-stage]` per stage and `[data-item]` per item
//! (`data-to-complete`); `[data-threshold]` per row crossed; `[data-flag]` per flag
//! (`data-value`).

use std::fmt::Write as _;

use vigie_wire::v1::notification::{Figures, Item, Notification, Stage, ThresholdCheck};

use super::esc::{clip, count, esc, hours, num};
use crate::respond::notification::human_time;

/// Longest item value or hint shown (the JSON and the Markdown draft have all of it).
const MAX_TEXT: usize = 900;
/// Most services, thresholds and GDPR assets listed.
const MAX_ROWS: usize = 12;

/// The card title of a stage: a known kind in words, else the kind as given.
fn stage_title(kind: &str) -> String {
    match kind {
        "early_warning" => "NIS2 early warning".to_string(),
        "incident_notification" => "NIS2 incident notification".to_string(),
        "final_report" => "NIS2 final report".to_string(),
        other => format!("NIS2 stage {other}"),
    }
}

fn basis_words(b: &str) -> String {
    match b {
        "given" => "as given by the operator (--aware-at)".to_string(),
        "first_high_or_critical_detection" => {
            "the time of the first high or critical detection".to_string()
        }
        "first_detection" => {
            "the time of the first detection (none is high or critical)".to_string()
        }
        "unknown" => "unknown: no detection has a time; give it with --aware-at".to_string(),
        other => other.replace('_', " "),
    }
}

/// A deadline as `Fri 25 Jul 2025, 21:12 UTC` in a `<time>` element, or *unknown*.
fn when(t: &Option<String>) -> String {
    match t {
        Some(t) => format!(
            "<time datetime=\"{}\">{}</time>",
            esc(t),
            esc(&human_time(t))
        ),
        None => "<span class=\"unknown\">unknown</span>".to_string(),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "<span class=\"yn yes\">yes</span>"
    } else {
        "<span class=\"yn no\">no</span>"
    }
}

/// A share as a percentage: `0.0903` → `9.03 %`.
fn pct(x: f64) -> String {
    format!("{} %", num(x * 100.0))
}

/// The whole notification block of an incident.
pub fn section(s: &mut String, n: &Notification) {
    let _ = write!(
        s,
        "<div class=\"notif\" data-notification=\"{}\">",
        esc(&n.incident)
    );
    let _ = write!(
        s,
        "<p class=\"aware\">Deadlines run from the time of awareness, <b>{}</b>: {}.{}</p>",
        when(&n.aware_at),
        esc(&basis_words(&n.aware_at_basis)),
        if n.operator.is_empty() {
            String::new()
        } else {
            format!(" Operator: <b>{}</b>.", esc(&n.operator))
        }
    );
    deadline_cards(s, n);
    s.push_str("<div class=\"ngrid\">");
    figures(s, &n.figures);
    flags(s, n);
    s.push_str("</div>");
    thresholds(s, &n.thresholds);
    let open = n
        .stages
        .iter()
        .flat_map(|st| &st.items)
        .filter(|i| i.to_complete)
        .count();
    let _ = write!(
        s,
        "<p class=\"muted\">Content of each stage: <span class=\"filled-mark\">✓</span> filled in by vigie from the detections and the model (estimates to check), <span class=\"todo\">to complete</span> by a person ({} item{} left). A draft, not legal advice; whether the incident is significant stays a person's call.</p><div class=\"stages\">",
        count(open as u64),
        if open == 1 { "" } else { "s" }
    );
    for (k, st) in n.stages.iter().enumerate() {
        stage(s, k + 1, st);
    }
    s.push_str("</div></div>");
}

fn card(
    s: &mut String,
    kind: &str,
    class: &str,
    title: &str,
    deadline: &Option<String>,
    sub: &str,
) {
    let attr = deadline
        .as_ref()
        .map(|d| format!(" data-deadline=\"{}\"", esc(d)))
        .unwrap_or_default();
    let _ = write!(
        s,
        "<li class=\"{class}\" data-deadline-kind=\"{}\"{attr}><span class=\"dl\">{}</span><span class=\"dd\">{}</span><span class=\"ds\">{}</span></li>",
        esc(kind),
        esc(title),
        when(deadline),
        sub
    );
}

/// One card per NIS2 stage, then GDPR Art. 33 when flagged.
fn deadline_cards(s: &mut String, n: &Notification) {
    s.push_str("<ol class=\"deadlines\">");
    for st in &n.stages {
        let sub = format!("{} · {}", esc(&st.article), esc(&st.due));
        card(
            s,
            &st.stage,
            "nis2",
            &stage_title(&st.stage),
            &st.deadline,
            &sub,
        );
    }
    if n.gdpr.value {
        card(
            s,
            "gdpr",
            "gdpr",
            "GDPR Art. 33 · supervisory authority",
            &n.gdpr.deadline,
            "personal data breach · without undue delay, within 72 hours of becoming aware",
        );
    }
    s.push_str("</ol>");
}

fn source_words(src: &str) -> String {
    match src {
        "restore" => "from the restore timeline (containment actions and rebuild)".to_string(),
        "containment_plan" => "from the containment plan (no restore timeline)".to_string(),
        "none" => "none: no decision was computed (no asset judged compromised)".to_string(),
        other => other.replace('_', " "),
    }
}

/// The impact figures as a definition list, the services under it.
fn figures(s: &mut String, f: &Figures) {
    s.push_str("<div class=\"nbox\" data-figures><h4>Impact</h4>");
    if f.source == "none" {
        s.push_str("<p class=\"empty\">No decision was computed (no asset judged compromised): the impact is <span class=\"todo\">to complete</span>.</p></div>");
        return;
    }
    let share = f
        .users_share
        .map(|x| {
            format!(
                " <span class=\"muted\">({} of {} customers)</span>",
                pct(x),
                count(f.customers_total)
            )
        })
        .unwrap_or_default();
    let _ = write!(
        s,
        "<dl class=\"nfacts\"><dt>Services affected</dt><dd><b>{}</b></dd><dt>Users affected</dt><dd><b data-users-affected=\"{}\">{}</b>{share}</dd><dt>Duration</dt><dd><b>{}</b> <span class=\"muted\">(longest outage)</span></dd><dt>User-hours lost</dt><dd><b>{}</b> <span class=\"muted\">{}</span></dd><dt>Customer-hours</dt><dd>{} <span class=\"muted\">(SLA-weighted)</span></dd><dt>Figures</dt><dd class=\"muted\">{}</dd></dl>",
        count(f.services.len() as u64),
        f.users_affected,
        count(f.users_affected),
        esc(&hours(f.duration_hours)),
        esc(&num(f.user_hours)),
        if f.user_hours_estimated {
            "(estimated: a segment has SLA weight 0)"
        } else {
            "(customers × share of service lost × hours)"
        },
        esc(&num(f.customer_hours)),
        esc(&source_words(&f.source))
    );
    if !f.services.is_empty() {
        s.push_str("<table class=\"grid-table compact\"><thead><tr><th>Service</th><th>State</th><th class=\"num\">Back after</th></tr></thead><tbody>");
        for x in f.services.iter().take(MAX_ROWS) {
            let _ = write!(
                s,
                "<tr><td>{} <span class=\"muted mono\">{}</span></td><td><span class=\"state {}\">{}</span></td><td class=\"num\">{}</td></tr>",
                esc(&clip(&x.name, 120)),
                esc(&x.id),
                if x.state == "down" { "down" } else { "degraded" },
                esc(&x.state),
                esc(&hours(x.hours))
            );
        }
        s.push_str("</tbody></table>");
        more(s, f.services.len(), "services");
    }
    s.push_str("</div>");
}

fn more(s: &mut String, n: usize, what: &str) {
    if n > MAX_ROWS {
        let _ = write!(
            s,
            "<p class=\"note\">{} more {what} in the JSON report.</p>",
            count((n - MAX_ROWS) as u64)
        );
    }
}

fn flag(s: &mut String, key: &str, label: &str, value: bool, detail: &str) {
    let _ = write!(
        s,
        "<li data-flag=\"{key}\" data-value=\"{value}\"><div class=\"fh\">{} {label}</div>{detail}</li>",
        yes_no(value)
    );
}

/// Suspected malicious act, cross-border impact, GDPR personal data breach.
fn flags(s: &mut String, n: &Notification) {
    s.push_str("<div class=\"nbox\"><h4>Flags</h4><ul class=\"flags\">");
    let m = &n.suspected_malicious;
    let reasons: String = m
        .reasons
        .iter()
        .map(|r| format!("<li>{}</li>", esc(&clip(r, MAX_TEXT))))
        .collect();
    let detail = if reasons.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"why\">{reasons}</ul>")
    };
    flag(
        s,
        "suspected_malicious",
        "Suspected unlawful or malicious act",
        m.value,
        &detail,
    );

    let c = &n.cross_border;
    let mut detail = String::from("<div class=\"why\">");
    if c.countries.is_empty() {
        detail.push_str("No country given for the affected segments.");
    } else {
        detail.push_str("Affected segments in ");
        for k in &c.countries {
            let _ = write!(detail, "<span class=\"chip\">{}</span>", esc(k));
        }
    }
    if !c.segments_without_country.is_empty() {
        let _ = write!(
            detail,
            " No country given for {}.",
            esc(&clip(&c.segments_without_country.join(", "), MAX_TEXT))
        );
    }
    detail.push_str("</div>");
    flag(s, "cross_border", "Cross-border impact", c.value, &detail);

    let g = &n.gdpr;
    let mut detail = String::new();
    if g.assets.is_empty() {
        detail.push_str("<div class=\"why\">No asset holding personal data is compromised, named by the detections or reachable.</div>");
    } else {
        detail.push_str("<ul class=\"why\">");
        for a in g.assets.iter().take(MAX_ROWS) {
            let how = match (a.reason.as_str(), a.hours) {
                ("compromised", _) => "compromised".to_string(),
                ("in_detections", _) => "named by the incident's detections".to_string(),
                ("reachable", Some(h)) => format!("reachable by the attacker in {}", hours(h)),
                (r, _) => r.replace('_', " "),
            };
            let _ = write!(
                detail,
                "<li><b>{}</b> <span class=\"muted mono\">{}</span>: {}</li>",
                esc(&clip(&a.name, 120)),
                esc(&a.id),
                esc(&how)
            );
        }
        if g.assets.len() > MAX_ROWS {
            let _ = write!(
                detail,
                "<li class=\"muted\">{} more in the JSON report</li>",
                count((g.assets.len() - MAX_ROWS) as u64)
            );
        }
        if g.reach_truncated {
            detail.push_str("<li class=\"muted\">the reach list was cut: personal-data assets beyond it are not listed</li>");
        }
        detail.push_str("</ul>");
    }
    flag(
        s,
        "gdpr",
        "Personal data breach (GDPR Art. 33)",
        g.value,
        &detail,
    );
    s.push_str("</ul></div>");
}

/// The thresholds crossed, each named, with the table's source.
fn thresholds(s: &mut String, t: &ThresholdCheck) {
    let base = if t.user_base_basis == "configured" {
        "set in the table"
    } else {
        "the operator's customers"
    };
    let _ = write!(
        s,
        "<h4>Reporting thresholds <span class=\"muted\">{} of {} crossed</span></h4>",
        count(t.crossed.len() as u64),
        count(t.rows as u64)
    );
    if !t.crossed.is_empty() {
        s.push_str("<table class=\"grid-table compact thresholds\"><thead><tr><th>Threshold crossed</th><th class=\"num\">Users</th><th class=\"num\">Share</th><th class=\"num\">For at least</th><th class=\"num\">User-hours</th></tr></thead><tbody>");
        for c in t.crossed.iter().take(MAX_ROWS) {
            let _ = write!(
                s,
                "<tr data-threshold=\"{}\"><td><b>{}</b><br><span class=\"muted mono\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&c.id),
                esc(&clip(&c.label, 200)),
                esc(&c.id),
                count(c.users),
                c.share.map_or("—".into(), pct),
                c.hours.map_or("—".into(), |h| esc(&hours(h))),
                c.user_hours.map_or("—".into(), |h| esc(&num(h)))
            );
        }
        s.push_str("</tbody></table>");
        more(s, t.crossed.len(), "thresholds");
    }
    let _ = write!(
        s,
        "<p class=\"note\">Table: {}. User base {} ({base}).</p>",
        esc(&clip(&t.source, MAX_TEXT)),
        count(t.user_base)
    );
}

/// A stage: its title, basis and deadline, then its items.
fn stage(s: &mut String, k: usize, st: &Stage) {
    let open = st.items.iter().filter(|i| i.to_complete).count();
    let _ = write!(
        s,
        "<div class=\"stage\" data-stage=\"{}\"><div class=\"sh\"><span class=\"sn\">{k}</span><span class=\"st\">{}</span><span class=\"muted\">{} · due {}</span>{}</div><ul class=\"items\">",
        esc(&st.stage),
        esc(&stage_title(&st.stage)),
        esc(&st.article),
        when(&st.deadline),
        if open > 0 {
            format!("<span class=\"todo-count\">{open} to complete</span>")
        } else {
            "<span class=\"done-count\">complete</span>".to_string()
        }
    );
    for it in &st.items {
        item(s, it);
    }
    s.push_str("</ul></div>");
}

fn item(s: &mut String, it: &Item) {
    match (&it.value, it.to_complete) {
        (Some(v), false) => {
            let _ = write!(
                s,
                "<li class=\"filled\" data-item=\"{}\" data-to-complete=\"false\"><span class=\"il\"><span class=\"filled-mark\">✓</span>{}</span><span class=\"iv\">{}</span></li>",
                esc(&it.key),
                esc(&it.label),
                esc(&clip(v, MAX_TEXT))
            );
        }
        _ => {
            let hint = it
                .hint
                .as_ref()
                .map(|h| {
                    format!(
                        "<span class=\"hint\">vigie: {}</span>",
                        esc(&clip(h, MAX_TEXT))
                    )
                })
                .unwrap_or_default();
            let _ = write!(
                s,
                "<li class=\"open\" data-item=\"{}\" data-to-complete=\"true\"><span class=\"il\"><span class=\"box\"></span>{}</span><span class=\"iv\"><span class=\"todo\">to complete</span>{hint}</span></li>",
                esc(&it.key),
                esc(&it.label)
            );
        }
    }
}
