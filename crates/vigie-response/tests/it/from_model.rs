//! The graph built from a model file: derived edges, services, segments; and the three
//! commands end to end on it.

use vigie_model::{load_str, Format};
use vigie_response::contain::{contain, ContainRequest};
use vigie_response::graph::{NodeKind, Target};

const MODEL: &str = r#"
settings:
  containment_hours: 24
zones:
  - id: internet
    internet: true
  - id: dmz
  - id: corp
  - id: core
flows:
  - from: internet
    to: dmz
    protocol: tcp
    ports: [443]
    services: [portal]
  - from: dmz
    to: corp
    protocol: tcp
    ports: [8443, 5432]
    services: [portal]
  - id: corp-admin-core
    from: corp
    to: core
    protocol: tcp
    ports: [22]
assets:
  - id: web-1
    kind: host
    zone: dmz
    exposed: true
    listens: [443]
    vulnerabilities:
      - id: CVE-2025-0001
        ports: [443]
        ttc_hours: 4
    credentials: [svc-portal]
  - id: portal-app
    kind: application
    zone: dmz
    runs_on: web-1
  - id: crm-db
    kind: database
    zone: corp
    crown_jewel: true
    controls: { edr: true, backup: true, recovery_hours: 6 }
    admins: [dba]
  - id: hlr-1
    kind: network_device
    zone: core
    crown_jewel: true
    admins: [g-core-admins]
  - id: hlr-2
    kind: network_device
    zone: core
    crown_jewel: true
    admins: [g-core-admins]
    controls: { mfa: true }
  - id: svc-portal
    kind: account
  - id: dba
    kind: account
  - id: g-core-admins
    kind: group
    members: [dba]
attack_edges:
  - from: crm-db
    to: hlr-1
    technique: T1552
    ttc_hours: 2
  - from: svc-portal
    to: dba
    technique: T1078
    ttc_hours: 3
services:
  - id: portal
    name: Customer portal
    depends_on:
      - asset: portal-app
      - asset: crm-db
  - id: mobile
    name: Mobile voice and data
    recovery_hours: 2
    depends_on:
      - any_of: [hlr-1, hlr-2]
        k: 1
      - service: portal
        kind: soft
segments:
  - id: consumer
    customers: 1000000
    uses: { mobile: 1.0, portal: 0.2 }
  - id: enterprise
    customers: 20000
    sla_weight: 3
    uses: { mobile: 1.0, portal: 0.5 }
"#;

fn graph() -> vigie_response::Graph {
    let loaded = load_str(MODEL, "test.yaml", Format::Yaml).expect("model loads");
    vigie_response::from_model(&loaded.model).expect("graph builds")
}

#[test]
fn graph_mirrors_the_model() {
    let g = graph();
    assert_eq!(g.node_count(), 9, "8 assets + the Internet");
    let inet = g.node("internet").expect("internet node");
    assert_eq!(g.kinds[inet as usize], NodeKind::Internet);
    let web = g.node("web-1").expect("web-1");
    // The Internet exploits web-1 over the internet->dmz flow.
    let from_inet: Vec<u32> = g.out_edges(inet).map(|e| g.edge_to[e]).collect();
    assert!(from_inet.contains(&web));
    let e = g
        .out_edges(inet)
        .find(|&e| g.edge_to[e] == web)
        .expect("edge");
    assert_eq!(g.edge_flows(e).len(), 1);
    assert_eq!(g.flows[g.edge_flows(e)[0] as usize].id, "internet->dmz");
    assert_eq!(g.containment_hours, 24.0);
    assert_eq!(g.crown_jewels().len(), 3);
    let portal = g.service("portal").expect("portal");
    // Only the portal uses portal-app and crm-db: taking it offline removes both.
    let excl = vec![
        g.node("portal-app").expect("app"),
        g.node("crm-db").expect("db"),
    ];
    assert_eq!(g.services[portal as usize].exclusive_nodes, excl);
}

#[test]
fn end_to_end_on_a_loaded_model() {
    let g = graph();
    let web = g.node("web-1").expect("web-1");
    let a = vigie_response::assess::assess(&g, &[web], 0).expect("assess");
    let crm = a
        .crown_jewels
        .iter()
        .find(|j| j.id == "crm-db")
        .expect("crm-db listed");
    assert!(crm.reachable, "web-1 -> svc-portal -> dba -> crm-db");
    let r = contain(
        &g,
        &ContainRequest {
            compromised: vec![web],
            ..Default::default()
        },
    )
    .expect("contain");
    let plan = r.plan.as_ref().expect("plan");
    assert!(r.optimality.optimal && plan.complete);
    // Disabling the stolen service account costs nothing and cuts every path.
    assert_eq!(plan.customer_hours, 0.0);
    assert!(r.isolate_everything.customer_hours > 0.0);
    let down = vec![Target::Node(g.node("crm-db").expect("crm-db"))];
    let rs = vigie_response::restore::restore(&g, &down, None).expect("restore");
    // crm-db back at 6 h, portal at 7 h (restart 1 h); mobile only degraded until 7 h.
    assert_eq!(rs.total_hours, 7.0);
    let expected =
        1_000_000.0 * (0.2 * 7.0 + 0.25 * 7.0) + 20_000.0 * 3.0 * (0.5 * 7.0 + 0.25 * 7.0);
    assert!(
        (rs.customer_hours - expected).abs() < 1e-6,
        "{} vs {expected}",
        rs.customer_hours
    );
}
