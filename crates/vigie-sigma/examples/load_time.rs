//! Rule loading time: loads the given rule directories `ROUNDS` times (default 5) and
//! prints the best and median wall time and the rule count; for profiling the loader
//! (`valgrind --tool=callgrind target/release/examples/load_time DIR`).
//!
//! `cargo run --release -p vigie-sigma --example load_time -- DIR... [-n ROUNDS] [-j THREADS]
//! [--cache DIR]` (with `--cache`, the first round fills the cache and is left out of the
//! figures: the others are warm loads).

use std::path::PathBuf;
use std::time::Instant;

use vigie_sigma::{LoadOptions, RuleSet};

fn main() {
    let mut dirs = Vec::new();
    let mut rounds = 5usize;
    let mut threads = 0usize;
    let mut cache = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-n" {
            rounds = args.next().and_then(|s| s.parse().ok()).unwrap_or(rounds);
        } else if a == "-j" {
            threads = args.next().and_then(|s| s.parse().ok()).unwrap_or(threads);
        } else if a == "--cache" {
            cache = args.next().map(PathBuf::from);
        } else {
            dirs.push(PathBuf::from(a));
        }
    }
    if dirs.is_empty() {
        dirs.push(PathBuf::from("../shared/sigma/rules"));
    }
    let warm = cache.is_some();
    let opts = LoadOptions {
        threads,
        cache,
        ..LoadOptions::default()
    };
    let mut times = Vec::new();
    let mut n = 0;
    for round in 0..rounds.max(1) + usize::from(warm) {
        let t = Instant::now();
        let (rs, rep) = match RuleSet::load(&dirs, &opts) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let took = t.elapsed().as_secs_f64();
        n = rs.len();
        if warm && round > 0 && rep.cache != vigie_sigma::CacheStatus::Hit {
            eprintln!("warm round {round}: cache {:?}", rep.cache);
        }
        if !warm || round > 0 {
            times.push(took);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "rules {n} {} best {:.4} s median {:.4} s ({} rounds)",
        if warm { "warm" } else { "cold" },
        times[0],
        times[times.len() / 2],
        times.len()
    );
}
