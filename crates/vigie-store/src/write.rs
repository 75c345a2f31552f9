//! The commit: one transaction holding a batch's events, detections, incident changes,
//! input positions and dropped correlation documents. The caller ([`crate::Store`])
//! opens and closes the transaction and calls the hook; this module writes the rows.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::codec::{
    has_legacy_form, json, key_hash, legacy_key_hash, level_rank, opt_ts, scalar, ts,
};
use crate::db::{Db, Val};
use crate::{CommitBatch, CommitOutcome, IncidentUpsert, NewDetection, NewEvent, StoreError};

/// Writes every row of `batch` inside the open transaction.
pub(crate) fn write_batch(
    db: &mut dyn Db,
    batch: &CommitBatch,
    keep_all: bool,
    legacy_keys: bool,
    now: DateTime<Utc>,
) -> Result<CommitOutcome, StoreError> {
    let mut out = CommitOutcome::default();
    let evidence: HashSet<&str> = batch
        .detections
        .iter()
        .filter_map(|d| d.event_key.as_deref())
        .collect();
    let (inserted, docs) = insert_events(db, &batch.events, &evidence, legacy_keys, &mut out)?;
    // Keys of this batch's events that were already stored: their detections were
    // stored with them the first time.
    let duplicate_keys: HashSet<&str> = out
        .duplicate_events
        .iter()
        .map(|&i| batch.events[i].key.as_str())
        .filter(|k| !inserted.contains(k))
        .collect();
    let preset = insert_detections(db, batch, &duplicate_keys, &inserted, now, &mut out)?;
    for inc in &batch.incidents {
        let fresh = preset.get(inc.id.as_str()).copied().unwrap_or(0);
        upsert_incident(db, inc, fresh, now, &mut out)?;
    }
    // Detections that named an incident no upsert of this batch covers still count.
    for id in preset.keys() {
        if !batch.incidents.iter().any(|i| i.id == *id) {
            recount(db, id)?;
        }
    }
    for p in &batch.positions {
        db.exec(
            "INSERT INTO positions (input, position, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (input) DO UPDATE SET position = excluded.position,
             updated_at = excluded.updated_at",
            &[(&p.input).into(), (&p.position).into(), ts(now)],
        )?;
    }
    let dropped = expire_correlation(db, &batch.correlation_expired, keep_all)?;
    bump(db, "events", out.events_inserted as i64)?;
    bump(db, "events_with_document", docs - dropped)?;
    bump(db, "detections", out.detections_inserted as i64)?;
    Ok(out)
}

/// Adds `delta` to a running total (`counters`, migration 2).
pub(crate) fn bump(db: &mut dyn Db, name: &str, delta: i64) -> Result<(), StoreError> {
    if delta != 0 {
        db.exec(
            "UPDATE counters SET value = value + $2 WHERE name = $1",
            &[name.into(), Val::I64(delta)],
        )?;
    }
    Ok(())
}

/// Events that left every correlation window: no longer feeding, and their rows (their
/// documents: the key stays in `event_keys`) dropped unless evidence or `events = all`.
/// Returns the documents dropped.
fn expire_correlation(db: &mut dyn Db, keys: &[String], keep_all: bool) -> Result<i64, StoreError> {
    let mut dropped = 0;
    let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
    let distinct: Vec<&String> = distinct.into_iter().collect();
    for chunk in distinct.chunks(ID_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let list = marks.join(",");
        let params: Vec<Val> = chunk.iter().map(|k| Val::from(*k)).collect();
        if !keep_all {
            dropped += db.exec(
                &format!(
                    "DELETE FROM events WHERE key IN ({list})
                     AND feeds_correlation = 1 AND evidence = 0 AND document IS NOT NULL"
                ),
                &params,
            )?;
        }
        db.exec(
            &format!(
                "UPDATE events SET feeds_correlation = 0 WHERE key IN ({list})
                 AND feeds_correlation = 1"
            ),
            &params,
        )?;
    }
    Ok(i64::try_from(dropped).unwrap_or(i64::MAX))
}

