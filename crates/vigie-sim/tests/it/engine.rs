//! The exercise engine (`vigie_sim::run`): determinism, common random numbers, exact times
//! on fixed chains, the horizon, entry assets, and prices equal to the response engines'.

use vigie_model::{load_str, Format, Model};
use vigie_response::contain::{contain, ContainRequest};
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SimConfig};

fn model(text: &str) -> Model {
    match load_str(text, "t.yaml", Format::Yaml) {
        Ok(l) => l.model,
        Err(d) => panic!("{d:#?}"),
    }
}

/// Internet -> a -> b -> c, fixed times 1, 2, 3 h; c is the crown jewel. `extra` adds
/// attack edges (YAML list items).
fn chain(extra: &str) -> Model {
    chain_of("dist: fixed, ", extra)
}

/// The same chain with `dist` the shape prefix of every time ("" for exponentials).
fn chain_of(dist: &str, extra: &str) -> Model {
    model(&format!(
        r#"
zones:
  - id: internet
    internet: true
  - id: lan
assets:
  - {{ id: a, kind: host, zone: lan, telemetry: [] }}
  - {{ id: b, kind: host, zone: lan, telemetry: [] }}
  - {{ id: c, kind: host, zone: lan, crown_jewel: true, telemetry: [] }}
  - {{ id: d, kind: host, zone: lan, telemetry: [] }}
attack_edges:
  - {{ from: internet, to: a, technique: T1190, ttc: {{ {dist}mean_hours: 1 }} }}
  - {{ from: a, to: b, technique: T1021, ttc: {{ {dist}mean_hours: 2 }} }}
  - {{ from: b, to: c, technique: T1021, ttc: {{ {dist}mean_hours: 3 }} }}
{extra}
"#
    ))
}

fn cfg(samples: u64) -> SimConfig {
    SimConfig {
        samples,
        threads: Some(1),
        ..SimConfig::default()
    }
}

/// The detection model of `m` under the embedded table overridden by `overlay`.
fn detection(m: &Model, overlay: &str) -> DetectionModel {
    let table = DetectionTable::embedded()
        .overlay(overlay, "t.yml")
        .unwrap();
    DetectionModel::build(m, None, &table)
}

/// Nothing detects the chain's steps (no rules loaded, no EDR, no baseline).
fn no_detection(m: &Model) -> DetectionModel {
    detection(
        m,
        "techniques:\n  T1190: {baseline_p: 0, edr_p: 0}\n  T1021: {baseline_p: 0, edr_p: 0}\n  T1570: {baseline_p: 0, edr_p: 0}\n",
    )
}

/// The embedded table (the demo's detection when no rule is loaded).
fn default_detection(m: &Model) -> DetectionModel {
    DetectionModel::build(m, None, &DetectionTable::embedded())
}

fn run(m: &Model, c: &SimConfig) -> vigie_sim::run::ExerciseReport {
    let dm = no_detection(m);
    Exercise::new(m, &dm, c).unwrap().run(&|_| {})
}

#[test]
fn fixed_chain_gives_exact_times() {
    let m = chain("");
    let r = run(&m, &cfg(20));
    let c = &r.crown_jewels[0];
    assert_eq!(c.id, "c");
    assert_eq!(c.p_reached, 1.0);
    let t = c.ttc_hours.unwrap();
    assert_eq!((t.mean, t.p5, t.p50, t.p95), (6.0, 6.0, 6.0, 6.0));
    assert_eq!(r.paths.len(), 1);
    assert_eq!(r.paths[0].nodes, ["internet", "a", "b", "c"]);
    assert_eq!(r.paths[0].share, 1.0);
    let ex = Exercise::new(&m, &no_detection(&m), &cfg(1)).unwrap();
    let s = ex.sample(0);
    assert_eq!(s.reached, vec![(0, 1.0), (1, 3.0), (2, 6.0)]);
    assert_eq!(s.steps.len(), 3);
    assert_eq!(s.detected_at, None);
    assert_eq!(s.stopped_at, 720.0);
    assert_eq!(s.compromised, vec![0, 1, 2]);
    assert_eq!(s.destroyed, vec![2]);
}

#[test]
fn horizon_cuts_the_attack() {
    let m = chain("");
    let c = SimConfig {
        horizon_hours: 5.0,
        ..cfg(10)
    };
    let r = run(&m, &c);
    assert_eq!(r.crown_jewels[0].p_reached, 0.0);
    assert_eq!(r.crown_jewels[0].ttc_hours, None);
    let ex = Exercise::new(&m, &no_detection(&m), &c).unwrap();
    let s = ex.sample(3);
    assert_eq!(s.reached, vec![(0, 1.0), (1, 3.0)]);
    assert_eq!(s.stopped_at, 5.0);
    assert!(s.destroyed.is_empty());
    // Exactly at the horizon counts as reached.
    let at6 = SimConfig {
        horizon_hours: 6.0,
        ..cfg(1)
    };
    assert_eq!(run(&m, &at6).crown_jewels[0].p_reached, 1.0);
}

