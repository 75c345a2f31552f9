//! Scale check: generate an operator of N assets to a file, load it back, derive its attack
//! edges; print times, sizes and peak memory.
//!
//! cargo run --release -p vigie-model --example scale -- 1000000 /tmp/op-1m.json

use std::time::Instant;

use vigie_model::{derive_attack_edges, generate, load, Format, GenOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().unwrap_or_else(|| "1000000".into()).parse()?;
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/vigie-scale.json".into());
    if std::env::var("PIECES").is_ok() {
        return pieces(&path);
    }
    let format = Format::detect(Some(std::path::Path::new(&path)), "");

    let t = Instant::now();
    let c = cpu_s();
    let file = std::fs::File::create(&path)?;
    let sum = generate(GenOptions::new(n, 1), format, file)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "generate: {} assets, {} zones, {} flows, {} services, {} segments -> {:.1} MiB in {:.2}s",
        sum.assets,
        sum.zones,
        sum.flows,
        sum.services,
        sum.segments,
        size as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
    println!("  cpu {:.2}s", cpu_s() - c);

    let t = Instant::now();
    let c = cpu_s();
    let model = match load(&path) {
        Ok(m) => m,
        Err(d) => {
            for x in d.iter().take(10) {
                eprintln!("{x}");
            }
            return Err("invalid".into());
        }
    };
    println!(
        "load+validate: {:.2}s, cpu {:.2}s (peak RSS {:.0} MiB)",
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
        peak_rss_mib()
    );

    let t = Instant::now();
    let c = cpu_s();
    let ix = model.index();
    let index_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let g = derive_attack_edges(&ix);
    println!("  index+derive cpu {:.2}s", cpu_s() - c);
    println!(
        "index: {:.2}s; derive: {} edges ({} flow sets) in {:.2}s; peak RSS {:.0} MiB",
        index_s,
        g.edges.len(),
        g.flowsets.len(),
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    for (r, c) in g.count_by_rule() {
        println!("  {:<18} {c}", r.as_str());
    }
    Ok(())
}

#[allow(dead_code)]
fn pieces(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let text = std::fs::read_to_string(path)?;
    println!("read {:.2}s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let m: vigie_model::Model = if path.ends_with(".yaml") {
        let limits = vigie_model::tree::Limits::default();
        let root = vigie_model::tree::parse_yaml(&text, &limits)
            .map_err(|e| format!("{} YAML error(s), first: {:?}", e.len(), e.first()))?;
        vigie_model::de::from_node(&root)?
    } else {
        serde_json::from_str(&text)?
    };
    println!("parse {:.2}s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let d = vigie_model::validate(&m);
    println!(
        "validate {:.2}s ({} diags)",
        t.elapsed().as_secs_f64(),
        d.len()
    );
    Ok(())
}
