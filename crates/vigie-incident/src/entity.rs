//! Entities: the hosts, addresses, accounts, processes and hashes a detection names.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigie_hunt::Detection;
use vigie_sigma::Level;

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Host,
    Ip,
    Account,
    Sid,
    Process,
    /// A file hash; `Entity::value` is `TYPE=hex` (e.g. `SHA256=ab12...`).
    Hash,
    File,
}

/// The part an entity plays in the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Where the event happened (the logging host: `Computer`, `host.name`).
    Host,
    /// Where it came from (`IpAddress`, `WorkstationName`, `SourceIp`).
    Source,
    /// Where it went (`DestinationIp`, `DestinationHostname`).
    Destination,
    /// Who acted (`SubjectUserName`, `User`).
    Actor,
    /// Who was acted on or logged on (`TargetUserName` of 4624/4625/4648).
    Target,
}

/// One entity, normalised (see `vigie_model::identity` for the rules shared with the
/// model's identifiers).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub role: Role,
    /// Normalised value: host short name or FQDN, IP text, `domain\user` or `user`,
    /// upper-case SID, process image path, `TYPE=hex`.
    pub value: String,
    /// The event field it came from (for reports and tests).
    pub field: Arc<str>,
    /// A weak identifier (a bare account name without domain) links detections but
    /// never marks an asset compromised on its own.
    pub weak: bool,
}

/// An entity and the model asset it resolved to (`None`: unresolved, reported).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResolvedEntity {
    pub entity: Entity,
    pub asset: Option<String>,
}

/// A detection with what grouping needs to know about it: its rule (by stable key), its
/// level, its ATT&CK tags and its resolved entities.
#[derive(Debug, Clone)]
pub struct ObservedDetection {
    pub detection: Detection,
    /// Stable rule key (`vigie_sigma::RuleMeta::key`).
    pub rule_key: String,
    pub rule_title: String,
    pub level: Level,
    /// ATT&CK technique ids from the rule's tags, upper-case (`T1059.001`).
    pub techniques: Vec<String>,
    /// ATT&CK tactic short names from the rule's tags (`credential-access`).
    pub tactics: Vec<String>,
    pub entities: Vec<ResolvedEntity>,
}
