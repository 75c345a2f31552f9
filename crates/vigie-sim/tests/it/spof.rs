//! `spof` against brute force on random small models with k-of-n redundancy: every N-1
//! figure is a direct `restore` of that element, every N-2 pair a direct `restore` of the
//! two, the screening finds the costliest pairs and every interaction (its guarantee),
//! `auto` is `exhaustive` where it says so, and the report does not depend on threads.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use vigie_response::graph::{Graph, GraphBuilder, Member, NodeKind};
use vigie_response::restore::restore;
use vigie_sim::spof::{
    elements, pairs::interacts, spof, PairMode, PairsReport, SpofConfig, SpofReport,
};

/// 3..=8 assets (some hosted), an Internet node, 2..=5 services over k-of-n groups (often
/// k = n − 1, where pairs interact), service chains and soft dependencies, 0..=3 flows,
/// 1..=3 segments.
fn random_graph(seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = GraphBuilder::new(48.0);
    let n = rng.gen_range(3..=8usize);
    let mut nodes = Vec::new();
    for i in 0..n {
        let kind = [NodeKind::Host, NodeKind::Application, NodeKind::Database][i % 3];
        let r = [0.0, 1.0, 2.0, 4.0, 8.0, 24.0][rng.gen_range(0..6)];
        nodes.push(b.node(&format!("a{i}"), kind, false, r));
    }
    b.node("internet", NodeKind::Internet, false, 0.0);
    for i in 1..n {
        if rng.gen_bool(0.3) {
            b.set_runs_on(nodes[i], nodes[rng.gen_range(0..i)]);
        }
    }
    let ns = rng.gen_range(2..=5usize);
    let mut services = Vec::new();
    for s in 0..ns {
        let svc = b.service(&format!("s{s}"), "", rng.gen_range(0..4) as f64);
        services.push(svc);
        for _ in 0..rng.gen_range(1..=2) {
            let pick = |rng: &mut ChaCha8Rng| -> Member {
                if s > 0 && rng.gen_bool(0.3) {
                    Member::Service(services[rng.gen_range(0..s)])
                } else {
                    Member::Node(nodes[rng.gen_range(0..n)])
                }
            };
            let hard = rng.gen_bool(0.8);
            if rng.gen_bool(0.6) {
                let m: Vec<Member> = (0..rng.gen_range(2..=4)).map(|_| pick(&mut rng)).collect();
                let k = if rng.gen_bool(0.6) {
                    m.len() as u32 - 1
                } else {
                    rng.gen_range(1..=m.len() as u32)
                };
                b.dep(svc, hard, k, m);
            } else {
                let m = pick(&mut rng);
                b.dep(svc, hard, 1, vec![m]);
            }
        }
    }
    for f in 0..rng.gen_range(0..=3) {
        let id = b.flow(&format!("f{f}"));
        for _ in 0..rng.gen_range(1..=2) {
            b.flow_service(id, services[rng.gen_range(0..ns)]);
        }
    }
    for gi in 0..rng.gen_range(1..=3) {
        let mut uses: Vec<(u32, f64)> = Vec::new();
        for &s in &services {
            if rng.gen_bool(0.6) {
                uses.push((s, rng.gen_range(1..=4) as f64 / 4.0));
            }
        }
        b.segment(
            &format!("g{gi}"),
            "",
            rng.gen_range(1..100_000),
            rng.gen_range(1..=3) as f64 / 2.0,
            uses,
        );
    }
    b.build().expect("valid by construction")
}

fn cfg(pairs: PairMode, top: usize, screen: usize) -> SpofConfig {
    SpofConfig {
        top,
        pairs,
        screen,
        ..SpofConfig::default()
    }
}

/// Every pair's joint `restore` cost, by unordered ids.
fn brute_pairs(g: &Graph) -> FxHashMap<(String, String), f64> {
    let el = elements(g);
    let mut out = FxHashMap::default();
    for (x, &a) in el.iter().enumerate() {
        for &b in &el[x + 1..] {
            let r = restore(g, &[a.target(), b.target()], None).expect("restore");
            out.insert(ids(a.id(g), b.id(g)), r.customer_hours);
        }
    }
    out
}

