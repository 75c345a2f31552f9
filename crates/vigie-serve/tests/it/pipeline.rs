//! The July 2025 intrusion through the ingest handle: the stored detections are
//! `vigie hunt`'s, the incidents `vigie respond`'s; a replay is all duplicates.

use std::collections::BTreeMap;

use vigie_hunt::{Collect, HuntOptions};
use vigie_sigma::RuleSet;

use super::*;

/// (rule key, source, record) of each detection, with multiplicity (correlation hits
/// have neither source nor record).
type Key = (String, Option<String>, Option<u64>);

fn count(keys: impl IntoIterator<Item = Key>) -> BTreeMap<Key, usize> {
    let mut m = BTreeMap::new();
    for k in keys {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn july2025_gives_hunt_detections_and_respond_incidents() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    let (path, events) = july2025();
    let n = events.len() as u64;
    let mut accepted = 0;
    for chunk in events.chunks(400) {
        let out = submit(&r, "http", chunk.to_vec()).await;
        assert_eq!(out.duplicates, 0);
        accepted += out.accepted;
    }
    assert_eq!(accepted, n);

    // vigie hunt on the same file, with the same rules (and capture on, as respond).
    let load = vigie_hunt::load_options(None, None).expect("load options");
    let (rules, report) = RuleSet::load(&[repo().join("rules")], &load).expect("rules");
    let mapping = vigie_incident::EntityMapping::default();
    let (inputs, errors) = vigie_event::discover(std::slice::from_ref(&path));
    let mut sink = Collect::default();
    let opts = HuntOptions {
        capture: Some(mapping.capture()),
        ..HuntOptions::default()
    };
    vigie_hunt::hunt(&rules, &report, &inputs, errors, &opts, &mut sink).expect("hunt");
    let hunt_keys = count(sink.0.iter().map(|d| {
        (
            rules.meta(d.rule).key.to_string(),
            d.source.as_deref().map(str::to_string),
            d.record,
        )
    }));
    let stored = all_detections(&r);
    let stored_keys = count(stored.iter().map(|d| {
        (
            d.rule_id.clone(),
            d.document["source"].as_str().map(str::to_string),
            d.document["record"].as_u64(),
        )
    }));
    assert!(!hunt_keys.is_empty());
    assert_eq!(stored_keys, hunt_keys, "stored detections = hunt's");

    // vigie respond's incidents on those detections.
    let model = vigie_model::demo();
    let graph = vigie_response::from_model(&model).expect("graph");
    let (index, _) = vigie_model::IdentityIndex::build(&model);
    let attack = vigie_model::derive_attack_edges(&model.index());
    let thresholds = vigie_incident::notify::Thresholds::default();
    let cx = vigie_incident::respond::Context {
        model: &model,
        graph: &graph,
        attack: &attack,
        thresholds: &thresholds,
    };
    let resp = vigie_incident::respond::respond(
        &cx,
        &rules,
        &mapping,
        &index,
        sink.0,
        &Default::default(),
    )
    .expect("respond");
    let want: BTreeMap<String, Vec<String>> = resp
        .incidents
        .iter()
        .map(|d| {
            let c = d
                .incident
                .compromised
                .iter()
                .map(|c| c.asset.clone())
                .collect();
            (d.incident.id.clone(), c)
        })
        .collect();
    let page = r
        .state
        .store
        .incidents(&vigie_store::IncidentQuery {
            limit: 100,
            ..Default::default()
        })
        .expect("incidents");
    let got: BTreeMap<String, Vec<String>> = page
        .items
        .iter()
        .filter(|i| i.state != vigie_store::IncidentState::Merged)
        .map(|i| (i.id.clone(), i.compromised.clone()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(
        got, want,
        "live incidents = respond's (ids, compromised sets)"
    );
    let linked = stored.iter().filter(|d| d.incident_id.is_some()).count();
    assert_eq!(linked, stored.len(), "every detection is in an incident");

    // The same events again: all duplicates, nothing new stored.
    let before = r.state.store.counts().expect("counts");
    let mut dups = 0;
    for chunk in events.chunks(1000) {
        let out = submit(&r, "http", chunk.to_vec()).await;
        assert_eq!(out.accepted, 0);
        dups += out.duplicates;
    }
    assert_eq!(dups, n);
    assert_eq!(r.state.store.counts().expect("counts"), before);
    let metrics = r.state.metrics.render();
    assert!(
        metrics.contains(&format!("vigie_events_in_total{{source=\"http\"}} {n}")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "vigie_events_duplicate_total{{source=\"http\"}} {n}"
        )),
        "{metrics}"
    );
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_within_one_batch_are_counted_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    let e = failed_logon(1, 0, "bob");
    let out = submit(&r, "http", vec![e.clone(), e.clone(), e]).await;
    assert_eq!((out.accepted, out.duplicates), (1, 2));
    assert_eq!(r.state.store.counts().expect("counts").events, 1);
    r.shutdown().await.expect("shutdown");
}
