//! Sigma: parse rules (specification v2.1), compile them into an indexed [`RuleSet`],
//! and match events against it; correlation rules run over the matches in time order.
//!
//! Data flow: YAML files → [`RuleSet::load`] (documents → rule ASTs, filters applied,
//! refusals collected) → [`RuleSet`] (compiled: field table, logsource routing, literal
//! index) → [`Matcher::scan`] per event (per thread) → [`Match`]es → for correlation
//! inputs, [`Observation`]s → [`correlation::Correlator`] in event-time order →
//! [`CorrelationHit`]s.
//!
//! CONTRACT with `vigie-hunt` (keep these signatures; add freely):
//! - `RuleSet::load(paths, &LoadOptions) -> Result<(RuleSet, LoadReport), LoadError>`:
//!   `Err` only when a rules path cannot be read at all; every bad rule is a [`Refusal`].
//! - `RuleSet::matcher(&self) -> Matcher<'_>`, one per thread; `Matcher::scan(&mut self,
//!   &Event, &mut Vec<Match>)` appends the matches of one event (rule order, deterministic).
//! - `RuleSet::meta(RuleId) -> &RuleMeta`, `RuleSet::len()`.
//! - `RuleSet::observe(&self, &Match, &Event) -> Option<Observation>`: `Some` when the
//!   match's rule feeds a correlation; owned, so the event can be dropped.
//! - `RuleSet::correlator()`, `push(Observation, &mut Vec<CorrelationHit>)` in
//!   non-decreasing timestamp order, `finish(&mut Vec<CorrelationHit>)` at the end.

pub mod cache;
pub mod condition;
pub mod correlation;
pub mod detect;
mod index;
mod load;
pub mod mapping;
mod matcher;
pub mod pattern;
pub mod placeholders;
pub mod rule;
mod ruleset;
pub mod sstr;
pub mod types;
pub mod values;
pub mod yaml;

pub use cache::CacheStatus;
pub use correlation::Correlator;
pub use load::LoadOptions;
pub use mapping::Mapping;
pub use matcher::{Matcher, MatcherStats};
pub use placeholders::Placeholders;
pub use ruleset::RuleSet;
pub use types::*;

use vigie_event::Event;

impl RuleSet {
    /// The correlation input of a match, when its rule feeds a correlation.
    pub fn observe(&self, m: &Match, ev: &Event) -> Option<Observation> {
        self.correlations.as_ref()?.observe(m, ev)
    }

    /// Whether matches of this rule are inputs of some correlation (whether or not a
    /// given event can feed it: one without a time cannot).
    pub fn feeds_correlation(&self, rule: RuleId) -> bool {
        self.correlations.as_ref().is_some_and(|c| c.feeds(rule))
    }

    /// How long after its event time a correlation input can still take part in a hit
    /// (the longest chain of timespans; zero without correlations).
    pub fn correlation_horizon(&self) -> chrono::TimeDelta {
        let us = self.correlations.as_ref().map_or(0, |c| c.horizon_us());
        chrono::TimeDelta::microseconds(us)
    }

    /// See [`correlation::Compiled::partition_key`]: which observations must share a
    /// correlator when correlation is spread over processes.
    pub fn correlation_partition(&self, obs: &Observation) -> Option<String> {
        self.correlations.as_ref()?.partition_key(obs)
    }

    /// Whether any correlation is loaded.
    pub fn has_correlations(&self) -> bool {
        self.correlations.as_ref().is_some_and(|c| !c.is_empty())
    }

    /// A correlator over this rule set's correlations (one per hunt, fed in time order).
    pub fn correlator(&self) -> correlation::Correlator<'_> {
        correlation::Correlator::new(self.correlations.as_ref().unwrap_or(&EMPTY_CORR))
    }
}

static EMPTY_CORR: std::sync::LazyLock<correlation::Compiled> =
    std::sync::LazyLock::new(correlation::Compiled::default);

/// Parses and compiles one YAML document (rule, filter or correlation) on its own, with
/// the default mapping and no placeholders: the entry point for fuzzing and validation.
pub fn parse_rule_str(yaml_text: &str) -> Result<(), Refusal> {
    let refuse = |kind, reason: String, line| Refusal {
        file: Arc::from("<string>"),
        line,
        column: None,
        rule: None,
        kind,
        reason,
    };
    let y = match yaml::parse(yaml_text, &yaml::default_limits()) {
        Ok(Some(y)) => y,
        Ok(None) => yaml::Y::Null,
        Err(e) => {
            let kind = if e.limit {
                RefusalKind::Limit
            } else {
                RefusalKind::Syntax
            };
            return Err(Refusal {
                column: Some(e.column),
                ..refuse(kind, e.message, Some(e.line))
            });
        }
    };
    let mut names: Vec<String> = Vec::new();
    let mut intern = |n: &str| match names.iter().position(|x| x == n) {
        Some(i) => i as u32,
        None => {
            names.push(n.to_string());
            (names.len() - 1) as u32
        }
    };
    let mut env = values::Env {
        intern: &mut intern,
        placeholders: None,
    };
    let r = match rule::kind_of(&y) {
        Err(f) => Err(f),
        Ok(rule::DocKind::Rule) => rule::parse_rule(&y, &mut env).map(|_| ()),
        Ok(rule::DocKind::Filter) => rule::parse_filter(&y, &mut env).map(|_| ()),
        Ok(rule::DocKind::Correlation) => {
            correlation::parse(&y)
                .map(|_| ())
                .map_err(|(kind, reason)| values::Fail {
                    kind,
                    reason,
                    at: None,
                })
        }
    };
    r.map_err(|f| refuse(f.kind, f.reason, None))
}

use std::sync::Arc;
