//! The restoration order that minimises customer-hours when crews are fewer than the work
//! that could run in parallel.
//!
//! # Contract
//!
//! The jobs are the downed assets: those given as down plus everything running on them
//! (`runs_on`), transitively. A job takes its asset's `recovery_hours` of one crew and may
//! start only once its host is back (host precedence); services and segments then come
//! back by the timing rule of [`crate::impact`].
//!
//! An **order** is a priority list over all the downed assets (each exactly once). It is
//! turned into a timeline by *list scheduling* over the `k` crews: whenever a crew is free,
//! it takes the first asset of the list that is not started and whose host is back; when
//! none is, it waits for the next asset to come back. An asset listed before its host
//! therefore waits for it while the crews take the next ready assets. The timelines of all
//! orders are exactly the non-delay schedules (no crew idles while an asset is ready);
//! with one crew they include an optimal schedule of every kind (idling never helps one
//! crew, the cost being monotone), with more crews the optimum reported is **the optimum
//! over orders** (waiting for a host with a crew kept free can occasionally do better).
//!
//! The cost of an order is the total customer-hours of its timeline ([`Problem::cost`],
//! bit-identical to [`crate::impact::evaluate_nodes`]): a weighted completion time with
//! precedences, k-of-n groups, service chains and soft dependencies.
//!
//! # Search
//!
//! 1. Incumbent: the best of four priority rules — referenced-first/longest-first (the
//!    rule `--crews` used before), "highest cost rate first" (assets by the customer-hours
//!    per hour of the services that depend on them, redundancy ignored), the same rate per
//!    recovery hour (Smith's rule), and (up to 64 downed assets) a greedy that appends the
//!    ready asset whose partial timeline has the lowest lower bound — then improved by
//!    local search (moving one asset to another position of the list) until no move
//!    improves, [`SearchConfig::max_orders`] timelines have been priced or
//!    [`SearchConfig::time_limit`] has passed.
//! 2. Exact: with at most [`EXACT_MAX`] downed assets, a depth-first branch and bound over
//!    the dispatch decisions of list scheduling (which ready asset the next free crew
//!    takes; assets started at the same instant are taken in index order, since the set
//!    started matters, not the sequence), children visited by increasing bound, pruned by
//!    the lower bound below. When it ends within [`SearchConfig::max_nodes`] bounded
//!    partial timelines the order is proven optimal (`optimal: true`, `gap: 0`): on random
//!    12-asset models it takes at most about 10,000 nodes, under a second in a debug build.
//! 3. Beyond [`EXACT_MAX`] assets the incumbent is the answer: the same branch and bound
//!    still runs up to 64 assets, but on a small budget ([`SearchConfig::attempt_nodes`]),
//!    so it proves the optimum only when the bound is tight. Otherwise (or when a budget
//!    runs out) the order is reported with `optimal: false`, the root lower bound and the
//!    gap between them.
//!
//! # Lower bound
//!
//! The cost is monotone in every completion time (validated models: non-negative
//! recoveries and weights, soft factor within [0, 1]). At a node of the search, with `f`
//! the moment the first crew is free, every unstarted asset finishes at the earliest at
//! `f` (or after its host's bound) plus its recovery: pricing those completions bounds the
//! cost below (`joint`; at the root, the cost with unbounded crews). It is then tightened
//! per service: a service needs some *satisfying set* of downed assets back (its minimal
//! sets, from the hard dependencies and k-of-n groups, closed under hosts, are precomputed
//! when there are at most 64 downed assets), which `k` crews cannot finish before
//! `f + its unstarted recovery / k`; the service's up time is at least the cheapest such
//! set's bound plus its own restart. Each service's up time takes the larger of its two
//! bounds, and each service's cost is bounded with its own best case, which keeps the sum
//! a lower bound (it ignores that services compete for crews: the branching does that).
//! A model breaking monotonicity
//! (hand-built graphs only) gets no bound: heuristic order, `lower_bound` 0.

use std::time::Instant;

use crate::graph::{Graph, Member, NodeId, NONE};
use crate::impact::{down_closure, NodeTimes, Outage};

/// Why an order given by a person is not a priority list of the downed assets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Assets of the order that are not down (neither given as down nor running on a
    /// downed host).
    #[error(
        "{} {} not down (downed assets: {})",
        ids.join(", "),
        if ids.len() == 1 { "is" } else { "are" },
        downed.join(", ")
    )]
    NotDown {
        ids: Vec<String>,
        downed: Vec<String>,
    },
    /// Assets listed more than once.
    #[error("{} listed more than once", ids.join(", "))]
    Repeated { ids: Vec<String> },
    /// Downed assets the order leaves out (with the host they run on, if any).
    #[error(
        "it omits downed asset(s) {}: list every downed asset once, those running on a \
         downed host included",
        ids.join(", ")
    )]
    Missing { ids: Vec<String> },
}

