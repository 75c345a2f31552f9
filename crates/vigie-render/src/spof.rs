//! `vigie exercise spof` as text, written from its wire report
//! ([`vigie_wire::v1::spof::SpofReport`]).

use std::fmt::Write as _;

use vigie_response::report::human;
use vigie_wire::v1::spof::{Failure, Pair, SpofReport};

/// Services listed per failure before "and N more".
const SERVICES_SHOWN: usize = 4;

/// The whole report: N-1, N-2, single points of failure per service.
pub fn spof(r: &SpofReport) -> String {
    let mut s = String::new();
    let crews = r
        .crews
        .map_or("unbounded crews".to_string(), |c| format!("{c} crew(s)"));
    let _ = writeln!(
        s,
        "Stress test: {} assets and {} flows failing (outages, not attacks), restored with {crews}",
        r.assets, r.flows
    );
    let _ = writeln!(
        s,
        "\nN-1: {} of {} elements cost customer-hours when they fail alone. Costliest:",
        r.singles_with_impact,
        r.assets + r.flows
    );
    let _ = writeln!(
        s,
        "  {:>15}  {:>9}  element",
        "customer-hours", "back after"
    );
    for x in r.singles.iter().filter(|x| x.failure.customer_hours > 0.0) {
        let _ = writeln!(
            s,
            "  {:>15}  {:>7.1} h  {} {}",
            human(x.failure.customer_hours),
            x.failure.total_hours,
            x.element.kind,
            x.element.id
        );
        services_line(&mut s, &x.failure);
    }
    pairs(&mut s, r);
    spofs(&mut s, r);
    s
}

fn services_line(s: &mut String, f: &Failure) {
    let down: Vec<String> = f
        .services
        .iter()
        .take(SERVICES_SHOWN)
        .map(|x| format!("{} {} {:.1} h", x.id, x.state, x.back_after_hours))
        .collect();
    if down.is_empty() {
        return;
    }
    let more = f.services.len().saturating_sub(SERVICES_SHOWN);
    let more = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    let segs = f.segments.len();
    let _ = writeln!(s, "{:33}{}{more}; {segs} segment(s)", "", down.join(", "));
}

fn pair_line(s: &mut String, p: &Pair) {
    let _ = writeln!(
        s,
        "  {:>15}  {:>7.1} h  {} + {}  (alone: {} + {})",
        human(p.failure.customer_hours),
        p.failure.total_hours,
        p.a.element.id,
        p.b.element.id,
        human(p.a.customer_hours),
        human(p.b.customer_hours)
    );
}

fn pairs(s: &mut String, r: &SpofReport) {
    let p = &r.pairs;
    if p.mode == "none" {
        let _ = writeln!(s, "\nN-2: not computed (--pairs none).");
        return;
    }
    let how = match &p.screening {
        None => format!("exhaustive, all {} pairs", p.total),
        Some(x) => format!(
            "screened, {} of {} pairs: {} in redundancy groups, {} among the costliest singles, {} by the N-1 bound{}",
            p.evaluated,
            p.total,
            x.group_pairs,
            x.top_pairs,
            x.bound_pairs,
            if x.budget_hit { "; pair budget reached" } else { "" }
        ),
    };
    let _ = writeln!(s, "\nN-2 ({how}).");
    if p.mode == "screened" {
        let proof = match (p.exact_top, p.all_interactions) {
            (true, true) => "every interaction found, the top pairs proven the costliest".into(),
            (false, true) => "every interaction found; the top pairs are not proven".into(),
            _ => format!(
                "a heuristic here{}",
                p.unevaluated_bound
                    .map(|b| format!(" (a pair left out costs at most {} alone)", human(b)))
                    .unwrap_or_default()
            ),
        };
        let _ = writeln!(s, "  Screening: {proof}.");
    }
    let _ = writeln!(s, "  Costliest pairs:");
    for x in &p.top {
        pair_line(s, x);
    }
    let _ = writeln!(
        s,
        "  Interactions (joint cost above the sum alone): {} pair(s){}",
        p.interacting,
        if p.interactions.is_empty() {
            ""
        } else {
            ", largest excess first:"
        }
    );
    for x in &p.interactions {
        pair_line(s, x);
        let _ = writeln!(s, "{:33}excess {}", "", human(x.excess));
    }
}

fn spofs(s: &mut String, r: &SpofReport) {
    let with: Vec<_> = r.services.iter().filter(|x| !x.spofs.is_empty()).collect();
    let _ = writeln!(
        s,
        "\nSingle points of failure: {} of {} services go down on one failure",
        with.len(),
        r.services.len()
    );
    for x in with {
        let hits: Vec<String> = x
            .spofs
            .iter()
            .map(|h| format!("{} ({:.1} h)", h.element.id, h.down_hours))
            .collect();
        let _ = writeln!(s, "  {}: {}", x.id, hits.join(", "));
    }
    let none: Vec<&str> = r
        .services
        .iter()
        .filter(|x| x.spofs.is_empty())
        .map(|x| x.id.as_str())
        .collect();
    if !none.is_empty() {
        let _ = writeln!(s, "  No single point of failure: {}", none.join(", "));
    }
}
