//! Which assets an incident has compromised, and the evidence for each
//! (the rules of `docs/incidents.md`, "Compromised assets").
//!
//! The incident's detections are read once, in time order, so evidence only counts from
//! the moment it is seen: an account is stolen from its theft on, a host compromised from
//! its first qualifying detection on.
//! 1. **On-host activity**: a detection whose tactics include execution, persistence,
//!    privilege escalation or credential access marks the assets of its host entities
//!    (kind host, role host, resolved to a model asset of kind host, not weak)
//!    compromised. For a logon (rule 2), only its techniques outside the logon families
//!    count (PsExec's service execution, T1569.002), not its rule's tactic tags: a
//!    valid-account logon's tactics (persistence, privilege escalation...) say how the
//!    account is used, not that code runs on the host.
//! 2. **Logon with a stolen account**: an account is stolen once a credential-access
//!    detection names it as its target, or once it logs on from a compromised host (a
//!    source entity resolved to one). A logon naming a stolen account marks its host
//!    entities' assets compromised.
//!
//! A weak identifier (a bare account name) is never stolen and never marks anything: it
//! could be any of the same-named accounts of the estate. Detections below
//! `min_level` are not evidence.

use rustc_hash::{FxHashMap, FxHashSet};
use vigie_sigma::Level;

use crate::attack;
use crate::entity::{EntityKind, ObservedDetection, ResolvedEntity, Role};
use crate::incident::{Compromise, Evidence};

/// Tactics that mark the host they run on compromised (rule 1), kill-chain order.
pub const HOST_TACTICS: [&str; 4] = [
    "execution",
    "persistence",
    "privilege-escalation",
    "credential-access",
];

/// Technique families that are logons (rule 2): valid accounts, remote services, use of
/// alternate authentication material (pass the hash / ticket).
pub const LOGON_TECHNIQUES: [&str; 3] = ["T1078", "T1021", "T1550"];

/// Windows logon events a rule matching them is a logon by (successful logon, logon with
/// explicit credentials).
pub const LOGON_EVENT_IDS: [u64; 2] = [4624, 4648];

/// Whether a detection is a logon: a logon-family technique, or a rule matching on
/// `EventID` 4624 / 4648.
pub fn is_logon(d: &ObservedDetection) -> bool {
    d.techniques.iter().any(|t| {
        LOGON_TECHNIQUES
            .iter()
            .any(|l| attack::parent(t).eq_ignore_ascii_case(l))
    }) || d.detection.fields.iter().any(|(f, v)| {
        f.eq_ignore_ascii_case("EventID")
            && match v {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .is_some_and(|id| LOGON_EVENT_IDS.contains(&id))
    })
}

/// A detection's tactics for rule 1, as a set of kill-chain positions (bit `order`): the
/// table's tactics of its known techniques outside the logon families, and, unless it is
/// a logon, its rule's tactic tags (a logon rule's tags, such as T1078's persistence and
/// privilege escalation, say how the account is used, not that code runs on the host).
pub fn activity_tactics(d: &ObservedDetection) -> u32 {
    let mut mask = 0u32;
    for t in d.techniques.iter().filter_map(|t| attack::technique(t)) {
        if !is_logon_technique(t.id) {
            for &i in t.tactics {
                mask |= 1 << i;
            }
        }
    }
    if !is_logon(d) {
        for t in d.tactics.iter().filter_map(|t| attack::tactic(t)) {
            mask |= 1 << t.order;
        }
    }
    mask
}

fn is_logon_technique(id: &str) -> bool {
    LOGON_TECHNIQUES
        .iter()
        .any(|l| attack::parent(id).eq_ignore_ascii_case(l))
}

fn bit(tactic: &str) -> u32 {
    attack::tactic(tactic).map_or(0, |t| 1 << t.order)
}

fn strong_host<'a>(e: &'a ResolvedEntity, is_host: &dyn Fn(&str) -> bool) -> Option<&'a str> {
    let a = e.asset.as_deref()?;
    (e.entity.kind == EntityKind::Host
        && e.entity.role == Role::Host
        && !e.entity.weak
        && is_host(a))
    .then_some(a)
}

/// Key of an account for the stolen set: its asset when resolved, else its value.
fn account_key(e: &ResolvedEntity) -> Option<String> {
    let strong = matches!(e.entity.kind, EntityKind::Account | EntityKind::Sid) && !e.entity.weak;
    strong.then(|| match &e.asset {
        Some(a) => format!("asset\u{1f}{a}"),
        None => format!("{:?}\u{1f}{}", e.entity.kind, e.entity.value),
    })
}

