//! A Bernoulli step: with `p_success` p the step is possible in a sample, so
//! P(reach) = p; given success its time keeps its distribution.

use vigie_model::TtcDist;

use super::build::{self, index_of, one_step, ttc, T_UNSEEN};
use super::harness::{exercise, reached_at, samples, undetected, FAR, N};
use super::stats::{exp_cdf, ks, proportion, wilson, Z95};

const P: f64 = 0.3;
const MEAN: f64 = 2.0;

#[test]
fn bernoulli_step_reaches_with_its_probability() {
    let m = one_step(ttc(TtcDist::Exponential, MEAN, None, Some(P)), T_UNSEEN);
    let a = index_of(&m, "a1");
    let ex = exercise(&m, &undetected(&m), FAR, false, N);
    let t: Vec<Option<f64>> = samples(&ex, N, |o| reached_at(&o, a));
    let hits: Vec<f64> = t.iter().flatten().copied().collect();
    let k = hits.len() as u64;

    let ok = proportion("reach", k, N, P);
    let times = ks("time given success, exp(mean 2)", &hits, |x| {
        exp_cdf(1.0 / MEAN, x)
    });
    println!("{ok}\n{times}");
    assert!(ok.passes(), "{ok}");
    assert!(times.passes(), "{times}");
    // Power: p 0.01 off, and 1 − p (an engine inverting the Bernoulli), are rejected.
    for wrong in [P + 0.01, P - 0.01, 1.0 - P] {
        let w = proportion("reach", k, N, wrong);
        println!("wrong {w}");
        assert!(!w.passes(), "{w}");
    }

    // The report counts the same samples and gives their Wilson 95 % interval.
    let r = ex.run(&|_| {});
    let j = &r.crown_jewels[0];
    assert_eq!(j.reached, k);
    assert_eq!(j.p_reached, k as f64 / N as f64);
    let (lo, hi) = wilson(k, N, Z95);
    assert!(
        (j.p_reached_ci95.low - lo).abs() < 1e-12 && (j.p_reached_ci95.high - hi).abs() < 1e-12,
        "report CI {:?}, Wilson [{lo}, {hi}]",
        j.p_reached_ci95
    );
}

#[test]
fn bernoulli_steps_multiply_along_a_chain() {
    // Internet →(p 0.6) a1 →(p 0.5) a2: P(reach a2) = 0.3, P(reach a1) = 0.6.
    let mut m = build::chain(2, ttc(TtcDist::Fixed, 1.0, None, Some(0.6)), T_UNSEEN);
    m.attack_edges[1].ttc = Some(ttc(TtcDist::Fixed, 1.0, None, Some(0.5)));
    let (a1, a2) = (index_of(&m, "a1"), index_of(&m, "a2"));
    let ex = exercise(&m, &undetected(&m), FAR, false, N);
    let out: Vec<(bool, bool)> = samples(&ex, N, |o| {
        (reached_at(&o, a1).is_some(), reached_at(&o, a2).is_some())
    });
    let k1 = out.iter().filter(|o| o.0).count() as u64;
    let k2 = out.iter().filter(|o| o.1).count() as u64;
    assert!(out.iter().all(|o| o.0 || !o.1), "a2 reached without a1");
    let (c1, c2) = (
        proportion("reach a1", k1, N, 0.6),
        proportion("reach a2", k2, N, 0.3),
    );
    println!("{c1}\n{c2}");
    assert!(c1.passes() && c2.passes(), "{c1}\n{c2}");
    // Power: the second step's p alone (0.5) or the first's (0.6) for a2.
    assert!(!proportion("reach a2", k2, N, 0.5).passes());
    assert!(!proportion("reach a2", k2, N, 0.6).passes());
}
