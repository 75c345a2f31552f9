//! Summary figures of a model (what `vigie model check` prints).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::derive::AttackGraph;
use crate::identity::{parse_identifier, IdentifierKind};
use crate::index::{Index, NONE};
use crate::types::{AssetKind, DepTarget};

/// Figures describing a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Operator name.
    pub operator: String,
    /// Number of zones (the Internet zone included).
    pub zones: usize,
    /// Number of flows.
    pub flows: usize,
    /// Number of assets (identities included).
    pub assets: usize,
    /// Assets per kind.
    pub assets_by_kind: BTreeMap<String, usize>,
    /// Non-identity assets per zone.
    pub assets_by_zone: BTreeMap<String, usize>,
    /// Number of crown jewels.
    pub crown_jewels: usize,
    /// Number of Internet-exposed assets.
    pub exposed: usize,
    /// Number of identities (accounts + groups).
    pub identities: usize,
    /// Number of vulnerabilities over all assets.
    pub vulnerabilities: usize,
    /// Non-identity assets with EDR / MFA / backup.
    pub with_edr: usize,
    pub with_mfa: usize,
    pub with_backup: usize,
    /// Attack edges stated in the model.
    pub explicit_attack_edges: usize,
    /// Attack edges derived from flows, vulnerabilities, credentials, rights and hosting.
    pub derived_attack_edges: usize,
    /// Derived and explicit edges per rule.
    pub attack_edges_by_rule: BTreeMap<String, usize>,
    /// Edges per shape of their time-to-compromise distribution (`exponential`, `gamma`,
    /// `lognormal`, `fixed`; shapes no edge has are left out).
    pub attack_edges_by_dist: BTreeMap<String, usize>,
    /// Edges whose step can fail (`p_success` < 1).
    pub attack_edges_may_fail: usize,
    /// Number of services.
    pub services: usize,
    /// Number of service dependencies.
    pub dependencies: usize,
    /// Number of k-of-n redundancy groups (`any_of` dependencies).
    pub redundancy_groups: usize,
    /// Number of customer segments.
    pub segments: usize,
    /// Customers over all segments.
    pub customers: u64,
    /// Asset identifiers per kind (`host`, `ip`, `cidr`, `account`, `sid`; malformed ones
    /// are not counted, validation refuses them).
    pub identifiers_by_kind: BTreeMap<String, usize>,
    /// Assets holding personal data.
    pub personal_data: usize,
    /// Countries of the segments, sorted.
    pub countries: Vec<String>,
}

/// Compute the figures of an indexed model and its attack graph.
pub fn stats(ix: &Index<'_>, graph: &AttackGraph) -> Stats {
    let m = ix.model;
    let mut by_kind: BTreeMap<String, usize> = AssetKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), 0))
        .collect();
    let mut by_zone: BTreeMap<String, usize> = BTreeMap::new();
    let (mut edr, mut mfa, mut backup) = (0, 0, 0);
    for (i, a) in m.assets.iter().enumerate() {
        *by_kind.entry(a.kind.as_str().to_string()).or_default() += 1;
        let z = ix.asset_zone[i];
        if z != NONE {
            if let Some(zone) = m.zones.get(z as usize) {
                *by_zone.entry(zone.id.clone()).or_default() += 1;
            }
        }
        if !a.kind.is_identity() {
            edr += usize::from(a.controls.edr);
            mfa += usize::from(a.controls.mfa);
            backup += usize::from(a.controls.backup);
        }
    }
    let by_rule: BTreeMap<String, usize> = graph
        .count_by_rule()
        .into_iter()
        .map(|(r, n)| (r.as_str().to_string(), n))
        .collect();
    let explicit = by_rule.get("explicit").copied().unwrap_or(0);
    // Per interned distribution first: millions of edges share a handful of them.
    let mut per_ttc = vec![0usize; graph.ttc_dists.len()];
    for e in &graph.edges {
        if let Some(n) = per_ttc.get_mut(e.ttc as usize) {
            *n += 1;
        }
    }
    let mut by_dist: BTreeMap<String, usize> = BTreeMap::new();
    let mut may_fail = 0;
    for (t, &n) in graph.ttc_dists.iter().zip(&per_ttc) {
        if n > 0 {
            *by_dist.entry(t.dist.as_str().to_string()).or_default() += n;
            if t.p_success() < 1.0 {
                may_fail += n;
            }
        }
    }
    Stats {
        operator: m.operator.name.clone(),
        zones: m.zones.len(),
        flows: m.flows.len(),
        assets: m.assets.len(),
        assets_by_kind: by_kind,
        assets_by_zone: by_zone,
        crown_jewels: m.assets.iter().filter(|a| a.crown_jewel).count(),
        exposed: m.assets.iter().filter(|a| a.exposed).count(),
        identities: m.assets.iter().filter(|a| a.kind.is_identity()).count(),
        vulnerabilities: m.assets.iter().map(|a| a.vulnerabilities.len()).sum(),
        with_edr: edr,
        with_mfa: mfa,
        with_backup: backup,
        explicit_attack_edges: explicit,
        derived_attack_edges: graph.edges.len() - explicit,
        attack_edges_by_rule: by_rule,
        attack_edges_by_dist: by_dist,
        attack_edges_may_fail: may_fail,
        services: m.services.len(),
        dependencies: m.services.iter().map(|s| s.depends_on.len()).sum(),
        redundancy_groups: m
            .services
            .iter()
            .flat_map(|s| &s.depends_on)
            .filter(|d| matches!(d.target, DepTarget::AnyOf { .. }))
            .count(),
        segments: m.segments.len(),
        customers: m.segments.iter().map(|s| s.customers).sum(),
        identifiers_by_kind: identifiers_by_kind(m),
        personal_data: m.assets.iter().filter(|a| a.personal_data).count(),
        countries: m
            .segments
            .iter()
            .flat_map(|s| &s.countries)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

fn identifiers_by_kind(m: &crate::Model) -> BTreeMap<String, usize> {
    let mut counts = [0usize; IdentifierKind::ALL.len()];
    for id in m.assets.iter().flat_map(|a| &a.identifiers) {
        if let Ok(id) = parse_identifier(id) {
            counts[id.kind() as usize] += 1;
        }
    }
    IdentifierKind::ALL
        .iter()
        .zip(counts)
        .map(|(k, n)| (k.as_str().to_string(), n))
        .collect()
}