/// Most downed assets for which the exact branch and bound runs.
pub const EXACT_MAX: usize = 12;

/// Cap on the minimal satisfying sets kept per service (beyond: their intersection, which
/// keeps the bound valid).
const MAX_SETS: usize = 64;

/// Budgets of the order search.
#[derive(Debug, Clone, Copy)]
pub struct SearchConfig {
    /// Branch-and-bound nodes (partial timelines bounded) before giving up the proof, up
    /// to [`EXACT_MAX`] downed assets.
    pub max_nodes: u64,
    /// The same beyond [`EXACT_MAX`] (up to 64 downed assets): an attempt, not a promise.
    pub attempt_nodes: u64,
    /// Timelines priced by the local search.
    pub max_orders: u64,
    /// Wall-clock limit of the local search and of the branch and bound (None: none).
    pub time_limit: Option<std::time::Duration>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            max_nodes: 2_000_000,
            attempt_nodes: 20_000,
            max_orders: 20_000,
            time_limit: Some(std::time::Duration::from_secs(10)),
        }
    }
}

/// What the search did.
#[derive(Debug, Clone, Default)]
pub struct OrderSearchStats {
    /// Downed assets (jobs) ordered.
    pub downed_assets: usize,
    /// The branch and bound ran (skipped when an order meets the lower bound at once; full
    /// budget up to [`EXACT_MAX`] downed assets, a small one up to 64).
    pub exact_search: bool,
    /// Partial timelines bounded by the branch and bound.
    pub nodes_expanded: u64,
    /// Timelines priced (heuristics, local search and complete branch-and-bound leaves).
    pub orders_priced: u64,
    pub budget_exhausted: bool,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Copy)]
enum CMember {
    /// Not down: up from t = 0.
    Up,
    Job(u32),
    /// An affected service (index into `Problem::svcs`).
    Svc(u32),
}

#[derive(Debug, Clone)]
struct CDep {
    hard: bool,
    k: usize,
    members: Vec<CMember>,
}

#[derive(Debug, Clone)]
struct CSvc {
    forced: bool,
    recovery: f64,
    deps: Vec<CDep>,
    /// customers x SLA weight x use weight, per segment using it (weight > 0), in the
    /// graph's order: the same products, summed in the same order, as `impact`.
    coefs: Vec<f64>,
    /// Minimal satisfying sets of downed assets (bitmasks); empty when not computed.
    sets: Vec<u64>,
}

/// The restoration problem of one outage, compiled for fast pricing of timelines.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Downed assets, job index -> node.
    pub jobs: Vec<NodeId>,
    p: Vec<f64>,
    host: Vec<Option<usize>>,
    /// Jobs with hosts before what runs on them.
    topo: Vec<usize>,
    svcs: Vec<CSvc>,
    soft: f64,
    /// The cost is monotone in completion times, so bounds are valid.
    monotone: bool,
    /// Customer-hours per hour of the services depending (hard, transitively) on each job.
    rate: Vec<f64>,
    referenced: Vec<bool>,
    ids: Vec<String>,
}

/// A timeline: the list schedule of one order.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub start: Vec<f64>,
    pub end: Vec<f64>,
    /// Jobs in the order they start (the canonical form of the order).
    pub seq: Vec<usize>,
    /// The job whose return freed the crew this one took (when it started then, t > 0).
    pub crew_after: Vec<Option<usize>>,
}

/// The answer of the search.
#[derive(Debug, Clone)]
pub struct Solution {
    pub schedule: Schedule,
    pub cost: f64,
    pub optimal: bool,
    pub lower_bound: f64,
    pub stats: OrderSearchStats,
}

