//! `restore`: order and timeline of the return of downed assets and services, the critical
//! path, and the customer-hours of the whole outage.
//!
//! With `crews` fewer than the downed assets, the order is the one that minimises
//! customer-hours over every order ([`crate::restore_order`] defines an order, the search,
//! its exactness bound and its lower bound); a person's order is priced next to it. With
//! unbounded crews every asset starts as soon as its host is back, which no order can
//! improve.

use rustc_hash::FxHashMap;

use crate::contain::Optimality;
use crate::error::Error;
use crate::graph::{Graph, Member, NodeId, Target};
use crate::impact::{self, Outage};
use crate::report::{summarize, tidy, SegmentImpact};
use crate::restore_order::{self, OrderSearchStats, Problem, SearchConfig};

/// What to restore, with how many crews, in which order.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    /// Assets, services or flows failed at t = 0.
    pub down: Vec<Target>,
    /// At most this many assets restored at once (None: unbounded).
    pub crews: Option<usize>,
    /// A person's order to price instead of the optimum (every downed asset once; an
    /// asset listed before its downed host waits for it). The optimum is reported beside.
    pub order: Option<Vec<NodeId>>,
    pub config: SearchConfig,
}

/// An order and what it costs (the optimum, beside a person's order).
#[derive(Debug, Clone)]
pub struct OrderCost {
    pub order: Vec<String>,
    pub customer_hours: f64,
    pub total_hours: f64,
    /// Proven cheapest of all orders.
    pub optimal: bool,
}

/// An asset's restoration.
#[derive(Debug, Clone)]
pub struct AssetStep {
    pub id: String,
    pub name: String,
    pub start_hours: f64,
    pub up_hours: f64,
    /// The host it had to wait for, if any.
    pub after: Option<String>,
    /// The asset whose return freed the crew it took, when it waited for a crew.
    pub crew_after: Option<String>,
}

/// A service's return.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalStep {
    /// "asset" or "service".
    pub kind: &'static str,
    pub id: String,
    pub start_hours: f64,
    pub end_hours: f64,
    /// How it waited for the step before: "host" (the asset it runs on), "crew" (the
    /// crew freed by the previous asset), "dependency" (a service's dependency); None for
    /// the first step.
    pub via: Option<&'static str>,
}

/// The `restore` answer.
#[derive(Debug, Clone)]
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
    /// The priority list this timeline schedules (downed assets in the order they start).
    pub order: Vec<String>,
    /// "optimal" (proven cheapest), "best found" (search budget or size limit reached),
    /// "given" (--order), or "unbounded" (no crew limit: every asset starts when its host
    /// is back).
    pub order_source: &'static str,
    /// Is this timeline's order the cheapest? `lower_bound`: proven lower bound on the
    /// cheapest order's customer-hours; `gap`: this order's customer-hours minus it.
    pub optimality: Optimality,
    /// With --order: the cheapest order found, for comparison.
    pub optimum: Option<OrderCost>,
    /// With --order: assets listed before the downed host they run on (they wait for it).
    pub listed_before_host: Vec<String>,
    pub order_search: OrderSearchStats,
}

/// Plan the restoration of `down` (assets, services or flows failed at t = 0) in the order
/// that minimises customer-hours.
pub fn restore(g: &Graph, down: &[Target], crews: Option<usize>) -> Result<RestoreReport, Error> {
    restore_with(
        g,
        &RestoreRequest {
            down: down.to_vec(),
            crews,
            ..Default::default()
        },
    )
}

