//! The links between detections: interning linking entities, the guard, entity links
//! and attack-edge links, over one union-find.

use std::cmp::Ordering;

use chrono::{DateTime, TimeDelta, Utc};
use rustc_hash::FxHashMap;
use vigie_model::{AttackGraph, Model};

use super::{detection_key, GroupOptions, GroupStats, GuardedEntity, LinkKey};
use crate::attack;
use crate::entity::{EntityKind, ObservedDetection};

const NONE: u32 = u32::MAX;
/// Tag of a resolved asset in an interned key (unresolved ones: 1 + the kind).
const ASSET: u8 = 0;

fn kind_tag(k: EntityKind) -> u8 {
    1 + k as u8
}

fn tag_kind(t: u8) -> EntityKind {
    const KINDS: [EntityKind; 7] = [
        EntityKind::Host,
        EntityKind::Ip,
        EntityKind::Account,
        EntityKind::Sid,
        EntityKind::Process,
        EntityKind::Hash,
        EntityKind::File,
    ];
    KINDS[(t as usize).saturating_sub(1).min(KINDS.len() - 1)]
}

/// What linking found, for the incident builder.
pub(super) struct Linked {
    pub keys: Vec<String>,
    /// Detection indexes by (dated first, timestamp, key, index).
    pub order: Vec<u32>,
    /// Component root of each detection.
    pub root: Vec<u32>,
    pub guarded: Vec<GuardedEntity>,
    pub stats: GroupStats,
}

struct Dsu(Vec<u32>, Vec<u32>);
impl Dsu {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        let (big, small) = if self.1[a as usize] >= self.1[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.0[small as usize] = big;
        self.1[big as usize] += self.1[small as usize];
        true
    }
}

/// Interned linking entities and, per detection, the ones it carries (CSR).
struct Entities<'a> {
    keys: Vec<(u8, &'a str)>,
    start: Vec<u32>,
    of_det: Vec<u32>,
}

impl Entities<'_> {
    fn of(&self, d: u32) -> &[u32] {
        &self.of_det[self.start[d as usize] as usize..self.start[d as usize + 1] as usize]
    }
    /// Counts towards the guard: an asset or an unresolved host name.
    fn is_host(&self, l: u32) -> bool {
        let t = self.keys[l as usize].0;
        t == ASSET || t == kind_tag(EntityKind::Host)
    }
}

fn intern(detections: &[ObservedDetection]) -> Entities<'_> {
    let mut ids: FxHashMap<(u8, &str), u32> = FxHashMap::default();
    let mut keys = Vec::new();
    let mut start = Vec::with_capacity(detections.len() + 1);
    let mut of_det = Vec::new();
    start.push(0u32);
    for d in detections {
        let first = of_det.len();
        for e in &d.entities {
            let key = match &e.asset {
                Some(a) => (ASSET, a.as_str()),
                None => match e.entity.kind {
                    EntityKind::Host | EntityKind::Ip | EntityKind::Account | EntityKind::Sid => {
                        (kind_tag(e.entity.kind), e.entity.value.as_str())
                    }
                    EntityKind::Process | EntityKind::Hash | EntityKind::File => continue,
                },
            };
            let next = keys.len() as u32;
            let id = *ids.entry(key).or_insert(next);
            if id == next {
                keys.push(key);
            }
            of_det.push(id);
        }
        // Two entities naming one asset (its host name and its IP) are one link.
        of_det[first..].sort_unstable();
        let mut w = first;
        for r in first..of_det.len() {
            if w == first || of_det[w - 1] != of_det[r] {
                of_det[w] = of_det[r];
                w += 1;
            }
        }
        of_det.truncate(w);
        start.push(of_det.len() as u32);
    }
    Entities {
        keys,
        start,
        of_det,
    }
}

fn cmp_det(ts: &[Option<DateTime<Utc>>], keys: &[String], a: u32, b: u32) -> Ordering {
    let (ta, tb) = (ts[a as usize], ts[b as usize]);
    (ta.is_none(), ta)
        .cmp(&(tb.is_none(), tb))
        .then_with(|| keys[a as usize].cmp(&keys[b as usize]))
        .then(a.cmp(&b))
}

