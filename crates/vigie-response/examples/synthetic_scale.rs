//! Times assess / contain / restore on a synthetic graph built directly (no model file):
//! `cargo run --release -p vigie-response --example synthetic_scale -- 1000000`.
//! The real end-to-end benchmark is bench/model-scale.sh (generator + CLI).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigie_response::contain::{contain, ContainRequest};
use vigie_response::graph::{GraphBuilder, Member, NodeKind, Target};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let t = Instant::now();
    let mut b = GraphBuilder::new(48.0);
    let zone = 1000usize;
    let zones = n.div_ceil(zone);
    b.reserve(n, n * 10);
    let kinds = [
        NodeKind::Host,
        NodeKind::Host,
        NodeKind::Application,
        NodeKind::Database,
        NodeKind::Account,
    ];
    for i in 0..n {
        let k = kinds[i % kinds.len()];
        b.node(&format!("a{i}"), k, i % 50_000 == 3, 4.0);
        if k == NodeKind::Application {
            b.set_runs_on(i as u32, (i - 2) as u32);
        }
    }
    let flows: Vec<u32> = (0..zones * 3).map(|f| b.flow(&format!("f{f}"))).collect();
    let nsvc = zones;
    for s in 0..nsvc {
        let id = b.service(&format!("s{s}"), "", 1.0);
        let base = s * zone;
        let app = |j: usize| Member::Node(((base + j * 5 + 2) % n) as u32);
        b.dep(id, true, 1, vec![app(0), app(1)]);
        b.dep(id, true, 1, vec![Member::Node(((base + 3) % n) as u32)]);
        for k in 0..3 {
            b.flow_service(flows[s * 3 + k], id);
        }
    }
    // Stress: every asset matters to some service (groups of 50, 48 of which must be up).
    let dense = std::env::args().nth(2).is_some_and(|a| a == "dense");
    let mut extra = Vec::new();
    if dense {
        for (c, chunk) in (0..n as u32).collect::<Vec<_>>().chunks(50).enumerate() {
            let id = b.service(&format!("d{c}"), "", 2.0);
            let k = chunk
                .len()
                .saturating_sub(if std::env::args().nth(3).is_some() {
                    0
                } else {
                    2
                })
                .max(1) as u32;
            b.dep(
                id,
                true,
                k,
                chunk.iter().map(|&x| Member::Node(x)).collect(),
            );
            extra.push(id);
        }
    }
    for g in 0..5 {
        let mut uses: Vec<(u32, f64)> = (0..nsvc)
            .filter(|s| s % 5 == g)
            .map(|s| (s as u32, 0.5))
            .collect();
        uses.extend(
            extra
                .iter()
                .filter(|&&s| s as usize % 5 == g)
                .map(|&s| (s, 0.1)),
        );
        b.segment(&format!("g{g}"), "", 1_000_000, 1.0, uses);
    }
    // ~10 edges per asset: same-zone exploits to a few vulnerable assets per zone, cross-zone
    // exploits over flows, credentials and admin rights.
    for z in 0..zones {
        let base = z * zone;
        let size = zone.min(n - base);
        for v in 0..8 {
            let target = base + rng.gen_range(0..size);
            for a in 0..size {
                if base + a != target {
                    b.edge((base + a) as u32, target as u32, "T1210", 24.0, &[]);
                }
            }
            let _ = v;
        }
        for k in 0..3 {
            let from = rng.gen_range(0..zones) * zone;
            let target = base + rng.gen_range(0..size);
            for a in (0..zone).step_by(10) {
                if from + a < n {
                    b.edge(
                        (from + a) as u32,
                        target as u32,
                        "T1210",
                        12.0,
                        &[flows[z * 3 + k]],
                    );
                }
            }
        }
        for a in (0..size).step_by(5) {
            let host = base + a;
            let acct = base + (a + 4) % size;
            if acct < n {
                b.edge(host as u32, acct as u32, "T1003", 1.0, &[]);
                let adm = base + rng.gen_range(0..size);
                b.edge(acct as u32, adm as u32, "T1021", 0.5, &[flows[z * 3 + 1]]);
            }
        }
    }
    println!("builder filled in {:.2}s", t.elapsed().as_secs_f64());
    let t2 = Instant::now();
    let g = b.build().expect("valid");
    println!("build() {:.2}s", t2.elapsed().as_secs_f64());
    println!(
        "built {} nodes {} edges in {:.2}s",
        g.node_count(),
        g.edge_count(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let r = vigie_response::assess::assess(&g, &[0], 0).expect("assess");
    println!(
        "assess: reach {} in {:.3}s",
        r.reachable_count,
        t.elapsed().as_secs_f64()
    );
    // Protect the assets reached last (the deepest ones) and a few in between.
    let protect: Vec<u32> = r
        .reachable
        .iter()
        .rev()
        .step_by(r.reachable.len().max(1) / 7 + 1)
        .filter_map(|x| g.node(&x.id))
        .collect();
    println!("protect {} assets", protect.len());
    let t = Instant::now();
    let r = contain(
        &g,
        &ContainRequest {
            compromised: vec![0],
            protect: Some(protect),
            ..Default::default()
        },
    )
    .expect("contain");
    println!(
        "contain: {:.3}s optimal {} cost {:.0} (lb {:.0}) vs everything {:.0}; {:?}",
        t.elapsed().as_secs_f64(),
        r.optimality.optimal,
        r.plan.as_ref().map_or(f64::NAN, |p| p.customer_hours),
        r.optimality.lower_bound,
        r.isolate_everything.customer_hours,
        r.search
    );
    let t = Instant::now();
    let r = vigie_response::restore::restore(&g, &[Target::Node(0), Target::Node(3)], None)
        .expect("restore");
    println!(
        "restore: {:.3}s, {} customer-hours",
        t.elapsed().as_secs_f64(),
        r.customer_hours
    );
}
