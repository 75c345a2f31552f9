//! Expected customer-hours in closed form, from the semantics of `vigie_sim::run`: the
//! compromised set at the stop time (detection, else the horizon) is priced by the plan
//! `vigie contain` recommends for it (0 when nothing is compromised or nothing is left
//! to protect), and a crown jewel compromised strictly before the detection (or by the
//! horizon when undetected) adds the customer-hours of `vigie restore --down` it.
//!
//! The prices of the sets that can occur are fixed numbers, worked out by hand from the
//! outage rules of `vigie_response::impact` and checked against `vigie_response`; the
//! probabilities of the sets are the closed forms.

use vigie_model::{Model, TtcDist};
use vigie_response::contain::{contain, ContainRequest};
use vigie_response::graph::Target;
use vigie_response::restore::restore;

use super::build::{self, edge, exp_rate, host, jewel, serve, ttc, INTERNET, T_SEEN, T_UNSEEN};
use super::harness::{detection, exercise, samples, N};
use super::stats::{mean, proportion};

/// Customers of the service on `a` and of the one on the crown jewel `j`.
const CUSTOMERS_A: f64 = 100.0;
const CUSTOMERS_J: f64 = 1000.0;
/// Isolating host `a`: it is down from t = 0, its restoration starts after the
/// containment (48 h, the default), takes a host's 8 h × 3 without backup, then its
/// service restarts in 1 h: 100 customers × 73 h.
const C_A: f64 = CUSTOMERS_A * (48.0 + 8.0 * 3.0 + 1.0);
/// Restoring the destroyed jewel `j` (a host, no backup: 24 h) and its service (1 h).
const R_J: f64 = CUSTOMERS_J * (8.0 * 3.0 + 1.0);

/// Internet →(exp rate, seen) a →(fixed tau, unseen) j; `a` runs service `front`,
/// the crown jewel `j` runs `core`.
fn two_edge(rate: f64, tau: f64) -> Model {
    let mut m = build::base();
    m.assets.push(host("a"));
    m.assets.push(jewel("j"));
    m.attack_edges
        .push(edge(INTERNET, "a", T_SEEN, exp_rate(rate)));
    let fixed = ttc(TtcDist::Fixed, tau, None, None);
    m.attack_edges.push(edge("a", "j", T_UNSEEN, fixed));
    serve(&mut m, "front", "a", CUSTOMERS_A as u64);
    serve(&mut m, "core", "j", CUSTOMERS_J as u64);
    m
}

/// Internet →(exp rate, seen) j, the crown jewel running `core`.
fn one_edge(rate: f64) -> Model {
    let mut m = build::base();
    m.assets.push(jewel("j"));
    m.attack_edges
        .push(edge(INTERNET, "j", T_SEEN, exp_rate(rate)));
    serve(&mut m, "core", "j", CUSTOMERS_J as u64);
    m
}

#[test]
fn prices_of_the_possible_sets_match_the_response_engines() {
    let m = two_edge(0.05, 30.0);
    let g = vigie_response::from_model(&m).expect("graph");
    let (a, j) = (build::index_of(&m, "a"), build::index_of(&m, "j"));
    let req = |c: Vec<u32>| ContainRequest {
        compromised: c,
        ..Default::default()
    };
    let plan = contain(&g, &req(vec![a]))
        .expect("contain {a}")
        .plan
        .expect("a complete plan");
    assert_eq!(plan.customer_hours, C_A);
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(
        (plan.actions[0].action, plan.actions[0].target.as_str()),
        ("isolate", "a")
    );
    // Every crown jewel compromised: nothing to protect (the engine prices it 0).
    assert!(matches!(
        contain(&g, &req(vec![a, j])),
        Err(vigie_response::Error::NothingToProtect)
    ));
    let r = restore(&g, &[Target::Node(j)], None).expect("restore j");
    assert_eq!(r.customer_hours, R_J);
    let m1 = one_edge(0.05);
    let g1 = vigie_response::from_model(&m1).expect("graph");
    assert_eq!(
        restore(&g1, &[Target::Node(0)], None)
            .expect("restore")
            .customer_hours,
        R_J
    );
}

