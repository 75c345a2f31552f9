//! Keeps the `incidents` collection current: at start, after every (re)load of the
//! engines and after every incident change (the live change channel, debounced: at
//! least 250 ms, and four times as long as the last sync took, so a big store under
//! sustained ingest does not spend a thread on it), the STIX objects of serve's
//! incidents are added to the collection.
//!
//! What they are is `vigie intel export`'s: [`incident_objects`] rebuilds each stored
//! incident as respond would (its stored detections observed again on the loaded rules,
//! model and mapping, grouped with respond's `vigie_incident::group`, the stored id and
//! decision kept) and hands them all to [`vigie_intel::export::bundle`] with its defaults
//! (TLP:AMBER, nothing internal). Merged incidents (their detections are in the incident
//! they were merged into) and incidents with the verdict false positive are not shared.
//!
//! Versions ([`plan`]): ids are export's deterministic ids. An object whose newest stored
//! version has the same content (all but `modified`) adds nothing, so republishing an
//! unchanged incident adds no version; a changed object is added with its own
//! `modified` when that is later than the newest stored one, else one millisecond after
//! it (a decision that arrives after the detections changes the incident but not the
//! detections' times), so versions only grow. Cyber-observables have no `modified`: one
//! stored with the same content is the same object.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use vigie_intel::export::{self, DecisionFacts, ExportIncident, ExportInput, ExportOptions};
use vigie_store::{
    DetectionQuery, IncidentQuery, IncidentRow, Store, StoreError, TaxiiNewObject, TaxiiObjectRow,
    Verdict,
};

use super::handlers::check_object;
use super::CollectionKind;
use crate::pipeline::Engines;
use crate::state::AppState;

/// How long changes are gathered before one sync.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Ids looked up in the store per query (the versions already published).
const ID_CHUNK: usize = 500;

/// Every incident row (paging through the store's list).
fn all_incidents(store: &Store) -> Result<Vec<IncidentRow>, StoreError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.incidents(&IncidentQuery {
            state: None,
            limit: 1000,
            after: after.take(),
        })?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The stored detections of one incident, observed again on `e` (those whose rule is no
/// longer loaded are left out, as the live state does after a reload).
fn incident_detections(
    store: &Store,
    e: &Engines,
    incident: &str,
) -> Result<(Vec<vigie_incident::ObservedDetection>, u64), StoreError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut after = None;
    loop {
        let page = store.detections(&DetectionQuery {
            incident: Some(incident.to_string()),
            limit: 1000,
            after: after.take(),
            ..DetectionQuery::default()
        })?;
        for row in &page.items {
            match crate::live::observed_from_row(row, e) {
                Some(o) => out.push(o),
                None => skipped += 1,
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok((out, skipped)),
        }
    }
}

/// The export input of serve's incidents: each incident regrouped from its own
/// detections (respond's code), with its stored id and decision.
fn export_incidents(
    store: &Store,
    e: &Engines,
    group: &vigie_incident::GroupOptions,
) -> Result<Vec<ExportIncident>, StoreError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for row in all_incidents(store)? {
        if row.merged_into.is_some() || row.verdict == Some(Verdict::FalsePositive) {
            continue;
        }
        let (dets, s) = incident_detections(store, e, &row.id)?;
        skipped += s;
        if dets.is_empty() {
            continue;
        }
        let g = vigie_incident::group(&dets, &e.model, &e.attack, group);
        // One incident's detections group into that incident; should a window or guard
        // split them, the incident of the earliest detection stands for them all.
        let Some(mut incident) = g.incidents.into_iter().next() else {
            continue;
        };
        incident.id = row.id.clone();
        out.push(ExportIncident {
            incident,
            detections: dets,
            decision: row
                .decision
                .as_ref()
                .map(|d| DecisionFacts::from_json(&d.document)),
        });
    }
    if skipped > 0 {
        tracing::debug!(
            skipped,
            "TAXII incidents: detections whose rule is no longer loaded left out"
        );
    }
    Ok(out)
}

