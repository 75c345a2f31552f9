//! Serializable pieces shared by the assess / contain / restore reports.

use serde::Serialize;

use crate::graph::Graph;
use crate::impact::Impact;

/// A service that is down or degraded.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceImpact {
    pub id: String,
    pub name: String,
    /// "down" or "degraded".
    pub state: &'static str,
    /// Hours from the start of the outage until it is back (fully, when degraded).
    pub back_after_hours: f64,
}

/// One customer segment's loss.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentImpact {
    pub id: String,
    pub name: String,
    /// Customers in the segment (all of them are affected when any service it uses is).
    pub customers: u64,
    pub customer_hours: f64,
    /// Hours until every service the segment uses is fully back.
    pub back_after_hours: f64,
}

/// Services and segments touched by an impact, most expensive segments first.
pub fn summarize(g: &Graph, imp: &Impact) -> (Vec<ServiceImpact>, Vec<SegmentImpact>) {
    let mut services = Vec::new();
    for (s, svc) in g.services.iter().enumerate() {
        if !imp.service_affected(s) {
            continue;
        }
        let down = imp.service_up[s] > 0.0;
        services.push(ServiceImpact {
            id: svc.id.clone(),
            name: svc.name.clone(),
            state: if down { "down" } else { "degraded" },
            back_after_hours: imp.service_up[s].max(imp.service_degraded_until[s]),
        });
    }
    services.sort_by(|a, b| {
        b.back_after_hours
            .total_cmp(&a.back_after_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut segments = Vec::new();
    for (i, seg) in g.segments.iter().enumerate() {
        if imp.segment_hours[i] <= 0.0 && imp.segment_back[i] <= 0.0 {
            continue;
        }
        segments.push(SegmentImpact {
            id: seg.id.clone(),
            name: seg.name.clone(),
            customers: seg.customers,
            customer_hours: imp.segment_hours[i],
            back_after_hours: imp.segment_back[i],
        });
    }
    segments.sort_by(|a, b| {
        b.customer_hours
            .total_cmp(&a.customer_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    (services, segments)
}

/// Human formatting of a large quantity (1234567 -> "1.23 M").
pub fn human(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1} k", x / 1e3)
    } else if a == a.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}