impl Problem {
    /// Compile `outage` (its assets, services and flows) on `g`.
    pub fn new(g: &Graph, outage: &Outage) -> Problem {
        let jobs = down_closure(g, &outage.nodes);
        let n = jobs.len();
        let mut local = rustc_hash::FxHashMap::default();
        for (i, &x) in jobs.iter().enumerate() {
            local.insert(x, i);
        }
        let host: Vec<Option<usize>> = jobs
            .iter()
            .map(|&x| {
                let h = g.runs_on[x as usize];
                if h == NONE {
                    None
                } else {
                    local.get(&h).copied()
                }
            })
            .collect();
        let topo = host_order(&host);
        let (order, forced) = affected_services(g, &jobs, outage);
        let mut svc_local = rustc_hash::FxHashMap::default();
        for (i, &s) in order.iter().enumerate() {
            svc_local.insert(s, i as u32);
        }
        let svcs: Vec<CSvc> = order
            .iter()
            .map(|&s| {
                let svc = &g.services[s as usize];
                let deps = svc
                    .deps
                    .iter()
                    .map(|d| CDep {
                        hard: d.hard,
                        k: (d.k as usize).max(1),
                        members: d
                            .members
                            .iter()
                            .map(|m| match *m {
                                Member::Node(x) => local
                                    .get(&x)
                                    .map_or(CMember::Up, |&j| CMember::Job(j as u32)),
                                Member::Service(x) => {
                                    svc_local.get(&x).map_or(CMember::Up, |&i| CMember::Svc(i))
                                }
                            })
                            .collect(),
                    })
                    .collect();
                let coefs = g
                    .segments_of_service(s)
                    .iter()
                    .filter(|&&(_, w)| w > 0.0)
                    .map(|&(gi, w)| {
                        let seg = &g.segments[gi as usize];
                        seg.customers as f64 * seg.sla_weight * w
                    })
                    .collect();
                CSvc {
                    forced: forced.contains(&s),
                    recovery: svc.recovery_hours,
                    deps,
                    coefs,
                    sets: Vec::new(),
                }
            })
            .collect();
        let p: Vec<f64> = jobs.iter().map(|&x| g.recovery[x as usize]).collect();
        let monotone = (0.0..=1.0).contains(&g.soft_weight)
            && p.iter().all(|v| *v >= 0.0 && v.is_finite())
            && svcs.iter().all(|s| {
                s.recovery >= 0.0 && s.recovery.is_finite() && s.coefs.iter().all(|c| *c >= 0.0)
            });
        let mut pb = Problem {
            referenced: jobs.iter().map(|&x| g.referenced[x as usize]).collect(),
            ids: jobs
                .iter()
                .map(|&x| g.node_ids[x as usize].clone())
                .collect(),
            jobs,
            p,
            host,
            topo,
            svcs,
            soft: g.soft_weight,
            monotone,
            rate: vec![0.0; n],
        };
        pb.rate = pb.rates();
        if n <= 64 {
            pb.compute_sets();
        }
        pb
    }

    /// Job indices of a person's order, checked: every downed asset exactly once.
    pub fn order_of(&self, g: &Graph, nodes: &[NodeId]) -> Result<Vec<usize>, OrderError> {
        let local: rustc_hash::FxHashMap<NodeId, usize> =
            self.jobs.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let name = |n: NodeId| g.node_ids[n as usize].clone();
        let not_down: Vec<String> = nodes
            .iter()
            .filter(|n| !local.contains_key(n))
            .map(|&n| name(n))
            .collect();
        if !not_down.is_empty() {
            return Err(OrderError::NotDown {
                ids: not_down,
                downed: self.ids.clone(),
            });
        }
        let mut seen = vec![false; self.len()];
        let mut repeated = Vec::new();
        let mut order = Vec::with_capacity(nodes.len());
        for n in nodes {
            let Some(&j) = local.get(n) else { continue };
            if seen[j] {
                if !repeated.contains(&self.ids[j]) {
                    repeated.push(self.ids[j].clone());
                }
            } else {
                seen[j] = true;
                order.push(j);
            }
        }
        if !repeated.is_empty() {
            return Err(OrderError::Repeated { ids: repeated });
        }
        let missing: Vec<String> = (0..self.len())
            .filter(|&j| !seen[j])
            .map(|j| match self.host[j] {
                Some(h) => format!("{} (runs on {})", self.ids[j], self.ids[h]),
                None => self.ids[j].clone(),
            })
            .collect();
        if !missing.is_empty() {
            return Err(OrderError::Missing { ids: missing });
        }
        Ok(order)
    }

    /// Assets of `order` listed before the downed host they run on (they wait for it).
    pub fn listed_before_host(&self, order: &[usize]) -> Vec<usize> {
        let mut pos = vec![usize::MAX; self.len()];
        for (i, &j) in order.iter().enumerate() {
            if j < pos.len() {
                pos[j] = i;
            }
        }
        order
            .iter()
            .copied()
            .filter(|&j| self.host[j].is_some_and(|h| pos[h] > pos[j]))
            .collect()
    }

    /// Number of downed assets.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The job's host when it is down too.
    pub fn host(&self, j: usize) -> Option<usize> {
        self.host[j]
    }

    /// Customer-hours of a timeline given every job's completion time.
    pub fn cost(&self, end: &[f64]) -> f64 {
        let mut up = vec![0.0f64; self.svcs.len()];
        let mut buf = Vec::new();
        let mut total = 0.0;
        for (i, s) in self.svcs.iter().enumerate() {
            let (u, soft_ready) = self.service_up(s, end, &up, &mut buf);
            up[i] = u;
            total += self.service_cost(s, u, soft_ready);
        }
        total
    }