#[test]
fn one_edge_expected_customer_hours() {
    // Internet →(exp λ) j. The only set ever compromised is {j}, which leaves nothing to
    // protect (containment 0). The step is detected (p) at T + δ with δ > 0, always
    // after j's compromise at T, so j is destroyed whenever T ≤ H, detected or not:
    // E[customer-hours] = (1 − e^{−λH}) · R_J.
    const RATE: f64 = 0.05;
    const H: f64 = 20.0;
    const P: f64 = 0.5;
    let m = one_edge(RATE);
    // Delay rate ν = 0.25 (used by a wrong closed form below).
    let dm = detection(&m, &[(T_SEEN, P, exp_rate(0.25))]);
    let ex = exercise(&m, &dm, H, true, N);
    let out: Vec<(f64, bool, bool)> = samples(&ex, N, |o| {
        (
            o.customer_hours,
            !o.destroyed.is_empty(),
            o.detected_at.is_some(),
        )
    });
    let cost: Vec<f64> = out.iter().map(|o| o.0).collect();
    let destroyed = out.iter().filter(|o| o.1).count() as u64;
    let p_reach = 1.0 - (-RATE * H).exp();

    let e = mean("customer-hours, one edge", &cost, p_reach * R_J);
    let pd = proportion("jewel destroyed", destroyed, N, p_reach);
    println!("{e}\n{pd}");
    assert!(e.passes(), "{e}");
    assert!(pd.passes(), "{pd}");
    // The detections that happen do not save the jewel.
    assert!(out.iter().any(|o| o.2 && o.1));

    // Power: the horizon ignored (always reached), detection saving the jewel
    // (destroyed only when not detected by H: P(T ≤ H) − p·P(T + δ ≤ H), the sum of two
    // exponentials of rates λ and ν having the CDF 1 − (ν·e^{−λH} − λ·e^{−νH})/(ν − λ)),
    // and half the restore price are rejected.
    let nu = 0.25;
    let p_seen = 1.0 - (nu * (-RATE * H).exp() - RATE * (-nu * H).exp()) / (nu - RATE);
    let saved = (p_reach - P * p_seen) * R_J;
    for (what, x) in [
        ("horizon ignored", R_J),
        ("detection saves the jewel", saved),
        ("half the restore", p_reach * R_J / 2.0),
    ] {
        let w = mean(what, &cost, x);
        println!("wrong {w}");
        assert!(!w.passes(), "{w}");
    }
}

/// E[customer-hours] of [`two_edge`] (see the test below).
fn two_edge_closed_form(rate: f64, h: f64, tau: f64, p: f64, mu: f64) -> (f64, f64) {
    let reach_a = 1.0 - (-rate * h).exp();
    let destroyed = (1.0 - (-rate * (h - tau)).exp()) * (1.0 - p + p * (-mu * tau).exp());
    (C_A * reach_a + (R_J - C_A) * destroyed, destroyed)
}

#[test]
fn two_edge_expected_customer_hours_with_detection_and_containment() {
    // Internet →(exp λ, detected with p after δ ~ exp(μ)) a →(fixed τ, unseen) j, horizon H.
    // With T_A the time a falls:
    // - T_A > H: nothing compromised, 0.
    // - j is destroyed iff T_A + τ ≤ H and no detection comes first: undetected (1 − p)
    //   or δ > τ (p·e^{−μτ}). Then the set at the stop time holds a and j: nothing left to
    //   protect (containment 0), restore R_J.
    // - otherwise, T_A ≤ H: the set is {a} at detection (δ < τ) or at the horizon
    //   (j not yet reached by H): isolate a, C_A.
    // So E = C_A·P(T_A ≤ H) + (R_J − C_A)·P(destroyed), with
    // P(destroyed) = (1 − e^{−λ(H−τ)})·(1 − p + p·e^{−μτ}).
    const RATE: f64 = 0.05;
    const H: f64 = 100.0;
    const TAU: f64 = 30.0;
    const P: f64 = 0.6;
    const MU: f64 = 0.05;
    let m = two_edge(RATE, TAU);
    let dm = detection(&m, &[(T_SEEN, P, exp_rate(MU))]);
    let ex = exercise(&m, &dm, H, true, N);
    let out: Vec<(f64, bool)> = samples(&ex, N, |o| (o.customer_hours, !o.destroyed.is_empty()));
    let cost: Vec<f64> = out.iter().map(|o| o.0).collect();
    let destroyed = out.iter().filter(|o| o.1).count() as u64;
    let (expected, p_destroyed) = two_edge_closed_form(RATE, H, TAU, P, MU);

    let e = mean("customer-hours, two edges", &cost, expected);
    let pd = proportion("jewel destroyed", destroyed, N, p_destroyed);
    println!("{e}\n{pd}");
    assert!(e.passes(), "{e}");
    assert!(pd.passes(), "{pd}");
    // Every sample costs one of the three prices.
    assert!(
        cost.iter().all(|&c| c == 0.0 || c == C_A || c == R_J),
        "a price not in {{0, C_A, R_J}}"
    );

    // The report's mean is the same samples'.
    let r = ex.run(&|_| {});
    let ch = r.customer_hours.expect("priced");
    assert!(
        (ch.mean - e.mean).abs() <= 1e-9 * e.mean,
        "report {} vs samples {}",
        ch.mean,
        e.mean
    );

    // Power: detection never saving j (p = 0), a detection that always saves it (δ < τ
    // always), the horizon ignored, containment of {a} added to the restore, and μ off
    // by 20 % are all rejected.
    let reach_a = 1.0 - (-RATE * H).exp();
    let (no_det, _) = two_edge_closed_form(RATE, H, TAU, 0.0, MU);
    let (always_saves, _) = two_edge_closed_form(RATE, H, TAU, P, f64::INFINITY);
    let (no_horizon, _) = two_edge_closed_form(RATE, 1e12, TAU, P, MU);
    let (mu_off, _) = two_edge_closed_form(RATE, H, TAU, P, MU * 1.2);
    let both = C_A * reach_a + R_J * p_destroyed;
    for (what, x) in [
        ("detection never saves j", no_det),
        ("detection always saves j", always_saves),
        ("horizon ignored", no_horizon),
        ("containment added to restore", both),
        ("mu x1.2", mu_off),
    ] {
        let w = mean(what, &cost, x);
        println!("wrong {w}");
        assert!(!w.passes(), "{w}");
    }
}
