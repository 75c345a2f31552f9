//! Throughput check: all SigmaHQ rules against synthetic Sysmon-like events, one core,
//! vigie and rsigma (the peer) on the same parsed events, interleaved. Time is the
//! thread's CPU time (the machine is shared; wall time would measure the neighbours).
//!
//! `cargo run --release --example throughput -- [rules dir] [events] [rounds]`
//! (`INDEX=1` also prints the literal index; `TOP=1` the rules that fire most).

#[path = "../benches/support/synth.rs"]
mod synth;

use std::path::PathBuf;
use std::time::Instant;

use vigie_event::Event;
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
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);

    let (t, c) = (Instant::now(), cpu_time());
    let (rs, rep) = match RuleSet::load(std::slice::from_ref(&rules), &LoadOptions::default()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    println!(
        "vigie load: {} rules ({} refused) in {:.3}s wall, {:.2}s cpu; {} fields; {} rules not indexed",
        rs.len(),
        rep.refused.len(),
        t.elapsed().as_secs_f64(),
        cpu_time() - c,
        rs.field_names().len(),
        rs.unindexed_rules()
    );
    if std::env::var_os("INDEX").is_some() {
        for (f, n, min) in rs.index_summary() {
            println!("  index {f}: {n} literals, shortest {min}");
        }
        for r in rs.unindexed_rule_ids() {
            let m = rs.meta(r);
            println!("  unindexed: {} ({})", m.title, m.path);
        }
    }

    let skip_peer = std::env::var_os("NO_PEER").is_some();
    let (t, c) = (Instant::now(), cpu_time());
    let coll = if skip_peer {
        rsigma_parser::SigmaCollection::new()
    } else {
        rsigma_parser::parse_sigma_directory(&rules).expect("rsigma parses the rules")
    };
    let mut engine = rsigma_eval::Engine::new();
    let errs = engine.add_rules(coll.rules.iter());
    println!(
        "rsigma load: {} rules ({} errors) in {:.3}s wall, {:.2}s cpu",
        coll.rules.len() - errs.len(),
        errs.len(),
        t.elapsed().as_secs_f64(),
        cpu_time() - c
    );

    let docs = synth::events(n, 42);
    let evs: Vec<Event> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| Event::new("synth".into(), i as u64, d.clone()))
        .collect();
    let mut m = rs.matcher();
    let mut out = Vec::new();
    let mut per_rule = std::collections::BTreeMap::<u32, usize>::new();
    for e in &evs {
        m.scan(e, &mut out);
        for x in &out {
            *per_rule.entry(x.rule.0).or_default() += 1;
        }
        out.clear();
    }
    if std::env::var_os("TOP").is_some() {
        let mut top: Vec<_> = per_rule.into_iter().collect();
        top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        for (r, k) in top.iter().take(12) {
            let meta = rs.meta(vigie_sigma::RuleId(*r));
            println!("  {k:6} {}", meta.title);
        }
    }
    let rsig_hits: usize = docs
        .iter()
        .map(|d| {
            engine
                .evaluate(&rsigma_eval::event::JsonEvent::borrow(d))
                .len()
        })
        .sum();

    let (mut v_cpu, mut r_cpu) = (0.0, 0.0);
    let mut v_hits = 0;
    for round in 0..rounds {
        // Fresh events each round: no event is seen twice (caches see only the
        // repetition that is in the data itself).
        let docs = synth::events(n, 1000 + round as u64);
        let evs: Vec<Event> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| Event::new("synth".into(), i as u64, d.clone()))
            .collect();
        let c = cpu_time();
        for e in &evs {
            m.scan(e, &mut out);
            v_hits += out.len();
            out.clear();
        }
        v_cpu += cpu_time() - c;
        let c = cpu_time();
        for d in &docs {
            let r = engine.evaluate(&rsigma_eval::event::JsonEvent::borrow(d));
            std::hint::black_box(r);
        }
        r_cpu += cpu_time() - c;
    }
    let st = m.stats();
    println!(
        "vigie per event: {:.1} candidates, {:.1} evaluated, {:.2} matches",
        st.candidates as f64 / st.events as f64,
        st.evaluated as f64 / st.events as f64,
        st.matches as f64 / st.events as f64
    );
    let total = (n * rounds) as f64;
    println!(
        "vigie:  {:.0} events/s ({} matches per round)",
        total / v_cpu,
        v_hits / rounds
    );
    println!(
        "rsigma: {:.0} events/s ({} matches on the warm-up set)",
        total / r_cpu,
        rsig_hits
    );
    println!("ratio vigie/rsigma: {:.2}x", r_cpu / v_cpu);
}
