//! Bench helper for `bench/exercise-vs-malsim.sh` (not part of the product):
//!
//! - `export-graph MODEL OUT.json`: the attack graph `vigie exercise` samples (every
//!   attack edge with its from/to asset, technique, rule and time-to-compromise
//!   distribution, plus the crown jewels and the attacker's start), as JSON for
//!   `bench/exercise/malsim_run.py`, which builds the same graph as a MAL model;
//!
//! MODEL is a model file, `demo` (the embedded demo operator) or `generate:N[:SEED]` (a
//! generated operator of N assets).
//!
//! cargo run --release -p vigie-sim --example exercise_bench -- export-graph demo /tmp/g.json

use std::error::Error;
use std::path::Path;

use std::time::Instant;

use serde_json::{json, Value};
use vigie_model::{derive_attack_edges, AttackGraph, GenOptions, Model};
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("exercise_bench: {e}");
        std::process::exit(2);
    }
}

fn run(args: &[String]) -> Res<()> {
    match args {
        [cmd, model, out] if cmd == "export-graph" => {
            let model = load_model(model)?;
            let graph = export_graph(&model);
            std::fs::write(out, serde_json::to_vec_pretty(&graph)?)?;
            Ok(())
        }
        [cmd, model, samples, threads, rest @ ..] if cmd == "speed" => {
            // `containment` or `1` (as the bench notes write it); `0` or nothing: without.
            let containment = rest.first().is_some_and(|r| r == "containment" || r == "1");
            speed(
                &load_model(model)?,
                samples.parse()?,
                threads.parse()?,
                containment,
            )
        }
        [cmd, model, jewel, samples, rest @ ..] if cmd == "ttc" => {
            let seed = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(0);
            ttc(&load_model(model)?, jewel, samples.parse()?, seed)
        }
        _ => Err(format!(
            "usage: exercise_bench export-graph MODEL OUT.json | speed MODEL SAMPLES \
             THREADS [containment|1|0] | ttc MODEL JEWEL SAMPLES [SEED] (MODEL: FILE | demo | \
             generate:N[:SEED]); got {args:?}"
        )
        .into()),
    }
}

/// A model file, the embedded demo, or a generated operator.
fn load_model(spec: &str) -> Res<Model> {
    if spec == "demo" {
        return Ok(vigie_model::demo());
    }
    if let Some(rest) = spec.strip_prefix("generate:") {
        let mut parts = rest.split(':');
        let assets: usize = parts.next().unwrap_or("").parse()?;
        let seed: u64 = parts.next().map(str::parse).transpose()?.unwrap_or(1);
        return Ok(vigie_model::generate_model(GenOptions::new(assets, seed)));
    }
    vigie_model::load(Path::new(spec)).map_err(|d| {
        let first = d.first().map(|d| d.to_string()).unwrap_or_default();
        format!("{spec}: {} problem(s), first: {first}", d.len()).into()
    })
}

/// The attack graph as JSON: nodes are the assets (by index) then the Internet.
fn export_graph(model: &Model) -> Value {
    let g: AttackGraph = derive_attack_edges(&model.index());
    let mut nodes: Vec<&str> = model.assets.iter().map(|a| a.id.as_str()).collect();
    nodes.push("internet");
    let crown: Vec<&str> = model
        .assets
        .iter()
        .filter(|a| a.crown_jewel)
        .map(|a| a.id.as_str())
        .collect();
    let edges: Vec<Value> = g
        .edges
        .iter()
        .map(|e| {
            let t = g.ttc_dist(e);
            json!({
                "from": e.from,
                "to": e.to,
                "technique": g.technique(e),
                "rule": e.rule.as_str(),
                "ttc": {
                    "dist": t.dist,
                    "mean_hours": t.mean_hours,
                    "cv": t.cv(),
                    "p_success": t.p_success(),
                },
            })
        })
        .collect();
    json!({
        "nodes": nodes,
        "internet": g.internet,
        "crown_jewels": crown,
        "edges": edges,
    })
}

fn exercise(model: &Model, samples: u64, threads: usize, containment: bool) -> Res<Exercise> {
    let dm = DetectionModel::build(model, None, &DetectionTable::embedded());
    let cfg = SimConfig {
        samples,
        threads: Some(threads),
        containment,
        ..SimConfig::default()
    };
    Ok(Exercise::new(model, &dm, &cfg)?)
}

/// Samples/s of `Exercise::run` (compiling excluded; a 1/10 warm-up run first, which
/// also fills the containment cache as a long run would).
fn speed(model: &Model, samples: u64, threads: usize, containment: bool) -> Res<()> {
    let t0 = Instant::now();
    let warm = exercise(model, (samples / 10).max(1), threads, containment)?;
    let compile_s = t0.elapsed().as_secs_f64();
    warm.run(&|_| {});
    let ex = exercise(model, samples, threads, containment)?;
    let t1 = Instant::now();
    let cpu1 = cpu_s();
    let report = ex.run(&|_| {});
    let wall = t1.elapsed().as_secs_f64();
    let cpu = cpu_s() - cpu1;
    let reached: f64 = report.crown_jewels.iter().map(|j| j.p_reached).sum();
    println!(
        "{}",
        json!({
            "samples": samples,
            "threads": threads,
            "containment": containment,
            "edges": ex.edge_count(),
            "compile_s": compile_s,
            "wall_s": wall,
            "cpu_s": cpu,
            "samples_per_s": samples as f64 / wall,
            "samples_per_cpu_s": samples as f64 / cpu,
            "sum_p_reached": reached,
        })
    );
    Ok(())
}

/// CPU time (user + system) of this process, in seconds: on a shared machine wall-clock
/// times mostly measure the neighbours.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// The jewel's time to compromise over `samples` samples (no containment).
fn ttc(model: &Model, jewel: &str, samples: u64, seed: u64) -> Res<()> {
    let dm = DetectionModel::build(model, None, &DetectionTable::embedded());
    let cfg = SimConfig {
        samples,
        seed,
        containment: false,
        ..SimConfig::default()
    };
    let ex = Exercise::new(model, &dm, &cfg)?;
    let idx = model
        .assets
        .iter()
        .position(|a| a.id == jewel)
        .ok_or_else(|| format!("no asset {jewel}"))? as u32;
    let t0 = Instant::now();
    let times: Vec<f64> = (0..samples)
        .filter_map(|i| {
            let out = ex.sample(i);
            out.reached.iter().find(|r| r.0 == idx).map(|r| r.1)
        })
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    let n = times.len() as f64;
    let mean = times.iter().sum::<f64>() / n;
    let var = times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0);
    println!(
        "{}",
        json!({
            "jewel": jewel,
            "samples": samples,
            "p_reached": n / samples as f64,
            "mean_hours": if n > 0.0 { Some(mean) } else { None },
            "se_hours": if n > 1.0 { Some((var / n).sqrt()) } else { None },
            "wall_s": wall,
        })
    );
    Ok(())
}