    /// (up time, soft-ready time) of one service, mirroring `impact::service_times`.
    fn service_up(&self, s: &CSvc, end: &[f64], up: &[f64], buf: &mut Vec<f64>) -> (f64, f64) {
        let mut hard_ready = 0.0f64;
        let mut soft_ready = 0.0f64;
        for d in &s.deps {
            buf.clear();
            buf.extend(d.members.iter().map(|m| match *m {
                CMember::Up => 0.0,
                CMember::Job(j) => end[j as usize],
                CMember::Svc(x) => up[x as usize],
            }));
            let t = if d.k > buf.len() {
                f64::INFINITY
            } else {
                buf.sort_by(|a, b| a.total_cmp(b));
                buf[d.k - 1]
            };
            if d.hard {
                if t > hard_ready {
                    hard_ready = t;
                }
            } else {
                soft_ready = soft_ready.max(t);
            }
        }
        let up = if s.forced || hard_ready > 0.0 {
            hard_ready.max(0.0) + s.recovery
        } else {
            0.0
        };
        (up, soft_ready)
    }

    #[inline]
    fn service_cost(&self, s: &CSvc, up: f64, soft_ready: f64) -> f64 {
        let degraded = if soft_ready > up { soft_ready } else { 0.0 };
        let lost = up + self.soft * (degraded - up).max(0.0);
        s.coefs.iter().map(|c| c * lost).fold(0.0, |a, b| a + b)
    }

    /// Customer-hours per hour lost while each job is down, over the services that depend
    /// on it hard (transitively), redundancy ignored: the "cost rate" of the naive rule.
    fn rates(&self) -> Vec<f64> {
        let n = self.len();
        // deps_on[s]: jobs service s depends on, transitively (hosts included), sorted:
        // sparse, as a large outage may touch many services.
        let mut deps_on: Vec<Vec<usize>> = Vec::with_capacity(self.svcs.len());
        let mut rate = vec![0.0; n];
        for s in &self.svcs {
            let mut mine: Vec<usize> = Vec::new();
            for d in s.deps.iter().filter(|d| d.hard) {
                for m in &d.members {
                    match *m {
                        CMember::Up => {}
                        CMember::Job(j) => {
                            let mut cur = Some(j as usize);
                            while let Some(x) = cur {
                                mine.push(x);
                                cur = self.host[x];
                            }
                        }
                        CMember::Svc(x) => mine.extend_from_slice(&deps_on[x as usize]),
                    }
                }
            }
            mine.sort_unstable();
            mine.dedup();
            let w: f64 = s.coefs.iter().sum();
            for &j in &mine {
                rate[j] += w;
            }
            deps_on.push(mine);
        }
        rate
    }

    /// Minimal satisfying sets of every service (see the module doc).
    fn compute_sets(&mut self) {
        let closure: Vec<u64> = (0..self.len())
            .map(|j| {
                let mut m = 0u64;
                let mut cur = Some(j);
                while let Some(x) = cur {
                    m |= 1 << x;
                    cur = self.host[x];
                }
                m
            })
            .collect();
        let mut done: Vec<Vec<u64>> = Vec::with_capacity(self.svcs.len());
        for s in &self.svcs {
            let mut fam: Vec<u64> = vec![0];
            for d in s.deps.iter().filter(|d| d.hard) {
                let member_fams: Vec<Vec<u64>> = d
                    .members
                    .iter()
                    .map(|m| match *m {
                        CMember::Up => vec![0],
                        CMember::Job(j) => vec![closure[j as usize]],
                        CMember::Svc(x) => done[x as usize].clone(),
                    })
                    .collect();
                let dep_fam = k_of_n_family(&member_fams, d.k);
                fam = product(&fam, &dep_fam);
            }
            done.push(fam);
        }
        for (s, fam) in self.svcs.iter_mut().zip(done) {
            s.sets = fam;
        }
    }

    /// Lower bound on the cost of every completion of `st`.
    fn bound(&self, st: &State, crews: usize, scratch: &mut Vec<f64>) -> f64 {
        let n = self.len();
        let free = st.earliest_crew();
        scratch.clear();
        scratch.extend_from_slice(&st.end);
        for &j in &self.topo {
            if !st.started(j) {
                let host_end = self.host[j].map_or(0.0, |h| scratch[h]);
                scratch[j] = free.max(host_end) + self.p[j];
            }
        }
        let clb = &scratch[..n];
        let mut up = vec![0.0f64; self.svcs.len()];
        let mut buf = Vec::new();
        let mut total = 0.0;
        for (i, s) in self.svcs.iter().enumerate() {
            let (mut u, soft_ready) = self.service_up(s, clb, &up, &mut buf);
            if !s.sets.is_empty() {
                let ready = self.set_bound(s, st, clb, crews, free);
                if ready > 0.0 {
                    u = u.max(ready + s.recovery);
                }
            }
            up[i] = u;
            total += self.service_cost(s, u, soft_ready);
        }
        total
    }

    /// Earliest time some satisfying set of `s` can be complete.
    fn set_bound(&self, s: &CSvc, st: &State, clb: &[f64], crews: usize, free: f64) -> f64 {
        let mut best = f64::INFINITY;
        for &m in &s.sets {
            let mut work = 0.0;
            let mut last = 0.0f64;
            let mut rest = m;
            while rest != 0 {
                let j = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                last = last.max(clb[j]);
                if !st.started(j) {
                    work += self.p[j];
                }
            }
            let t = if work > 0.0 {
                last.max(free + work / crews as f64)
            } else {
                last
            };
            best = best.min(t);
        }
        if best.is_finite() {
            best
        } else {
            0.0
        }
    }

