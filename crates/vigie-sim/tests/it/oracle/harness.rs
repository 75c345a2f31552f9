//! Running the engine for the oracles: an exact detection table (the user override table
//! of `vigie_sim::detection`, so each technique gets exactly the probability and delay
//! an oracle needs), an exercise, and its samples.

use rayon::prelude::*;
use vigie_model::{Model, Ttc, TtcDist};
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::{Exercise, SampleOutcome, SimConfig};

/// Samples per oracle (issue 11, point 7).
pub const N: u64 = 100_000;

/// A horizon no oracle's times come near (the horizon must be finite): with it the
/// engine's truncation plays no part unless an oracle sets its own.
pub const FAR: f64 = 1e9;

fn dist_name(d: TtcDist) -> &'static str {
    match d {
        TtcDist::Exponential => "exponential",
        TtcDist::Gamma => "gamma",
        TtcDist::Lognormal => "lognormal",
        TtcDist::Fixed => "fixed",
    }
}

/// A ttc as a YAML flow mapping (`{:?}` of an f64 reads back to the same number).
fn ttc_yaml(t: &Ttc) -> String {
    let mut s = format!(
        "{{dist: {}, mean_hours: {:?}",
        dist_name(t.dist),
        t.mean_hours
    );
    if let Some(cv) = t.cv {
        s.push_str(&format!(", cv: {cv:?}"));
    }
    s.push('}');
    s
}

/// The embedded table overridden so that no technique is detected (baseline and EDR 0,
/// and no rule is loaded) except the `seen` ones: (technique, p, delay), where the
/// baseline alone gives p.
pub fn table(model: &Model, seen: &[(&str, f64, Ttc)]) -> DetectionTable {
    let embedded = DetectionTable::embedded();
    let mut text = String::from("default: {baseline_p: 0.0, edr_p: 0.0}\ntechniques:\n");
    // Every technique the embedded table or the model names is silenced first.
    let mut all: Vec<String> = embedded.techniques().map(str::to_string).collect();
    all.extend(model.attack_edges.iter().map(|e| e.technique.clone()));
    all.sort();
    all.dedup();
    for t in &all {
        match seen.iter().find(|s| s.0 == t) {
            Some((_, p, delay)) => text.push_str(&format!(
                "  {t}: {{baseline_p: {p:?}, edr_p: 0.0, delay: {}}}\n",
                ttc_yaml(delay)
            )),
            None => text.push_str(&format!("  {t}: {{baseline_p: 0.0, edr_p: 0.0}}\n")),
        }
    }
    match embedded.overlay(&text, "oracle table") {
        Ok(t) => t,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// The detection model of `model` under [`table`], checked: every explicit edge's step
/// gets exactly the stated probability and delay (0 for the others).
pub fn detection(model: &Model, seen: &[(&str, f64, Ttc)]) -> DetectionModel {
    let dm = DetectionModel::build(model, None, &table(model, seen));
    for e in &model.attack_edges {
        let to = model
            .assets
            .iter()
            .position(|a| a.id == e.to)
            .unwrap_or_else(|| panic!("edge to unknown {}", e.to));
        let step = dm.step(to, &e.technique);
        match seen.iter().find(|s| s.0 == e.technique) {
            Some((_, p, delay)) => {
                assert_eq!(step.p, *p, "{} -> {}", e.from, e.to);
                assert_eq!(step.delay, *delay, "{} -> {}", e.from, e.to);
            }
            None => assert_eq!(step.p, 0.0, "{} -> {}", e.from, e.to),
        }
    }
    dm
}

/// No step detected.
pub fn undetected(model: &Model) -> DetectionModel {
    detection(model, &[])
}

/// An exercise of `samples` from the Internet, seed 0.
pub fn exercise(
    model: &Model,
    dm: &DetectionModel,
    horizon: f64,
    containment: bool,
    samples: u64,
) -> Exercise {
    exercise_seeded(model, dm, horizon, containment, samples, 0)
}

/// The same with another seed: oracles on models with the same step keys (same ids and
/// technique) would otherwise share their uniforms, and their verdicts would not be
/// independent evidence.
pub fn exercise_seeded(
    model: &Model,
    dm: &DetectionModel,
    horizon: f64,
    containment: bool,
    samples: u64,
    seed: u64,
) -> Exercise {
    let cfg = SimConfig {
        samples,
        seed,
        horizon_hours: horizon,
        threads: None,
        entry: Vec::new(),
        containment,
    };
    match Exercise::new(model, dm, &cfg) {
        Ok(ex) => ex,
        Err(e) => panic!("{e}"),
    }
}

/// `f` of samples `0..n`, in sample order (run on every core).
pub fn samples<T: Send>(ex: &Exercise, n: u64, f: impl Fn(SampleOutcome) -> T + Sync) -> Vec<T> {
    (0..n).into_par_iter().map(|i| f(ex.sample(i))).collect()
}

/// When `asset` was compromised in a sample (None: not within the horizon).
pub fn reached_at(o: &SampleOutcome, asset: u32) -> Option<f64> {
    o.reached.iter().find(|r| r.0 == asset).map(|r| r.1)
}

#[cfg(test)]
mod tests {
    use super::super::build::{chain, exp_rate, T_SEEN, T_UNSEEN};
    use super::*;

    #[test]
    fn table_states_exactly_the_seen_techniques() {
        let mut m = chain(2, exp_rate(1.0), T_UNSEEN);
        m.attack_edges[0].technique = T_SEEN.into();
        let delay = Ttc {
            dist: TtcDist::Lognormal,
            mean_hours: 0.1,
            cv: Some(0.7),
            p_success: None,
        };
        // `detection` asserts the steps; here also a technique the model does not use.
        let dm = detection(&m, &[(T_SEEN, 0.25, delay)]);
        assert_eq!(dm.step(0, "T1003").p, 0.0);
        assert_eq!(dm.step(0, T_SEEN).detectors.len(), 1);
        let dm = undetected(&m);
        assert_eq!(dm.step(0, T_SEEN).p, 0.0);
    }
}
