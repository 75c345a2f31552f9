//! The containment search against brute force on random small models: the cheapest plan
//! it reports must cost exactly the minimum over every subset of every possible action,
//! with and without --max-actions. Also checks the cost function is monotone (the
//! property the search's correctness rests on).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigie_response::contain::problem::{outage_of, reach, Action, Cut};
use vigie_response::contain::{contain, ContainRequest, SearchConfig};
use vigie_response::graph::{Graph, GraphBuilder, Member, NodeId, NodeKind};
use vigie_response::impact;

struct Case {
    g: Graph,
    compromised: Vec<NodeId>,
    protect: Vec<NodeId>,
}

fn random_case(rng: &mut ChaCha8Rng) -> Case {
    let mut b = GraphBuilder::new(rng.gen_range(1.0..72.0f64).round());
    let n = rng.gen_range(4..=9usize);
    let kinds = [
        NodeKind::Host,
        NodeKind::Application,
        NodeKind::Database,
        NodeKind::Account,
        NodeKind::Group,
    ];
    let mut nodes = Vec::new();
    for i in 0..n {
        let k = kinds[rng.gen_range(0..kinds.len())];
        let id = b.node(&format!("n{i}"), k, false, rng.gen_range(0..20) as f64);
        nodes.push((id, k));
    }
    // Hosting: some applications/databases run on an earlier host.
    for i in 0..n {
        if matches!(nodes[i].1, NodeKind::Application | NodeKind::Database) && rng.gen_bool(0.5) {
            if let Some(&(h, _)) = nodes[..i].iter().find(|x| x.1 == NodeKind::Host) {
                b.set_runs_on(nodes[i].0, h);
            }
        }
    }
    let ns = rng.gen_range(1..=3u32);
    let mut services = Vec::new();
    for s in 0..ns {
        services.push(b.service(&format!("s{s}"), "", rng.gen_range(0..10) as f64));
    }
    let nf = rng.gen_range(0..=3u32);
    let mut flows = Vec::new();
    for f in 0..nf {
        let id = b.flow(&format!("f{f}"));
        if rng.gen_bool(0.5) {
            b.flow_service(id, services[rng.gen_range(0..services.len())]);
        }
        flows.push(id);
    }
    for (si, &s) in services.iter().enumerate() {
        for _ in 0..rng.gen_range(1..=3) {
            let hard = rng.gen_bool(0.75);
            let pick = |rng: &mut ChaCha8Rng| -> Member {
                if si > 0 && rng.gen_bool(0.2) {
                    Member::Service(services[rng.gen_range(0..si)])
                } else {
                    Member::Node(nodes[rng.gen_range(0..n)].0)
                }
            };
            if rng.gen_bool(0.3) {
                let m: Vec<Member> = (0..rng.gen_range(2..=3)).map(|_| pick(rng)).collect();
                let k = rng.gen_range(1..=m.len() as u32);
                b.dep(s, hard, k, m);
            } else {
                let m = pick(rng);
                b.dep(s, hard, 1, vec![m]);
            }
        }
    }
    // Make most assets matter to some service so that cheap plans are not all free.
    for &(x, _) in &nodes {
        if rng.gen_bool(0.5) {
            let s = services[rng.gen_range(0..services.len())];
            if rng.gen_bool(0.3) {
                let y = nodes[rng.gen_range(0..n)].0;
                b.dep(s, true, 1, vec![Member::Node(x), Member::Node(y)]);
            } else {
                b.dep(s, rng.gen_bool(0.8), 1, vec![Member::Node(x)]);
            }
        }
    }
    for gi in 0..rng.gen_range(1..=2) {
        let mut uses = Vec::new();
        for &s in &services {
            if rng.gen_bool(0.7) {
                uses.push((s, rng.gen_range(1..=4) as f64 / 4.0));
            }
        }
        b.segment(
            &format!("g{gi}"),
            "",
            rng.gen_range(1..1000),
            rng.gen_range(1..=3) as f64 / 2.0,
            uses,
        );
    }
    let edges = rng.gen_range(n..=3 * n);
    for _ in 0..edges {
        let u = rng.gen_range(0..n);
        let v = rng.gen_range(0..n);
        if u == v {
            continue;
        }
        let fl: Vec<u32> = flows
            .iter()
            .copied()
            .filter(|_| rng.gen_bool(0.4))
            .collect();
        b.edge(
            nodes[u].0,
            nodes[v].0,
            "T0000",
            rng.gen_range(0..5) as f64,
            &fl,
        );
    }
    let g = b.build().expect("random model is valid by construction");
    let mut ids: Vec<NodeId> = (0..n as NodeId).collect();
    // Fisher-Yates with the seeded rng so the case is reproducible.
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.gen_range(0..=i));
    }
    let nc = rng.gen_range(1..=2);
    let np = rng.gen_range(1..=2);
    Case {
        compromised: ids[..nc].to_vec(),
        protect: ids[nc..nc + np].to_vec(),
        g,
    }
}

