//! A chain of k exponential edges: the time to reach its end is the sum of k independent
//! exponentials of rate λ, Erlang(k, λ) (mean k/λ, CDF 1 − Σ_{j<k} e^{−λt}(λt)^j/j!).

use super::build::{chain, exp_rate, index_of, T_UNSEEN};
use super::harness::{exercise, reached_at, samples, undetected, FAR, N};
use super::stats::{erlang_cdf, ks, mean};

const K: u32 = 4;
const RATE: f64 = 0.5;

#[test]
fn chain_of_exponentials_is_erlang() {
    let m = chain(K as usize, exp_rate(RATE), T_UNSEEN);
    let end = index_of(&m, &format!("a{K}"));
    let ex = exercise(&m, &undetected(&m), FAR, false, N);
    let t: Vec<f64> = samples(&ex, N, |o| {
        reached_at(&o, end).unwrap_or_else(|| panic!("sample {}: end not reached", o.index))
    });

    let m_ok = mean("Erlang(4, 0.5)", &t, K as f64 / RATE);
    let ks_ok = ks("Erlang(4, 0.5)", &t, |x| erlang_cdf(K, RATE, x));
    println!("{m_ok}\n{ks_ok}");
    assert!(m_ok.passes(), "{m_ok}");
    assert!(ks_ok.passes(), "{ks_ok}");

    // Power: the same samples reject a rate 3 % off and a chain one edge shorter or
    // longer (an engine that skipped or repeated a step), by both tests.
    for (what, k, rate) in [
        ("rate x1.03", K, RATE * 1.03),
        ("rate /1.03", K, RATE / 1.03),
        ("k - 1", K - 1, RATE),
        ("k + 1", K + 1, RATE),
    ] {
        let km = mean(what, &t, k as f64 / rate);
        let kk = ks(what, &t, |x| erlang_cdf(k, rate, x));
        println!("wrong {km}\nwrong {kk}");
        assert!(!km.passes() && !kk.passes(), "{km}\n{kk}");
    }

    // The report aggregates the same samples.
    let r = ex.run(&|_| {});
    let j = &r.crown_jewels[0];
    assert_eq!((j.reached, j.p_reached), (N, 1.0));
    let stats = j.ttc_hours.expect("ttc over reaching samples");
    assert!(
        (stats.mean - m_ok.mean).abs() <= 1e-9 * m_ok.mean,
        "report mean {} vs samples {}",
        stats.mean,
        m_ok.mean
    );
    // Nearest-rank median of the samples; the closed-form median of Erlang(4, 0.5) is
    // 7.3441 h (F(7.3441) = 0.5).
    let mut sorted = t.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(stats.p50, sorted[(N as usize).div_ceil(2) - 1]);
    assert!((erlang_cdf(K, RATE, 7.344_1) - 0.5).abs() < 1e-4);
    assert!((stats.p50 - 7.344_1).abs() < 0.05, "median {}", stats.p50);
}
