//! The types that cross the crate boundary.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Index of a rule in a [`RuleSet`] (detection and correlation rules share the space).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RuleId(pub u32);

/// Sigma `level`, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A level name that is none of the five Sigma levels (the text given, lowercased).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?} (expected informational, low, medium, high or critical)")]
pub struct UnknownLevel(pub String);

impl std::str::FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Level::Informational),
            "low" => Ok(Level::Low),
            "medium" => Ok(Level::Medium),
            "high" => Ok(Level::High),
            "critical" => Ok(Level::Critical),
            other => Err(UnknownLevel(other.to_string())),
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Detection, correlation, or a threat-intelligence indicator (`vigie-intel`): an
/// indicator is not a Sigma rule but reports like one, so its hits are detections that
/// join incidents with no second code path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Detection,
    Correlation,
    /// Added after loading by [`RuleSet::add_external`](crate::RuleSet::add_external);
    /// matched outside the Sigma matcher (the session's extra matchers).
    Indicator,
}

/// What output needs to know about a rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleMeta {
    /// Stable key: the Sigma `id`, or `sha256:<hex>` of the rule's YAML document when it
    /// has none. What anything persisted or sent names the rule by (never [`RuleId`]).
    pub key: Arc<str>,
    pub id: Option<String>,
    /// Sigma `name` (used by correlations to reference rules).
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    pub kind: RuleKind,
    /// File the rule came from.
    pub path: Arc<str>,
    /// Whether its matches are reported (false for a detection rule used only by a
    /// correlation that does not set `generate: true`).
    pub report: bool,
    /// Sigma `status`, lowercased (None when absent, and for correlations).
    #[serde(skip)]
    pub status: Option<String>,
    /// The rule's `logsource` (None for correlations).
    #[serde(skip)]
    pub logsource: Option<crate::rule::Logsource>,
}

/// The name under which [`Match::fields`] reports keyword (field-less) matches: the
/// keyword as the rule wrote it (lowercased, wildcards shown). A `|` cannot start a
/// Sigma field name, so it never collides with an event field.
pub const KEYWORD_FIELD: &str = "|keyword";

/// One event matching one detection rule.
#[derive(Debug, Clone)]
pub struct Match {
    pub rule: RuleId,
    /// The event fields that the matching selections looked at and that matched, by the
    /// name the rule used, in rule order; keyword matches under [`KEYWORD_FIELD`].
    pub fields: Vec<(Arc<str>, Value)>,
}

/// What a correlation needs from one match, owned.
#[derive(Debug, Clone)]
pub struct Observation {
    pub rule: RuleId,
    pub timestamp: DateTime<Utc>,
    pub source: Arc<str>,
    pub record: u64,
    /// Values of the fields correlations group by or aggregate over, as the correlator
    /// indexes them (opaque to callers).
    pub values: Vec<Option<Value>>,
}

/// A correlation rule firing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CorrelationHit {
    pub rule: RuleId,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// group-by field → value.
    pub group: Vec<(String, Value)>,
    /// The aggregate that crossed the threshold (count, distinct count, sum, avg, percentile).
    pub value: f64,
    /// (source, record) of contributing events, at most a few dozen.
    pub events: Vec<(Arc<str>, u64)>,
}

/// Why a rule was not loaded; the report groups refusals by this.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The file cannot be read (permission denied, ...): the OS error is the reason.
    Unreadable,
    /// The file holds no YAML document at all (empty, or only comments).
    Empty,
    /// Over a reading limit (file size, nesting depth, alias expansion): refused before it
    /// can cost more.
    Limit,
    /// Not YAML, or not a Sigma document.
    Syntax,
    /// A required attribute is missing or of the wrong type.
    Schema,
    /// Condition does not parse or names an unknown selection.
    Condition,
    /// Unknown modifier or a combination the specification forbids.
    Modifier,
    /// Bad regular expression, CIDR, base64, number, ...
    Value,
    /// `|expand` placeholder with no value given (`--placeholders`).
    Placeholder,
    /// Correlation/filter referencing rules that are not loaded, or an invalid correlation.
    Reference,
    /// Logsource the mapping file cannot route (only when routing is strict).
    Logsource,
}

/// A rule (or file) that was not loaded, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub file: Arc<str>,
    /// 1-based line of the offending document or attribute, when known.
    pub line: Option<usize>,
    /// 1-based column, when the exact place is known (YAML errors and limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Rule id or title, when it could be read.
    pub rule: Option<String>,
    pub kind: RefusalKind,
    pub reason: String,
}

/// Counts and refusals from loading rules.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub files: usize,
    pub detection_rules: usize,
    pub correlation_rules: usize,
    /// Filters applied to at least one rule.
    pub filters: usize,
    pub refused: Vec<Refusal>,
    /// Loaded, but worth knowing (a filter naming a rule that is not loaded, ...).
    pub warnings: Vec<Refusal>,
    /// Logsources with no mapping entry (detection applied to every event), with the
    /// number of rules using each.
    pub unrouted_logsources: Vec<(String, usize)>,
    /// Logsources routed by part of their keys only (e.g. product), with rule counts.
    pub partially_routed_logsources: Vec<(String, usize)>,
    /// What the compiled-rule cache did ([`crate::cache`]).
    #[serde(skip)]
    pub cache: crate::cache::CacheStatus,
    /// Why the compiled rules could not be stored in the cache, when they could not.
    #[serde(skip)]
    pub cache_write_error: Option<String>,
    /// Every distinct logsource of the detection rules, how its rules are routed and why
    /// (sorted by product, category, service).
    pub routing: Vec<LogsourceRouting>,
}

/// How the rules of one logsource are routed (see `docs/mapping.md`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LogsourceRouting {
    /// The rule logsource's keys, lowercased.
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// Detection rules with this logsource (loaded, or refused for it under
    /// `strict_logsource`).
    pub rules: usize,
    /// Of them: routed by an entry naming all their keys, by part of them, by none.
    pub fully: usize,
    pub partly: usize,
    pub unrouted: usize,
    /// The mapping entry used, if any.
    pub entry: Option<RoutingEntry>,
    /// Why the logsource is partly routed or unrouted (`None` when fully routed).
    pub reason: Option<String>,
}

/// A mapping entry, as `rules check` names it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RoutingEntry {
    /// 0-based position among the mapping's entries (after same-key entries merged).
    pub index: usize,
    /// 1-based line in the mapping file, when known.
    pub line: Option<usize>,
    /// `product: linux, service: auditd`: its keys (a long list shown as the rule's value).
    pub label: String,
    pub product: Option<Vec<String>>,
    pub category: Option<Vec<String>>,
    pub service: Option<Vec<String>>,
    /// Number of `when` alternatives.
    pub alternatives: usize,
}

impl LoadReport {
    /// Refusals counted by kind, in kind order.
    pub fn refusals_by_kind(&self) -> Vec<(RefusalKind, usize)> {
        let mut m = std::collections::BTreeMap::new();
        for r in &self.refused {
            *m.entry(r.kind).or_insert(0usize) += 1;
        }
        m.into_iter().collect()
    }
}

/// A rules path that cannot be read at all (fatal for `vigie hunt`).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    // The OS error is the source, not part of the message: printed with the chain
    // (`{:#}`), it appears once.
    #[error("cannot read rules path {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {message}")]
    Config { path: PathBuf, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_level_is_a_typed_error_naming_it() {
        assert_eq!("INFO".parse::<Level>(), Ok(Level::Informational));
        let e = "Severe".parse::<Level>().unwrap_err();
        assert_eq!(e, UnknownLevel("severe".into()));
        assert!(e.to_string().contains("expected informational"));
    }
}