/// Why each downed asset started when it did: (what it waited for, "host" | "crew").
type Waits = FxHashMap<NodeId, (NodeId, &'static str)>;

/// A timeline: impact of one schedule and why each asset started when it did.
struct Timeline {
    imp: impact::Impact,
    waits: Waits,
    order: Vec<String>,
}

/// Plan the restoration of a request (see [`RestoreRequest`]).
pub fn restore_with(g: &Graph, req: &RestoreRequest) -> Result<RestoreReport, Error> {
    let down = &req.down;
    let crews = req.crews;
    if down.is_empty() {
        return Err(Error::NothingDown);
    }
    if crews == Some(0) {
        return Err(Error::NoCrews);
    }
    let mut outage = Outage::default();
    for t in down {
        match *t {
            Target::Node(n) => outage.nodes.push(n),
            Target::Service(s) => outage.services.push(s),
            Target::Flow(f) => outage.flows.push(f),
        }
    }
    let id = |n: NodeId| g.node_ids[n as usize].clone();
    let problem = Problem::new(g, &outage);
    let given = match &req.order {
        Some(o) => Some(problem.order_of(g, o).map_err(Error::Order)?),
        None => None,
    };
    let Chosen {
        tl,
        optimality,
        optimum,
        source,
        stats,
    } = choose(g, &outage, &problem, req, given.as_deref());
    let listed_before_host = given
        .as_ref()
        .map(|o| {
            problem
                .listed_before_host(o)
                .into_iter()
                .map(|j| id(problem.jobs[j]))
                .collect()
        })
        .unwrap_or_default();
    let imp = &tl.imp;
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
                crew_after: tl.waits.get(&n).filter(|w| w.1 == "crew").map(|w| id(w.0)),
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
    let (_, mut segments) = summarize(g, imp);
    segments.sort_by(|a, b| {
        a.back_after_hours
            .total_cmp(&b.back_after_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    let service_critical_path = critical_path(g, imp, &tl.waits, true);
    let critical_path = critical_path(g, imp, &tl.waits, false);
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
        customer_hours: tidy(imp.total),
        order: tl.order.clone(),
        order_source: source,
        optimality,
        optimum,
        listed_before_host,
        order_search: stats,
    })
}

/// The timeline reported and how its order compares with the cheapest.
struct Chosen {
    tl: Timeline,
    optimality: Optimality,
    optimum: Option<OrderCost>,
    source: &'static str,
    stats: OrderSearchStats,
}

/// Search the cheapest order (with fewer crews than downed assets) and price a person's
/// order beside it; with enough crews, the unbounded timeline.
fn choose(
    g: &Graph,
    outage: &Outage,
    problem: &Problem,
    req: &RestoreRequest,
    given: Option<&[usize]>,
) -> Chosen {
    let crews = req.crews;
    let id = |n: NodeId| g.node_ids[n as usize].clone();
    let (tl, optimality, optimum, source, stats) = match crews {
        Some(k) if k < problem.len() => {
            let sol = restore_order::search(problem, k, &req.config);
            let best = scheduled(g, outage, problem, &sol.schedule);
            match given {
                None => {
                    let source = if sol.optimal { "optimal" } else { "best found" };
                    let opt = Optimality {
                        optimal: sol.optimal,
                        lower_bound: tidy(sol.lower_bound),
                        gap: tidy((sol.cost - sol.lower_bound).max(0.0)),
                    };
                    (best, opt, None, source, sol.stats)
                }
                Some(o) => {
                    let (sched, cost) = problem.price(o, k);
                    let mine = scheduled(g, outage, problem, &sched);
                    let better = cost < sol.cost;
                    let tol = 1e-9 * sol.cost.abs().max(1.0);
                    let optimal = sol.optimal && cost <= sol.cost + tol;
                    let opt = Optimality {
                        optimal,
                        lower_bound: tidy(sol.lower_bound.min(cost)),
                        gap: if optimal {
                            0.0
                        } else {
                            tidy((cost - sol.lower_bound).max(0.0))
                        },
                    };
                    let reference = if better { &mine } else { &best };
                    let optimum = OrderCost {
                        order: reference.order.clone(),
                        customer_hours: tidy(reference.imp.total),
                        total_hours: end_of(g, reference),
                        optimal: sol.optimal,
                    };
                    (mine, opt, Some(optimum), "given", sol.stats)
                }
            }
        }
        _ => {
            // Unbounded (or as many crews as assets): every asset starts when its host is
            // back, the earliest possible; the cost is at its minimum whatever the order.
            let imp = impact::evaluate(g, outage, 0.0, None);
            let waits: Waits = imp
                .nodes
                .waited_for
                .iter()
                .map(|(&n, &h)| (n, (h, "host")))
                .collect();
            let order = imp.nodes.order.iter().map(|&n| id(n)).collect();
            let total = imp.total;
            let tl = Timeline { imp, waits, order };
            let opt = Optimality {
                optimal: true,
                lower_bound: tidy(total),
                gap: 0.0,
            };
            let source = if given.is_some() {
                "given"
            } else {
                "unbounded"
            };
            let stats = OrderSearchStats {
                downed_assets: problem.len(),
                ..Default::default()
            };
            (tl, opt, None, source, stats)
        }
    };
    Chosen {
        tl,
        optimality,
        optimum,
        source,
        stats,
    }
}

/// The impact of a schedule of `problem`, and why each asset started when it did: its host
/// when it started the moment its host was back, else the crew it waited for.
fn scheduled(
    g: &Graph,
    outage: &Outage,
    problem: &Problem,
    s: &restore_order::Schedule,
) -> Timeline {
    let imp = impact::evaluate_nodes(g, problem.node_times(s), outage, 0.0);
    let mut waits = Waits::default();
    for j in 0..problem.len() {
        let n = problem.jobs[j];
        let host = problem.host(j).filter(|&h| s.end[h] == s.start[j]);
        if let Some(h) = host {
            waits.insert(n, (problem.jobs[h], "host"));
        } else if let Some(c) = s.crew_after[j] {
            waits.insert(n, (problem.jobs[c], "crew"));
        }
    }
    let order = s
        .seq
        .iter()
        .map(|&j| g.node_ids[problem.jobs[j] as usize].clone())
        .collect();
    Timeline { imp, waits, order }
}

/// When everything of a timeline is back.
fn end_of(g: &Graph, tl: &Timeline) -> f64 {
    critical_path(g, &tl.imp, &tl.waits, false)
        .last()
        .map_or(0.0, |c| c.end_hours)
}

/// The chain of waits ending at whatever comes back last: each asset goes back to what
/// set its start (its host, or the asset whose return freed its crew), each service to the
/// dependency it waited for last, so the chain explains the end time from t = 0.
/// `services_only`: end at the last service back (the customers' critical path) rather than
/// at whatever comes back last.
fn critical_path(
    g: &Graph,
    imp: &impact::Impact,
    waits: &Waits,
    services_only: bool,
) -> Vec<CriticalStep> {
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
    let mut out: Vec<CriticalStep> = Vec::new();
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
                let w = waits.get(&n).copied();
                out.push(CriticalStep {
                    kind: "asset",
                    id: g.node_ids[n as usize].clone(),
                    start_hours: s,
                    end_hours: e,
                    via: w.map(|w| w.1),
                });
                cur = w.map(|w| Member::Node(w.0));
            }
            Member::Service(s) => {
                let e = imp.service_up[s as usize];
                if e <= 0.0 {
                    break;
                }
                let next = imp.service_waited_for[s as usize];
                out.push(CriticalStep {
                    kind: "service",
                    id: g.services[s as usize].id.clone(),
                    start_hours: e - g.services[s as usize].recovery_hours,
                    end_hours: e,
                    via: next.map(|_| "dependency"),
                });
                cur = next;
            }
        }
    }
    out.reverse();
    out
}
