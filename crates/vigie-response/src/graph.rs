//! The compact, indexed graph every algorithm runs on.
//!
//! Nodes are `u32` (assets, identities and an optional Internet pseudo-node); attack edges
//! live in CSR arrays (no per-edge `String`), so a million-asset model with ten million
//! edges costs about 18 bytes per edge. Times-to-compromise are `f64` like every model
//! quantity, so that a 0.1 h step is reported as 0.1, not as its nearest `f32`; each edge
//! holds a `u32` index into the table of distinct times (a model has few), not the time
//! itself, which keeps an edge the size it had with `f32`. Services
//! form a DAG over nodes and other services; segments weigh services. [`GraphBuilder`] is
//! the only way in: it validates references, sorts the services topologically and
//! precomputes the indexes the searches need.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::Error;

/// Index of a node (asset, identity or the Internet pseudo-node).
pub type NodeId = u32;
/// Marker for "no node" / "no flow set" in the dense arrays.
pub const NONE: u32 = u32::MAX;

/// What a node is; identities (accounts, groups) are disabled rather than isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// The attacker's origin; never isolated, never down.
    Internet,
    Host,
    Application,
    Database,
    NetworkDevice,
    Account,
    Group,
}

impl NodeKind {
    /// Accounts and groups.
    pub fn is_identity(self) -> bool {
        matches!(self, NodeKind::Account | NodeKind::Group)
    }
}

/// One member of a dependency: an asset (node) or another service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Node(NodeId),
    Service(u32),
}

/// A service dependency: holds while at least `k` of `members` are up.
/// A plain `{asset: X}` dependency is `k = 1` over one member.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Hard dependencies take the service down; soft ones degrade it (weight 0.25).
    pub hard: bool,
    pub k: u32,
    pub members: Vec<Member>,
}

/// A service as the algorithms see it.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub recovery_hours: f64,
    pub deps: Vec<Dep>,
    /// Applications/databases whose only dependent service is this one: taking the service
    /// offline removes them from the attack graph.
    pub exclusive_nodes: Vec<NodeId>,
}

/// A zone-to-zone flow that can be blocked.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    /// Services whose traffic crosses the flow: blocking it takes them down.
    pub services: Vec<u32>,
}

/// A customer segment.
#[derive(Debug, Clone)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub customers: u64,
    pub sla_weight: f64,
    /// (service, weight in [0,1]).
    pub uses: Vec<(u32, f64)>,
}

/// Default weight of a soft-dependency degradation relative to an outage.
pub const SOFT_WEIGHT: f64 = 0.25;

