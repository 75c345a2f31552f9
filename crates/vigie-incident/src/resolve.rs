//! Entities to model assets, and the count of those that name none.
//!
//! Hosts, IPs, accounts and SIDs resolve through `vigie_model::IdentityIndex` (an FQDN
//! by FQDN then short name, an IP by exact address then the most specific CIDR, an
//! account by domain and user, a bare user name only when one asset lists it).
//! Processes, hashes and files name no asset: they stay unresolved without being
//! counted as such ([`EntityKind::resolves_to_assets`]).

use std::collections::BTreeMap;

use vigie_hunt::Detection;
use vigie_model::IdentityIndex;
use vigie_sigma::RuleMeta;

use crate::extract::{attack_tags, extract};
use crate::mapping::EntityMapping;
use crate::{Entity, EntityKind, ObservedDetection, ResolvedEntity};

impl EntityKind {
    /// Whether entities of this kind name model assets (host, ip, account, sid).
    pub fn resolves_to_assets(self) -> bool {
        matches!(
            self,
            EntityKind::Host | EntityKind::Ip | EntityKind::Account | EntityKind::Sid
        )
    }
}

/// Each entity with the asset it names (`None`: none, or a kind that names no asset).
pub fn resolve(entities: Vec<Entity>, index: &IdentityIndex) -> Vec<ResolvedEntity> {
    entities
        .into_iter()
        .map(|entity| {
            let asset = entity
                .identifier()
                .and_then(|id| index.resolve(&id))
                .map(str::to_string);
            ResolvedEntity { entity, asset }
        })
        .collect()
}

/// A detection with its rule's key, title, level and ATT&CK tags and its resolved
/// entities: what grouping works on.
pub fn observe(
    detection: Detection,
    meta: &RuleMeta,
    mapping: &EntityMapping,
    index: &IdentityIndex,
) -> ObservedDetection {
    let entities = resolve(extract(&detection, mapping), index);
    let (techniques, tactics) = attack_tags(&meta.tags);
    ObservedDetection {
        detection,
        rule_key: meta.key.to_string(),
        rule_title: meta.title.clone(),
        level: meta.level,
        techniques,
        tactics,
        entities,
    }
}

/// Entities that resolved to no asset, by (kind, value): in how many detections each
/// was seen. Only kinds that name assets are counted (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnresolvedCounts {
    counts: BTreeMap<(EntityKind, String), u64>,
}

impl UnresolvedCounts {
    pub fn new() -> UnresolvedCounts {
        UnresolvedCounts::default()
    }

    /// Counts the unresolved entities of one detection, each (kind, value) once however
    /// many roles or fields named it.
    pub fn add(&mut self, entities: &[ResolvedEntity]) {
        let mut seen: Vec<(EntityKind, &str)> = entities
            .iter()
            .filter(|r| r.asset.is_none() && r.entity.kind.resolves_to_assets())
            .map(|r| (r.entity.kind, r.entity.value.as_str()))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for (kind, value) in seen {
            *self.counts.entry((kind, value.to_string())).or_insert(0) += 1;
        }
    }

    /// Adds another accumulator's counts (per-thread or per-incident partials).
    pub fn merge(&mut self, other: &UnresolvedCounts) {
        for (k, n) in &other.counts {
            *self.counts.entry(k.clone()).or_insert(0) += n;
        }
    }

    /// The count of one (kind, value), 0 when never seen unresolved.
    pub fn get(&self, kind: EntityKind, value: &str) -> u64 {
        self.counts
            .get(&(kind, value.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Distinct unresolved entities.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// (kind, value, count), sorted by kind then value.
    pub fn sorted(&self) -> Vec<(EntityKind, String, u64)> {
        self.counts
            .iter()
            .map(|((k, v), n)| (*k, v.clone(), *n))
            .collect()
    }
}
