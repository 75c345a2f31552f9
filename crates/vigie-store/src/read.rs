//! Reads: restore state at start, the API's lists with cursor paging, statistics.

use crate::codec::{level_rank, scalar, ts, Dec};
use crate::cursor;
use crate::db::{Db, Val};
use crate::*;

pub(crate) fn positions(db: &mut dyn Db) -> Result<Vec<InputPosition>, StoreError> {
    let rows = db.query("SELECT input, position FROM positions ORDER BY input", &[])?;
    rows.iter()
        .map(|r| {
            let d = Dec::new("positions", r, 0);
            Ok(InputPosition {
                input: d.text(0)?,
                position: d.text(1)?,
            })
        })
        .collect()
}

const EVENT_COLS: &str = "key, input, source, record, time, document";

fn event_row(r: &[Val]) -> Result<StoredEvent, StoreError> {
    let d = Dec::new("events", r, 0);
    Ok(StoredEvent {
        key: d.text(0)?,
        input: d.text(1)?,
        source: d.text(2)?,
        record: d.u64(3)?,
        time: d.opt_time(4)?,
        document: d.opt_json(5)?,
    })
}

pub(crate) fn correlation_events(db: &mut dyn Db) -> Result<Vec<StoredEvent>, StoreError> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE feeds_correlation = 1 ORDER BY seq");
    db.query(&sql, &[])?.iter().map(|r| event_row(r)).collect()
}

pub(crate) fn event(db: &mut dyn Db, key: &str) -> Result<Option<StoredEvent>, StoreError> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE key = $1");
    match db.query(&sql, &[key.into()])?.first() {
        Some(r) => event_row(r).map(Some),
        None => Ok(None),
    }
}

const DETECTION_COLS: &str =
    "d.seq, d.id, d.incident_id, d.rule_id, d.level, d.time, d.event_key, d.document";

fn detection_row(r: &[Val]) -> Result<(i64, DetectionRow), StoreError> {
    let d = Dec::new("detections", r, 1);
    Ok((
        d.i64(0)?,
        DetectionRow {
            id: d.text(1)?,
            incident_id: d.opt_text(2)?,
            rule_id: d.text(3)?,
            level: d.text(4)?,
            time: d.opt_time(5)?,
            event_key: d.opt_text(6)?,
            document: d.json(7)?,
        },
    ))
}

pub(crate) fn live_detections(db: &mut dyn Db) -> Result<Vec<DetectionRow>, StoreError> {
    let sql = format!(
        "SELECT {DETECTION_COLS} FROM detections d LEFT JOIN incidents i ON i.id = d.incident_id
         WHERE i.state IS NULL OR i.state NOT IN ('closed', 'merged') ORDER BY d.seq"
    );
    db.query(&sql, &[])?
        .iter()
        .map(|r| detection_row(r).map(|(_, d)| d))
        .collect()
}

/// Builds `WHERE` clauses with numbered parameters.
struct Filter {
    sql: String,
    params: Vec<Val>,
}

impl Filter {
    fn new(select: String) -> Filter {
        Filter {
            sql: select + " WHERE 1 = 1",
            params: Vec::new(),
        }
    }

    /// Appends `clause` with `?` replaced by the next parameter.
    fn and(&mut self, clause: &str, v: Val) {
        self.params.push(v);
        let mark = format!("${}", self.params.len());
        self.sql.push_str(" AND ");
        self.sql.push_str(&clause.replace('?', &mark));
    }

    fn finish(mut self, order: &str, limit: i64) -> (String, Vec<Val>) {
        self.params.push(Val::I64(limit + 1));
        self.sql
            .push_str(&format!(" ORDER BY {order} LIMIT ${}", self.params.len()));
        (self.sql, self.params)
    }
}

/// Cuts the extra row fetched to learn whether a next page exists.
fn page<T>(mut items: Vec<(i64, T)>, limit: i64, kind: char) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = more
        .then(|| items.last().map(|(seq, _)| cursor::encode(kind, *seq)))
        .flatten();
    Page {
        items: items.into_iter().map(|(_, t)| t).collect(),
        next,
    }
}