/// The indexed operator graph.
#[derive(Debug, Clone)]
pub struct Graph {
    pub node_ids: Vec<String>,
    pub node_names: Vec<String>,
    pub kinds: Vec<NodeKind>,
    pub crown: Vec<bool>,
    pub recovery: Vec<f64>,
    pub runs_on: Vec<NodeId>,
    /// CSR of the nodes hosted on each node (reverse of `runs_on`).
    pub hosted_start: Vec<u32>,
    pub hosted: Vec<NodeId>,
    /// CSR out-edges: `out_start[u]..out_start[u+1]` index the edge arrays.
    pub out_start: Vec<u32>,
    pub edge_from: Vec<NodeId>,
    pub edge_to: Vec<NodeId>,
    /// Per edge: index into `ttcs` (read with [`Graph::ttc`]).
    pub edge_ttc: Vec<u32>,
    /// Distinct times to compromise, in hours.
    pub ttcs: Vec<f64>,
    pub edge_tech: Vec<u16>,
    /// Flow set the edge needs (index into `flowset_*`), or [`NONE`] when no blockable flow
    /// carries it. The edge is cut when EVERY flow of its set is blocked (alternatives).
    pub edge_flowset: Vec<u32>,
    /// CSR in-edges: edge indices entering each node.
    pub in_start: Vec<u32>,
    pub in_edge: Vec<u32>,
    pub techniques: Vec<String>,
    pub flowset_start: Vec<u32>,
    pub flowset_flows: Vec<u32>,
    pub flows: Vec<Flow>,
    pub services: Vec<Service>,
    /// Services in dependency order (dependencies first).
    pub service_order: Vec<u32>,
    /// Position of each service in `service_order`.
    pub service_rank: Vec<u32>,
    /// CSR: services naming each node as a dependency member.
    pub node_services_start: Vec<u32>,
    pub node_services: Vec<u32>,
    /// CSR: services naming each service as a dependency member.
    pub service_users_start: Vec<u32>,
    pub service_users: Vec<u32>,
    /// CSR: (segment, weight) using each service.
    pub service_segments_start: Vec<u32>,
    pub service_segments: Vec<(u32, f64)>,
    pub segments: Vec<Segment>,
    pub containment_hours: f64,
    /// Fraction of a service's weight lost while only a soft dependency is down.
    pub soft_weight: f64,
    /// Nodes whose loss can change some service's state (dependency members and the hosts
    /// they run on, transitively). Isolating any other node costs nothing, ever.
    pub referenced: Vec<bool>,
    pub internet: Option<NodeId>,
    /// (hash of id, node) sorted, for binary-search lookups: a hash map of a million cloned
    /// ids would cost more to build than every lookup a command makes.
    node_sorted: Vec<(u64, NodeId)>,
    service_index: FxHashMap<String, u32>,
    flow_index: FxHashMap<String, u32>,
}

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Node(NodeId),
    Service(u32),
    Flow(u32),
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.node_ids.len()
    }
    pub fn edge_count(&self) -> usize {
        self.edge_to.len()
    }
    /// Edge index range leaving `u`.
    #[inline]
    pub fn out_edges(&self, u: NodeId) -> std::ops::Range<usize> {
        self.out_start[u as usize] as usize..self.out_start[u as usize + 1] as usize
    }
    /// In-edge indices entering `v`.
    #[inline]
    pub fn in_edges(&self, v: NodeId) -> &[u32] {
        &self.in_edge[self.in_start[v as usize] as usize..self.in_start[v as usize + 1] as usize]
    }
    /// Nodes running on `u`.
    #[inline]
    pub fn hosted_on(&self, u: NodeId) -> &[NodeId] {
        &self.hosted
            [self.hosted_start[u as usize] as usize..self.hosted_start[u as usize + 1] as usize]
    }
    /// Flows of an edge's flow set (empty when the edge needs no blockable flow).
    #[inline]
    pub fn edge_flows(&self, e: usize) -> &[u32] {
        let fs = self.edge_flowset[e];
        if fs == NONE {
            return &[];
        }
        &self.flowset_flows
            [self.flowset_start[fs as usize] as usize..self.flowset_start[fs as usize + 1] as usize]
    }
    /// Time to compromise along edge `e`, in hours.
    #[inline]
    pub fn ttc(&self, e: usize) -> f64 {
        // The builder checked every index against the table; should a caller edit the
        // public arrays, a bad index makes the edge untraversable rather than a panic.
        self.ttcs
            .get(self.edge_ttc[e] as usize)
            .copied()
            .unwrap_or(f64::INFINITY)
    }
    pub fn technique(&self, e: usize) -> &str {
        &self.techniques[self.edge_tech[e] as usize]
    }
    pub fn node(&self, id: &str) -> Option<NodeId> {
        let h = id_hash(id);
        let i = self.node_sorted.partition_point(|&(x, _)| x < h);
        self.node_sorted[i..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, n)| n)
            .find(|&n| self.node_ids[n as usize] == id)
    }
    pub fn service(&self, id: &str) -> Option<u32> {
        self.service_index.get(id).copied()
    }
    pub fn flow(&self, id: &str) -> Option<u32> {
        self.flow_index.get(id).copied()
    }
    /// Resolve an id to a node, service or flow (nodes first: ids are unique per model).
    pub fn resolve(&self, id: &str) -> Option<Target> {
        self.node(id)
            .map(Target::Node)
            .or_else(|| self.service(id).map(Target::Service))
            .or_else(|| self.flow(id).map(Target::Flow))
    }

    /// Resolve ids to nodes; unknown ids become one error naming them all, with the closest
    /// known ids as suggestions.
    pub fn resolve_nodes(&self, what: &str, ids: &[String]) -> Result<Vec<NodeId>, Error> {
        self.resolve_all(what, ids, |id| self.node(id))
    }

    /// Resolve ids to any target (assets, services, flows).
    pub fn resolve_targets(&self, what: &str, ids: &[String]) -> Result<Vec<Target>, Error> {
        self.resolve_all(what, ids, |id| self.resolve(id))
    }

    /// Resolves every id with `lookup`, dropping repeats; all unknown ids in one error.
    fn resolve_all<T: PartialEq>(
        &self,
        what: &str,
        ids: &[String],
        lookup: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for id in ids {
            match lookup(id) {
                Some(t) => {
                    if !out.contains(&t) {
                        out.push(t)
                    }
                }
                None => unknown.push(self.unknown(id)),
            }
        }
        if unknown.is_empty() {
            Ok(out)
        } else {
            Err(Error::UnknownIds {
                what: what.to_string(),
                ids: unknown,
            })
        }
    }

    fn unknown(&self, id: &str) -> String {
        let known = self
            .node_ids
            .iter()
            .chain(self.services.iter().map(|s| &s.id))
            .chain(self.flows.iter().map(|f| &f.id));
        let sugg = crate::suggest::closest(id, known, 3);
        if sugg.is_empty() {
            format!("{id:?}")
        } else {
            format!("{id:?} (did you mean {}?)", sugg.join(", "))
        }
    }

    /// Services naming node `n` directly.
    #[inline]
    pub fn services_of_node(&self, n: NodeId) -> &[u32] {
        &self.node_services[self.node_services_start[n as usize] as usize
            ..self.node_services_start[n as usize + 1] as usize]
    }
    /// Services depending directly on service `s`.
    #[inline]
    pub fn users_of_service(&self, s: u32) -> &[u32] {
        &self.service_users[self.service_users_start[s as usize] as usize
            ..self.service_users_start[s as usize + 1] as usize]
    }
    /// (segment, weight) pairs using service `s`.
    #[inline]
    pub fn segments_of_service(&self, s: u32) -> &[(u32, f64)] {
        &self.service_segments[self.service_segments_start[s as usize] as usize
            ..self.service_segments_start[s as usize + 1] as usize]
    }

    /// Crown jewels, in node order.
    pub fn crown_jewels(&self) -> Vec<NodeId> {
        (0..self.node_count() as u32)
            .filter(|&n| self.crown[n as usize])
            .collect()
    }
}

