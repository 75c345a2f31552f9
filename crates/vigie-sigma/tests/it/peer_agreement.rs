//! Cross-check with an independent implementation (rsigma): on process creation events
//! and the SigmaHQ process_creation rules (so logsource routing plays no part), both
//! engines must fire the same rules on every event.

use crate::synth;

use std::collections::BTreeSet;

use vigie_event::Event;
use vigie_sigma::{LoadOptions, RuleSet};
use vigie_test_support::shared;

/// Loads one SigmaHQ folder in both engines and compares them on the synthetic events
/// with the given EventID.
fn agree(folder: &str, event_id: u64, min_matches: usize) {
    let dir = shared().join("sigma/rules/windows").join(folder);
    let (rs, rep) = RuleSet::load(std::slice::from_ref(&dir), &LoadOptions::default()).unwrap();
    assert!(rep.refused.is_empty());
    let coll = rsigma_parser::parse_sigma_directory(&dir).unwrap();
    let mut engine = rsigma_eval::Engine::new();
    assert!(engine.add_rules(coll.rules.iter()).is_empty());

    let docs: Vec<_> = synth::events(20000, 7)
        .into_iter()
        .filter(|d| d["EventID"] == event_id)
        .collect();
    let mut m = rs.matcher();
    let mut out = Vec::new();
    let mut diffs = Vec::new();
    let mut total = 0;
    for (i, d) in docs.iter().enumerate() {
        let ev = Event::new("synth".into(), i as u64, d.clone());
        out.clear();
        m.scan(&ev, &mut out);
        let ours: BTreeSet<String> = out
            .iter()
            .map(|x| rs.meta(x.rule).id.clone().unwrap_or_default())
            .collect();
        let theirs: BTreeSet<String> = engine
            .evaluate(&rsigma_eval::event::JsonEvent::borrow(d))
            .into_iter()
            .map(|r| r.header.rule_id.unwrap_or_default())
            .collect();
        total += ours.len();
        if ours != theirs {
            diffs.push((
                d.clone(),
                ours.difference(&theirs).cloned().collect::<Vec<_>>(),
                theirs.difference(&ours).cloned().collect::<Vec<_>>(),
            ));
        }
    }
    assert!(
        total >= min_matches,
        "{folder}: too few matches to compare: {total}"
    );
    assert!(
        diffs.is_empty(),
        "{folder}: {} of {} events differ, first: {:#?}",
        diffs.len(),
        docs.len(),
        &diffs[..diffs.len().min(3)]
    );
}

#[test]
fn same_rules_fire_as_rsigma_on_process_creation() {
    agree("process_creation", 1, 100);
}

#[test]
fn same_rules_fire_as_rsigma_on_other_sysmon_events() {
    agree("network_connection", 3, 10);
    agree("image_load", 7, 0);
    agree("file/file_event", 11, 0);
    agree("registry/registry_set", 13, 0);
    agree("dns_query", 22, 0);
}
