//! vigie's store: the only SQL in the tree. What `vigie serve` keeps: the events it
//! accepted (their keys always; their documents as configured), detections with the
//! events that matched as evidence, incidents with their history and decisions, input
//! positions, the events that feed open correlations, API tokens, the audit log.
//!
//! Two backends behind one API, one schema and one list of versioned migrations:
//! SQLite (WAL, `synchronous=FULL`, the default, a file under the data directory) and
//! PostgreSQL (`postgres://...`). The API is synchronous and thread-safe (`Store` is a
//! cheap clone); async callers use `tokio::task::spawn_blocking`. Never call it on an
//! async worker thread directly (the PostgreSQL client runs its own runtime).
//!
//! Contract (the lead's, commit "serve contract"): the types below are what
//! `vigie-serve` codes against; fields and functions may be added, not renamed or
//! removed.
//!
//! Inside: `db` is the one seam between the logic and the two backends (a connection
//! running `$n`-numbered SQL with dynamically typed values; SQLite rewrites `$n` to
//! `?n`), `schema` the migrations (`migrations/*.sql`), `write` the commit, `read` the
//! queries and paging (`cursor`), `manage` the other writes (incident changes,
//! decisions, tokens, audit, retention), `taxii` the TAXII 2.1 collections of serve's
//! `/taxii2/`, `codec` how values are stored. Schema and
//! backend differences: `docs/store.md`.
//!
//! Keys are stable strings, never positions:
//! - event key: `rec:<Computer>/<Channel>/<EventRecordID>` when the event has all three,
//!   else `pos:<source>:<line>`, else `sha256:<hex of its canonical JSON>` (computed by
//!   `vigie-serve`);
//! - detection key: `<rule key>|<event key>` (a correlation hit: `<rule key>|corr:<hex>`
//!   of its group and first time); detection id `det-` + 16 hex of its SHA-256;
//! - incident id: `inc-` + 16 hex (`vigie_incident::incident_id`).
//!
//! A replayed input never duplicates: event keys and detection keys are unique, and a
//! commit skips what is already stored (reported back in [`CommitOutcome`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod codec;
mod cursor;
mod db;
mod error;
mod manage;
mod read;
mod schema;
mod store;
mod taxii;
mod write;
pub use error::StoreError;
pub use store::{Hook, Store};
pub use taxii::{
    rfc3339, TaxiiAdded, TaxiiNewObject, TaxiiObjectRow, TaxiiPageQuery, TaxiiStatusRow,
    TaxiiVersion,
};

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// A SQLite database file (created with its directory when missing).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL connection string (`postgres://user:pass@host:port/db`).
    Postgres(String),
}

impl StoreSpec {
    /// `sqlite:PATH`, a plain path, or `postgres://...` / `postgresql://...`.
    pub fn parse(s: &str) -> Result<StoreSpec, StoreError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreSpec::Postgres(s.to_string()));
        }
        let path = s.strip_prefix("sqlite:").unwrap_or(s);
        if path.is_empty() {
            return Err(StoreError::Spec(format!(
                "`{s}`: expected `sqlite:PATH`, a file path, or `postgres://...`"
            )));
        }
        Ok(StoreSpec::Sqlite(path.into()))
    }
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// One accepted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The event key (module docs).
    pub key: String,
    /// The input it came from (`http`, `syslog-udp`, `file:/var/log/x`, `nats:subject`).
    pub input: String,
    /// The source name detections carry (`Detection.source`).
    pub source: String,
    /// Line, offset or record number within `source`.
    pub record: u64,
    /// Event time, when it has one.
    pub time: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    /// The event document, kept when a detection matched it, when it feeds an open
    /// correlation, or when the configuration says `events = all`; None otherwise (the
    /// key alone is kept, for deduplication).
    pub document: Option<Value>,
    /// It fed a correlation: kept (with its document) until it leaves every correlation
    /// window, so correlation state can be rebuilt after a restart or a reload.
    pub feeds_correlation: bool,
}

/// One detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDetection {
    /// `det-` + 16 hex of the SHA-256 of `key`.
    pub id: String,
    /// Detection key (module docs); unique.
    pub key: String,
    pub rule_id: String,
    pub rule_title: String,
    /// Sigma level name.
    pub level: String,
    pub time: Option<DateTime<Utc>>,
    /// The event it matched (None for a correlation hit).
    pub event_key: Option<String>,
    /// Model asset ids its entities resolved to (for the `asset` filter).
    pub assets: Vec<String>,
    pub incident_id: Option<String>,
    /// The wire detection (`vigie_wire::v1::Detection` JSON), plus whatever the server
    /// adds; returned as stored.
    pub document: Value,
}

/// An incident created or changed by new detections (not by a person: see
/// [`IncidentChange`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentUpsert {
    pub id: String,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Highest level of its detections.
    pub severity: String,
    pub risk: f64,
    pub assets: Vec<String>,
    pub compromised: Vec<String>,
    /// Its detections' ids (their `incident_id` is set to this incident).
    pub detection_ids: Vec<String>,
    /// Incidents folded into this one by the new detections (each gets history
    /// `merged` and state `merged`, pointing here).
    pub merged_from: Vec<String>,
    /// The wire incident (`vigie_wire::v1::respond::Incident` JSON, without its
    /// detections, which are stored once as detections).
    pub document: Value,
}

