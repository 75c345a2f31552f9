//! Sigma correlation rules (meta-rules, specification v2.1): `event_count`,
//! `value_count`, `temporal`, `temporal_ordered`, `value_sum`, `value_avg`,
//! `value_percentile`, with `group-by`, `timespan`, conditions and ranges, `aliases`,
//! `generate`, and correlations chained on correlations.
//!
//! Flow: [`parse`] (one YAML document → [`CorrelationDef`]) → [`Compiled::build`]
//! (references and aliases resolved, cycles refused, the fields each detection rule must
//! provide) → per match, [`Compiled::observe`] (an owned [`crate::Observation`]) →
//! [`Correlator::push`] in event-time order → [`crate::CorrelationHit`]s;
//! [`Correlator::finish`] at the end of the data.
//!
//! Decisions (the specification leaves them open):
//! - Events without a timestamp cannot feed correlations (`observe` returns `None`).
//! - An input missing a group-by field (or with `null` there) is skipped and counted,
//!   like a SIEM `group by` drops null groups; likewise a missing aggregated field, and a
//!   non-numeric one for `value_sum` / `value_avg`.
//! - Group values compare as text (`4624` = `"4624"`), case-sensitively.
//! - Without `group-by`, the whole stream is one group.
//! - `aliases` apply to `group-by` and to `condition.field`; a rule not listed under an
//!   alias reads the field named like the alias.
//! - `temporal` without a condition needs every listed rule; with one, the condition
//!   counts the distinct rules seen. For `temporal_ordered` it counts the longest
//!   in-order prefix of `rules` (one event matching two consecutive rules advances both).
//! - `value_percentile` (a threshold with no rank in the specification, whose example
//!   looks for a process name seen in at most 1 % of a computer's process creations)
//!   computes, per group and fixed window, each value's share (percent) of the group's
//!   events, and fires once per value whose share satisfies the condition; the hit's
//!   group then also carries that value.
//! - Firing, windows, reset and memory bounds: see [`Correlator`].
//! - Ids and names must be unique among correlations; a later duplicate is refused.
//! - Hits of a correlation that is only referenced by other correlations (none with
//!   `generate: true`) are fed down the chain but not reported; [`Compiled::reported`]
//!   tells which rules to report.

mod agg;
mod compile;
mod condition;
mod def;
mod engine;
mod key;

#[cfg(test)]
mod tests;

pub use compile::Compiled;
pub use condition::{parse_timespan_str, Condition, Op};
pub use def::{parse, CorrelationDef, CorrelationType};
pub use engine::{Correlator, CorrelatorStats, Limits};
