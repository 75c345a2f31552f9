//! Samples per second of the exercise engine (a quick measure; the benchmarks are in
//! `benches/` and `bench/`): `cargo run --release -p vigie-sim --example exercise_speed --
//! [MODEL.yaml|demo|gen:N] [samples] [threads] [containment 0|1] [RULES_DIR]`.

use std::time::Instant;

use sha2::{Digest, Sha256};

use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = match args.first().map(String::as_str) {
        None | Some("demo") => vigie_model::demo(),
        // `gen:N`: what `vigie model generate --assets N --seed 1` writes.
        Some(g) if g.starts_with("gen:") => {
            vigie_model::generate_model(vigie_model::GenOptions::new(g[4..].parse()?, 1))
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            vigie_model::load_str(&text, path, vigie_model::Format::Yaml)
                .map_err(|d| format!("{path}: {:?}", d.first()))?
                .model
        }
    };
    let samples: u64 = args.get(1).map_or(Ok(100_000), |s| s.parse())?;
    let threads: usize = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let containment = args.get(3).is_none_or(|s| s != "0");
    let t0 = Instant::now();
    // Rules directory in the 5th argument (default: none loaded).
    let rules = match args.get(4) {
        Some(dir) => Some(
            vigie_sigma::RuleSet::load(
                &[std::path::PathBuf::from(dir)],
                &vigie_sigma::LoadOptions::default(),
            )?
            .0,
        ),
        None => None,
    };
    let dm = DetectionModel::build(&model, rules.as_ref(), &DetectionTable::embedded());
    let cfg = SimConfig {
        samples,
        threads: Some(threads),
        containment,
        ..SimConfig::default()
    };
    let ex = Exercise::new(&model, &dm, &cfg)?;
    let compile = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let r = ex.run(&|_| {});
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "assets {} edges {} compile {:.3} s; {} samples on {} threads (containment {}) in {:.3} s: {:.0} samples/s",
        model.assets.len(),
        ex.edge_count(),
        compile,
        samples,
        threads,
        containment,
        secs,
        samples as f64 / secs
    );
    println!(
        "distinct sets priced (compromised, destroyed): {:?}",
        ex.cache_sizes()
    );
    println!(
        "detected {:.3}; jewels reached max {:.3}; mean customer-hours {:?}",
        r.ttd_hours.p_detected,
        r.crown_jewels
            .iter()
            .map(|j| j.p_reached)
            .fold(0.0, f64::max),
        r.customer_hours.as_ref().map(|c| c.mean)
    );
    // Digests of the whole report and of the first samples run alone (the full-horizon
    // path): speed work must leave both unchanged for the same arguments.
    let report = sha256_hex(&serde_json::to_vec(&r)?);
    let mut h = Sha256::new();
    for i in 0..samples.min(200) {
        h.update(serde_json::to_vec(&ex.sample(i))?);
    }
    println!(
        "report sha256 {report}; samples 0..200 sha256 {:x}",
        h.finalize()
    );
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
