//! Grouping: detections become incidents (the rules of `docs/incidents.md`).
//!
//! Two detections are *linked* when
//! - they share a **linking entity**: a resolved model asset (whatever named it: host, IP,
//!   account, SID), or an unresolved host, IP, account or SID value (processes, hashes and
//!   files name too many unrelated things to link), and their timestamps are at most
//!   `window` apart. This is single linkage: along one entity, each detection links to
//!   the previous one (by time) when the gap is at most `window`, so a chain of
//!   detections each within `window` of the next is one incident, however long;
//! - or they lie on two assets joined by a model attack edge `from → to`, the earlier one
//!   (time ≤) on `from`, the later one on `to` at most `window` later, and one of the later
//!   detection's techniques is the edge's technique or its parent or child
//!   ([`crate::attack::technique_matches`]). A detection is "on" every asset its entities
//!   resolve to.
//!
//! Incidents are the connected components of the links. Every detection is in exactly one
//! (alone if nothing links it).
//!
//! **Guard**: a linking entity seen with more than `max_assets_per_entity` distinct
//! *hosts* (other resolved assets, or unresolved host names, of the detections that carry
//! it) within one window anywhere on its timeline is *guarded*: it links nothing, neither
//! by entity nor by attack edge, and is reported in [`Grouping::guarded`]. One domain
//! controller everybody logs on to, or one service account used everywhere, would
//! otherwise merge the estate into one incident.
//!
//! **Monotonicity**: while no entity is guarded, every link under a window stays a link
//! under any wider window, so a wider window only merges incidents, never splits one.
//!
//! **Detections without a time** have no place on the timeline: they link by entity to
//! every other undated detection sharing it (whatever the window), never to a dated one,
//! and take no part in attack-edge links; their entities' guard counts all undated
//! detections as one window. They sort after dated ones.
//!
//! **Ids**: a detection's key is [`detection_key`] (stable, input-order free); the
//! earliest detection of an incident is the least by (dated first, timestamp, key), and
//! the incident's id is [`incident_id`] of its key. Merging two incidents keeps the id of
//! the one with the earlier detection. Incidents come out by that earliest detection.
//!
//! Cost: sorting the detections and each entity's occurrences (O(n log n)), one union-find
//! pass, one pass over the model's attack edges, one reverse Dijkstra for the risk score.

mod build;
mod link;

use chrono::{SecondsFormat, TimeDelta};
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigie_model::{AttackGraph, Model};
use vigie_sigma::Level;

use crate::entity::{EntityKind, ObservedDetection};
use crate::incident::Incident;

/// Grouping parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOptions {
    /// Largest gap between two linked detections (default 24 h).
    pub window: TimeDelta,
    /// An entity seen with more distinct hosts than this within one window stops linking
    /// (default 20).
    pub max_assets_per_entity: usize,
    /// Detections below this level are no evidence of compromise (default medium): low and
    /// informational rules flag activity worth a look, not a takeover.
    pub compromise_min_level: Level,
}

/// Default window: 24 hours.
pub const DEFAULT_WINDOW_HOURS: i64 = 24;
/// Default guard.
pub const DEFAULT_MAX_ASSETS_PER_ENTITY: usize = 20;

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            window: TimeDelta::hours(DEFAULT_WINDOW_HOURS),
            max_assets_per_entity: DEFAULT_MAX_ASSETS_PER_ENTITY,
            compromise_min_level: Level::Medium,
        }
    }
}

/// A linking entity: a model asset, or an unresolved value of some kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkKey {
    Asset { id: String },
    Unresolved { kind: EntityKind, value: String },
}

/// An entity the guard stopped from linking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardedEntity {
    pub entity: LinkKey,
    /// Most distinct hosts seen with it within one window (more than the guard).
    pub hosts_in_window: usize,
    /// Detections carrying it.
    pub detections: usize,
}

