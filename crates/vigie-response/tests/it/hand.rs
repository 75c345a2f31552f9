//! assess / contain / restore on a hand-made model whose answers are computed by hand.
//!
//! Assets: host H (4 h to restore), application A running on H (2 h), databases D1 (6 h)
//! and D2 (10 h, crown jewel), account acct. Services: web needs A (restart 1 h); data
//! needs one of D1, D2 (0.5 h); portal needs web and data, softly D2 (1 h). Segments:
//! consumers (1000 customers, uses web fully), enterprise (10 customers, SLA weight 2,
//! uses portal fully). Attack edges: A->H 0.5 h, H->acct 1 h, acct->D2 0.5 h, A->D1 2 h,
//! D1->D2 5 h.

use vigie_response::assess::assess;
use vigie_response::contain::{contain, ContainRequest};
use vigie_response::graph::{Graph, GraphBuilder, Member, NodeKind, Target};
use vigie_response::impact::{self, Outage};
use vigie_response::restore::restore;

fn model(containment_hours: f64) -> Graph {
    let mut b = GraphBuilder::new(containment_hours);
    let h = b.node("H", NodeKind::Host, false, 4.0);
    let a = b.node("A", NodeKind::Application, false, 2.0);
    let d1 = b.node("D1", NodeKind::Database, false, 6.0);
    let d2 = b.node("D2", NodeKind::Database, true, 10.0);
    let acct = b.node("acct", NodeKind::Account, false, 1.0);
    b.set_runs_on(a, h);
    let web = b.service("web", "Web", 1.0);
    let data = b.service("data", "Data", 0.5);
    let portal = b.service("portal", "Portal", 1.0);
    b.dep(web, true, 1, vec![Member::Node(a)]);
    b.dep(data, true, 1, vec![Member::Node(d1), Member::Node(d2)]);
    b.dep(portal, true, 1, vec![Member::Service(web)]);
    b.dep(portal, true, 1, vec![Member::Service(data)]);
    b.dep(portal, false, 1, vec![Member::Node(d2)]);
    b.segment("consumers", "Consumers", 1000, 1.0, vec![(web, 1.0)]);
    b.segment("enterprise", "Enterprise", 10, 2.0, vec![(portal, 1.0)]);
    b.edge(a, h, "T1068", 0.5, &[]);
    b.edge(h, acct, "T1003", 1.0, &[]);
    b.edge(acct, d2, "T1021", 0.5, &[]);
    b.edge(a, d1, "T1210", 2.0, &[]);
    b.edge(d1, d2, "T1210", 5.0, &[]);
    b.build().expect("hand model is valid")
}

