//! The reports of `vigie assess`, `vigie contain` and `vigie restore` on the wire
//! (`--format json`; documented field by field in `docs/response.md`). Every report is
//! wrapped in an [`Envelope`] naming the schema version and the model's digest, and
//! names assets, services, segments and flows by their model ids. Quantities are hours
//! and customer-hours as plain numbers, rounded to 12 significant digits so that no
//! binary noise (`0.30000000000000004`) reaches a reader.

use serde::{Deserialize, Serialize};
use vigie_response as r;

/// A report with the schema version and the digest of the model it was computed on
/// (`vigie_model::digest`), so a stored or shared answer says what it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub schema: String,
    pub model: String,
    #[serde(flatten)]
    pub report: T,
}

impl<T> Envelope<T> {
    pub fn new(model_digest: &str, report: T) -> Envelope<T> {
        Envelope {
            schema: crate::SCHEMA_VERSION.to_string(),
            model: model_digest.to_string(),
            report,
        }
    }
}

fn q(x: f64) -> f64 {
    r::report::tidy(x)
}

/// A bound that may be infinite (nothing proven yet) is `null`.
fn bound(x: f64) -> Option<f64> {
    x.is_finite().then(|| q(x))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceImpact {
    pub id: String,
    pub name: String,
    /// `down` or `degraded`.
    pub state: String,
    pub back_after_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentImpact {
    pub id: String,
    pub name: String,
    pub customers: u64,
    pub customers_affected: u64,
    pub customer_equivalents: f64,
    pub service_lost: f64,
    pub customer_hours: f64,
    pub back_after_hours: f64,
}

impl From<&r::report::ServiceImpact> for ServiceImpact {
    fn from(s: &r::report::ServiceImpact) -> Self {
        ServiceImpact {
            id: s.id.clone(),
            name: s.name.clone(),
            state: s.state.to_string(),
            back_after_hours: q(s.back_after_hours),
        }
    }
}

impl From<&r::report::SegmentImpact> for SegmentImpact {
    fn from(s: &r::report::SegmentImpact) -> Self {
        SegmentImpact {
            id: s.id.clone(),
            name: s.name.clone(),
            customers: s.customers,
            customers_affected: s.customers_affected,
            customer_equivalents: q(s.customer_equivalents),
            service_lost: q(s.service_lost),
            customer_hours: q(s.customer_hours),
            back_after_hours: q(s.back_after_hours),
        }
    }
}

fn all<'a, A: 'a, B: From<&'a A>>(v: &'a [A]) -> Vec<B> {
    v.iter().map(B::from).collect()
}

// ---- assess ----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub technique: String,
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JewelPath {
    pub id: String,
    pub name: String,
    pub compromised: bool,
    pub reachable: bool,
    pub hours: Option<f64>,
    pub path: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reached {
    pub id: String,
    /// `host`, `application`, `database`, `network_device`, `account`, `group`.
    pub kind: String,
    pub hours: f64,
    pub crown_jewel: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessReport {
    pub compromised: Vec<String>,
    pub reachable_count: usize,
    pub reachable: Vec<Reached>,
    pub reachable_truncated: bool,
    pub crown_jewels: Vec<JewelPath>,
    pub services_at_risk: Vec<ServiceImpact>,
    pub segments_at_risk: Vec<SegmentImpact>,
    pub customers_at_risk: u64,
    pub customer_equivalents_at_risk: f64,
    pub customer_hours_at_risk: f64,
    /// Wall-clock time; absent in documents embedded in `vigie respond`'s JSON, whose
    /// times are under its `summary.timing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
}

impl From<&r::assess::AssessReport> for AssessReport {
    fn from(a: &r::assess::AssessReport) -> Self {
        AssessReport {
            compromised: a.compromised.clone(),
            reachable_count: a.reachable_count,
            reachable: a
                .reachable
                .iter()
                .map(|x| Reached {
                    id: x.id.clone(),
                    kind: crate::snake_name(&x.kind),
                    hours: q(x.hours),
                    crown_jewel: x.crown_jewel,
                })
                .collect(),
            reachable_truncated: a.reachable_truncated,
            crown_jewels: a
                .crown_jewels
                .iter()
                .map(|j| JewelPath {
                    id: j.id.clone(),
                    name: j.name.clone(),
                    compromised: j.compromised,
                    reachable: j.reachable,
                    hours: j.hours.map(q),
                    path: j
                        .path
                        .iter()
                        .map(|s| Step {
                            from: s.from.clone(),
                            to: s.to.clone(),
                            technique: s.technique.clone(),
                            hours: q(s.hours),
                        })
                        .collect(),
                })
                .collect(),
            services_at_risk: all(&a.services_at_risk),
            segments_at_risk: all(&a.segments_at_risk),
            customers_at_risk: a.customers_at_risk,
            customer_equivalents_at_risk: q(a.customer_equivalents_at_risk),
            customer_hours_at_risk: q(a.customer_hours_at_risk),
            elapsed_ms: Some(r::report::tidy_ms(a.elapsed_ms)),
        }
    }
}

// ---- contain ---------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// `isolate`, `disable`, `block`, `offline`.
    pub action: String,
    /// Asset, identity, flow (`from->to`) or service id.
    pub target: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub label: String,
    pub actions: Vec<Action>,
    pub complete: bool,
    pub customer_hours: f64,
    pub services: Vec<ServiceImpact>,
    pub segments: Vec<SegmentImpact>,
    pub customers_affected: u64,
    pub customer_equivalents: f64,
    pub residual_reach: usize,
    pub protected_reached: usize,
}

/// Whether an answer is proven the cheapest: `lower_bound` is the proven bound (null
/// when none is known), `gap` the answer's cost minus it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimality {
    pub optimal: bool,
    pub lower_bound: Option<f64>,
    pub gap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainSearch {
    pub candidate_actions: usize,
    pub free_actions_preapplied: usize,
    pub relevant_nodes: usize,
    pub relevant_edges: usize,
    pub states_expanded: usize,
    pub states_generated: usize,
    pub budget_exhausted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainReport {
    pub compromised: Vec<String>,
    pub protected: Vec<String>,
    pub protected_already_compromised: Vec<String>,
    pub max_actions: Option<usize>,
    pub containment_hours: f64,
    pub plan: Option<Plan>,
    pub optimality: Optimality,
    pub alternatives: Vec<Plan>,
    pub isolate_everything: Plan,
    pub choke_points: Plan,
    pub search: ContainSearch,
    /// Wall-clock time; absent in documents embedded in `vigie respond`'s JSON, whose
    /// times are under its `summary.timing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
}

impl From<&r::contain::PlanReport> for Plan {
    fn from(p: &r::contain::PlanReport) -> Self {
        Plan {
            label: p.label.clone(),
            actions: p
                .actions
                .iter()
                .map(|a| Action {
                    action: a.action.to_string(),
                    target: a.target.clone(),
                    name: a.name.clone(),
                })
                .collect(),
            complete: p.complete,
            customer_hours: q(p.customer_hours),
            services: all(&p.services),
            segments: all(&p.segments),
            customers_affected: p.customers_affected,
            customer_equivalents: q(p.customer_equivalents),
            residual_reach: p.residual_reach,
            protected_reached: p.protected_reached,
        }
    }
}

impl From<&r::contain::Optimality> for Optimality {
    fn from(o: &r::contain::Optimality) -> Self {
        Optimality {
            optimal: o.optimal,
            lower_bound: bound(o.lower_bound),
            gap: bound(o.gap),
        }
    }
}

impl From<&r::contain::ContainReport> for ContainReport {
    fn from(c: &r::contain::ContainReport) -> Self {
        let s = &c.search;
        ContainReport {
            compromised: c.compromised.clone(),
            protected: c.protected.clone(),
            protected_already_compromised: c.protected_already_compromised.clone(),
            max_actions: c.max_actions,
            containment_hours: q(c.containment_hours),
            plan: c.plan.as_ref().map(Plan::from),
            optimality: Optimality::from(&c.optimality),
            alternatives: all(&c.alternatives),
            isolate_everything: Plan::from(&c.isolate_everything),
            choke_points: Plan::from(&c.choke_points),
            search: ContainSearch {
                candidate_actions: s.candidate_actions,
                free_actions_preapplied: s.free_actions_preapplied,
                relevant_nodes: s.relevant_nodes,
                relevant_edges: s.relevant_edges,
                states_expanded: s.states_expanded,
                states_generated: s.states_generated,
                budget_exhausted: s.budget_exhausted,
            },
            elapsed_ms: Some(r::report::tidy_ms(c.elapsed_ms)),
        }
    }
}

// ---- restore ---------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetStep {
    pub id: String,
    pub name: String,
    pub start_hours: f64,
    pub up_hours: f64,
    pub after: Option<String>,
    pub crew_after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStep {
    pub id: String,
    pub name: String,
    pub state: String,
    pub dependencies_back_hours: f64,
    pub up_hours: f64,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalStep {
    /// `asset` or `service`.
    pub kind: String,
    pub id: String,
    pub start_hours: f64,
    pub end_hours: f64,
    /// `host`, `crew`, `dependency`; null for the first step.
    pub via: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCost {
    pub order: Vec<String>,
    pub customer_hours: f64,
    pub total_hours: f64,
    pub optimal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSearch {
    pub downed_assets: usize,
    pub exact_search: bool,
    pub nodes_expanded: u64,
    pub orders_priced: u64,
    pub budget_exhausted: bool,
    /// Wall-clock time; absent in documents embedded in `vigie respond`'s JSON, whose
    /// times are under its `summary.timing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub down: Vec<String>,
    pub crews: Option<usize>,
    pub assets: Vec<AssetStep>,
    pub services: Vec<ServiceStep>,
    pub segments: Vec<SegmentImpact>,
    pub critical_path: Vec<CriticalStep>,
    pub service_critical_path: Vec<CriticalStep>,
    pub total_hours: f64,
    pub customer_hours: f64,
    pub order: Vec<String>,
    /// `optimal`, `best found`, `given`, `unbounded`.
    pub order_source: String,
    pub optimality: Optimality,
    pub optimum: Option<OrderCost>,
    pub listed_before_host: Vec<String>,
    pub order_search: OrderSearch,
}

impl From<&r::restore::CriticalStep> for CriticalStep {
    fn from(c: &r::restore::CriticalStep) -> Self {
        CriticalStep {
            kind: c.kind.to_string(),
            id: c.id.clone(),
            start_hours: q(c.start_hours),
            end_hours: q(c.end_hours),
            via: c.via.map(str::to_string),
        }
    }
}

impl From<&r::restore::RestoreReport> for RestoreReport {
    fn from(x: &r::restore::RestoreReport) -> Self {
        let s = &x.order_search;
        RestoreReport {
            down: x.down.clone(),
            crews: x.crews,
            assets: x
                .assets
                .iter()
                .map(|a| AssetStep {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    start_hours: q(a.start_hours),
                    up_hours: q(a.up_hours),
                    after: a.after.clone(),
                    crew_after: a.crew_after.clone(),
                })
                .collect(),
            services: x
                .services
                .iter()
                .map(|s| ServiceStep {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: s.state.to_string(),
                    dependencies_back_hours: q(s.dependencies_back_hours),
                    up_hours: q(s.up_hours),
                    after: s.after.clone(),
                })
                .collect(),
            segments: all(&x.segments),
            critical_path: all(&x.critical_path),
            service_critical_path: all(&x.service_critical_path),
            total_hours: q(x.total_hours),
            customer_hours: q(x.customer_hours),
            order: x.order.clone(),
            order_source: x.order_source.to_string(),
            optimality: Optimality::from(&x.optimality),
            optimum: x.optimum.as_ref().map(|o| OrderCost {
                order: o.order.clone(),
                customer_hours: q(o.customer_hours),
                total_hours: q(o.total_hours),
                optimal: o.optimal,
            }),
            listed_before_host: x.listed_before_host.clone(),
            order_search: OrderSearch {
                downed_assets: s.downed_assets,
                exact_search: s.exact_search,
                nodes_expanded: s.nodes_expanded,
                orders_priced: s.orders_priced,
                budget_exhausted: s.budget_exhausted,
                elapsed_ms: Some(r::report::tidy_ms(s.elapsed_ms)),
            },
        }
    }
}

impl AssessReport {
    /// The report without its wall-clock time (embedded in `vigie respond`'s JSON).
    pub fn without_time(mut self) -> Self {
        self.elapsed_ms = None;
        self
    }
}

impl ContainReport {
    /// The report without its wall-clock time (embedded in `vigie respond`'s JSON).
    pub fn without_time(mut self) -> Self {
        self.elapsed_ms = None;
        self
    }
}

impl RestoreReport {
    /// The report without its wall-clock time (embedded in `vigie respond`'s JSON).
    pub fn without_time(mut self) -> Self {
        self.order_search.elapsed_ms = None;
        self
    }
}