    /// The timeline of `order` (a priority list of the jobs) over `crews` crews. Event
    /// driven with heaps (O(n log n)), the same rule as the search's `State`: at each
    /// instant every asset back is counted before the free crews take the ready assets.
    pub fn simulate(&self, order: &[usize], crews: usize) -> Schedule {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let n = self.len();
        let mut rank = vec![usize::MAX; n];
        for (i, &j) in order.iter().enumerate() {
            if j < n && rank[j] == usize::MAX {
                rank[j] = i;
            }
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut ready = BinaryHeap::new();
        for (j, h) in self.host.iter().enumerate() {
            match *h {
                Some(h) => children[h].push(j),
                None => ready.push(Reverse((rank[j], j))),
            }
        }
        let k = crews.clamp(1, n.max(1));
        // (free since, last job) of idle crews; running: (end, crew, job).
        let mut idle: Vec<(f64, usize, Option<usize>)> = (0..k).map(|c| (0.0, c, None)).collect();
        let mut running: BinaryHeap<Reverse<(Time, usize, usize)>> = BinaryHeap::new();
        let mut s = Schedule {
            start: vec![0.0; n],
            end: vec![0.0; n],
            seq: Vec::with_capacity(n),
            crew_after: vec![None; n],
        };
        let mut now = 0.0f64;
        loop {
            while !idle.is_empty() {
                let Some(Reverse((_, j))) = ready.pop() else {
                    break;
                };
                // The crew freed last (ties: lowest crew), as `State::start_job`.
                let mut pick = 0;
                for (i, c) in idle.iter().enumerate() {
                    let b = &idle[pick];
                    if c.0 > b.0 || (c.0 == b.0 && c.1 < b.1) {
                        pick = i;
                    }
                }
                let (free, crew, last) = idle.swap_remove(pick);
                s.start[j] = now;
                s.end[j] = now + self.p[j];
                if now > 0.0 && free == now {
                    s.crew_after[j] = last;
                }
                s.seq.push(j);
                running.push(Reverse((Time(s.end[j]), crew, j)));
            }
            let Some(Reverse((Time(e), crew, j))) = running.pop() else {
                break;
            };
            now = e;
            let mut back = vec![(crew, j)];
            while let Some(Reverse((Time(e2), c2, j2))) = running.peek().copied() {
                if e2 > now {
                    break;
                }
                running.pop();
                back.push((c2, j2));
            }
            for (c, x) in back {
                idle.push((now, c, Some(x)));
                for &ch in &children[x] {
                    ready.push(Reverse((rank[ch], ch)));
                }
            }
        }
        s
    }

    /// Price an order: its timeline and cost.
    pub fn price(&self, order: &[usize], crews: usize) -> (Schedule, f64) {
        let s = self.simulate(order, crews);
        let c = self.cost(&s.end);
        (s, c)
    }

    /// The node times `impact` needs for a schedule.
    pub fn node_times(&self, s: &Schedule) -> NodeTimes {
        let mut nt = NodeTimes::default();
        for &j in &s.seq {
            let n = self.jobs[j];
            nt.times.insert(n, (s.start[j], s.end[j]));
            nt.order.push(n);
            if let Some(h) = self.host[j] {
                nt.waited_for.insert(n, self.jobs[h]);
            }
        }
        nt
    }

    /// Lower bound at t = 0 (nothing started).
    pub fn root_bound(&self, crews: usize) -> f64 {
        if !self.monotone {
            return 0.0;
        }
        let st = State::new(self.len(), crews);
        self.bound(&st, crews, &mut Vec::new())
    }

    /// The four priority rules of the module doc, as orders.
    pub fn rule_orders(&self, crews: usize) -> Vec<(&'static str, Vec<usize>)> {
        let n = self.len();
        let by = |key: &dyn Fn(usize, usize) -> std::cmp::Ordering| {
            let mut v: Vec<usize> = (0..n).collect();
            v.sort_by(|&a, &b| key(a, b).then_with(|| self.ids[a].cmp(&self.ids[b])));
            v
        };
        let legacy = by(&|a, b| {
            self.referenced[b]
                .cmp(&self.referenced[a])
                .then_with(|| self.p[b].total_cmp(&self.p[a]))
        });
        let rate = self.highest_rate_first();
        let smith = by(&|a, b| {
            let ra = self.rate[a] / self.p[a].max(1e-9);
            let rb = self.rate[b] / self.p[b].max(1e-9);
            rb.total_cmp(&ra)
        });
        let mut out = vec![
            ("referenced first, longest first", legacy),
            ("highest cost rate first", rate),
            ("cost rate per recovery hour", smith),
        ];
        // The greedy prices n^2 partial bounds: only where the exact machinery runs anyway.
        if self.monotone && n <= 64 {
            out.push(("greedy on the lower bound", self.greedy(crews)));
        }
        out
    }

    /// "Highest cost rate first": assets by the customer-hours per hour of the services
    /// depending on them (redundancy ignored), ties by id.
    pub fn highest_rate_first(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.len()).collect();
        v.sort_by(|&a, &b| {
            self.rate[b]
                .total_cmp(&self.rate[a])
                .then_with(|| self.ids[a].cmp(&self.ids[b]))
        });
        v
    }

