//! Scale check of identifiers: generate an operator of N assets (streamed to nowhere, as
//! `vigie model generate` does, then in memory), validate it, build its `IdentityIndex`
//! and resolve a million names of every kind; print times and peak memory.
//!
//! cargo run --release -p vigie-model --example identity_scale -- 1000000

use std::hint::black_box;
use std::time::Instant;

use vigie_model::identity::parse_identifier;
use vigie_model::{
    generate, generate_model, validate, Format, GenOptions, Identifier, IdentityIndex,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
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

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (t, c) = (Instant::now(), cpu_s());
    let out = f();
    println!(
        "{what:<30} {:>7.3} s wall {:>7.3} s cpu  (peak RSS {:.0} MiB)",
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
        peak_rss_mib()
    );
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1000000".into())
        .parse()?;
    let bytes = timed("generate (JSON, streamed)", || {
        let mut count = Counter(0);
        generate(GenOptions::new(n, 1), Format::Json, &mut count).map(|_| count.0)
    })?;
    println!("  {:.1} MiB of JSON", bytes as f64 / 1048576.0);
    let model = timed("generate (in memory)", || {
        generate_model(GenOptions::new(n, 1))
    });
    let diags = timed("validate", || validate(&model));
    println!("  {} diagnostics", diags.len());
    let parsed = timed("parse every identifier", || {
        model
            .assets
            .iter()
            .flat_map(|a| &a.identifiers)
            .filter(|t| black_box(parse_identifier(t)).is_ok())
            .count()
    });
    println!("  {parsed} parsed");
    let found = timed("clashes_visiting (validation)", || {
        vigie_model::identity::clashes_visiting(&model, |_, _, _| {}).len()
    });
    println!("  {found} clashes");
    let (ix, clashes) = timed("IdentityIndex::build", || IdentityIndex::build(&model));
    let identifiers: usize = model.assets.iter().map(|a| a.identifiers.len()).sum();
    println!(
        "  {} assets, {identifiers} identifiers, {} clashes",
        model.assets.len(),
        clashes.len()
    );

    // A million names to look up: each kind, taken from assets spread over the model, plus
    // addresses no asset lists (they resolve through the CIDRs).
    let mut queries: Vec<Identifier> = Vec::new();
    let step = (model.assets.len() / 200_000).max(1);
    for a in model.assets.iter().step_by(step) {
        for t in &a.identifiers {
            if let Ok(id) = parse_identifier(t) {
                if let Identifier::Ip(std::net::IpAddr::V4(v4)) = id {
                    queries.push(Identifier::Ip(std::net::IpAddr::V4(
                        (u32::from(v4) ^ 0x3ff).into(),
                    )));
                }
                if let Identifier::Account { user, .. } = &id {
                    queries.push(Identifier::Account {
                        domain: None,
                        user: user.clone(),
                    });
                }
                queries.push(id);
            }
        }
    }
    if queries.is_empty() {
        println!("no identifiers to look up");
        return Ok(());
    }
    let total = 1_000_000;
    let found = timed(&format!("resolve x{total}"), || {
        let mut found = 0usize;
        for q in queries.iter().cycle().take(total) {
            found += usize::from(black_box(ix.resolve(q)).is_some());
        }
        found
    });
    println!(
        "  {found} of {total} resolved ({} distinct queries)",
        queries.len()
    );
    Ok(())
}

/// Counts the bytes written (stands for the file, without the disk).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
