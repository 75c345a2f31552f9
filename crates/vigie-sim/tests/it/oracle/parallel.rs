//! Two parallel routes: the first of two independent exponentials of rates λ1 and λ2
//! comes at an exponential time of rate λ1 + λ2, and it is route 1 with probability
//! λ1 / (λ1 + λ2).

use vigie_model::TtcDist;

use super::build::{self, edge, exp_rate, host, jewel, ttc, INTERNET, T_SEEN, T_UNSEEN};
use super::harness::{exercise, reached_at, samples, undetected, FAR, N};
use super::stats::{exp_cdf, ks, mean, proportion};

const R1: f64 = 0.2;
const R2: f64 = 0.6;

#[test]
fn two_routes_race_as_the_summed_rate() {
    // Internet →(exp λ1) a → j and Internet →(exp λ2) b → j, the second steps instant
    // (fixed 0), so j is reached at min(T1, T2).
    let mut m = build::base();
    m.assets.extend([host("a"), host("b"), jewel("j")]);
    let now = ttc(TtcDist::Fixed, 0.0, None, None);
    m.attack_edges.extend([
        edge(INTERNET, "a", T_SEEN, exp_rate(R1)),
        edge(INTERNET, "b", T_UNSEEN, exp_rate(R2)),
        edge("a", "j", T_UNSEEN, now),
        edge("b", "j", T_UNSEEN, now),
    ]);
    let (a, j) = (build::index_of(&m, "a"), build::index_of(&m, "j"));
    let ex = exercise(&m, &undetected(&m), FAR, false, N);
    let out: Vec<(f64, bool)> = samples(&ex, N, |o| {
        let t = reached_at(&o, j).unwrap_or_else(|| panic!("sample {}: j not reached", o.index));
        // Which route: the step into j on the sample's shortest-path tree.
        let via_a = o.steps.iter().any(|s| s.to == j && s.from == a);
        (t, via_a)
    });
    let t: Vec<f64> = out.iter().map(|o| o.0).collect();
    let via_a = out.iter().filter(|o| o.1).count() as u64;

    let rate = R1 + R2;
    let checks_ok = (
        mean("min of exp(0.2), exp(0.6)", &t, 1.0 / rate),
        ks("exp(0.8)", &t, |x| exp_cdf(rate, x)),
        proportion("route via a", via_a, N, R1 / rate),
    );
    println!("{}\n{}\n{}", checks_ok.0, checks_ok.1, checks_ok.2);
    assert!(checks_ok.0.passes(), "{}", checks_ok.0);
    assert!(checks_ok.1.passes(), "{}", checks_ok.1);
    assert!(checks_ok.2.passes(), "{}", checks_ok.2);

    // Power: only the faster route (rate λ2: an engine keeping one route), the slower
    // one, the summed rate 5 % off, and a route share 0.27 instead of 0.25 are rejected.
    for (what, r) in [
        ("faster route only", R2),
        ("slower route only", R1),
        ("rate x1.05", rate * 1.05),
    ] {
        let (wm, wk) = (mean(what, &t, 1.0 / r), ks(what, &t, |x| exp_cdf(r, x)));
        println!("wrong {wm}\nwrong {wk}");
        assert!(!wm.passes() && !wk.passes(), "{wm}\n{wk}");
    }
    let wp = proportion("route via a", via_a, N, 0.27);
    assert!(!wp.passes(), "{wp}");
}

#[test]
fn parallel_edges_between_the_same_assets_draw_their_own_numbers() {
    // Two edges Internet → j with the same technique: distinct step keys (occurrence),
    // so independent times, min of exp(λ1), exp(λ2). Were their numbers shared (one
    // uniform u for both), j would always come at the faster edge's time: exp(λ2).
    let mut m = build::base();
    m.assets.push(jewel("j"));
    m.attack_edges.extend([
        edge(INTERNET, "j", T_UNSEEN, exp_rate(R1)),
        edge(INTERNET, "j", T_UNSEEN, exp_rate(R2)),
    ]);
    let j = build::index_of(&m, "j");
    let ex = exercise(&m, &undetected(&m), FAR, false, N);
    let t: Vec<f64> = samples(&ex, N, |o| reached_at(&o, j).unwrap_or(f64::NAN));
    let ok = ks("exp(0.8)", &t, |x| exp_cdf(R1 + R2, x));
    let shared = ks("exp(0.6)", &t, |x| exp_cdf(R2, x));
    println!("{ok}\nwrong {shared}");
    assert!(ok.passes(), "{ok}");
    assert!(!shared.passes(), "{shared}");
}
