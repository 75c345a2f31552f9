//! Keeps the `incidents` collection current: at start and after every incident change
//! (the live change channel, debounced), the STIX objects of serve's incidents
//! ([`incident_objects`], the one function that says what they are) are added to the
//! collection; a version already there is a duplicate and stays as it was, so only what
//! changed gets a new version (`modified` follows the incident's `updated_at`).

use std::time::Duration;

use serde_json::{json, Value};
use vigie_store::{rfc3339, IncidentQuery, IncidentRow, Store, StoreError};

use super::handlers::check_object;
use super::CollectionKind;
use crate::state::AppState;

/// How long changes are gathered before one sync.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// UUIDv5 namespace of the interim incident ids (UUIDv5 of `urn:vigie:taxii:incident` in
/// the URL namespace).
const INCIDENT_NS: uuid::Uuid = uuid::Uuid::from_u128(0xc55cd5d6_5d33_5372_b17b_4107c7adaed2);

/// STIX 2.1 TLP:AMBER (the specification's predefined marking definition).
const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

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

/// The STIX objects of the `incidents` collection now (the switch: the export helper's
/// `vigie_intel::export::bundle` replaces the interim body once it lands).
///
/// Interim: one STIX 2.1 `incident` per stored incident, deterministic id (UUIDv5 of the
/// incident id), `created` = opened, `modified` = last updated, TLP:AMBER, and nothing
/// internal (no host, account or address: severity, state and counts only).
pub fn incident_objects(store: &Store) -> Result<Vec<Value>, StoreError> {
    let mut objects = Vec::new();
    for i in all_incidents(store)? {
        let id = uuid::Uuid::new_v5(&INCIDENT_NS, i.id.as_bytes());
        let state = serde_json::to_value(i.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        objects.push(json!({
            "type": "incident",
            "spec_version": "2.1",
            "id": format!("incident--{id}"),
            "created": rfc3339(i.opened_at),
            "modified": rfc3339(i.updated_at.max(i.opened_at)),
            "name": format!("vigie incident {}", i.id),
            "description": format!(
                "Severity {}, {} detections, {} compromised assets, state {state}",
                i.severity,
                i.detection_count,
                i.compromised.len()
            ),
            "object_marking_refs": [TLP_AMBER],
        }));
    }
    Ok(objects)
}

/// Adds the current objects' new versions to `incidents`; returns how many were added.
pub fn sync(store: &Store) -> Result<usize, StoreError> {
    let mut objects = Vec::new();
    for o in incident_objects(store)? {
        match check_object(&o) {
            Ok(n) => objects.push(n),
            Err((id, _, why)) => {
                tracing::warn!(object = %id, "TAXII incidents: object skipped: {why}")
            }
        }
    }
    let out = store.taxii_add(CollectionKind::Incidents.alias(), &objects, None)?;
    Ok(out
        .iter()
        .filter(|o| matches!(o, vigie_store::TaxiiAdded::Added(_)))
        .count())
}

/// Syncs at start, then after incident changes until the change channel closes.
pub fn spawn(state: &AppState) -> tokio::task::JoinHandle<()> {
    let store = state.store.clone();
    let mut rx = state.changes.subscribe();
    tokio::spawn(async move {
        loop {
            let s = store.clone();
            match tokio::task::spawn_blocking(move || sync(&s)).await {
                Ok(Ok(n)) if n > 0 => tracing::info!(added = n, "TAXII incidents: synced"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "TAXII incidents: sync failed"),
                Err(e) => tracing::warn!(error = %e, "TAXII incidents: sync task failed"),
            }
            // Wait for an incident change, then gather what follows it for a moment.
            loop {
                match rx.recv().await {
                    Ok(c) if c.kind.starts_with("incident.") => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
            tokio::time::sleep(DEBOUNCE).await;
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                rx.try_recv()
            {}
        }
    })
}