    /// Append, at every dispatch, the ready job whose partial timeline bounds lowest.
    fn greedy(&self, crews: usize) -> Vec<usize> {
        let mut st = State::new(self.len(), crews);
        let mut scratch = Vec::new();
        while st.advance(self) {
            let mut best: Option<(f64, usize)> = None;
            // Candidates by id: among equally good assets the first id wins, so the
            // answer reads in the model's natural order (dc-1 before dc-4).
            let mut cands: Vec<usize> = (0..self.len()).filter(|&j| st.ready(self, j)).collect();
            cands.sort_by(|&a, &b| self.ids[a].cmp(&self.ids[b]));
            for j in cands {
                let mut c = st.clone();
                c.start_job(self, j);
                let b = self.bound(&c, crews, &mut scratch);
                if best.is_none_or(|(v, _)| b < v) {
                    best = Some((b, j));
                }
            }
            let Some((_, j)) = best else { break };
            st.start_job(self, j);
        }
        st.seq
    }
}

/// Jobs ordered so that hosts come first.
fn host_order(host: &[Option<usize>]) -> Vec<usize> {
    let depth = |mut j: usize| {
        let mut d = 0usize;
        while let Some(h) = host[j] {
            d += 1;
            j = h;
            if d > host.len() {
                break;
            }
        }
        d
    };
    let mut v: Vec<usize> = (0..host.len()).collect();
    v.sort_by_key(|&j| (depth(j), j));
    v
}

/// Services an outage can affect, in dependency order, and those forced down (the same
/// set as `impact::service_times`).
fn affected_services(
    g: &Graph,
    jobs: &[NodeId],
    outage: &Outage,
) -> (Vec<u32>, rustc_hash::FxHashSet<u32>) {
    let mut forced = rustc_hash::FxHashSet::default();
    forced.extend(outage.services.iter().copied());
    for &f in &outage.flows {
        forced.extend(g.flows[f as usize].services.iter().copied());
    }
    let mut seen = rustc_hash::FxHashSet::default();
    let mut order: Vec<u32> = Vec::new();
    for &n in jobs {
        for &s in g.services_of_node(n) {
            if seen.insert(s) {
                order.push(s);
            }
        }
    }
    let mut f: Vec<u32> = forced.iter().copied().collect();
    f.sort_unstable();
    for s in f {
        if seen.insert(s) {
            order.push(s);
        }
    }
    let mut i = 0;
    while i < order.len() {
        let s = order[i];
        i += 1;
        for &u in g.users_of_service(s) {
            if seen.insert(u) {
                order.push(u);
            }
        }
    }
    order.sort_unstable_by_key(|&s| g.service_rank[s as usize]);
    (order, forced)
}

/// Minimal sets among `v` (no member a superset of another), capped at [`MAX_SETS`] by
/// replacing the family with its intersection (a subset of each: the bound stays valid).
fn minimal(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_by_key(|m| (m.count_ones(), *m));
    v.dedup();
    let mut out: Vec<u64> = Vec::new();
    for m in v {
        if !out.iter().any(|&o| subset(o, m)) {
            out.push(m);
        }
    }
    if out.len() > MAX_SETS {
        vec![out.iter().fold(u64::MAX, |a, &b| a & b)]
    } else {
        out
    }
}

#[inline]
fn subset(a: u64, b: u64) -> bool {
    a & !b == 0
}

/// Pairwise unions of two families.
fn product(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut v = Vec::with_capacity(a.len() * b.len());
    for &x in a {
        for &y in b {
            v.push(x | y);
        }
    }
    minimal(v)
}

/// Family of a k-of-n group: unions of one set from each of k members.
fn k_of_n_family(members: &[Vec<u64>], k: usize) -> Vec<u64> {
    if k > members.len() {
        // Never satisfiable: cost infinite whatever the order; no set constrains.
        return vec![0];
    }
    // fam[i][c]: unions choosing c members among the first i.
    let mut fam: Vec<Vec<u64>> = vec![Vec::new(); k + 1];
    fam[0] = vec![0];
    for m in members {
        for c in (1..=k).rev() {
            if fam[c - 1].is_empty() {
                continue;
            }
            let add = product(&fam[c - 1], m);
            let mut merged = std::mem::take(&mut fam[c]);
            merged.extend(add);
            fam[c] = minimal(merged);
        }
    }
    std::mem::take(&mut fam[k])
}

