//! The restore order search against brute force on random small models: with fewer crews
//! than downed assets, the order it reports must cost exactly the minimum over every
//! permutation of the downed assets (each priced by list scheduling), be flagged optimal,
//! and its lower bound must never exceed that minimum. Also: "highest cost rate first" is
//! not optimal on at least 20 of the generated cases (the search earns its keep there), the
//! compiled cost equals the impact engine's, list scheduling keeps its contract, and a
//! person's order is checked and priced next to the optimum.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigie_response::graph::{Graph, GraphBuilder, Member, NodeId, NodeKind, Target};
use vigie_response::impact::{self, Outage};
use vigie_response::restore::{restore, restore_with, RestoreRequest};
use vigie_response::restore_order::{
    search, OrderError, Problem, Schedule, SearchConfig, EXACT_MAX,
};
use vigie_response::Error;

struct Case {
    g: Graph,
    down: Vec<NodeId>,
    crews: usize,
}

/// `n` assets, all down (some given directly, the rest running on them), 1..=4 services
/// with k-of-n groups, service chains and soft dependencies, 1..=3 segments.
fn random_case(rng: &mut ChaCha8Rng, n: usize) -> Case {
    let mut b = GraphBuilder::new(48.0);
    let mut nodes = Vec::new();
    for i in 0..n {
        let kind = if rng.gen_bool(0.6) {
            NodeKind::Host
        } else {
            NodeKind::Application
        };
        // Whole hours, some long: redundancy and long rebuilds make the naive rule fail;
        // zero (nothing to rebuild) frees its crew at once, a corner of the search's
        // same-instant rule.
        let p = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 24.0][rng.gen_range(0..8)];
        nodes.push(b.node(&format!("a{i}"), kind, false, p));
    }
    let mut direct = Vec::new();
    for i in 0..n {
        if i > 0 && rng.gen_bool(0.3) {
            b.set_runs_on(nodes[i], nodes[rng.gen_range(0..i)]);
        } else {
            direct.push(nodes[i]);
        }
    }
    let ns = rng.gen_range(1..=4usize);
    let mut services = Vec::new();
    for s in 0..ns {
        let svc = b.service(&format!("s{s}"), "", rng.gen_range(0..4) as f64);
        services.push(svc);
        let deps = rng.gen_range(1..=2);
        for _ in 0..deps {
            let hard = rng.gen_bool(0.8);
            let pick = |rng: &mut ChaCha8Rng| -> Member {
                if s > 0 && rng.gen_bool(0.25) {
                    Member::Service(services[rng.gen_range(0..s)])
                } else {
                    Member::Node(nodes[rng.gen_range(0..n)])
                }
            };
            if rng.gen_bool(0.45) {
                let m: Vec<Member> = (0..rng.gen_range(2..=4)).map(|_| pick(rng)).collect();
                let k = rng.gen_range(1..=m.len() as u32);
                b.dep(svc, hard, k, m);
            } else {
                let m = pick(rng);
                b.dep(svc, hard, 1, vec![m]);
            }
        }
    }
    for gi in 0..rng.gen_range(1..=3) {
        let mut uses = Vec::new();
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
    let g = b.build().expect("random model is valid by construction");
    Case {
        g,
        down: direct,
        crews: rng.gen_range(1..=3usize.min(n.saturating_sub(1)).max(1)),
    }
}

fn outage(c: &Case) -> Outage {
    Outage {
        nodes: c.down.clone(),
        ..Default::default()
    }
}

