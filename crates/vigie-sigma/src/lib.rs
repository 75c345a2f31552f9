//! Sigma: parse rules (specification v2.1), compile them into an indexed [`RuleSet`],
//! and match events against it; correlation rules run over the matches in time order.
//!
//! Data flow: YAML files → [`load`] (documents → rule ASTs, filters applied, refusals
//! collected) → [`RuleSet`] (compiled: field table, logsource routing, literal index)
//! → [`Matcher::scan`] per event (per thread) → [`Match`]es → for correlation inputs,
//! [`Observation`]s → [`Correlator`] in event-time order → [`CorrelationHit`]s.
//!
//! CONTRACT with `vigie-hunt` (keep these signatures; add freely):
//! - `RuleSet::load(paths, &LoadOptions) -> Result<(RuleSet, LoadReport), LoadError>`:
//!   `Err` only when a rules path cannot be read at all; every bad rule is a [`Refusal`].
//! - `RuleSet::matcher(&self) -> Matcher<'_>`, one per thread; `Matcher::scan(&mut self,
//!   &Event, &mut Vec<Match>)` appends the matches of one event (rule order, deterministic).
//! - `RuleSet::meta(RuleId) -> &RuleMeta`, `RuleSet::len()`.
//! - `RuleSet::observe(&self, &Match, &Event) -> Option<Observation>`: `Some` when the
//!   match's rule feeds a correlation; owned, so the event can be dropped.
//! - `Correlator::new(&RuleSet)`, `push(Observation, &mut Vec<CorrelationHit>)` in
//!   non-decreasing timestamp order, `finish(&mut Vec<CorrelationHit>)` at the end.

pub mod correlation;
pub mod types;

pub use types::*;