/// A completion time ordered by `total_cmp` (for the heaps).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Time(f64);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Time {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// A partial list schedule (the branch and bound's node; O(n) per step, n <= 64).
#[derive(Debug, Clone)]
struct State {
    now: f64,
    crew_free: Vec<f64>,
    crew_last: Vec<Option<usize>>,
    is_started: Vec<bool>,
    start: Vec<f64>,
    end: Vec<f64>,
    seq: Vec<usize>,
    crew_after: Vec<Option<usize>>,
}

impl State {
    fn new(n: usize, crews: usize) -> State {
        let k = crews.clamp(1, n.max(1));
        State {
            now: 0.0,
            crew_free: vec![0.0; k],
            crew_last: vec![None; k],
            is_started: vec![false; n],
            start: vec![0.0; n],
            end: vec![0.0; n],
            seq: Vec::with_capacity(n),
            crew_after: vec![None; n],
        }
    }

    /// When the first crew is free for an unstarted asset (never before `now`).
    fn earliest_crew(&self) -> f64 {
        self.crew_free
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .max(self.now)
    }

    #[inline]
    fn started(&self, j: usize) -> bool {
        self.is_started[j]
    }

    #[inline]
    fn ready(&self, p: &Problem, j: usize) -> bool {
        !self.is_started[j]
            && p.host[j].is_none_or(|h| self.is_started[h] && self.end[h] <= self.now)
    }

    /// Move `now` to the next decision (a crew free and an asset ready). False when every
    /// job is started.
    fn advance(&mut self, p: &Problem) -> bool {
        if self.seq.len() == p.len() {
            return false;
        }
        let f = self.crew_free.iter().copied().fold(f64::INFINITY, f64::min);
        if f > self.now {
            self.now = f;
        }
        loop {
            if (0..p.len()).any(|j| self.ready(p, j)) {
                return true;
            }
            // Nothing ready: wait for the next asset back (a host of an unstarted job).
            let next = self
                .seq
                .iter()
                .map(|&j| self.end[j])
                .filter(|&e| e > self.now)
                .fold(f64::INFINITY, f64::min);
            if !next.is_finite() {
                // Unreachable: a job's host is a job, started before it (forest).
                return false;
            }
            self.now = next;
        }
    }

    fn start_job(&mut self, p: &Problem, j: usize) {
        // The free crew freed last: when the asset waited for a crew, the one just freed.
        let mut c = 0;
        let mut cf = f64::NEG_INFINITY;
        for (i, &f) in self.crew_free.iter().enumerate() {
            if f <= self.now && f > cf {
                c = i;
                cf = f;
            }
        }
        self.is_started[j] = true;
        self.start[j] = self.now;
        self.end[j] = self.now + p.p[j];
        if self.now > 0.0 && cf == self.now {
            self.crew_after[j] = self.crew_last[c];
        }
        self.crew_free[c] = self.end[j];
        self.crew_last[c] = Some(j);
        self.seq.push(j);
    }

    fn into_schedule(self) -> Schedule {
        Schedule {
            start: self.start,
            end: self.end,
            seq: self.seq,
            crew_after: self.crew_after,
        }
    }
}

/// Find the cheapest order (see the module doc).
pub fn search(p: &Problem, crews: usize, cfg: &SearchConfig) -> Solution {
    let t0 = Instant::now();
    let n = p.len();
    let mut stats = OrderSearchStats {
        downed_assets: n,
        ..Default::default()
    };
    let root = p.root_bound(crews);
    let at_bound = |c: f64| p.monotone && c <= root + tolerance(c);
    let mut best: Option<(Schedule, f64)> = None;
    for (label, order) in p.rule_orders(crews) {
        let (s, c) = p.price(&order, crews);
        stats.orders_priced += 1;
        tracing::debug!(rule = label, cost = c, "restore order rule");
        if best.as_ref().is_none_or(|b| c < b.1) {
            best = Some((s, c));
        }
        if at_bound(c) {
            break;
        }
    }
    let (mut sched, mut cost) = best.unwrap_or_else(|| p.price(&[], crews));
    if !at_bound(cost) {
        let lim = Limits { root, cfg, t0 };
        (sched, cost) = local_search(p, crews, (sched, cost), &lim, &mut stats);
    }
    let mut optimal = p.monotone && cost <= root + tolerance(cost);
    let mut lower_bound = if p.monotone { root.min(cost) } else { 0.0 };
    if p.monotone && !optimal && n <= 64 {
        stats.exact_search = true;
        let mut bb = BranchAndBound {
            p,
            crews,
            best_cost: cost,
            best: None,
            nodes: 0,
            max_nodes: if n <= EXACT_MAX {
                cfg.max_nodes
            } else {
                cfg.attempt_nodes
            },
            cfg,
            t0,
            exhausted: false,
            scratch: Vec::new(),
            leaves: 0,
        };
        bb.dfs(State::new(n, crews), None);
        stats.nodes_expanded = bb.nodes;
        stats.orders_priced += bb.leaves;
        if let Some(s) = bb.best {
            // Report the list schedule of the order found (the same timeline: every
            // search node is a list-scheduling step).
            let (s2, c2) = p.price(&s.seq, crews);
            debug_assert!(
                (c2 - bb.best_cost).abs() <= tolerance(c2),
                "{c2} vs {}",
                bb.best_cost
            );
            cost = c2;
            sched = s2;
        }
        if bb.exhausted {
            stats.budget_exhausted = true;
        } else {
            optimal = true;
            lower_bound = cost;
        }
    }
    if optimal {
        lower_bound = cost;
    }
    stats.elapsed_ms = crate::report::tidy_ms(t0.elapsed().as_secs_f64() * 1e3);
    Solution {
        schedule: sched,
        cost,
        optimal,
        lower_bound,
        stats,
    }
}