pub(crate) fn detections(
    db: &mut dyn Db,
    q: &DetectionQuery,
) -> Result<Page<DetectionRow>, StoreError> {
    let limit = cursor::limit(q.limit);
    let mut f = Filter::new(format!("SELECT {DETECTION_COLS} FROM detections d"));
    if let Some(after) = &q.after {
        f.and("d.seq > ?", Val::I64(cursor::decode('d', after)?));
    }
    if let Some(from) = q.from {
        f.and("d.time >= ?", ts(from));
    }
    if let Some(to) = q.to {
        f.and("d.time < ?", ts(to));
    }
    if let Some(level) = &q.min_level {
        let rank = level_rank(level)
            .ok_or_else(|| StoreError::BadQuery(format!("unknown level `{level}`")))?;
        f.and("d.level_rank >= ?", Val::I64(rank));
    }
    if let Some(rule) = &q.rule {
        f.and("d.rule_id = ?", rule.into());
    }
    if let Some(incident) = &q.incident {
        f.and("d.incident_id = ?", incident.into());
    }
    if let Some(asset) = &q.asset {
        f.and(
            "EXISTS (SELECT 1 FROM detection_assets a WHERE a.detection_seq = d.seq AND a.asset = ?)",
            asset.into(),
        );
    }
    let (sql, params) = f.finish("d.seq", limit);
    let rows = db.query(&sql, &params)?;
    let items = rows
        .iter()
        .map(|r| detection_row(r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, limit, 'd'))
}

const INCIDENT_COLS: &str = "seq, id, state, assignee, verdict, merged_into, first_seen, \
     last_seen, severity, risk, assets, compromised, detection_count, opened_at, updated_at, \
     version, document";

fn incident_row(r: &[Val]) -> Result<(i64, IncidentRow), StoreError> {
    let d = Dec::new("incidents", r, 1);
    Ok((
        d.i64(0)?,
        IncidentRow {
            id: d.text(1)?,
            state: d.state(2)?,
            assignee: d.opt_text(3)?,
            verdict: d.verdict(4)?,
            merged_into: d.opt_text(5)?,
            first_seen: d.opt_time(6)?,
            last_seen: d.opt_time(7)?,
            severity: d.text(8)?,
            risk: d.f64(9)?,
            assets: d.json(10)?,
            compromised: d.json(11)?,
            detection_count: d.u64(12)?,
            opened_at: d.time(13)?,
            updated_at: d.time(14)?,
            version: d.u64(15)?,
            document: d.json(16)?,
            decision: None,
        },
    ))
}

/// Newest first; `decision` is filled only by [`incident`] (the list shows summaries).
pub(crate) fn incidents(
    db: &mut dyn Db,
    q: &IncidentQuery,
) -> Result<Page<IncidentRow>, StoreError> {
    let limit = cursor::limit(q.limit);
    let mut f = Filter::new(format!("SELECT {INCIDENT_COLS} FROM incidents"));
    if let Some(after) = &q.after {
        f.and("seq < ?", Val::I64(cursor::decode('i', after)?));
    }
    if let Some(state) = q.state {
        f.and("state = ?", codec::state_name(state).into());
    }
    let (sql, params) = f.finish("seq DESC", limit);
    let rows = db.query(&sql, &params)?;
    let items = rows
        .iter()
        .map(|r| incident_row(r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, limit, 'i'))
}

pub(crate) fn incident(db: &mut dyn Db, id: &str) -> Result<Option<IncidentRow>, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1");
    let Some(r) = db.query(&sql, &[id.into()])?.into_iter().next() else {
        return Ok(None);
    };
    let (_, mut row) = incident_row(&r)?;
    row.decision = latest_decision(db, id)?;
    Ok(Some(row))
}

