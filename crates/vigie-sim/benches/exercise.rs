//! Throughput of `vigie exercise`'s engine (issue 11, point 8), samples/s:
//!
//! - `demo/no-containment/threads=N` and `demo/containment/threads=N`: the demo operator
//!   (235 assets, 572 attack edges), N = 1 and 2 worker threads; with containment the
//!   plan and restore prices are cached by compromised set (the cache is warm after the
//!   first iteration, as in a long run). Targets on 2 cores: >= 100,000 samples/s without
//!   containment, >= 20,000 with it; 2 threads >= 1.7x 1 thread.
//! - `generated-100k/no-containment/threads=2`: a generated operator of 100,000 assets
//!   (`vigie_model::generate_model`, seed 1). Target: >= 100 samples/s.
//!
//! No rules are loaded: the detection model is the embedded table's EDR and baseline
//! only (rules change detection probabilities, not the work per step).
//!
//! cargo bench -p vigie-sim --bench exercise [-- FILTER]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vigie_model::{GenOptions, Model};
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};

fn exercise(model: &Model, samples: u64, threads: usize, containment: bool) -> Exercise {
    let dm = DetectionModel::build(model, None, &DetectionTable::embedded());
    let cfg = SimConfig {
        samples,
        threads: Some(threads),
        containment,
        ..SimConfig::default()
    };
    match Exercise::new(model, &dm, &cfg) {
        Ok(ex) => ex,
        Err(e) => panic!("exercise does not compile: {e}"),
    }
}

fn demo(c: &mut Criterion) {
    let model = vigie_model::demo();
    let mut g = c.benchmark_group("demo");
    for (name, containment, samples) in [
        ("no-containment", false, 20_000u64),
        ("containment", true, 5_000),
    ] {
        g.throughput(Throughput::Elements(samples));
        for threads in [1usize, 2] {
            let ex = exercise(&model, samples, threads, containment);
            g.bench_with_input(
                BenchmarkId::new(name, format!("threads={threads}")),
                &ex,
                |b, ex| b.iter(|| ex.run(&|_| {})),
            );
        }
    }
    g.finish();
}

fn generated(c: &mut Criterion) {
    let model = vigie_model::generate_model(GenOptions::new(100_000, 1));
    let samples = 50u64;
    let mut g = c.benchmark_group("generated-100k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(samples));
    let ex = exercise(&model, samples, 2, false);
    g.bench_with_input(
        BenchmarkId::new("no-containment", "threads=2"),
        &ex,
        |b, ex| b.iter(|| ex.run(&|_| {})),
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_secs(1));
    targets = demo, generated
}
criterion_main!(benches);
