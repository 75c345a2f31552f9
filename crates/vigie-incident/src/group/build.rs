//! From components to [`Incident`]s: times, severity, entities, the kill-chain timeline,
//! compromise and risk.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use vigie_model::{AssetKind, AttackGraph, Model};

use super::link::Linked;
use super::{incident_id, GroupOptions};
use crate::attack;
use crate::compromise;
use crate::entity::{EntityKind, ObservedDetection};
use crate::incident::{Incident, TechniqueUse};
use crate::risk::{self, JewelDistances};

const NONE: u32 = u32::MAX;

/// The model's assets the detections name: id → (model index, kind).
fn named_assets<'m>(
    detections: &[ObservedDetection],
    model: &'m Model,
) -> FxHashMap<&'m str, (usize, AssetKind)> {
    let named: FxHashSet<&str> = detections
        .iter()
        .flat_map(|d| d.entities.iter().filter_map(|e| e.asset.as_deref()))
        .collect();
    if named.is_empty() {
        return FxHashMap::default();
    }
    model
        .assets
        .iter()
        .enumerate()
        .filter(|(_, a)| named.contains(a.id.as_str()))
        .map(|(i, a)| (a.id.as_str(), (i, a.kind)))
        .collect()
}

pub(super) fn incidents(
    detections: &[ObservedDetection],
    model: &Model,
    attack: &AttackGraph,
    opts: &GroupOptions,
    linked: &Linked,
) -> Vec<Incident> {
    // Components in order of their earliest detection; members in `order` (rank) order.
    let mut comp_of_root = vec![NONE; detections.len()];
    let mut comps: Vec<Vec<usize>> = Vec::new();
    for &d in &linked.order {
        let r = linked.root[d as usize] as usize;
        if comp_of_root[r] == NONE {
            comp_of_root[r] = comps.len() as u32;
            comps.push(Vec::new());
        }
        comps[comp_of_root[r] as usize].push(d as usize);
    }
    let assets = named_assets(detections, model);
    // The reverse Dijkstra only when some incident names a model asset and there are
    // crown jewels to be near.
    let jewels = if !assets.is_empty() && model.assets.iter().any(|a| a.crown_jewel) {
        JewelDistances::compute(model, attack)
    } else {
        JewelDistances::default()
    };
    let ctx = Ctx {
        detections,
        assets: &assets,
        jewels: &jewels,
        opts,
    };
    comps
        .iter()
        .map(|ranked| ctx.incident(&linked.keys[ranked[0]], ranked))
        .collect()
}

struct Ctx<'a> {
    detections: &'a [ObservedDetection],
    assets: &'a FxHashMap<&'a str, (usize, AssetKind)>,
    jewels: &'a JewelDistances,
    opts: &'a GroupOptions,
}

impl Ctx<'_> {
    /// `ranked`: the members by (dated first, time, key), the first is the earliest.
    fn incident(&self, earliest_key: &str, ranked: &[usize]) -> Incident {
        let ds = self.detections;
        let mut members = ranked.to_vec();
        // The list given to readers: by time, then input order.
        members.sort_by_key(|&i| {
            let t = ds[i].detection.timestamp;
            (t.is_none(), t, i)
        });
        let first_seen = members
            .iter()
            .filter_map(|&i| {
                let d = &ds[i].detection;
                d.correlation.as_ref().map(|c| c.first).or(d.timestamp)
            })
            .min();
        let last_seen = members
            .iter()
            .filter_map(|&i| ds[i].detection.timestamp)
            .max();
        let severity = members
            .iter()
            .map(|&i| ds[i].level)
            .max()
            .unwrap_or(vigie_sigma::Level::Informational);
        let (assets, accounts, ips, unresolved) = self.entities(&members);
        let techniques = timeline(ds, &members);
        let tactics = incident_tactics(ds, &members);
        let is_host = |a: &str| {
            self.assets
                .get(a)
                .is_some_and(|&(_, k)| k == AssetKind::Host)
        };
        let compromised = compromise::judge(ds, ranked, &is_host, self.opts.compromise_min_level);
        let index_of = |ids: &mut dyn Iterator<Item = &str>| -> Vec<usize> {
            ids.filter_map(|a| self.assets.get(a).map(|&(i, _)| i))
                .collect()
        };
        let comp_ix = index_of(&mut compromised.iter().map(|c| c.asset.as_str()));
        let involved_ix = index_of(&mut assets.iter().map(String::as_str));
        let risk_factors =
            risk::factors(severity, tactics.len(), &comp_ix, &involved_ix, self.jewels);
        Incident {
            id: incident_id(earliest_key),
            first_seen,
            last_seen,
            severity,
            risk: risk::score(&risk_factors),
            risk_factors,
            assets,
            accounts,
            ips,
            techniques,
            tactics,
            detections: members,
            compromised,
            unresolved,
        }
    }

    #[allow(clippy::type_complexity)]
    fn entities(
        &self,
        members: &[usize],
    ) -> (
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<(EntityKind, String, u64)>,
    ) {
        let mut assets = FxHashSet::default();
        let mut accounts = FxHashSet::default();
        let mut ips = FxHashSet::default();
        let mut unresolved: FxHashMap<(EntityKind, &str), u64> = FxHashMap::default();
        for &i in members {
            // Each unresolved value counts once per detection (a detection has few).
            let mut here: Vec<(EntityKind, &str)> = Vec::new();
            for e in &self.detections[i].entities {
                let v = e.entity.value.as_str();
                match e.entity.kind {
                    EntityKind::Account => {
                        accounts.insert(v);
                    }
                    EntityKind::Ip => {
                        ips.insert(v);
                    }
                    _ => {}
                }
                match &e.asset {
                    Some(a) => {
                        assets.insert(a.as_str());
                    }
                    None => {
                        if !here.contains(&(e.entity.kind, v)) {
                            here.push((e.entity.kind, v));
                            *unresolved.entry((e.entity.kind, v)).or_default() += 1;
                        }
                    }
                }
            }
        }
        let sorted = |s: FxHashSet<&str>| {
            let mut v: Vec<String> = s.into_iter().map(str::to_string).collect();
            v.sort();
            v
        };
        let mut un: Vec<(EntityKind, String, u64)> = unresolved
            .into_iter()
            .map(|((k, v), c)| (k, v.to_string(), c))
            .collect();
        un.sort();
        (sorted(assets), sorted(accounts), sorted(ips), un)
    }
}