/// Records every event's key hash in `event_keys` (skipping stored ones: those are the
/// duplicates) and inserts the `events` row of each new event that is kept (with its
/// document, as evidence or feeding a correlation); returns the keys inserted and how
/// many of them came with their document. `legacy_keys`: the store may hold keys in
/// schema 4's form ([`legacy_key_hash`]), which count as stored too.
fn insert_events<'b>(
    db: &mut dyn Db,
    events: &'b [NewEvent],
    evidence: &HashSet<&str>,
    legacy_keys: bool,
    out: &mut CommitOutcome,
) -> Result<(HashSet<&'b str>, i64), StoreError> {
    let hashes: Vec<Vec<u8>> = events.iter().map(|e| key_hash(&e.key)).collect();
    let old = if legacy_keys {
        stored_in_legacy_form(db, events.iter().map(|e| e.key.as_str()))?
    } else {
        HashSet::new()
    };
    let rows = events
        .iter()
        .zip(&hashes)
        .enumerate()
        .filter(|(i, _)| !old.contains(i))
        .map(|(_, (e, h))| vec![Val::Bytes(h.clone()), ts(e.received_at)])
        .collect();
    let returned: HashSet<Vec<u8>> = insert_rows(
        db,
        "INSERT INTO event_keys (hash, received_at)",
        rows,
        "ON CONFLICT DO NOTHING RETURNING hash",
    )?
    .into_iter()
    .filter_map(|r| match r.into_iter().next() {
        Some(Val::Bytes(h)) => Some(h),
        _ => None,
    })
    .collect();
    let mut inserted: HashSet<&str> = HashSet::new();
    let mut documents = 0;
    let mut kept = Vec::new();
    for (i, (e, h)) in events.iter().zip(&hashes).enumerate() {
        // The first occurrence of a returned hash is the inserted one; any later copy in
        // the same batch is a duplicate.
        if !old.contains(&i) && returned.contains(h.as_slice()) && inserted.insert(e.key.as_str()) {
            out.events_inserted += 1;
            documents += i64::from(e.document.is_some());
            let is_evidence = evidence.contains(e.key.as_str());
            if e.document.is_some() || e.feeds_correlation || is_evidence {
                kept.push(vec![
                    (&e.key).into(),
                    (&e.input).into(),
                    (&e.source).into(),
                    Val::I64(i64::try_from(e.record).unwrap_or(i64::MAX)),
                    opt_ts(e.time),
                    ts(e.received_at),
                    e.document.as_ref().map_or(Val::Null, json),
                    Val::I64(e.feeds_correlation.into()),
                    Val::I64(is_evidence.into()),
                ]);
            }
        } else {
            out.duplicate_events.push(i);
        }
    }
    insert_rows(
        db,
        "INSERT INTO events (key, input, source, record, time, received_at, document, \
         feeds_correlation, evidence)",
        kept,
        "ON CONFLICT DO NOTHING",
    )?;
    Ok((inserted, documents))
}

/// Which of `hashes` are in `event_keys`, 500 to a statement.
pub(crate) fn stored_hashes<'h>(
    db: &mut dyn Db,
    hashes: impl IntoIterator<Item = &'h [u8]>,
) -> Result<HashSet<Vec<u8>>, StoreError> {
    let hashes: Vec<&[u8]> = hashes.into_iter().collect();
    let mut found = HashSet::new();
    for chunk in hashes.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT hash FROM event_keys WHERE hash IN ({})",
            marks.join(",")
        );
        let params: Vec<Val> = chunk.iter().map(|h| Val::Bytes(h.to_vec())).collect();
        for row in db.query(&sql, &params)? {
            if let Some(Val::Bytes(h)) = row.into_iter().next() {
                found.insert(h);
            }
        }
    }
    Ok(found)
}

/// Positions (in `keys`) of the keys stored in schema 4's form only: keys naming a
/// stream position whose [`legacy_key_hash`] is in `event_keys`.
pub(crate) fn stored_in_legacy_form<'k>(
    db: &mut dyn Db,
    keys: impl IntoIterator<Item = &'k str>,
) -> Result<HashSet<usize>, StoreError> {
    let located: Vec<(usize, [u8; 16])> = keys
        .into_iter()
        .enumerate()
        .filter(|(_, k)| has_legacy_form(k))
        .map(|(i, k)| (i, legacy_key_hash(k)))
        .collect();
    if located.is_empty() {
        return Ok(HashSet::new());
    }
    let found = stored_hashes(db, located.iter().map(|(_, h)| h.as_slice()))?;
    Ok(located
        .into_iter()
        .filter(|(_, h)| found.contains(h.as_slice()))
        .map(|(i, _)| i)
        .collect())
}

/// Most parameters in one multi-row statement (both backends take more; the SQL text
/// stays small enough to parse quickly).
const MAX_PARAMS: usize = 4_500;

