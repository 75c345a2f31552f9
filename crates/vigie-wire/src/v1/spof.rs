//! `vigie exercise spof --format json` (documented in `docs/exercise.md`, section spof):
//! N-1 failures, N-2 pairs and each service's single points of failure, wrapped in the
//! response [`Envelope`](super::response::Envelope) (schema version, model digest).

use serde::{Deserialize, Serialize};
use vigie_response::report::tidy as q;
use vigie_sim::spof as s;

use super::response::{SegmentImpact, ServiceImpact};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpofReport {
    pub assets: usize,
    pub flows: usize,
    pub crews: Option<usize>,
    /// Elements whose single failure costs anything.
    pub singles_with_impact: usize,
    /// The costliest single failures (`--top`; 0 = every element).
    pub singles: Vec<Single>,
    pub pairs: Pairs,
    /// Every service with the elements whose single failure takes it down.
    pub services: Vec<ServiceSpof>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// `asset` or `flow`.
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// `vigie restore --down <ids>`'s customer-hours.
    pub customer_hours: f64,
    /// When everything is back.
    pub total_hours: f64,
    pub assets_down: usize,
    pub services: Vec<ServiceImpact>,
    pub segments: Vec<SegmentImpact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Single {
    #[serde(flatten)]
    pub element: Element,
    #[serde(flatten)]
    pub failure: Failure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairMember {
    #[serde(flatten)]
    pub element: Element,
    /// Its N-1 cost.
    pub customer_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: PairMember,
    pub b: PairMember,
    /// Joint cost minus the two N-1 costs (> 0: an interaction).
    pub excess: f64,
    #[serde(flatten)]
    pub failure: Failure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub group_pairs: usize,
    pub top_pairs: usize,
    pub bound_pairs: usize,
    pub budget_hit: bool,
    pub groups_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pairs {
    /// `exhaustive`, `screened` or `none`.
    pub mode: String,
    pub total: u64,
    pub evaluated: usize,
    pub screening: Option<Screening>,
    pub exact_top: bool,
    pub all_interactions: bool,
    pub unevaluated_bound: Option<f64>,
    pub interacting: usize,
    pub top: Vec<Pair>,
    pub interactions: Vec<Pair>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpofHit {
    #[serde(flatten)]
    pub element: Element,
    pub down_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpof {
    pub id: String,
    pub name: String,
    pub spofs: Vec<SpofHit>,
}

impl From<&s::ElementRef> for Element {
    fn from(e: &s::ElementRef) -> Self {
        Element {
            kind: e.kind.to_string(),
            id: e.id.clone(),
            name: e.name.clone(),
        }
    }
}

impl From<&s::Failure> for Failure {
    fn from(f: &s::Failure) -> Self {
        Failure {
            customer_hours: q(f.customer_hours),
            total_hours: q(f.total_hours),
            assets_down: f.assets_down,
            services: f
                .services
                .iter()
                .map(|x| ServiceImpact {
                    id: x.id.clone(),
                    name: x.name.clone(),
                    state: x.state.to_string(),
                    back_after_hours: q(x.up_hours),
                })
                .collect(),
            segments: f.segments.iter().map(SegmentImpact::from).collect(),
        }
    }
}

impl From<&s::Pair> for Pair {
    fn from(p: &s::Pair) -> Self {
        Pair {
            a: PairMember {
                element: Element::from(&p.a),
                customer_hours: q(p.a_customer_hours),
            },
            b: PairMember {
                element: Element::from(&p.b),
                customer_hours: q(p.b_customer_hours),
            },
            excess: q(p.excess),
            failure: Failure::from(&p.failure),
        }
    }
}

impl From<&s::PairsReport> for Pairs {
    fn from(p: &s::PairsReport) -> Self {
        Pairs {
            mode: p.mode.to_string(),
            total: p.total,
            evaluated: p.evaluated,
            screening: p.screening.as_ref().map(|x| Screening {
                group_pairs: x.group_pairs,
                top_pairs: x.top_pairs,
                bound_pairs: x.bound_pairs,
                budget_hit: x.budget_hit,
                groups_complete: x.groups_complete,
            }),
            exact_top: p.exact_top,
            all_interactions: p.all_interactions,
            unevaluated_bound: p.unevaluated_bound.map(q),
            interacting: p.interacting,
            top: p.top.iter().map(Pair::from).collect(),
            interactions: p.interactions.iter().map(Pair::from).collect(),
        }
    }
}

impl SpofReport {
    /// The wire form, listing the `top` costliest single failures (0: all of them).
    pub fn new(r: &s::SpofReport, top: usize) -> SpofReport {
        let n = if top == 0 { r.singles.len() } else { top };
        SpofReport {
            assets: r.assets,
            flows: r.flows,
            crews: r.crews,
            singles_with_impact: r
                .singles
                .iter()
                .filter(|x| x.failure.customer_hours > 0.0)
                .count(),
            singles: r
                .singles
                .iter()
                .take(n)
                .map(|x| Single {
                    element: Element::from(&x.element),
                    failure: Failure::from(&x.failure),
                })
                .collect(),
            pairs: Pairs::from(&r.pairs),
            services: r
                .services
                .iter()
                .map(|x| ServiceSpof {
                    id: x.id.clone(),
                    name: x.name.clone(),
                    spofs: x
                        .spofs
                        .iter()
                        .map(|h| SpofHit {
                            element: Element::from(&h.element),
                            down_hours: q(h.down_hours),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
