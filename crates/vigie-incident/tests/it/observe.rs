//! Detections through the one session with capture on, observed: rule key, title,
//! level, ATT&CK tags and resolved entities; the correlation hit included.

use vigie_event::{read_input, Event, ReadOptions};
use vigie_hunt::{CorrelationOrder, DetectionSession, SessionOptions};
use vigie_incident::{attack_tags, observe, EntityKind, EntityMapping, Role, TACTICS};
use vigie_model::IdentityIndex;
use vigie_sigma::{LoadOptions, RuleSet};

fn sample_events() -> Vec<Event> {
    let path = vigie_test_support::repo_root().join("samples/intrusion.jsonl");
    let (inputs, errors) = vigie_event::discover(&[path]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut events = Vec::new();
    read_input(
        &inputs[0],
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| panic!("{e}"),
    )
    .expect("read sample");
    events
}

#[test]
fn the_sample_intrusion_is_observed() {
    let (rules, _) = RuleSet::load(
        &[vigie_test_support::repo_root().join("rules")],
        &LoadOptions::default(),
    )
    .expect("rules");
    let mapping = EntityMapping::default();
    let opts = SessionOptions {
        correlation_order: CorrelationOrder::EventTime,
        capture: Some(mapping.capture()),
        ..SessionOptions::default()
    };
    let mut session = DetectionSession::new(&rules, &opts);
    let mut out = Vec::new();
    for ev in &sample_events() {
        session.push(ev, &mut out);
    }
    session.finish(&mut out);
    let index = IdentityIndex::default();
    let observed: Vec<_> = out
        .iter()
        .map(|d| observe(d.clone(), rules.meta(d.rule), &mapping, &index))
        .collect();
    assert!(observed.len() >= 10, "{}", observed.len());
    for o in &observed {
        let meta = rules.meta(o.detection.rule);
        assert_eq!(o.rule_key, &*meta.key);
        assert_eq!(o.rule_title, meta.title);
        assert_eq!(o.level, meta.level);
        assert!(!o.techniques.is_empty(), "{}: no technique", o.rule_title);
        assert!(o.entities.iter().all(|r| r.asset.is_none()));
        if o.detection.is_correlation() {
            // Grouped by TargetUserName: the account guessed at.
            assert!(
                o.entities
                    .iter()
                    .any(|r| (r.entity.kind, r.entity.role) == (EntityKind::Account, Role::Target)),
                "{:?}",
                o.entities
            );
            assert_eq!(o.tactics, vec!["credential-access"]);
            assert_eq!(o.techniques, vec!["T1110"]);
        } else {
            // Every sample event is logged by a host.
            assert!(
                o.entities
                    .iter()
                    .any(|r| (r.entity.kind, r.entity.role) == (EntityKind::Host, Role::Host)),
                "{}: {:?}",
                o.rule_title,
                o.entities
            );
        }
    }
    assert!(observed.iter().any(|o| o.detection.is_correlation()));
    // Deterministic: the same detections give the same entities.
    let again: Vec<_> = out
        .iter()
        .map(|d| observe(d.clone(), rules.meta(d.rule), &mapping, &index).entities)
        .collect();
    let first: Vec<_> = observed.iter().map(|o| o.entities.clone()).collect();
    assert_eq!(first, again);
}

#[test]
fn attack_tags_give_techniques_and_tactics() {
    let tags: Vec<String> = [
        "attack.execution",
        "attack.t1059.001",
        "attack.T1003",
        "attack.credential_access",
        "attack.credential-access",
        "attack.t1059.001",
        "attack.g0016",
        "attack.s0002",
        "attack.t105",
        "attack.t1059.01",
        "car.2013-05-004",
        "cve.2021-44228",
        "attack.lateral-movement",
        "attack.initial-access",
        "tlp.white",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (techniques, tactics) = attack_tags(&tags);
    assert_eq!(techniques, vec!["T1003", "T1059.001"]);
    // Kill-chain order, whatever the tag order.
    assert_eq!(
        tactics,
        vec![
            "initial-access",
            "execution",
            "credential-access",
            "lateral-movement"
        ]
    );
    let all: Vec<String> = TACTICS.iter().map(|t| format!("attack.{t}")).collect();
    assert_eq!(attack_tags(&all).1, TACTICS.to_vec());
    assert_eq!(TACTICS.len(), 14);
    // The tag list and the generated ATT&CK table agree on names and kill-chain order.
    let table: Vec<&str> = vigie_incident::attack::tactics().map(|t| t.short).collect();
    assert_eq!(table, TACTICS.to_vec());
}
