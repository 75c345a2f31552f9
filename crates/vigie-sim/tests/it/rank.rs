//! `vigie exercise rank`: candidate changes, their no-op checks, the screening, and the
//! ranking's statistics (common random numbers, the measured claim of issue 11).

use vigie_model::{demo, derive_attack_edges, Model, Rule};
use vigie_sim::rank::candidates::{enumerate, same_edges, Baseline, UsedEdge};
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
    let mut m = demo();
    let emp = pos(&m, "emp-web-1");
    m.assets[emp].telemetry = Some(vec!["Linux".into()]);
    let g = graph(&m);
    let uncovered = vec!["T1003".to_string(), "T9999".to_string()];
    let mut sources = rustc_hash::FxHashMap::default();
    sources.insert(
        "T1190".to_string(),
        vec!["linux".to_string(), "sysmon".to_string()],
    );
    let none = vec![0.0; m.assets.len()];
    let b = Baseline {
        model: &m,
        graph: &g,
        reach: &none,
        uncovered: &uncovered,
        used: &[],
        sources: &sources,
    };
    let (c, screened) = enumerate(&b, &ChangeKind::ALL);
    assert!(c.is_empty() && screened > 0);

    let all = vec![0.5; m.assets.len()];
    let used: Vec<UsedEdge> = g
        .edges
        .iter()
        .map(|e| UsedEdge {
            from: e.from,
            to: e.to,
            technique: g.technique(e).to_string(),
            rule: e.rule,
            cut_by: match g.flows(e) {
                [f] => Some(*f),
                _ => None,
            },
            freq: 0.5,
        })
        .collect();
    let b = Baseline {
        reach: &all,
        used: &used,
        ..b
    };
    // Only flows that carry no edge alone score 0 when every edge is used.
    let (_, screened) = enumerate(&b, &ChangeKind::ALL[..5]);
    assert_eq!(screened, 0);
    let (c, _) = enumerate(&b, &ChangeKind::ALL);
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
    // Telemetry: only what a rule for a technique entering the asset reads, and only on
    // assets whose telemetry is stated.
    let tel: Vec<&Change> = c
        .iter()
        .map(|(ch, _)| ch)
        .filter(|ch| ch.kind() == ChangeKind::Telemetry)
        .collect();
    assert!(tel.contains(&&Change::Telemetry {
        asset: "emp-web-1".into(),
        source: "sysmon".into()
    }));
    for ch in &tel {
        let Change::Telemetry { asset, source } = ch else {
            unreachable!()
        };
        assert!(source == "linux" || source == "sysmon", "{ch:?}");
        let ships = m.assets[pos(&m, asset)].telemetry.as_ref().unwrap();
        assert!(
            !ships.iter().any(|s| s.eq_ignore_ascii_case(source)),
            "{ch:?}"
        );
    }
    // Kinds alternate at the head of the list.
    let head: Vec<ChangeKind> = c.iter().take(3).map(|(ch, _)| ch.kind()).collect();
    assert_eq!(
        head,
        [ChangeKind::Edr, ChangeKind::Mfa, ChangeKind::Telemetry]
    );
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

// --- The ranking itself (the engine in the loop; small sample counts for a debug build).

use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::rank::{evaluate, rank, variant_of, RankInput, RankOptions};
use vigie_sim::run::{Exercise, SimConfig};

fn config(samples: u64, seed: u64, threads: Option<usize>) -> SimConfig {
    SimConfig {
        samples,
        seed,
        threads,
        ..SimConfig::default()
    }
}

/// The repository's rule pack (what the binary embeds).
fn rules() -> vigie_sigma::RuleSet {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"));
    vigie_sigma::RuleSet::load(&[dir], &vigie_sigma::LoadOptions::default())
        .unwrap()
        .0
}

#[test]
fn the_top_change_rerun_with_another_seed_saves_at_least_its_lower_bound() {
    let m = demo();
    let rules = rules();
    let table = DetectionTable::embedded();
    let cfg0 = config(200, 0, None);
    let input = RankInput {
        model: &m,
        rules: Some(&rules),
        table: &table,
        config: &cfg0,
    };
    let opts = RankOptions {
        max_candidates: 6,
        ..RankOptions::default()
    };
    let r = rank(&input, &opts, &|_| {}).unwrap();
    let top = r.ranked.first().expect("something to rank on the demo");
    assert!(top.paired.reduction > 0.0, "{top:?}");
    let cfg1 = config(200, 1, None);
    let again = evaluate(
        &RankInput {
            config: &cfg1,
            ..input
        },
        &top.change,
    )
    .unwrap();
    assert!(
        again.reduction >= top.paired.ci95[0],
        "{}: seed 1 saves {} < the seed-0 lower bound {}",
        top.change.describe(),
        again.reduction,
        top.paired.ci95[0]
    );
}

/// Samples of the pairing test (deterministic: seeded). At 200 the paired/unpaired
/// variance ratio was 0.078 before the engine's exponential sampler changed (ziggurat)
/// and 0.149 after: too few samples to judge; at 1,000 it is 0.094.
const N_CRN: u64 = 1_000;

#[test]
fn common_random_numbers_pair_the_samples() {
    let m = demo();
    let rules = rules();
    let table = DetectionTable::embedded();
    let cfg = config(200, 0, None);
    let input = RankInput {
        model: &m,
        rules: Some(&rules),
        table: &table,
        config: &cfg,
    };
    let dm = DetectionModel::build(&m, Some(&rules), &table);
    // The legacy bastion without MFA: a change that moves some samples, not all (CRN
    // pays most there; a change that rewrites every sample, like patching the main way
    // in, has paired differences as large as the costs themselves).
    let change = Change::Mfa {
        asset: "bastion-2".into(),
    };
    let v = variant_of(&input, &dm, &change).unwrap();
    let costs = |model: &Model, det: &DetectionModel, seed: u64| -> Vec<f64> {
        let ex = Exercise::new(model, det, &config(N_CRN, seed, None)).unwrap();
        (0..N_CRN).map(|i| ex.sample(i).customer_hours).collect()
    };
    let base = costs(&m, &dm, 0);
    let paired = costs(&v.model, &v.detection, 0);
    let unpaired = costs(&v.model, &v.detection, 1);
    let var = |d: Vec<f64>| {
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
    };
    let vp = var(base.iter().zip(&paired).map(|(a, b)| a - b).collect());
    let vu = var(base.iter().zip(&unpaired).map(|(a, b)| a - b).collect());
    eprintln!(
        "paired variance {vp:.4e}, unpaired {vu:.4e}, ratio {:.3}",
        vp / vu
    );
    assert!(vu > 0.0);
    assert!(vp > 0.0, "the change moves some samples");
    assert!(vp < 0.1 * vu, "paired variance {vp} vs unpaired {vu}");
}

#[test]
fn the_ranking_is_the_same_whatever_the_threads() {
    let m = demo();
    let rules = rules();
    let table = DetectionTable::embedded();
    let opts = RankOptions {
        max_candidates: 4,
        top: 4,
        ..RankOptions::default()
    };
    let run = |threads| {
        let cfg = config(100, 3, Some(threads));
        let input = RankInput {
            model: &m,
            rules: Some(&rules),
            table: &table,
            config: &cfg,
        };
        rank(&input, &opts, &|_| {}).unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two);
    assert!(one.evaluated > 0);
    assert_eq!(
        one.enumerated,
        one.screened_out + one.no_ops + one.capped + one.evaluated
    );
}
