//! Invariants of the derived attack edges on generated operators of random seeds and sizes:
//! every edge is justified by the model exactly as docs/model.md says.

use proptest::prelude::*;
use vigie_model::{derive_attack_edges, generate_model, AssetKind, GenOptions, Rule, NONE};

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn every_edge_is_justified(seed in any::<u64>(), assets in 92usize..1200) {
        let m = generate_model(GenOptions::new(assets, seed));
        let ix = m.index();
        let g = derive_attack_edges(&ix);
        let n = m.assets.len() as u32;
        prop_assert_eq!(g.internet, n);
        for fs in &g.flowsets {
            prop_assert!(!fs.is_empty());
            prop_assert!(fs.windows(2).all(|w| w[0] < w[1]), "flow set not sorted/unique");
        }
        let zone = |a: u32| ix.asset_zone[a as usize];
        for e in &g.edges {
            prop_assert!(e.to < n, "edge into the Internet node");
            prop_assert!(e.from != e.to);
            prop_assert!((e.ttc as usize) < g.ttcs.len());
            prop_assert!(g.ttc_hours(e) >= 0.0);
            let to = &m.assets[e.to as usize];
            match e.rule {
                Rule::Exploit => {
                    prop_assert!(!to.vulnerabilities.is_empty());
                    if e.from == n {
                        prop_assert!(to.exposed);
                        for &f in g.flows(e) {
                            prop_assert_eq!(ix.flow_zones[f as usize], (ix.internet_zone.unwrap_or(NONE), zone(e.to)));
                        }
                    } else if e.flowset == NONE {
                        prop_assert_eq!(zone(e.from), zone(e.to));
                    } else {
                        for &f in g.flows(e) {
                            prop_assert_eq!(ix.flow_zones[f as usize], (zone(e.from), zone(e.to)));
                        }
                    }
                }
                Rule::CredentialTheft => {
                    prop_assert_eq!(to.kind, AssetKind::Account);
                    prop_assert!(m.assets[e.from as usize].credentials.contains(&to.id));
                }
                Rule::ValidAccount => {
                    prop_assert!(m.assets[e.from as usize].kind.is_identity());
                    prop_assert!(!to.kind.is_identity());
                    prop_assert!(to.admins.contains(&m.assets[e.from as usize].id));
                    for &f in g.flows(e) {
                        let (from_z, to_z) = ix.flow_zones[f as usize];
                        prop_assert_eq!(to_z, zone(e.to));
                        prop_assert!(from_z != to_z);
                    }
                }
                Rule::Membership => {
                    prop_assert_eq!(to.kind, AssetKind::Group);
                    prop_assert!(to.members.contains(&m.assets[e.from as usize].id));
                }
                Rule::HostToHosted => prop_assert_eq!(ix.runs_on[e.to as usize], e.from),
                Rule::HostedToHost => prop_assert_eq!(ix.runs_on[e.from as usize], e.to),
                Rule::Explicit => prop_assert!(false, "generated models state no explicit edge"),
            }
        }
        // Every credential, admin right, membership and hosting link gives exactly one edge.
        let count = |r: Rule| g.edges.iter().filter(|e| e.rule == r).count();
        let creds: usize = m.assets.iter().map(|a| a.credentials.len()).sum();
        let members: usize = m.assets.iter().map(|a| a.members.len()).sum();
        let hosted = m.assets.iter().filter(|a| a.runs_on.is_some()).count();
        prop_assert_eq!(count(Rule::CredentialTheft), creds);
        prop_assert_eq!(count(Rule::Membership), members);
        prop_assert_eq!(count(Rule::HostToHosted), hosted);
        prop_assert_eq!(count(Rule::HostedToHost), hosted);
    }
}