pub(super) fn link(
    detections: &[ObservedDetection],
    model: &Model,
    attack: &AttackGraph,
    opts: &GroupOptions,
) -> Linked {
    let n = detections.len();
    let keys: Vec<String> = detections.iter().map(detection_key).collect();
    let ts: Vec<Option<DateTime<Utc>>> = detections.iter().map(|d| d.detection.timestamp).collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| cmp_det(&ts, &keys, a, b));

    let ents = intern(detections);
    let nl = ents.keys.len();
    // Each entity's detections in `order`: dated ones first (by time), then undated.
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); nl];
    for &d in &order {
        for &l in ents.of(d) {
            lists[l as usize].push(d);
        }
    }
    let dated = |list: &[u32]| list.partition_point(|&d| ts[d as usize].is_some());

    let mut stats = GroupStats {
        detections: n,
        undated: ts.iter().filter(|t| t.is_none()).count(),
        linking_entities: nl,
        ..GroupStats::default()
    };
    let (guarded_flags, guarded) = guard(&ents, &lists, &ts, opts);

    let mut dsu = Dsu((0..n as u32).collect(), vec![1; n]);
    for (l, list) in lists.iter().enumerate() {
        if guarded_flags[l] {
            continue;
        }
        let k = dated(list);
        for w in list[..k].windows(2) {
            if gap(&ts, w[0], w[1]).is_some_and(|g| g <= opts.window) && dsu.union(w[0], w[1]) {
                stats.entity_links += 1;
            }
        }
        for w in list[k..].windows(2) {
            if dsu.union(w[0], w[1]) {
                stats.entity_links += 1;
            }
        }
    }
    edges(
        &ents,
        &lists,
        &guarded_flags,
        &ts,
        detections,
        model,
        attack,
        opts,
        &mut dsu,
        &mut stats,
    );

    let root = (0..n as u32).map(|d| dsu.find(d)).collect();
    Linked {
        keys,
        order,
        root,
        guarded,
        stats,
    }
}

fn gap(ts: &[Option<DateTime<Utc>>], a: u32, b: u32) -> Option<TimeDelta> {
    Some(ts[b as usize]? - ts[a as usize]?)
}

/// The guard: for each entity, the most distinct hosts (other than itself) of its
/// detections within one window (two pointers over its dated detections; its undated ones
/// as one block). Returns the flags and the guarded entities, sorted.
fn guard(
    ents: &Entities<'_>,
    lists: &[Vec<u32>],
    ts: &[Option<DateTime<Utc>>],
    opts: &GroupOptions,
) -> (Vec<bool>, Vec<GuardedEntity>) {
    let nl = ents.keys.len();
    let mut flags = vec![false; nl];
    let mut out = Vec::new();
    // Occurrences of each host in the current window, and how many are non-zero.
    let mut count = vec![0u32; nl];
    let max = opts.max_assets_per_entity;
    for (l, list) in lists.iter().enumerate() {
        let l32 = l as u32;
        let k = list.partition_point(|&d| ts[d as usize].is_some());
        let mut distinct = 0usize;
        let mut best = 0usize;
        let add = |d: u32, count: &mut [u32], distinct: &mut usize, sign: bool| {
            for &h in ents.of(d) {
                if h == l32 || !ents.is_host(h) {
                    continue;
                }
                let c = &mut count[h as usize];
                if sign {
                    *c += 1;
                    if *c == 1 {
                        *distinct += 1;
                    }
                } else {
                    *c -= 1;
                    if *c == 0 {
                        *distinct -= 1;
                    }
                }
            }
        };
        let mut lo = 0;
        for hi in 0..k {
            add(list[hi], &mut count, &mut distinct, true);
            while lo < hi && gap(ts, list[lo], list[hi]).is_some_and(|g| g > opts.window) {
                add(list[lo], &mut count, &mut distinct, false);
                lo += 1;
            }
            best = best.max(distinct);
        }
        for &d in &list[lo..k] {
            add(d, &mut count, &mut distinct, false);
        }
        // Undated: one block.
        for &d in &list[k..] {
            add(d, &mut count, &mut distinct, true);
        }
        best = best.max(distinct);
        for &d in &list[k..] {
            add(d, &mut count, &mut distinct, false);
        }
        if best > max {
            flags[l] = true;
            out.push(GuardedEntity {
                entity: link_key(ents.keys[l]),
                hosts_in_window: best,
                detections: list.len(),
            });
        }
    }
    out.sort_by(|a, b| a.entity.cmp(&b.entity));
    (flags, out)
}

