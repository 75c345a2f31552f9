//! Decisions on a compromised set: the three engines' documents, budgets only, the plan's
//! actions and the compromised assets down in restore, skipped engines reported.

use vigie_incident::decide::{decide, DecideOptions};
use vigie_response::contain::Action;

fn demo_graph() -> vigie_response::Graph {
    vigie_response::from_model(&vigie_model::demo()).expect("the demo model builds")
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn demo_decision_has_reach_an_optimal_plan_and_a_restore_of_both() {
    let g = demo_graph();
    let d = decide(
        &g,
        &ids(&["emp-web-1", "emp-app-1"]),
        &DecideOptions::default(),
    )
    .expect("decides");
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    assert_eq!(d.assess.compromised, ids(&["emp-web-1", "emp-app-1"]));
    assert!(d.assess.reachable_count > 0);
    let c = d.contain.as_ref().expect("contain ran");
    let plan = c.plan.as_ref().expect("a complete plan exists on the demo");
    assert!(
        c.optimality.optimal,
        "bounded by expansions, proven on the demo"
    );
    assert!(plan.customer_hours < c.isolate_everything.customer_hours);
    // Restore: the compromised assets first, then each node the plan takes down.
    let r = d.restore.as_ref().expect("restore ran");
    assert_eq!(&r.down[..2], &ids(&["emp-web-1", "emp-app-1"])[..]);
    for a in &plan.raw {
        let id = match *a {
            Action::Isolate(n) | Action::Disable(n) => g.node_ids[n as usize].clone(),
            Action::Block(f) => g.flows[f as usize].id.clone(),
            Action::Offline(s) => g.services[s as usize].id.clone(),
        };
        assert!(
            r.down.contains(&id),
            "{id} of the plan is not down in {:?}",
            r.down
        );
    }
}

#[test]
fn same_set_same_decision() {
    let g = demo_graph();
    let set = ids(&["vpn-2"]);
    let a = decide(&g, &set, &DecideOptions::default()).expect("decides");
    let b = decide(&g, &set, &DecideOptions::default()).expect("decides");
    let plan = |d: &vigie_incident::decide::Decision| {
        d.contain
            .as_ref()
            .and_then(|c| c.plan.as_ref())
            .map(|p| (p.raw.clone(), p.customer_hours))
    };
    assert_eq!(plan(&a), plan(&b));
    assert_eq!(
        a.restore
            .as_ref()
            .map(|r| (r.order.clone(), r.customer_hours)),
        b.restore
            .as_ref()
            .map(|r| (r.order.clone(), r.customer_hours))
    );
}

#[test]
fn every_crown_jewel_compromised_skips_contain_with_the_reason() {
    let g = demo_graph();
    let jewels: Vec<String> = g
        .crown_jewels()
        .iter()
        .map(|&n| g.node_ids[n as usize].clone())
        .collect();
    let d = decide(&g, &jewels, &DecideOptions::default()).expect("decides");
    assert!(d.contain.is_none());
    assert_eq!(d.skipped.len(), 1);
    assert_eq!(d.skipped[0].engine, "contain");
    assert!(d.skipped[0].reason.contains("nothing to protect"));
    // The rebuild is still planned.
    let r = d
        .restore
        .as_ref()
        .expect("restore of the compromised assets");
    assert_eq!(r.down, jewels);
}

#[test]
fn unknown_asset_is_an_error_naming_it() {
    let g = demo_graph();
    let e = decide(&g, &ids(&["no-such-host"]), &DecideOptions::default()).expect_err("unknown id");
    assert!(e.to_string().contains("no-such-host"), "{e}");
}
