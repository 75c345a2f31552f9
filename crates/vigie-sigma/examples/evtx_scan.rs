//! All SigmaHQ rules over real EVTX files: parse time vs detection time (thread CPU
//! time), matches, and the rules that fire most.
//!
//! `cargo run --release --example evtx_scan -- [rules dir] [evtx dir]`

use std::path::PathBuf;

use vigie_event::{discover, read_input, Event, ReadOptions};
use vigie_sigma::{LoadOptions, RuleSet};

#[path = "../benches/support/cpu.rs"]
mod cpu;
use cpu::cpu_time;

fn main() {
    let mut args = std::env::args().skip(1);
    let rules = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/sigma/rules"));
    let evtx = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/evtx"));
    let (rs, _) = match RuleSet::load(&[rules], &LoadOptions::default()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let (inputs, errs) = discover(&[evtx]);
    let opts = ReadOptions {
        evtx_threads: 1,
        ..ReadOptions::default()
    };
    let mut events: Vec<Event> = Vec::new();
    let mut bad = errs.len();
    let c = cpu_time();
    for i in &inputs {
        if read_input(i, &opts, &mut |e| events.push(e), &mut |_| bad += 1).is_err() {
            bad += 1;
        }
    }
    let parse = cpu_time() - c;
    let mut m = rs.matcher();
    let mut out = Vec::new();
    let mut per_rule = std::collections::BTreeMap::<u32, usize>::new();
    let c = cpu_time();
    for e in &events {
        m.scan(e, &mut out);
        for x in &out {
            *per_rule.entry(x.rule.0).or_default() += 1;
        }
        out.clear();
    }
    let detect = cpu_time() - c;
    // REPEAT=n scans the same records n more times (for profiling the matcher).
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    for _ in 0..repeat {
        for e in &events {
            m.scan(e, &mut out);
            out.clear();
        }
    }
    let total: usize = per_rule.values().sum();
    // EVALS=1: the rules evaluated most (candidates the literal index let through).
    if std::env::var_os("EVALS").is_some() {
        let mut m = rs.matcher();
        let mut cand = std::collections::BTreeMap::<u32, usize>::new();
        for e in &events {
            m.scan(e, &mut out);
            out.clear();
            for &r in m.last_candidates() {
                *cand.entry(r).or_default() += 1;
            }
        }
        let st = m.stats();
        println!(
            "per event: {:.2} candidates, {:.2} evaluated, {:.3} matches",
            st.candidates as f64 / st.events.max(1) as f64,
            st.evaluated as f64 / st.events.max(1) as f64,
            st.matches as f64 / st.events.max(1) as f64
        );
        let mut top: Vec<_> = cand.into_iter().collect();
        top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        for (r, n) in top.iter().take(25) {
            let meta = rs.meta(vigie_sigma::RuleId(*r));
            println!("  candidate {n:7} {} ({})", meta.title, meta.key);
        }
    }
    println!(
        "{} files, {} events ({} read errors): parse {:.2}s cpu, detect {:.2}s cpu ({:.0} events/s); {} matches of {} rules",
        inputs.len(),
        events.len(),
        bad,
        parse,
        detect,
        events.len() as f64 / detect.max(0.01),
        total,
        per_rule.len()
    );
    let mut top: Vec<_> = per_rule.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (r, n) in top.iter().take(15) {
        println!("  {n:6} {}", rs.meta(vigie_sigma::RuleId(*r)).title);
    }
}
