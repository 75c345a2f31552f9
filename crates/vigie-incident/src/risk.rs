//! An incident's risk score in [0, 100]: how severe, how far along the kill chain, how
//! close to a crown jewel (formula in `docs/incidents.md`).
//!
//! Nearness is the attacker's time to reach the nearest crown jewel, in hours, over the
//! model's attack edges weighted by their time to compromise: the same edges and weights
//! `vigie assess` runs its Dijkstra on. One reverse multi-source Dijkstra from every crown
//! jewel gives every asset its distance at once, so scoring all incidents costs one
//! O(E log V) pass however many incidents there are.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use vigie_model::{AttackGraph, Model};
use vigie_sigma::Level;

use crate::RiskFactors;

/// Weight of the highest level in the score.
pub const W_SEVERITY: f64 = 0.45;
/// Weight of the number of distinct tactics.
pub const W_TACTICS: f64 = 0.25;
/// Weight of the nearness to a crown jewel.
pub const W_PROXIMITY: f64 = 0.30;
/// Distinct tactics at which the tactics factor saturates.
pub const TACTICS_SATURATION: usize = 5;
/// Hours at which nearness has fallen to one half.
pub const PROXIMITY_HALF_HOURS: f64 = 24.0;
/// Discount on nearness measured from merely involved assets (no asset judged
/// compromised): being named in a detection is weaker than being held.
pub const INVOLVED_DISCOUNT: f64 = 0.5;

/// Severity factor of a level: informational 0, low 0.25, medium 0.5, high 0.75,
/// critical 1.
pub fn level_factor(l: Level) -> f64 {
    match l {
        Level::Informational => 0.0,
        Level::Low => 0.25,
        Level::Medium => 0.5,
        Level::High => 0.75,
        Level::Critical => 1.0,
    }
}

/// Hours from each asset (by model index) to the nearest crown jewel; infinite when none
/// is reachable. Crown jewels are at 0.
#[derive(Debug, Clone, Default)]
pub struct JewelDistances {
    hours: Vec<f64>,
}

#[derive(PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        // Min-heap on hours, then node index (deterministic pops).
        o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
    }
}

impl JewelDistances {
    /// Reverse Dijkstra from every crown jewel along the attack edges.
    pub fn compute(model: &Model, attack: &AttackGraph) -> JewelDistances {
        let n = model.assets.len().max(attack.internet as usize + 1);
        // Reverse adjacency (CSR by target).
        let mut start = vec![0u32; n + 1];
        for e in &attack.edges {
            if (e.to as usize) < n && (e.from as usize) < n {
                start[e.to as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut rev = vec![(0u32, 0f64); start[n] as usize];
        for e in &attack.edges {
            let (f, t) = (e.from as usize, e.to as usize);
            if t < n && f < n {
                let slot = &mut fill[t];
                rev[*slot as usize] = (e.from, attack.ttc_hours(e));
                *slot += 1;
            }
        }
        let mut hours = vec![f64::INFINITY; n];
        let mut heap = BinaryHeap::new();
        for (i, a) in model.assets.iter().enumerate() {
            if a.crown_jewel {
                hours[i] = 0.0;
                heap.push(Item(0.0, i as u32));
            }
        }
        while let Some(Item(d, u)) = heap.pop() {
            if d > hours[u as usize] {
                continue;
            }
            let (lo, hi) = (start[u as usize] as usize, start[u as usize + 1] as usize);
            for &(v, ttc) in &rev[lo..hi] {
                // A NaN or infinite time is an edge nobody can walk.
                if !ttc.is_finite() {
                    continue;
                }
                let nd = d + ttc.max(0.0);
                if nd < hours[v as usize] {
                    hours[v as usize] = nd;
                    heap.push(Item(nd, v));
                }
            }
        }
        JewelDistances { hours }
    }

    /// Hours from the asset with this model index to the nearest crown jewel.
    pub fn hours(&self, asset: usize) -> f64 {
        self.hours.get(asset).copied().unwrap_or(f64::INFINITY)
    }
}

/// Nearness factor of a distance in hours: 1 at a crown jewel, 1/2 at
/// [`PROXIMITY_HALF_HOURS`], 0 when unreachable.
pub fn proximity_factor(hours: f64) -> f64 {
    if hours.is_finite() {
        1.0 / (1.0 + hours.max(0.0) / PROXIMITY_HALF_HOURS)
    } else {
        0.0
    }
}

/// The score's factors for an incident.
/// `compromised` and `involved` are model asset indexes; nearness is taken from the
/// compromised assets when there are any, else from the involved ones, discounted.
pub fn factors(
    severity: Level,
    distinct_tactics: usize,
    compromised: &[usize],
    involved: &[usize],
    jewels: &JewelDistances,
) -> RiskFactors {
    let nearest = |set: &[usize]| {
        set.iter()
            .map(|&a| jewels.hours(a))
            .fold(f64::INFINITY, f64::min)
    };
    let proximity = if compromised.is_empty() {
        INVOLVED_DISCOUNT * proximity_factor(nearest(involved))
    } else {
        proximity_factor(nearest(compromised))
    };
    RiskFactors {
        severity: level_factor(severity),
        tactics: distinct_tactics.min(TACTICS_SATURATION) as f64 / TACTICS_SATURATION as f64,
        crown_jewel_proximity: round3(proximity),
    }
}

/// The score: 100 × the weighted sum of the factors, to one decimal.
pub fn score(f: &RiskFactors) -> f64 {
    let s = 100.0
        * (W_SEVERITY * f.severity + W_TACTICS * f.tactics + W_PROXIMITY * f.crown_jewel_proximity);
    ((s * 10.0).round() / 10.0).clamp(0.0, 100.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bounds_and_formula() {
        let top = factors(
            Level::Critical,
            9,
            &[0],
            &[],
            &JewelDistances { hours: vec![0.0] },
        );
        assert_eq!(score(&top), 100.0);
        let none = factors(
            Level::Informational,
            0,
            &[],
            &[],
            &JewelDistances::default(),
        );
        assert_eq!(score(&none), 0.0);
        // High, 2 tactics, 24 h from a jewel: 45*0.75 + 25*0.4 + 30*0.5 = 58.75 → 58.8.
        let f = factors(
            Level::High,
            2,
            &[0],
            &[],
            &JewelDistances { hours: vec![24.0] },
        );
        assert_eq!(score(&f), 58.8);
        // Only involved: nearness halved.
        let g = factors(
            Level::High,
            2,
            &[],
            &[0],
            &JewelDistances { hours: vec![24.0] },
        );
        assert_eq!(g.crown_jewel_proximity, 0.25);
    }
}
