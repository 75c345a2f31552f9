//! `vigie exercise rank`: candidate changes, their no-op checks, the screening, and the
//! ranking's statistics (common random numbers, the measured claim of issue 11).

use vigie_model::{demo, derive_attack_edges, Model, Rule};
use vigie_sim::rank::candidates::{enumerate, same_edges, Baseline};
use vigie_sim::rank::{Change, ChangeKind};

fn graph(m: &Model) -> vigie_model::AttackGraph {
    derive_attack_edges(&m.index())
}

fn pos(m: &Model, id: &str) -> usize {
    m.assets.iter().position(|a| a.id == id).unwrap()
}

#[test]
fn edr_where_present_and_telemetry_not_stated_are_no_ops() {
    let m = demo();
    let with = m.assets.iter().find(|a| a.controls.edr).unwrap();
    assert!(Change::Edr {
        asset: with.id.clone()
    }
    .apply(&m)
    .is_none());
    let unstated = m.assets.iter().find(|a| a.telemetry.is_none()).unwrap();
    let c = Change::Telemetry {
        asset: unstated.id.clone(),
        source: "sysmon".into(),
    };
    assert!(
        c.apply(&m).is_none(),
        "no telemetry stated = every source shipped"
    );
    assert!(Change::Edr {
        asset: "no-such".into()
    }
    .apply(&m)
    .is_none());
    assert!(Change::Flow {
        flow: "no-such".into()
    }
    .apply(&m)
    .is_none());
}

#[test]
fn edr_slows_credential_theft_from_the_asset() {
    let m = demo();
    let a = m
        .assets
        .iter()
        .find(|a| !a.controls.edr && !a.credentials.is_empty())
        .unwrap();
    let ai = pos(&m, &a.id) as u32;
    let m2 = Change::Edr {
        asset: a.id.clone(),
    }
    .apply(&m)
    .unwrap();
    assert!(m2.assets[ai as usize].controls.edr);
    let (g, g2) = (graph(&m), graph(&m2));
    assert!(!same_edges(&m, &g, &m2, &g2));
    let theft = |g: &vigie_model::AttackGraph| -> Vec<f64> {
        g.edges
            .iter()
            .filter(|e| e.from == ai && e.rule == Rule::CredentialTheft)
            .map(|e| g.ttc_dist(e).mean_hours)
            .collect()
    };
    let f = m.settings.edr_factor;
    let slowed: Vec<f64> = theft(&g).iter().map(|h| h * f).collect();
    assert_eq!(theft(&g2), slowed);
    assert!(same_edges(&m, &g, &m, &g));
}

#[test]
fn patch_and_flow_removal_cut_edges() {
    let m = demo();
    let a = m
        .assets
        .iter()
        .find(|a| a.vulnerabilities.len() == 1 && a.exposed)
        .unwrap();
    let ai = pos(&m, &a.id) as u32;
    let c = Change::Patch {
        asset: a.id.clone(),
        vulnerability: a.vulnerabilities[0].id.clone(),
    };
    let m2 = c.apply(&m).unwrap();
    assert!(m2.assets[ai as usize].vulnerabilities.is_empty());
    let exploits = |g: &vigie_model::AttackGraph| {
        g.edges
            .iter()
            .filter(|e| e.to == ai && e.rule == Rule::Exploit)
            .count()
    };
    assert!(exploits(&graph(&m)) > 0);
    assert_eq!(exploits(&graph(&m2)), 0);

    let g = graph(&m);
    let fi = (0..m.flows.len())
        .find(|&f| g.edges.iter().any(|e| g.flows(e) == [f as u32]))
        .unwrap();
    let m3 = Change::Flow {
        flow: m.flows[fi].id(),
    }
    .apply(&m)
    .unwrap();
    assert_eq!(m3.flows.len(), m.flows.len() - 1);
    assert!(!same_edges(&m, &g, &m3, &graph(&m3)));
}

#[test]
fn screening_drops_what_the_baseline_never_reaches_and_takes_kinds_in_turn() {
    let m = demo();
    let g = graph(&m);
    let uncovered = vec!["T1003".to_string(), "T9999".to_string()];
    let none = vec![0.0; m.assets.len()];
    let b = Baseline {
        model: &m,
        graph: &g,
        reach: &none,
        uncovered: &uncovered,
    };
    let (c, screened) = enumerate(&b, &ChangeKind::ALL);
    assert!(c.is_empty() && screened > 0);

    let all = vec![0.5; m.assets.len()];
    let b = Baseline { reach: &all, ..b };
    let (c, screened) = enumerate(&b, &ChangeKind::ALL);
    assert_eq!(screened, 0);
    // Never EDR where present, never a flow services cross, never a technique no edge uses.
    for (ch, s) in &c {
        assert!(*s > 0.0);
        match ch {
            Change::Edr { asset } => assert!(!m.assets[pos(&m, asset)].controls.edr),
            Change::Mfa { asset } => assert!(!m.assets[pos(&m, asset)].controls.mfa),
            Change::Flow { flow } => {
                assert!(m
                    .flows
                    .iter()
                    .any(|f| &f.id() == flow && f.services.is_empty()))
            }
            Change::Rule { technique } => assert_eq!(technique, "T1003"),
            _ => {}
        }
        assert!(ch.apply(&m).is_some(), "{ch:?} applies");
    }
    // Kinds alternate at the head of the list.
    let head: Vec<ChangeKind> = c.iter().take(3).map(|(ch, _)| ch.kind()).collect();
    assert_eq!(head, [ChangeKind::Edr, ChangeKind::Mfa, ChangeKind::Rule]);
    let (only, _) = enumerate(&b, &[ChangeKind::Patch]);
    assert!(!only.is_empty() && only.iter().all(|(ch, _)| ch.kind() == ChangeKind::Patch));
}

#[test]
fn kinds_parse() {
    for k in ChangeKind::ALL {
        assert_eq!(ChangeKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(ChangeKind::parse(" EDR "), Some(ChangeKind::Edr));
    assert_eq!(ChangeKind::parse("firewall"), None);
}