fn ids(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

fn single_costs(g: &Graph) -> FxHashMap<String, f64> {
    elements(g)
        .into_iter()
        .map(|e| {
            let r = restore(g, &[e.target()], None).expect("restore");
            (e.id(g).to_string(), r.customer_hours)
        })
        .collect()
}

/// (a, b, joint cost) of a list of pairs.
fn listed(v: &[vigie_sim::spof::Pair]) -> Vec<(String, String, f64)> {
    v.iter()
        .map(|p| (p.a.id.clone(), p.b.id.clone(), p.failure.customer_hours))
        .collect()
}

fn check_n1(g: &Graph, r: &SpofReport) {
    assert_eq!(r.singles.len(), elements(g).len());
    for s in &r.singles {
        let e = g.resolve(&s.element.id).expect("known id");
        let direct = restore(g, &[e], None).expect("restore");
        assert_eq!(
            s.failure.customer_hours, direct.customer_hours,
            "{}",
            s.element.id
        );
        assert_eq!(
            s.failure.total_hours, direct.total_hours,
            "{}",
            s.element.id
        );
    }
    for w in r.singles.windows(2) {
        assert!(w[0].failure.customer_hours >= w[1].failure.customer_hours);
    }
    // Single points of failure: exactly the elements whose restore shows the service down.
    for svc in &r.services {
        let mut want: Vec<&str> = r
            .singles
            .iter()
            .filter(|s| {
                s.failure
                    .services
                    .iter()
                    .any(|x| x.id == svc.id && x.state == "down")
            })
            .map(|s| s.element.id.as_str())
            .collect();
        let mut got: Vec<&str> = svc.spofs.iter().map(|h| h.element.id.as_str()).collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "service {}", svc.id);
    }
}

/// The exhaustive report against brute force: every listed pair priced right, the top
/// list the `top` costliest, every interaction counted.
fn check_exhaustive(g: &Graph, p: &PairsReport, top: usize) {
    let brute = brute_pairs(g);
    let single = single_costs(g);
    assert_eq!(p.mode, "exhaustive");
    assert_eq!(p.evaluated, brute.len());
    assert!(p.exact_top && p.all_interactions);
    let mut costs: Vec<f64> = brute.values().copied().filter(|&c| c > 0.0).collect();
    costs.sort_by(|a, b| b.total_cmp(a));
    costs.truncate(top);
    let got: Vec<f64> = p.top.iter().map(|x| x.failure.customer_hours).collect();
    assert_eq!(got, costs);
    for x in p.top.iter().chain(&p.interactions) {
        assert_eq!(brute[&ids(&x.a.id, &x.b.id)], x.failure.customer_hours);
        assert!(single[&x.a.id] >= single[&x.b.id]);
    }
    let inter = brute
        .iter()
        .filter(|((a, b), &c)| interacts(c, single[a] + single[b]))
        .count();
    assert_eq!(p.interacting, inter);
}

