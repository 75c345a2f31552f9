//! The reports of `assess`, `contain` and `restore` as text for a terminal (their JSON
//! twins are `vigie_wire::v1`'s).

use std::fmt::Write as _;

use vigie_response::assess::{AssessReport, JewelPath};
use vigie_response::contain::{ContainReport, PlanReport};
use vigie_response::report::human;
use vigie_response::restore::RestoreReport;

/// `vigie assess` text.
pub fn assess(r: &AssessReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Compromised: {}", r.compromised.join(", "));
    let _ = writeln!(s, "Reachable assets: {}", r.reachable_count);
    for a in &r.reachable {
        let star = if a.crown_jewel { " [crown jewel]" } else { "" };
        let _ = writeln!(s, "  {:>8.1} h  {}{star}", a.hours, a.id);
    }
    if r.reachable_truncated {
        let _ = writeln!(
            s,
            "  ... ({} more; --limit 0 lists all)",
            r.reachable_count - r.reachable.len()
        );
    }
    let _ = writeln!(s, "\nCrown jewels (soonest first):");
    let shown = &r.crown_jewels[..r.crown_jewels.len().min(MAX_LINES)];
    for (i, j) in shown.iter().enumerate() {
        if j.compromised {
            let _ = writeln!(s, "  {}: ALREADY COMPROMISED", j.id);
        } else if let Some(h) = j.hours {
            let _ = writeln!(s, "  {}: reachable in {h:.1} h", j.id);
            let (shared, with) = shared_prefix(&shown[..i], j);
            if let Some(w) = with {
                let via = &j.path[shared - 1];
                let at: f64 = j.path[..shared].iter().map(|st| st.hours).sum();
                if via.to == w {
                    let _ = writeln!(s, "      ... via {w} ({at:.1} h)");
                } else {
                    let _ = writeln!(
                        s,
                        "      ... as for {w} up to {} ({shared} step(s), {at:.1} h)",
                        via.to
                    );
                }
            }
            for st in &j.path[shared..] {
                let _ = writeln!(
                    s,
                    "      {} -> {}  {} ({:.1} h)",
                    st.from, st.to, st.technique, st.hours
                );
            }
        } else {
            let _ = writeln!(s, "  {}: not reachable", j.id);
        }
    }
    more(&mut s, r.crown_jewels.len(), "crown jewels");
    let _ = writeln!(s, "\nServices at risk (everything held or reachable lost):");
    if r.services_at_risk.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for sv in r.services_at_risk.iter().take(MAX_LINES) {
        let _ = writeln!(s, "  {:<9} {} ({})", sv.state, sv.id, sv.name);
    }
    more(&mut s, r.services_at_risk.len(), "services");
    let _ = writeln!(s, "\nSegments at risk:");
    for g in r.segments_at_risk.iter().take(MAX_LINES) {
        let _ = writeln!(
            s,
            "  {:<28} {:>12} customers  {:>7} of service lost  {:>12} customer-equivalents  {:>12} customer-hours",
            g.id,
            human(g.customers_affected as f64),
            percent(g.service_lost),
            human(g.customer_equivalents),
            human(g.customer_hours)
        );
    }
    more(&mut s, r.segments_at_risk.len(), "segments");
    let _ = writeln!(
        s,
        "Total: {} customers ({} customer-equivalents), {} customer-hours at risk",
        human(r.customers_at_risk as f64),
        human(r.customer_equivalents_at_risk),
        human(r.customer_hours_at_risk)
    );
    s
}

/// The longest run of first steps `j` shares with a path listed before it, and the jewel
/// of that path (the first one, on ties): the paths all come from one shortest-path tree,
/// so a later path often retraces an earlier one, and repeating it hides where it departs.
fn shared_prefix<'a>(before: &'a [JewelPath], j: &JewelPath) -> (usize, Option<&'a str>) {
    let mut best = (0, None);
    for p in before {
        let n = p
            .path
            .iter()
            .zip(&j.path)
            .take_while(|(a, b)| a.from == b.from && a.to == b.to && a.technique == b.technique)
            .count();
        if n > best.0 {
            best = (n, Some(p.id.as_str()));
        }
    }
    best
}

/// Lines shown per list before "... N more" (JSON always has everything).
const MAX_LINES: usize = 25;

