//! Respond's document does not depend on the order detections arrive in: the July 2025
//! story hunted once, its detections fed to respond in several orders, the JSON
//! compared byte for byte (timing aside).

use vigie_hunt::{Collect, HuntOptions};
use vigie_incident::respond::{respond, Context, RespondOptions};
use vigie_incident::EntityMapping;
use vigie_sigma::{LoadOptions, RuleSet};
use vigie_wire::v1::respond::{RespondReport, RespondSource};

fn json_without_timing(r: &RespondReport) -> String {
    let mut r = r.clone();
    r.summary.timing = serde_json::Value::Null;
    serde_json::to_string_pretty(&r).expect("serializes")
}

#[test]
fn detection_order_does_not_change_the_document() {
    let root = vigie_test_support::repo_root();
    let (rules, report) =
        RuleSet::load(&[root.join("rules")], &LoadOptions::default()).expect("rule pack loads");
    let mapping = EntityMapping::default();
    let opts = HuntOptions {
        capture: Some(mapping.capture()),
        threads: 1,
        ..HuntOptions::default()
    };
    let (files, errors) = vigie_event::discover(&[root.join("samples/july2025.jsonl")]);
    let mut sink = Collect::default();
    let summary =
        vigie_hunt::hunt(&rules, &report, &files, errors, &opts, &mut sink).expect("hunts");
    let detections = sink.0;
    assert!(detections.len() > 10, "the story has detections");

    let model = vigie_model::demo();
    let graph = vigie_response::from_model(&model).expect("demo graph");
    let attack = vigie_model::derive_attack_edges(&model.index());
    let (index, clashes) = vigie_model::IdentityIndex::build(&model);
    assert!(clashes.is_empty());
    let thresholds = vigie_incident::notify::Thresholds::default();
    let cx = Context {
        model: &model,
        graph: &graph,
        attack: &attack,
        thresholds: &thresholds,
    };
    let digest = vigie_model::digest(&model);
    let run = |d: Vec<vigie_hunt::Detection>| {
        let r = respond(&cx, &rules, &mapping, &index, d, &RespondOptions::default())
            .expect("responds");
        json_without_timing(&RespondReport::from_engine(&RespondSource {
            model_digest: &digest,
            rules: &rules,
            respond: &r,
            hunt: &summary,
        }))
    };
    let given = run(detections.clone());
    assert!(
        given.contains("\"compromised\": [\n        \""),
        "a decided incident"
    );
    let mut reversed = detections.clone();
    reversed.reverse();
    assert_eq!(run(reversed), given, "reversed");
    let mut rotated = detections.clone();
    rotated.rotate_left(detections.len() / 3);
    assert_eq!(run(rotated), given, "rotated");
    // Interleaved: odd positions first, then even.
    let (odd, even): (Vec<_>, Vec<_>) = detections
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let interleaved = odd.into_iter().chain(even).map(|(_, d)| d).collect();
    assert_eq!(run(interleaved), given, "interleaved");
}
