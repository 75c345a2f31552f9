//! Attacker movement derived from the model (the rules of `docs/model.md`, "Derived attack
//! edges"), shared by `vigie model check` and the response algorithms so both count and
//! use exactly the same edges.
//!
//! Nodes are asset indexes (`0..assets.len()`) plus one Internet pseudo-node whose index is
//! `assets.len()`. Edges are compact (20 bytes): techniques and flow sets are interned.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::index::{Entity, Index, NONE};
use crate::types::{AssetKind, Protocol, Settings, Ttc};

/// Which derivation rule produced an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A reachable vulnerability (rule 1), from an asset or the Internet.
    Exploit,
    /// Credentials exposed on an asset (rule 2).
    CredentialTheft,
    /// An identity administering an asset (rule 3).
    ValidAccount,
    /// A member gaining its group's rights (rule 4).
    Membership,
    /// A host taking over what runs on it (rule 5).
    HostToHosted,
    /// An application/database escaping to its host (rule 5).
    HostedToHost,
    /// Stated in `attack_edges` (rule 6).
    Explicit,
}

impl Rule {
    /// All rules, in order.
    pub const ALL: [Rule; 7] = [
        Rule::Exploit,
        Rule::CredentialTheft,
        Rule::ValidAccount,
        Rule::Membership,
        Rule::HostToHosted,
        Rule::HostedToHost,
        Rule::Explicit,
    ];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Exploit => "exploit",
            Rule::CredentialTheft => "credential_theft",
            Rule::ValidAccount => "valid_account",
            Rule::Membership => "membership",
            Rule::HostToHosted => "host_to_hosted",
            Rule::HostedToHost => "hosted_to_host",
            Rule::Explicit => "explicit",
        }
    }
}

/// "The attacker holding `from` can compromise `to`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackEdge {
    /// Source node (asset index, or [`AttackGraph::internet`]).
    pub from: u32,
    /// Target node (asset index).
    pub to: u32,
    /// Index into [`AttackGraph::ttcs`]: the time to compromise (see
    /// [`AttackGraph::ttc_hours`]). Interned rather than stored so that the hours stay the
    /// model's `f64` (a 0.1 h step is 0.1, not its nearest `f32`) in the 4 bytes an `f32`
    /// took: a model has few distinct times and millions of edges.
    pub ttc: u32,
    /// Index into [`AttackGraph::techniques`].
    pub technique: u16,
    /// Rule that produced it.
    pub rule: Rule,
    /// Index into [`AttackGraph::flowsets`]: the flows that alternatively carry the edge
    /// (blocking all of them cuts it); [`NONE`] when no blockable flow is needed.
    pub flowset: u32,
}

/// All attack edges of a model, with their interned tables.
#[derive(Debug, Clone, Default)]
pub struct AttackGraph {
    /// Edges, grouped by rule and then by target.
    pub edges: Vec<AttackEdge>,
    /// Technique ids (ATT&CK).
    pub techniques: Vec<String>,
    /// Sets of flow indexes (sorted, deduplicated).
    pub flowsets: Vec<Vec<u32>>,
    /// Distinct times to compromise, in hours: the means of [`AttackGraph::ttc_dists`]
    /// (what `assess`, `contain` and `restore` use).
    pub ttcs: Vec<f64>,
    /// The distributions behind [`AttackGraph::ttcs`], same index (what `vigie exercise`
    /// samples).
    pub ttc_dists: Vec<Ttc>,
    /// Index of the Internet pseudo-node (= number of assets).
    pub internet: u32,
}

impl AttackGraph {
    /// Time to compromise of an edge, in hours.
    pub fn ttc_hours(&self, e: &AttackEdge) -> f64 {
        // Every index comes from `Builder::ttc`; an edge made by hand with a bad one is
        // never traversable rather than a panic.
        self.ttcs
            .get(e.ttc as usize)
            .copied()
            .unwrap_or(f64::INFINITY)
    }

    /// Time-to-compromise distribution of an edge (an impossible step for a bad index).
    pub fn ttc_dist(&self, e: &AttackEdge) -> Ttc {
        self.ttc_dists.get(e.ttc as usize).copied().unwrap_or(Ttc {
            p_success: Some(0.0),
            ..Ttc::exponential(f64::INFINITY)
        })
    }

