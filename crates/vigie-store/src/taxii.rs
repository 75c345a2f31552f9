//! TAXII 2.1 collections (`vigie serve`'s `/taxii2/`): object versions per collection and
//! the status of each POST. The store keeps rows and their order; which versions a
//! request selects (`match[version]`, `match[spec_version]`, `added_after`, paging) is
//! decided by `vigie-serve`'s TAXII module over what [`crate::Store::taxii_objects`]
//! returns.
//!
//! `date_added` is strictly increasing within a collection (the next one is
//! `max(now, last + 1 µs)`), so objects sort by it alone and a page's last `date_added`
//! is an exact `added_after` for the next page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{json, scalar, ts, Dec};
use crate::db::{Db, Val};
use crate::StoreError;

/// One object version to add to a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxiiNewObject {
    /// The STIX id (`indicator--...`).
    pub id: String,
    /// The STIX type (`indicator`).
    pub object_type: String,
    /// The version: the object's `modified`, else `created`, else None (the date added
    /// is then its version).
    pub version: Option<DateTime<Utc>>,
    /// The version as the object spells it (None with `version`).
    pub version_text: Option<String>,
    /// `spec_version` (`2.0` when absent).
    pub spec_version: String,
    pub document: Value,
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxiiObjectRow {
    /// Insertion order (the tie-break after `date_added`, which is unique anyway).
    pub seq: i64,
    pub id: String,
    pub object_type: String,
    pub version: DateTime<Utc>,
    /// As the object spells it (its `modified`), or the date added's RFC 3339 text.
    pub version_text: String,
    pub spec_version: String,
    pub date_added: DateTime<Utc>,
    pub document: Value,
}

/// What happened to one object of [`crate::Store::taxii_add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxiiAdded {
    /// Stored now, with this date added.
    Added(DateTime<Utc>),
    /// That id and version were already in the collection: kept as it was.
    Duplicate,
}

/// A stored status resource (`GET {api-root}/status/{id}/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxiiStatusRow {
    pub id: String,
    pub collection: String,
    pub request_timestamp: DateTime<Utc>,
    /// The TAXII status resource as JSON.
    pub document: Value,
}

/// One write transaction: each object version not yet in `collection` is stored with a
/// fresh `date_added`; then the status, when given.
pub(crate) fn add(
    db: &mut dyn Db,
    collection: &str,
    objects: &[TaxiiNewObject],
    status: Option<&TaxiiStatusRow>,
    now: DateTime<Utc>,
) -> Result<Vec<TaxiiAdded>, StoreError> {
    let last = scalar(&db.query(
        "SELECT COALESCE(MAX(date_added), 0) FROM taxii_objects WHERE collection = $1",
        &[collection.into()],
    )?);
    let mut next = now.timestamp_micros().max(last + 1);
    let mut out = Vec::with_capacity(objects.len());
    for o in objects {
        let added = DateTime::<Utc>::from_timestamp_micros(next)
            .ok_or_else(|| StoreError::BadQuery(format!("date added {next} out of range")))?;
        let (version, version_text) = match (o.version, &o.version_text) {
            (Some(v), Some(t)) => (v, t.clone()),
            (Some(v), None) => (v, rfc3339(v)),
            (None, _) => (added, rfc3339(added)),
        };
        let found = db.query(
            "SELECT 1 FROM taxii_objects WHERE collection = $1 AND id = $2 AND version = $3",
            &[collection.into(), (&o.id).into(), ts(version)],
        )?;
        if !found.is_empty() {
            out.push(TaxiiAdded::Duplicate);
            continue;
        }
        db.exec(
            "INSERT INTO taxii_objects (collection, id, type, version, version_text, \
             spec_version, date_added, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                collection.into(),
                (&o.id).into(),
                (&o.object_type).into(),
                ts(version),
                version_text.into(),
                (&o.spec_version).into(),
                Val::I64(next),
                json(&o.document),
            ],
        )?;
        out.push(TaxiiAdded::Added(added));
        next += 1;
    }
    if let Some(s) = status {
        save_status(db, s)?;
    }
    Ok(out)
}

pub(crate) fn save_status(db: &mut dyn Db, s: &TaxiiStatusRow) -> Result<(), StoreError> {
    db.exec("DELETE FROM taxii_status WHERE id = $1", &[(&s.id).into()])?;
    db.exec(
        "INSERT INTO taxii_status (id, collection, request_timestamp, document) \
         VALUES ($1, $2, $3, $4)",
        &[
            (&s.id).into(),
            (&s.collection).into(),
            ts(s.request_timestamp),
            json(&s.document),
        ],
    )?;
    Ok(())
}

/// RFC 3339 in UTC with milliseconds at least (STIX and TAXII timestamps), microseconds
/// when they are not zero.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros().is_multiple_of(1000) {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

const COLS: &str = "seq, id, type, version, version_text, spec_version, date_added, document";

fn row(r: &[Val]) -> Result<TaxiiObjectRow, StoreError> {
    let d = Dec::new("taxii_objects", r, 1);
    Ok(TaxiiObjectRow {
        seq: d.i64(0)?,
        id: d.text(1)?,
        object_type: d.text(2)?,
        version: d.time(3)?,
        version_text: d.text(4)?,
        spec_version: d.text(5)?,
        date_added: d.time(6)?,
        document: d.json(7)?,
    })
}

