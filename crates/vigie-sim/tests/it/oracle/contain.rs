//! The containment cost in a sample equals `vigie contain` on the same compromised set
//! (deterministic), on the demo operator: every sample's compromised set, destroyed
//! jewels and prices are recomputed here from its reached times and step detections
//! alone, on a response graph built here from the model, with `vigie contain`'s own
//! defaults (alternatives and budget of the command; no wall-clock limit, which only
//! matters when the budget is not reached first).

use rustc_hash::FxHashSet;
use vigie_response::contain::{contain, ContainRequest};
use vigie_response::graph::Target;
use vigie_response::restore::restore;
use vigie_response::Error;
use vigie_sim::detection::{DetectionModel, DetectionTable};
use vigie_sim::run::SampleOutcome;

use super::harness::{exercise, samples};

/// Samples per horizon (each priced from scratch twice: engine and here).
const PER_HORIZON: u64 = 40;

/// What a sample should be, from its reached times and step detections.
fn expected_sets(
    o: &SampleOutcome,
    horizon: f64,
    jewels: &FxHashSet<u32>,
) -> (f64, Vec<u32>, Vec<u32>) {
    let first = o
        .steps
        .iter()
        .filter_map(|s| s.detected_at)
        .filter(|&d| d <= horizon)
        .fold(f64::INFINITY, f64::min);
    let detected = first.is_finite().then_some(first);
    assert_eq!(
        o.detected_at, detected,
        "sample {}: detection time",
        o.index
    );
    let stop = detected.unwrap_or(horizon);
    let mut compromised: Vec<u32> = o
        .reached
        .iter()
        .filter(|r| r.1 <= stop)
        .map(|r| r.0)
        .collect();
    compromised.sort_unstable();
    let mut destroyed: Vec<u32> = o
        .reached
        .iter()
        .filter(|r| jewels.contains(&r.0) && r.1 <= stop && detected.is_none_or(|d| r.1 < d))
        .map(|r| r.0)
        .collect();
    destroyed.sort_unstable();
    (stop, compromised, destroyed)
}

/// The cheapest plan's customer-hours for a set (0: nothing compromised or to protect).
fn price(g: &vigie_response::Graph, compromised: &[u32]) -> f64 {
    if compromised.is_empty() {
        return 0.0;
    }
    let req = ContainRequest {
        compromised: compromised.to_vec(),
        ..ContainRequest::default()
    };
    match contain(g, &req) {
        Ok(r) => r.plan.map_or(f64::NAN, |p| p.customer_hours),
        Err(Error::NothingToProtect) => 0.0,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn sample_prices_are_vigie_contain_and_restore_on_the_demo_operator() {
    let m = vigie_model::demo();
    let g = vigie_response::from_model(&m).expect("demo graph");
    let jewels: FxHashSet<u32> = g.crown_jewels().into_iter().collect();
    let dm = DetectionModel::build(&m, None, &DetectionTable::embedded());
    let (mut plans, mut nothing_left, mut restores, mut detected) = (0, 0, 0, 0);
    let mut off_by_one = 0;
    let mut sets: FxHashSet<Vec<u32>> = FxHashSet::default();
    // Short horizons stop the attacker early (small sets, jewels to protect), the long
    // one lets detection do the stopping.
    for horizon in [1.0, 3.0, 8.0, 720.0] {
        let ex = exercise(&m, &dm, horizon, true, PER_HORIZON);
        for o in samples(&ex, PER_HORIZON, |o| o) {
            let i = o.index;
            let (stop, compromised, destroyed) = expected_sets(&o, horizon, &jewels);
            assert_eq!(o.stopped_at, stop, "H {horizon} sample {i}: stop");
            assert_eq!(
                o.compromised, compromised,
                "H {horizon} sample {i}: compromised set"
            );
            assert_eq!(
                o.destroyed, destroyed,
                "H {horizon} sample {i}: destroyed jewels"
            );
            detected += usize::from(o.detected_at.is_some());

            let containment = if compromised.is_empty() {
                0.0
            } else {
                let req = ContainRequest {
                    compromised: compromised.clone(),
                    ..ContainRequest::default()
                };
                match contain(&g, &req) {
                    Ok(r) => {
                        let plan = r
                            .plan
                            .expect("a complete plan exists without an action limit");
                        plans += 1;
                        plan.customer_hours
                    }
                    Err(Error::NothingToProtect) => {
                        nothing_left += 1;
                        0.0
                    }
                    Err(e) => panic!("H {horizon} sample {i}: {e}"),
                }
            };
            assert_eq!(
                o.containment_hours, containment,
                "H {horizon} sample {i}: containment of {compromised:?}"
            );

            let restored = if destroyed.is_empty() {
                0.0
            } else {
                restores += 1;
                let down: Vec<Target> = destroyed.iter().map(|&n| Target::Node(n)).collect();
                restore(&g, &down, None).expect("restore").customer_hours
            };
            assert_eq!(
                o.restore_hours, restored,
                "H {horizon} sample {i}: restore of {destroyed:?}"
            );
            assert_eq!(
                o.customer_hours,
                containment + restored,
                "H {horizon} sample {i}"
            );
            if let Some(&(last, _)) = o.reached.iter().rev().find(|r| r.1 <= stop) {
                let fewer: Vec<u32> = compromised.iter().copied().filter(|&n| n != last).collect();
                off_by_one += usize::from(price(&g, &fewer) != containment);
            }
            sets.insert(compromised);
        }
    }
    println!(
        "{} samples: {plans} priced plans, {nothing_left} with nothing left to protect, \
         {restores} with destroyed jewels, {detected} detected, {} distinct sets, \
         {off_by_one} priced differently without their last asset",
        4 * PER_HORIZON,
        sets.len()
    );
    // The check covered plans, restores and detections (every crown jewel compromised,
    // nothing left to protect, does not happen on the demo in these samples; the cost
    // oracle covers it).
    assert!(plans >= 20 && restores >= 5 && detected >= 5);
    // Power: the price depends on the exact set. Pricing each sample's set without its
    // last-compromised asset (an off-by-one at the stop time) disagrees on some samples.
    assert!(
        off_by_one > 0,
        "no sample's price depends on its last asset"
    );
    assert!(
        sets.len() >= 20,
        "only {} distinct compromised sets",
        sets.len()
    );
}
