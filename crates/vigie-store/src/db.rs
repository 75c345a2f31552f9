//! The one seam between the store's logic and its two backends: a connection that runs a
//! statement with dynamically typed parameters and returns rows of dynamically typed
//! values. Every query of the store is written once, in PostgreSQL's placeholder style
//! (`$1`, `$2`...); the SQLite connection rewrites `$n` to `?n`, which SQLite reads as
//! the same positional parameter. Everything else the two dialects disagree on is kept
//! out of the queries (times are microseconds in `BIGINT`, documents JSON in `TEXT`,
//! flags `0`/`1` in `BIGINT`), so the logic above this module has no backend branch
//! except the few listed in `docs/store.md`.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::StoreError;

/// One value going in or out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    I64(i64),
    F64(f64),
    Text(String),
    /// SQLite BLOB, PostgreSQL BYTEA (the 16-byte event key hashes, migration 4).
    Bytes(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection of either backend.
pub(crate) trait Db: Send {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; returns the rows it changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs one query; returns its rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, StoreError>;
    /// Runs several statements without parameters (DDL, BEGIN/COMMIT).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
}

pub(crate) type Conn = Box<dyn Db>;

/// Starts a write transaction (SQLite: `IMMEDIATE`, so the write lock is taken at the
/// start and a commit never fails half-way for a lock held by another process).
pub(crate) fn begin(db: &mut dyn Db) -> Result<(), StoreError> {
    match db.dialect() {
        Dialect::Sqlite => db.batch("BEGIN IMMEDIATE"),
        Dialect::Postgres => db.batch("BEGIN"),
    }
}

/// Runs `f` in a write transaction: COMMIT on Ok, ROLLBACK on Err.
pub(crate) fn in_tx<T>(
    db: &mut dyn Db,
    f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    begin(db)?;
    match f(db) {
        Ok(v) => {
            if let Err(e) = db.batch("COMMIT") {
                rollback(db);
                return Err(e);
            }
            Ok(v)
        }
        Err(e) => {
            rollback(db);
            Err(e)
        }
    }
}

/// Best effort: the error that made us roll back is the one reported.
pub(crate) fn rollback(db: &mut dyn Db) {
    if let Err(e) = db.batch("ROLLBACK") {
        tracing::warn!(error = %e, "store: rollback failed");
    }
}

// ---------------------------------------------------------------- SQLite

pub(crate) struct SqliteDb(pub(crate) rusqlite::Connection);

impl SqliteDb {
    /// Opens a connection with the store's settings: WAL, `synchronous=FULL` (a commit is
    /// on disk when it returns), a busy timeout (readers and the writer of another
    /// process wait instead of failing), foreign keys on.
    pub(crate) fn open(path: &std::path::Path) -> Result<SqliteDb, StoreError> {
        let c = rusqlite::Connection::open(path)?;
        c.busy_timeout(Duration::from_secs(10))?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "FULL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
        // 32 MiB of page cache: a batch of tens of thousands of events stays in memory
        // until COMMIT instead of spilling pages to the WAL twice.
        c.pragma_update(None, "cache_size", -32768)?;
        c.set_prepared_statement_cache_capacity(128);
        Ok(SqliteDb(c))
    }
}

fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Parameters are bound borrowed: no copy of a document or key per statement.
impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::I64(i) => ValueRef::Integer(*i),
            Val::F64(f) => ValueRef::Real(*f),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let mut st = self.0.prepare_cached(&sqlite_sql(sql))?;
        Ok(st.execute(rusqlite::params_from_iter(params))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, StoreError> {
        use rusqlite::types::ValueRef;
        let mut st = self.0.prepare_cached(&sqlite_sql(sql))?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                r.push(match row.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(i) => Val::I64(i),
                    ValueRef::Real(f) => Val::F64(f),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                });
            }
            out.push(r);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.0.execute_batch(sql)?)
    }
}

// ---------------------------------------------------------------- PostgreSQL

pub(crate) struct PgDb {
    url: String,
    client: postgres::Client,
    /// Prepared statements by SQL text: a statement is parsed once per connection.
    cache: std::collections::HashMap<String, postgres::Statement>,
}