fn out_of_time(t0: Instant, cfg: &SearchConfig) -> bool {
    cfg.time_limit.is_some_and(|l| t0.elapsed() >= l)
}

/// Costs within this of each other are equal (float noise of sums in another order).
fn tolerance(c: f64) -> f64 {
    1e-9 * c.abs().max(1.0)
}

/// Move one job to another position of the list while that improves the cost.
struct Limits<'a> {
    root: f64,
    cfg: &'a SearchConfig,
    t0: Instant,
}

fn local_search(
    p: &Problem,
    crews: usize,
    (mut sched, mut cost): (Schedule, f64),
    lim: &Limits,
    stats: &mut OrderSearchStats,
) -> (Schedule, f64) {
    let (root, cfg, t0) = (lim.root, lim.cfg, lim.t0);
    let n = p.len();
    let mut improved = true;
    while improved && !(p.monotone && cost <= root + tolerance(cost)) {
        improved = false;
        'moves: for i in 0..n {
            for to in 0..n {
                if i == to {
                    continue;
                }
                if stats.orders_priced >= cfg.max_orders || out_of_time(t0, cfg) {
                    stats.budget_exhausted = true;
                    return (sched, cost);
                }
                let mut order = sched.seq.clone();
                let j = order.remove(i);
                order.insert(to, j);
                let (s, c) = p.price(&order, crews);
                stats.orders_priced += 1;
                if c < cost - tolerance(cost) {
                    sched = s;
                    cost = c;
                    improved = true;
                    break 'moves;
                }
            }
        }
    }
    (sched, cost)
}

struct BranchAndBound<'a> {
    p: &'a Problem,
    crews: usize,
    best_cost: f64,
    best: Option<Schedule>,
    nodes: u64,
    max_nodes: u64,
    cfg: &'a SearchConfig,
    t0: Instant,
    exhausted: bool,
    scratch: Vec<f64>,
    leaves: u64,
}

impl BranchAndBound<'_> {
    /// `batch`: (time, last job started at that time, jobs ready then) of the previous
    /// decision, to start jobs ready together in index order only.
    fn dfs(&mut self, mut st: State, batch: Option<(f64, usize, Vec<bool>)>) {
        if self.exhausted {
            return;
        }
        if !st.advance(self.p) {
            let c = self.p.cost(&st.end);
            self.leaves += 1;
            if c < self.best_cost - tolerance(self.best_cost) {
                self.best_cost = c;
                self.best = Some(st.into_schedule());
            }
            return;
        }
        let n = self.p.len();
        let ready: Vec<bool> = (0..n).map(|j| st.ready(self.p, j)).collect();
        let mut kids: Vec<(f64, usize, State)> = Vec::new();
        for j in (0..n).filter(|&j| ready[j]) {
            if let Some((t, last, ref prev)) = batch {
                // Same instant, both ready at the previous decision: one sequence suffices.
                if t == st.now && prev[j] && j < last {
                    continue;
                }
            }
            self.nodes += 1;
            // The clock is read every 1024 nodes only.
            if self.nodes > self.max_nodes
                || (self.nodes.is_multiple_of(1024) && out_of_time(self.t0, self.cfg))
            {
                self.exhausted = true;
                return;
            }
            let mut c = st.clone();
            c.start_job(self.p, j);
            let b = self.p.bound(&c, self.crews, &mut self.scratch);
            if b < self.best_cost - tolerance(self.best_cost) {
                kids.push((b, j, c));
            }
        }
        let ids = &self.p.ids;
        kids.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| ids[a.1].cmp(&ids[b.1])));
        let now = st.now;
        for (b, j, c) in kids {
            if b >= self.best_cost - tolerance(self.best_cost) {
                continue;
            }
            self.dfs(c, Some((now, j, ready.clone())));
        }
    }
}
