//! What the API, the dashboard and the sources share: the store, the ingest handle,
//! what is loaded, the metrics, the auth table, live change notifications and the
//! admin handle. Built once by [`crate::server`].

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::ingest::Ingest;
use crate::metrics::Metrics;

/// What is loaded now (swapped whole on reload).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// `vigie rules check --format json` of the loaded rules (`vigie_wire::v1::rules`).
    pub rules: Value,
    /// The rule set's digest.
    pub rules_digest: String,
    /// The model's summary (`id`, `digest`, counts) as JSON.
    pub model_summary: Value,
    pub model: Arc<vigie_model::Model>,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
    /// The loaded rules' metadata (`RuleSet::meta` of every rule id), for
    /// `GET /api/v1/rules` (joined there with the store's per-rule counts).
    pub rule_metas: Vec<vigie_sigma::RuleMeta>,
}

/// A live change, for the dashboard's event stream and the webhooks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveChange {
    /// `incident.opened`, `incident.changed`, `detections`.
    pub kind: String,
    /// Incident id (or empty for `detections`).
    pub id: String,
    /// The incident's row as the API returns it (or counts for `detections`).
    pub detail: Value,
}

/// An admin request to the processor.
#[derive(Debug)]
pub enum AdminRequest {
    /// Reload rules, model and intel; correlation state is rebuilt from the store.
    Reload(tokio::sync::oneshot::Sender<Result<Value, String>>),
    /// Pause or resume the committer (test failpoint; HTTP then answers 429 when full).
    PauseCommitter(bool),
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: vigie_store::Store,
    pub ingest: Ingest,
    pub loaded: Arc<RwLock<Arc<Loaded>>>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<crate::api::auth::Auth>,
    pub changes: broadcast::Sender<LiveChange>,
    pub admin: tokio::sync::mpsc::UnboundedSender<AdminRequest>,
    pub config: Arc<crate::config::Config>,
    /// Set by the processor once state is restored from the store: `/readyz` answers
    /// 503 until then.
    pub ready: Arc<AtomicBool>,
    /// TAXII 2.1 (`/taxii2/`): the `shared` collection's change generation and reader
    /// ([`crate::taxii::Taxii::subscribe_shared`], [`crate::taxii::Taxii::shared_indicators`]).
    pub taxii: Arc<crate::taxii::Taxii>,
}

impl AppState {
    /// What is loaded now (a cheap clone of an `Arc`).
    pub fn loaded(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(g) => g.clone(),
            // A writer panicked mid-swap: the old value is still whole.
            Err(p) => p.into_inner().clone(),
        }
    }
}
