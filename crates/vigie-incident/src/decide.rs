//! The decision of an incident: what its compromised assets reach (assess), the cheapest
//! way to cut it off next to isolating everything (contain), and when service is back
//! once the plan's actions are undone and the compromised assets rebuilt (restore).
//!
//! The three documents are exactly those `vigie assess`, `vigie contain` and
//! `vigie restore` compute for the same model and compromised set: the same engine calls
//! with the same defaults ([`REACH_LIMIT`], [`ALTERNATIVES`], [`MAX_EXPANSIONS`]), which
//! the commands take from here. Searches are bounded by their budgets only, never by
//! wall-clock time, so the same input gives the same decision on any machine.

use std::time::Instant;

use vigie_response::assess::AssessReport;
use vigie_response::contain::{Action, ContainReport, ContainRequest, PlanReport, SearchConfig};
use vigie_response::graph::{NodeId, Target};
use vigie_response::restore::{RestoreReport, RestoreRequest};
use vigie_response::{restore_order, Error, Graph};

use crate::Incident;

/// Reachable assets listed by assess (the count is always exact); `vigie assess --limit`.
pub const REACH_LIMIT: usize = 50;
/// Alternative plans contain looks for; `vigie contain --alternatives`.
pub const ALTERNATIVES: usize = 3;
/// Contain's expansion budget; `vigie contain --max-expansions`.
pub const MAX_EXPANSIONS: usize = 20_000;

/// How decisions are computed. `Default` is what the standalone commands do by default,
/// minus every wall-clock limit.
#[derive(Debug, Clone)]
pub struct DecideOptions {
    /// Reachable assets listed (0 = all).
    pub reach_limit: usize,
    /// Contain's search; its `time_limit` is ignored (always none).
    pub contain: SearchConfig,
    /// Restore's order search; its `time_limit` is ignored (always none).
    pub restore: restore_order::SearchConfig,
    /// Restoration crews (None: unbounded, as `vigie restore` without `--crews`).
    pub crews: Option<usize>,
    /// Threads deciding incidents side by side (0: one per core). The decisions do not
    /// depend on it, only how soon they are ready.
    pub threads: usize,
}

impl Default for DecideOptions {
    fn default() -> Self {
        DecideOptions {
            reach_limit: REACH_LIMIT,
            contain: SearchConfig {
                max_actions: None,
                alternatives: ALTERNATIVES,
                max_expansions: MAX_EXPANSIONS,
                time_limit: None,
            },
            restore: restore_order::SearchConfig {
                time_limit: None,
                ..Default::default()
            },
            crews: None,
            threads: 0,
        }
    }
}

/// An engine that was not run for an incident, and why (e.g. contain when every crown
/// jewel is already compromised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `assess`, `contain` or `restore`.
    pub engine: &'static str,
    pub reason: String,
}

/// Wall-clock time of each engine (reported under `summary.timing` only).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecisionTiming {
    pub assess_ms: f64,
    pub contain_ms: f64,
    pub restore_ms: f64,
    /// The decision of an earlier incident with the same compromised set, reused (the
    /// same input gives the same documents): nothing was computed, the times are 0.
    pub reused: bool,
}

/// The decision on one compromised set.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The compromised asset ids, in the order given.
    pub compromised: Vec<String>,
    pub assess: AssessReport,
    /// None when contain was skipped (see `skipped`).
    pub contain: Option<ContainReport>,
    pub restore: Option<RestoreReport>,
    pub skipped: Vec<Skipped>,
    pub timing: DecisionTiming,
}

/// Why no decision could be computed.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// Compromised ids the graph does not hold (the incident and the graph come from
    /// different models: a caller bug, reported rather than panicked on).
    #[error(transparent)]
    Response(#[from] Error),
}

/// The decision on `incident`'s compromised assets; `None` when it has none (nothing to
/// decide on: no decision is made up).
pub fn decide_incident(
    g: &Graph,
    incident: &Incident,
    opts: &DecideOptions,
) -> Result<Option<Decision>, DecideError> {
    let ids: Vec<String> = incident
        .compromised
        .iter()
        .map(|c| c.asset.clone())
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    decide(g, &ids, opts).map(Some)
}

/// Assess, contain and restore on the assets `compromised` (model ids).
pub fn decide(
    g: &Graph,
    compromised: &[String],
    opts: &DecideOptions,
) -> Result<Decision, DecideError> {
    let nodes = g.resolve_nodes("compromised asset", compromised)?;
    let mut timing = DecisionTiming::default();
    let mut skipped = Vec::new();

    let t = Instant::now();
    let assess = vigie_response::assess::assess(g, &nodes, opts.reach_limit)?;
    timing.assess_ms = ms(t);

    let t = Instant::now();
    let contain = match vigie_response::contain::contain(g, &contain_request(&nodes, opts)) {
        Ok(c) => Some(c),
        // Not an input error: the incident is still reported, with the reason.
        Err(e @ (Error::NothingToProtect | Error::NoCompromised)) => {
            skipped.push(Skipped {
                engine: "contain",
                reason: e.to_string(),
            });
            None
        }
        Err(e) => return Err(e.into()),
    };
    timing.contain_ms = ms(t);

    let t = Instant::now();
    let plan = contain.as_ref().and_then(|c| c.plan.as_ref());
    let req = restore_request(&nodes, plan, opts);
    let restore = match vigie_response::restore::restore_with(g, &req) {
        Ok(r) => Some(r),
        Err(e @ Error::NothingDown) => {
            skipped.push(Skipped {
                engine: "restore",
                reason: e.to_string(),
            });
            None
        }
        Err(e) => return Err(e.into()),
    };
    timing.restore_ms = ms(t);

    Ok(Decision {
        compromised: compromised.to_vec(),
        assess,
        contain,
        restore,
        skipped,
        timing,
    })
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Contain's request: protect the crown jewels not compromised, no wall-clock limit.
pub fn contain_request(compromised: &[NodeId], opts: &DecideOptions) -> ContainRequest {
    ContainRequest {
        compromised: compromised.to_vec(),
        protect: None,
        config: SearchConfig {
            time_limit: None,
            ..opts.contain.clone()
        },
    }
}

/// Restore's request: the compromised assets are rebuilt and the plan's actions undone.
/// What is down is the compromised assets in the order given, then the plan's targets in
/// plan order (isolated and disabled assets, blocked flows, services taken offline),
/// each once.
pub fn restore_request(
    compromised: &[NodeId],
    plan: Option<&PlanReport>,
    opts: &DecideOptions,
) -> RestoreRequest {
    let mut down: Vec<Target> = Vec::new();
    let actions = plan.map(|p| p.raw.as_slice()).unwrap_or_default();
    let targets = compromised
        .iter()
        .map(|&n| Target::Node(n))
        .chain(actions.iter().map(|a| match *a {
            Action::Isolate(n) | Action::Disable(n) => Target::Node(n),
            Action::Block(f) => Target::Flow(f),
            Action::Offline(s) => Target::Service(s),
        }));
    for t in targets {
        if !down.contains(&t) {
            down.push(t);
        }
    }
    RestoreRequest {
        down,
        crews: opts.crews,
        order: None,
        config: restore_order::SearchConfig {
            time_limit: None,
            ..opts.restore
        },
    }
}