/// Counters of one grouping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupStats {
    pub detections: usize,
    /// Detections without a timestamp.
    pub undated: usize,
    pub incidents: usize,
    /// Distinct linking entities.
    pub linking_entities: usize,
    /// Links made by shared entities (pairs of consecutive detections of one entity).
    pub entity_links: usize,
    /// Links made by attack edges.
    pub attack_edge_links: usize,
    /// Model attack edges whose both ends carry detections (the ones examined).
    pub attack_edges_examined: usize,
}

/// The incidents and what the grouping saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// By earliest detection (dated first, timestamp, key).
    pub incidents: Vec<Incident>,
    /// Sorted by entity.
    pub guarded: Vec<GuardedEntity>,
    pub stats: GroupStats,
}

/// A detection's stable key, independent of input order and of rule numbering: the rule's
/// stable key, then source and record; for a correlation hit (no source), its group-by
/// values and first/last times. Fields are separated by U+001F.
pub fn detection_key(d: &ObservedDetection) -> String {
    const SEP: char = '\u{1f}';
    let mut k = d.rule_key.clone();
    match &d.detection.correlation {
        Some(c) => {
            k.push(SEP);
            k.push_str("correlation");
            for (f, v) in &c.group {
                k.push(SEP);
                k.push_str(f);
                k.push('=');
                k.push_str(&v.to_string());
            }
            k.push(SEP);
            k.push_str(&c.first.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            k.push(SEP);
            k.push_str(&c.last.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        None => {
            k.push(SEP);
            k.push_str(d.detection.source.as_deref().unwrap_or(""));
            k.push(SEP);
            if let Some(r) = d.detection.record {
                k.push_str(&r.to_string());
            }
        }
    }
    k
}

/// `inc-` + the first 16 hex digits of the SHA-256 of a detection key.
pub fn incident_id(key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    let mut s = String::with_capacity(20);
    s.push_str("inc-");
    for b in &h[..8] {
        s.push(char::from(HEX[(b >> 4) as usize]));
        s.push(char::from(HEX[(b & 15) as usize]));
    }
    s
}
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A window that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad window {0:?}: expected a whole number with an optional unit s, m, h or d (a bare number is hours), e.g. 90m, 24h, 2d")]
pub struct WindowError(pub String);

/// Read a window: `90m`, `24h`, `2d`, `3600s`; a bare number is hours.
pub fn parse_window(s: &str) -> Result<TimeDelta, WindowError> {
    let t = s.trim();
    let err = || WindowError(s.to_string());
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| err())?;
    let secs = match unit.trim().to_ascii_lowercase().as_str() {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "" | "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(err)?;
    TimeDelta::try_seconds(secs).ok_or_else(err)
}

/// Group detections into incidents (module docs for the rules). Detections are referred
/// to by their index in `detections`.
pub fn group(
    detections: &[ObservedDetection],
    model: &Model,
    attack: &AttackGraph,
    opts: &GroupOptions,
) -> Grouping {
    let linked = link::link(detections, model, attack, opts);
    let incidents = build::incidents(detections, model, attack, opts, &linked);
    let mut stats = linked.stats.clone();
    stats.incidents = incidents.len();
    tracing::debug!(
        detections = stats.detections,
        incidents = stats.incidents,
        guarded = linked.guarded.len(),
        "grouped"
    );
    Grouping {
        incidents,
        guarded: linked.guarded,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_window("24h"), Ok(TimeDelta::hours(24)));
        assert_eq!(parse_window(" 2d "), Ok(TimeDelta::days(2)));
        assert_eq!(parse_window("6"), Ok(TimeDelta::hours(6)));
        assert_eq!(parse_window("30s"), Ok(TimeDelta::seconds(30)));
        for bad in ["", "h", "-1h", "1.5h", "3w", "99999999999999999999d"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids() {
        let id = incident_id("k");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("inc-"));
        // SHA-256("k") = 8254c329a92850f6...
        assert_eq!(id, "inc-8254c329a92850f6");
    }
}