/// `head VALUES (...),(...) tail` over `rows` in as few statements as the parameter
/// budget allows; returns every row the statements return. PostgreSQL pays one round
/// trip per statement, not per row.
pub(crate) fn insert_rows(
    db: &mut dyn Db,
    head: &str,
    rows: Vec<Vec<Val>>,
    tail: &str,
) -> Result<Vec<Vec<Val>>, StoreError> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    let mut returned = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = format!("{head} VALUES ");
        let mut params = Vec::new();
        for (i, row) in rows.by_ref().take(MAX_PARAMS / width).enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", i * width + c)).collect();
            sql.push('(');
            sql.push_str(&marks.join(","));
            sql.push(')');
            params.extend(row);
        }
        sql.push(' ');
        sql.push_str(tail);
        returned.extend(db.query(&sql, &params)?);
    }
    Ok(returned)
}

/// Inserts the batch's new detections (and their assets); returns, by incident, how many
/// of them were inserted already naming it (`NewDetection::incident_id`).
fn insert_detections<'b>(
    db: &mut dyn Db,
    batch: &'b CommitBatch,
    duplicate_keys: &HashSet<&str>,
    inserted_events: &HashSet<&str>,
    now: DateTime<Utc>,
    out: &mut CommitOutcome,
) -> Result<HashMap<&'b str, u64>, StoreError> {
    let candidates: Vec<&NewDetection> = batch
        .detections
        .iter()
        .filter(|d| {
            !d.event_key
                .as_deref()
                .is_some_and(|k| duplicate_keys.contains(k))
        })
        .collect();
    let rows = candidates
        .iter()
        .map(|d| {
            vec![
                (&d.id).into(),
                (&d.key).into(),
                (&d.rule_id).into(),
                (&d.rule_title).into(),
                (&d.level).into(),
                Val::I64(level_rank(&d.level).unwrap_or(0)),
                opt_ts(d.time),
                d.event_key.as_ref().into(),
                d.incident_id.as_ref().into(),
                ts(now),
                json(&d.document),
            ]
        })
        .collect();
    let returned = insert_rows(
        db,
        "INSERT INTO detections (id, key, rule_id, rule_title, level, level_rank, time, \
         event_key, incident_id, created_at, document)",
        rows,
        "ON CONFLICT DO NOTHING RETURNING key, seq",
    )?;
    let mut seqs: HashMap<String, Val> = returned
        .into_iter()
        .filter_map(|r| {
            let mut r = r.into_iter();
            match (r.next(), r.next()) {
                (Some(Val::Text(k)), Some(seq)) => Some((k, seq)),
                _ => None,
            }
        })
        .collect();
    let mut preset: HashMap<&str, u64> = HashMap::new();
    let mut assets = Vec::new();
    let mut late_evidence = Vec::new();
    for d in candidates {
        // The first copy of a returned key is the one inserted.
        let Some(seq) = seqs.remove(&d.key) else {
            continue;
        };
        out.detections_inserted += 1;
        if let Some(inc) = d.incident_id.as_deref() {
            *preset.entry(inc).or_default() += 1;
        }
        let distinct: std::collections::BTreeSet<&String> = d.assets.iter().collect();
        assets.extend(distinct.into_iter().map(|a| vec![a.into(), seq.clone()]));
        // Evidence of an event stored by an earlier commit (a late detection).
        if let Some(k) = d
            .event_key
            .as_deref()
            .filter(|k| !inserted_events.contains(k))
        {
            late_evidence.push(vec![Val::from(k)]);
        }
    }
    insert_rows(
        db,
        "INSERT INTO detection_assets (asset, detection_seq)",
        assets,
        "ON CONFLICT DO NOTHING",
    )?;
    for k in late_evidence {
        db.exec(
            "UPDATE events SET evidence = 1 WHERE key = $1 AND evidence = 0",
            &k,
        )?;
    }
    Ok(preset)
}

pub(crate) fn history(
    db: &mut dyn Db,
    incident: &str,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
    comment: Option<&str>,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO incident_history (incident_id, at, actor, action, detail, comment)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            incident.into(),
            ts(at),
            actor.into(),
            action.into(),
            json(&detail),
            comment.into(),
        ],
    )?;
    Ok(())
}

fn incident_state(db: &mut dyn Db, id: &str) -> Result<Option<String>, StoreError> {
    let rows = db.query("SELECT state FROM incidents WHERE id = $1", &[id.into()])?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| match r.into_iter().next() {
            Some(Val::Text(s)) => Some(s),
            _ => None,
        }))
}

