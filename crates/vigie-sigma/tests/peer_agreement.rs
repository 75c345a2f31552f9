//! Cross-check with an independent implementation (rsigma): on process creation events
//! and the SigmaHQ process_creation rules (so logsource routing plays no part), both
//! engines must fire the same rules on every event.

mod common;

#[path = "../benches/support/synth.rs"]
mod synth;

use std::collections::BTreeSet;

use vigie_event::Event;
use vigie_sigma::{LoadOptions, RuleSet};

#[test]
fn same_rules_fire_as_rsigma_on_process_creation() {
    let dir = common::shared().join("sigma/rules/windows/process_creation");
    let (rs, rep) = RuleSet::load(std::slice::from_ref(&dir), &LoadOptions::default()).unwrap();
    assert!(rep.refused.is_empty());
    let coll = rsigma_parser::parse_sigma_directory(&dir).unwrap();
    let mut engine = rsigma_eval::Engine::new();
    assert!(engine.add_rules(coll.rules.iter()).is_empty());

    let docs: Vec<_> = synth::events(6000, 7)
        .into_iter()
        .filter(|d| d["EventID"] == 1)
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
                d["CommandLine"].clone(),
                ours.difference(&theirs).cloned().collect::<Vec<_>>(),
                theirs.difference(&ours).cloned().collect::<Vec<_>>(),
            ));
        }
    }
    assert!(total > 100, "too few matches to compare: {total}");
    assert!(
        diffs.is_empty(),
        "{} of {} events differ, first: {:#?}",
        diffs.len(),
        docs.len(),
        &diffs[..diffs.len().min(5)]
    );
}
