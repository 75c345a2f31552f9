//! Small models built in code for the oracles: one Internet zone, one inside zone, hosts
//! with nothing to derive edges from (no vulnerability, credential, admin or host), so
//! the only attack edges are the explicit ones each oracle states, with their `ttc`.

use std::collections::BTreeMap;

use vigie_model::{
    Asset, AssetKind, AttackEdgeSpec, DepKind, DepTarget, Dependency, Model, Segment, Service, Ttc,
    TtcDist, Zone,
};

/// Id of the Internet zone (the attacker's origin) in every model here.
pub const INTERNET: &str = "internet";
/// Id of the one inside zone.
pub const LAN: &str = "lan";

/// Techniques used by the oracles: the detection table gives each its own probability and
/// delay, so a model chooses which steps are seen by the technique it puts on them.
pub const T_SEEN: &str = "T1190";
pub const T_UNSEEN: &str = "T1021";

/// An empty model with the two zones.
pub fn base() -> Model {
    Model {
        zones: vec![
            Zone {
                id: INTERNET.into(),
                internet: true,
                ..Zone::default()
            },
            Zone {
                id: LAN.into(),
                ..Zone::default()
            },
        ],
        ..Model::default()
    }
}

/// A host in the inside zone.
pub fn host(id: &str) -> Asset {
    Asset {
        zone: Some(LAN.into()),
        ..Asset::new(id, AssetKind::Host)
    }
}

/// A crown-jewel host in the inside zone.
pub fn jewel(id: &str) -> Asset {
    Asset {
        crown_jewel: true,
        ..host(id)
    }
}

/// An explicit attack edge.
pub fn edge(from: &str, to: &str, technique: &str, ttc: Ttc) -> AttackEdgeSpec {
    AttackEdgeSpec {
        from: from.into(),
        to: to.into(),
        technique: technique.into(),
        ttc_hours: None,
        ttc: Some(ttc),
    }
}

/// Exponential of rate `rate` per hour.
pub fn exp_rate(rate: f64) -> Ttc {
    Ttc::exponential(1.0 / rate)
}

pub fn ttc(dist: TtcDist, mean_hours: f64, cv: Option<f64>, p_success: Option<f64>) -> Ttc {
    Ttc {
        dist,
        mean_hours,
        cv,
        p_success,
    }
}

/// Internet → a1 → … → ak: `k` hosts in a line, every step of distribution `step` and
/// technique `technique`; ak is a crown jewel.
pub fn chain(k: usize, step: Ttc, technique: &str) -> Model {
    let mut m = base();
    let ids: Vec<String> = (1..=k).map(|i| format!("a{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        m.assets.push(if i + 1 == k { jewel(id) } else { host(id) });
    }
    let mut from = INTERNET.to_string();
    for id in &ids {
        m.attack_edges.push(edge(&from, id, technique, step));
        from.clone_from(id);
    }
    m
}

/// One asset `a1`, one edge from the Internet to it.
pub fn one_step(step: Ttc, technique: &str) -> Model {
    chain(1, step, technique)
}

/// A service `svc` needing `asset` (hard), used at weight 1 by a segment of `customers`.
pub fn serve(m: &mut Model, svc: &str, asset: &str, customers: u64) {
    m.services.push(Service {
        id: svc.into(),
        name: String::new(),
        depends_on: vec![Dependency {
            target: DepTarget::Asset(asset.into()),
            kind: DepKind::Hard,
        }],
        recovery_hours: 1.0,
        tags: Vec::new(),
    });
    m.segments.push(Segment {
        id: format!("{svc}-users"),
        name: String::new(),
        customers,
        sla_weight: 1.0,
        uses: BTreeMap::from([(svc.to_string(), 1.0)]),
        tags: Vec::new(),
        countries: Vec::new(),
    });
}

/// Index of an asset in the model (what `SampleOutcome::reached` names).
pub fn index_of(m: &Model, id: &str) -> u32 {
    m.assets
        .iter()
        .position(|a| a.id == id)
        .map(|i| i as u32)
        .unwrap_or_else(|| panic!("no asset {id} in the test model"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_model::{derive_attack_edges, validate, Rule};

    fn explicit_only(m: &Model, edges: usize) {
        let diags = validate(m);
        assert!(
            diags
                .iter()
                .all(|d| d.severity != vigie_model::Severity::Error),
            "{diags:?}"
        );
        let ix = m.index();
        let ag = derive_attack_edges(&ix);
        assert_eq!(ag.edges.len(), edges, "{:?}", ag.edges);
        assert!(ag.edges.iter().all(|e| e.rule == Rule::Explicit));
    }

    #[test]
    fn chain_is_valid_and_has_only_its_edges() {
        let m = chain(4, exp_rate(0.5), T_UNSEEN);
        explicit_only(&m, 4);
        let ag = derive_attack_edges(&m.index());
        // Internet → a1 → a2 → a3 → a4, each with the stated distribution.
        let mut path: Vec<(u32, u32)> = ag.edges.iter().map(|e| (e.from, e.to)).collect();
        path.sort_unstable();
        assert_eq!(path, vec![(0, 1), (1, 2), (2, 3), (ag.internet, 0)]);
        for e in &ag.edges {
            assert_eq!(ag.ttc_dist(e), exp_rate(0.5));
            assert_eq!(ag.technique(e), T_UNSEEN);
        }
        assert!(m.assets[3].crown_jewel && !m.assets[2].crown_jewel);
    }

    #[test]
    fn every_shape_survives_derivation() {
        for t in [
            ttc(TtcDist::Gamma, 3.0, Some(0.5), None),
            ttc(TtcDist::Lognormal, 3.0, Some(2.0), Some(0.3)),
            ttc(TtcDist::Fixed, 0.0, None, None),
        ] {
            let m = one_step(t, T_SEEN);
            explicit_only(&m, 1);
            let ag = derive_attack_edges(&m.index());
            assert_eq!(ag.ttc_dist(&ag.edges[0]), t);
            assert_eq!(ag.ttc_hours(&ag.edges[0]), t.mean_hours);
        }
    }

    #[test]
    fn the_file_form_is_the_same_model() {
        // The oracles build models in code; a file stating the same thing loads to the
        // same model, so the oracles hold for `vigie exercise --model` too.
        let yaml = r#"
zones:
  - {id: internet, internet: true}
  - {id: lan}
assets:
  - {id: a1, kind: host, zone: lan}
  - {id: a2, kind: host, zone: lan, crown_jewel: true}
attack_edges:
  - {from: internet, to: a1, technique: T1021, ttc: {dist: exponential, mean_hours: 2.0, p_success: 0.3}}
  - {from: a1, to: a2, technique: T1021, ttc: {dist: exponential, mean_hours: 2.0, p_success: 0.3}}
"#;
        let loaded = match vigie_model::load_str(yaml, "oracle.yaml", vigie_model::Format::Yaml) {
            Ok(l) => l,
            Err(d) => panic!("{d:#?}"),
        };
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let step = ttc(TtcDist::Exponential, 2.0, None, Some(0.3));
        assert_eq!(loaded.model, chain(2, step, T_UNSEEN));
    }

    #[test]
    fn served_model_is_valid_for_response() {
        let mut m = one_step(exp_rate(1.0), T_SEEN);
        serve(&mut m, "billing", "a1", 1000);
        explicit_only(&m, 1);
        let g = vigie_response::from_model(&m).expect("graph");
        assert_eq!(g.crown_jewels(), vec![index_of(&m, "a1")]);
    }
}
