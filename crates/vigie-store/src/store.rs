//! [`Store`]: the one handle on the database, for both backends.

use chrono::{DateTime, Utc};

use crate::*;

/// The store (cheap to clone, safe to share between threads). One writer at a time per
/// process (the committer); readers run concurrently (SQLite WAL readers, PostgreSQL
/// connections).
#[derive(Clone)]
pub struct Store {
    kind: BackendKind,
}

impl Store {
    /// Opens (creating when missing) and migrates to the current schema version.
    pub fn open(spec: &StoreSpec) -> Result<Store, StoreError> {
        let _ = spec;
        Err(StoreError::Unimplemented("open"))
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// The schema version now in the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Err(StoreError::Unimplemented("schema_version"))
    }

    /// One transaction: inserts new events (skipping known keys), their detections
    /// (skipping known detection keys and those of duplicate events), upserts incidents
    /// (history `opened` / `updated` / `merged`, reopening a closed incident that gets new
    /// detections: history `reopened`), sets detections' `incident_id`, saves input
    /// positions and drops expired correlation documents. Nothing is visible before it
    /// returns Ok; on Err nothing was written.
    pub fn commit(&self, batch: &CommitBatch) -> Result<CommitOutcome, StoreError> {
        let _ = batch;
        Err(StoreError::Unimplemented("commit"))
    }

    /// Which of `keys` are already stored (same order).
    pub fn known_events(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let _ = keys;
        Err(StoreError::Unimplemented("known_events"))
    }

    /// Every input's committed position.
    pub fn positions(&self) -> Result<Vec<InputPosition>, StoreError> {
        Err(StoreError::Unimplemented("positions"))
    }

    /// Events that feed correlations (with documents), in commit order: what rebuilds
    /// correlation state at start and on reload.
    pub fn correlation_events(&self) -> Result<Vec<StoredEvent>, StoreError> {
        Err(StoreError::Unimplemented("correlation_events"))
    }

    /// Every detection not in a closed or merged incident, in commit order: what
    /// rebuilds live incident grouping at start.
    pub fn live_detections(&self) -> Result<Vec<DetectionRow>, StoreError> {
        Err(StoreError::Unimplemented("live_detections"))
    }

    pub fn detections(&self, q: &DetectionQuery) -> Result<Page<DetectionRow>, StoreError> {
        let _ = q;
        Err(StoreError::Unimplemented("detections"))
    }

    /// The evidence of a detection: the event it matched (None when not kept).
    pub fn event(&self, key: &str) -> Result<Option<StoredEvent>, StoreError> {
        let _ = key;
        Err(StoreError::Unimplemented("event"))
    }

    pub fn incidents(&self, q: &IncidentQuery) -> Result<Page<IncidentRow>, StoreError> {
        let _ = q;
        Err(StoreError::Unimplemented("incidents"))
    }

    pub fn incident(&self, id: &str) -> Result<Option<IncidentRow>, StoreError> {
        let _ = id;
        Err(StoreError::Unimplemented("incident"))
    }

    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let _ = id;
        Err(StoreError::Unimplemented("history"))
    }

    /// A person's change (state, assignee, verdict, comment): one transaction with its
    /// history lines and an audit entry by `actor`. Errors: unknown incident, a verdict
    /// without closing, a change to a merged incident.
    pub fn change_incident(
        &self,
        id: &str,
        change: &IncidentChange,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<IncidentRow, StoreError> {
        let _ = (id, change, actor, at);
        Err(StoreError::Unimplemented("change_incident"))
    }

    /// Saves a decision (history `decided`).
    pub fn save_decision(&self, d: &DecisionRecord) -> Result<(), StoreError> {
        let _ = d;
        Err(StoreError::Unimplemented("save_decision"))
    }

    /// Per-rule detections and verdict counts, by rule id.
    pub fn rule_stats(&self) -> Result<Vec<RuleStats>, StoreError> {
        Err(StoreError::Unimplemented("rule_stats"))
    }

    pub fn add_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        let _ = t;
        Err(StoreError::Unimplemented("add_token"))
    }

    pub fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        Err(StoreError::Unimplemented("tokens"))
    }

    pub fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let _ = e;
        Err(StoreError::Unimplemented("record_audit"))
    }

    /// Newest first.
    pub fn audit(&self, limit: u32, after: Option<&str>) -> Result<Page<AuditEntry>, StoreError> {
        let _ = (limit, after);
        Err(StoreError::Unimplemented("audit"))
    }

    /// Deletes what the policy no longer keeps; returns rows deleted by table.
    pub fn sweep(
        &self,
        policy: &Retention,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let _ = (policy, now);
        Err(StoreError::Unimplemented("sweep"))
    }

    pub fn counts(&self) -> Result<Counts, StoreError> {
        Err(StoreError::Unimplemented("counts"))
    }

    /// Installs the test failpoint hook: the store calls it with the point's name at
    /// `commit.begin` (transaction opened) and `commit.written` (every row of the batch
    /// written, before COMMIT). `vigie-serve` installs it from `VIGIE_FAILPOINTS`.
    pub fn set_hook(&self, hook: std::sync::Arc<dyn Fn(&'static str) + Send + Sync>) {
        let _ = hook;
    }

    /// SQLite: a WAL checkpoint (clean shutdown); PostgreSQL: nothing.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        Err(StoreError::Unimplemented("checkpoint"))
    }
}