/// Builds a [`Graph`]; ids are checked for uniqueness and references at `build`.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    node_ids: Vec<String>,
    node_names: Vec<String>,
    kinds: Vec<NodeKind>,
    crown: Vec<bool>,
    recovery: Vec<f64>,
    runs_on: Vec<NodeId>,
    edges: Vec<(NodeId, NodeId, u32, u16, u32)>,
    ttcs: Vec<f64>,
    ttc_index: FxHashMap<u64, u32>,
    techniques: Vec<String>,
    tech_index: FxHashMap<String, u16>,
    flowsets: Vec<Vec<u32>>,
    flowset_index: FxHashMap<Vec<u32>, u32>,
    flows: Vec<Flow>,
    services: Vec<Service>,
    segments: Vec<Segment>,
    containment_hours: f64,
    soft_weight: f64,
    internet: Option<NodeId>,
}

impl GraphBuilder {
    pub fn new(containment_hours: f64) -> Self {
        GraphBuilder {
            containment_hours,
            soft_weight: SOFT_WEIGHT,
            ..Default::default()
        }
    }

    /// Override the soft-dependency weight (default [`SOFT_WEIGHT`]).
    pub fn soft_weight(&mut self, w: f64) {
        self.soft_weight = w;
    }

    /// Pre-size for `nodes` nodes and `edges` edges.
    pub fn reserve(&mut self, nodes: usize, edges: usize) {
        self.node_ids.reserve(nodes);
        self.node_names.reserve(nodes);
        self.kinds.reserve(nodes);
        self.crown.reserve(nodes);
        self.recovery.reserve(nodes);
        self.runs_on.reserve(nodes);
        self.edges.reserve(edges);
    }