struct Judge<'a> {
    found: FxHashMap<&'a str, Vec<Evidence>>,
    /// (asset, rule key, reason) already given as evidence: one piece per rule and reason.
    seen: FxHashSet<(&'a str, &'a str, &'static str)>,
}

impl<'a> Judge<'a> {
    fn mark(&mut self, asset: &'a str, d: &'a ObservedDetection, i: usize, reason: &'static str) {
        if self.seen.insert((asset, d.rule_key.as_str(), reason)) {
            self.found.entry(asset).or_default().push(Evidence {
                rule_key: d.rule_key.clone(),
                detection: i,
                reason: reason.to_string(),
            });
        }
    }
}

/// Kill-chain bits of the host tactics and of credential access, looked up once.
struct Bits {
    host: [u32; 4],
    cred: u32,
}

impl Bits {
    fn get() -> &'static Bits {
        static BITS: std::sync::OnceLock<Bits> = std::sync::OnceLock::new();
        BITS.get_or_init(|| Bits {
            host: HOST_TACTICS.map(bit),
            cred: bit("credential-access"),
        })
    }

    /// The rule 1 reason of a detection: its first host tactic in kill-chain order.
    fn reason(&self, mask: u32) -> Option<&'static str> {
        self.host
            .iter()
            .zip(REASONS)
            .find(|(b, _)| mask & **b != 0)
            .map(|(_, r)| r)
    }
}

const REASONS: [&str; 4] = [
    "execution",
    "persistence",
    "privilege_escalation",
    "credential_access",
];

/// Judge the compromised assets of one incident. `members` are indexes into
/// `detections`, in time order (the order evidence is read in); `is_host` says whether a
/// model asset id is of kind host. Each asset's evidence is one piece per (rule, reason),
/// from that rule's earliest detection; assets are sorted by id.
pub fn judge(
    detections: &[ObservedDetection],
    members: &[usize],
    is_host: &dyn Fn(&str) -> bool,
    min_level: Level,
) -> Vec<Compromise> {
    let mut j = Judge {
        found: FxHashMap::default(),
        seen: FxHashSet::default(),
    };
    let mut stolen: FxHashSet<String> = FxHashSet::default();
    let bits = Bits::get();
    for &i in members {
        let Some(d) = detections.get(i) else { continue };
        if d.level < min_level {
            continue;
        }
        let logon = is_logon(d);
        let tactics = activity_tactics(d);
        if let Some(reason) = bits.reason(tactics) {
            for e in &d.entities {
                if let Some(a) = strong_host(e, is_host) {
                    j.mark(a, d, i, reason);
                }
            }
        }
        let cred = tactics & bits.cred != 0 || d.tactics.iter().any(|t| bit(t) == bits.cred);
        if cred {
            for e in d.entities.iter().filter(|e| e.entity.role == Role::Target) {
                stolen.extend(account_key(e));
            }
        }
        if logon {
            logon_rule(&mut j, &mut stolen, d, i, is_host);
        }
    }
    let mut out: Vec<Compromise> = j
        .found
        .into_iter()
        .map(|(asset, evidence)| Compromise {
            asset: asset.to_string(),
            evidence,
        })
        .collect();
    out.sort_by(|a, b| a.asset.cmp(&b.asset));
    out
}

fn logon_rule<'a>(
    j: &mut Judge<'a>,
    stolen: &mut FxHashSet<String>,
    d: &'a ObservedDetection,
    i: usize,
    is_host: &dyn Fn(&str) -> bool,
) {
    let accounts: Vec<String> = d
        .entities
        .iter()
        .filter(|e| matches!(e.entity.role, Role::Target | Role::Actor))
        .filter_map(account_key)
        .collect();
    let from_compromised = d.entities.iter().any(|e| {
        e.entity.role == Role::Source
            && !e.entity.weak
            && e.asset.as_deref().is_some_and(|a| j.found.contains_key(a))
    });
    if from_compromised {
        stolen.extend(accounts.iter().cloned());
    }
    if accounts.iter().any(|a| stolen.contains(a)) {
        for e in &d.entities {
            if let Some(a) = strong_host(e, is_host) {
                j.mark(a, d, i, "logon_with_stolen_account");
            }
        }
    }
}
