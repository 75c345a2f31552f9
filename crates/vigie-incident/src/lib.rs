//! vigie-incident: the one place where detections meet the operator model.
//!
//! Phases, one module each, all pure (no I/O policy, no terminal, no async):
//! 1. `mapping` + `extract`: which event fields name a host, an IP, an account, a
//!    process, a hash (a user-editable entity mapping, `mapping/entities.yml` shipped,
//!    documented in `docs/entities.md`), normalised and stripped of noise; [`Entity`].
//!    The detection session captures the fields the mapping names
//!    ([`EntityMapping::capture`] into `vigie_hunt::SessionOptions::capture`).
//! 2. `resolve`: entities to model assets through `vigie_model::IdentityIndex`;
//!    unresolved ones are counted ([`UnresolvedCounts`]), never dropped. [`observe`]
//!    does 1 and 2 for one detection and adds its rule's key, level and ATT&CK tags:
//!    an [`ObservedDetection`], what grouping works on.
//! 3. `group`: detections sharing an entity within a window, or on two assets joined by
//!    an attack edge of the right technique, form an [`Incident`] (stable `inc-` ids).
//! 4. `decide`: assess, contain and restore on each incident's compromised assets, the
//!    same documents `vigie assess/contain/restore` print, budgets only (no wall clock).
//! 5. `notify`: the NIS2 Art. 23 / GDPR Art. 33 notification draft.
//!
//! [`respond::respond`] runs 1-5 over a hunt's detections (`vigie respond`, `vigie
//! demo`); `vigie_wire::v1::respond` turns its result into the JSON of
//! `docs/respond.md`.

pub mod attack;
pub mod compromise;
pub mod decide;
pub mod entity;
pub mod extract;
pub mod group;
pub mod incident;
pub mod mapping;
pub mod notify;
pub mod resolve;
pub mod respond;
pub mod risk;

pub use entity::{Entity, EntityKind, ObservedDetection, ResolvedEntity, Role};
pub use extract::{attack_tags, extract, TACTICS};
pub use group::{
    detection_key, group, incident_id, parse_window, GroupOptions, GroupStats, Grouping,
    GuardedEntity, LinkKey, WindowError,
};
pub use incident::{Compromise, Evidence, Incident, RiskFactors, TechniqueUse};
pub use mapping::{EntityMapping, FieldKind, FieldSpec, MappingError, MappingProblem};
pub use resolve::{observe, resolve, UnresolvedCounts};
