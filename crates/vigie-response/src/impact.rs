//! Customer impact of an outage: which services go down, when they come back, and the
//! customer-hours lost. Shared by `contain` (cost of a plan) and `restore` (timeline).
//!
//! Timing rule (documented in docs/response.md): everything in the outage is down from
//! t = 0. Restoration starts at `start` (the containment duration for a plan, 0 for
//! `restore`). A down asset comes back `recovery_hours` after both `start` and the moment
//! the host it runs on is back. A blocked flow reopens at `start`. A service that lost a hard
//! dependency, or was taken offline, or whose flow was blocked, restarts `recovery_hours`
//! after its hard dependencies are all back (and after `start` when taken offline/blocked);
//! a k-of-n dependency is back when its k-th member is. A soft dependency only degrades a
//! service until it is back, counted at the model's soft weight (default 0.25). Every rule only ever delays a
//! return when more is down, which makes the cost monotone in the set of actions — the
//! property the exact containment search relies on.

use rustc_hash::FxHashMap;

use crate::graph::{Graph, Member, NodeId, NONE};

/// What is down at t = 0.
#[derive(Debug, Clone, Default)]
pub struct Outage {
    /// Assets taken down directly (isolated, disabled, failed). Hosted assets follow.
    pub nodes: Vec<NodeId>,
    /// Blocked flows: their services are down until `start`.
    pub flows: Vec<u32>,
    /// Services taken offline (or failed) directly.
    pub services: Vec<u32>,
}

/// When each down asset is restored.
#[derive(Debug, Clone, Default)]
pub struct NodeTimes {
    /// node -> (restoration start, back up). Only down nodes appear.
    pub times: FxHashMap<NodeId, (f64, f64)>,
    /// Nodes in the order their restoration starts.
    pub order: Vec<NodeId>,
    /// node -> what it waited for before starting (its host), if anything.
    pub waited_for: FxHashMap<NodeId, NodeId>,
}

impl NodeTimes {
    /// When `n` is up (0 when it never went down).
    #[inline]
    pub fn up(&self, n: NodeId) -> f64 {
        self.times.get(&n).map_or(0.0, |t| t.1)
    }
}

/// Result of evaluating an outage.
#[derive(Debug, Clone)]
pub struct Impact {
    pub nodes: NodeTimes,
    /// Per service: time its hard dependencies are all back (0 when none failed).
    pub service_ready: Vec<f64>,
    /// Per service: time it is back up (0: never down).
    pub service_up: Vec<f64>,
    /// Per service: until when it runs degraded by a soft dependency (0: never).
    pub service_degraded_until: Vec<f64>,
    /// Per service: the member it waited for last (for the critical path).
    pub service_waited_for: Vec<Option<Member>>,
    /// Per segment: customer-hours lost.
    pub segment_hours: Vec<f64>,
    /// Per segment: when every service it uses is fully back (0: unaffected).
    pub segment_back: Vec<f64>,
    /// Total customer-hours.
    pub total: f64,
}

impl Impact {
    /// Was service `s` down or degraded at all?
    pub fn service_affected(&self, s: usize) -> bool {
        self.service_up[s] > 0.0 || self.service_degraded_until[s] > 0.0
    }
}

/// Down assets: the direct ones plus everything running on them, transitively.
pub fn down_closure(g: &Graph, direct: &[NodeId]) -> Vec<NodeId> {
    let mut seen: FxHashMap<NodeId, ()> = FxHashMap::default();
    let mut out = Vec::with_capacity(direct.len());
    for &n in direct {
        if g.kinds[n as usize] == crate::graph::NodeKind::Internet {
            continue;
        }
        if seen.insert(n, ()).is_none() {
            out.push(n);
        }
    }
    let mut i = 0;
    while i < out.len() {
        let n = out[i];
        i += 1;
        for &c in g.hosted_on(n) {
            if seen.insert(c, ()).is_none() {
                out.push(c);
            }
        }
    }
    out
}

/// Restoration times of down assets. `crews`: at most that many assets restore at once
/// (None: unbounded). With crews, ready assets are served referenced-first (they carry
/// services), then longest recovery first, then by id — a list-scheduling heuristic.
/// `restore` no longer uses it with crews: it searches the cheapest order
/// (`restore_order`) and evaluates it with [`evaluate_nodes`].
pub fn node_times(g: &Graph, direct: &[NodeId], start: f64, crews: Option<usize>) -> NodeTimes {
    let down = down_closure(g, direct);
    let mut nt = NodeTimes::default();
    let in_down: FxHashMap<NodeId, ()> = down.iter().map(|&n| (n, ())).collect();
    let host_down = |n: NodeId| {
        let h = g.runs_on[n as usize];
        (h != NONE && in_down.contains_key(&h)).then_some(h)
    };
    match crews {
        None => {
            // `down` is in BFS order from the direct roots over hosted children, but a
            // directly-down child may precede its host: resolve with a memoised walk.
            for &n in &down {
                resolve_unbounded(g, n, start, &host_down, &mut nt);
            }
            let mut order = down.clone();
            order.sort_by(|a, b| {
                nt.times[a]
                    .0
                    .total_cmp(&nt.times[b].0)
                    .then_with(|| g.node_ids[*a as usize].cmp(&g.node_ids[*b as usize]))
            });
            nt.order = order;
        }
        Some(k) => schedule_crews(g, &down, start, k.max(1), &host_down, &mut nt),
    }
    nt
}

