//! `restore`: order and timeline of the return of downed assets and services, the critical
//! path, and the customer-hours of the whole outage.

use serde::Serialize;

use crate::error::Error;
use crate::graph::{Graph, Member, NodeId, Target};
use crate::impact::{self, Outage};
use crate::report::{summarize, SegmentImpact};

/// An asset's restoration.
#[derive(Debug, Clone, Serialize)]
pub struct AssetStep {
    pub id: String,
    pub name: String,
    pub start_hours: f64,
    pub up_hours: f64,
    /// The host it had to wait for, if any.
    pub after: Option<String>,
}

/// A service's return.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceStep {
    pub id: String,
    pub name: String,
    /// "down" or "degraded".
    pub state: &'static str,
    /// When its hard dependencies are all back.
    pub dependencies_back_hours: f64,
    /// When it is back (fully, if it was degraded).
    pub up_hours: f64,
    /// The dependency it waited for last.
    pub after: Option<String>,
}

/// One element of the critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalStep {
    /// "asset" or "service".
    pub kind: &'static str,
    pub id: String,
    pub start_hours: f64,
    pub end_hours: f64,
}

/// The `restore` answer.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub down: Vec<String>,
    pub crews: Option<usize>,
    /// Assets in the order their restoration starts.
    pub assets: Vec<AssetStep>,
    /// Affected services, in the order they come back.
    pub services: Vec<ServiceStep>,
    /// Affected segments, in the order they come back.
    pub segments: Vec<SegmentImpact>,
    pub critical_path: Vec<CriticalStep>,
    /// The chain ending at the last service back (what customers wait for).
    pub service_critical_path: Vec<CriticalStep>,
    /// When everything is back.
    pub total_hours: f64,
    /// Customer-hours lost over the whole outage.
    pub customer_hours: f64,
}

/// Plan the restoration of `down` (assets, services or flows failed at t = 0).
pub fn restore(g: &Graph, down: &[Target], crews: Option<usize>) -> Result<RestoreReport, Error> {
    if down.is_empty() {
        return Err(Error::Request("nothing is down".into()));
    }
    if crews == Some(0) {
        return Err(Error::Request("--crews must be at least 1".into()));
    }
    let mut outage = Outage::default();
    for t in down {
        match *t {
            Target::Node(n) => outage.nodes.push(n),
            Target::Service(s) => outage.services.push(s),
            Target::Flow(f) => outage.flows.push(f),
        }
    }
    let imp = impact::evaluate(g, &outage, 0.0, crews);
    let id = |n: NodeId| g.node_ids[n as usize].clone();
    let assets: Vec<AssetStep> = imp
        .nodes
        .order
        .iter()
        .filter_map(|&n| {
            // `order` lists exactly the keys of `times`.
            let &(s, e) = imp.nodes.times.get(&n)?;
            Some(AssetStep {
                id: id(n),
                name: g.node_names[n as usize].clone(),
                start_hours: s,
                up_hours: e,
                after: imp.nodes.waited_for.get(&n).map(|&h| id(h)),
            })
        })
        .collect();
    let member_id = |m: Member| match m {
        Member::Node(n) => id(n),
        Member::Service(s) => g.services[s as usize].id.clone(),
    };
    let mut services: Vec<ServiceStep> = (0..g.services.len())
        .filter(|&s| imp.service_affected(s))
        .map(|s| ServiceStep {
            id: g.services[s].id.clone(),
            name: g.services[s].name.clone(),
            state: if imp.service_up[s] > 0.0 {
                "down"
            } else {
                "degraded"
            },
            dependencies_back_hours: imp.service_ready[s],
            up_hours: imp.service_up[s].max(imp.service_degraded_until[s]),
            after: imp.service_waited_for[s].map(member_id),
        })
        .collect();
    services.sort_by(|a, b| {
        a.up_hours
            .total_cmp(&b.up_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    let (_, mut segments) = summarize(g, &imp);
    segments.sort_by(|a, b| {
        a.back_after_hours
            .total_cmp(&b.back_after_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    let service_critical_path = critical_path(g, &imp, true);
    let critical_path = critical_path(g, &imp, false);
    let total_hours = critical_path.last().map_or(0.0, |c| c.end_hours);
    Ok(RestoreReport {
        down: down
            .iter()
            .map(|t| match *t {
                Target::Node(n) => id(n),
                Target::Service(s) => g.services[s as usize].id.clone(),
                Target::Flow(f) => g.flows[f as usize].id.clone(),
            })
            .collect(),
        crews,
        assets,
        services,
        segments,
        critical_path,
        service_critical_path,
        total_hours,
        customer_hours: imp.total,
    })
}

/// The chain of waits ending at whatever comes back last.
/// `services_only`: end at the last service back (the customers' critical path) rather than
/// at whatever comes back last.
fn critical_path(g: &Graph, imp: &impact::Impact, services_only: bool) -> Vec<CriticalStep> {
    // Ties: the lowest node index, then any service ending at the same time (services end
    // chains, so they show the longer story).
    let mut last: Option<(f64, Member)> = None;
    if !services_only {
        let mut ends: Vec<(NodeId, f64)> =
            imp.nodes.times.iter().map(|(&n, &(_, e))| (n, e)).collect();
        ends.sort_unstable_by_key(|x| x.0);
        for (n, e) in ends {
            if last.is_none_or(|(t, _)| e > t) {
                last = Some((e, Member::Node(n)));
            }
        }
    }
    for s in 0..g.services.len() {
        let e = imp.service_up[s];
        if e > 0.0 && last.is_none_or(|(t, _)| e >= t) {
            last = Some((e, Member::Service(s as u32)));
        }
    }
    let mut out = Vec::new();
    let mut cur = last.map(|l| l.1);
    let mut guard = g.node_count() + g.services.len() + 1;
    while let Some(m) = cur {
        if guard == 0 {
            break;
        }
        guard -= 1;
        match m {
            Member::Node(n) => {
                let Some(&(s, e)) = imp.nodes.times.get(&n) else {
                    break;
                };
                out.push(CriticalStep {
                    kind: "asset",
                    id: g.node_ids[n as usize].clone(),
                    start_hours: s,
                    end_hours: e,
                });
                cur = imp.nodes.waited_for.get(&n).map(|&h| Member::Node(h));
            }
            Member::Service(s) => {
                let e = imp.service_up[s as usize];
                if e <= 0.0 {
                    break;
                }
                out.push(CriticalStep {
                    kind: "service",
                    id: g.services[s as usize].id.clone(),
                    start_hours: e - g.services[s as usize].recovery_hours,
                    end_hours: e,
                });
                cur = imp.service_waited_for[s as usize];
            }
        }
    }
    out.reverse();
    out
}
