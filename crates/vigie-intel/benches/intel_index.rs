//! Lookups per second of the typed index (issue 10 point 5: at least 2 M/s per core for
//! IPs and for domains). The index holds 2 M IPv4 addresses + 100 k CIDRs, or 1 M
//! domains; probes mix hits and misses (half each), given as text as events hold them
//! (data sets: `common/mod.rs`).
//!
//! Two probe sets per type: 10 k probes looked up again and again (the index lines they
//! touch stay in cache, as with the repeated addresses and names of real logs), and 1 M
//! distinct probes (nearly every lookup misses the cache: the worst case).
//!
//! `cargo bench -p vigie-intel --bench intel_index` (criterion reports time per
//! lookup; throughput in elements/s). Instructions per lookup, which do not depend on
//! the machine's load: `examples/intel_lookups.rs` under callgrind.

#[path = "common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vigie_intel::indicator::IocType;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("intel_index");
    let mut out = Vec::new();
    for (name, ty) in [
        ("ipv4_2M_addresses_100k_cidrs", IocType::Ipv4),
        ("domain_1M", IocType::Domain),
    ] {
        let (ix, probes) = match ty {
            IocType::Ipv4 => common::ipv4(1_000_000),
            _ => common::domains(1_000_000),
        };
        for n in [10_000usize, 1_000_000] {
            let p = &probes[..n];
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(name, format!("{n}_probes")), p, |b, p| {
                b.iter(|| common::run_lookups(&ix, ty, p, &mut out))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