fn resolve_unbounded(
    g: &Graph,
    n: NodeId,
    start: f64,
    host_down: &impl Fn(NodeId) -> Option<NodeId>,
    nt: &mut NodeTimes,
) -> f64 {
    if let Some(t) = nt.times.get(&n) {
        return t.1;
    }
    // Iterative over the runs_on chain (bounded: the builder rejects cycles).
    let mut chain = vec![n];
    let mut cur = n;
    while let Some(h) = host_down(cur) {
        if nt.times.contains_key(&h) {
            break;
        }
        chain.push(h);
        cur = h;
    }
    for &x in chain.iter().rev() {
        let (begin, waited) = match host_down(x) {
            Some(h) => {
                let hu = nt.times.get(&h).map_or(start, |t| t.1);
                if hu > start {
                    (hu, Some(h))
                } else {
                    (start, None)
                }
            }
            None => (start, None),
        };
        nt.times.insert(x, (begin, begin + g.recovery[x as usize]));
        if let Some(h) = waited {
            nt.waited_for.insert(x, h);
        }
    }
    nt.times.get(&n).map_or(start, |t| t.1)
}

fn schedule_crews(
    g: &Graph,
    down: &[NodeId],
    start: f64,
    crews: usize,
    host_down: &impl Fn(NodeId) -> Option<NodeId>,
    nt: &mut NodeTimes,
) {
    use std::cmp::Ordering;
    let mut waiting: FxHashMap<NodeId, Vec<NodeId>> = FxHashMap::default();
    let mut ready: Vec<NodeId> = Vec::new();
    for &n in down {
        match host_down(n) {
            Some(h) => waiting.entry(h).or_default().push(n),
            None => ready.push(n),
        }
    }
    let prio = |a: &NodeId, b: &NodeId| -> Ordering {
        // Sorted so that the best candidate is LAST (pop from the end).
        let (ra, rb) = (g.referenced[*a as usize], g.referenced[*b as usize]);
        ra.cmp(&rb)
            .then_with(|| g.recovery[*a as usize].total_cmp(&g.recovery[*b as usize]))
            .then_with(|| g.node_ids[*b as usize].cmp(&g.node_ids[*a as usize]))
    };
    // Running jobs: (end time, node).
    let mut running: Vec<(f64, NodeId)> = Vec::new();
    let mut now = start;
    let mut done = 0usize;
    while done < down.len() {
        ready.sort_by(prio);
        while running.len() < crews {
            let Some(n) = ready.pop() else { break };
            let end = now + g.recovery[n as usize];
            nt.times.insert(n, (now, end));
            nt.order.push(n);
            if let Some(h) = host_down(n) {
                nt.waited_for.insert(n, h);
            }
            running.push((end, n));
        }
        // Advance to the next completion.
        let Some(pos) = running
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
            .map(|(i, _)| i)
        else {
            // Nothing runs and nothing is ready: unreachable since every waiting node's
            // host is itself in `down`; stop rather than loop.
            break;
        };
        let (end, n) = running.swap_remove(pos);
        now = end;
        done += 1;
        if let Some(ch) = waiting.remove(&n) {
            ready.extend(ch);
        }
    }
}

/// Evaluate an outage: node times, service times, customer-hours.
pub fn evaluate(g: &Graph, outage: &Outage, start: f64, crews: Option<usize>) -> Impact {
    evaluate_nodes(g, node_times(g, &outage.nodes, start, crews), outage, start)
}

/// Evaluate an outage whose asset restoration times are already decided (`restore` with
/// an order: `restore_order`).
pub fn evaluate_nodes(g: &Graph, nodes: NodeTimes, outage: &Outage, start: f64) -> Impact {
    let (times, order) = service_times(g, &nodes, outage, start);
    let ns = g.services.len();
    let mut ready = vec![0.0f64; ns];
    let mut up = vec![0.0f64; ns];
    let mut degraded = vec![0.0f64; ns];
    let mut waited: Vec<Option<Member>> = vec![None; ns];
    let mut segment_hours = vec![0.0; g.segments.len()];
    let mut segment_back = vec![0.0f64; g.segments.len()];
    let mut total = 0.0;
    for &s in &order {
        // `order` lists exactly the keys of `times`; `get` keeps this panic-free anyway.
        let Some(t) = times.get(&s) else { continue };
        let si = s as usize;
        ready[si] = t.ready;
        up[si] = t.up;
        degraded[si] = t.degraded;
        waited[si] = t.waited;
        for &(gi, w) in g.segments_of_service(s) {
            if w <= 0.0 {
                continue;
            }
            let h = segment_loss(g, gi, w, t);
            segment_hours[gi as usize] += h;
            total += h;
            if t.up > 0.0 || t.degraded > 0.0 {
                segment_back[gi as usize] = segment_back[gi as usize].max(t.up).max(t.degraded);
            }
        }
    }
    Impact {
        nodes,
        service_ready: ready,
        service_up: up,
        service_degraded_until: degraded,
        service_waited_for: waited,
        segment_hours,
        segment_back,
        total,
    }
}

