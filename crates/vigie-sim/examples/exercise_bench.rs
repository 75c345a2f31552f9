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

use serde_json::{json, Value};
use vigie_model::{derive_attack_edges, AttackGraph, GenOptions, Model};

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
        _ => Err(format!(
            "usage: exercise_bench export-graph MODEL OUT.json (MODEL: FILE | demo | \
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