/// Every version in `collection` whose id is one of `ids` and type one of `types` (an
/// empty list: any), by date added.
pub(crate) fn objects(
    db: &mut dyn Db,
    collection: &str,
    ids: &[String],
    types: &[String],
) -> Result<Vec<TaxiiObjectRow>, StoreError> {
    let mut sql = format!("SELECT {COLS} FROM taxii_objects WHERE collection = $1");
    let mut params: Vec<Val> = vec![collection.into()];
    for (col, list) in [("id", ids), ("type", types)] {
        if list.is_empty() {
            continue;
        }
        let marks: Vec<String> = list
            .iter()
            .map(|v| {
                params.push(v.into());
                format!("${}", params.len())
            })
            .collect();
        sql.push_str(&format!(" AND {col} IN ({})", marks.join(", ")));
    }
    sql.push_str(" ORDER BY date_added, seq");
    db.query(&sql, &params)?.iter().map(|r| row(r)).collect()
}

/// One `match[version]` term of a [`TaxiiPageQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxiiVersion {
    /// The last version of each object (among its selected spec versions).
    Last,
    First,
    All,
    /// That exact version.
    At(DateTime<Utc>),
}

/// One page of a collection's versions, selected and paged in SQL (TAXII 2.1 filters;
/// the same selection as `vigie-serve`'s `taxii::filter::select` then `page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxiiPageQuery {
    /// Empty: any.
    pub ids: Vec<String>,
    /// Empty: any.
    pub types: Vec<String>,
    /// Empty: each object's latest spec version.
    pub spec_versions: Vec<String>,
    /// Any of these (empty: [`TaxiiVersion::Last`]).
    pub versions: Vec<TaxiiVersion>,
    /// Versions added strictly after this (µs): the later of `added_after` and `next`.
    pub after: Option<i64>,
    /// Page size (at least 1).
    pub limit: u32,
}

/// A page: the versions by date added, and whether more follow.
pub(crate) fn objects_page(
    db: &mut dyn Db,
    collection: &str,
    q: &TaxiiPageQuery,
) -> Result<(Vec<TaxiiObjectRow>, bool), StoreError> {
    let mut params: Vec<Val> = vec![collection.into()];
    let mut sql = format!("SELECT {COLS} FROM taxii_objects o WHERE o.collection = $1");
    let list = |params: &mut Vec<Val>, values: &[String]| -> String {
        values
            .iter()
            .map(|v| {
                params.push(v.into());
                format!("${}", params.len())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !q.ids.is_empty() {
        sql.push_str(&format!(" AND o.id IN ({})", list(&mut params, &q.ids)));
    }
    if !q.types.is_empty() {
        sql.push_str(&format!(" AND o.type IN ({})", list(&mut params, &q.types)));
    }
    // The spec-version condition on an alias: the listed ones, else the object's latest.
    let spec_in = if q.spec_versions.is_empty() {
        None
    } else {
        Some(list(&mut params, &q.spec_versions))
    };
    let spec = |a: &str| match &spec_in {
        Some(l) => format!("{a}.spec_version IN ({l})"),
        None => format!(
            "{a}.spec_version = (SELECT MAX(s.spec_version) FROM taxii_objects s \
             WHERE s.collection = {a}.collection AND s.id = {a}.id)"
        ),
    };
    sql.push_str(&format!(" AND {}", spec("o")));
    if let Some(after) = q.after {
        params.push(Val::I64(after));
        sql.push_str(&format!(" AND o.date_added > ${}", params.len()));
    }
    let terms: &[TaxiiVersion] = if q.versions.is_empty() {
        &[TaxiiVersion::Last]
    } else {
        &q.versions
    };
    if !terms.contains(&TaxiiVersion::All) {
        let mut ors = Vec::new();
        for t in terms {
            match t {
                TaxiiVersion::All => {}
                TaxiiVersion::First | TaxiiVersion::Last => {
                    let agg = if *t == TaxiiVersion::First {
                        "MIN"
                    } else {
                        "MAX"
                    };
                    ors.push(format!(
                        "o.version = (SELECT {agg}(x.version) FROM taxii_objects x \
                         WHERE x.collection = o.collection AND x.id = o.id AND {})",
                        spec("x")
                    ));
                }
                TaxiiVersion::At(v) => {
                    params.push(ts(*v));
                    ors.push(format!("o.version = ${}", params.len()));
                }
            }
        }
        sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
    }
    let limit = q.limit.max(1);
    sql.push_str(&format!(
        " ORDER BY o.date_added, o.seq LIMIT {}",
        u64::from(limit) + 1
    ));
    let mut rows: Vec<TaxiiObjectRow> = db
        .query(&sql, &params)?
        .iter()
        .map(|r| row(r))
        .collect::<Result<_, _>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Deletes these rows (by `seq`) of `collection`; returns how many went.
pub(crate) fn delete(db: &mut dyn Db, collection: &str, seqs: &[i64]) -> Result<u64, StoreError> {
    let mut n = 0;
    for s in seqs {
        n += db.exec(
            "DELETE FROM taxii_objects WHERE collection = $1 AND seq = $2",
            &[collection.into(), Val::I64(*s)],
        )?;
    }
    Ok(n)
}

pub(crate) fn status(db: &mut dyn Db, id: &str) -> Result<Option<TaxiiStatusRow>, StoreError> {
    let rows = db.query(
        "SELECT id, collection, request_timestamp, document FROM taxii_status WHERE id = $1",
        &[id.into()],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let d = Dec::new("taxii_status", r, 0);
    Ok(Some(TaxiiStatusRow {
        id: d.text(0)?,
        collection: d.text(1)?,
        request_timestamp: d.time(2)?,
        document: d.json(3)?,
    }))
}

/// Object versions per collection (for `/metrics` and tests).
pub(crate) fn counts(db: &mut dyn Db) -> Result<Vec<(String, u64)>, StoreError> {
    let rows = db.query(
        "SELECT collection, COUNT(*) FROM taxii_objects GROUP BY collection ORDER BY collection",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let d = Dec::new("taxii_objects", r, 0);
            Ok((d.text(0)?, d.u64(1)?))
        })
        .collect()
}
