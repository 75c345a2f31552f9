//! The compiled rule set: field table, logsource routing, literal index, metadata.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::detect::{Detection, FieldId};
use crate::index::Prefilter;
use crate::mapping::FieldCond;
use crate::types::{RuleId, RuleMeta};

/// Where an event field name lands: (field id, priority; 0 = the rule's own name).
pub type Target = (FieldId, u8);

/// A logsource condition compiled on field ids: OR of alternatives, each AND.
#[derive(Debug, Clone)]
pub struct LsCond {
    pub alts: Vec<Vec<(FieldId, FieldCond)>>,
}

/// One compiled detection rule.
#[derive(Debug, Clone)]
pub struct CRule {
    pub det: Detection,
    pub ls: Option<u32>,
    /// Whether the detection has keyword (field-less) items: evaluating it needs the
    /// lowercased text of every leaf, which the matcher only builds for such rules.
    pub keywords: bool,
}

impl CRule {
    pub fn new(det: Detection, ls: Option<u32>) -> CRule {
        let keywords = det
            .sels
            .iter()
            .any(|s| s.alts.iter().any(|a| a.iter().any(|t| t.field.is_none())));
        CRule { det, ls, keywords }
    }
}

/// Rules compiled for matching. Build with [`RuleSet::load`](crate::RuleSet::load).
pub struct RuleSet {
    pub(crate) metas: Vec<RuleMeta>,
    /// Detection rules; `rules[i]` is `RuleId(i)`.
    pub(crate) rules: Vec<CRule>,
    pub(crate) field_names: Vec<Arc<str>>,
    pub(crate) lookup: FxHashMap<Box<str>, Vec<Target>>,
    /// (first byte, length < 128) of every name in `lookup`, as bits: most event names
    /// are rejected without hashing.
    pub(crate) name_bits: Box<[u128; 256]>,
    pub(crate) logsources: Vec<LsCond>,
    pub(crate) has_keywords: bool,
    /// The rules of each logsource (rules without a routed logsource: `None`), each
    /// group with its literal index; an event only consults the indexes of the
    /// logsources it satisfies.
    pub(crate) groups: Vec<Group>,
    /// The `Channel` field, when a logsource condition uses it.
    pub(crate) channel: Option<FieldId>,
    /// The `EventID` field, when a rule or logsource uses it.
    pub(crate) event_id: Option<FieldId>,
    /// Lowercased Channel value → groups whose logsource requires that Channel.
    pub(crate) groups_by_channel: FxHashMap<String, ChannelGroups>,
    /// Groups whose logsource does not pin the Channel (always consulted).
    pub(crate) unkeyed_groups: Vec<u32>,
    pub(crate) correlations: Option<crate::correlation::Compiled>,
    /// `sha256:` over the sorted digests of every rule document read.
    pub(crate) digest: Arc<str>,
}

/// The detection rules of one logsource and their literal index. The index is built
/// the first time an event of the logsource is matched: a hunt of one log type consults
/// a few of SigmaHQ's hundred-odd groups, and computing every rule's literal
/// requirements and every group's index was an eighth of loading `rules/`.
pub(crate) struct Group {
    pub ls: Option<u32>,
    /// Its rules (ids), in rule order.
    pub rules: Vec<u32>,
    index: std::sync::OnceLock<Prefilter>,
}

impl Group {
    pub(crate) fn new(ls: Option<u32>, rules: Vec<u32>) -> Group {
        Group {
            ls,
            rules,
            index: std::sync::OnceLock::new(),
        }
    }
}

impl RuleSet {
    /// Group `gi`'s literal index, built on first use (by whichever matcher thread gets
    /// there first; the others wait for it).
    pub(crate) fn group_index(&self, gi: usize) -> &Prefilter {
        let g = &self.groups[gi];
        g.index.get_or_init(|| {
            let reqs: Vec<(u32, crate::index::Conj)> = g
                .rules
                .iter()
                .map(|&i| (i, crate::index::requirement(&self.rules[i as usize].det)))
                .collect();
            Prefilter::build(&reqs)
        })
    }
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.metas.len())
            .field("fields", &self.field_names.len())
            .field("logsources", &self.logsources.len())
            .finish()
    }
}

/// The groups whose logsource requires one Channel value, split by EventID: most
/// logsources are one Channel and a few event ids, so an event only looks at the groups
/// of its own Channel and EventID.
#[derive(Debug, Default)]
pub(crate) struct ChannelGroups {
    /// Every group for the Channel (for events without a scalar EventID, which do not
    /// route on it).
    pub all: Vec<u32>,
    /// Groups that accept the Channel with any EventID.
    pub any_event: Vec<u32>,
    /// Lowercased EventID text → groups that accept the Channel with that EventID only.
    pub by_event: FxHashMap<String, Vec<u32>>,
}

/// One logsource alternative's Channel values and EventID values (`None`: any).
type KeyedAlt = (Vec<String>, Option<Vec<String>>);

