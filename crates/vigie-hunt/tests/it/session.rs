//! The streaming session on its own: pushing events one at a time gives what the file
//! pipeline gives, correlation hits come out live in arrival order, and the counts add
//! up.

use std::path::PathBuf;
use std::sync::Arc;

use vigie_event::{read_input, Event, ReadOptions};
use vigie_hunt::{
    hunt, Capture, Collect, CorrelationOrder, DetectionSession, HuntOptions, SessionOptions,
};
use vigie_sigma::{Level, LoadOptions, RuleSet};

fn repo() -> PathBuf {
    vigie_test_support::repo_root()
}

fn sample_events() -> Vec<Event> {
    let path = repo().join("samples/intrusion.jsonl");
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

fn rules() -> (RuleSet, vigie_sigma::LoadReport) {
    RuleSet::load(&[repo().join("rules")], &LoadOptions::default()).expect("rules")
}

/// (rule key, source, record, correlation) of each detection, in order.
fn keys(rules: &RuleSet, ds: &[vigie_hunt::Detection]) -> Vec<(String, Option<u64>, bool)> {
    ds.iter()
        .map(|d| {
            (
                rules.meta(d.rule).key.to_string(),
                d.record,
                d.is_correlation(),
            )
        })
        .collect()
}

#[test]
fn pushing_events_gives_what_the_pipeline_gives() {
    let (rules, report) = rules();
    let events = sample_events();
    let opts = SessionOptions {
        correlation_order: CorrelationOrder::Arrival,
        ..SessionOptions::default()
    };
    let mut session = DetectionSession::new(&rules, &opts);
    let mut pushed = Vec::new();
    for ev in &events {
        session.push(ev, &mut pushed);
    }
    let (counts, stats) = session.finish(&mut pushed);
    assert_eq!(counts.events, events.len() as u64);

    let (inputs, errors) = vigie_event::discover(&[repo().join("samples/intrusion.jsonl")]);
    let mut sink = Collect::default();
    let summary = hunt(
        &rules,
        &report,
        &inputs,
        errors,
        &HuntOptions::default(),
        &mut sink,
    )
    .expect("hunt");
    // The sample is in time order, so live correlation equals the hunt's time-sorted
    // one; only the position of the hit differs (live: when it fires; hunt: last).
    let mut a = keys(&rules, &pushed);
    let mut b = keys(&rules, &sink.0);
    assert!(a.len() >= 10, "{a:?}");
    assert_eq!(counts.correlation_hits, 1);
    assert_eq!(summary.correlation_hits, 1);
    assert_eq!(stats.observations, summary.correlations.stats.observations);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn live_correlation_fires_when_the_threshold_is_crossed() {
    let (rules, _) = rules();
    let events = sample_events();
    let opts = SessionOptions::default();
    let mut session = DetectionSession::new(&rules, &opts);
    let mut out = Vec::new();
    let mut fired_at = None;
    for (i, ev) in events.iter().enumerate() {
        session.push(ev, &mut out);
        if fired_at.is_none() && out.iter().any(|d| d.is_correlation()) {
            fired_at = Some(i);
        }
    }
    // The brute-force burst is early in the sample; the hit is handed out right then,
    // long before the stream ends.
    let at = fired_at.expect("the correlation fires while events are pushed");
    assert!(at + 5 < events.len(), "fired at {at} of {}", events.len());
}

#[test]
fn level_and_window_are_applied_and_counted() {
    let (rules, _) = rules();
    let events = sample_events();
    let from = events
        .iter()
        .filter_map(|e| e.timestamp)
        .nth(20)
        .expect("times");
    let opts = SessionOptions {
        min_level: Some(Level::Critical),
        from: Some(from),
        ..SessionOptions::default()
    };
    let mut session = DetectionSession::new(&rules, &opts);
    let mut out = Vec::new();
    for ev in &events {
        session.push(ev, &mut out);
    }
    let (counts, _) = session.finish(&mut out);
    assert!(!out.is_empty());
    assert!(out
        .iter()
        .all(|d| rules.meta(d.rule).level == Level::Critical));
    assert!(out.iter().all(|d| d.timestamp.is_some_and(|t| t >= from)));
    assert!(counts.below_level > 0);
    assert!(counts.outside_window >= 20);
}

#[test]
fn capture_adds_the_named_fields_and_nothing_else() {
    let (rules, _) = rules();
    let events = sample_events();
    let run = |opts: &SessionOptions| {
        let mut session = DetectionSession::new(&rules, opts);
        let mut out = Vec::new();
        for ev in &events {
            session.push(ev, &mut out);
        }
        session.finish(&mut out);
        out
    };
    let plain = run(&SessionOptions::default());
    let names = ["Computer", "User", "IpAddress", "Image", "NoSuchField"];
    let captured = run(&SessionOptions {
        capture: Some(Arc::new(Capture::new(names))),
        ..SessionOptions::default()
    });
    assert_eq!(keys(&rules, &plain), keys(&rules, &captured));
    assert!(plain.iter().all(|d| d.context.is_empty()));
    let mut with_context = 0;
    for d in &captured {
        if d.is_correlation() {
            assert!(d.context.is_empty(), "a correlation hit has no event");
            continue;
        }
        let ev = events
            .iter()
            .find(|e| Some(e.record) == d.record)
            .expect("the detection's event");
        // Exactly the named fields the event has, each with the event's value.
        let expected: Vec<(&str, &serde_json::Value)> = names
            .iter()
            .filter_map(|n| ev.get(n).map(|v| (*n, v)))
            .collect();
        let mut got: Vec<(&str, &serde_json::Value)> =
            d.context.iter().map(|(k, v)| (&**k, v)).collect();
        got.sort_by_key(|(k, _)| names.iter().position(|n| n == k));
        assert_eq!(got, expected, "record {:?}", d.record);
        with_context += usize::from(!d.context.is_empty());
    }
    assert!(with_context >= 10, "{with_context}");
}