#[test]
fn entry_assets_start_the_attack() {
    let m = chain("");
    let c = SimConfig {
        entry: vec!["b".into()],
        ..cfg(5)
    };
    let ex = Exercise::new(&m, &no_detection(&m), &c).unwrap();
    let s = ex.sample(0);
    assert_eq!(s.reached, vec![(1, 0.0), (2, 3.0)]);
    let r = ex.run(&|_| {});
    assert_eq!(r.paths[0].nodes, ["b", "c"]);
    assert_eq!(r.crown_jewels[0].ttc_hours.unwrap().mean, 3.0);
    let bad = SimConfig {
        entry: vec!["nope".into()],
        ..cfg(5)
    };
    assert!(Exercise::new(&m, &no_detection(&m), &bad).is_err());
}

#[test]
fn one_extra_edge_keeps_the_other_steps_numbers() {
    let base = chain_of("", "");
    let extra = "  - { from: a, to: c, technique: T1570, ttc: { mean_hours: 6 } }";
    let variant = chain_of("", extra);
    let c = cfg(400);
    let eb = Exercise::new(&base, &no_detection(&base), &c).unwrap();
    let ev = Exercise::new(&variant, &no_detection(&variant), &c).unwrap();
    let new_edge = (0..ev.edge_count() as u32)
        .find(|&e| ev.edge(e).is_some_and(|i| i.technique == "T1570"))
        .unwrap();
    let (mut used, mut unused) = (0, 0);
    for i in 0..c.samples {
        let (sb, sv) = (eb.sample(i), ev.sample(i));
        if sv.steps.iter().any(|s| s.edge == new_edge) {
            used += 1;
            continue;
        }
        unused += 1;
        assert_eq!(sb.reached, sv.reached, "sample {i}");
    }
    assert!(used > 20 && unused > 20, "used {used} unused {unused}");
}

#[test]
fn report_bytes_do_not_depend_on_threads() {
    let m = vigie_model::demo();
    let dm = default_detection(&m);
    let json = |threads: usize, samples: u64, containment: bool| {
        let c = SimConfig {
            samples,
            seed: 7,
            threads: Some(threads),
            containment,
            ..SimConfig::default()
        };
        let r = Exercise::new(&m, &dm, &c).unwrap().run(&|_| {});
        serde_json::to_string(&r).unwrap()
    };
    // Pricing is slow in a debug build: fewer samples with it.
    for (samples, containment) in [(600, false), (40, true)] {
        let one = json(1, samples, containment);
        assert_eq!(one, json(2, samples, containment));
        assert_eq!(one, json(2, samples, containment));
        assert_eq!(one, json(1, samples, containment));
    }
}

#[test]
fn containment_price_is_vigie_contain_on_the_compromised_set() {
    let m = vigie_model::demo();
    let dm = default_detection(&m);
    let (mut priced, mut costly) = (0, 0);
    // A short horizon (the demo attacker holds every crown jewel within a day, so it
    // leaves some to protect), and the default one (containment at detection).
    for (horizon, samples) in [(5.0, 30), (720.0, 15)] {
        let c = SimConfig {
            horizon_hours: horizon,
            ..cfg(samples)
        };
        let ex = Exercise::new(&m, &dm, &c).unwrap();
        for i in 0..c.samples {
            let s = ex.sample(i);
            if s.compromised.is_empty() {
                assert_eq!(s.containment_hours, 0.0);
                continue;
            }
            // vigie contain's own defaults (alternatives included): the cheapest plan is the same.
            let req = ContainRequest {
                compromised: s.compromised.clone(),
                ..ContainRequest::default()
            };
            match contain(ex.graph(), &req) {
                Ok(r) => {
                    let plan = r
                        .plan
                        .expect("a complete plan exists without an action limit");
                    assert_eq!(s.containment_hours, plan.customer_hours, "sample {i}");
                    priced += 1;
                    costly += usize::from(plan.customer_hours > 0.0);
                }
                Err(vigie_response::Error::NothingToProtect) => {
                    assert_eq!(s.containment_hours, 0.0)
                }
                Err(e) => panic!("{e}"),
            }
            let down: Vec<_> = s
                .destroyed
                .iter()
                .map(|&n| vigie_response::graph::Target::Node(n))
                .collect();
            let restore = if down.is_empty() {
                0.0
            } else {
                vigie_response::restore::restore(ex.graph(), &down, None)
                    .unwrap()
                    .customer_hours
            };
            assert_eq!(s.restore_hours, restore);
            assert_eq!(s.customer_hours, s.containment_hours + s.restore_hours);
        }
    }
    assert!(priced > 5, "only {priced} samples priced");
    assert!(costly > 0, "no sample with a costly plan");
}
