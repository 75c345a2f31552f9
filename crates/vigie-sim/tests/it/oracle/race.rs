//! A detection race on a chain: the attacker crosses k exponential edges of rate λ while
//! a detection clock of rate μ runs from t = 0; P(crown jewel before detection) =
//! P(Erlang(k, λ) < Exp(μ)) = E[e^{−μ·T}] = (λ/(λ+μ))^k (the Laplace transform of the
//! Erlang at μ).
//!
//! Construction in the engine's semantics: a step is detected at its *target's
//! compromise time* plus a sampled delay, so a clock that starts at t = 0 needs a step
//! whose target is compromised at 0. The first edge, Internet → a0, takes a fixed 0 h
//! and is the only seen technique, detected with p = 1 after an exponential delay of mean
//! 1/μ: the detection time is exactly D ~ Exp(μ), independent of the chain (the delay
//! has its own random stream). The k edges a0 → a1 → … → ak are exponential of rate λ
//! and never detected (p = 0). With a horizon far beyond every time, every sample is
//! detected, and ak (the crown jewel) is reached before detection iff its compromise
//! time is strictly below D.

use vigie_model::TtcDist;

use super::build::{self, edge, exp_rate, host, jewel, ttc, INTERNET, T_SEEN, T_UNSEEN};
use super::harness::{detection, exercise, reached_at, samples, FAR, N};
use super::stats::{exp_cdf, ks, mean, proportion, wilson, Z95};

const K: usize = 3;
const LAMBDA: f64 = 0.5;
const MU: f64 = 0.25;

fn race_model() -> vigie_model::Model {
    let mut m = build::base();
    m.assets.push(host("a0"));
    for i in 1..=K {
        let id = format!("a{i}");
        m.assets.push(if i == K { jewel(&id) } else { host(&id) });
        m.attack_edges.push(edge(
            &format!("a{}", i - 1),
            &id,
            T_UNSEEN,
            exp_rate(LAMBDA),
        ));
    }
    m.attack_edges.push(edge(
        INTERNET,
        "a0",
        T_SEEN,
        ttc(TtcDist::Fixed, 0.0, None, None),
    ));
    m
}

#[test]
fn jewel_before_detection_clock() {
    let m = race_model();
    let dm = detection(&m, &[(T_SEEN, 1.0, exp_rate(MU))]);
    let jewel = build::index_of(&m, &format!("a{K}"));
    let ex = exercise(&m, &dm, FAR, false, N);
    let out: Vec<(f64, bool)> = samples(&ex, N, |o| {
        let d = o
            .detected_at
            .unwrap_or_else(|| panic!("sample {}: not detected", o.index));
        let t = reached_at(&o, jewel).unwrap_or(f64::INFINITY);
        (d, t < d)
    });
    let d: Vec<f64> = out.iter().map(|o| o.0).collect();
    let before = out.iter().filter(|o| o.1).count() as u64;

    let closed = (LAMBDA / (LAMBDA + MU)).powi(K as i32);
    let p_ok = proportion("jewel before detection", before, N, closed);
    let d_ok = ks("detection time, exp(0.25)", &d, |x| exp_cdf(MU, x));
    println!("{p_ok}\n{d_ok}");
    assert!(p_ok.passes(), "{p_ok}");
    assert!(d_ok.passes(), "{d_ok}");

    // The report's figure is the same count (with the attack stopped at detection).
    let r = ex.run(&|_| {});
    let j = &r.crown_jewels[0];
    assert_eq!(j.reached_before_detection, before);
    assert_eq!(r.ttd_hours.detected, N);
    // Without defence the jewel is always reached (p_reached ignores detection).
    assert_eq!(j.reached, N);
    let (lo, hi) = wilson(before, N, Z95);
    let ci = j.p_reached_before_detection_ci95;
    assert!(
        (ci.low - lo).abs() < 1e-12 && (ci.high - hi).abs() < 1e-12,
        "{ci:?} vs [{lo}, {hi}]"
    );
    // The time-to-detect figures: mean 1/μ (within 3 SE, the SE read back from the
    // report's normal 95 % interval, which must be 1.96 SE of the samples), median ln 2/μ.
    let ttd = r.ttd_hours.hours.expect("detected samples");
    let d_mean = mean("time to detect", &d, 1.0 / MU);
    assert!(d_mean.passes(), "{d_mean}");
    assert!(
        (ttd.mean - d_mean.mean).abs() <= 1e-9 * d_mean.mean,
        "{} vs {}",
        ttd.mean,
        d_mean.mean
    );
    let mci = r.ttd_hours.mean_ci95.expect("mean interval");
    let half = (mci.high - mci.low) / 2.0;
    assert!(
        (half - Z95 * d_mean.se).abs() <= 1e-6 * half,
        "CI half-width {half} vs 1.96 SE {}",
        Z95 * d_mean.se
    );
    // The nearest-rank median's SE is √(1/4n)/f(median) = 0.0126 h here.
    let median = std::f64::consts::LN_2 / MU;
    assert!(
        (ttd.p50 - median).abs() < 3.0 * 0.0126,
        "median {} vs {median}",
        ttd.p50
    );

    // Power: one edge fewer or more, μ 10 % off, and a clock started at a1's compromise
    // instead of t = 0 ((λ/(λ+μ))^(k−1)) are rejected.
    let q = LAMBDA / (LAMBDA + MU);
    for (what, p) in [
        ("k - 1", q.powi(K as i32 - 1)),
        ("k + 1", q.powi(K as i32 + 1)),
        ("mu x1.1", (LAMBDA / (LAMBDA + 1.1 * MU)).powi(K as i32)),
        ("mu /1.1", (LAMBDA / (LAMBDA + MU / 1.1)).powi(K as i32)),
    ] {
        let w = proportion(what, before, N, p);
        println!("wrong {w}");
        assert!(!w.passes(), "{w}");
    }
    let wk = ks("detection time, exp(0.275)", &d, |x| exp_cdf(1.1 * MU, x));
    assert!(!wk.passes(), "{wk}");
}
