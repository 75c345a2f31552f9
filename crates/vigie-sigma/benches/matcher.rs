//! The matching kernel: all SigmaHQ rules (`rules/`) against a few thousand synthetic
//! Sysmon-like events, one core; vigie and rsigma (the peer) on the same parsed events.
//! Also the load time of the rule set. Needs the shared data (`VIGIE_SHARED`).

#[path = "support/synth.rs"]
mod synth;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie_event::Event;
use vigie_sigma::{LoadOptions, RuleSet};

fn rules_dir() -> PathBuf {
    let shared = std::env::var_os("VIGIE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let d = shared.join("sigma/rules");
    assert!(
        d.is_dir(),
        "SigmaHQ rules not found at {} (set VIGIE_SHARED)",
        d.display()
    );
    d
}

fn bench(c: &mut Criterion) {
    let dir = rules_dir();
    let (rs, _) =
        RuleSet::load(std::slice::from_ref(&dir), &LoadOptions::default()).expect("rules readable");
    let docs = synth::events(3000, 42);
    let evs: Vec<Event> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| Event::new("synth".into(), i as u64, d.clone()))
        .collect();

    let mut g = c.benchmark_group("scan_all_sigmahq_rules");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.sample_size(20);
    g.bench_function("vigie", |b| {
        let mut m = rs.matcher();
        let mut out = Vec::new();
        b.iter(|| {
            for e in &evs {
                m.scan(e, &mut out);
                out.clear();
            }
        })
    });
    let coll = rsigma_parser::parse_sigma_directory(&dir).expect("rsigma parses the rules");
    let mut engine = rsigma_eval::Engine::new();
    let _ = engine.add_rules(coll.rules.iter());
    g.bench_function("rsigma", |b| {
        b.iter(|| {
            for d in &docs {
                std::hint::black_box(engine.evaluate(&rsigma_eval::event::JsonEvent::borrow(d)));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("load_all_sigmahq_rules");
    g.sample_size(10);
    g.bench_function("vigie", |b| {
        b.iter(|| RuleSet::load(std::slice::from_ref(&dir), &LoadOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