impl PgDb {
    pub(crate) fn open(url: &str) -> Result<PgDb, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(PgDb {
            url: url.to_string(),
            client,
            cache: Default::default(),
        })
    }

    /// A connection the server dropped (restart, idle timeout) is replaced before use.
    fn ensure(&mut self) -> Result<(), StoreError> {
        if self.client.is_closed() {
            tracing::warn!("store: PostgreSQL connection closed, reconnecting");
            self.client = postgres::Client::connect(&self.url, postgres::NoTls)?;
            self.cache.clear();
        }
        Ok(())
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        self.ensure()?;
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.cache.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn pg_params(params: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Db for PgDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let st = self.statement(sql)?;
        Ok(self.client.execute(&st, &pg_params(params))?)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, StoreError> {
        let st = self.statement(sql)?;
        let rows = self.client.query(&st, &pg_params(params))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut r = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                r.push(row.try_get::<_, Val>(i)?);
            }
            out.push(r);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.ensure()?;
        Ok(self.client.batch_execute(sql)?)
    }
}

mod pg_types {
    use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

    use super::Val;

    // `ToSql`'s own buffer type, re-exported by postgres-types for implementors.
    use postgres::types::private::BytesMut;

    type BoxError = Box<dyn std::error::Error + Sync + Send>;

    impl ToSql for Val {
        fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
            match self {
                Val::Null => Ok(IsNull::Yes),
                Val::I64(v) => match *ty {
                    Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                    Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                    Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                    Type::BOOL => (*v != 0).to_sql(ty, out),
                    _ => v.to_sql(ty, out),
                },
                Val::F64(v) => v.to_sql(ty, out),
                Val::Text(v) => v.to_sql(ty, out),
                Val::Bytes(v) => v.as_slice().to_sql(ty, out),
            }
        }

        fn accepts(_: &Type) -> bool {
            true
        }

        to_sql_checked!();
    }

    impl<'a> FromSql<'a> for Val {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Val, BoxError> {
            Ok(match *ty {
                Type::INT8 => Val::I64(i64::from_sql(ty, raw)?),
                Type::INT4 => Val::I64(i32::from_sql(ty, raw)?.into()),
                Type::INT2 => Val::I64(i16::from_sql(ty, raw)?.into()),
                Type::BOOL => Val::I64(bool::from_sql(ty, raw)?.into()),
                Type::FLOAT8 => Val::F64(f64::from_sql(ty, raw)?),
                Type::FLOAT4 => Val::F64(f32::from_sql(ty, raw)?.into()),
                Type::BYTEA => Val::Bytes(<Vec<u8>>::from_sql(ty, raw)?),
                _ => Val::Text(String::from_sql(ty, raw)?),
            })
        }

        fn from_sql_null(_: &Type) -> Result<Val, BoxError> {
            Ok(Val::Null)
        }

        fn accepts(_: &Type) -> bool {
            true
        }
    }
}

// ---------------------------------------------------------------- reader pool

/// A few reader connections, so API reads run while the writer holds a transaction.
pub(crate) struct Pool {
    free: Mutex<Vec<Conn>>,
    ready: Condvar,
}

pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Pool {
    pub(crate) fn new(conns: Vec<Conn>) -> Pool {
        Pool {
            free: Mutex::new(conns),
            ready: Condvar::new(),
        }
    }

    pub(crate) fn get(&self) -> Lease<'_> {
        let mut free = lock(&self.free);
        loop {
            if let Some(conn) = free.pop() {
                return Lease {
                    pool: self,
                    conn: Some(conn),
                };
            }
            free = self.ready.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Lease<'_> {
    pub(crate) fn db(&mut self) -> &mut dyn Db {
        // Present from `get` until drop.
        match self.conn.as_mut() {
            Some(c) => c.as_mut(),
            None => unreachable!("lease used after drop"),
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            lock(&self.pool.free).push(c);
            self.pool.ready.notify_one();
        }
    }
}

/// A poisoned lock only means a panic elsewhere (a test hook): the connection it guards
/// is still usable, and every transaction is rolled back before the lock is released.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