    /// Technique id of an edge.
    pub fn technique(&self, e: &AttackEdge) -> &str {
        self.techniques
            .get(e.technique as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Flows carrying an edge (empty when it needs none).
    pub fn flows(&self, e: &AttackEdge) -> &[u32] {
        if e.flowset == NONE {
            return &[];
        }
        self.flowsets
            .get(e.flowset as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Number of edges per rule.
    pub fn count_by_rule(&self) -> Vec<(Rule, usize)> {
        let mut counts = [0usize; 7];
        for e in &self.edges {
            counts[e.rule as usize] += 1;
        }
        Rule::ALL.iter().map(|&r| (r, counts[r as usize])).collect()
    }
}

/// Interning key of a distribution: its shape and the bits of its numbers.
type TtcKey = (u8, u64, u64, u64);

fn ttc_key(t: &Ttc) -> TtcKey {
    (
        t.dist as u8,
        t.mean_hours.to_bits(),
        t.cv().to_bits(),
        t.p_success().to_bits(),
    )
}

/// The distribution of each derivation rule's step when the model gives none of its own:
/// `settings.<rule>_ttc`, else the rule's default shape with mean `settings.<rule>_hours`
/// (`docs/model.md`, "Time to compromise"): a fixed time for group membership (rights
/// come with the membership) and for host → hosted (what runs on a held host is held once
/// the attacker looks: no search, no exploit), an exponential for the others (attempts
/// that each may work, as an item's bare `ttc_hours`). The mean is always the settings'
/// hours, so `assess`, `contain` and `restore` see the same figures whatever the shape.
pub fn rule_ttc(s: &Settings, rule: Rule) -> Ttc {
    let (dist, hours) = match rule {
        Rule::Exploit | Rule::Explicit => (s.exploit_ttc, s.exploit_ttc_hours),
        Rule::CredentialTheft => (s.credential_theft_ttc, s.credential_theft_hours),
        Rule::ValidAccount => (s.valid_account_ttc, s.valid_account_hours),
        Rule::Membership => (s.membership_ttc, s.membership_hours),
        Rule::HostToHosted => (s.host_to_hosted_ttc, s.host_to_hosted_hours),
        Rule::HostedToHost => (s.hosted_to_host_ttc, s.hosted_to_host_hours),
    };
    dist.unwrap_or_else(|| match rule {
        Rule::Membership | Rule::HostToHosted => Ttc::fixed(hours),
        _ => Ttc::exponential(hours),
    })
}

/// The distribution of an item (vulnerability, explicit edge) from its own fields, else
/// the rule's default.
fn item_ttc(s: &Settings, rule: Rule, dist: Option<Ttc>, hours: Option<f64>) -> Ttc {
    match (dist, hours) {
        (Some(d), _) => d,
        (None, Some(h)) => Ttc::exponential(h),
        (None, None) => rule_ttc(s, rule),
    }
}

/// A source zone and the flows from it that carry an exploit (empty: same zone).
type ZoneFlows = (u32, Vec<u32>);

struct Builder {
    g: AttackGraph,
    tech: FxHashMap<String, u16>,
    sets: FxHashMap<Vec<u32>, u32>,
    /// Distribution key -> index into `g.ttcs` / `g.ttc_dists`.
    ttcs: FxHashMap<TtcKey, u32>,
    /// The last distribution interned (key, index): edges come in runs of one rule,
    /// usually with one time, so most edges skip the hash lookup.
    last_ttc: Option<(TtcKey, u32)>,
}

impl Builder {
    fn technique(&mut self, t: &str) -> u16 {
        if let Some(&i) = self.tech.get(t) {
            return i;
        }
        // More than 65k distinct techniques cannot happen with ATT&CK ids; should a model
        // invent that many, the overflow shares the last slot rather than failing.
        let i = self.g.techniques.len().min(u16::MAX as usize) as u16;
        if (i as usize) == self.g.techniques.len() {
            self.g.techniques.push(t.to_string());
        }
        self.tech.insert(t.to_string(), i);
        i
    }

    fn flowset(&mut self, mut flows: Vec<u32>) -> u32 {
        if flows.is_empty() {
            return NONE;
        }
        flows.sort_unstable();
        flows.dedup();
        if let Some(&i) = self.sets.get(&flows) {
            return i;
        }
        let i = self.g.flowsets.len() as u32;
        self.g.flowsets.push(flows.clone());
        self.sets.insert(flows, i);
        i
    }

    fn ttc(&mut self, t: Ttc) -> u32 {
        let key = ttc_key(&t);
        if let Some((k, i)) = self.last_ttc {
            if k == key {
                return i;
            }
        }
        let next = self.g.ttcs.len() as u32;
        let i = *self.ttcs.entry(key).or_insert(next);
        if i == next {
            self.g.ttcs.push(t.mean_hours);
            self.g.ttc_dists.push(t);
        }
        self.last_ttc = Some((key, i));
        i
    }

    fn edge(&mut self, from: u32, to: u32, ttc: Ttc, technique: u16, rule: Rule, flowset: u32) {
        let ttc = self.ttc(ttc);
        self.g.edges.push(AttackEdge {
            from,
            to,
            ttc,
            technique,
            rule,
            flowset,
        });
    }
}

/// Whether flow `f` can carry traffic to one of `ports` (empty = any port).
fn flow_carries(protocol: Protocol, flow_ports: &[u16], ports: &[u16]) -> bool {
    if protocol == Protocol::Icmp {
        return false;
    }
    flow_ports.is_empty() || ports.is_empty() || flow_ports.iter().any(|p| ports.contains(p))
}

/// Derive every attack edge of an indexed (validated) model, explicit ones included.
/// References that do not resolve are skipped: validation reports them.
pub fn derive_attack_edges(ix: &Index<'_>) -> AttackGraph {
    let m = ix.model;
    let s = &m.settings;
    let n = m.assets.len() as u32;
    let mut b = Builder {
        g: AttackGraph {
            internet: n,
            ..Default::default()
        },
        tech: FxHashMap::default(),
        sets: FxHashMap::default(),
        ttcs: FxHashMap::default(),
        last_ttc: None,
    };
    let nz = m.zones.len();
    let mut zone_assets: Vec<Vec<u32>> = vec![Vec::new(); nz];
    for (i, &z) in ix.asset_zone.iter().enumerate() {
        if z != NONE {
            zone_assets[z as usize].push(i as u32);
        }
    }
    // Inbound flows per destination zone, excluding same-zone flows (implicit anyway).
    let mut inbound: Vec<Vec<u32>> = vec![Vec::new(); nz];
    for (f, &(from, to)) in ix.flow_zones.iter().enumerate() {
        if from != NONE && to != NONE && from != to {
            inbound[to as usize].push(f as u32);
        }
    }
    let t_exploit_in = b.technique("T1210");
    let t_exploit_net = b.technique("T1190");

    // Rule 1: exploitation.
    // Per target and per source zone, keep the fastest vulnerability for each distinct flow
    // set: slower duplicates would never be on a shortest path nor change a cut.
    let mut per_zone: FxHashMap<ZoneFlows, (Ttc, u16)> = FxHashMap::default();
    // (target, source zone or NONE for the Internet, flow set, ttc, technique).
    let mut pending: Vec<(u32, u32, u32, Ttc, u16)> = Vec::new();
    for (bi, asset) in m.assets.iter().enumerate() {
        let zb = ix.asset_zone[bi];
        if asset.vulnerabilities.is_empty() || zb == NONE {
            continue;
        }
        per_zone.clear();
        let mut internet_best: Option<(Vec<u32>, Ttc, u16)> = None;
        for v in &asset.vulnerabilities {
            let ports: &[u16] = if v.ports.is_empty() {
                &asset.listens
            } else {
                &v.ports
            };
            let ttc = item_ttc(s, Rule::Exploit, v.ttc, v.ttc_hours);
            let tech = match &v.technique {
                Some(t) => b.technique(t),
                None => t_exploit_in,
            };
            // Same zone: implicit reachability, no flow to block.
            let same = per_zone.entry((zb, Vec::new())).or_insert((ttc, tech));
            if ttc.mean_hours < same.0.mean_hours {
                *same = (ttc, tech);
            }
            let mut by_zone: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
            for &f in &inbound[zb as usize] {
                let flow = &m.flows[f as usize];
                if flow_carries(flow.protocol, &flow.ports, ports) {
                    by_zone
                        .entry(ix.flow_zones[f as usize].0)
                        .or_default()
                        .push(f);
                }
            }
            for (z, flows) in by_zone {
                if Some(z) == ix.internet_zone {
                    continue;
                }
                let e = per_zone.entry((z, flows)).or_insert((ttc, tech));
                if ttc.mean_hours < e.0.mean_hours {
                    *e = (ttc, tech);
                }
            }
            if asset.exposed {
                let tech = match &v.technique {
                    Some(t) => b.technique(t),
                    None => t_exploit_net,
                };
                let flows: Vec<u32> = match ix.internet_zone {
                    Some(iz) => inbound[zb as usize]
                        .iter()
                        .copied()
                        .filter(|&f| {
                            let flow = &m.flows[f as usize];
                            ix.flow_zones[f as usize].0 == iz
                                && flow_carries(flow.protocol, &flow.ports, ports)
                        })
                        .collect(),
                    None => Vec::new(),
                };
                match &internet_best {
                    Some((_, t, _)) if t.mean_hours <= ttc.mean_hours => {}
                    _ => internet_best = Some((flows, ttc, tech)),
                }
            }
        }
        let mut entries: Vec<(ZoneFlows, (Ttc, u16))> = per_zone.drain().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for ((z, flows), (ttc, tech)) in entries {
            let fs = b.flowset(flows);
            pending.push((bi as u32, z, fs, ttc, tech));
        }
        if let Some((flows, ttc, tech)) = internet_best {
            let fs = b.flowset(flows);
            pending.push((bi as u32, NONE, fs, ttc, tech));
        }
    }
    // Exploitation fans out to whole zones: size the edge vector once (a million-asset
    // model has ~10 million edges; growing by doubling would copy them several times).
    let fan_out: usize = pending
        .iter()
        .map(|&(_, z, ..)| {
            if z == NONE {
                1
            } else {
                zone_assets[z as usize].len()
            }
        })
        .sum();
    let others: usize = m
        .assets
        .iter()
        .map(|a| {
            a.credentials.len()
                + a.admins.len()
                + a.members.len()
                + 2 * usize::from(a.runs_on.is_some())
        })
        .sum::<usize>()
        + m.attack_edges.len();
    b.g.edges.reserve_exact(fan_out + others);
    for (target, z, fs, ttc, tech) in pending {
        if z == NONE {
            b.edge(n, target, ttc, tech, Rule::Exploit, fs);
            continue;
        }
        for &a in &zone_assets[z as usize] {
            if a != target {
                b.edge(a, target, ttc, tech, Rule::Exploit, fs);
            }
        }
    }

    // Rule 2: credential theft.
    let t_cred = b.technique("T1003");
    for (ai, asset) in m.assets.iter().enumerate() {
        let ttc = rule_ttc(s, Rule::CredentialTheft).scaled(if asset.controls.edr {
            s.edr_factor
        } else {
            1.0
        });
        for c in &asset.credentials {
            if let Some(i) = ix.asset(c) {
                b.edge(ai as u32, i, ttc, t_cred, Rule::CredentialTheft, NONE);
            }
        }
    }

    // Rule 3: valid accounts. Simplification (documented): the logon needs network access to
    // zone(B); it is carried by any flow into zone(B) from another zone, or, when there is
    // none, by same-zone access if zone(B) holds another asset.
    let t_valid = b.technique("T1021");
    let zone_sets: Vec<Option<u32>> = (0..nz)
        .map(|z| {
            if !inbound[z].is_empty() {
                Some(b.flowset(inbound[z].clone()))
            } else if zone_assets[z].len() >= 2 {
                Some(NONE)
            } else {
                None
            }
        })
        .collect();
    for (bi, asset) in m.assets.iter().enumerate() {
        let zb = ix.asset_zone[bi];
        if asset.kind.is_identity() || zb == NONE || asset.admins.is_empty() {
            continue;
        }
        let Some(fs) = zone_sets[zb as usize] else {
            continue;
        };
        let ttc = rule_ttc(s, Rule::ValidAccount).scaled(if asset.controls.mfa {
            s.mfa_factor
        } else {
            1.0
        });
        for id in &asset.admins {
            if let Some(i) = ix.asset(id) {
                b.edge(i, bi as u32, ttc, t_valid, Rule::ValidAccount, fs);
            }
        }
    }

    // Rule 4: group membership.
    let t_member = b.technique("T1078");
    let membership = rule_ttc(s, Rule::Membership);
    for (gi, asset) in m.assets.iter().enumerate() {
        if asset.kind != AssetKind::Group {
            continue;
        }
        for id in &asset.members {
            if let Some(i) = ix.asset(id) {
                b.edge(i, gi as u32, membership, t_member, Rule::Membership, NONE);
            }
        }
    }

    // Rule 5: hosting, both ways.
    let t_down = b.technique("T1005");
    let t_up = b.technique("T1068");
    let down = rule_ttc(s, Rule::HostToHosted);
    let up = rule_ttc(s, Rule::HostedToHost);
    for (bi, &h) in ix.runs_on.iter().enumerate() {
        if h != NONE {
            b.edge(h, bi as u32, down, t_down, Rule::HostToHosted, NONE);
            b.edge(bi as u32, h, up, t_up, Rule::HostedToHost, NONE);
        }
    }

    // Rule 6: explicit edges.
    for e in &m.attack_edges {
        let from = match ix.entity(&e.from) {
            Some(Entity::Asset(i)) => i,
            Some(Entity::Zone(z)) if Some(z) == ix.internet_zone => n,
            _ => continue,
        };
        let Some(to) = ix.asset(&e.to) else {
            continue;
        };
        let tech = b.technique(&e.technique);
        let ttc = item_ttc(s, Rule::Explicit, e.ttc, e.ttc_hours);
        b.edge(from, to, ttc, tech, Rule::Explicit, NONE);
    }
    b.g
}
