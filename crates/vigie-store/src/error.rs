//! The store's errors.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A bad `--store` value.
    #[error("store: {0}")]
    Spec(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The database holds a schema newer than this binary knows.
    #[error("store schema version {found} is newer than this vigie ({known}); upgrade vigie")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("incident `{0}` not found")]
    IncidentNotFound(String),
    /// A change the incident's state does not allow (e.g. a verdict on an open one).
    #[error("incident `{id}`: {why}")]
    InvalidChange { id: String, why: String },
    /// A page cursor this store did not make.
    #[error("bad cursor `{0}`")]
    BadCursor(String),
    #[error("token `{0}` already exists")]
    TokenExists(String),
    /// A stored document that does not decode (names the table and key).
    #[error("{table} `{key}`: stored document does not decode: {why}")]
    Corrupt {
        table: &'static str,
        key: String,
        why: String,
    },
    /// The commit hook failed (a test failpoint): the commit was rolled back.
    #[error("commit hook at `{point}` failed: {why}")]
    Hook { point: &'static str, why: String },
    /// A query filter the store cannot apply (an unknown level name).
    #[error("bad query: {0}")]
    BadQuery(String),
}