fn ids(g: &Graph, v: &[&str]) -> Vec<u32> {
    g.resolve_nodes(
        "asset",
        &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .expect("known ids")
}

#[test]
fn restore_order_times_and_customer_hours() {
    let g = model(48.0);
    let down: Vec<Target> = ids(&g, &["H", "D1"])
        .into_iter()
        .map(Target::Node)
        .collect();
    let r = restore(&g, &down, None).expect("restore");
    let t = |id: &str| {
        r.assets
            .iter()
            .find(|a| a.id == id)
            .map(|a| (a.start_hours, a.up_hours))
    };
    assert_eq!(t("H"), Some((0.0, 4.0)));
    assert_eq!(t("A"), Some((4.0, 6.0)), "A restarts once its host is back");
    assert_eq!(t("D1"), Some((0.0, 6.0)));
    let s = |id: &str| r.services.iter().find(|x| x.id == id).map(|x| x.up_hours);
    assert_eq!(s("web"), Some(7.0));
    assert_eq!(s("data"), None, "D2 still up: the 1-of-2 group holds");
    assert_eq!(s("portal"), Some(8.0));
    // consumers 1000 x 7 h + enterprise 10 x 2 x 8 h.
    assert!(
        (r.customer_hours - 7160.0).abs() < 1e-9,
        "{}",
        r.customer_hours
    );
    let path: Vec<&str> = r.critical_path.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(path, ["H", "A", "web", "portal"]);
    assert_eq!(r.critical_path, r.service_critical_path);
    assert_eq!(r.total_hours, 8.0);
    let seg: Vec<(&str, f64)> = r
        .segments
        .iter()
        .map(|s| (s.id.as_str(), s.back_after_hours))
        .collect();
    assert_eq!(seg, [("consumers", 7.0), ("enterprise", 8.0)]);
}

#[test]
fn restore_with_one_crew_serialises() {
    let g = model(48.0);
    let down: Vec<Target> = ids(&g, &["H", "D1"])
        .into_iter()
        .map(Target::Node)
        .collect();
    let r = restore(&g, &down, Some(1)).expect("restore");
    let order: Vec<(&str, f64, f64)> = r
        .assets
        .iter()
        .map(|a| (a.id.as_str(), a.start_hours, a.up_hours))
        .collect();
    // The cheapest order: H then A (web, which the consumers use, back at 7 h), then D1,
    // which no service misses while D2 holds the 1-of-2 group. Longest-first (D1, H, A)
    // cost 1000 x 13 + 20 x 14 = 13280.
    assert_eq!(order, [("H", 0.0, 4.0), ("A", 4.0, 6.0), ("D1", 6.0, 12.0)]);
    assert!((r.customer_hours - (1000.0 * 7.0 + 20.0 * 8.0)).abs() < 1e-9);
    assert!(r.optimality.optimal);
    assert_eq!(r.order, ["H", "A", "D1"]);
    // The critical path runs through the crew: D1 waited for the crew A freed.
    let path: Vec<(&str, Option<&str>)> = r
        .critical_path
        .iter()
        .map(|c| (c.id.as_str(), c.via))
        .collect();
    assert_eq!(
        path,
        [("H", None), ("A", Some("host")), ("D1", Some("crew"))]
    );
    assert!(restore(&g, &down, Some(0)).is_err());
}

#[test]
fn soft_dependency_counts_a_quarter() {
    let g = model(48.0);
    let down: Vec<Target> = ids(&g, &["D1", "D2"])
        .into_iter()
        .map(Target::Node)
        .collect();
    let r = restore(&g, &down, None).expect("restore");
    // data back at 6 + 0.5; portal at 7.5, degraded until D2 is back at 10.
    let expected = 10.0 * 2.0 * (7.5 + 0.25 * 2.5);
    assert!(
        (r.customer_hours - expected).abs() < 1e-9,
        "{}",
        r.customer_hours
    );
    let portal = r
        .services
        .iter()
        .find(|s| s.id == "portal")
        .expect("portal affected");
    assert_eq!(portal.up_hours, 10.0);
}

#[test]
fn redundancy_makes_one_of_two_free() {
    let g = model(48.0);
    let one = Outage {
        nodes: ids(&g, &["D1"]),
        ..Default::default()
    };
    assert_eq!(impact::cost(&g, &one), 0.0);
    let both = Outage {
        nodes: ids(&g, &["D1", "D2"]),
        ..Default::default()
    };
    // C = 48: D1 back 54, D2 58; data 54.5; portal 55.5 then degraded to 58.
    let expected = 20.0 * (55.5 + 0.25 * 2.5);
    assert!((impact::cost(&g, &both) - expected).abs() < 1e-9);
}

#[test]
fn assess_fastest_paths() {
    let g = model(48.0);
    let r = assess(&g, &ids(&g, &["A"]), 0).expect("assess");
    assert_eq!(r.reachable_count, 4);
    let d2 = &r.crown_jewels[0];
    assert_eq!(d2.id, "D2");
    assert_eq!(d2.hours, Some(2.0));
    let tech: Vec<&str> = d2.path.iter().map(|s| s.technique.as_str()).collect();
    assert_eq!(tech, ["T1068", "T1003", "T1021"]);
    // Losing A, H, D1, D2 and acct: web and data and portal all down.
    let down: Vec<&str> = r
        .services_at_risk
        .iter()
        .filter(|s| s.state == "down")
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(down.len(), 3, "{down:?}");
    assert_eq!(r.customers_at_risk, 1010);
    let r = assess(&g, &ids(&g, &["D1"]), 2).expect("assess");
    assert_eq!(r.reachable_count, 1);
    assert_eq!(r.crown_jewels[0].hours, Some(5.0));
}

#[test]
fn contain_finds_the_free_plan() {
    let g = model(48.0);
    let r = contain(
        &g,
        &ContainRequest {
            compromised: ids(&g, &["A"]),
            ..Default::default()
        },
    )
    .expect("contain");
    let plan = r.plan.expect("a plan");
    assert!(r.optimality.optimal && plan.complete);
    // Disable acct (nothing depends on it) + isolate D1 (D2 keeps data up): 0 customer-hours.
    assert_eq!(plan.customer_hours, 0.0);
    let mut acts: Vec<(&str, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.action, a.target.as_str()))
        .collect();
    acts.sort();
    assert_eq!(acts, [("disable_identity", "acct"), ("isolate", "D1")]);
    assert!(r.isolate_everything.customer_hours > 10_000.0);
    assert!(r.isolate_everything.complete && r.choke_points.complete);
    assert_eq!(r.isolate_everything.residual_reach, 0);
}

#[test]
fn unknown_ids_are_named_with_suggestions() {
    let g = model(48.0);
    let e = g
        .resolve_nodes("asset", &["D3".to_string(), "A".to_string()])
        .expect_err("unknown");
    let msg = e.to_string();
    assert!(msg.contains("\"D3\"") && msg.contains("D1"), "{msg}");
}

#[test]
fn dot_marks_the_cut_and_the_crown_jewels() {
    let g = model(48.0);
    let r = contain(
        &g,
        &ContainRequest {
            compromised: ids(&g, &["A"]),
            ..Default::default()
        },
    )
    .expect("contain");
    let plan = r.plan.expect("a plan");
    let dot = vigie_render::response::dot::dot(&vigie_response::drawing::drawing(
        &g,
        &ids(&g, &["A"]),
        &plan.raw,
    ));
    assert!(dot.starts_with("digraph vigie {") && dot.trim_end().ends_with('}'));
    // acct and D1 are cut; D2 is the crown jewel; A is compromised.
    assert_eq!(dot.matches("xlabel=\"CUT\"").count(), 2, "{dot}");
    assert_eq!(dot.matches("peripheries=2").count(), 1);
    assert!(dot.contains("fillcolor=\"#f4a6a6\""));
    // Edges into or out of a cut node are dashed: H->acct, acct->D2, A->D1, D1->D2.
    assert_eq!(dot.matches("style=dashed").count(), 4, "{dot}");
}
