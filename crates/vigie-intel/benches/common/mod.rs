//! The data sets of the index benchmarks (issue 10 point 5), shared by the criterion
//! bench `intel_index` and the instruction-count driver `examples/intel_lookups.rs`:
//! an index of 2 M IPv4 addresses + 100 k CIDRs, or of 1 M domains, built through the
//! plain-list loader, and probes as text (as events hold them), half hits and half
//! misses.
//!
//! Probes: IPv4 hits are listed addresses; misses random addresses (about a fifth of
//! which fall in a listed network: 100 k random /16-/28 cover ~20 % of the space). Domain hits are sub-domains 1 label below
//! a listed name (`x.name.com`, so the suffix walk runs: 3 labels tried); misses
//! `www.a.b.org` names (4 labels tried). A quarter of the domain probes, hits and misses
//! alike, are in upper case (`WWW.EXAMPLE.COM`, as DNS logs and URLs sometimes hold
//! them).

#![allow(dead_code)]

use std::net::Ipv4Addr;

use vigie_intel::feed::{parse_str, Format, LoadOptions};
use vigie_intel::index::IntelIndex;
use vigie_intel::indicator::{DeclaredType, IocType};

/// A small deterministic generator (splitmix64).
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
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

fn index_of(text: &str, file: &str, ty: IocType) -> IntelIndex {
    let (set, _) = parse_str(
        Format::List,
        text,
        file,
        Some(DeclaredType::One(ty)),
        &LoadOptions::default(),
    );
    IntelIndex::build(&set)
}

/// 2 M IPv4 addresses and 100 k networks (/16 to /28), and `probes` probes.
pub fn ipv4(probes: usize) -> (IntelIndex, Vec<String>) {
    let mut r = Rng(7);
    let mut text = String::with_capacity(40_000_000);
    let mut addrs = Vec::with_capacity(2_000_000);
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
    let ix = index_of(&text, "ips.txt", IocType::Ipv4);
    let probes = (0..probes)
        .map(|i| {
            if i % 2 == 0 {
                addrs[(r.next() % addrs.len() as u64) as usize].to_string()
            } else {
                Ipv4Addr::from(r.next() as u32).to_string()
            }
        })
        .collect();
    (ix, probes)
}

/// 1 M domains (one label under com, net, example or fr), and `probes` probes.
pub fn domains(probes: usize) -> (IntelIndex, Vec<String>) {
    let mut r = Rng(11);
    let mut text = String::with_capacity(30_000_000);
    let mut names = Vec::with_capacity(1_000_000);
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
    let ix = index_of(&text, "domains.txt", IocType::Domain);
    let probes = (0..probes)
        .map(|i| {
            let p = if i % 2 == 0 {
                format!(
                    "{}.{}",
                    label(&mut r),
                    names[(r.next() % names.len() as u64) as usize]
                )
            } else {
                format!("www.{}.{}.org", label(&mut r), label(&mut r))
            };
            if i % 8 < 2 {
                p.to_ascii_uppercase()
            } else {
                p
            }
        })
        .collect();
    (ix, probes)
}

/// Look every probe up once; the number of indicators found.
#[inline(never)]
pub fn run_lookups(ix: &IntelIndex, ty: IocType, probes: &[String], out: &mut Vec<u32>) -> usize {
    let mut n = 0;
    for p in probes {
        out.clear();
        ix.lookup(ty, std::hint::black_box(p), out);
        n += out.len();
    }
    n
}
