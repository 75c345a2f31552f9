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

fn incident(id: &str, minute: i64, compromised: &[&str]) -> vigie_incident::Incident {
    let t = chrono::DateTime::from_timestamp(1_753_000_000 + minute * 60, 0);
    vigie_incident::Incident {
        id: id.to_string(),
        first_seen: t,
        last_seen: t,
        severity: vigie_sigma::Level::High,
        risk: 50.0,
        risk_factors: Default::default(),
        assets: ids(compromised),
        accounts: Vec::new(),
        ips: Vec::new(),
        techniques: Vec::new(),
        tactics: Vec::new(),
        detections: Vec::new(),
        compromised: compromised
            .iter()
            .map(|a| vigie_incident::Compromise {
                asset: a.to_string(),
                evidence: Vec::new(),
            })
            .collect(),
        unresolved: Vec::new(),
    }
}

/// What a decision says, without its times.
fn documents(d: &vigie_incident::respond::Decided) -> Option<String> {
    d.decision.as_ref().map(|x| {
        let contain = x.contain.as_ref().map(|c| {
            (
                c.plan.as_ref().map(|p| p.raw.clone()),
                c.isolate_everything.customer_hours,
            )
        });
        let restore = x
            .restore
            .as_ref()
            .map(|r| (r.down.clone(), r.order.clone(), r.customer_hours));
        format!("{:?} {contain:?} {restore:?}", x.assess.reachable)
    })
}

#[test]
fn one_decision_per_compromised_set_in_incident_order_whatever_the_threads() {
    use vigie_incident::respond::decide_all;
    let g = demo_graph();
    let incidents = || {
        vec![
            incident("inc-c", 30, &["emp-web-1"]),
            incident("inc-a", 10, &["emp-web-1"]),
            incident("inc-b", 20, &["vpn-2"]),
            incident("inc-d", 40, &[]),
        ]
    };
    let run = |threads| {
        let opts = DecideOptions {
            threads,
            ..Default::default()
        };
        decide_all(&g, incidents(), &opts).expect("decides")
    };
    let one = run(1);
    let two = run(2);
    let order: Vec<&str> = one.iter().map(|d| d.incident.id.as_str()).collect();
    assert_eq!(order, ["inc-a", "inc-b", "inc-c", "inc-d"], "by first seen");
    let docs: Vec<Option<String>> = one.iter().map(documents).collect();
    assert_eq!(docs, two.iter().map(documents).collect::<Vec<_>>());
    // inc-c has inc-a's set: the same documents, marked reused; inc-d has nothing.
    assert_eq!(docs[0], docs[2]);
    assert_ne!(docs[0], docs[1]);
    assert!(docs[3].is_none());
    let reused: Vec<Option<bool>> = one
        .iter()
        .map(|d| d.decision.as_ref().map(|x| x.timing.reused))
        .collect();
    assert_eq!(reused, [Some(false), Some(false), Some(true), None]);
}