/// The techniques as a kill-chain timeline: by the earliest tactic of each technique in
/// kill-chain order (unknown techniques last), then first seen (undated last), then id.
/// A technique the table does not know (newer than its ATT&CK version) takes the tactic
/// tags of the rules that showed it, so it still finds its place.
fn timeline(ds: &[ObservedDetection], members: &[usize]) -> Vec<TechniqueUse> {
    struct Seen {
        first: Option<DateTime<Utc>>,
        n: usize,
        /// Rule tactic tags, for a technique unknown to the table.
        tags: Vec<String>,
    }
    let mut by_id: FxHashMap<String, Seen> = FxHashMap::default();
    for &i in members {
        let t = ds[i].detection.timestamp;
        let mut here = FxHashSet::default();
        for tech in &ds[i].techniques {
            let id = tech.trim().to_ascii_uppercase();
            if id.is_empty() || !here.insert(id.clone()) {
                continue;
            }
            let known = attack::technique(&id).is_some();
            let slot = by_id.entry(id).or_insert(Seen {
                first: t,
                n: 0,
                tags: Vec::new(),
            });
            slot.first = earlier(slot.first, t);
            slot.n += 1;
            if !known {
                slot.tags
                    .extend(ds[i].tactics.iter().map(|t| attack::normalise_tactic(t)));
            }
        }
    }
    let mut out: Vec<(usize, TechniqueUse)> = by_id
        .into_iter()
        .map(|(id, seen)| {
            let info = attack::technique(&id);
            let tactics: Vec<String> = match info {
                Some(t) => t.tactic_names().map(str::to_string).collect(),
                None => sorted_tactics(seen.tags),
            };
            let order = tactics
                .first()
                .map_or(usize::MAX, |t| attack::tactic_order(t));
            let u = TechniqueUse {
                name: info.map(|t| t.name.to_string()),
                id,
                tactics,
                first_seen: seen.first,
                detections: seen.n,
            };
            (order, u)
        })
        .collect();
    out.sort_by(|(oa, a), (ob, b)| {
        oa.cmp(ob)
            .then_with(|| {
                (a.first_seen.is_none(), a.first_seen).cmp(&(b.first_seen.is_none(), b.first_seen))
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    out.into_iter().map(|(_, u)| u).collect()
}

/// Tactic names deduplicated, in kill-chain order (unknown ones last, by name).
fn sorted_tactics(mut v: Vec<String>) -> Vec<String> {
    v.retain(|t| !t.is_empty());
    v.sort_by(|a, b| {
        attack::tactic_order(a)
            .cmp(&attack::tactic_order(b))
            .then_with(|| a.cmp(b))
    });
    v.dedup();
    v
}

/// Earlier of two optional times, a dated one winning over an undated one.
fn earlier(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The incident's tactics in kill-chain order (unknown ones last, by name): each
/// detection's rule tactic tags, or, for a rule without any, the table's tactics of its
/// techniques (a technique such as T1078 lists four tactics; the rule's tags say which
/// one it detects).
fn incident_tactics(ds: &[ObservedDetection], members: &[usize]) -> Vec<String> {
    let mut set: FxHashSet<String> = FxHashSet::default();
    for &i in members {
        let d = &ds[i];
        if d.tactics.is_empty() {
            for t in d.techniques.iter().filter_map(|t| attack::technique(t)) {
                set.extend(t.tactic_names().map(str::to_string));
            }
        } else {
            set.extend(d.tactics.iter().map(|t| attack::normalise_tactic(t)));
        }
    }
    sorted_tactics(set.into_iter().collect())
}