/// The STIX objects of the `incidents` collection now: `vigie intel export`'s bundle of
/// serve's incidents (see the module docs), with the export's default options.
pub fn incident_objects(
    store: &Store,
    e: &Engines,
    group: &vigie_incident::GroupOptions,
) -> Result<Vec<Value>, StoreError> {
    let incidents = export_incidents(store, e, group)?;
    let input = ExportInput {
        model: &e.model,
        incidents,
    };
    Ok(export::bundle(&input, &ExportOptions::default()).objects)
}

/// The document without its `modified` (what "the same content" compares).
fn content(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("modified");
    }
    v
}

/// STIX timestamp, milliseconds.
fn stix_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The versions to add for `objects` given each id's newest stored version (`newest`):
/// unchanged objects are left out; a changed one whose `modified` is not later than the
/// stored one's gets the stored one's plus 1 ms. Objects that do not check (which export
/// never makes) are logged and left out.
pub fn plan(objects: Vec<Value>, newest: &HashMap<String, TaxiiObjectRow>) -> Vec<TaxiiNewObject> {
    let mut out = Vec::new();
    for mut o in objects {
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(old) = newest.get(&id) {
            if content(&old.document) == content(&o) {
                continue;
            }
            let has_modified = o.get("modified").is_some();
            let mine = o
                .get("modified")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc));
            if has_modified && mine.is_none_or(|t| t <= old.version) {
                let bumped = old.version + TimeDelta::milliseconds(1);
                if let Some(m) = o.as_object_mut() {
                    m.insert("modified".into(), Value::String(stix_ts(bumped)));
                }
            }
        }
        match check_object(&o) {
            Ok(n) => out.push(n),
            Err((id, _, why)) => {
                tracing::warn!(object = %id, "TAXII incidents: object skipped: {why}")
            }
        }
    }
    out
}

/// The newest stored version of each of `ids` in `incidents`.
fn newest_versions(
    store: &Store,
    ids: &[String],
) -> Result<HashMap<String, TaxiiObjectRow>, StoreError> {
    let mut newest: HashMap<String, TaxiiObjectRow> = HashMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        for r in store.taxii_objects(CollectionKind::Incidents.alias(), chunk, &[])? {
            match newest.get(&r.id) {
                Some(o) if (o.version, o.date_added) >= (r.version, r.date_added) => {}
                _ => {
                    newest.insert(r.id.clone(), r);
                }
            }
        }
    }
    Ok(newest)
}

/// Adds the current objects' new versions to `incidents`; returns how many were added.
pub fn sync(
    store: &Store,
    e: &Engines,
    group: &vigie_incident::GroupOptions,
) -> Result<usize, StoreError> {
    let objects = incident_objects(store, e, group)?;
    let ids: Vec<String> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let newest = newest_versions(store, &ids)?;
    let add = plan(objects, &newest);
    if add.is_empty() {
        return Ok(0);
    }
    let out = store.taxii_add(CollectionKind::Incidents.alias(), &add, None)?;
    Ok(out
        .iter()
        .filter(|o| matches!(o, vigie_store::TaxiiAdded::Added(_)))
        .count())
}