/// Minimum over every permutation of the jobs (Heap's algorithm), each priced by list
/// scheduling.
fn brute_force(p: &Problem, crews: usize) -> f64 {
    let n = p.len();
    let mut a: Vec<usize> = (0..n).collect();
    let mut best = p.price(&a, crews).1;
    let mut c = vec![0usize; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                a.swap(0, i);
            } else {
                a.swap(c[i], i);
            }
            best = best.min(p.price(&a, crews).1);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    best
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn search_matches_brute_force_and_beats_highest_rate_first() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // (downed assets, cases): small ones many times, 7 and 8 a few (8! = 40320 orders).
    let plan = [(3, 30), (4, 60), (5, 60), (6, 40), (7, 8), (8, 2)];
    let mut cases = 0;
    let mut naive_worse = 0;
    let mut contested = 0;
    for (n, count) in plan {
        for _ in 0..count {
            let c = random_case(&mut rng, n);
            let o = outage(&c);
            let p = Problem::new(&c.g, &o);
            assert_eq!(p.len(), n, "every asset is down");
            let brute = brute_force(&p, c.crews);
            let sol = search(&p, c.crews, &SearchConfig::default());
            cases += 1;
            assert!(
                close(sol.cost, brute),
                "case {cases} (n {n}, crews {}): search {} vs brute force {brute}",
                c.crews,
                sol.cost
            );
            assert!(sol.optimal, "case {cases}: not proven optimal");
            assert!(sol.lower_bound <= brute + 1e-9 * brute.max(1.0));
            let root = p.root_bound(c.crews);
            assert!(
                root <= brute + 1e-9 * brute.max(1.0),
                "case {cases}: root bound {root} above the optimum {brute}"
            );
            // The reported timeline is the list schedule of the reported order.
            let (again, cost) = p.price(&sol.schedule.seq, c.crews);
            assert_eq!(again.end, sol.schedule.end);
            assert!(close(cost, sol.cost));
            // The compiled cost is the impact engine's.
            let imp = impact::evaluate_nodes(&c.g, p.node_times(&sol.schedule), &o, 0.0);
            assert!(close(imp.total, sol.cost), "{} vs {}", imp.total, sol.cost);
            let naive = p.price(&p.highest_rate_first(), c.crews).1;
            assert!(naive >= brute - 1e-9 * brute.max(1.0));
            if naive > brute + 1e-9 * brute.max(1.0) {
                naive_worse += 1;
            }
            if c.crews < n {
                contested += 1;
            }
            // And through the public entry point.
            let down: Vec<Target> = c.down.iter().map(|&x| Target::Node(x)).collect();
            let r = restore(&c.g, &down, Some(c.crews)).expect("restore");
            assert!(close(r.customer_hours, brute));
            assert!(r.optimality.optimal && r.optimality.gap == 0.0);
        }
    }
    eprintln!(
        "{cases} cases, {contested} with fewer crews than assets, highest cost rate first \
         not optimal in {naive_worse}"
    );
    assert!(
        contested >= 150,
        "only {contested} cases with crews < assets"
    );
    assert!(
        naive_worse >= 20,
        "highest cost rate first was beaten in only {naive_worse} of {cases} cases"
    );
}

/// At most `crews` assets restore at once, none before its host is back, and no crew idles
/// while a listed asset is ready (non-delay), for random orders.
fn check_list_schedule(p: &Problem, s: &Schedule, crews: usize) {
    let n = p.len();
    assert_eq!(s.seq.len(), n);
    for j in 0..n {
        if let Some(h) = p.host(j) {
            assert!(s.start[j] >= s.end[h], "asset {j} starts before its host");
        }
        // Busy just after j starts (a zero-hour asset occupies no crew).
        let t = s.start[j];
        let busy = (0..n).filter(|&x| s.start[x] <= t && s.end[x] > t).count();
        assert!(busy <= crews, "more than {crews} crews at {t}");
    }
    // Non-delay: at any start time t of a job, a ready unstarted job means all crews busy.
    for &t in &s.start {
        let busy = (0..n).filter(|&x| s.start[x] <= t && s.end[x] > t).count();
        let ready_waiting =
            (0..n).any(|x| s.start[x] > t && p.host(x).is_none_or(|h| s.end[h] <= t));
        if ready_waiting {
            assert!(busy >= crews, "a crew idles at {t} while an asset is ready");
        }
    }
}

#[test]
fn list_scheduling_keeps_its_contract() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..200 {
        let n = rng.gen_range(2..=10);
        let c = random_case(&mut rng, n);
        let p = Problem::new(&c.g, &outage(&c));
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        for crews in 1..=3 {
            let s = p.simulate(&order, crews);
            check_list_schedule(&p, &s, crews);
        }
    }
}

#[test]
fn beyond_the_exact_size_a_heuristic_with_a_valid_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for _ in 0..6 {
        let n = EXACT_MAX + rng.gen_range(1..=8);
        let c = random_case(&mut rng, n);
        let p = Problem::new(&c.g, &outage(&c));
        let sol = search(&p, 1, &SearchConfig::default());
        if sol.stats.exact_search && !sol.optimal {
            assert!(sol.stats.budget_exhausted, "an unfinished attempt says so");
        }
        assert!(sol.lower_bound <= sol.cost + 1e-9 * sol.cost.max(1.0));
        // The bound holds against any order, and the heuristic beats random ones.
        for _ in 0..50 {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                order.swap(i, rng.gen_range(0..=i));
            }
            let c2 = p.price(&order, 1).1;
            assert!(sol.lower_bound <= c2 + 1e-9 * c2.max(1.0));
            assert!(sol.cost <= c2 + 1e-9 * c2.max(1.0));
        }
    }
}

