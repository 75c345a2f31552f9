//! Dense integer ids over a [`Model`], for algorithms.
//!
//! Assets, services, segments, zones and flows each get `u32` indexes equal to their
//! position in the model's vectors, plus id -> index maps borrowing the model's strings
//! (no copies, so indexing a million-asset model stays cheap).

use rustc_hash::FxHashMap;

use crate::types::{DepTarget, Model};

/// "No index" marker in dense arrays (e.g. the zone of an identity).
pub const NONE: u32 = u32::MAX;

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Zone(u32),
    Flow(u32),
    Asset(u32),
    Service(u32),
    Segment(u32),
}

/// One member of a dependency, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepMember {
    Asset(u32),
    Service(u32),
}

/// Lookups over a model. Build with [`Model::index`]. Only meaningful on a model that
/// validated (unknown references resolve to nothing here rather than failing).
#[derive(Debug, Clone)]
pub struct Index<'m> {
    /// The indexed model.
    pub model: &'m Model,
    /// Every id of the model -> what it names. On duplicates, the first wins.
    pub ids: FxHashMap<&'m str, Entity>,
    /// Flow ids (explicit or `"<from>-><to>"`), by flow index.
    pub flow_ids: Vec<String>,
    /// Flow id -> flow index (first wins on duplicates).
    flow_index: FxHashMap<String, u32>,
    /// Zone index of each asset, [`NONE`] for identities (or an unknown zone).
    pub asset_zone: Vec<u32>,
    /// Host index each asset runs on, or [`NONE`].
    pub runs_on: Vec<u32>,
    /// (from zone, to zone) of each flow ([`NONE`] when unknown).
    pub flow_zones: Vec<(u32, u32)>,
    /// The Internet zone, if the model declares one.
    pub internet_zone: Option<u32>,
}

impl Model {
    /// Build dense indexes over this model.
    pub fn index(&self) -> Index<'_> {
        Index::new(self)
    }
}

impl<'m> Index<'m> {
    /// Build dense indexes over `model`.
    pub fn new(model: &'m Model) -> Self {
        let mut ids: FxHashMap<&'m str, Entity> = FxHashMap::default();
        ids.reserve(
            model.zones.len()
                + model.flows.len()
                + model.assets.len()
                + model.services.len()
                + model.segments.len(),
        );
        for (i, z) in model.zones.iter().enumerate() {
            ids.entry(z.id.as_str()).or_insert(Entity::Zone(i as u32));
        }
        for (i, a) in model.assets.iter().enumerate() {
            ids.entry(a.id.as_str()).or_insert(Entity::Asset(i as u32));
        }
        for (i, s) in model.services.iter().enumerate() {
            ids.entry(s.id.as_str())
                .or_insert(Entity::Service(i as u32));
        }
        for (i, s) in model.segments.iter().enumerate() {
            ids.entry(s.id.as_str())
                .or_insert(Entity::Segment(i as u32));
        }
        let flow_ids: Vec<String> = model.flows.iter().map(|f| f.id()).collect();
        let mut flow_index = FxHashMap::default();
        for (i, id) in flow_ids.iter().enumerate() {
            flow_index.entry(id.clone()).or_insert(i as u32);
        }
        let zone = |ids: &FxHashMap<&str, Entity>, z: &str| match ids.get(z) {
            Some(Entity::Zone(i)) => *i,
            _ => NONE,
        };
        let asset_zone = model
            .assets
            .iter()
            .map(|a| match &a.zone {
                Some(z) if !a.kind.is_identity() => zone(&ids, z),
                _ => NONE,
            })
            .collect();
        let runs_on = model
            .assets
            .iter()
            .map(|a| match a.runs_on.as_deref().and_then(|h| ids.get(h)) {
                Some(Entity::Asset(h)) => *h,
                _ => NONE,
            })
            .collect();
        let flow_zones = model
            .flows
            .iter()
            .map(|f| (zone(&ids, &f.from), zone(&ids, &f.to)))
            .collect();
        let internet_zone = model
            .zones
            .iter()
            .position(|z| z.internet)
            .map(|i| i as u32);
        Index {
            model,
            ids,
            flow_ids,
            flow_index,
            asset_zone,
            runs_on,
            flow_zones,
            internet_zone,
        }
    }

    /// What `id` names (flows included).
    pub fn entity(&self, id: &str) -> Option<Entity> {
        self.ids
            .get(id)
            .copied()
            .or_else(|| self.flow(id).map(Entity::Flow))
    }

    /// Asset index of `id`.
    pub fn asset(&self, id: &str) -> Option<u32> {
        match self.ids.get(id) {
            Some(Entity::Asset(i)) => Some(*i),
            _ => None,
        }
    }

    /// Service index of `id`.
    pub fn service(&self, id: &str) -> Option<u32> {
        match self.ids.get(id) {
            Some(Entity::Service(i)) => Some(*i),
            _ => None,
        }
    }

    /// Segment index of `id`.
    pub fn segment(&self, id: &str) -> Option<u32> {
        match self.ids.get(id) {
            Some(Entity::Segment(i)) => Some(*i),
            _ => None,
        }
    }

    /// Zone index of `id`.
    pub fn zone(&self, id: &str) -> Option<u32> {
        match self.ids.get(id) {
            Some(Entity::Zone(i)) => Some(*i),
            _ => None,
        }
    }

    /// Flow index of `id`. Flow ids are owned (most are derived from their zones), so they
    /// have their own map rather than a place in `ids`, which borrows the model.
    pub fn flow(&self, id: &str) -> Option<u32> {
        self.flow_index.get(id).copied()
    }

    /// Resolve a dependency member id (asset or service).
    pub fn dep_member(&self, id: &str) -> Option<DepMember> {
        match self.ids.get(id) {
            Some(Entity::Asset(i)) => Some(DepMember::Asset(*i)),
            Some(Entity::Service(i)) => Some(DepMember::Service(*i)),
            _ => None,
        }
    }

    /// The resolved members of each dependency of service `s`: (hard?, k, members).
    pub fn service_deps(&self, s: u32) -> Vec<(bool, u32, Vec<DepMember>)> {
        let Some(svc) = self.model.services.get(s as usize) else {
            return Vec::new();
        };
        svc.depends_on
            .iter()
            .map(|d| {
                let members = d
                    .ids()
                    .iter()
                    .filter_map(|id| self.dep_member(id))
                    .collect();
                let hard = d.kind == crate::types::DepKind::Hard;
                let k = match &d.target {
                    DepTarget::AnyOf { k, .. } => *k,
                    _ => 1,
                };
                (hard, k, members)
            })
            .collect()
    }

    /// Number of assets.
    pub fn asset_count(&self) -> usize {
        self.model.assets.len()
    }
}
