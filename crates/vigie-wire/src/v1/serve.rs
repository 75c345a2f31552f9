//! The HTTP API of `vigie serve` (`/api/v1`): request and response bodies. Documented
//! route by route in `docs/api.md`; the OpenAPI document (`/api/v1/openapi.json`) is
//! generated from these types (`utoipa::ToSchema`), so the schema and what the server
//! writes cannot drift apart.
//!
//! Respond's large nested documents (an incident's timeline, evidence and risk factors;
//! a decision's assess / contain / restore / notification) are described as JSON
//! objects here: their field-by-field schema is `docs/respond.md` and
//! `docs/response.md`, and they are the very documents `vigie respond --format json`
//! writes ([`super::respond`]).
//!
//! Times are RFC 3339 UTC strings. Lists are paged by cursor: `next` is the path (with
//! the same filters) of the next page, absent on the last one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Detection;

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `not_found`, `bad_request`, `unauthorized`, `forbidden`, `conflict`,
    /// `too_large`, `queue_full`, `unavailable`, `internal`.
    #[schema(example = "not_found")]
    pub code: String,
    pub message: String,
}

/// A line (JSON lines) or element (JSON array, 1-based) of an ingest body that is not an
/// event, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineReject {
    pub line: u64,
    pub reason: String,
}

/// `202` of `POST /api/v1/events`: the batch is durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    /// Events newly stored (and detected on).
    pub accepted: u64,
    /// Events already stored (same event key): not processed twice.
    pub duplicates: u64,
    /// What could not be read as an event, by line.
    pub rejected: Vec<LineReject>,
}

/// One stored detection: a line of `vigie hunt --format jsonl` plus its id and incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredDetection {
    /// `det-` + 16 hex digits.
    pub id: String,
    /// The incident it belongs to (null until grouped).
    pub incident_id: Option<String>,
    #[serde(flatten)]
    pub detection: Detection,
}

/// `GET /api/v1/detections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DetectionPage {
    pub detections: Vec<StoredDetection>,
    /// The next page's path; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An incident's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Open,
    Acknowledged,
    Closed,
    /// Folded into another incident (`merged_into`).
    Merged,
}

/// An analyst's verdict on a closed incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
}

/// An incident in a list (and the head of its detail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentSummary {
    /// `inc-` + 16 hex digits.
    pub id: String,
    pub state: IncidentState,
    pub assignee: Option<String>,
    pub verdict: Option<Verdict>,
    /// The incident it was folded into (state `merged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Highest level of its detections.
    pub severity: String,
    /// Risk score, 0-100.
    pub risk: f64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Model asset ids involved.
    pub assets: Vec<String>,
    /// Asset ids judged compromised.
    pub compromised: Vec<String>,
    pub detection_count: u64,
    pub opened_at: String,
    pub updated_at: String,
    /// Bumped on every change.
    pub version: u64,
}

/// `GET /api/v1/incidents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentPage {
    pub incidents: Vec<IncidentSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The decision computed for an incident's compromised set (respond's documents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDecision {
    /// The compromised asset ids it was computed for.
    pub compromised: Vec<String>,
    pub computed_at: String,
    /// `vigie assess --format json` (null when not run).
    #[schema(value_type = Option<Object>)]
    pub assess: Option<Value>,
    /// `vigie contain --format json` (null when not run).
    #[schema(value_type = Option<Object>)]
    pub contain: Option<Value>,
    /// `vigie restore --format json` (null when not run).
    #[schema(value_type = Option<Object>)]
    pub restore: Option<Value>,
    /// The NIS2 / GDPR notification draft (null when not run).
    #[schema(value_type = Option<Object>)]
    pub notification: Option<Value>,
    /// Engines not run and why (`{engine, reason}`).
    #[schema(value_type = Vec<Object>)]
    pub decision_skipped: Vec<Value>,
}

/// One line of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryLine {
    pub at: String,
    /// Token name, or `vigie` for changes made by detections.
    pub actor: String,
    /// `opened`, `updated`, `assigned`, `acknowledged`, `closed`, `reopened`,
    /// `commented`, `merged`, `decided`.
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: Value,
    pub comment: Option<String>,
}

/// `GET /api/v1/incidents/{id}` and the answer of its `PATCH`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub summary: IncidentSummary,
    /// Respond's wire incident (`vigie_wire::v1::respond::Incident` without its
    /// detections: timeline, tactics, techniques, evidence, risk factors...).
    #[schema(value_type = Object)]
    pub incident: Value,
    pub decision: Option<IncidentDecision>,
    pub history: Vec<HistoryLine>,
}

/// Body of `PATCH /api/v1/incidents/{id}`: what to change (each optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    pub state: Option<IncidentState>,
    /// `""` unassigns.
    pub assignee: Option<String>,
    /// Only when closing (or on a closed incident).
    pub verdict: Option<Verdict>,
    pub comment: Option<String>,
}

/// A loaded rule with what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleEntry {
    /// The rule's stable key (Sigma `id`, or `sha256:` of its document).
    pub rule_id: String,
    pub title: String,
    pub level: String,
    /// `detection` or `correlation`.
    pub kind: String,
    pub tags: Vec<String>,
    /// File it came from.
    pub path: String,
    /// Detections stored.
    pub detections: u64,
    /// Closed incidents holding its detections, by verdict.
    pub true_positive: u64,
    pub false_positive: u64,
    /// false / (true + false); null before any verdict.
    pub false_positive_rate: Option<f64>,
}

/// `GET /api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RulesInfo {
    /// The rule set's digest.
    pub digest: String,
    pub loaded_at: String,
    pub rules: Vec<RuleEntry>,
    /// `vigie rules check --format json` of the loaded rules (refusals with file,
    /// line and reason, warnings, counts by kind).
    #[schema(value_type = Object)]
    pub check: Value,
}

/// `GET /api/v1/model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    pub loaded_at: String,
    /// The model's summary (`id`, `digest`, counts).
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// `GET /api/v1/model/assets`: the model's assets as the model file writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssetPage {
    #[schema(value_type = Vec<Object>)]
    pub assets: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLine {
    pub at: String,
    /// Token name (`local` when no token is configured).
    pub actor: String,
    /// `incident.change`, `token.add`, `reload`, `committer`...
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// `GET /api/v1/audit`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /api/v1/admin/reload`: what is loaded now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReloadResult {
    /// What the processor reports of the reload (digests, counts).
    #[schema(value_type = Object)]
    pub reloaded: Value,
}

/// Body and answer of `POST /api/v1/admin/committer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Committer {
    pub paused: bool,
}

/// `/healthz`, `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready`.
    pub status: String,
}

/// What a webhook receives (`POST`, JSON) when an incident opens or changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPayload {
    /// `incident.opened` or `incident.changed`.
    pub event: String,
    /// The incident as `GET /api/v1/incidents` lists it.
    #[schema(value_type = Object)]
    pub incident: Value,
}