fn demo() -> Graph {
    vigie_response::from_model(&vigie_model::demo::demo()).expect("demo model")
}

fn node(g: &Graph, id: &str) -> NodeId {
    g.node(id).unwrap_or_else(|| panic!("{id} in the demo"))
}

/// The case of issue 7: four DCs (directory needs one) and emp-app-1 (72 h, emp-core on
/// it), one crew. Longest-first rebuilt emp-app-1 first: 557.24 M customer-hours.
#[test]
fn demo_one_crew_restores_a_domain_controller_first() {
    let g = demo();
    let down: Vec<Target> = ["dc-1", "dc-2", "dc-3", "dc-4", "emp-app-1"]
        .iter()
        .map(|id| Target::Node(node(&g, id)))
        .collect();
    let r = restore(&g, &down, Some(1)).expect("restore");
    assert!(r.optimality.optimal);
    assert_eq!(r.order[0], "dc-1", "{:?}", r.order);
    assert!(r.customer_hours < 300e6, "{}", r.customer_hours);
    // The critical path is a chain from t = 0 to the end, crew waits included.
    let cp = &r.critical_path;
    assert_eq!(cp.first().map(|c| c.start_hours), Some(0.0));
    assert_eq!(cp.last().map(|c| c.end_hours), Some(r.total_hours));
    for w in cp.windows(2) {
        assert_eq!(w[0].end_hours, w[1].start_hours, "{cp:?}");
    }
    assert!(cp.iter().any(|c| c.via == Some("crew")), "{cp:?}");
    assert_eq!(
        cp.len(),
        6,
        "every asset is on the one crew's chain: {cp:?}"
    );

    // The old order, given by a person: priced next to the optimum.
    let order: Vec<NodeId> = ["emp-app-1", "emp-core", "dc-1", "dc-2", "dc-3", "dc-4"]
        .iter()
        .map(|id| node(&g, id))
        .collect();
    let given = restore_with(
        &g,
        &RestoreRequest {
            down: down.clone(),
            crews: Some(1),
            order: Some(order),
            ..Default::default()
        },
    )
    .expect("given order");
    assert_eq!(given.order_source, "given");
    assert!(
        (given.customer_hours - 557.24e6).abs() < 0.01e6,
        "{}",
        given.customer_hours
    );
    let best = given.optimum.as_ref().expect("optimum beside");
    assert!(close(best.customer_hours, r.customer_hours));
    assert!(!given.optimality.optimal);
    assert!(close(
        given.optimality.gap,
        given.customer_hours - r.customer_hours
    ));
}

#[test]
fn a_given_order_is_checked() {
    let g = demo();
    let down: Vec<Target> = ["dc-1", "emp-app-1"]
        .iter()
        .map(|id| Target::Node(node(&g, id)))
        .collect();
    let run = |ids: &[&str]| {
        restore_with(
            &g,
            &RestoreRequest {
                down: down.clone(),
                crews: Some(1),
                order: Some(ids.iter().map(|id| node(&g, id)).collect()),
                ..Default::default()
            },
        )
    };
    match run(&["dc-1", "emp-app-1"]) {
        Err(Error::Order(OrderError::Missing { ids })) => {
            assert_eq!(ids, ["emp-core (runs on emp-app-1)"])
        }
        other => panic!("{other:?}"),
    }
    match run(&["dc-1", "emp-app-1", "emp-core", "dc-2"]) {
        Err(Error::Order(OrderError::NotDown { ids, .. })) => assert_eq!(ids, ["dc-2"]),
        other => panic!("{other:?}"),
    }
    match run(&["dc-1", "emp-app-1", "dc-1", "emp-core"]) {
        Err(Error::Order(OrderError::Repeated { ids })) => assert_eq!(ids, ["dc-1"]),
        other => panic!("{other:?}"),
    }
    // Listed before its host: it waits for it while the crew takes the next ready asset.
    let r = run(&["emp-core", "emp-app-1", "dc-1"]).expect("host waits");
    assert_eq!(r.listed_before_host, ["emp-core"]);
    assert_eq!(r.order, ["emp-app-1", "emp-core", "dc-1"]);
    let msg = run(&["dc-1"]).map(|_| ()).unwrap_err().to_string();
    assert!(
        msg.contains("omits downed asset(s) emp-app-1, emp-core"),
        "{msg}"
    );
}