/// Keys the groups by the Channel (and EventID) values their logsource requires: the
/// Channel index and the groups that pin no Channel (consulted for every event). A group
/// is keyed only when every alternative of its logsource pins the Channel; under a
/// Channel, by EventID only when every alternative with that Channel pins the EventID.
/// Keying only narrows which groups' logsource conditions are checked: the conditions
/// themselves still decide.
pub(crate) fn route_groups(
    groups: &[Group],
    logsources: &[LsCond],
    channel: Option<FieldId>,
    event_id: Option<FieldId>,
) -> (FxHashMap<String, ChannelGroups>, Vec<u32>) {
    let pinned = |alt: &[(FieldId, FieldCond)], field: Option<FieldId>| {
        alt.iter().find_map(|(f, c)| match c {
            FieldCond::AnyOf(v) if Some(*f) == field => Some(v.clone()),
            _ => None,
        })
    };
    let mut by_channel: FxHashMap<String, ChannelGroups> = FxHashMap::default();
    let mut unkeyed = Vec::new();
    for (gi, group) in groups.iter().enumerate() {
        let gi = gi as u32;
        let Some(cond) = group.ls.and_then(|l| logsources.get(l as usize)) else {
            unkeyed.push(gi);
            continue;
        };
        let keyed: Option<Vec<KeyedAlt>> = cond
            .alts
            .iter()
            .map(|alt| Some((pinned(alt, channel)?, pinned(alt, event_id))))
            .collect();
        let Some(keyed) = keyed else {
            unkeyed.push(gi);
            continue;
        };
        let mut channels: Vec<&String> = keyed.iter().flat_map(|(c, _)| c).collect();
        channels.sort();
        channels.dedup();
        for ch in channels {
            let entry = by_channel.entry(ch.clone()).or_default();
            entry.all.push(gi);
            let alts = keyed.iter().filter(|(c, _)| c.contains(ch));
            let mut events: Vec<&String> = Vec::new();
            let mut any = false;
            for (_, ev) in alts {
                match ev {
                    Some(ev) => events.extend(ev),
                    None => any = true,
                }
            }
            if any {
                entry.any_event.push(gi);
            } else {
                events.sort();
                events.dedup();
                for e in events {
                    entry.by_event.entry(e.clone()).or_default().push(gi);
                }
            }
        }
    }
    (by_channel, unkeyed)
}

/// Bits of [`RuleSet::name_bits`] for a set of names.
pub(crate) fn name_bits<'a>(names: impl Iterator<Item = &'a str>) -> Box<[u128; 256]> {
    let mut b = Box::new([0u128; 256]);
    for n in names {
        if let Some(&c) = n.as_bytes().first() {
            b[c as usize] |= 1u128 << n.len().min(127);
        }
    }
    b
}

/// Whether `name` may be in the lookup (false: certainly not).
#[inline]
pub(crate) fn may_know(bits: &[u128; 256], name: &str) -> bool {
    match name.as_bytes().first() {
        Some(&c) => bits[c as usize] & (1u128 << name.len().min(127)) != 0,
        None => false,
    }
}

impl RuleSet {
    /// Metadata of a rule.
    ///
    /// # Panics
    /// When `id` does not come from this rule set.
    pub fn meta(&self, id: RuleId) -> &RuleMeta {
        &self.metas[id.0 as usize]
    }

    /// Stable digest of the rule set: `sha256:` over the sorted digests of every YAML
    /// document read (rules, filters, correlations, refused ones too), so two runs on the same
    /// rules, wherever their files live and in whatever order they were given, report
    /// the same digest, and any change to a rule changes it.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The rule with stable key `key` (its Sigma `id`, or its document digest).
    pub fn by_key(&self, key: &str) -> Option<RuleId> {
        self.metas
            .iter()
            .position(|m| &*m.key == key)
            .map(|i| RuleId(i as u32))
    }

    /// Registers rules matched outside this rule set (threat-intelligence indicators,
    /// [`RuleKind::Indicator`]): they get ids after every Sigma rule, so their matches
    /// report through [`RuleSet::meta`] like any other. Returns the id of the first one;
    /// the others follow in order. Their digests are folded into [`RuleSet::digest`].
    pub fn add_external(&mut self, metas: Vec<RuleMeta>) -> RuleId {
        let first = RuleId(self.metas.len() as u32);
        if metas.is_empty() {
            return first;
        }
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.digest.as_bytes());
        for m in &metas {
            h.update(b"\0");
            h.update(m.key.as_bytes());
        }
        self.digest = format!("sha256:{:x}", h.finalize()).into();
        self.metas.extend(metas);
        first
    }

    /// Number of rules (detection, correlation and external).
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Number of detection rules (ids `0..n`).
    pub fn detection_len(&self) -> usize {
        self.rules.len()
    }

    /// Every rule id, in order.
    pub fn rule_ids(&self) -> impl Iterator<Item = RuleId> + '_ {
        (0..self.metas.len() as u32).map(RuleId)
    }

    /// Every field name rules use (for diagnostics).
    pub fn field_names(&self) -> &[Arc<str>] {
        &self.field_names
    }

    /// A matcher for one thread.
    pub fn matcher(&self) -> crate::matcher::Matcher<'_> {
        crate::matcher::Matcher::new(self)
    }

    /// Literal index summary: per field, literal count and short ones (diagnostics).
    pub fn index_summary(&self) -> Vec<(String, usize, usize)> {
        (0..self.groups.len())
            .flat_map(|gi| self.group_index(gi).fields.iter())
            .map(|(f, ac, _, _)| {
                let name = self
                    .field_names
                    .get(*f as usize)
                    .map_or_else(|| "<keywords>".to_string(), |n| n.to_string());
                (name, ac.patterns_len(), ac.min_pattern_len())
            })
            .collect()
    }

    /// Detection rules the literal index cannot skip (diagnostics).
    pub fn unindexed_rule_ids(&self) -> Vec<RuleId> {
        let mut v: Vec<RuleId> = (0..self.groups.len())
            .flat_map(|gi| self.group_index(gi).always.iter().map(|&r| RuleId(r)))
            .collect();
        v.sort();
        v
    }

    /// How many detection rules the literal index cannot skip (diagnostics).
    pub fn unindexed_rules(&self) -> usize {
        (0..self.groups.len())
            .map(|gi| self.group_index(gi).always.len())
            .sum()
    }
}