    /// Install interned tables (techniques, flow sets, times to compromise in hours) so that
    /// edges can be added by index with [`GraphBuilder::edge_raw`] — no hashing per edge on
    /// big models.
    pub fn tables(&mut self, techniques: Vec<String>, flowsets: Vec<Vec<u32>>, ttcs: Vec<f64>) {
        self.ttc_index = ttcs
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_bits(), i as u32))
            .collect();
        self.ttcs = ttcs;
        self.tech_index = techniques
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i.min(u16::MAX as usize) as u16))
            .collect();
        self.techniques = techniques;
        self.flowset_index = flowsets
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i as u32))
            .collect();
        self.flowsets = flowsets;
    }

    /// Add an edge by time, technique and flow-set index (from [`GraphBuilder::tables`];
    /// `flowset` [`NONE`] when no flow carries it).
    pub fn edge_raw(&mut self, from: NodeId, to: NodeId, ttc: u32, technique: u16, flowset: u32) {
        self.edges.push((from, to, ttc, technique, flowset));
    }

    /// Add a node; returns its index.
    pub fn node(&mut self, id: &str, kind: NodeKind, crown: bool, recovery_hours: f64) -> NodeId {
        let n = self.node_ids.len() as NodeId;
        self.node_ids.push(id.to_string());
        self.node_names.push(String::new());
        self.kinds.push(kind);
        self.crown.push(crown);
        self.recovery.push(recovery_hours);
        self.runs_on.push(NONE);
        if kind == NodeKind::Internet {
            self.internet = Some(n);
        }
        n
    }

    pub fn set_name(&mut self, n: NodeId, name: &str) {
        self.node_names[n as usize] = name.to_string();
    }

    pub fn set_runs_on(&mut self, n: NodeId, host: NodeId) {
        self.runs_on[n as usize] = host;
    }

    pub fn flow(&mut self, id: &str) -> u32 {
        self.flows.push(Flow {
            id: id.to_string(),
            services: Vec::new(),
        });
        (self.flows.len() - 1) as u32
    }

    pub fn flow_service(&mut self, flow: u32, service: u32) {
        let f = &mut self.flows[flow as usize];
        if !f.services.contains(&service) {
            f.services.push(service);
        }
    }

    /// Add an attack edge. `flows` are the alternative flows that carry it (empty: the edge
    /// cannot be cut by blocking a flow).
    pub fn edge(
        &mut self,
        from: NodeId,
        to: NodeId,
        technique: &str,
        ttc_hours: f64,
        flows: &[u32],
    ) {
        let tech = match self.tech_index.get(technique) {
            Some(&t) => t,
            None => {
                let t = self.techniques.len().min(u16::MAX as usize) as u16;
                if (t as usize) == self.techniques.len() {
                    self.techniques.push(technique.to_string());
                    self.tech_index.insert(technique.to_string(), t);
                }
                t
            }
        };
        let fs = if flows.is_empty() {
            NONE
        } else {
            let mut key = flows.to_vec();
            key.sort_unstable();
            key.dedup();
            match self.flowset_index.get(&key) {
                Some(&i) => i,
                None => {
                    let i = self.flowsets.len() as u32;
                    self.flowsets.push(key.clone());
                    self.flowset_index.insert(key, i);
                    i
                }
            }
        };
        let next = self.ttcs.len() as u32;
        let ttc = *self.ttc_index.entry(ttc_hours.to_bits()).or_insert(next);
        if ttc == next {
            self.ttcs.push(ttc_hours);
        }
        self.edges.push((from, to, ttc, tech, fs));
    }

    pub fn service(&mut self, id: &str, name: &str, recovery_hours: f64) -> u32 {
        self.services.push(Service {
            id: id.to_string(),
            name: name.to_string(),
            recovery_hours,
            deps: Vec::new(),
            exclusive_nodes: Vec::new(),
        });
        (self.services.len() - 1) as u32
    }

    pub fn dep(&mut self, service: u32, hard: bool, k: u32, members: Vec<Member>) {
        self.services[service as usize]
            .deps
            .push(Dep { hard, k, members });
    }

    pub fn segment(
        &mut self,
        id: &str,
        name: &str,
        customers: u64,
        sla_weight: f64,
        uses: Vec<(u32, f64)>,
    ) {
        self.segments.push(Segment {
            id: id.to_string(),
            name: name.to_string(),
            customers,
            sla_weight,
            uses,
        });
    }

    pub fn build(mut self) -> Result<Graph, Error> {
        let edges = std::mem::take(&mut self.edges);
        self.build_with(edges, |e| *e)
    }

    /// Build with the attack edges given as a vector of any type, `edge` reading one as
    /// (from, to, ttc index, technique index, flow-set index), instead of
    /// [`GraphBuilder::edge_raw`]: a ten-million-edge model is then never copied into an
    /// intermediate vector, and the vector is freed as soon as the CSR holds its content.
    pub fn build_with<E>(
        self,
        edges_in: Vec<E>,
        read: impl Fn(&E) -> (NodeId, NodeId, u32, u16, u32),
    ) -> Result<Graph, Error> {
        let m = edges_in.len();
        let edge = |i: usize| read(&edges_in[i]);
        let n = self.node_ids.len();
        let mut node_sorted: Vec<(u64, NodeId)> = self
            .node_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id_hash(id), i as NodeId))
            .collect();
        node_sorted.sort_unstable();
        // Equal hashes are adjacent: compare the ids within each run.
        let mut i = 0;
        while i < node_sorted.len() {
            let mut j = i + 1;
            while j < node_sorted.len() && node_sorted[j].0 == node_sorted[i].0 {
                j += 1;
            }
            for a in i..j {
                for b in a + 1..j {
                    let (x, y) = (node_sorted[a].1 as usize, node_sorted[b].1 as usize);
                    if self.node_ids[x] == self.node_ids[y] {
                        return Err(Error::DuplicateId {
                            id: self.node_ids[x].clone(),
                        });
                    }
                }
            }
            i = j;
        }
        let has_node = |id: &str| {
            let h = id_hash(id);
            let i = node_sorted.partition_point(|&(x, _)| x < h);
            node_sorted[i..]
                .iter()
                .take_while(|&&(x, _)| x == h)
                .any(|&(_, n)| self.node_ids[n as usize] == id)
        };
        for (i, &h) in self.runs_on.iter().enumerate() {
            if h != NONE && h as usize >= n {
                return Err(Error::UnknownReference {
                    owner: format!("node {}", self.node_ids[i]),
                    field: "runs_on",
                    id: format!("#{h}"),
                    expected: "a node",
                });
            }
        }
        // runs_on must be a forest: walk each chain with a step limit.
        for start in 0..n {
            let mut cur = self.runs_on[start];
            let mut steps = 0;
            while cur != NONE {
                steps += 1;
                if steps > n {
                    return Err(Error::RunsOnCycle {
                        id: self.node_ids[start].clone(),
                    });
                }
                cur = self.runs_on[cur as usize];
            }
        }
        let ns = self.services.len();
        for s in &self.services {
            for d in &s.deps {
                for m in &d.members {
                    let ok = match *m {
                        Member::Node(x) => (x as usize) < n,
                        Member::Service(x) => (x as usize) < ns,
                    };
                    if !ok {
                        let id = match *m {
                            Member::Node(x) => format!("node #{x}"),
                            Member::Service(x) => format!("service #{x}"),
                        };
                        return Err(Error::UnknownReference {
                            owner: format!("service {}", s.id),
                            field: "depends_on",
                            id,
                            expected: "a node or service of the graph",
                        });
                    }
                }
            }
        }
        // CSR out-edges, sorted by source (counting sort keeps it linear).
        if m >= u32::MAX as usize {
            return Err(Error::TooManyEdges { count: m });
        }
        let mut out_start = vec![0u32; n + 1];
        for i in 0..m {
            let (f, t, ttc, tech, fs) = edge(i);
            if f as usize >= n || t as usize >= n {
                return Err(Error::BadEdge {
                    index: i,
                    problem: "has an endpoint that is not a node",
                });
            }
            if tech as usize >= self.techniques.len()
                || (fs != NONE && fs as usize >= self.flowsets.len())
            {
                return Err(Error::BadEdge {
                    index: i,
                    problem: "names an unknown technique or flow set",
                });
            }
            if ttc as usize >= self.ttcs.len() {
                return Err(Error::BadEdge {
                    index: i,
                    problem: "names an unknown time to compromise",
                });
            }
            out_start[f as usize + 1] += 1;
        }
        for i in 0..n {
            out_start[i + 1] += out_start[i];
        }
        // Scatter only a permutation (one random 4-byte write per edge), then gather each
        // field in order: two cache misses per edge instead of five on 10M-edge models.
        let mut fill = out_start.clone();
        let mut perm = vec![0u32; m];
        for i in 0..m {
            let p = &mut fill[edge(i).0 as usize];
            perm[*p as usize] = i as u32;
            *p += 1;
        }
        drop(fill);
        let mut edge_from = Vec::with_capacity(m);
        let mut edge_to = Vec::with_capacity(m);
        let mut edge_ttc = Vec::with_capacity(m);
        let mut edge_tech = Vec::with_capacity(m);
        let mut edge_flowset = Vec::with_capacity(m);
        for &i in &perm {
            let (f, t, ttc, tech, fs) = edge(i as usize);
            edge_from.push(f);
            edge_to.push(t);
            edge_ttc.push(ttc);
            edge_tech.push(tech);
            edge_flowset.push(fs);
        }
        drop(perm);
        drop(edges_in);
        let mut in_start = vec![0u32; n + 1];
        for &t in &edge_to {
            in_start[t as usize + 1] += 1;
        }
        for i in 0..n {
            in_start[i + 1] += in_start[i];
        }
        let mut fill = in_start.clone();
        let mut in_edge = vec![0u32; m];
        for (e, &t) in edge_to.iter().enumerate() {
            in_edge[fill[t as usize] as usize] = e as u32;
            fill[t as usize] += 1;
        }
        let mut hosted_start = vec![0u32; n + 1];
        for &h in &self.runs_on {
            if h != NONE {
                hosted_start[h as usize + 1] += 1;
            }
        }
        for i in 0..n {
            hosted_start[i + 1] += hosted_start[i];
        }
        let mut fill = hosted_start.clone();
        let mut hosted = vec![0u32; hosted_start[n] as usize];
        for (c, &h) in self.runs_on.iter().enumerate() {
            if h != NONE {
                hosted[fill[h as usize] as usize] = c as u32;
                fill[h as usize] += 1;
            }
        }
        let mut flowset_start = vec![0u32];
        let mut flowset_flows = Vec::new();
        for (i, fs) in self.flowsets.iter().enumerate() {
            for &f in fs {
                if f as usize >= self.flows.len() {
                    return Err(Error::UnknownReference {
                        owner: format!("flow set #{i}"),
                        field: "flows",
                        id: format!("#{f}"),
                        expected: "a flow of the graph",
                    });
                }
            }
            flowset_flows.extend_from_slice(fs);
            flowset_start.push(flowset_flows.len() as u32);
        }
        let service_order = topo_services(&self.services)?;
        let mut services = self.services;
        let mut service_rank = vec![0u32; services.len()];
        for (i, &s) in service_order.iter().enumerate() {
            service_rank[s as usize] = i as u32;
        }
        let (node_services_start, node_services) = dedup_buckets(csr(
            n,
            services.iter().enumerate().flat_map(|(si, s)| {
                s.deps.iter().flat_map(move |d| {
                    d.members.iter().filter_map(move |m| match *m {
                        Member::Node(x) => Some((x, si as u32)),
                        Member::Service(_) => None,
                    })
                })
            }),
        ));
        // Exclusive nodes: applications/databases whose only dependent service is one S.
        // Referenced nodes: dependency members and, transitively, the hosts they run on.
        let mut referenced = vec![false; n];
        for x in 0..n {
            let deps = &node_services
                [node_services_start[x] as usize..node_services_start[x + 1] as usize];
            if deps.is_empty() {
                continue;
            }
            if deps.len() == 1
                && matches!(self.kinds[x], NodeKind::Application | NodeKind::Database)
            {
                services[deps[0] as usize].exclusive_nodes.push(x as NodeId);
            }
            let mut cur = x as NodeId;
            while cur != NONE && !referenced[cur as usize] {
                referenced[cur as usize] = true;
                cur = self.runs_on[cur as usize];
            }
        }
        let (service_users_start, service_users) = dedup_buckets(csr(
            services.len(),
            services.iter().enumerate().flat_map(|(si, s)| {
                s.deps.iter().flat_map(move |d| {
                    d.members.iter().filter_map(move |m| match *m {
                        Member::Service(x) => Some((x, si as u32)),
                        Member::Node(_) => None,
                    })
                })
            }),
        ));
        let (service_segments_start, service_segments) = csr(
            services.len(),
            self.segments
                .iter()
                .enumerate()
                .flat_map(|(gi, g)| g.uses.iter().map(move |&(s, w)| (s, (gi as u32, w)))),
        );
        let mut service_index = FxHashMap::default();
        for (i, s) in services.iter().enumerate() {
            if has_node(&s.id) || service_index.insert(s.id.clone(), i as u32).is_some() {
                return Err(Error::DuplicateId { id: s.id.clone() });
            }
        }
        let mut flow_index = FxHashMap::default();
        for (i, f) in self.flows.iter().enumerate() {
            // Flow ids may shadow nothing else; a clash is reported rather than resolved.
            if has_node(&f.id) || service_index.contains_key(&f.id) {
                return Err(Error::DuplicateId { id: f.id.clone() });
            }
            flow_index.insert(f.id.clone(), i as u32);
        }
        for seg in &self.segments {
            for &(s, _) in &seg.uses {
                if s as usize >= services.len() {
                    return Err(Error::UnknownReference {
                        owner: format!("segment {}", seg.id),
                        field: "uses",
                        id: format!("#{s}"),
                        expected: "a service of the graph",
                    });
                }
            }
        }
        Ok(Graph {
            node_ids: self.node_ids,
            node_names: self.node_names,
            kinds: self.kinds,
            crown: self.crown,
            recovery: self.recovery,
            runs_on: self.runs_on,
            hosted_start,
            hosted,
            out_start,
            edge_from,
            edge_to,
            edge_ttc,
            ttcs: self.ttcs,
            edge_tech,
            edge_flowset,
            in_start,
            in_edge,
            techniques: self.techniques,
            flowset_start,
            flowset_flows,
            flows: self.flows,
            services,
            service_rank,
            node_services_start,
            node_services,
            service_users_start,
            service_users,
            service_segments_start,
            service_segments,
            service_order,
            segments: self.segments,
            containment_hours: self.containment_hours,
            soft_weight: self.soft_weight,
            referenced,
            internet: self.internet,
            node_sorted,
            service_index,
            flow_index,
        })
    }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// CSR from (key, value) pairs (counting sort, pairs with an out-of-range key dropped:
/// the caller validates references separately).
fn csr<T: Copy + Default>(
    keys: usize,
    pairs: impl Iterator<Item = (u32, T)> + Clone,
) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; keys + 1];
    for (k, _) in pairs.clone() {
        if (k as usize) < keys {
            start[k as usize + 1] += 1;
        }
    }
    for i in 0..keys {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut out = vec![T::default(); start[keys] as usize];
    for (k, v) in pairs {
        if (k as usize) < keys {
            out[fill[k as usize] as usize] = v;
            fill[k as usize] += 1;
        }
    }
    (start, out)
}

/// Sort and deduplicate each bucket of a `u32` CSR.
fn dedup_buckets((start, vals): (Vec<u32>, Vec<u32>)) -> (Vec<u32>, Vec<u32>) {
    let mut new_start = Vec::with_capacity(start.len());
    new_start.push(0u32);
    let mut out = Vec::with_capacity(vals.len());
    for w in start.windows(2) {
        let b0 = out.len();
        out.extend_from_slice(&vals[w[0] as usize..w[1] as usize]);
        out[b0..].sort_unstable();
        let mut j = b0;
        for i in b0..out.len() {
            if i == b0 || out[i] != out[j - 1] {
                out[j] = out[i];
                j += 1;
            }
        }
        out.truncate(j);
        new_start.push(out.len() as u32);
    }
    (new_start, out)
}

/// Kahn's algorithm over service-to-service dependencies; a cycle is an error.
fn topo_services(services: &[Service]) -> Result<Vec<u32>, Error> {
    let ns = services.len();
    let mut indeg = vec![0u32; ns];
    let mut users: Vec<Vec<u32>> = vec![Vec::new(); ns];
    for (si, s) in services.iter().enumerate() {
        for d in &s.deps {
            for m in &d.members {
                if let Member::Service(x) = *m {
                    indeg[si] += 1;
                    users[x as usize].push(si as u32);
                }
            }
        }
    }
    let mut order: Vec<u32> = (0..ns as u32).filter(|&s| indeg[s as usize] == 0).collect();
    let mut i = 0;
    while i < order.len() {
        let s = order[i] as usize;
        i += 1;
        for &u in &users[s] {
            indeg[u as usize] -= 1;
            if indeg[u as usize] == 0 {
                order.push(u);
            }
        }
    }
    if order.len() != ns {
        let ids: Vec<String> = (0..ns)
            .filter(|&s| indeg[s] > 0)
            .map(|s| services[s].id.clone())
            .collect();
        return Err(Error::ServiceCycle { ids });
    }
    Ok(order)
}
