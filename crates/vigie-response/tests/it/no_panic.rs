//! Arbitrary graphs (references possibly out of range, cycles, odd numbers) never make the
//! builder or the three commands panic: bad input is an error, good input an answer.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use vigie_response::contain::{contain, ContainRequest, SearchConfig};
use vigie_response::graph::{Graph, GraphBuilder, Member, NodeKind, Target};

/// (service, hard, k, members as (is a node, index)).
type RawDep = (u32, bool, u32, Vec<(bool, u32)>);

#[derive(Debug, Clone)]
struct Raw {
    kinds: Vec<u8>,
    recovery: Vec<f64>,
    runs_on: Vec<(u32, u32)>,
    edges: Vec<(u32, u32, f64, Vec<u32>)>,
    flows: u32,
    deps: Vec<RawDep>,
    services: u32,
    uses: Vec<(u32, f64)>,
    compromised: Vec<u32>,
    /// 0: corrupt the graph (one bad reference or a cycle); otherwise keep it valid.
    corrupt: u8,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        prop::collection::vec(0u8..7, 1..10),
        prop::collection::vec(0.0f64..50.0, 10),
        prop::collection::vec((0u32..12, 0u32..12), 0..4),
        prop::collection::vec(
            (
                0u32..12,
                0u32..12,
                -1.0f64..30.0,
                prop::collection::vec(0u32..4, 0..3),
            ),
            0..30,
        ),
        0u32..4,
        prop::collection::vec(
            (
                0u32..4,
                any::<bool>(),
                0u32..4,
                prop::collection::vec((any::<bool>(), 0u32..12), 0..4),
            ),
            0..8,
        ),
        1u32..4,
        prop::collection::vec((0u32..5, 0.0f64..1.0), 0..5),
        (prop::collection::vec(0u32..10, 1..3), 0u8..6),
    )
        .prop_map(
            |(
                kinds,
                recovery,
                runs_on,
                edges,
                flows,
                deps,
                services,
                uses,
                (compromised, corrupt),
            )| Raw {
                kinds,
                recovery,
                runs_on,
                edges,
                flows,
                deps,
                services,
                uses,
                compromised,
                corrupt,
            },
        )
}

const KINDS: [NodeKind; 7] = [
    NodeKind::Host,
    NodeKind::Application,
    NodeKind::Database,
    NodeKind::NetworkDevice,
    NodeKind::Account,
    NodeKind::Group,
    NodeKind::Internet,
];

fn build(r: &Raw) -> Result<Graph, vigie_response::Error> {
    let mut b = GraphBuilder::new(24.0);
    let n = r.kinds.len() as u32;
    let bad = r.corrupt == 0;
    for (i, &k) in r.kinds.iter().enumerate() {
        b.node(
            &format!("n{i}"),
            KINDS[k as usize],
            i % 3 == 0,
            r.recovery[i],
        );
    }
    // Valid hosting points to a lower index (a forest); corrupt hosting may loop.
    for &(c, h) in &r.runs_on {
        let (c, h) = (c % n, h % n);
        if h < c || (bad && c != h) {
            b.set_runs_on(c, h);
        }
    }
    for f in 0..r.flows {
        b.flow(&format!("f{f}"));
    }
    for s in 0..r.services {
        b.service(&format!("s{s}"), "", 1.0);
    }
    for (s, hard, k, members) in &r.deps {
        let s = s % r.services;
        let m = members
            .iter()
            .filter_map(|&(node, x)| {
                if node {
                    Some(Member::Node(x % n))
                } else if bad {
                    Some(Member::Service(x % r.services))
                } else {
                    // Only lower-index services: a DAG.
                    (s > 0).then(|| Member::Service(x % s))
                }
            })
            .collect();
        b.dep(s, *hard, *k, m);
    }
    for (f, t, ttc, flows) in &r.edges {
        let fl: Vec<u32> = flows
            .iter()
            .filter(|_| r.flows > 0)
            .map(|&x| x % r.flows.max(1))
            .collect();
        b.edge(*f % n, *t % n, "T0", *ttc, &fl);
    }
    if bad {
        b.edge(0, n, "T0", 1.0, &[]);
    }
    let uses = r.uses.iter().map(|&(s, w)| (s % r.services, w)).collect();
    b.segment("g", "", 100, 1.0, uses);
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn never_panics(r in raw()) {
        let Ok(g) = build(&r) else { return Ok(()) };
        let n = g.node_count() as u32;
        let comp: Vec<u32> = r.compromised.iter().copied().filter(|&c| c < n).collect();
        if comp.is_empty() {
            return Ok(());
        }
        let _ = vigie_response::assess::assess(&g, &comp, 5);
        let req = ContainRequest {
            compromised: comp.clone(),
            protect: None,
            config: SearchConfig { max_expansions: 50, ..SearchConfig::default() },
        };
        if let Ok(rep) = contain(&g, &req) {
            if let Some(p) = &rep.plan {
                prop_assert!(p.complete);
                let _ = vigie_render::response::dot::dot(&vigie_response::drawing::drawing(&g, &comp, &p.raw));
            }
        }
        let down: Vec<Target> = comp.iter().map(|&c| Target::Node(c)).collect();
        let _ = vigie_response::restore::restore(&g, &down, Some(1));
        let _ = vigie_response::restore::restore(&g, &down, None);
        // A person's order, valid or not (repeats, assets not down, omissions).
        let order: Vec<u32> = r.compromised.iter().rev().copied().filter(|&c| c < n).collect();
        let _ = vigie_response::restore::restore_with(
            &g,
            &vigie_response::restore::RestoreRequest {
                down: down.clone(),
                crews: Some(2),
                order: Some(order),
                ..Default::default()
            },
        );
    }
}

#[test]
fn enough_random_graphs_are_valid() {
    // `never_panics` must not pass by having every graph refused.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut ok = 0;
    for _ in 0..300 {
        let r = raw().new_tree(&mut runner).expect("strategy").current();
        ok += usize::from(build(&r).is_ok());
    }
    assert!((100..300).contains(&ok), "{ok} of 300 random graphs built");
    eprintln!("{ok} of 300 random graphs built");
}