/// A fraction as a percentage, to at most two decimals ("3.25 %", "30 %").
fn percent(x: f64) -> String {
    let p = format!("{:.2}", x * 100.0);
    let p = p.trim_end_matches('0').trim_end_matches('.');
    format!("{p} %")
}

fn more(s: &mut String, total: usize, what: &str) {
    if total > MAX_LINES {
        let _ = writeln!(
            s,
            "      ... {} more {what} (--format json lists all)",
            total - MAX_LINES
        );
    }
}

fn list(ids: &[String]) -> String {
    if ids.len() <= MAX_LINES {
        ids.join(", ")
    } else {
        format!(
            "{}, ... ({} in all)",
            ids[..MAX_LINES].join(", "),
            ids.len()
        )
    }
}

fn plan(s: &mut String, p: &PlanReport, detail: bool) {
    let _ = writeln!(
        s,
        "  {} — {} customer-hours, {} actions, {} customers affected ({} customer-equivalents), residual reach {} asset(s){}",
        p.label,
        human(p.customer_hours),
        p.actions.len(),
        human(p.customers_affected as f64),
        human(p.customer_equivalents),
        p.residual_reach,
        if p.complete { "" } else { ", INCOMPLETE" }
    );
    if !detail {
        return;
    }
    for a in p.actions.iter().take(MAX_LINES) {
        let _ = writeln!(s, "      {:<17} {}", a.action, a.target);
    }
    more(s, p.actions.len(), "actions");
    for sv in p.services.iter().take(MAX_LINES) {
        let _ = writeln!(
            s,
            "      service {:<9} {} (back after {:.1} h)",
            sv.state, sv.id, sv.back_after_hours
        );
    }
    more(s, p.services.len(), "services");
    for g in p.segments.iter().take(MAX_LINES) {
        let _ = writeln!(
            s,
            "      segment {:<24} {:>10} customer-hours, {} of service lost for {} customers = {} customer-equivalents (back after {:.1} h)",
            g.id,
            human(g.customer_hours),
            percent(g.service_lost),
            human(g.customers_affected as f64),
            human(g.customer_equivalents),
            g.back_after_hours
        );
    }
    more(s, p.segments.len(), "segments");
}

/// `vigie contain` text.
pub fn contain(r: &ContainReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Compromised: {}", list(&r.compromised));
    let _ = writeln!(s, "Protected:   {}", list(&r.protected));
    if !r.protected_already_compromised.is_empty() {
        let _ = writeln!(
            s,
            "Already compromised, not protectable: {}",
            r.protected_already_compromised.join(", ")
        );
    }
    let _ = writeln!(s, "Containment duration: {} h\n", r.containment_hours);
    match &r.plan {
        Some(p) => {
            let _ = writeln!(s, "Cheapest complete plan:");
            plan(&mut s, p, true);
            if r.optimality.optimal {
                let _ = writeln!(
                    s,
                    "  proven optimal{}",
                    r.max_actions
                        .map(|m| format!(" among plans of at most {m} actions"))
                        .unwrap_or_default()
                );
            } else {
                let _ = writeln!(
                    s,
                    "  NOT proven optimal (search budget exhausted): lower bound {}, gap {}",
                    human(r.optimality.lower_bound),
                    human(r.optimality.gap)
                );
            }
        }
        None => {
            let within = r
                .max_actions
                .map(|m| format!(" with at most {m} action(s)"))
                .unwrap_or_default();
            let why = if r.search.budget_exhausted {
                "found before the search budget ran out"
            } else {
                "exists"
            };
            let _ = writeln!(s, "No complete plan{within} {why}.");
        }
    }
    if !r.alternatives.is_empty() {
        let _ = writeln!(s, "\nAlternatives:");
        for p in &r.alternatives {
            plan(&mut s, p, true);
        }
    }
    let _ = writeln!(s, "\nNaive plans for comparison:");
    plan(&mut s, &r.isolate_everything, false);
    plan(&mut s, &r.choke_points, true);
    let st = &r.search;
    let _ = writeln!(
        s,
        "\nSearch: {} candidate actions ({} free actions pre-applied), {} relevant assets / {} edges, {} states expanded, {} generated, {:.1} ms",
        st.candidate_actions,
        st.free_actions_preapplied,
        st.relevant_nodes,
        st.relevant_edges,
        st.states_expanded,
        st.states_generated,
        r.elapsed_ms
    );
    s
}