/// Syncs once the engines are loaded, then after incident changes and reloads, until
/// the change channel closes.
pub fn spawn(state: &AppState) -> tokio::task::JoinHandle<()> {
    let store = state.store.clone();
    let mut rx = state.changes.subscribe();
    let mut engines = state.taxii.subscribe_engines();
    // The processor's grouping options (the config was checked before serve started).
    let mut group = vigie_incident::GroupOptions {
        max_assets_per_entity: state.config.incidents.max_assets_per_entity,
        ..Default::default()
    };
    if let Ok(w) = state.config.incident_window() {
        group.window = w;
    }
    tokio::spawn(async move {
        loop {
            let e: Option<Arc<Engines>> = engines.borrow_and_update().clone();
            let started = std::time::Instant::now();
            if let Some(e) = e {
                let (s, g) = (store.clone(), group.clone());
                match tokio::task::spawn_blocking(move || sync(&s, &e, &g)).await {
                    Ok(Ok(n)) if n > 0 => tracing::info!(added = n, "TAXII incidents: synced"),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "TAXII incidents: sync failed"),
                    Err(e) => tracing::warn!(error = %e, "TAXII incidents: sync task failed"),
                }
            }
            // Wait for an incident change or new engines, then gather what follows for
            // a moment.
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(c) if c.kind.starts_with("incident.") => break,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    r = engines.changed() => match r {
                        Ok(()) => break,
                        // The app state is gone: serve is ending.
                        Err(_) => return,
                    },
                }
            }
            // A sync rebuilds every stored incident, so its cost grows with the store:
            // under sustained ingest (an incident change every commit) it took 17 % of
            // serve's CPU (bench/RESULTS.md). Waiting four times as long as it took
            // keeps it under a fifth of one thread, whatever the store's size.
            tokio::time::sleep(DEBOUNCE.max(started.elapsed() * 4)).await;
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                rx.try_recv()
            {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(doc: Value) -> TaxiiObjectRow {
        let n = check_object(&doc).expect("valid");
        TaxiiObjectRow {
            seq: 1,
            id: n.id,
            object_type: n.object_type,
            version: n.version.expect("version"),
            version_text: n.version_text.unwrap_or_default(),
            spec_version: n.spec_version,
            date_added: Utc::now(),
            document: doc,
        }
    }

    fn incident(modified: &str, risk: f64) -> Value {
        json!({"type": "incident", "spec_version": "2.1",
               "id": "incident--6d3b7a47-3bd2-5d8b-9b35-6b4a2e7a1c11",
               "created": "2026-07-01T10:00:00.000Z", "modified": modified,
               "name": "x", "risk": risk})
    }

    #[test]
    fn unchanged_adds_nothing_and_a_change_always_gets_a_later_version() {
        let old = stored(incident("2026-07-01T12:00:00.000Z", 1.0));
        let newest: HashMap<String, TaxiiObjectRow> =
            [(old.id.clone(), old.clone())].into_iter().collect();
        // The same content: nothing to add.
        assert!(plan(vec![incident("2026-07-01T12:00:00.000Z", 1.0)], &newest).is_empty());
        // Changed, same detection times (a decision arrived): 1 ms after the stored one.
        let p = plan(vec![incident("2026-07-01T12:00:00.000Z", 2.0)], &newest);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].document["modified"], "2026-07-01T12:00:00.001Z");
        assert!(p[0].version.expect("version") > old.version);
        // Changed with a later modified of its own: kept as export made it.
        let p = plan(vec![incident("2026-07-01T13:00:00.000Z", 2.0)], &newest);
        assert_eq!(p[0].document["modified"], "2026-07-01T13:00:00.000Z");
        // New object: as it is.
        let p = plan(
            vec![incident("2026-07-01T12:00:00.000Z", 1.0)],
            &HashMap::new(),
        );
        assert_eq!(p[0].document["modified"], "2026-07-01T12:00:00.000Z");
    }

    #[test]
    fn a_cyber_observable_stored_once_is_not_added_again() {
        let sco = json!({"type": "ipv4-addr", "spec_version": "2.1",
                         "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                         "value": "203.0.113.7"});
        let mut row = stored(
            json!({"type": "x", "id": "x--ff26c055-6336-5bc5-b98d-13d6226742dd", "created": "2026-07-01T12:00:00.000Z"}),
        );
        row.id = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd".into();
        row.document = sco.clone();
        let newest: HashMap<String, TaxiiObjectRow> = [(row.id.clone(), row)].into_iter().collect();
        assert!(plan(vec![sco.clone()], &newest).is_empty());
        assert_eq!(plan(vec![sco], &HashMap::new()).len(), 1);
    }
}
