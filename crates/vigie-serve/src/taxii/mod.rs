//! TAXII 2.1 under `/taxii2/` (`docs/taxii.md`): discovery `/taxii2/`, one API root
//! `/taxii2/vigie/` with two collections, and the status of POSTs.
//!
//! - `incidents` (read-only): the STIX objects of serve's incidents, kept current by
//!   [`feed`] (every incident change adds the new versions).
//! - `shared` (read-write): what peers and analysts post; serve's live intel reload reads
//!   its indicators ([`Taxii::shared_indicators`]) and is told of every write through
//!   [`Taxii::subscribe_shared`].
//!
//! Collections live in the store (`vigie_store::Store::taxii_*`), so they survive
//! restarts. Selection (`match[...]`, `added_after`, `limit`/`next`) is [`filter`],
//! media types and TAXII error messages [`http`], the endpoints [`handlers`].
//!
//! Permissions, per collection, from serve's API tokens (`vigie serve token add`; Bearer,
//! or Basic with the token as password): reading either collection needs `viewer`,
//! `analyst` or `admin`; writing (POST, DELETE) `shared` needs `analyst` or `admin`;
//! `incidents` is never writable. With no token configured (loopback only) both are
//! open.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use vigie_store::{Store, StoreError};

pub mod feed;
pub mod filter;
pub mod handlers;
pub mod http;

use crate::api::auth::{Need, Role};
use crate::pipeline::Engines;

/// The API root's path segment (`/taxii2/vigie/`).
pub const API_ROOT: &str = "vigie";

/// One of the two collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionKind {
    /// Read-only: serve's incidents as STIX.
    Incidents,
    /// Read-write.
    Shared,
}

impl CollectionKind {
    pub const ALL: [CollectionKind; 2] = [CollectionKind::Incidents, CollectionKind::Shared];

    /// The alias, also the key of its rows in the store.
    pub fn alias(self) -> &'static str {
        match self {
            CollectionKind::Incidents => "incidents",
            CollectionKind::Shared => "shared",
        }
    }

    /// The collection id: UUIDv5 (URL namespace) of `urn:vigie:taxii:collection:<alias>`.
    pub fn id(self) -> &'static str {
        match self {
            CollectionKind::Incidents => "a9d90135-8013-509c-b9a1-b11f9ab17a4f",
            CollectionKind::Shared => "ea8cab59-6eee-5bff-9d12-2190b49f9ef9",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CollectionKind::Incidents => "vigie incidents",
            CollectionKind::Shared => "shared intelligence",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            CollectionKind::Incidents => {
                "The STIX 2.1 objects of this vigie's incidents (read-only, kept current)"
            }
            CollectionKind::Shared => {
                "Intelligence posted by peers and analysts; its indicators feed detection"
            }
        }
    }

    /// By id or alias.
    pub fn find(key: &str) -> Option<CollectionKind> {
        CollectionKind::ALL
            .into_iter()
            .find(|c| c.id() == key || c.alias() == key)
    }

    /// Whether a caller of `role` may read it.
    pub fn can_read(self, role: Role) -> bool {
        role.allows(Need::Read)
    }

    /// Whether a caller of `role` may write it (POST objects, DELETE an object).
    pub fn can_write(self, role: Role) -> bool {
        match self {
            CollectionKind::Incidents => false,
            CollectionKind::Shared => role.allows(Need::Change),
        }
    }
}

/// The TAXII part of the app state ([`crate::state::AppState::taxii`]).
pub struct Taxii {
    /// Bumped after every committed write to `shared` (POST that stored something,
    /// DELETE that deleted something).
    shared: watch::Sender<u64>,
    /// The processor's engines (rules, model, mapping) once loaded, and again after each
    /// reload: the [`feed`] needs them to observe stored detections as respond does.
    engines: watch::Sender<Option<Arc<Engines>>>,
}

impl std::fmt::Debug for Taxii {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Taxii")
            .field("shared", &*self.shared.borrow())
            .field("engines", &self.engines.borrow().is_some())
            .finish()
    }
}

impl Default for Taxii {
    fn default() -> Taxii {
        Taxii::new()
    }
}

impl Taxii {
    pub fn new() -> Taxii {
        Taxii {
            shared: watch::Sender::new(0),
            engines: watch::Sender::new(None),
        }
    }

    /// Called by the processor when its engines are loaded (at start, after a reload):
    /// the [`feed`] republishes the `incidents` collection with them.
    pub fn set_engines(&self, e: Arc<Engines>) {
        self.engines.send_replace(Some(e));
    }

    /// A receiver of the engines the processor runs on (None until the first load).
    pub fn subscribe_engines(&self) -> watch::Receiver<Option<Arc<Engines>>> {
        self.engines.subscribe()
    }

    /// A receiver of the `shared` collection's generation: it changes after every
    /// committed write to `shared` (`changed().await`, or compare `*borrow()`), so the
    /// live intel reload knows when to read [`Taxii::shared_indicators`] again.
    pub fn subscribe_shared(&self) -> watch::Receiver<u64> {
        self.shared.subscribe()
    }

    /// The generation now (0 at start; +1 per write).
    pub fn shared_generation(&self) -> u64 {
        *self.shared.borrow()
    }

    /// Called by the handlers after a committed write to `shared`.
    pub(crate) fn bump_shared(&self) {
        self.shared.send_modify(|g| *g += 1);
    }

    /// The `shared` collection's current indicator objects: for each indicator id its
    /// latest version (of its latest `spec_version`), in date-added order. Blocking
    /// (a store read): call it from the processor thread or `spawn_blocking`.
    pub fn shared_indicators(store: &Store) -> Result<Vec<Value>, StoreError> {
        let rows = store.taxii_objects(
            CollectionKind::Shared.alias(),
            &[],
            &["indicator".to_string()],
        )?;
        let sel = filter::Select::default();
        Ok(filter::select(rows, &sel)
            .into_iter()
            .map(|r| r.document)
            .collect())
    }
}
