//! Entities of the detections over some logs: how many per kind, role and field, and
//! the most frequent values, with the time extraction took. For checking the entity
//! mapping against a corpus.
//!
//! Usage: cargo run -p vigie-incident --example entities -- RULES PATH... [--mapping FILE]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use vigie_event::{discover, read_input, ReadOptions};
use vigie_hunt::{CorrelationOrder, DetectionSession, SessionOptions};
use vigie_incident::{extract, EntityMapping};
use vigie_sigma::{LoadOptions, RuleSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mapping = match args.iter().position(|a| a == "--mapping") {
        Some(i) if i + 1 < args.len() => {
            let path = args.remove(i + 1);
            args.remove(i);
            EntityMapping::load(path)?
        }
        _ => EntityMapping::default(),
    };
    let Some((rules_path, paths)) = args.split_first() else {
        return Err("usage: entities RULES PATH...".into());
    };
    let (rules, _) = RuleSet::load(&[PathBuf::from(rules_path)], &LoadOptions::default())?;
    let opts = SessionOptions {
        correlation_order: CorrelationOrder::EventTime,
        capture: Some(mapping.capture()),
        ..SessionOptions::default()
    };
    let mut session = DetectionSession::new(&rules, &opts);
    let mut detections = Vec::new();
    let (inputs, _) = discover(&paths.iter().map(PathBuf::from).collect::<Vec<_>>());
    for input in &inputs {
        let _ = read_input(
            input,
            &ReadOptions::default(),
            &mut |ev| session.push(&ev, &mut detections),
            &mut |_| {},
        );
    }
    session.finish(&mut detections);
    let t = Instant::now();
    let all: Vec<_> = detections.iter().map(|d| extract(d, &mapping)).collect();
    let took = t.elapsed();
    let mut by_field: BTreeMap<String, u64> = BTreeMap::new();
    let mut values: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in all.iter().flatten() {
        *by_field
            .entry(format!("{:?} {:?} {}", e.kind, e.role, e.field))
            .or_default() += 1;
        *values
            .entry((format!("{:?}", e.kind), e.value.clone()))
            .or_default() += 1;
    }
    let none = all.iter().filter(|es| es.is_empty()).count();
    println!(
        "{} detections, {} entities, {} detections without any, extract {:?}",
        detections.len(),
        all.iter().map(Vec::len).sum::<usize>(),
        none,
        took
    );
    for (k, n) in &by_field {
        println!("{n:7}  {k}");
    }
    let mut top: Vec<_> = values.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((kind, v), n) in top.iter().take(60) {
        println!("{n:7}  {kind} {v}");
    }
    Ok(())
}
