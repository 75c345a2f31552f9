//! Step shapes keep their documented parameterisation (docs/model.md, `vigie_sim::dist`):
//! a gamma of mean m and cv c has shape 1/c² and scale m·c²; a log-normal has
//! σ² = ln(1 + c²), μ = ln m − σ²/2. Both have E[X] = m and E[X²] = m²(1 + c²) (each
//! checked within 3 standard errors) and their exact CDF (KS at 99 %). Fixed steps, and
//! gamma or log-normal steps of cv 0, take exactly their mean.

use vigie_model::{Ttc, TtcDist};

use super::build::{chain, index_of, one_step, ttc, T_UNSEEN};
use super::harness::{exercise, exercise_seeded, reached_at, samples, undetected, FAR, N};
use super::stats::{gamma_cdf, ks, lognormal_cdf, mean, Ks, MeanCheck};

/// Times to the one step's target, every sample (the seed keeps each shape's draws
/// independent of the others': the models share their step key).
fn step_times(t: Ttc, seed: u64) -> Vec<f64> {
    let m = one_step(t, T_UNSEEN);
    let a = index_of(&m, "a1");
    let ex = exercise_seeded(&m, &undetected(&m), FAR, false, N, seed);
    samples(&ex, N, |o| {
        reached_at(&o, a).unwrap_or_else(|| panic!("sample {}: not reached", o.index))
    })
}

/// The documented CDF of a shape with mean `m` and cv `c`.
fn cdf(dist: TtcDist, m: f64, c: f64) -> impl Fn(f64) -> f64 {
    move |x| match dist {
        TtcDist::Gamma => gamma_cdf(1.0 / (c * c), m * c * c, x),
        TtcDist::Lognormal => {
            let s2 = (1.0 + c * c).ln();
            lognormal_cdf(m.ln() - s2 / 2.0, s2.sqrt(), x)
        }
        _ => unreachable!("continuous shapes only"),
    }
}

/// Mean, second moment and KS of `xs` against shape `dist` with mean `m` and cv `c`.
fn checks(xs: &[f64], sq: &[f64], dist: TtcDist, m: f64, c: f64) -> (MeanCheck, MeanCheck, Ks) {
    let what = format!("{dist:?}(mean {m}, cv {c})");
    (
        mean(&what, xs, m),
        mean(&format!("X² of {what}"), sq, m * m * (1.0 + c * c)),
        ks(&what, xs, cdf(dist, m, c)),
    )
}

fn shape_oracle(dist: TtcDist, m: f64, c: f64, seed: u64) {
    let xs = step_times(ttc(dist, m, Some(c), None), seed);
    let sq: Vec<f64> = xs.iter().map(|x| x * x).collect();
    let (m1, m2, k) = checks(&xs, &sq, dist, m, c);
    println!("{m1}\n{m2}\n{k}");
    assert!(m1.passes() && m2.passes() && k.passes(), "{m1}\n{m2}\n{k}");

    // Power: the mean 3 % off, the cv 10 % off, and the other shape with the same mean
    // and cv (a swapped parameterisation) are rejected.
    let other = match dist {
        TtcDist::Gamma => TtcDist::Lognormal,
        _ => TtcDist::Gamma,
    };
    let (wm, _, wk) = checks(&xs, &sq, dist, m * 1.03, c);
    assert!(!wm.passes() && !wk.passes(), "wrong mean\n{wm}\n{wk}");
    for wc in [c * 1.1, c / 1.1] {
        let (_, w2, wk) = checks(&xs, &sq, dist, m, wc);
        println!("wrong {w2}\nwrong {wk}");
        assert!(!w2.passes() && !wk.passes(), "wrong cv\n{w2}\n{wk}");
    }
    let wo = ks(&format!("{other:?} instead"), &xs, cdf(other, m, c));
    println!("wrong {wo}");
    assert!(!wo.passes(), "{wo}");
}

#[test]
fn gamma_low_cv_has_documented_moments_and_cdf() {
    shape_oracle(TtcDist::Gamma, 3.0, 0.5, 1);
}

#[test]
fn gamma_high_cv_has_documented_moments_and_cdf() {
    shape_oracle(TtcDist::Gamma, 3.0, 2.0, 2);
}

#[test]
fn lognormal_has_documented_moments_and_cdf() {
    shape_oracle(TtcDist::Lognormal, 3.0, 0.8, 3);
}

#[test]
fn lognormal_wide_has_documented_moments_and_cdf() {
    shape_oracle(TtcDist::Lognormal, 0.5, 1.2, 4);
}

#[test]
fn fixed_steps_are_exact() {
    // A fixed chain: 1.5 + 1.5 + 1.5 h, exactly, in every sample (1.5 is a binary
    // fraction: the sums are exact in f64).
    let m = chain(3, ttc(TtcDist::Fixed, 1.5, None, None), T_UNSEEN);
    let end = index_of(&m, "a3");
    let ex = exercise(&m, &undetected(&m), FAR, false, 2_000);
    let t = samples(&ex, 2_000, |o| reached_at(&o, end));
    assert!(
        t.iter().all(|&x| x == Some(4.5)),
        "{:?}",
        t.iter().find(|&&x| x != Some(4.5))
    );
    // cv 0 gamma and log-normal are the fixed time; a mean of 0 is always 0; a fixed
    // step with p_success keeps its exact time when it succeeds.
    for (step, want) in [
        (ttc(TtcDist::Gamma, 2.5, Some(0.0), None), 2.5),
        (ttc(TtcDist::Lognormal, 2.5, Some(0.0), None), 2.5),
        (ttc(TtcDist::Exponential, 0.0, None, None), 0.0),
        (ttc(TtcDist::Gamma, 0.0, Some(1.0), None), 0.0),
        (ttc(TtcDist::Fixed, 7.25, None, Some(0.5)), 7.25),
    ] {
        let m = one_step(step, T_UNSEEN);
        let ex = exercise(&m, &undetected(&m), FAR, false, 2_000);
        let t = samples(&ex, 2_000, |o| reached_at(&o, 0));
        let hits: Vec<f64> = t.iter().flatten().copied().collect();
        assert!(!hits.is_empty(), "{step:?} never reached");
        assert!(
            hits.iter().all(|&x| x == want),
            "{step:?}: {:?}",
            hits.iter().find(|&&x| x != want)
        );
        if step.p_success.is_none() {
            assert_eq!(hits.len(), 2_000, "{step:?}");
        }
    }
    // The horizon truncates: a fixed 4.5 h chain is not reached with a 4 h horizon,
    // and is at exactly 4.5.
    let ex = exercise(&m, &undetected(&m), 4.0, false, 10);
    assert!(samples(&ex, 10, |o| reached_at(&o, end))
        .iter()
        .all(Option::is_none));
    let ex = exercise(&m, &undetected(&m), 4.5, false, 10);
    assert!(samples(&ex, 10, |o| reached_at(&o, end))
        .iter()
        .all(|&x| x == Some(4.5)));
}