fn universe(g: &Graph) -> Vec<Action> {
    let mut v: Vec<Action> = (0..g.node_count() as NodeId)
        .filter(|&n| g.kinds[n as usize] != NodeKind::Internet)
        .map(|n| Action::on_node(g, n))
        .collect();
    v.extend((0..g.flows.len() as u32).map(Action::Block));
    v.extend((0..g.services.len() as u32).map(Action::Offline));
    v
}

fn complete(c: &Case, acts: &[Action]) -> bool {
    let cut = Cut::new(&c.g, acts);
    let seen = reach(&c.g, &c.compromised, Some(&cut));
    c.protect.iter().all(|&t| !seen[t as usize])
}

/// Minimum cost over all subsets of the whole action universe (None: none complete).
fn brute(c: &Case, max_actions: Option<usize>) -> Option<f64> {
    brute_plan(c, max_actions).map(|b| b.0)
}

fn brute_plan(c: &Case, max_actions: Option<usize>) -> Option<(f64, Vec<Action>)> {
    let u = universe(&c.g);
    let mut best: Option<(f64, Vec<Action>)> = None;
    for mask in 0u32..(1 << u.len()) {
        if max_actions.is_some_and(|m| mask.count_ones() as usize > m) {
            continue;
        }
        let acts: Vec<Action> = (0..u.len())
            .filter(|i| mask >> i & 1 == 1)
            .map(|i| u[i])
            .collect();
        let cost = impact::cost(&c.g, &outage_of(&acts));
        if best.as_ref().is_some_and(|b| cost >= b.0) {
            continue;
        }
        if complete(c, &acts) {
            best = Some((cost, acts));
        }
    }
    best
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[derive(Default, Debug)]
struct Stats {
    models: usize,
    with_limit: usize,
    max_universe: usize,
    nonzero_optimum: usize,
    budget_hits: usize,
    cheaper_than_everything: usize,
    subsets: u64,
}

fn check(seed: u64, cases: usize, max_universe: usize) -> Stats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut st = Stats::default();
    while st.models < cases {
        let c = random_case(&mut rng);
        let u = universe(&c.g).len();
        if u > max_universe {
            continue;
        }
        st.models += 1;
        st.max_universe = st.max_universe.max(u);
        st.subsets += 1 << u;
        let req = ContainRequest {
            compromised: c.compromised.clone(),
            protect: Some(c.protect.clone()),
            config: SearchConfig::default(),
        };
        let r = contain(&c.g, &req).expect("contain runs");
        let want = brute(&c, None).expect("isolating the protected assets is always complete");
        let plan = r.plan.as_ref().expect("a complete plan exists");
        assert!(
            r.optimality.optimal,
            "seed {seed} model {}: search budget hit on a tiny model",
            st.models
        );
        assert!(
            plan.complete,
            "seed {seed} model {}: plan incomplete",
            st.models
        );
        assert!(
            close(plan.customer_hours, want),
            "seed {seed} model {}: search {} {:?} vs brute force {} {:?}\n{:#?}\ncompromised {:?} protect {:?}",
            st.models,
            plan.customer_hours,
            plan.raw,
            want,
            brute_plan(&c, None),
            c.g,
            c.compromised,
            c.protect
        );
        assert!(complete(&c, &plan.raw));
        if want > 0.0 {
            st.nonzero_optimum += 1;
        }
        if r.isolate_everything.customer_hours > want + 1e-9 {
            st.cheaper_than_everything += 1;
        }
        let mut prev = plan.customer_hours;
        for alt in &r.alternatives {
            assert!(alt.complete, "alternative incomplete");
            assert!(
                alt.customer_hours + 1e-9 >= prev,
                "alternatives out of order"
            );
            prev = alt.customer_hours;
        }
        assert!(r.isolate_everything.complete && r.choke_points.complete);
        assert!(r.isolate_everything.customer_hours + 1e-9 >= want);
        // With a tiny budget: either still proven, or an honest bound around the optimum.
        let tiny = ContainRequest {
            config: SearchConfig {
                max_expansions: 1,
                ..SearchConfig::default()
            },
            ..req.clone()
        };
        let r = contain(&c.g, &tiny).expect("contain runs");
        let p = r
            .plan
            .as_ref()
            .expect("greedy completion always finds a plan");
        assert!(p.complete, "budget plan incomplete");
        if r.optimality.optimal {
            assert!(close(p.customer_hours, want));
        } else {
            st.budget_hits += 1;
            assert!(
                r.optimality.lower_bound <= want + 1e-9,
                "bound {} above optimum {want}",
                r.optimality.lower_bound
            );
            assert!(p.customer_hours + 1e-9 >= want);
            assert!(close(
                r.optimality.gap,
                p.customer_hours - r.optimality.lower_bound
            ));
        }
        // With an action limit.
        let k = rng.gen_range(1..=3usize);
        let req = ContainRequest {
            config: SearchConfig {
                max_actions: Some(k),
                ..SearchConfig::default()
            },
            ..req
        };
        let r = contain(&c.g, &req).expect("contain runs");
        let want = brute(&c, Some(k));
        st.with_limit += 1;
        match (want, r.plan.as_ref()) {
            (None, None) => {}
            (Some(w), Some(p)) => {
                assert!(r.optimality.optimal);
                assert!(p.raw.len() <= k, "plan longer than --max-actions");
                assert!(
                    close(p.customer_hours, w),
                    "seed {seed}: limited search {} vs brute {}",
                    p.customer_hours,
                    w
                );
            }
            (w, p) => panic!(
                "seed {seed}: limit {k}: brute {w:?} vs search {:?}",
                p.map(|p| p.customer_hours)
            ),
        }
    }
    st
}

