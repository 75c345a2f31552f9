//! Conversion of a `vigie_model::Model` into the indexed [`Graph`].
//!
//! Attack edges come from `vigie_model::derive_attack_edges`, the one derivation shared with
//! `vigie model check`, so both count exactly the same movements. Node `i` is asset `i`;
//! the Internet pseudo-node comes last (named after the Internet zone, or `internet`).

use vigie_model::{AssetKind, DepMember, Model};

use crate::error::Error;
use crate::graph::{Graph, GraphBuilder, Member, NodeKind, NONE};

fn kind(k: AssetKind) -> NodeKind {
    match k {
        AssetKind::Host => NodeKind::Host,
        AssetKind::Application => NodeKind::Application,
        AssetKind::Database => NodeKind::Database,
        AssetKind::NetworkDevice => NodeKind::NetworkDevice,
        AssetKind::Account => NodeKind::Account,
        AssetKind::Group => NodeKind::Group,
    }
}

/// Build the graph of a (validated) model. References that do not resolve are reported as
/// [`Error::UnknownReference`] rather than skipped, so nothing is silently dropped.
pub fn from_model(m: &Model) -> Result<Graph, Error> {
    let t0 = std::time::Instant::now();
    let ix = m.index();
    let ag = vigie_model::derive_attack_edges(&ix);
    tracing::debug!(
        ms = t0.elapsed().as_secs_f64() * 1e3,
        edges = ag.edges.len(),
        "attack edges derived"
    );
    let s = &m.settings;
    if !(0.0..=1.0).contains(&s.soft_dependency_factor) {
        return Err(Error::SettingOutOfRange {
            name: "soft_dependency_factor",
            range: "[0, 1]",
            value: s.soft_dependency_factor,
        });
    }
    let mut b = GraphBuilder::new(s.containment_hours);
    b.soft_weight(s.soft_dependency_factor);
    b.reserve(m.assets.len() + 1, 0);
    for a in &m.assets {
        let n = b.node(&a.id, kind(a.kind), a.crown_jewel, a.recovery_hours());
        if !a.name.is_empty() {
            b.set_name(n, &a.name);
        }
    }
    let internet_id = ix
        .internet_zone
        .map_or("internet", |z| m.zones[z as usize].id.as_str());
    let inet = b.node(internet_id, NodeKind::Internet, false, 0.0);
    debug_assert_eq!(inet, ag.internet);
    for (i, &h) in ix.runs_on.iter().enumerate() {
        if h != NONE {
            b.set_runs_on(i as u32, h);
        }
    }
    for (i, a) in m.assets.iter().enumerate() {
        if let Some(h) = &a.runs_on {
            if ix.runs_on[i] == NONE {
                return Err(Error::UnknownReference {
                    owner: format!("asset {}", a.id),
                    field: "runs_on",
                    id: h.clone(),
                    expected: "an asset",
                });
            }
        }
    }
    for svc in &m.services {
        b.service(&svc.id, svc.display_name_or_id(), svc.recovery_hours);
    }
    for (fi, f) in m.flows.iter().enumerate() {
        let id = b.flow(&ix.flow_ids[fi]);
        for sid in &f.services {
            let s = ix.service(sid).ok_or_else(|| Error::UnknownReference {
                owner: format!("flow {}", ix.flow_ids[fi]),
                field: "services",
                id: sid.clone(),
                expected: "a service",
            })?;
            b.flow_service(id, s);
        }
    }
    for (si, svc) in m.services.iter().enumerate() {
        for (d, (hard, k, members)) in svc.depends_on.iter().zip(ix.service_deps(si as u32)) {
            if members.len() != d.ids().len() {
                return Err(Error::UnknownReference {
                    owner: format!("service {}", svc.id),
                    field: "depends_on",
                    id: d.ids().join(", "),
                    expected: "a known asset or service",
                });
            }
            let members = members
                .into_iter()
                .map(|m| match m {
                    DepMember::Asset(a) => Member::Node(a),
                    DepMember::Service(s) => Member::Service(s),
                })
                .collect();
            b.dep(si as u32, hard, k, members);
        }
    }
    for seg in &m.segments {
        let mut uses = Vec::with_capacity(seg.uses.len());
        for (sid, &w) in &seg.uses {
            let s = ix.service(sid).ok_or_else(|| Error::UnknownReference {
                owner: format!("segment {}", seg.id),
                field: "uses",
                id: sid.clone(),
                expected: "a service",
            })?;
            uses.push((s, w));
        }
        b.segment(&seg.id, &seg.name, seg.customers, seg.sla_weight, uses);
    }
    b.tables(ag.techniques, ag.flowsets, ag.ttcs);
    for e in ag.edges {
        b.edge_raw(e.from, e.to, e.ttc, e.technique, e.flowset);
    }
    tracing::debug!(
        ms = t0.elapsed().as_secs_f64() * 1e3,
        "graph builder filled"
    );
    b.build()
}

trait DisplayName {
    fn display_name_or_id(&self) -> &str;
}

impl DisplayName for vigie_model::Service {
    fn display_name_or_id(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }
}