fn link_key((tag, value): (u8, &str)) -> LinkKey {
    if tag == ASSET {
        LinkKey::Asset {
            id: value.to_string(),
        }
    } else {
        LinkKey::Unresolved {
            kind: tag_kind(tag),
            value: value.to_string(),
        }
    }
}

/// Attack-edge links: for each model edge `from → to` with detections on both ends
/// (neither guarded), each dated detection on `to` with a matching technique links to
/// the latest detection on `from` at or before it, if within the window. One is enough:
/// the dated detections on `from` within one window of it are already chained by the
/// `from` entity (not guarded).
#[allow(clippy::too_many_arguments)]
fn edges(
    ents: &Entities<'_>,
    lists: &[Vec<u32>],
    guarded: &[bool],
    ts: &[Option<DateTime<Utc>>],
    detections: &[ObservedDetection],
    model: &Model,
    attack: &AttackGraph,
    opts: &GroupOptions,
    dsu: &mut Dsu,
    stats: &mut GroupStats,
) {
    let asset_links: FxHashMap<&str, u32> = ents
        .keys
        .iter()
        .enumerate()
        .filter(|(l, k)| k.0 == ASSET && !guarded[*l])
        .map(|(l, k)| (k.1, l as u32))
        .collect();
    if asset_links.is_empty() || attack.edges.is_empty() {
        return;
    }
    let mut link_of_model = vec![NONE; model.assets.len()];
    for (i, a) in model.assets.iter().enumerate() {
        if let Some(&l) = asset_links.get(a.id.as_str()) {
            link_of_model[i] = l;
        }
    }
    let at = |node: u32| link_of_model.get(node as usize).copied().unwrap_or(NONE);
    // (to, technique, from) of the edges with both ends observed, deduplicated.
    let mut todo: Vec<(u32, u16, u32)> = attack
        .edges
        .iter()
        .filter_map(|e| {
            let (f, t) = (at(e.from), at(e.to));
            (f != NONE && t != NONE && f != t).then_some((t, e.technique, f))
        })
        .collect();
    todo.sort_unstable();
    todo.dedup();
    stats.attack_edges_examined = todo.len();
    let dated = |list: &[u32]| list.partition_point(|&d| ts[d as usize].is_some());
    let mut i = 0;
    while i < todo.len() {
        let (to, tech) = (todo[i].0, todo[i].1);
        let technique = attack
            .techniques
            .get(tech as usize)
            .map_or("", String::as_str);
        let to_list = &lists[to as usize];
        let matching: Vec<u32> = to_list[..dated(to_list)]
            .iter()
            .copied()
            .filter(|&d| {
                detections[d as usize]
                    .techniques
                    .iter()
                    .any(|t| attack::technique_matches(t, technique))
            })
            .collect();
        while i < todo.len() && (todo[i].0, todo[i].1) == (to, tech) {
            let from_list = &lists[todo[i].2 as usize];
            let from_dated = &from_list[..dated(from_list)];
            for &d2 in &matching {
                let t2 = ts[d2 as usize];
                let p = from_dated.partition_point(|&d| ts[d as usize] <= t2);
                let Some(&d1) = p.checked_sub(1).and_then(|p| from_dated.get(p)) else {
                    continue;
                };
                if d1 != d2
                    && gap(ts, d1, d2).is_some_and(|g| g <= opts.window)
                    && dsu.union(d1, d2)
                {
                    stats.attack_edge_links += 1;
                }
            }
            i += 1;
        }
    }
}
