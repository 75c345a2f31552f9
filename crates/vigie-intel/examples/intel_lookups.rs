//! Instruction-count driver of the index lookups (the machine is shared: instructions
//! per lookup hold on an idle core, times do not). Builds the data set of the criterion
//! bench `intel_index` (`benches/common/mod.rs`), then looks PROBES probes up REPS times
//! in `run_lookups`, the only function callgrind collects:
//!
//! ```text
//! cargo build --release -p vigie-intel --example intel_lookups
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_lookups*' \
//!     target/release/examples/intel_lookups ipv4|domain [PROBES [REPS]]
//! ```
//!
//! Instructions per lookup = the total Ir / (PROBES × REPS). Without valgrind it prints
//! the wall-clock rate.

#[path = "../benches/common/mod.rs"]
mod common;

use vigie_intel::indicator::IocType;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ty = match args.get(1).map(String::as_str) {
        Some("ipv4") => IocType::Ipv4,
        Some("domain") => IocType::Domain,
        _ => {
            eprintln!("usage: intel_lookups ipv4|domain [PROBES [REPS]]");
            std::process::exit(2);
        }
    };
    let probes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let (ix, p) = match ty {
        IocType::Ipv4 => common::ipv4(probes),
        _ => common::domains(probes),
    };
    let mut out = Vec::new();
    let t = std::time::Instant::now();
    let mut found = 0;
    for _ in 0..reps {
        found += common::run_lookups(&ix, ty, &p, &mut out);
    }
    let s = t.elapsed().as_secs_f64();
    let n = (probes * reps) as f64;
    println!(
        "{} lookups, {found} indicators found, {:.0} ns/lookup, {:.2} M lookups/s",
        probes * reps,
        s * 1e9 / n,
        n / s / 1e6
    );
}
