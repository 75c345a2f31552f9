//! Writes other than the commit: a person's incident changes (the state machine),
//! decisions, tokens, the audit log and the retention sweep. Each runs inside one
//! transaction opened by [`crate::Store`].

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::codec::{json, state_name, ts, verdict_name};
use crate::db::{Db, Val};
use crate::write::{bump, history};
use crate::*;

/// Where a state may go by a person's hand: open → acknowledged → closed; open → closed;
/// closed (or acknowledged) → open is a reopening. `merged` is reached only by
/// detections, and a merged incident does not change any more.
fn transition(
    id: &str,
    from: IncidentState,
    to: IncidentState,
) -> Result<Option<&'static str>, StoreError> {
    use IncidentState::*;
    let invalid = |why: String| StoreError::InvalidChange {
        id: id.to_string(),
        why,
    };
    Ok(match (from, to) {
        (a, b) if a == b => None,
        (_, Merged) => return Err(invalid("an incident is merged only by detections".into())),
        (Open, Acknowledged) => Some("acknowledged"),
        (Open | Acknowledged, Closed) => Some("closed"),
        (Closed | Acknowledged, Open) => Some("reopened"),
        (Closed, Acknowledged) => {
            return Err(invalid("a closed incident must be reopened first".into()));
        }
        (Merged, _) => return Err(invalid("merged incidents do not change".into())),
        (a, b) => {
            return Err(invalid(format!(
                "cannot go from {} to {}",
                state_name(a),
                state_name(b)
            )));
        }
    })
}

pub(crate) fn change_incident(
    db: &mut dyn Db,
    id: &str,
    change: &IncidentChange,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<IncidentRow, StoreError> {
    let row = read::incident(db, id)?.ok_or_else(|| StoreError::IncidentNotFound(id.into()))?;
    if row.state == IncidentState::Merged {
        return Err(StoreError::InvalidChange {
            id: id.into(),
            why: format!(
                "merged into {}",
                row.merged_into.as_deref().unwrap_or("another incident")
            ),
        });
    }
    let target = change.state.unwrap_or(row.state);
    let action = transition(id, row.state, target)?;
    if change.verdict.is_some() && target != IncidentState::Closed {
        return Err(StoreError::InvalidChange {
            id: id.into(),
            why: "a verdict is given only when closing (or on a closed incident)".into(),
        });
    }
    // Each change is one history line; the comment goes on the first (or alone as
    // `commented`).
    let mut lines: Vec<(&str, serde_json::Value)> = Vec::new();
    let mut comment = change.comment.as_deref().filter(|c| !c.is_empty());
    if let Some(action) = action {
        let mut detail = json!({"from": state_name(row.state), "to": state_name(target)});
        if let Some(v) = change.verdict {
            detail["verdict"] = json!(verdict_name(v));
        }
        lines.push((action, detail));
        let (verdict, closed_at) = match target {
            IncidentState::Closed => (Val::from(change.verdict.map(verdict_name)), ts(at)),
            _ => (Val::Null, Val::Null),
        };
        db.exec(
            "UPDATE incidents SET state = $2, verdict = $3, closed_at = $4 WHERE id = $1",
            &[id.into(), state_name(target).into(), verdict, closed_at],
        )?;
    } else if let Some(v) = change.verdict.filter(|v| Some(*v) != row.verdict) {
        // A verdict given or changed on an already-closed incident.
        lines.push(("closed", json!({"verdict": verdict_name(v)})));
        db.exec(
            "UPDATE incidents SET verdict = $2 WHERE id = $1",
            &[id.into(), verdict_name(v).into()],
        )?;
    }
    if let Some(assignee) = &change.assignee {
        let new = Some(assignee.as_str()).filter(|a| !a.is_empty());
        if new != row.assignee.as_deref() {
            lines.push(("assigned", json!({"from": row.assignee, "to": new})));
            db.exec(
                "UPDATE incidents SET assignee = $2 WHERE id = $1",
                &[id.into(), new.into()],
            )?;
        }
    }
    if lines.is_empty() && comment.is_some() {
        lines.push(("commented", json!({})));
    }
    if lines.is_empty() {
        return Ok(row);
    }
    for (action, detail) in lines {
        history(db, id, at, actor, action, detail, comment.take())?;
    }
    db.exec(
        "UPDATE incidents SET version = version + 1, updated_at = $2 WHERE id = $1",
        &[id.into(), ts(at)],
    )?;
    let audit = AuditEntry {
        at,
        actor: actor.into(),
        action: "incident.change".into(),
        target: id.into(),
        detail: serde_json::to_value(change).unwrap_or_default(),
    };
    record_audit(db, &audit)?;
    read::incident(db, id)?.ok_or_else(|| StoreError::IncidentNotFound(id.into()))
}

pub(crate) fn save_decision(db: &mut dyn Db, d: &DecisionRecord) -> Result<(), StoreError> {
    let exists = db.query(
        "SELECT id FROM incidents WHERE id = $1",
        &[(&d.incident_id).into()],
    )?;
    if exists.is_empty() {
        return Err(StoreError::IncidentNotFound(d.incident_id.clone()));
    }
    db.exec(
        "INSERT INTO decisions (incident_id, compromised, computed_at, document)
         VALUES ($1, $2, $3, $4)",
        &[
            (&d.incident_id).into(),
            json(&d.compromised),
            ts(d.computed_at),
            json(&d.document),
        ],
    )?;
    let detail = json!({"compromised": d.compromised});
    history(
        db,
        &d.incident_id,
        d.computed_at,
        "vigie",
        "decided",
        detail,
        None,
    )
}

pub(crate) fn add_token(db: &mut dyn Db, t: &TokenRow) -> Result<(), StoreError> {
    let n = db.exec(
        "INSERT INTO tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[
            (&t.name).into(),
            (&t.role).into(),
            (&t.hash).into(),
            ts(t.created_at),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::TokenExists(t.name.clone()));
    }
    Ok(())
}