fn latest_decision(db: &mut dyn Db, id: &str) -> Result<Option<DecisionRecord>, StoreError> {
    let rows = db.query(
        "SELECT incident_id, compromised, computed_at, document FROM decisions
         WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1",
        &[id.into()],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let d = Dec::new("decisions", r, 0);
    Ok(Some(DecisionRecord {
        incident_id: d.text(0)?,
        compromised: d.json(1)?,
        computed_at: d.time(2)?,
        document: d.json(3)?,
    }))
}

pub(crate) fn history(db: &mut dyn Db, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = db.query(
        "SELECT incident_id, at, actor, action, detail, comment FROM incident_history
         WHERE incident_id = $1 ORDER BY seq",
        &[id.into()],
    )?;
    rows.iter()
        .map(|r| {
            let d = Dec::new("incident_history", r, 0);
            Ok(HistoryEntry {
                at: d.time(1)?,
                actor: d.text(2)?,
                action: d.text(3)?,
                detail: d.json(4)?,
                comment: d.opt_text(5)?,
            })
        })
        .collect()
}

pub(crate) fn rule_stats(db: &mut dyn Db) -> Result<Vec<RuleStats>, StoreError> {
    let mut stats: std::collections::BTreeMap<String, RuleStats> = Default::default();
    for r in db.query(
        "SELECT rule_id, COUNT(*) FROM detections GROUP BY rule_id",
        &[],
    )? {
        let d = Dec::new("detections", &r, 0);
        let rule_id = d.text(0)?;
        stats.insert(
            rule_id.clone(),
            RuleStats {
                rule_id,
                detections: d.u64(1)?,
                true_positive: 0,
                false_positive: 0,
                false_positive_rate: None,
            },
        );
    }
    // An incident counts once per rule, however many of its detections the rule made.
    for r in db.query(
        "SELECT d.rule_id, i.verdict, COUNT(DISTINCT i.id) FROM detections d
         JOIN incidents i ON i.id = d.incident_id
         WHERE i.state = 'closed' AND i.verdict IS NOT NULL
         GROUP BY d.rule_id, i.verdict",
        &[],
    )? {
        let d = Dec::new("incidents", &r, 0);
        let rule_id = d.text(0)?;
        let n = d.u64(2)?;
        let Some(s) = stats.get_mut(&rule_id) else {
            continue;
        };
        match d.verdict(1)? {
            Some(Verdict::TruePositive) => s.true_positive += n,
            Some(Verdict::FalsePositive) => s.false_positive += n,
            None => {}
        }
    }
    Ok(stats
        .into_values()
        .map(|mut s| {
            let judged = s.true_positive + s.false_positive;
            s.false_positive_rate = (judged > 0).then(|| s.false_positive as f64 / judged as f64);
            s
        })
        .collect())
}

pub(crate) fn tokens(db: &mut dyn Db) -> Result<Vec<TokenRow>, StoreError> {
    let rows = db.query(
        "SELECT name, role, hash, created_at FROM tokens ORDER BY name",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let d = Dec::new("tokens", r, 0);
            Ok(TokenRow {
                name: d.text(0)?,
                role: d.text(1)?,
                hash: d.text(2)?,
                created_at: d.time(3)?,
            })
        })
        .collect()
}

pub(crate) fn audit(
    db: &mut dyn Db,
    limit: u32,
    after: Option<&str>,
) -> Result<Page<AuditEntry>, StoreError> {
    let limit = cursor::limit(limit);
    let mut f = Filter::new("SELECT seq, at, actor, action, target, detail FROM audit".into());
    if let Some(after) = after {
        f.and("seq < ?", Val::I64(cursor::decode('a', after)?));
    }
    let (sql, params) = f.finish("seq DESC", limit);
    let items = db
        .query(&sql, &params)?
        .iter()
        .map(|r| {
            let d = Dec::new("audit", r, 0);
            Ok((
                d.i64(0)?,
                AuditEntry {
                    at: d.time(1)?,
                    actor: d.text(2)?,
                    action: d.text(3)?,
                    target: d.text(4)?,
                    detail: d.json(5)?,
                },
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(page(items, limit, 'a'))
}

/// Totals: the big tables' from their running totals (`counters`), the incidents'
/// counted (a small table).
pub(crate) fn counts(db: &mut dyn Db) -> Result<Counts, StoreError> {
    let mut c = incident_counts(db)?;
    for r in db.query("SELECT name, value FROM counters", &[])? {
        let d = Dec::new("counters", &r, 0);
        let v = d.u64(1)?;
        match d.text(0)?.as_str() {
            "events" => c.events = v,
            "events_with_document" => c.events_with_document = v,
            "detections" => c.detections = v,
            _ => {}
        }
    }
    Ok(c)
}

fn incident_counts(db: &mut dyn Db) -> Result<Counts, StoreError> {
    let mut count = |sql: &str| -> Result<u64, StoreError> {
        Ok(u64::try_from(scalar(&db.query(sql, &[])?)).unwrap_or(0))
    };
    Ok(Counts {
        incidents_open: count(
            "SELECT COUNT(*) FROM incidents WHERE state IN ('open', 'acknowledged')",
        )?,
        incidents: count("SELECT COUNT(*) FROM incidents")?,
        ..Counts::default()
    })
}

/// The same totals counted from the tables (tests check the running totals with it).
pub(crate) fn counts_exact(db: &mut dyn Db) -> Result<Counts, StoreError> {
    let c = incident_counts(db)?;
    let mut count = |sql: &str| -> Result<u64, StoreError> {
        Ok(u64::try_from(scalar(&db.query(sql, &[])?)).unwrap_or(0))
    };
    Ok(Counts {
        events: count("SELECT COUNT(*) FROM event_keys")?,
        events_with_document: count("SELECT COUNT(*) FROM events WHERE document IS NOT NULL")?,
        detections: count("SELECT COUNT(*) FROM detections")?,
        ..c
    })
}