/// `vigie restore` text.
pub fn restore(r: &RestoreReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Down: {}", r.down.join(", "));
    if let Some(c) = r.crews {
        let _ = writeln!(s, "Crews: {c}");
    }
    restore_order(&mut s, r);
    let _ = writeln!(s, "\nRestoration order (assets):");
    for a in &r.assets {
        let after = match (&a.after, &a.crew_after) {
            (Some(h), Some(c)) => format!("  after {h}, crew freed by {c}"),
            (Some(h), None) => format!("  after {h}"),
            (None, Some(c)) => format!("  crew freed by {c}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:>7.1} h -> {:>7.1} h  {}{after}",
            a.start_hours, a.up_hours, a.id
        );
    }
    let _ = writeln!(s, "\nServices back:");
    for sv in &r.services {
        let after = sv
            .after
            .as_ref()
            .map(|h| format!("  after {h}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:>7.1} h  {} ({}){after}",
            sv.up_hours, sv.id, sv.state
        );
    }
    let _ = writeln!(s, "\nSegments back:");
    for g in &r.segments {
        let _ = writeln!(
            s,
            "  {:>7.1} h  {:<28} {:>12} customer-hours",
            g.back_after_hours,
            g.id,
            human(g.customer_hours)
        );
    }
    let _ = writeln!(s, "\nCritical path:");
    critical(&mut s, &r.critical_path);
    if r.service_critical_path != r.critical_path && !r.service_critical_path.is_empty() {
        let _ = writeln!(s, "\nCritical path for customers (last service back):");
        critical(&mut s, &r.service_critical_path);
    }
    let _ = writeln!(
        s,
        "\nEverything back after {:.1} h; outage cost {} customer-hours",
        r.total_hours,
        human(r.customer_hours)
    );
    s
}

fn critical(s: &mut String, path: &[vigie_response::restore::CriticalStep]) {
    for c in path {
        let via = c
            .via
            .map(|v| format!("  (waited: {v})"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:>7.1} h -> {:>7.1} h  {} {}{via}",
            c.start_hours, c.end_hours, c.kind, c.id
        );
    }
}

/// The order of a restore and how it compares with the cheapest.
fn restore_order(s: &mut String, r: &RestoreReport) {
    let o = &r.optimality;
    let proof = if o.optimal {
        "proven optimal".to_string()
    } else {
        format!(
            "NOT proven optimal: lower bound {} customer-hours, gap {}",
            human(o.lower_bound),
            human(o.gap)
        )
    };
    let what = match r.order_source {
        "given" => "given",
        "unbounded" => "no crew limit: every asset starts once its host is back",
        _ => "cheapest in customer-hours",
    };
    let _ = writeln!(s, "Order ({what}): {}", list(&r.order));
    let st = &r.order_search;
    let _ = writeln!(
        s,
        "  {proof} ({} downed assets, {} orders priced, {} search nodes{}, {:.1} ms)",
        st.downed_assets,
        st.orders_priced,
        st.nodes_expanded,
        match (st.exact_search, st.budget_exhausted) {
            (true, true) => ", branch and bound stopped by its budget",
            (true, false) => ", branch and bound",
            _ => "",
        },
        st.elapsed_ms
    );
    for a in &r.listed_before_host {
        let _ = writeln!(s, "  {a} is listed before its host: it waits for it");
    }
    if let Some(b) = &r.optimum {
        let extra = r.customer_hours - b.customer_hours;
        let pct = if b.customer_hours > 0.0 {
            format!(" ({:+.1}%)", 100.0 * extra / b.customer_hours)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  this order: {} customer-hours, everything back after {:.1} h",
            human(r.customer_hours),
            r.total_hours
        );
        let verdict = if extra > 1e-9 * b.customer_hours.abs().max(1.0) {
            format!("the given order costs {}{pct} more", human(extra))
        } else {
            "the given order is as cheap".to_string()
        };
        let _ = writeln!(
            s,
            "  {} order: {} customer-hours, everything back after {:.1} h; {verdict}",
            if b.optimal { "optimal" } else { "best found" },
            human(b.customer_hours),
            b.total_hours,
        );
        let _ = writeln!(s, "    {}", list(&b.order));
    }
}