/// Total customer-hours only (the containment search's inner loop): touches only the
/// services reachable from what is down, never all of them.
pub fn cost(g: &Graph, outage: &Outage) -> f64 {
    let start = g.containment_hours;
    let nodes = node_times(g, &outage.nodes, start, None);
    let (times, order) = service_times(g, &nodes, outage, start);
    let mut total = 0.0;
    for s in order {
        // `order` lists exactly the keys of `times`; `get` keeps this panic-free anyway.
        let Some(t) = times.get(&s) else { continue };
        for &(gi, w) in g.segments_of_service(s) {
            if w > 0.0 {
                total += segment_loss(g, gi, w, t);
            }
        }
    }
    total
}

#[inline]
fn segment_loss(g: &Graph, gi: u32, w: f64, t: &SvcTime) -> f64 {
    let seg = &g.segments[gi as usize];
    let lost = t.up + g.soft_weight * (t.degraded - t.up).max(0.0);
    seg.customers as f64 * seg.sla_weight * w * lost
}

/// When one affected service is back.
#[derive(Debug, Clone, Copy)]
struct SvcTime {
    ready: f64,
    up: f64,
    degraded: f64,
    waited: Option<Member>,
}

/// Times of the services an outage can affect (those depending, transitively, on a down
/// asset, or forced down), in dependency order.
fn service_times(
    g: &Graph,
    nodes: &NodeTimes,
    outage: &Outage,
    start: f64,
) -> (FxHashMap<u32, SvcTime>, Vec<u32>) {
    let mut forced: FxHashMap<u32, ()> = FxHashMap::default();
    for &s in &outage.services {
        forced.insert(s, ());
    }
    for &f in &outage.flows {
        for &s in &g.flows[f as usize].services {
            forced.insert(s, ());
        }
    }
    let mut seen: FxHashMap<u32, ()> = FxHashMap::default();
    let mut order: Vec<u32> = Vec::new();
    for &n in nodes.times.keys() {
        for &s in g.services_of_node(n) {
            if seen.insert(s, ()).is_none() {
                order.push(s);
            }
        }
    }
    for &s in forced.keys() {
        if seen.insert(s, ()).is_none() {
            order.push(s);
        }
    }
    let mut i = 0;
    while i < order.len() {
        let s = order[i];
        i += 1;
        for &u in g.users_of_service(s) {
            if seen.insert(u, ()).is_none() {
                order.push(u);
            }
        }
    }
    order.sort_unstable_by_key(|&s| g.service_rank[s as usize]);
    let mut times: FxHashMap<u32, SvcTime> = FxHashMap::default();
    times.reserve(order.len());
    let mut buf: Vec<(f64, Member)> = Vec::new();
    for &s in &order {
        let svc = &g.services[s as usize];
        let mut hard_ready = 0.0f64;
        let mut soft_ready = 0.0f64;
        let mut hard_wait = None;
        for d in &svc.deps {
            buf.clear();
            for &m in &d.members {
                let t = match m {
                    Member::Node(x) => nodes.up(x),
                    Member::Service(x) => times.get(&x).map_or(0.0, |t| t.up),
                };
                buf.push((t, m));
            }
            // The dependency holds from the moment its k-th member is back.
            let k = (d.k as usize).max(1);
            let (t, m) = if k > buf.len() {
                (f64::INFINITY, None)
            } else {
                buf.sort_by(|a, b| a.0.total_cmp(&b.0));
                (buf[k - 1].0, Some(buf[k - 1].1))
            };
            if d.hard {
                if t > hard_ready {
                    hard_ready = t;
                    hard_wait = m;
                }
            } else {
                soft_ready = soft_ready.max(t);
            }
        }
        let is_forced = forced.contains_key(&s);
        let mut up = 0.0;
        let mut waited = None;
        if is_forced || hard_ready > 0.0 {
            let begin = if is_forced {
                hard_ready.max(start)
            } else {
                hard_ready
            };
            up = begin + svc.recovery_hours;
            if hard_ready >= start || !is_forced {
                waited = hard_wait;
            }
        }
        let degraded = if soft_ready > up { soft_ready } else { 0.0 };
        times.insert(
            s,
            SvcTime {
                ready: hard_ready,
                up,
                degraded,
                waited,
            },
        );
    }
    (times, order)
}