pub(crate) fn record_audit(db: &mut dyn Db, e: &AuditEntry) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            ts(e.at),
            (&e.actor).into(),
            (&e.action).into(),
            (&e.target).into(),
            json(&e.detail),
        ],
    )?;
    Ok(())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `now - days`, or None for 0 (keep forever).
fn cutoff(now: DateTime<Utc>, days: u32) -> Option<Val> {
    (days > 0).then(|| ts(now - Duration::days(i64::from(days))))
}

pub(crate) fn sweep(
    db: &mut dyn Db,
    policy: &Retention,
    now: DateTime<Utc>,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut deleted = Vec::new();
    if let Some(c) = cutoff(now, policy.closed_incidents_days) {
        // Detections first (their assets cascade), then the incidents (history and
        // decisions cascade); the events they held as evidence are released below.
        let dets = db.exec(
            "DELETE FROM detections WHERE incident_id IN (SELECT id FROM incidents
             WHERE state IN ('closed', 'merged') AND closed_at < $1)",
            std::slice::from_ref(&c),
        )?;
        let incs = db.exec(
            "DELETE FROM incidents WHERE state IN ('closed', 'merged') AND closed_at < $1",
            &[c],
        )?;
        db.exec(
            "UPDATE events SET evidence = 0 WHERE evidence = 1 AND NOT EXISTS
             (SELECT 1 FROM detections d WHERE d.event_key = events.key)",
            &[],
        )?;
        bump(db, "detections", -count(dets))?;
        deleted.push(("detections".to_string(), dets));
        deleted.push(("incidents".to_string(), incs));
    }
    if let Some(c) = cutoff(now, policy.events_days) {
        // Two statements so the running totals know how many documents went.
        let with_doc = db.exec(
            "DELETE FROM events WHERE received_at < $1 AND evidence = 0
             AND feeds_correlation = 0 AND document IS NOT NULL",
            std::slice::from_ref(&c),
        )?;
        db.exec(
            "DELETE FROM events WHERE received_at < $1 AND evidence = 0 AND feeds_correlation = 0",
            std::slice::from_ref(&c),
        )?;
        // Keys (a scan of `event_keys`: it has no index on received_at, which would
        // cost every commit a b-tree); the keys of events still kept stay known.
        let forgotten = db.exec(
            "DELETE FROM event_keys WHERE received_at < $1",
            std::slice::from_ref(&c),
        )?;
        // Keys hashed by schema 4 were all received at or before the counter's time:
        // past it, none is left (see `schema::legacy_key_hashes`).
        db.exec(
            "UPDATE counters SET value = 0 WHERE name = 'legacy_key_hashes' AND value < $1",
            std::slice::from_ref(&c),
        )?;
        let still: Vec<Vec<Val>> = db
            .query(
                "SELECT key, received_at FROM events WHERE received_at < $1",
                &[c],
            )?
            .into_iter()
            .filter_map(|r| {
                let mut r = r.into_iter();
                match (r.next(), r.next()) {
                    (Some(Val::Text(k)), Some(at)) => {
                        Some(vec![Val::Bytes(crate::codec::key_hash(&k)), at])
                    }
                    _ => None,
                }
            })
            .collect();
        let kept = still.len() as u64;
        crate::write::insert_rows(
            db,
            "INSERT INTO event_keys (hash, received_at)",
            still,
            "ON CONFLICT DO NOTHING",
        )?;
        let gone = forgotten.saturating_sub(kept);
        bump(db, "events", -count(gone))?;
        bump(db, "events_with_document", -count(with_doc))?;
        deleted.push(("events".to_string(), gone));
    }
    if let Some(c) = cutoff(now, policy.audit_days) {
        let n = db.exec("DELETE FROM audit WHERE at < $1", &[c])?;
        deleted.push(("audit".to_string(), n));
    }
    if deleted.iter().any(|(_, n)| *n > 0) {
        let detail: serde_json::Map<String, serde_json::Value> =
            deleted.iter().map(|(t, n)| (t.clone(), json!(n))).collect();
        let entry = AuditEntry {
            at: now,
            actor: "vigie".into(),
            action: "retention".into(),
            target: "store".into(),
            detail: detail.into(),
        };
        record_audit(db, &entry)?;
    }
    Ok(deleted)
}
