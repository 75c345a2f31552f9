//! The derivation rules of docs/model.md, edge by edge.

use vigie_model::{derive_attack_edges, load_str, AttackGraph, Format, Model, Rule, NONE};

fn model(text: &str) -> Model {
    match load_str(text, "t.yaml", Format::Yaml) {
        Ok(l) => l.model,
        Err(d) => panic!("{d:#?}"),
    }
}

/// Edges as readable tuples: (from, to, technique, ttc, rule, flow ids).
fn edges(m: &Model) -> Vec<(String, String, String, f64, Rule, Vec<String>)> {
    let ix = m.index();
    let g: AttackGraph = derive_attack_edges(&ix);
    let name = |n: u32| {
        if n == g.internet {
            "INTERNET".to_string()
        } else {
            m.assets[n as usize].id.clone()
        }
    };
    let mut out: Vec<_> = g
        .edges
        .iter()
        .map(|e| {
            let flows = g
                .flows(e)
                .iter()
                .map(|&f| ix.flow_ids[f as usize].clone())
                .collect();
            (
                name(e.from),
                name(e.to),
                g.technique(e).to_string(),
                g.ttc_hours(e),
                e.rule,
                flows,
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out
}

fn e(
    from: &str,
    to: &str,
    t: &str,
    ttc: f64,
    rule: Rule,
    flows: &[&str],
) -> (String, String, String, f64, Rule, Vec<String>) {
    (
        from.into(),
        to.into(),
        t.into(),
        ttc,
        rule,
        flows.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn small_example_edges_exactly() {
    let text = vigie_test_support::EXAMPLE_SMALL_MODEL;
    let got = edges(&model(text));
    let mut want = vec![
        e(
            "INTERNET",
            "web-1",
            "T1190",
            4.0,
            Rule::Exploit,
            &["internet->dmz"],
        ),
        e("portal-app", "web-1", "T1210", 4.0, Rule::Exploit, &[]),
        e(
            "web-1",
            "svc-portal",
            "T1003",
            1.0,
            Rule::CredentialTheft,
            &[],
        ),
        e(
            "dba",
            "crm-db",
            "T1021",
            0.5,
            Rule::ValidAccount,
            &["dmz->corp"],
        ),
        e(
            "g-core-admins",
            "hlr-1",
            "T1021",
            0.5,
            Rule::ValidAccount,
            &["corp-admin-core"],
        ),
        e(
            "g-core-admins",
            "hlr-2",
            "T1021",
            4.0,
            Rule::ValidAccount,
            &["corp-admin-core"],
        ),
        e("dba", "g-core-admins", "T1078", 0.0, Rule::Membership, &[]),
        e("web-1", "portal-app", "T1005", 0.1, Rule::HostToHosted, &[]),
        e("portal-app", "web-1", "T1068", 0.5, Rule::HostedToHost, &[]),
        e("crm-db", "hlr-1", "T1552", 2.0, Rule::Explicit, &[]),
    ];
    want.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    assert_eq!(got, want);
}

const NET: &str = "\
settings: { exploit_ttc_hours: 10 }
zones:
  - { id: inet, internet: true }
  - { id: a }
  - { id: b }
  - { id: c }
flows:
  - { id: a-b-ssh, from: a, to: b, protocol: tcp, ports: [22] }
  - { id: a-b-web, from: a, to: b, protocol: tcp, ports: [443] }
  - { id: a-b-ping, from: a, to: b, protocol: icmp }
  - { id: c-b-all, from: c, to: b }
  - { id: inet-b, from: inet, to: b, protocol: tcp, ports: [443] }
assets:
  - { id: x, kind: host, zone: a, controls: { edr: true }, credentials: [acct] }
  - { id: y, kind: host, zone: c }
  - id: t
    kind: host
    zone: b
    exposed: true
    listens: [443, 8080]
    vulnerabilities:
      - { id: slow, ports: [443], ttc_hours: 30 }
      - { id: fast, ports: [443], ttc_hours: 3, technique: T1133 }
      - { id: any, ttc_hours: 7 }
  - { id: lonely, kind: host, zone: a, admins: [acct] }
  - { id: acct, kind: account }
";

#[test]
fn exploitation_follows_flows_ports_and_fastest_vulnerability() {
    let got = edges(&model(NET));
    let exploit: Vec<_> = got
        .iter()
        .filter(|e| e.4 == Rule::Exploit)
        .cloned()
        .collect();
    // From zone a: `fast` (443) is carried by a-b-web only; `any` (no ports: t's listens
    // 443/8080) also by a-b-web: the fastest per flow set wins. ICMP carries nothing, and
    // ssh (22) matches no vulnerable port.
    // From zone c: the all-ports flow carries everything.
    // From the Internet: t is exposed; inet-b carries 443.
    let want = vec![
        e("INTERNET", "t", "T1133", 3.0, Rule::Exploit, &["inet-b"]),
        e("lonely", "t", "T1133", 3.0, Rule::Exploit, &["a-b-web"]),
        e("x", "t", "T1133", 3.0, Rule::Exploit, &["a-b-web"]),
        e("y", "t", "T1133", 3.0, Rule::Exploit, &["c-b-all"]),
    ];
    assert_eq!(exploit, want);
}

#[test]
fn credential_theft_is_slower_under_edr() {
    let got = edges(&model(NET));
    assert!(
        got.contains(&e("x", "acct", "T1003", 4.0, Rule::CredentialTheft, &[])),
        "{got:#?}"
    );
}

#[test]
fn valid_account_needs_network_access_to_the_zone() {
    // `lonely` is in zone a: no flow enters a, but a holds another asset (x): same-zone
    // access, which no flow block can cut.
    let got = edges(&model(NET));
    assert!(
        got.contains(&e("acct", "lonely", "T1021", 0.5, Rule::ValidAccount, &[])),
        "{got:#?}"
    );
    // Alone in a zone nobody can enter: no edge.
    let text = NET
        .replace("  - { id: c }\n", "  - { id: c }\n  - { id: island }\n")
        .replace(
            "{ id: lonely, kind: host, zone: a,",
            "{ id: lonely, kind: host, zone: island,",
        );
    let got = edges(&model(&text));
    assert!(
        !got.iter()
            .any(|e| e.1 == "lonely" && e.4 == Rule::ValidAccount),
        "{got:#?}"
    );
}

#[test]
fn exposure_without_internet_zone_needs_no_flow() {
    let text = NET
        .replace("  - { id: inet, internet: true }\n", "")
        .replace(
            "  - { id: inet-b, from: inet, to: b, protocol: tcp, ports: [443] }\n",
            "",
        );
    let m = model(&text);
    let g = derive_attack_edges(&m.index());
    let internet: Vec<_> = g.edges.iter().filter(|e| e.from == g.internet).collect();
    assert_eq!(internet.len(), 1);
    assert_eq!(internet[0].flowset, NONE);
    assert_eq!(g.technique(internet[0]), "T1133");
}

#[test]
fn explicit_edges_from_the_internet_zone() {
    let text = format!("{NET}attack_edges:\n  - {{ from: inet, to: y, technique: T1566 }}\n");
    let got = edges(&model(&text));
    assert!(
        got.contains(&e("INTERNET", "y", "T1566", 10.0, Rule::Explicit, &[])),
        "{got:#?}"
    );
}