fn check_case(seed: u64) {
    let g = random_graph(seed);
    let top = 1 + (seed % 4) as usize;
    let ex = spof(&g, &cfg(PairMode::Exhaustive, top, 0)).expect("spof");
    check_n1(&g, &ex);
    check_exhaustive(&g, &ex.pairs, top);
    // Screened with a tiny screen still finds the costliest pairs and every interaction.
    for screen in [0, 1, 2] {
        let sc = spof(&g, &cfg(PairMode::Screened, top, screen)).expect("spof");
        assert_eq!(sc.pairs.mode, "screened");
        assert!(
            sc.pairs.exact_top && sc.pairs.all_interactions,
            "seed {seed}"
        );
        assert_eq!(listed(&sc.pairs.top), listed(&ex.pairs.top), "seed {seed}");
        assert_eq!(
            listed(&sc.pairs.interactions),
            listed(&ex.pairs.interactions),
            "seed {seed}"
        );
        assert_eq!(sc.pairs.interacting, ex.pairs.interacting, "seed {seed}");
    }
    // Auto is exhaustive on a model this small, and then the same report.
    let auto = spof(&g, &cfg(PairMode::Auto, top, 0)).expect("spof");
    assert_eq!(auto.pairs.mode, "exhaustive");
    assert_eq!(format!("{auto:?}"), format!("{ex:?}"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn n1_and_n2_equal_brute_force(seed in any::<u64>()) {
        check_case(seed);
    }
}

/// The generator does produce what the guarantee is about: interactions, and screened
/// runs that leave pairs out.
#[test]
fn random_models_have_interactions_and_screening_skips_pairs() {
    let (mut with_inter, mut skipped) = (0, 0);
    for seed in 0..100 {
        let g = random_graph(seed);
        let r = spof(&g, &cfg(PairMode::Screened, 1, 0)).expect("spof");
        with_inter += usize::from(r.pairs.interacting > 0);
        skipped += usize::from((r.pairs.evaluated as u64) < r.pairs.total);
    }
    assert!(with_inter >= 20, "{with_inter} models with interactions");
    assert!(skipped >= 50, "{skipped} screened runs leaving pairs out");
}

/// With crews, every N-1 figure is `restore --crews`'s.
#[test]
fn n1_with_crews_is_restore_with_crews() {
    for seed in 0..30 {
        let g = random_graph(seed);
        let c = SpofConfig {
            crews: Some(1),
            pairs: PairMode::None,
            ..SpofConfig::default()
        };
        let r = spof(&g, &c).expect("spof");
        for s in &r.singles {
            let e = g.resolve(&s.element.id).expect("id");
            let d = restore(&g, &[e], Some(1)).expect("restore");
            assert_eq!(s.failure.customer_hours, d.customer_hours);
        }
        assert!(!r.pairs.exact_top);
    }
}

#[test]
fn same_report_whatever_the_thread_count() {
    for seed in [1, 2, 3] {
        let g = random_graph(seed);
        let run = |t| {
            let c = SpofConfig {
                threads: Some(t),
                pairs: PairMode::Screened,
                ..SpofConfig::default()
            };
            format!("{:?}", spof(&g, &c).expect("spof"))
        };
        assert_eq!(run(1), run(2));
    }
}

/// On the demo operator (264 elements), the screened pairs find the exhaustive top and
/// every interaction, evaluating a fraction of the pairs.
#[test]
fn demo_screened_equals_exhaustive() {
    let g = vigie_response::from_model(&vigie_model::demo()).expect("demo graph");
    let ex = spof(&g, &cfg(PairMode::Exhaustive, 10, 30)).expect("spof");
    let sc = spof(&g, &cfg(PairMode::Screened, 10, 30)).expect("spof");
    assert_eq!(ex.pairs.total, 264 * 263 / 2);
    assert!(sc.pairs.exact_top && sc.pairs.all_interactions);
    assert!(
        sc.pairs.evaluated * 4 < ex.pairs.evaluated,
        "{}",
        sc.pairs.evaluated
    );
    assert_eq!(listed(&sc.pairs.top), listed(&ex.pairs.top));
    assert_eq!(
        listed(&sc.pairs.interactions),
        listed(&ex.pairs.interactions)
    );
    assert_eq!(sc.pairs.interacting, ex.pairs.interacting);
    // Two members of one 1-of-2 group: free alone, costly together.
    let amf = ex
        .pairs
        .interactions
        .iter()
        .find(|p| ids(&p.a.id, &p.b.id) == ids("amf-1", "amf-2"))
        .expect("amf pair");
    assert_eq!(amf.a_customer_hours + amf.b_customer_hours, 0.0);
    assert!(amf.failure.customer_hours > 0.0);
}