#[test]
fn optimal_against_brute_force_small() {
    // VIGIE_OPT_MODELS raises the count for a longer run (the report's figures).
    let n = std::env::var("VIGIE_OPT_MODELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let st = check(0x5eed_0001, n, 12);
    eprintln!("optimality check (universe <= 12): {st:?}");
    assert_eq!(st.models, n);
    assert!(
        st.budget_hits > 0,
        "the budget path must be exercised: {st:?}"
    );
    // The generator must produce cases where the choice matters.
    assert!(st.nonzero_optimum > 30, "{st:?}");
    assert!(st.cheaper_than_everything > 30, "{st:?}");
}

#[test]
fn optimal_against_brute_force_up_to_15_actions() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut st = Stats::default();
    // Only the larger universes (13..=15 actions) here.
    while st.models < 40 {
        let seed: u64 = rng.gen();
        let mut r2 = ChaCha8Rng::seed_from_u64(seed);
        let c = random_case(&mut r2);
        let u = universe(&c.g).len();
        if !(13..=15).contains(&u) {
            continue;
        }
        let s = check(seed, 1, 15);
        st.models += 1;
        st.with_limit += s.with_limit;
        st.max_universe = st.max_universe.max(s.max_universe);
        st.nonzero_optimum += s.nonzero_optimum;
        st.budget_hits += s.budget_hits;
        st.cheaper_than_everything += s.cheaper_than_everything;
        st.subsets += s.subsets;
    }
    eprintln!("optimality check (13..=15 actions): {st:?}");
    assert!(st.nonzero_optimum > 0, "{st:?}");
}

#[test]
fn cost_is_monotone_in_the_action_set() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..300 {
        let c = random_case(&mut rng);
        let u = universe(&c.g);
        let mut acts: Vec<Action> = Vec::new();
        let mut prev = impact::cost(&c.g, &outage_of(&acts));
        for _ in 0..u.len() {
            acts.push(u[rng.gen_range(0..u.len())]);
            let now = impact::cost(&c.g, &outage_of(&acts));
            let full = impact::evaluate(&c.g, &outage_of(&acts), c.g.containment_hours, None).total;
            assert!(
                close(now, full),
                "sparse cost {now} != full evaluation {full}"
            );
            assert!(
                now + 1e-9 >= prev,
                "cost fell from {prev} to {now} adding {:?}",
                acts.last()
            );
            prev = now;
        }
    }
}
