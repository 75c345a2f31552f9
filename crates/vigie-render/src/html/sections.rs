//! The HTML blocks of the report that are tables and lists rather than drawings: the
//! overview, an incident's facts and evidence, its decision in figures, the kill chain,
//! the detections and the unresolved entities.

use std::fmt::Write as _;

use serde_json::Value;
// ATT&CK tactics in kill-chain order: the one list `vigie-incident` reads tags with.
use vigie_incident::TACTICS;
use vigie_wire::v1::respond::{Incident, RespondReport, Unresolved};
use vigie_wire::v1::response::{ContainReport, Plan};
use vigie_wire::v1::Detection;

use super::esc::{clip, count, esc, hours, num};
use super::Options;

/// `initial_access`, `Initial Access` and `initial-access` are one tactic.
fn tactic_key(t: &str) -> String {
    t.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// `initial-access` → `Initial access`.
fn tactic_label(t: &str) -> String {
    let words = tactic_key(t).replace('-', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub fn severity_badge(level: &str) -> String {
    let key = level.trim().to_ascii_lowercase();
    let class = match key.as_str() {
        "critical" | "high" | "medium" | "low" | "informational" => key.as_str(),
        _ => "unknown",
    };
    format!("<span class=\"sev {class}\">{}</span>", esc(level))
}

fn time(t: &Option<String>) -> String {
    match t {
        Some(t) => esc(&t.replace('T', " ").replace('Z', " UTC")),
        None => "—".to_string(),
    }
}

/// Hours between two RFC 3339 times, when both parse.
fn span_hours(a: &Option<String>, b: &Option<String>) -> Option<f64> {
    let p = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let (a, b) = (p(a)?, p(b)?);
    Some((b - a).num_seconds() as f64 / 3600.0)
}

fn kpi(s: &mut String, value: &str, label: &str, attr: &str) {
    let _ = write!(
        s,
        "<div class=\"kpi\"{attr}><div class=\"kv\">{value}</div><div class=\"kl\">{label}</div></div>"
    );
}

/// Counts over the whole run and the index of incidents.
pub fn overview(s: &mut String, r: &RespondReport, o: &Options) {
    let m = &r.summary;
    s.push_str("<section id=\"overview\"><h2>Overview</h2><div class=\"kpis\">");
    kpi(
        s,
        &count(r.incidents.len() as u64),
        "incidents",
        " data-kpi=\"incidents\"",
    );
    kpi(s, &count(m.detections), "detections", "");
    kpi(s, &count(m.events), "events read", "");
    kpi(
        s,
        &count(m.compromised_assets as u64),
        "compromised assets",
        "",
    );
    kpi(
        s,
        &count(r.unresolved.len() as u64),
        "unresolved entities",
        "",
    );
    s.push_str("</div>");
    if r.incidents.is_empty() {
        s.push_str("<p class=\"empty\" data-empty=\"incidents\">No incident: no detection linked to the model's assets formed one.</p></section>");
        return;
    }
    s.push_str("<table class=\"grid-table\" id=\"incident-index\"><thead><tr><th>Incident</th><th>Severity</th><th class=\"num\">Risk</th><th>First seen</th><th>Last seen</th><th class=\"num\">Detections</th><th class=\"num\">Compromised</th><th class=\"num\">Plan (customer-hours)</th><th class=\"num\">Isolate everything</th></tr></thead><tbody>");
    for (k, i) in r.incidents.iter().enumerate().take(o.max_rows) {
        let (plan, all) = match &i.contain {
            Some(c) => (
                c.plan
                    .as_ref()
                    .map_or("no plan".into(), |p| num(p.customer_hours)),
                num(c.isolate_everything.customer_hours),
            ),
            None => ("—".to_string(), "—".to_string()),
        };
        let id = if k < o.max_incidents {
            format!("<a href=\"#{0}\">{0}</a>", esc(&i.id))
        } else {
            esc(&i.id)
        };
        let _ = write!(
            s,
            "<tr data-incident-row=\"{}\"><td class=\"mono\">{id}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&i.id),
            severity_badge(&i.severity),
            num(i.risk),
            time(&i.first_seen),
            time(&i.last_seen),
            count(i.detections.len() as u64),
            count(i.compromised.len() as u64),
            esc(&plan),
            esc(&all)
        );
    }
    s.push_str("</tbody></table>");
    note_left_out(s, r.incidents.len(), o.max_rows, "incidents");
    if r.incidents.len() > o.max_incidents {
        let _ = write!(
            s,
            "<p class=\"note\">Detailed sections below cover the first {} incidents; the JSON report (<code>--format json</code>) has every one.</p>",
            o.max_incidents
        );
    }
    s.push_str("</section>");
}

fn note_left_out(s: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = write!(
            s,
            "<p class=\"note\" data-left-out=\"{}\">{} more {what} not shown (the JSON report has them all).</p>",
            total - shown,
            count((total - shown) as u64)
        );
    }
}

fn chips(items: &[String], class: &str) -> String {
    if items.is_empty() {
        return "<span class=\"muted\">none</span>".to_string();
    }
    let mut s = String::new();
    for i in items.iter().take(40) {
        let _ = write!(s, "<span class=\"chip {class}\">{}</span>", esc(i));
    }
    if items.len() > 40 {
        let _ = write!(s, "<span class=\"muted\">+{} more</span>", items.len() - 40);
    }
    s
}

/// The incident's facts: when, how bad, on what.
pub fn facts(s: &mut String, i: &Incident) {
    let span = span_hours(&i.first_seen, &i.last_seen)
        .map(|h| format!(" <span class=\"muted\">({})</span>", esc(&hours(h))))
        .unwrap_or_default();
    let _ = write!(
        s,
        "<dl class=\"facts\"><dt>Severity</dt><dd>{}</dd><dt>Risk</dt><dd><span class=\"risk\" data-risk=\"{}\">{}</span> / 100 <span class=\"muted\">(severity {}, tactics {}, crown-jewel proximity {})</span></dd><dt>Time span</dt><dd>{} → {}{span}</dd><dt>Assets involved</dt><dd>{}</dd><dt>Compromised</dt><dd>{}</dd><dt>Accounts</dt><dd>{}</dd><dt>IP addresses</dt><dd>{}</dd></dl>",
        severity_badge(&i.severity),
        i.risk,
        esc(&num(i.risk)),
        esc(&num(i.risk_factors.severity)),
        esc(&num(i.risk_factors.tactics)),
        esc(&num(i.risk_factors.crown_jewel_proximity)),
        time(&i.first_seen),
        time(&i.last_seen),
        chips(&i.assets, "asset"),
        chips(&i.compromised, "compromised"),
        chips(&i.accounts, "account"),
        chips(&i.ips, "ip"),
    );
}

/// Why each asset is judged compromised.
pub fn evidence(s: &mut String, i: &Incident) {
    if i.evidence.is_empty() {
        s.push_str("<p class=\"empty\">No asset is judged compromised: the detections alone do not show execution or credential theft on a known asset.</p>");
        return;
    }
    s.push_str("<table class=\"grid-table evidence\"><thead><tr><th>Compromised asset</th><th>Evidence</th></tr></thead><tbody>");
    for c in &i.evidence {
        let _ = write!(
            s,
            "<tr data-evidence=\"{}\"><td class=\"mono\">{}</td><td><ul>",
            esc(&c.asset),
            esc(&c.asset)
        );
        for e in &c.evidence {
            let det = i.detections.get(e.detection);
            let title = det.map_or(e.rule_id.as_str(), |d| d.rule_title.as_str());
            let when = det.map(|d| time(&d.timestamp)).unwrap_or_default();
            let _ = write!(
                s,
                "<li><b>{}</b> <span class=\"muted\">{when}</span> — {}</li>",
                esc(title),
                esc(&e.reason)
            );
        }
        s.push_str("</ul></td></tr>");
    }
    s.push_str("</tbody></table>");
}

fn plan_figure(s: &mut String, label: &str, p: &Plan, attr: &str, class: &str) {
    let _ = write!(
        s,
        "<div class=\"figure {class}\"><div class=\"fl\">{label}</div><div class=\"fv\"><span{attr} data-value=\"{}\">{}</span></div><div class=\"fu\">customer-hours · {} customers affected · {} actions</div></div>",
        p.customer_hours,
        esc(&num(p.customer_hours)),
        count(p.customers_affected),
        count(p.actions.len() as u64)
    );
}

/// The decision in figures: the plan against isolate-everything, its actions, the
/// crown jewels at risk and when service is back.
pub fn decision(s: &mut String, i: &Incident, c: &ContainReport) {
    s.push_str("<div class=\"figures\">");
    match &c.plan {
        Some(p) => {
            plan_figure(s, "Optimal plan", p, " data-plan-customer-hours", "plan");
            plan_figure(
                s,
                "Isolate everything",
                &c.isolate_everything,
                " data-isolate-customer-hours",
                "isolate",
            );
            if p.customer_hours > 0.0 && c.isolate_everything.customer_hours > p.customer_hours {
                let _ = write!(
                    s,
                    "<div class=\"figure ratio\"><div class=\"fl\">Saved by the plan</div><div class=\"fv\">{}</div><div class=\"fu\">customer-hours ({}× fewer)</div></div>",
                    esc(&num(c.isolate_everything.customer_hours - p.customer_hours)),
                    esc(&num(c.isolate_everything.customer_hours / p.customer_hours))
                );
            }
        }
        None => {
            plan_figure(
                s,
                "Isolate everything",
                &c.isolate_everything,
                " data-isolate-customer-hours",
                "isolate",
            );
            s.push_str("<div class=\"figure none\"><div class=\"fl\">Optimal plan</div><div class=\"fv\">none</div><div class=\"fu\">no complete plan within the search limits</div></div>");
        }
    }
    s.push_str("</div>");
    let proof = if c.optimality.optimal {
        "<span class=\"ok\">proven optimal</span>".to_string()
    } else {
        format!(
            "<span class=\"warn\">best found, not proven optimal</span> (lower bound {})",
            c.optimality.lower_bound.map_or("unknown".into(), num)
        )
    };
    let _ = write!(
        s,
        "<p class=\"muted\">Containment assumed to last {}; plan {proof}; cutting the choke points instead would cost {} customer-hours.</p>",
        esc(&hours(c.containment_hours)),
        esc(&num(c.choke_points.customer_hours))
    );
    if let Some(p) = &c.plan {
        actions(s, p);
    }
    if let Some(r) = &i.restore {
        let _ = write!(
            s,
            "<p>Everything is back after <b data-restore-hours=\"{}\">{}</b>; the outage costs {} customer-hours in all ({}).</p>",
            r.total_hours,
            esc(&hours(r.total_hours)),
            esc(&num(r.customer_hours)),
            esc(order_source(&r.order_source))
        );
    }
}

/// How the restore order was chosen, in words.
fn order_source(src: &str) -> &str {
    match src {
        "optimal" => "restoration order proven optimal",
        "best found" => "best restoration order found",
        "given" => "the restoration order given",
        "unbounded" => "no crew limit: everything restarts at once",
        other => other,
    }
}

fn actions(s: &mut String, p: &Plan) {
    if p.actions.is_empty() {
        s.push_str("<p>The plan needs no action.</p>");
        return;
    }
    s.push_str("<table class=\"grid-table actions\"><thead><tr><th>#</th><th>Action</th><th>Target</th><th>Name</th></tr></thead><tbody>");
    for (k, a) in p.actions.iter().enumerate() {
        let _ = write!(
            s,
            "<tr data-action=\"{}\"><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&a.action),
            k + 1,
            esc(&a.action.replace('_', " ")),
            esc(&a.target),
            esc(&a.name)
        );
    }
    s.push_str("</tbody></table>");
}

/// Crown jewels the attacker can reach, soonest first.
pub fn jewels(s: &mut String, i: &Incident) {
    let Some(a) = &i.assess else { return };
    let at_risk: Vec<_> = a
        .crown_jewels
        .iter()
        .filter(|j| j.reachable || j.compromised)
        .collect();
    let _ = write!(
        s,
        "<p>The attacker can reach <b>{}</b> assets, <b>{}</b> crown jewels among them; {} customers ({} customer-hours) depend on what is at risk.</p>",
        count(a.reachable_count as u64),
        count(at_risk.len() as u64),
        count(a.customers_at_risk),
        esc(&num(a.customer_hours_at_risk))
    );
    if at_risk.is_empty() {
        return;
    }
    s.push_str("<table class=\"grid-table jewels\"><thead><tr><th>Crown jewel</th><th class=\"num\">Reached in</th><th>Fastest path</th></tr></thead><tbody>");
    for j in at_risk.iter().take(10) {
        let mut path: Vec<String> = j
            .path
            .first()
            .map(|st| st.from.clone())
            .into_iter()
            .collect();
        path.extend(
            j.path
                .iter()
                .map(|st| format!("{} ({})", st.to, st.technique)),
        );
        let when = if j.compromised {
            "compromised".to_string()
        } else {
            j.hours.map_or("—".into(), hours)
        };
        let _ = write!(
            s,
            "<tr><td><b>{}</b> <span class=\"muted mono\">{}</span></td><td class=\"num\">{}</td><td class=\"path\">{}</td></tr>",
            esc(&j.name),
            esc(&j.id),
            esc(&when),
            esc(&clip(&path.join(" → "), 220))
        );
    }
    s.push_str("</tbody></table>");
    note_left_out(s, at_risk.len(), 10, "crown jewels");
}

/// The kill chain: the tactics strip, then each technique in order of first use.
pub fn kill_chain(s: &mut String, i: &Incident) {
    let seen: Vec<String> = i
        .tactics
        .iter()
        .chain(i.timeline.iter().flat_map(|t| &t.tactics))
        .map(|t| tactic_key(t))
        .collect();
    s.push_str("<ol class=\"tactics\">");
    for t in TACTICS {
        let on = seen.iter().any(|x| x == t);
        let _ = write!(
            s,
            "<li class=\"{}\" data-tactic=\"{t}\"{}>{}</li>",
            if on { "on" } else { "off" },
            if on { " data-seen=\"true\"" } else { "" },
            esc(&tactic_label(t))
        );
    }
    s.push_str("</ol>");
    let other: Vec<&String> = seen
        .iter()
        .filter(|x| !TACTICS.contains(&x.as_str()))
        .collect();
    if !other.is_empty() {
        let names: Vec<String> = other.iter().map(|t| t.to_string()).collect();
        let _ = write!(
            s,
            "<p class=\"muted\">Other tactics: {}</p>",
            esc(&names.join(", "))
        );
    }
    if i.timeline.is_empty() {
        s.push_str("<p class=\"empty\">No ATT&amp;CK technique is tagged on these detections.</p>");
        return;
    }
    s.push_str("<ol class=\"timeline\">");
    for t in &i.timeline {
        let tactics: Vec<String> = t.tactics.iter().map(|x| tactic_label(x)).collect();
        let _ = write!(
            s,
            "<li data-technique=\"{}\"><span class=\"when\">{}</span><span class=\"dot\"></span><span class=\"what\"><b class=\"mono\">{}</b> {}<br><span class=\"muted\">{} · {} detection{}</span></span></li>",
            esc(&t.technique),
            time(&t.first_seen),
            esc(&t.technique),
            esc(t.name.as_deref().unwrap_or("")),
            esc(&tactics.join(", ")),
            t.detections,
            if t.detections == 1 { "" } else { "s" }
        );
    }
    s.push_str("</ol>");
}

/// The fields of a detection, compactly.
fn fields(d: &Detection) -> String {
    let mut parts = Vec::new();
    for (k, v) in d.fields.iter().take(6) {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!(
            "<span class=\"fk\">{}</span>={}",
            esc(k),
            esc(&clip(&v, 90))
        ));
    }
    if d.fields.0.len() > 6 {
        parts.push(format!(
            "<span class=\"muted\">+{} more</span>",
            d.fields.0.len() - 6
        ));
    }
    for k in d.keywords.iter().take(3) {
        parts.push(format!(
            "<span class=\"fk\">keyword</span>={}",
            esc(&clip(k, 90))
        ));
    }
    parts.join("<br>")
}

/// The incident's detections, in the order the report gives them.
pub fn detections(s: &mut String, i: &Incident, o: &Options) {
    let _ = write!(
        s,
        "<details class=\"dets\" open><summary>{} detection{}</summary><table class=\"grid-table detections\"><thead><tr><th>Time</th><th>Level</th><th>Rule</th><th>Matched fields</th><th>Source</th></tr></thead><tbody>",
        count(i.detections.len() as u64),
        if i.detections.len() == 1 { "" } else { "s" }
    );
    for d in i.detections.iter().take(o.max_detections) {
        let src = match (&d.source, d.record) {
            _ if d.correlation => "correlation".to_string(),
            (Some(f), Some(r)) => format!("{f}:{r}"),
            (Some(f), None) => f.clone(),
            (None, Some(r)) => format!("#{r}"),
            (None, None) => "—".to_string(),
        };
        let _ = write!(
            s,
            "<tr data-detection=\"{}\"><td class=\"nowrap\">{}</td><td>{}</td><td><b>{}</b><br><span class=\"muted mono\">{}</span></td><td class=\"fields\">{}</td><td class=\"mono src\">{}</td></tr>",
            esc(&d.rule_id),
            time(&d.timestamp),
            severity_badge(&d.level),
            esc(&d.rule_title),
            esc(&d.rule_id),
            fields(d),
            esc(&clip(&src, 80))
        );
    }
    s.push_str("</tbody></table>");
    note_left_out(s, i.detections.len(), o.max_detections, "detections");
    s.push_str("</details>");
}

/// Entities no asset holds.
pub fn unresolved(s: &mut String, list: &[Unresolved], o: &Options, id: &str) {
    if list.is_empty() {
        return;
    }
    let _ = write!(
        s,
        "<table class=\"grid-table unresolved\"{id}><thead><tr><th>Kind</th><th>Value</th><th class=\"num\">Seen</th></tr></thead><tbody>"
    );
    for u in list.iter().take(o.max_rows) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&u.kind),
            esc(&clip(&u.value, 120)),
            count(u.count)
        );
    }
    s.push_str("</tbody></table>");
    note_left_out(s, list.len(), o.max_rows, "unresolved entities");
}