/// A decision computed for an incident's compromised set (stored apart: decisions are
/// derived and recomputed when the set changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub incident_id: String,
    /// The compromised asset ids it was computed for.
    pub compromised: Vec<String>,
    pub computed_at: DateTime<Utc>,
    /// `{assess, contain, restore, notification, decision_skipped}` as wire JSON.
    pub document: Value,
}

/// How far an input has been read and committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputPosition {
    /// The input (`file:/var/log/x`, `nats:subject`...).
    pub input: String,
    /// Opaque to the store (a followed file: `{"inode", "offset"}` as JSON text).
    pub position: String,
}

/// What one transaction holds: a batch of events with what they produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitBatch {
    pub events: Vec<NewEvent>,
    pub detections: Vec<NewDetection>,
    pub incidents: Vec<IncidentUpsert>,
    pub positions: Vec<InputPosition>,
    /// Events that left every correlation window: their documents may go (unless a
    /// detection holds them or `events = all`).
    pub correlation_expired: Vec<String>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOutcome {
    /// Events newly stored.
    pub events_inserted: u64,
    /// Indices into `CommitBatch::events` of events already stored (duplicates): their
    /// detections are not stored twice.
    pub duplicate_events: Vec<usize>,
    pub detections_inserted: u64,
    pub incidents_opened: Vec<String>,
    pub incidents_updated: Vec<String>,
}

/// Incident states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Open,
    Acknowledged,
    Closed,
    /// Folded into another incident (`merged_into`).
    Merged,
}

/// An analyst's verdict on a closed incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
}

/// A person's change to an incident (state, assignee, verdict, comment), by a token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentChange {
    pub state: Option<IncidentState>,
    /// `Some("")` unassigns.
    pub assignee: Option<String>,
    pub verdict: Option<Verdict>,
    pub comment: Option<String>,
}

/// One incident as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub id: String,
    pub state: IncidentState,
    pub assignee: Option<String>,
    pub verdict: Option<Verdict>,
    pub merged_into: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub severity: String,
    pub risk: f64,
    pub assets: Vec<String>,
    pub compromised: Vec<String>,
    pub detection_count: u64,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change (optimistic concurrency for the API).
    pub version: u64,
    pub document: Value,
    pub decision: Option<DecisionRecord>,
}

/// One line of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// Token name, or `vigie` for changes made by detections.
    pub actor: String,
    /// `opened`, `updated`, `assigned`, `acknowledged`, `closed`, `reopened`,
    /// `commented`, `merged`, `decided`.
    pub action: String,
    pub detail: Value,
    pub comment: Option<String>,
}

/// One line of the audit log (every change through the API, by token name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `incident.change`, `token.add`, `reload`, `retention`...
    pub action: String,
    pub target: String,
    pub detail: Value,
}

/// Filters of the detection list (cursor paging in insertion order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectionQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Minimum level (Sigma level name).
    pub min_level: Option<String>,
    pub rule: Option<String>,
    pub asset: Option<String>,
    pub incident: Option<String>,
    pub limit: u32,
    /// From [`Page::next`] of the previous page.
    pub after: Option<String>,
}

/// Filters of the incident list (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    pub state: Option<IncidentState>,
    pub limit: u32,
    pub after: Option<String>,
}

/// One page and the cursor of the next (None on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A stored detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionRow {
    pub id: String,
    pub incident_id: Option<String>,
    pub rule_id: String,
    pub level: String,
    pub time: Option<DateTime<Utc>>,
    pub event_key: Option<String>,
    pub document: Value,
}

/// A stored event (the events feeding correlations, evidence of detections).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub key: String,
    pub input: String,
    pub source: String,
    pub record: u64,
    pub time: Option<DateTime<Utc>>,
    pub document: Option<Value>,
}

/// Per-rule detections and verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    pub rule_id: String,
    pub detections: u64,
    /// Closed incidents holding its detections, by verdict.
    pub true_positive: u64,
    pub false_positive: u64,
    /// false / (true + false); None before any verdict.
    pub false_positive_rate: Option<f64>,
}

/// An API token as stored (its secret only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub name: String,
    /// `viewer`, `analyst`, `ingest`, `admin`.
    pub role: String,
    /// Hex SHA-256 of the token (tokens are 256-bit random: a fast hash is enough).
    pub hash: String,
    pub created_at: DateTime<Utc>,
}

/// What the retention sweep keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retention {
    /// Event keys and kept documents older than this many days go (detections keep
    /// their evidence).
    pub events_days: u32,
    /// Closed or merged incidents (with their detections) closed longer ago than this.
    pub closed_incidents_days: u32,
    pub audit_days: u32,
}

/// Totals (for tests, `/metrics` and the dashboard).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Event keys stored (every accepted event until retention).
    pub events: u64,
    /// Of which with their document kept.
    pub events_with_document: u64,
    pub detections: u64,
    /// Open or acknowledged.
    pub incidents_open: u64,
    /// Every incident row, merged ones included.
    pub incidents: u64,
}
