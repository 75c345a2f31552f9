//! [`Store`]: the one handle on the database, for both backends.
//!
//! Connections: one writer behind a mutex (the committer, API changes, tokens, audit,
//! retention: every write is serialised, so a commit never waits on a lock held by
//! another writer of this process) and a small pool of reader connections, so API reads
//! run while a commit is in progress (SQLite WAL readers see the last committed state;
//! PostgreSQL readers are ordinary MVCC sessions).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};

use crate::db::{begin, lock, rollback, Conn, Db, Lease, PgDb, Pool, SqliteDb};
use crate::*;

/// Reader connections per store.
const READERS: usize = 4;

/// Called at named points of a commit (`commit.begin`, `commit.written`).
pub type Hook = Arc<dyn Fn(&'static str) + Send + Sync>;

/// The store (cheap to clone, safe to share between threads). One writer at a time per
/// process (the committer); readers run concurrently (SQLite WAL readers, PostgreSQL
/// connections).
#[derive(Clone)]
pub struct Store {
    kind: BackendKind,
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Conn>,
    readers: Pool,
    hook: RwLock<Option<Hook>>,
    keep_all: AtomicBool,
    /// Keys hashed by schema 4 may still be stored (`schema::legacy_key_hashes`).
    legacy_keys: AtomicBool,
}

impl Store {
    /// Opens (creating when missing) and migrates to the current schema version.
    pub fn open(spec: &StoreSpec) -> Result<Store, StoreError> {
        let (kind, mut writer, readers) = match spec {
            StoreSpec::Sqlite(path) => {
                if path.as_os_str() == ":memory:" {
                    // Each reader would open its own empty database.
                    return Err(StoreError::Spec(
                        "an in-memory SQLite store is not supported: give a file path".into(),
                    ));
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Spec(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let mut writer: Conn = Box::new(SqliteDb::open(path)?);
                schema::migrate(writer.as_mut())?;
                let mut readers: Vec<Conn> = Vec::new();
                for _ in 0..READERS {
                    let r = SqliteDb::open(path)?;
                    r.0.pragma_update(None, "query_only", "ON")?;
                    // 8 MiB each (the writer keeps 32): reads are API pages and key
                    // lookups, and the memory of a long run stays bounded and flat.
                    r.0.pragma_update(None, "cache_size", -8192)?;
                    readers.push(Box::new(r));
                }
                (BackendKind::Sqlite, writer, readers)
            }
            StoreSpec::Postgres(url) => {
                let mut writer: Conn = Box::new(PgDb::open(url)?);
                schema::migrate(writer.as_mut())?;
                let mut readers: Vec<Conn> = Vec::new();
                for _ in 0..READERS {
                    readers.push(Box::new(PgDb::open(url)?));
                }
                (BackendKind::Postgres, writer, readers)
            }
        };
        let legacy_keys = schema::legacy_key_hashes(writer.as_mut())?;
        Ok(Store {
            kind,
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers: Pool::new(readers),
                hook: RwLock::new(None),
                keep_all: AtomicBool::new(false),
                legacy_keys: AtomicBool::new(legacy_keys),
            }),
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Sets the hook called at `commit.begin` (transaction open, nothing written) and at
    /// `commit.written` (every row written, before COMMIT): the failpoints of the serve
    /// tests abort the process there. A hook that panics fails the commit
    /// (`StoreError::Hook`), which is then rolled back.
    pub fn set_hook(&self, hook: Hook) {
        *self.inner.hook.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    /// `events = all`: documents of events that leave every correlation window stay
    /// (default `matched`: they go unless a detection holds them as evidence).
    pub fn set_keep_all_events(&self, all: bool) {
        self.inner.keep_all.store(all, Ordering::Relaxed);
    }

    fn call_hook(&self, point: &'static str) -> Result<(), StoreError> {
        let hook = self
            .inner
            .hook
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(hook) = hook else { return Ok(()) };
        catch_unwind(AssertUnwindSafe(|| hook(point))).map_err(|p| StoreError::Hook {
            point,
            why: p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "hook panicked".into()),
        })
    }

    /// Runs `f` on a reader connection.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease: Lease<'_> = self.inner.readers.get();
        f(lease.db())
    }

    /// Runs `f` in a transaction on the writer connection.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut w = lock(&self.inner.writer);
        crate::db::in_tx(w.as_mut(), f)
    }

    /// The schema version now in the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(schema::version)
    }

    /// One transaction: inserts new events (skipping known keys), their detections
    /// (skipping known detection keys and those of duplicate events), upserts incidents
    /// (history `opened` / `updated` / `merged`, reopening a closed incident that gets new
    /// detections: history `reopened`), sets detections' `incident_id`, saves input
    /// positions and drops expired correlation documents. Nothing is visible before it
    /// returns Ok; on Err nothing was written.
    pub fn commit(&self, batch: &CommitBatch) -> Result<CommitOutcome, StoreError> {
        let keep_all = self.inner.keep_all.load(Ordering::Relaxed);
        let legacy_keys = self.inner.legacy_keys.load(Ordering::Relaxed);
        let mut w = lock(&self.inner.writer);
        let db = w.as_mut();
        begin(db)?;
        let res = (|| {
            self.call_hook("commit.begin")?;
            let out = write::write_batch(db, batch, keep_all, legacy_keys, Utc::now())?;
            self.call_hook("commit.written")?;
            db.batch("COMMIT")?;
            Ok(out)
        })();
        if res.is_err() {
            rollback(db);
        }
        res
    }

    /// Which of `keys` are already stored (same order): looked up by their hash in
    /// `event_keys` (and, in a store upgraded from schema 4 whose old keys are not all
    /// expired yet, by their schema 4 hash too).
    pub fn known_events(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let hashes: Vec<Vec<u8>> = keys.iter().map(|k| crate::codec::key_hash(k)).collect();
        let legacy_keys = self.inner.legacy_keys.load(Ordering::Relaxed);
        self.read(|db| {
            let found = write::stored_hashes(db, hashes.iter().map(Vec::as_slice))?;
            let old = if legacy_keys {
                write::stored_in_legacy_form(db, keys.iter().map(String::as_str))?
            } else {
                Default::default()
            };
            Ok(hashes
                .iter()
                .enumerate()
                .map(|(i, h)| found.contains(h.as_slice()) || old.contains(&i))
                .collect())
        })
    }

    /// Every input's committed position.
    pub fn positions(&self) -> Result<Vec<InputPosition>, StoreError> {
        self.read(read::positions)
    }

    /// Events that feed correlations (with documents), in commit order: what rebuilds
    /// correlation state at start and on reload.
    pub fn correlation_events(&self) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(read::correlation_events)
    }

    /// Every detection not in a closed or merged incident, in commit order: what
    /// rebuilds live incident grouping at start.
    pub fn live_detections(&self) -> Result<Vec<DetectionRow>, StoreError> {
        self.read(read::live_detections)
    }

    /// Detections in insertion order. `from <= time < to`; `min_level` a Sigma level
    /// name (`BadQuery` otherwise); `limit` 0 means 100, at most 10,000.
    pub fn detections(&self, q: &DetectionQuery) -> Result<Page<DetectionRow>, StoreError> {
        self.read(|db| read::detections(db, q))
    }

    /// The evidence of a detection: the event it matched (None when its document was not
    /// kept: a key alone lives in `event_keys`, see [`Store::known_events`]).
    pub fn event(&self, key: &str) -> Result<Option<StoredEvent>, StoreError> {
        self.read(|db| read::event(db, key))
    }

    /// Incidents newest (last opened) first.
    pub fn incidents(&self, q: &IncidentQuery) -> Result<Page<IncidentRow>, StoreError> {
        self.read(|db| read::incidents(db, q))
    }

    /// One incident with its latest decision.
    pub fn incident(&self, id: &str) -> Result<Option<IncidentRow>, StoreError> {
        self.read(|db| read::incident(db, id))
    }

    /// Oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.read(|db| read::history(db, id))
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
        self.write(|db| manage::change_incident(db, id, change, actor, at))
    }

    /// Saves a decision (history `decided`).
    pub fn save_decision(&self, d: &DecisionRecord) -> Result<(), StoreError> {
        self.write(|db| manage::save_decision(db, d))
    }

    /// Per-rule detections and verdict counts, by rule id.
    pub fn rule_stats(&self) -> Result<Vec<RuleStats>, StoreError> {
        self.read(read::rule_stats)
    }

    pub fn add_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        self.write(|db| manage::add_token(db, t))
    }

    /// By name.
    pub fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.read(read::tokens)
    }

    pub fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        self.write(|db| manage::record_audit(db, e))
    }

    /// Newest first.
    pub fn audit(&self, limit: u32, after: Option<&str>) -> Result<Page<AuditEntry>, StoreError> {
        self.read(|db| read::audit(db, limit, after))
    }

    /// Deletes what the policy no longer keeps; returns rows deleted by table (a period
    /// of 0 days keeps forever). Records an audit entry `retention` when it deleted.
    pub fn sweep(
        &self,
        policy: &Retention,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let (deleted, legacy_keys) = self.write(|db| {
            let deleted = manage::sweep(db, policy, now)?;
            Ok((deleted, schema::legacy_key_hashes(db)?))
        })?;
        self.inner.legacy_keys.store(legacy_keys, Ordering::Relaxed);
        Ok(deleted)
    }

    /// Totals. Events, documents and detections come from running totals kept in the
    /// transactions that change them (cheap on a table of millions); incidents are
    /// counted.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.read(read::counts)
    }

    /// [`Store::counts`] counted from the tables (slow on a big store; tests check the
    /// running totals against it).
    #[doc(hidden)]
    pub fn counts_exact(&self) -> Result<Counts, StoreError> {
        self.read(read::counts_exact)
    }

    /// SQLite: a WAL checkpoint (clean shutdown); PostgreSQL: nothing.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        match self.kind {
            BackendKind::Sqlite => {
                lock(&self.inner.writer).batch("PRAGMA wal_checkpoint(TRUNCATE)")
            }
            BackendKind::Postgres => Ok(()),
        }
    }

    /// TAXII: adds object versions to `collection` in one transaction (a version
    /// already there is a [`TaxiiAdded::Duplicate`], left as it was), with the status
    /// resource of the request when given. Same order as `objects`.
    pub fn taxii_add(
        &self,
        collection: &str,
        objects: &[TaxiiNewObject],
        status: Option<&TaxiiStatusRow>,
    ) -> Result<Vec<TaxiiAdded>, StoreError> {
        self.write(|db| taxii::add(db, collection, objects, status, Utc::now()))
    }

    /// TAXII: every version in `collection` with an id in `ids` and a type in `types`
    /// (empty: any), by date added (strictly increasing within a collection).
    pub fn taxii_objects(
        &self,
        collection: &str,
        ids: &[String],
        types: &[String],
    ) -> Result<Vec<TaxiiObjectRow>, StoreError> {
        self.read(|db| taxii::objects(db, collection, ids, types))
    }

    /// TAXII: one page of `collection`'s versions selected by `q`, by date added, and
    /// whether more follow (selection and paging in SQL: only the page is read).
    pub fn taxii_page(
        &self,
        collection: &str,
        q: &TaxiiPageQuery,
    ) -> Result<(Vec<TaxiiObjectRow>, bool), StoreError> {
        self.read(|db| taxii::objects_page(db, collection, q))
    }

    /// TAXII: deletes these versions (their [`TaxiiObjectRow::seq`]) of `collection`;
    /// returns how many were deleted.
    pub fn taxii_delete(&self, collection: &str, seqs: &[i64]) -> Result<u64, StoreError> {
        self.write(|db| taxii::delete(db, collection, seqs))
    }

    /// TAXII: saves (replaces) a status resource.
    pub fn taxii_save_status(&self, status: &TaxiiStatusRow) -> Result<(), StoreError> {
        self.write(|db| taxii::save_status(db, status))
    }

    /// TAXII: a status resource by id.
    pub fn taxii_status(&self, id: &str) -> Result<Option<TaxiiStatusRow>, StoreError> {
        self.read(|db| taxii::status(db, id))
    }

    /// TAXII: object versions stored per collection, by collection name.
    pub fn taxii_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(taxii::counts)
    }

    /// Runs raw SQL on the writer, outside any transaction (tests damage a database on
    /// purpose with it: a corrupt document, a schema from the future).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        lock(&self.inner.writer).batch(sql)
    }
}