fn recount(db: &mut dyn Db, id: &str) -> Result<(), StoreError> {
    let n = scalar(&db.query(
        "SELECT COUNT(*) FROM detections WHERE incident_id = $1",
        &[id.into()],
    )?);
    db.exec(
        "UPDATE incidents SET detection_count = $2 WHERE id = $1",
        &[id.into(), Val::I64(n)],
    )?;
    Ok(())
}

/// Ids per `UPDATE ... WHERE id IN (...)`: an incident lists all its detections on
/// every upsert, so moving them is a few statements, not one per detection.
const ID_CHUNK: usize = 500;

/// Creates or updates one incident from new detections (module docs of `lib.rs`);
/// `fresh`: detections inserted by this batch already naming it.
fn upsert_incident(
    db: &mut dyn Db,
    inc: &IncidentUpsert,
    fresh: u64,
    now: DateTime<Utc>,
    out: &mut CommitOutcome,
) -> Result<(), StoreError> {
    let before = incident_state(db, &inc.id)?;
    let fields = [
        (&inc.id).into(),
        opt_ts(inc.first_seen),
        opt_ts(inc.last_seen),
        (&inc.severity).into(),
        Val::F64(inc.risk),
        json(&inc.assets),
        json(&inc.compromised),
        ts(now),
        json(&inc.document),
    ];
    if before.is_none() {
        db.exec(
            "INSERT INTO incidents (id, state, first_seen, last_seen, severity, risk, assets,
             compromised, detection_count, opened_at, updated_at, version, document)
             VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, 0, $8, $8, 1, $9)",
            &fields,
        )?;
    } else {
        db.exec(
            "UPDATE incidents SET first_seen = $2, last_seen = $3, severity = $4, risk = $5,
             assets = $6, compromised = $7, updated_at = $8, document = $9,
             version = version + 1 WHERE id = $1",
            &fields,
        )?;
    }
    for from in inc.merged_from.iter().filter(|m| **m != inc.id) {
        merge_into(db, from, &inc.id, now)?;
    }
    let mut moved = fresh;
    for chunk in inc.detection_ids.chunks(ID_CHUNK) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE detections SET incident_id = $1 WHERE id IN ({})
             AND (incident_id IS NULL OR incident_id <> $1)",
            marks.join(",")
        );
        let mut params: Vec<Val> = vec![(&inc.id).into()];
        params.extend(chunk.iter().map(Val::from));
        moved += db.exec(&sql, &params)?;
    }
    recount(db, &inc.id)?;
    let detail = json!({
        "new_detections": moved,
        "severity": inc.severity,
        "risk": inc.risk,
        "compromised": inc.compromised,
    });
    match before.as_deref() {
        None => {
            history(db, &inc.id, now, "vigie", "opened", detail, None)?;
            out.incidents_opened.push(inc.id.clone());
        }
        Some(state @ ("closed" | "merged")) if moved > 0 => {
            db.exec(
                "UPDATE incidents SET state = 'open', verdict = NULL, closed_at = NULL,
                 merged_into = NULL WHERE id = $1",
                &[(&inc.id).into()],
            )?;
            let detail = json!({"from": state, "new_detections": moved});
            history(db, &inc.id, now, "vigie", "reopened", detail, None)?;
            out.incidents_updated.push(inc.id.clone());
        }
        Some(_) => {
            history(db, &inc.id, now, "vigie", "updated", detail, None)?;
            out.incidents_updated.push(inc.id.clone());
        }
    }
    Ok(())
}

/// Folds incident `from` into `into`: its detections move, it becomes `merged`.
fn merge_into(
    db: &mut dyn Db,
    from: &str,
    into: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match incident_state(db, from)?.as_deref() {
        None | Some("merged") => return Ok(()),
        Some(_) => {}
    }
    db.exec(
        "UPDATE incidents SET state = 'merged', merged_into = $2, closed_at = $3,
         updated_at = $3, version = version + 1 WHERE id = $1",
        &[from.into(), into.into(), ts(now)],
    )?;
    db.exec(
        "UPDATE detections SET incident_id = $2 WHERE incident_id = $1",
        &[from.into(), into.into()],
    )?;
    recount(db, from)?;
    history(
        db,
        from,
        now,
        "vigie",
        "merged",
        json!({"into": into}),
        None,
    )?;
    history(
        db,
        into,
        now,
        "vigie",
        "merged",
        json!({"from": from}),
        None,
    )?;
    Ok(())
}
