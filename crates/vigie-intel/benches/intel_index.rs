//! Lookups per second of the typed index (issue 10 point 5: at least 2 M/s per core for
//! IPs and for domains). The index holds 2 M IPv4 addresses + 100 k CIDRs, or 1 M
//! domains; probes mix hits and misses (half each), given as text as events hold them.
//!
//! `cargo bench -p vigie-intel --bench intel_index` (criterion reports time per
//! lookup; throughput in elements/s).

use std::net::Ipv4Addr;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use vigie_intel::feed::{parse_str, Format, LoadOptions};
use vigie_intel::index::IntelIndex;
use vigie_intel::indicator::{DeclaredType, IocType};

/// A small deterministic generator (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn label(r: &mut Rng) -> String {
    let n = 4 + (r.next() % 8) as usize;
    (0..n)
        .map(|_| char::from(b'a' + (r.next() % 26) as u8))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut r = Rng(7);
    // IPv4: 2 M addresses + 100 k networks.
    let mut text = String::with_capacity(40_000_000);
    let mut addrs = Vec::new();
    for _ in 0..2_000_000 {
        let a = Ipv4Addr::from(r.next() as u32);
        addrs.push(a);
        text.push_str(&a.to_string());
        text.push('\n');
    }
    for _ in 0..100_000 {
        let len = 16 + (r.next() % 13) as u8;
        text.push_str(&format!("{}/{len}\n", Ipv4Addr::from(r.next() as u32)));
    }
    let (set, _) = parse_str(
        Format::List,
        &text,
        "ips.txt",
        Some(DeclaredType::One(IocType::Ipv4)),
        &LoadOptions::default(),
    );
    let ix = IntelIndex::build(&set);
    let probes: Vec<String> = (0..10_000)
        .map(|i| {
            if i % 2 == 0 {
                addrs[(r.next() % addrs.len() as u64) as usize].to_string()
            } else {
                Ipv4Addr::from(r.next() as u32).to_string()
            }
        })
        .collect();
    let mut g = c.benchmark_group("intel_index");
    g.throughput(Throughput::Elements(probes.len() as u64));
    let mut out = Vec::new();
    g.bench_function("ipv4_lookup_2M_addresses_100k_cidrs", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in &probes {
                out.clear();
                ix.lookup(IocType::Ipv4, black_box(p), &mut out);
                n += out.len();
            }
            n
        })
    });
    drop(ix);
    drop(set);

    // Domains: 1 M names; probes are sub-domains (2-4 labels deep) of listed names and
    // unlisted names.
    let mut text = String::with_capacity(30_000_000);
    let mut names = Vec::new();
    for _ in 0..1_000_000 {
        let d = format!(
            "{}.{}",
            label(&mut r),
            ["com", "net", "example", "fr"][(r.next() % 4) as usize]
        );
        text.push_str(&d);
        text.push('\n');
        names.push(d);
    }
    let (set, _) = parse_str(
        Format::List,
        &text,
        "domains.txt",
        Some(DeclaredType::One(IocType::Domain)),
        &LoadOptions::default(),
    );
    let ix = IntelIndex::build(&set);
    let probes: Vec<String> = (0..10_000)
        .map(|i| {
            if i % 2 == 0 {
                format!(
                    "{}.{}",
                    label(&mut r),
                    names[(r.next() % names.len() as u64) as usize]
                )
            } else {
                format!("www.{}.{}.org", label(&mut r), label(&mut r))
            }
        })
        .collect();
    g.bench_function("domain_lookup_1M_domains", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in &probes {
                out.clear();
                ix.lookup(IocType::Domain, black_box(p), &mut out);
                n += out.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
